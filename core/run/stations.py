"""Stations of a run: the daily station table with its keys, and the stations inside the AOI.

The readers live in :mod:`core.inputs.stations`; here their daily table gets the ``key`` column
(``network/station``) and plain dates used throughout a run, and is cut to the AOI.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InputError
from ..inputs.aoi import AOI
from ..inputs.grid import GridWindow
from ..progress import NULL_PROGRESS, Progress

if TYPE_CHECKING:
    import pandas as pd


def _lat_lon_text(lat: float, lon: float) -> str:
    """``36.6400 N, 97.4700 W``: hemispheres from the signs, never a negative east."""
    from ..inputs.grid import lat_text, lon_text

    return f"{lat_text(lat)}, {lon_text(lon)}"


def station_table(daily: pd.DataFrame) -> pd.DataFrame:
    """Add the ``key`` column (network/station) used throughout the run."""
    df = daily.copy()
    if "network" in df.columns:
        df["key"] = df["network"].astype(str) + "/" + df["station"].astype(str)
    else:
        df["key"] = df["station"].astype(str)
    df["date"] = [d.date() if isinstance(d, dt.datetime) else d for d in _to_dates(df["date"])]
    return df


def _to_dates(values: Any) -> list[dt.date]:
    import pandas as pd

    out = []
    for v in values:
        if isinstance(v, pd.Timestamp):
            out.append(v.date())
        elif isinstance(v, dt.datetime):
            out.append(v.date())
        elif isinstance(v, dt.date):
            out.append(v)
        else:
            out.append(pd.Timestamp(v).date())
    return out


def date_span(daily: pd.DataFrame) -> str:
    """``first..last`` date of the station readings, for messages."""
    if not len(daily):
        return "no readings"
    return f"{min(daily['date'])}..{max(daily['date'])}"


def _stations_inside(daily: pd.DataFrame, aoi: AOI, window50: GridWindow) -> pd.DataFrame:
    """Rows of stations whose 50 m cell centre lies inside the AOI."""
    r = daily["row50"].to_numpy(dtype=np.int64) - window50.row0
    c = daily["col50"].to_numpy(dtype=np.int64) - window50.col0
    in_window = (r >= 0) & (r < window50.nrows) & (c >= 0) & (c < window50.ncols)
    mask = aoi.mask50(window50)
    inside = np.zeros(len(daily), dtype=bool)
    inside[in_window] = mask[r[in_window], c[in_window]]
    return daily[inside]


def read_stations_in_aoi(
    paths: Sequence[Path], aoi: AOI, progress: Progress | None = None
) -> tuple[pd.DataFrame, list[str]]:
    """Read station files and keep the daily values of the stations inside the AOI.

    Args:
        paths: Station files.
        aoi: The AOI.
        progress: Optional progress reporter.

    Returns:
        ``(daily, warnings)``: the daily table with a ``key`` column (``network/station``) and
        dates as ``datetime.date``, and the reader's warnings.

    Raises:
        InputError: no station lies inside the AOI (the message lists where they are).

    """
    from ..inputs.stations import read_station_files

    progress = progress or NULL_PROGRESS
    data = read_station_files(list(paths), aoi=None, progress=progress)
    warnings = [str(w) for w in getattr(data, "warnings", [])]
    daily = station_table(data.daily)
    window50 = aoi.window9().to_level("50m")
    inside = _stations_inside(daily, aoi, window50)
    if inside.empty:
        where = daily.groupby("key")[["lat", "lon"]].first().head(5) if not daily.empty else None
        listed = (
            "; ".join(f"{k} at {_lat_lon_text(row.lat, row.lon)}" for k, row in where.iterrows())
            if where is not None and len(where)
            else "the files hold no usable 0-5 cm readings"
        )
        w, s, e, n = aoi.bounds_lonlat
        raise InputError(
            f"no station lies inside the AOI {aoi.name!r} (lon {w:.4f}..{e:.4f}, lat "
            f"{s:.4f}..{n:.4f}); stations read: {listed}. Give station files of this area or "
            "draw the AOI around the stations."
        )
    outside = sorted(set(daily["key"]) - set(inside["key"]))
    if outside:
        warnings.append(
            f"{len(outside)} station(s) outside the AOI were left out: {', '.join(outside[:5])}"
            + (" ..." if len(outside) > 5 else "")
        )
    return inside.reset_index(drop=True), warnings
