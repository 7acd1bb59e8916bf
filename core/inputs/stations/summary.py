"""The per-sensor summary of a read: days, first and last day and mean soil moisture."""

from __future__ import annotations

import pandas as pd

from .daily import _per_sensor_daily
from .model import _SENSOR_FIELDS, StationData

SUMMARY_COLUMNS = [
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
"""Columns of :func:`station_summary`, in order (also those of its empty table)."""


def station_summary(data: StationData) -> pd.DataFrame:
    """One row per kept sensor: network, station, lat, lon, depth, sensor, days, first, last, sm.

    ``days`` counts UTC days with readings; ``sm`` is the mean of the sensor's daily means.
    """
    r = data.readings
    if r.empty:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
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
    out = out[SUMMARY_COLUMNS].sort_values(["network", "station"], kind="stable")
    return out.reset_index(drop=True)
