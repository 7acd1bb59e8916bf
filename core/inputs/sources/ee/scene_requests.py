"""The pixel requests of a scene, and the request plan of a ``--dry-run``.

S1, soil and terrain on the 50 m grid, NDVI on the 250 m grid, ERA5-Land and SMAP on 9 km;
:func:`request_plan` describes what a run would send after splitting, without sending anything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from ... import timeseries as ts
from ...grid import GridWindow
from .expressions import MOD13Q1, MYD13Q1, SMAP_HALF_WINDOW_DAYS, SMAP_PREFIXES, ndvi_band
from .requests import PixelRequest


def scene_requests(
    window9: GridWindow,
    expressions: dict[str, Any],
    ndvi_assets: Sequence[str],
    era5_indices: Sequence[str],
    n_smap_days: int,
) -> dict[str, PixelRequest]:
    """The six pixel requests of a scene, with the band ids the expressions produce.

    S1, soil and terrain on the 50 m grid, NDVI on the 250 m grid, ERA5-Land and SMAP on 9 km.
    """
    w50, w250 = window9.to_level("50m"), window9.to_level("250m")
    return {
        "s1": PixelRequest(expressions["s1"], w50, ("vv", "vh", "angle"), label="Sentinel-1"),
        "soil": PixelRequest(expressions["soil"], w50, ("sand", "clay", "bdod"), label="soil"),
        "terrain": PixelRequest(
            expressions["terrain"], w50, ("elevation", "slope", "aspect"), label="terrain"
        ),
        "ndvi": PixelRequest(
            expressions["ndvi"], w250, tuple(ndvi_band(a) for a in ndvi_assets), label="NDVI"
        ),
        "era5": PixelRequest(
            expressions["era5"],
            window9,
            tuple(f"{v}_{i}" for i in era5_indices for v in ("t", "p")),
            label="ERA5-Land",
        ),
        "smap": PixelRequest(
            expressions["smap"],
            window9,
            tuple(f"{p}_{k}" for k in range(n_smap_days) for p in SMAP_PREFIXES),
            label="SMAP",
        ),
    }


def nominal_scene_requests(window9: GridWindow, date: dt.date) -> dict[str, PixelRequest]:
    """The pixel requests of a scene at their largest, without Earth Engine (``--dry-run``).

    Assumes the fullest listing: 46 NDVI composites (Terra and Aqua), the 368 weather days and
    every SMAP day within 30 days of the date. Expressions are placeholders: nothing is sent.
    """
    start = date - dt.timedelta(days=ts.NDVI_WINDOW_DAYS)
    ndvi = [
        f"{MOD13Q1 if k % 2 == 0 else MYD13Q1}/{start + dt.timedelta(days=8 * k):%Y_%m_%d}"
        for k in range(ts.N_STEPS)
    ]
    era5 = [f"{d:%Y%m%d}" for d in ts.era5_days(start)]
    placeholder = {
        name: f"dry-run:{name}" for name in ("s1", "soil", "terrain", "ndvi", "era5", "smap")
    }
    return scene_requests(window9, placeholder, ndvi, era5, 2 * SMAP_HALF_WINDOW_DAYS + 1)


def request_plan(
    window9: GridWindow,
    train: tuple[dt.date, dt.date],
    map_dates: Sequence[dt.date],
) -> str:
    """Describe the requests a ``gee`` run would make, without making any (``--dry-run``).

    Lists the acquisition listings (one per calendar year), then the pixel requests of one
    scene after splitting under the service's limits: for each, the number of requests, bands,
    pixels and bytes per request. Every scene is the same size; soil and terrain are fetched
    once per AOI (then served from the cache).

    Returns:
        The plan as text, one line per kind of request.

    """
    from ...cache import human_size as human
    from .tiling import plan_tiles

    first = min([train[0], *map_dates])
    last = max([train[1], *map_dates])
    years = last.year - first.year + 1
    lines = [
        f"grid: {window9.nrows} x {window9.ncols} cells of 9 km "
        f"({window9.nrows * 180} x {window9.ncols * 180} px at 50 m)",
        f"listings: {years} Sentinel-1 acquisition list(s) (one per year {first.year}-"
        f"{last.year}) and one NDVI/weather/SMAP listing per scene (small JSON answers)",
        "pixel requests per scene (largest case: 46 NDVI composites, 368 weather days, "
        "61 SMAP days):",
    ]
    total_requests = 0
    total_bytes = 0
    for name, request in nominal_scene_requests(window9, max(map_dates)).items():
        tiles = plan_tiles(request)
        sizes = [t.nbytes for t in tiles]
        bands = sorted({len(t.bands) for t in tiles})
        pixels = sorted({t.grid.nrows * t.grid.ncols for t in tiles})
        once = " (once per AOI)" if name in ("soil", "terrain") else ""
        lines.append(
            f"  {request.label:<11} {len(tiles):>3} request(s) x {'/'.join(map(str, bands))} "
            f"band(s) x {'/'.join(f'{p:,}' for p in pixels)} px, "
            f"{human(max(sizes))} per request, {human(sum(sizes))} in all{once}"
        )
        total_requests += len(tiles)
        total_bytes += sum(sizes)
    lines.append(
        f"per scene: {total_requests} pixel requests, {human(total_bytes)}; one scene per "
        f"Sentinel-1 date of {train[0].isoformat()}..{train[1].isoformat()} that has station "
        f"data, plus {len(map_dates)} map date(s) (`soilmoisture s1-dates` lists the dates); "
        "cached requests are not sent again"
    )
    return "\n".join(lines)
