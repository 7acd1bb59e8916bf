"""Fetched arrays -> :class:`~core.inputs.sources.base.SceneInputs`, with the time logic.

Applies the time logic of :mod:`core.inputs.timeseries` in NumPy (the NDVI window, the ERA5
blocks, the SMAP AM/PM combination and interpolation to the date) and records what was used.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from ... import timeseries as ts
from ...grid import GridWindow
from ..base import S1Acquisition, SceneInputs, StaticInputs
from .expressions import ERA5_ASSET, MOD13Q1, MYD13Q1, S1_ASSET, SOIL_ASSETS, dem_asset, ndvi_band
from .requests import PixelRequest


def assemble_scene(
    window9: GridWindow,
    date: dt.date,
    acq: S1Acquisition,
    plan: dict[str, Any],
    requests: dict[str, PixelRequest],
    arrays: dict[str, dict[str, np.ndarray]],
) -> SceneInputs:
    """Build the scene's inputs from the fetched arrays of its requests and its plan."""
    f32 = np.float32
    s1, soil, terr = arrays["s1"], arrays["soil"], arrays["terrain"]
    window: ts.NdviWindow = plan["ndvi_window"]
    ndvi_dates: list[str] = plan["ndvi_asset_of_index"]
    ndvi = np.stack([arrays["ndvi"][ndvi_band(ndvi_dates[i])] for i in window.indices]).astype(f32)
    days: list[dt.date] = plan["era5_days"]
    t_daily = np.stack([arrays["era5"][f"t_{i}"] for i in plan["era5_indices"]])
    p_daily = ts.clip_precipitation(
        np.stack([arrays["era5"][f"p_{i}"] for i in plan["era5_indices"]])
    )
    temperature, missing = ts.era5_window(t_daily, days, window.start)
    precipitation, _ = ts.era5_window(p_daily, days, window.start)
    sm = arrays["smap"]
    k = range(len(plan["smap_assets"]))
    daily, bias = ts.combine_am_pm(
        np.stack([sm[f"am_{j}"] for j in k]),
        np.stack([sm[f"pm_{j}"] for j in k]),
        np.stack([sm[f"qam_{j}"] for j in k]),
        np.stack([sm[f"qpm_{j}"] for j in k]),
    )
    smap = ts.interpolate_to_date(daily, plan["smap_days"], date)
    return SceneInputs(
        window9=window9,
        date=date,
        acquisition=acq,
        vv=s1["vv"].astype(f32),
        vh=s1["vh"].astype(f32),
        angle=s1["angle"].astype(f32),
        static=StaticInputs(
            sand=soil["sand"].astype(f32),
            clay=soil["clay"].astype(f32),
            bdod=soil["bdod"].astype(f32),
            elevation=terr["elevation"].astype(f32),
            slope=terr["slope"].astype(f32),
            aspect=terr["aspect"].astype(f32),
        ),
        ndvi=ndvi,
        temperature=temperature,
        precipitation=precipitation,
        smap=smap,
        ndvi_padded_steps=window.padded,
        simulated=False,
        attributes=_attributes(window9, acq, plan, requests, missing),
    )


def _attributes(
    window9: GridWindow,
    acq: S1Acquisition,
    plan: dict[str, Any],
    requests: dict[str, PixelRequest],
    era5_missing_days: int,
) -> dict[str, Any]:
    """What the scene was made of: acquisition, datasets, dates and the requests' keys."""
    window: ts.NdviWindow = plan["ndvi_window"]
    return {
        "source": "gee",
        "acquisition": {
            "date": acq.date.isoformat(),
            "pass": acq.orbit_pass,
            "relative_orbit": acq.relative_orbit,
            "coverage": acq.coverage,
        },
        "datasets": {
            "sar": S1_ASSET,
            "soil": [a for a, _ in SOIL_ASSETS.values()],
            "dem": dem_asset(window9),
            "ndvi": [MOD13Q1, MYD13Q1],
            "weather": ERA5_ASSET,
            "smap": sorted({a.rsplit("/", 1)[0] for a in plan["smap_assets"]}),
        },
        "ndvi_dates": [d.isoformat() for d in window.dates],
        "era5_start": window.start.isoformat(),
        "era5_missing_days": era5_missing_days,
        "smap_days": len(plan["smap_days"]),
        "requests": {name: r.key() for name, r in requests.items()},
        "aspect": "cell mean of the 30 m aspect in degrees (as the authors)",
    }
