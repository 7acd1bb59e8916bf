"""What the ISMN formats share: file-name metadata, the station span and the value lines.

Both ISMN layouts (:mod:`.ismn_header`, :mod:`.ismn_ceop`) name their files alike and end each
data line with ``date time ... value flag``; the helpers here read those names and lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from .model import _utc_index
from .text import TextSource, _is_float, _line_bound

_DATE_RE = re.compile(r"^\d{4}/\d{2}/\d{2}\s+\d{2}:\d{2}\b")
_CEOP_RE = re.compile(r"^\d{4}/\d{2}/\d{2}\s+\d{2}:\d{2}\s+\d{4}/\d{2}/\d{2}\s+\d{2}:\d{2}\s")
_ISMN_NAME_RE = re.compile(
    r"^(?P<cse>[^_]+)_(?P<network>[^_]+)_(?P<station>.+)_(?P<var>[a-z_]+?)_"
    r"(?P<dfrom>-?\d+\.\d+)_(?P<dto>-?\d+\.\d+)_(?P<sensor>.+?)_(?P<start>\d{8})_(?P<end>\d{8})"
    r"\.stm$"
)
_ISMN_TIME_FORMAT = "%Y/%m/%d %H:%M"


def _station_span(tokens: Sequence[str], start: int) -> int | None:
    """Index after the station name: the first i > start with 5 numbers at tokens[i:i+5]."""
    for i in range(start + 1, len(tokens) - 4):
        if all(_is_float(t) for t in tokens[i : i + 5]):
            return i
    return None


def _name_meta(filename: str) -> dict[str, Any] | None:
    """Network, station, depths and sensor from an ISMN file name, if it is one."""
    m = _ISMN_NAME_RE.match(filename)
    if not m:
        return None
    return {
        "network": m["network"],
        "station": m["station"],
        "depth_from": float(m["dfrom"]),
        "depth_to": float(m["dto"]),
        "sensor": m["sensor"],
        "variable": m["var"],
    }


def _precise_depth(header: float, from_name: float | None) -> float:
    """Prefer the file name's depth where it agrees with the (2-decimal) header."""
    if from_name is not None and abs(from_name - header) <= 0.0051:
        return from_name
    return header


def _first_line_note(lines: npt.NDArray[np.int64], mask: npt.NDArray[np.bool_]) -> str:
    idx = np.flatnonzero(mask)
    return f" (first at line {int(lines[idx[0]])})" if idx.size else ""


def _parse_ismn_values(
    src: TextSource,
    chunks: Iterator[list[tuple[int, list[str]]]],
    date_idx: int,
    value_idx: int,
) -> tuple[
    pd.DatetimeIndex,
    npt.NDArray[np.float64],
    npt.NDArray[np.object_],
    npt.NDArray[np.int64],
    list[str],
]:
    """Parse times, values, flags and line numbers of ISMN data lines; warn about bad lines.

    The lines come piece by piece (:func:`_data_rows`); only one piece's tokens exist at a
    time, and equal flags share one string, so memory stays a small multiple of the readings.
    """
    need = value_idx + 2
    flag_pool: dict[str, str] = {}
    cap = _line_bound(src)
    t_all = np.empty(cap, dtype=np.int64)
    sm_all = np.empty(cap, dtype=np.float64)
    fl_all = np.empty(cap, dtype=object)
    ln_all = np.empty(cap, dtype=np.int64)
    n = 0
    n_bad = 0
    first_bad: int | None = None
    for rows in chunks:
        good = [(i, t) for i, t in rows if len(t) >= need]
        short = [i for i, t in rows if len(t) < need]
        stamps = [f"{t[date_idx]} {t[date_idx + 1]}" for _, t in good]
        times = pd.DatetimeIndex(
            pd.to_datetime(stamps, format=_ISMN_TIME_FORMAT, errors="coerce", utc=True)
        )
        del stamps
        values = pd.to_numeric(
            pd.Series([t[value_idx] for _, t in good], dtype=object), errors="coerce"
        ).to_numpy(dtype=np.float64)
        flags = np.array(
            [flag_pool.setdefault(t[value_idx + 1], t[value_idx + 1]) for _, t in good],
            dtype=object,
        )
        lines = np.array([i for i, _ in good], dtype=np.int64)
        del good, rows
        bad = np.asarray(times.isna()) | np.isnan(values)
        n_bad += len(short) + int(bad.sum())
        firsts = [*short[:1], *lines[bad][:1].tolist()]
        if firsts:
            first_bad = min([*firsts, *([first_bad] if first_bad is not None else [])])
        keep = ~bad
        k = int(keep.sum())
        t_all[n : n + k] = times.asi8[keep]
        sm_all[n : n + k] = values[keep]
        fl_all[n : n + k] = flags[keep]
        ln_all[n : n + k] = lines[keep]
        n += k
    warnings: list[str] = []
    if n_bad:
        warnings.append(
            f"{src.name}: {n_bad} lines that are not 'date time value flag' readings skipped "
            f"(first at line {first_bad})"
        )
    times_out = _utc_index(t_all[:n])
    del t_all
    return times_out, sm_all[:n], fl_all[:n], ln_all[:n], warnings
