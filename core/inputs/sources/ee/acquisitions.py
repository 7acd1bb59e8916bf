"""Sentinel-1 acquisitions from the scenes' footprints, and the message for a date without one.

Same-day slices of one pass and relative orbit form one acquisition; its coverage is the share
of the window covered by the union of their footprints.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from ...grid import GridWindow
from ..base import S1Acquisition
from .expressions import ms_to_date

NEAREST_SEARCH_DAYS = 36
"""How far around a date without a scene the nearest dates are looked for."""


def coverage(features: Iterable[dict[str, Any]], window9: GridWindow) -> float:
    """Percentage of the window covered by the union of GeoJSON footprints."""
    from shapely.geometry import box, shape
    from shapely.ops import transform, unary_union

    from ...grid import lonlat_to_xy

    def project(x: Any, y: Any, z: Any = None) -> tuple[Any, Any]:
        return lonlat_to_xy(x, y)

    target = box(*window9.bounds)
    shapes = [transform(project, shape(f["geometry"])) for f in features if f.get("geometry")]
    if not shapes:
        return 0.0
    covered = unary_union(shapes).intersection(target).area
    return float(min(100.0, 100.0 * covered / target.area))


def group_acquisitions(
    features: Iterable[dict[str, Any]], window9: GridWindow, start: dt.date, end: dt.date
) -> list[S1Acquisition]:
    """Acquisitions over the window, ``start``..``end`` inclusive, from scene footprints.

    Same-day slices of one pass and relative orbit form one acquisition; features without a
    date, pass or orbit, or that do not touch the window, are left out.

    Returns:
        The acquisitions by date, then by coverage (largest first), pass and orbit.

    """
    groups: dict[tuple[dt.date, str, int], list[dict[str, Any]]] = {}
    platforms: dict[tuple[dt.date, str, int], set[str]] = {}
    for f in features:
        p = f.get("properties", {})
        try:
            key = (ms_to_date(float(p["t"])), str(p["pass"]), int(p["orbit"]))
        except (KeyError, TypeError, ValueError):
            continue
        if not start <= key[0] <= end:
            continue
        groups.setdefault(key, []).append(f)
        if p.get("platform"):
            platforms.setdefault(key, set()).add(f"Sentinel-1{p['platform']}")
    out = []
    for key, feats in groups.items():
        cover = coverage(feats, window9)
        if cover <= 0 or key[1] not in ("ASCENDING", "DESCENDING"):
            continue
        platform = "/".join(sorted(platforms.get(key, set()))) or "Sentinel-1"
        out.append(S1Acquisition(key[0], key[1], key[2], round(cover, 1), platform))
    return sorted(out, key=lambda a: (a.date, -a.coverage, a.orbit_pass, a.relative_orbit))


def no_scene_message(date: dt.date, near: Sequence[S1Acquisition]) -> str:
    """Build the message for a date without a scene, naming the nearest dates that have one."""
    if not near:
        return (
            f"no Sentinel-1 scene over this AOI on {date.isoformat()}, nor within "
            f"{NEAREST_SEARCH_DAYS} days of it; list the dates with `soilmoisture s1-dates`"
        )
    dates = sorted({a.date for a in near}, key=lambda d: (abs((d - date).days), d))[:4]
    described = []
    for d in sorted(dates):
        accs = [a for a in near if a.date == d]
        best = max(accs, key=lambda a: a.coverage)
        described.append(
            f"{d.isoformat()} ({best.orbit_pass.lower()}, orbit {best.relative_orbit}, "
            f"{best.coverage:.0f} %)"
        )
    return (
        f"no Sentinel-1 scene over this AOI on {date.isoformat()}; nearest dates with one: "
        + ", ".join(described)
    )
