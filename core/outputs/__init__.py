"""Outputs: GeoTIFF writing and checking, accuracy metrics, charts and the run report."""
