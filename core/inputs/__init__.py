"""Inputs: the area, its grids, station files, input sources and their series, the cache."""
