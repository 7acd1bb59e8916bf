"""Features: the input contract and layouts, per-cell input rows, sample tables."""
