"""Daily means: each sensor's readings per UTC day, then the sensors of a 50 m cell together.

:func:`daily_table` builds the table that training uses; :func:`write_daily_csv` writes it.
The grouping works on integer codes (no copy of the readings table).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from ...atomic import atomic_path
from ...errors import InputError
from .cells import _add_cells9, _add_cells50
from .model import _SENSOR_FIELDS, DAILY_COLUMNS


def _codes(column: pd.Series) -> tuple[npt.NDArray[np.int64], int]:
    """Integer codes of a column and their count (categorical codes are used as they are)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.codes.to_numpy().astype(np.int64), len(column.cat.categories)
    codes, uniques = pd.factorize(column, use_na_sentinel=False)
    return codes.astype(np.int64), len(uniques)


def _group_ids(columns: Sequence[pd.Series]) -> npt.NDArray[np.int64]:
    """One integer per distinct combination of ``columns`` (0..k-1, in order of appearance)."""
    acc: npt.NDArray[np.int64] | None = None
    size = 1
    for col in columns:
        c, k = _codes(col)
        if acc is None:
            acc, size = c, max(k, 1)
        else:
            acc = acc * max(k, 1) + c
            size *= max(k, 1)
        if size > 2**40:  # keep the mixed radix inside int64
            acc, uniques = pd.factorize(acc)
            size = len(uniques)
    assert acc is not None
    ids, _ = pd.factorize(acc)
    return ids.astype(np.int64)


def _per_sensor_daily(readings: pd.DataFrame) -> pd.DataFrame:
    """Daily mean and count of each sensor's readings (UTC days), without copying the table.

    Returns:
        Columns network, station, lat, lon, depth_from, depth_to, sensor, date (tz-naive
        midnight), mean, size.

    """
    sensor_key = list(_SENSOR_FIELDS)
    ns = pd.DatetimeIndex(readings["time"]).asi8  # UTC nanoseconds
    day = np.floor_divide(ns, 86_400 * 10**9)
    del ns
    sid = _group_ids([readings[c] for c in sensor_key])
    gid = _group_ids([pd.Series(sid), pd.Series(day)])
    n_groups = int(gid.max()) + 1 if gid.size else 0
    sm = readings["sm"].to_numpy(dtype=np.float64)
    sums = np.bincount(gid, weights=sm, minlength=n_groups)
    counts = np.bincount(gid, minlength=n_groups)
    first = np.full(n_groups, -1, dtype=np.int64)
    rows = np.arange(gid.size, dtype=np.int64)
    first[gid[::-1]] = rows[::-1]
    del rows
    out = readings.iloc[first][sensor_key].reset_index(drop=True)
    for c in sensor_key:
        if isinstance(out[c].dtype, pd.CategoricalDtype):
            out[c] = out[c].astype(out[c].cat.categories.dtype)
    out["date"] = pd.to_datetime(day[first] * 86_400 * 10**9)
    out["mean"] = sums / counts
    out["size"] = counts.astype(np.int64)
    return out


def daily_table(readings: pd.DataFrame) -> pd.DataFrame:
    """Average readings per calendar day (UTC) and per 50 m EASE-2 cell.

    Each sensor's readings are first averaged per day; the sensors (and stations) in one 50 m
    cell are then averaged with equal weight. ``n`` is the number of readings used.

    Args:
        readings: Columns network, station, lat, lon, depth_from, depth_to, sensor, time (UTC,
            tz-aware), sm.

    Returns:
        One row per cell and day, columns :data:`DAILY_COLUMNS`; ``date`` is the UTC day as a
        tz-naive midnight timestamp; sorted by network, station, date.

    """
    if readings.empty:
        return pd.DataFrame(columns=DAILY_COLUMNS)
    per_sensor = _per_sensor_daily(readings)
    _add_cells50(per_sensor)

    def _join(values: pd.Series) -> str:
        return "+".join(sorted(set(map(str, values))))

    grouped = per_sensor.groupby(["row50", "col50", "date"], sort=False)
    daily = grouped.agg(
        network=("network", _join),
        station=("station", _join),
        lat=("lat", "mean"),
        lon=("lon", "mean"),
        sm=("mean", "mean"),
        n=("size", "sum"),
    ).reset_index()
    _add_cells9(daily)
    daily["n"] = daily["n"].astype(np.int64)
    daily = daily[DAILY_COLUMNS].sort_values(["network", "station", "date"], kind="stable")
    return daily.reset_index(drop=True)


def write_daily_csv(daily: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write the daily table as CSV atomically (dates as YYYY-MM-DD, sm to 5 decimals).

    Raises:
        InputError: The table lacks daily columns.

    """
    missing = [c for c in DAILY_COLUMNS if c not in daily.columns]
    if missing:
        raise InputError(f"not a daily station table: missing columns {', '.join(missing)}")
    out = daily[DAILY_COLUMNS].copy()
    out["date"] = pd.to_datetime(out["date"]).dt.strftime("%Y-%m-%d")
    out["lat"] = out["lat"].astype(float).round(6)
    out["lon"] = out["lon"].astype(float).round(6)
    out["sm"] = out["sm"].astype(float).round(5)
    with atomic_path(path) as tmp:
        out.to_csv(tmp, index=False, lineterminator="\n")
