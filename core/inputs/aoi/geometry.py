"""AOI geometry helpers: CRS transforms to EPSG:6933 and back, and the polygon checks.

The checks refuse rather than repair: a non-polygon, an empty or an invalid (self-intersecting)
polygon, a CRS that cannot be parsed or coordinates that cannot be transformed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from ...errors import InputError
from ..grid import EPSG

TARGET_CRS = f"EPSG:{EPSG}"

_DENSIFY_POINTS = 64
"""Edges are split into about this many pieces per bounding-box side before reprojection."""


@lru_cache(maxsize=64)
def _transformer(src: str, dst: str) -> Any:
    """Build a pyproj transformer (x/y order); raise an InputError saying what a CRS may be."""
    from pyproj import CRS, Transformer
    from pyproj.exceptions import CRSError, ProjError

    try:
        src_crs = CRS.from_user_input(src)
        dst_crs = CRS.from_user_input(dst)
        return Transformer.from_crs(src_crs, dst_crs, always_xy=True)
    except (CRSError, ProjError, TypeError, ValueError) as exc:
        raise InputError(
            f"cannot use the coordinate reference system {src!r}: {exc}. Give an EPSG code such "
            "as 'EPSG:4326' (lon/lat) or 'EPSG:32631' (UTM 31N), or a WKT/PROJ definition."
        ) from None


def _crs_label(crs: str) -> str:
    """Return a short label for a CRS (its EPSG code where it has one)."""
    from pyproj import CRS

    try:
        c = CRS.from_user_input(crs)
    except Exception:  # noqa: BLE001 - only a label; the transform reports real errors
        return str(crs)
    code = c.to_epsg()
    return f"EPSG:{code}" if code else c.name


def _reproject(geom: BaseGeometry, src: str, dst: str = TARGET_CRS) -> BaseGeometry:
    """Densify ``geom``'s edges and reproject it from ``src`` to ``dst``."""
    transformer = _transformer(src, dst)
    xmin, ymin, xmax, ymax = geom.bounds
    step = max(xmax - xmin, ymax - ymin) / _DENSIFY_POINTS
    if step > 0 and math.isfinite(step):
        geom = shapely.segmentize(geom, step)

    def _apply(coords: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        x, y = transformer.transform(coords[:, 0], coords[:, 1], errcheck=False)
        return np.column_stack([np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)])

    from pyproj.exceptions import ProjError

    try:
        out = shapely.transform(geom, _apply)
    except ProjError as exc:
        raise InputError(f"cannot transform the AOI from {src!r} to {dst}: {exc}") from None
    coords = shapely.get_coordinates(out)
    if coords.size == 0 or not np.all(np.isfinite(coords)):
        raise InputError(
            f"the AOI's coordinates cannot be transformed from {_crs_label(src)} to {dst} "
            f"(bounds in the source CRS: {tuple(round(v, 6) for v in geom.bounds)}). Check that "
            "the coordinates are in that CRS (lon/lat in degrees for EPSG:4326: longitude "
            "-180..180, latitude -90..90, longitude first)."
        )
    return out


def _polygonal(geom: BaseGeometry, what: str) -> Polygon | MultiPolygon:
    """Keep the polygons of ``geom``, refusing points, lines and empty geometries."""
    if geom is None or geom.is_empty:
        raise InputError(f"{what} is empty; an AOI must be a polygon with a non-zero area.")
    if isinstance(geom, (Polygon, MultiPolygon)):
        return geom
    if geom.geom_type == "GeometryCollection":
        parts = [g for g in geom.geoms if isinstance(g, (Polygon, MultiPolygon))]
        others = [g.geom_type for g in geom.geoms if not isinstance(g, (Polygon, MultiPolygon))]
        if parts and not others:
            polys: list[Polygon] = []
            for p in parts:
                polys.extend(p.geoms if isinstance(p, MultiPolygon) else [p])
            return MultiPolygon(polys)
    raise InputError(
        f"{what} is a {geom.geom_type}, not a polygon; an AOI must be a Polygon or MultiPolygon "
        "(draw or load a polygon layer, or give a bounding box xmin,ymin,xmax,ymax)."
    )


def _check_valid(geom: BaseGeometry, what: str) -> None:
    """Refuse invalid (e.g. self-intersecting) polygons with shapely's explanation."""
    if not geom.is_valid:
        raise InputError(
            f"{what} is not a valid polygon: {explain_validity(geom)}. The AOI is not repaired "
            "automatically: fix the polygon (no self-intersections, rings closed, holes inside) "
            "and try again."
        )


def _union(geoms: Sequence[BaseGeometry]) -> BaseGeometry:
    """Union of polygons (a single geometry is returned as is, so its validity is checked)."""
    if len(geoms) == 1:
        return geoms[0]
    return shapely.union_all(list(geoms))


def _to_lonlat(coords: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    lon, lat = _to_lonlat_arrays(coords[:, 0], coords[:, 1])
    return np.column_stack([lon, lat])


def _to_lonlat_arrays(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    t = _transformer(TARGET_CRS, "EPSG:4326")
    lon, lat = t.transform(x, y, errcheck=False)
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
