"""The AOI type: a polygon in EASE-Grid 2.0 metres (EPSG:6933), its checks and its grids.

An AOI comes from a vector file (GeoJSON, GeoPackage, Shapefile), a bounding box, WKT or a list
of coordinates in any CRS pyproj understands; it is reprojected once to EPSG:6933, where areas
are true (equal-area projection) and the model grids live. It is snapped outward to whole 9 km
cells for fetching (:meth:`AOI.window9`) and masked to the polygon for mapping
(:meth:`AOI.mask50`). On construction it is checked against the grid's latitude range, the
area and side limits and the memory this computer has.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import MultiPolygon, Polygon, box, mapping
from shapely.geometry.base import BaseGeometry

from ...errors import InputError
from ..grid import CELL_9KM, X0, Y0, GridWindow, cell_center, window_9km_covering
from .geometry import (
    _check_valid,
    _crs_label,
    _polygonal,
    _reproject,
    _to_lonlat,
    _to_lonlat_arrays,
    _union,
)
from .readers import geojson_geometries, read_vector_file

MAX_AOI_KM2 = 2500.0
"""Default largest AOI area, km2 (50 x 50 km)."""
MAX_SIDE_KM = 50.0 + CELL_9KM / 1000.0
"""Default longest bounding-box side, km: 50 km plus one 9 km cell of snapping slack."""
GRID_LAT_LIMIT = 85.04456
"""Latitude (degrees) of the EASE-2 global grid's northern and southern edges."""
BYTES_PER_CELL50 = 2000
"""Peak memory of a run per 50 m cell of the AOI's bounding box (about 2 GB for 50 x 50 km)."""


