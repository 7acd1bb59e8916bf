"""The AOI of a command-line argument: a vector file, a bounding box or a WKT polygon."""

from __future__ import annotations

import os
import re
from pathlib import Path

from ...errors import InputError
from .area import AOI, MAX_AOI_KM2

_BBOX_RE = re.compile(
    r"^\s*(?P<nums>[-+0-9.eE]+\s*,\s*[-+0-9.eE]+\s*,\s*[-+0-9.eE]+\s*,\s*[-+0-9.eE]+)\s*"
    r"(?:@\s*(?P<crs>.+?))?\s*$"
)


def _is_existing_path(text: str) -> bool:
    """Whether ``text`` names an existing file (a WKT string is too long to be a name)."""
    try:
        return Path(text).exists()
    except (OSError, ValueError):
        return False


def parse_aoi(text: str | os.PathLike[str], limit_km2: float = MAX_AOI_KM2) -> AOI:
    """Build an AOI from a CLI argument.

    Accepted: a vector file path (GeoJSON/GeoPackage/Shapefile); ``"xmin,ymin,xmax,ymax"`` in
    lon/lat degrees; ``"xmin,ymin,xmax,ymax@EPSG:32631"`` in another CRS; a WKT polygon,
    optionally followed by ``@CRS``.

    Raises:
        InputError: If the text is none of these, or the AOI is unusable.

    """
    s = os.fspath(text)
    if _is_existing_path(s):
        return AOI.from_file(s, limit_km2=limit_km2)
    m = _BBOX_RE.match(s)
    if m:
        try:
            nums = [float(v) for v in m.group("nums").split(",")]
        except ValueError:
            nums = []
        if len(nums) == 4:
            crs = m.group("crs") or "EPSG:4326"
            xmin, ymin, xmax, ymax = nums
            return AOI.from_bbox(xmin, ymin, xmax, ymax, crs=crs, limit_km2=limit_km2)
    upper = s.lstrip().upper()
    if upper.startswith(("POLYGON", "MULTIPOLYGON")):
        wkt, _, crs = s.partition("@")
        return AOI.from_wkt(wkt, crs=crs.strip() or "EPSG:4326", limit_km2=limit_km2)
    raise InputError(
        f"AOI {s!r} is neither an existing file nor a bounding box. Give a GeoJSON, GeoPackage "
        "or Shapefile path, 'xmin,ymin,xmax,ymax' in lon/lat degrees (e.g. '4.9,51.9,5.1,52.1'), "
        "or 'xmin,ymin,xmax,ymax@EPSG:32631' in another CRS."
    )
