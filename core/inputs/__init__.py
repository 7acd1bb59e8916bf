"""Inputs: the area and its grids, station files, input sources and their on-disk cache."""
