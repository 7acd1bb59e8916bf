"""Adaptation: MSDA and its relatives, 9 km pretraining, station-only baselines."""
