"""The per-sensor summary of a read: days, first and last day and mean soil moisture."""

from __future__ import annotations

import pandas as pd

from .daily import _per_sensor_daily
from .model import _SENSOR_FIELDS, StationData


def station_summary(data: StationData) -> pd.DataFrame:
    """One row per kept sensor: network, station, lat, lon, depth, sensor, days, first, last, sm.

    ``days`` counts UTC days with readings; ``sm`` is the mean of the sensor's daily means.
    """
    r = data.readings
    if r.empty:
        return pd.DataFrame(
            columns=[
                "network",
                "station",
                "lat",
                "lon",
                "depth",
                "sensor",
                "days",
                "first",
                "last",
                "sm",
                "readings",
            ]
        )
    key = list(_SENSOR_FIELDS)
    daily = _per_sensor_daily(r)
    g = daily.groupby(key, sort=False)
    out = g.agg(
        days=("date", "nunique"),
        first=("date", "min"),
        last=("date", "max"),
        sm=("mean", "mean"),
        readings=("size", "sum"),
    ).reset_index()
    pairs = zip(out["depth_from"], out["depth_to"], strict=True)
    out["depth"] = [f"{a:.4g}-{b:.4g} m" for a, b in pairs]
    cols = [
        "network",
        "station",
        "lat",
        "lon",
        "depth",
        "sensor",
        "days",
        "first",
        "last",
        "sm",
        "readings",
    ]
    return out[cols].sort_values(["network", "station"], kind="stable").reset_index(drop=True)
