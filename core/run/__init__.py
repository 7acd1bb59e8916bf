"""Runs: Adapt & Map, mapping with a saved ensemble, validation, input checks, batch."""
