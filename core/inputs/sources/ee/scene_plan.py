"""Which NDVI composites, weather days and SMAP days a scene needs, from the metadata listing.

:func:`plan_scene` reads the answer of :func:`.expressions.scene_metadata` and decides what to
fetch, or says in plain words which data are not available yet.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ....errors import InputError, NoDataError
from ... import timeseries as ts
from .expressions import (
    MOD13Q1,
    MYD13Q1,
    SMAP_005,
    SMAP_006,
    SMAP_HALF_WINDOW_DAYS,
    ms_to_date,
    smap_collection,
)


def _listing(meta: dict[str, Any], name: str) -> list[tuple[dt.date, str]]:
    """``(date, index)`` pairs of a listing (one dictionary, or a list of per-period ones)."""
    parts = meta.get(name) or []
    if isinstance(parts, dict):
        parts = [parts]
    out: list[tuple[dt.date, str]] = []
    for part in parts:
        pairs = zip(part.get("index", []), part.get("t", []), strict=False)
        out.extend((ms_to_date(float(t)), str(i)) for i, t in pairs)
    return out


def plan_scene(meta: dict[str, Any], date: dt.date) -> dict[str, Any]:
    """Decide, from the metadata listing, which composites and days to fetch."""
    ndvi = [(d, f"{MOD13Q1}/{i}") for d, i in _listing(meta, "mod")]
    ndvi += [(d, f"{MYD13Q1}/{i}") for d, i in _listing(meta, "myd")]
    if not ndvi:
        raise NoDataError(
            f"no MODIS NDVI composite in the year before {date.isoformat()}: MODIS starts in "
            "2000 (Terra) / 2002 (Aqua); pick a later date"
        )
    try:
        window = ts.ndvi_window([d for d, _ in ndvi], date)
    except InputError as exc:
        raise NoDataError(str(exc)) from None
    assets = [a for _, a in ndvi]
    unique = [assets[i] for i in window.unique_indices]

    wanted = set(ts.era5_days(window.start))
    era5 = sorted((d, i) for d, i in _listing(meta, "era5") if d in wanted)
    present = {d for d, _ in era5}
    blocks_missing = [
        b
        for b in range(ts.N_STEPS)
        if not any(
            window.start + dt.timedelta(days=b * ts.ERA5_BLOCK_DAYS + k) in present
            for k in range(ts.ERA5_BLOCK_DAYS)
        )
    ]
    if blocks_missing:
        last = window.start + dt.timedelta(days=ts.ERA5_DAYS - 1)
        raise NoDataError(
            f"ERA5-Land daily weather is not available for the whole window "
            f"{window.start.isoformat()}..{last.isoformat()} (it is published about a week "
            "late); pick an earlier date or retry in a few days"
        )

    smap = sorted(
        (d, f"{coll}/{i}")
        for name, coll in (("smap005", SMAP_005), ("smap006", SMAP_006))
        for d, i in _listing(meta, name)
        if smap_collection(d) == coll
    )
    dedup: dict[dt.date, str] = {}
    for d, a in smap:
        dedup.setdefault(d, a)
    if not dedup:
        raise NoDataError(
            f"no SMAP L3 enhanced data within {SMAP_HALF_WINDOW_DAYS} days of {date.isoformat()} "
            "(SMAP starts 2015-03-31)"
        )
    smap_days = sorted(dedup)
    return {
        "ndvi_window": window,
        "ndvi_asset_of_index": assets,
        "ndvi_assets": unique,
        "era5_indices": [i for _, i in era5],
        "era5_days": [d for d, _ in era5],
        "smap_assets": [dedup[d] for d in smap_days],
        "smap_days": smap_days,
    }
