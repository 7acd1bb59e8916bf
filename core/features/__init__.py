"""Features: the input contract and layouts, per-cell input rows, time series, sample tables."""