def available_memory_bytes() -> int | None:
    """Memory the system can still give this process (MemAvailable), or None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


@dataclass(frozen=True)
class AOI:
    """An area of interest: a (multi)polygon in EPSG:6933 metres.

    Attributes:
        geometry: Polygon or MultiPolygon in EASE-Grid 2.0 metres (EPSG:6933).
        name: A label for messages and output names.
        source_crs: The CRS the AOI was given in (e.g. ``"EPSG:32631"``).
        limit_km2: Largest allowed area, km2.
        max_side_km: Longest allowed bounding-box side (ground distance), km; by default the
            side of a square of ``limit_km2`` plus one 9 km cell of snapping slack.

    Raises:
        InputError: On construction, if the geometry is empty, not polygonal, invalid, outside
            the EASE-2 grid's latitude range, or larger than the limits.

    """

    geometry: Polygon | MultiPolygon
    name: str = "AOI"
    source_crs: str = "EPSG:4326"
    limit_km2: float = field(default=MAX_AOI_KM2, compare=False)
    max_side_km: float | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        what = f"the AOI {self.name!r}"
        geom = _polygonal(self.geometry, what)
        _check_valid(geom, what)
        if geom.area <= 0:
            raise InputError(f"{what} has no area; an AOI must be a polygon with a non-zero area.")
        object.__setattr__(self, "geometry", geom)
        if self.max_side_km is None:
            object.__setattr__(
                self, "max_side_km", math.sqrt(max(self.limit_km2, 0.0)) + CELL_9KM / 1000.0
            )
        assert self.max_side_km is not None
        if not (self.limit_km2 > 0 and self.max_side_km > 0):
            raise InputError(
                f"AOI limits must be positive, got limit_km2={self.limit_km2!r}, "
                f"max_side_km={self.max_side_km!r}"
            )
        xmin, ymin, xmax, ymax = geom.bounds
        if ymax > Y0 or ymin < -Y0 or xmin < X0 or xmax > -X0:
            _, lat = _to_lonlat_arrays(np.array([xmin, xmax]), np.array([ymin, ymax]))
            raise InputError(
                f"{what} reaches latitude {np.nanmax(np.abs(lat)):.2f} deg, outside the EASE-2 "
                f"global grid, which covers latitudes {-GRID_LAT_LIMIT:.2f} to "
                f"{GRID_LAT_LIMIT:.2f} deg."
            )
        area = self.area_km2
        width, height = self.side_lengths_km
        if area > self.limit_km2 or max(width, height) > self.max_side_km:
            raise InputError(
                f"{what} is too large: {area:,.1f} km2, bounding box {width:.1f} x {height:.1f} "
                f"km; the limit is {self.limit_km2:,.0f} km2 and {self.max_side_km:.1f} km per "
                "side (default 50 x 50 km). Split the area into smaller AOIs, or raise the limit "
                "with --max-area-km2 on the command line (a 50 x 50 km AOI needs about 2 GB of "
                "memory)."
            )
        need = self.memory_estimate_bytes
        have = available_memory_bytes()
        if have is not None and need > have:
            raise InputError(
                f"{what} ({width:.1f} x {height:.1f} km) needs about {need / 1024**3:,.1f} GB of "
                f"memory to map at 50 m, but this computer has {have / 1024**3:,.1f} GB "
                "available; split it into smaller AOIs (or close other programs)."
            )

    # -- measures ------------------------------------------------------------------------
    @property
    def area_km2(self) -> float:
        """True area in km2 (EPSG:6933 is an equal-area projection)."""
        return float(self.geometry.area) / 1e6

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) in EPSG:6933 metres."""
        xmin, ymin, xmax, ymax = self.geometry.bounds
        return float(xmin), float(ymin), float(xmax), float(ymax)

    @property
    def bounds_lonlat(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) in WGS 84 degrees (EASE-2 is cylindrical: exact)."""
        xmin, ymin, xmax, ymax = self.bounds
        lon, lat = _to_lonlat_arrays(np.array([xmin, xmax]), np.array([ymin, ymax]))
        return float(lon[0]), float(lat[0]), float(lon[1]), float(lat[1])

    @property
    def side_lengths_km(self) -> tuple[float, float]:
        """Ground (width, height) in km of the lon/lat bounding box (geodesic, WGS 84).

        The width is measured along the parallel closest to the equator, where it is longest.
        """
        from pyproj import Geod

        west, south, east, north = self.bounds_lonlat
        geod = Geod(ellps="WGS84")
        lat_w = south if abs(south) < abs(north) else north
        if south < 0 < north:
            lat_w = 0.0
        n = 16
        lons = np.linspace(west, east, n + 1)
        width = float(geod.line_length(lons, np.full(n + 1, lat_w)))
        height = float(geod.line_length([west, west], [south, north]))
        return width / 1000.0, height / 1000.0

    @property
    def memory_estimate_bytes(self) -> int:
        """Memory a run needs for this AOI (the 50 m cells of its bounding box), estimated."""
        width, height = self.side_lengths_km
        cells = (width * 1000.0 / 50.0) * (height * 1000.0 / 50.0)
        return int(cells * BYTES_PER_CELL50)

    # -- grids ---------------------------------------------------------------------------
    def window9(self) -> GridWindow:
        """Return the window of whole 9 km cells covering the AOI (snapped outward)."""
        return window_9km_covering(*self.bounds)

    def mask50(self, window: GridWindow | None = None) -> npt.NDArray[np.bool_]:
        """Cells of a window whose centre lies inside the polygon.

        Args:
            window: Any grid window; a 9 km or 250 m window is taken at 50 m
                (``window.to_level("50m")``). Defaults to :meth:`window9` at 50 m.

        Returns:
            Boolean array of the 50 m window's shape, True inside the AOI.

        """
        if window is None:
            window = self.window9()
        if window.level != "50m":
            window = window.to_level("50m")
        mask = np.zeros(window.shape, dtype=bool)
        # Only rows/cols whose centres fall in the polygon's bounding box can be inside.
        xmin, ymin, xmax, ymax = self.bounds
        s = window.cell_size
        c0 = max(0, math.floor((xmin - window.x_ul) / s - 0.5))
        c1 = min(window.ncols, math.ceil((xmax - window.x_ul) / s + 0.5))
        r0 = max(0, math.floor((window.y_ul - ymax) / s - 0.5))
        r1 = min(window.nrows, math.ceil((window.y_ul - ymin) / s + 0.5))
        if c1 <= c0 or r1 <= r0:
            return mask
        rows = np.arange(window.row0 + r0, window.row0 + r1)
        cols = np.arange(window.col0 + c0, window.col0 + c1)
        x, _ = cell_center(np.zeros_like(cols), cols, "50m")
        _, y = cell_center(rows, np.zeros_like(rows), "50m")
        shapely.prepare(self.geometry)
        step = max(1, (1 << 22) // max(len(x), 1))  # rows per block: coordinates stay small
        for k in range(0, len(y), step):
            xx, yy = np.meshgrid(x, y[k : k + step])
            mask[r0 + k : r0 + k + len(yy), c0:c1] = shapely.contains_xy(self.geometry, xx, yy)
        return mask

    @cached_property
    def n_cells50(self) -> int:
        """Number of 50 m cells whose centre lies inside the AOI."""
        return int(self.mask50().sum())

    # -- GeoJSON ---------------------------------------------------------------------------
    def lonlat_geometry(self) -> BaseGeometry:
        """Return the geometry in WGS 84 lon/lat degrees."""
        return shapely.transform(self.geometry, _to_lonlat)

    def to_geojson(self) -> dict[str, Any]:
        """Return a GeoJSON Feature (RFC 7946: WGS 84 lon/lat) with ``name`` and ``source_crs``."""
        return {
            "type": "Feature",
            "properties": {"name": self.name, "source_crs": self.source_crs},
            "geometry": mapping(self.lonlat_geometry()),
        }

    @classmethod
    def from_geojson(
        cls,
        data: str | dict[str, Any],
        crs: str = "EPSG:4326",
        name: str | None = None,
        limit_km2: float = MAX_AOI_KM2,
    ) -> AOI:
        """Build an AOI from GeoJSON text or a parsed Geometry, Feature or FeatureCollection.

        Args:
            data: GeoJSON text or dict; several features are unioned.
            crs: CRS of the coordinates (RFC 7946 GeoJSON is lon/lat, the default).
            name: AOI name; defaults to the feature's ``name`` property or "AOI".
            limit_km2: Largest allowed area, km2.

        Raises:
            InputError: Unparseable GeoJSON or an unusable geometry.

        """
        geoms, props = geojson_geometries(data)
        label = name or str(props.get("name") or "AOI")
        return cls._from_source_geometry(geoms, crs, label, limit_km2)

    # -- constructors ----------------------------------------------------------------------
    @classmethod
    def _from_source_geometry(
        cls,
        geoms: Sequence[BaseGeometry],
        crs: str,
        name: str,
        limit_km2: float = MAX_AOI_KM2,
    ) -> AOI:
        """Validate polygons given in ``crs`` and build the AOI in EPSG:6933."""
        what = f"the AOI {name!r}"
        polys = [_polygonal(g, what) for g in geoms]
        for p in polys:
            _check_valid(p, what)
        merged = _union(polys)
        projected = _reproject(merged, crs)
        return cls(projected, name=name, source_crs=_crs_label(crs), limit_km2=limit_km2)

    @classmethod
    def from_bbox(
        cls,
        xmin: float,
        ymin: float,
        xmax: float,
        ymax: float,
        crs: str = "EPSG:4326",
        name: str = "bbox",
        limit_km2: float = MAX_AOI_KM2,
    ) -> AOI:
        """Build an AOI from a bounding box in ``crs`` (lon/lat degrees by default).

        Raises:
            InputError: If the box is empty or inverted, or its CRS cannot be used.

        """
        vals = [xmin, ymin, xmax, ymax]
        if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in vals):
            raise InputError(f"bounding box values must be finite numbers, got {vals}")
        if not (xmax > xmin and ymax > ymin):
            raise InputError(
                f"empty or inverted bounding box xmin={xmin}, ymin={ymin}, xmax={xmax}, "
                f"ymax={ymax}: give xmin,ymin,xmax,ymax with xmin < xmax and ymin < ymax "
                "(in lon/lat: west,south,east,north)."
            )
        return cls._from_source_geometry([box(xmin, ymin, xmax, ymax)], crs, name, limit_km2)

    @classmethod
    def from_wkt(
        cls, wkt: str, crs: str = "EPSG:4326", name: str = "AOI", limit_km2: float = MAX_AOI_KM2
    ) -> AOI:
        """Build an AOI from a WKT Polygon or MultiPolygon in ``crs``.

        Raises:
            InputError: Unparseable WKT or an unusable geometry.

        """
        try:
            geom = shapely.from_wkt(wkt)
        except shapely.errors.GEOSException as exc:
            raise InputError(f"the AOI WKT cannot be read: {exc}") from None
        return cls._from_source_geometry([geom], crs, name, limit_km2)

    @classmethod
    def from_coordinates(
        cls,
        coords: Iterable[Sequence[float]],
        crs: str = "EPSG:4326",
        name: str = "AOI",
        limit_km2: float = MAX_AOI_KM2,
    ) -> AOI:
        """Build an AOI from the vertices of one polygon ring [(x, y), ...] in ``crs``.

        The ring is closed automatically. At least three distinct vertices are needed.

        Raises:
            InputError: Too few vertices, non-numeric values or an unusable polygon.

        """
        try:
            pts = [(float(p[0]), float(p[1])) for p in coords]
        except (TypeError, ValueError, IndexError) as exc:
            raise InputError(f"AOI coordinates must be (x, y) number pairs: {exc}") from None
        if len(set(pts)) < 3:
            raise InputError(
                f"an AOI polygon needs at least 3 distinct vertices, got {len(set(pts))}"
            )
        return cls._from_source_geometry([Polygon(pts)], crs, name, limit_km2)

    @classmethod
    def from_file(
        cls,
        path: str | os.PathLike[str],
        layer: str | int | None = None,
        feature_ids: Sequence[int] | None = None,
        limit_km2: float = MAX_AOI_KM2,
    ) -> AOI:
        """Build an AOI from a GeoJSON, GeoPackage or Shapefile polygon layer (read with OGR).

        Args:
            path: The vector file.
            layer: Layer name or index; required when the file has several layers.
            feature_ids: Feature ids (FIDs) to use; default all features (unioned).
            limit_km2: Largest allowed area, km2.

        Raises:
            InputError: Unreadable file, unknown layer or feature, missing CRS, or an unusable
                geometry.

        """
        path = Path(path)
        geoms, crs_wkt = read_vector_file(path, layer, feature_ids)
        aoi = cls._from_source_geometry(geoms, crs_wkt, path.stem, limit_km2)
        return aoi
