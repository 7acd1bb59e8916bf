"""The kept series as one readings table: duplicates dropped and counted, rows ordered.

The sensor columns become categoricals (one small code per reading), so a table of millions of
readings stays lean; nothing is sorted or hashed when the input is already in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from .model import _SENSOR_FIELDS, READING_COLUMNS, Series, _utc_index


def _categorical(values: Sequence[Any], codes: npt.NDArray[np.int64]) -> pd.Categorical:
    """A categorical of ``values[codes]`` with sorted categories (string order sorts right)."""
    cats = sorted(set(values))
    where = {v: k for k, v in enumerate(cats)}
    per_value = np.array([where[v] for v in values], dtype=np.int64)
    small = per_value[codes]
    return pd.Categorical.from_codes(small, categories=cats)


def _assemble_readings(series: list[Series], warnings: list[str]) -> pd.DataFrame:
    """The kept series as one readings table, duplicates dropped, ordered, memory-lean.

    The sensor columns are categoricals (one small code per reading), so a table of millions of
    readings costs about 25 bytes per reading. The first reading of each sensor and timestamp
    is kept (in the order the inputs were given); the others are counted per file.
    """
    lengths = np.array([len(x.sm) for x in series], dtype=np.int64)
    metas = [x.meta for x in series]
    sensor_of: dict[tuple[Any, ...], int] = {}
    series_sensor = np.array(
        [
            sensor_of.setdefault(tuple(getattr(m, f) for f in _SENSOR_FIELDS), len(sensor_of))
            for m in metas
        ],
        dtype=np.int64,
    )
    series_idx = np.repeat(np.arange(len(series), dtype=np.int32), lengths)
    sid = series_sensor.astype(np.int32)[series_idx]
    t_ns = np.concatenate([x.time.asi8 for x in series])
    dup = _duplicates(sid, t_ns)
    if dup is not None:
        key = pd.DataFrame({"sid": sid, "t": t_ns})
        _count_duplicates(key, dup, series, series_idx, warnings)
        del key
    keep = np.flatnonzero(~dup) if dup is not None else None
    del dup
    # order: network, station, sensor, time (stable: ties keep the input order)
    sensors = list(sensor_of)
    names = [(k[0], k[1], k[6]) for k in sensors]
    rank_of = {v: r for r, v in enumerate(sorted(set(names)))}
    sensor_rank = np.array([rank_of[v] for v in names], dtype=np.int32)
    rank = sensor_rank[sid] if keep is None else sensor_rank[sid[keep]]
    t_kept = t_ns if keep is None else t_ns[keep]
    order: npt.NDArray[np.int64] | None
    if _is_sorted(rank, t_kept):
        order = keep  # None: the input order is the table's order, nothing to move
    else:
        perm = np.lexsort((t_kept, rank))
        order = perm if keep is None else keep[perm]
        del perm
    del keep, rank, t_kept

    def take(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
        return values if order is None else values[order]

    def joined(arrays: list[npt.NDArray[Any]]) -> npt.NDArray[Any]:
        return take(arrays[0] if len(arrays) == 1 else np.concatenate(arrays))

    sid_o = take(sid)
    series_o = take(series_idx)
    del sid, series_idx
    columns: dict[str, Any] = {}
    for k, name in enumerate(_SENSOR_FIELDS):
        columns[name] = _categorical([sk[k] for sk in sensors], sid_o)
    del sid_o
    columns["time"] = _utc_index(take(t_ns))
    del t_ns
    columns["sm"] = joined([x.sm for x in series])
    columns["flag"] = pd.Categorical(joined([x.flag for x in series]))
    columns["source"] = _categorical([m.source for m in metas], series_o)
    return pd.DataFrame(columns, copy=False)[READING_COLUMNS]


def _is_sorted(major: npt.NDArray[Any], minor: npt.NDArray[Any]) -> bool:
    """Whether rows are already in (major, minor) order (then nothing needs sorting)."""
    if major.size < 2:
        return True
    up = major[1:] > major[:-1]
    same = major[1:] == major[:-1]
    return bool(np.all(up | (same & (minor[1:] >= minor[:-1]))))


def _duplicates(sid: npt.NDArray[Any], t_ns: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_] | None:
    """Mask of readings whose sensor and time occurred earlier in the input (None: none do).

    Data come sorted by time per sensor almost always: then one pass over neighbours proves
    that nothing repeats, without hashing millions of keys.
    """
    if sid.size < 2:
        return None
    if _is_sorted(sid, t_ns):
        same = (sid[1:] == sid[:-1]) & (t_ns[1:] == t_ns[:-1])
        if not same.any():
            return None
        dup = np.zeros(sid.size, dtype=bool)
        dup[1:] = same
        return dup
    perm = np.lexsort((t_ns, sid))  # stable: the first of equal keys stays first
    s_sid, s_t = sid[perm], t_ns[perm]
    same = (s_sid[1:] == s_sid[:-1]) & (s_t[1:] == s_t[:-1])
    del s_sid, s_t
    if not same.any():
        return None
    dup = np.zeros(sid.size, dtype=bool)
    dup[perm[1:][same]] = True
    return dup


def _count_duplicates(
    key: pd.DataFrame,
    dup: npt.NDArray[np.bool_],
    series: list[Series],
    series_idx: npt.NDArray[np.integer[Any]],
    warnings: list[str],
) -> None:
    """Warn, per file, about readings whose sensor and timestamp were already read."""
    involved = np.flatnonzero(key.duplicated(keep=False).to_numpy())
    sub = key.iloc[involved].assign(series=series_idx[involved], row=involved)
    first = sub.groupby(["sid", "t"], sort=False)["series"].transform("first").to_numpy()
    is_dup = dup[involved]
    line = np.concatenate([x.line for x in series])
    frame = pd.DataFrame(
        {
            "src": series_idx[involved][is_dup],
            "orig": first[is_dup],
            "row": involved[is_dup],
        }
    )
    for (src_i, orig_i), grp in frame.groupby(["src", "orig"], sort=False):
        src = series[int(src_i)].meta.source
        orig = series[int(orig_i)].meta.source
        where = "within the file" if src == orig else f"already read from {orig}"
        row = int(grp["row"].iloc[0])
        when = pd.Timestamp(int(key["t"].iloc[row]), tz="UTC")
        warnings.append(
            f"{src}: {len(grp)} readings with a duplicate timestamp {where} dropped (first "
            f"at line {int(line[row])}, {when:%Y-%m-%d %H:%M} UTC); "
            "the first reading of each timestamp was kept"
        )
