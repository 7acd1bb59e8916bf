"""Areas of interest (AOIs): a polygon in EASE-Grid 2.0 metres (EPSG:6933).

An AOI comes from a vector file (GeoJSON, GeoPackage, Shapefile), a bounding box, WKT or a list
of coordinates in any CRS pyproj understands; it is reprojected once to EPSG:6933, where areas
are true (equal-area projection) and the model grids live. It is snapped outward to whole 9 km
cells for fetching (:meth:`AOI.window9`) and masked to the polygon for mapping
(:meth:`AOI.mask50`).

Invalid input is refused, never repaired silently: an empty geometry, a non-polygon, a
self-intersecting polygon, a CRS that cannot be parsed or transformed, an AOI outside the EASE-2
latitude range or larger than the configured limit.

One concern per module: :mod:`.area` (the AOI type and its checks), :mod:`.geometry` (CRS
transforms and polygon checks), :mod:`.readers` (GeoJSON and vector files) and :mod:`.parse`
(the command-line argument). ``available_memory_bytes`` is looked up in :mod:`.area` at
construction, so patch it there.
"""

from __future__ import annotations

from .area import (
    AOI,
    BYTES_PER_CELL50,
    GRID_LAT_LIMIT,
    MAX_AOI_KM2,
    MAX_SIDE_KM,
    available_memory_bytes,
)
from .geometry import TARGET_CRS
from .parse import parse_aoi

__all__ = [
    "AOI",
    "BYTES_PER_CELL50",
    "GRID_LAT_LIMIT",
    "MAX_AOI_KM2",
    "MAX_SIDE_KM",
    "TARGET_CRS",
    "available_memory_bytes",
    "parse_aoi",
]
