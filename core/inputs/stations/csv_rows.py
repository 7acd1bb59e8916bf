"""The rows of a station CSV: checked, counted and grouped into one series per sensor.

:class:`_CsvState` takes the table block by block: each row with a problem is dropped and
counted under its reason (the first line is remembered for the message), defaults are applied
and counted, and the kept rows are grouped by network, station, place, depth and sensor.
"""

from __future__ import annotations

import warnings as warnings_module
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from .model import MIN_YEAR, ParseResult, ReadOptions, Series, StationMeta, _unit_kind, _utc_index

_ZONE_NAME_RE = r"\d:\d\d(?::\d\d(?:\.\d+)?)?\s*(?!UTC\b|GMT\b|Z\b)[A-Za-z]{3,5}\s*$"
"""A time zone abbreviation (CET, EST, ...) after a time: ambiguous, so refused."""
MOVED_KM = 1.0
"""One station id at places farther apart than this (km) is reported."""

_KEYS = ["network", "station", "lat", "lon", "depth_from", "depth_to", "sensor"]
"""The columns whose values make one series of a CSV."""


def _warn_moving_stations(
    name: str,
    network: npt.NDArray[np.object_],
    station: npt.NDArray[np.object_],
    lat: npt.NDArray[np.float64],
    lon: npt.NDArray[np.float64],
    warnings: list[str],
) -> None:
    """Warn when one station id appears at places more than :data:`MOVED_KM` apart."""
    if not len(station):
        return
    places = pd.DataFrame({"net": network, "sta": station, "lat": lat, "lon": lon})
    places = places.drop_duplicates()
    for (net, sta), grp in places.groupby(["net", "sta"], sort=False):
        if len(grp) < 2:
            continue
        la = np.radians(grp["lat"].to_numpy())
        lo = np.radians(grp["lon"].to_numpy())
        dy = (la.max() - la.min()) * 6371.0
        dx = (lo.max() - lo.min()) * 6371.0 * float(np.cos(la.mean()))
        km = float(np.hypot(dx, dy))
        if km > MOVED_KM:
            warnings.append(
                f"{name}: station {net} {sta} appears at {len(grp)} places up to {km:,.0f} km "
                "apart; check its coordinates (each place is read as a separate sensor)"
            )


def _col(df: pd.DataFrame, name: str, default: str = "") -> pd.Series:
    """A column as stripped text, or ``default`` in every row where the column is absent."""
    if name in df.columns:
        return df[name].astype(str).str.strip()
    return pd.Series([default] * len(df), index=df.index, dtype=object)


def _number(df: pd.DataFrame, name: str, sep: str) -> npt.NDArray[np.float64]:
    """A column as numbers (NaN where unreadable), decimal commas accepted unless ``,`` splits."""
    text = _col(df, name)
    if sep != ",":  # decimal commas ("36,6") in a ';' or tab separated file
        text = text.str.replace(",", ".", regex=False)
    return pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)


def _timestamps(stamp_txt: pd.Series) -> tuple[npt.NDArray[np.bool_], pd.DatetimeIndex]:
    """Rows naming a time zone (refused), and the UTC times of the others (NaT: unreadable)."""
    zone = stamp_txt.str.contains(_ZONE_NAME_RE, na=False).to_numpy()
    with warnings_module.catch_warnings():
        warnings_module.simplefilter("ignore")  # each problem is reported instead
        times = pd.DatetimeIndex(
            pd.to_datetime(stamp_txt.where(~zone, ""), errors="coerce", utc=True)
        )
    return zone, times


class _CsvState:
    """What the blocks of one station CSV add up to: series fragments and problem counts."""

    REASONS = (
        "an empty station id",
        "an invalid lat/lon (need -90..90, -180..180)",
        "a time zone name instead of an offset (write e.g. 2020-06-01T12:00+01:00; names such "
        "as CET are ambiguous)",
        "an unreadable timestamp",
        f"a date before {MIN_YEAR} or in the future",
        "a non-numeric soil moisture",
        "a non-numeric depth",
        "a negative depth (depths are metres below the surface)",
        "unit",
    )

    def __init__(self, name: str, sep: str, options: ReadOptions, has_flag: bool) -> None:
        self.name = name
        self.sep = sep
        self.options = options
        self.has_flag = has_flag
        self.counts: dict[str, list[int]] = {r: [0, 0] for r in self.REASONS}  # count, first
        self.unknown_units: set[str] = set()
        self.no_depth = 0
        self.no_flag = 0
        self.parts: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}
        self.flag_pool: dict[str, str] = {}

    def add(self, df: pd.DataFrame, line: npt.NDArray[np.int64]) -> None:
        """Check and split one block of rows."""
        station = _col(df, "station")
        lat = _number(df, "lat", self.sep)
        lon = _number(df, "lon", self.sep)
        zone, times = _timestamps(_col(df, "timestamp"))
        sm = _number(df, "sm", self.sep)
        depth_txt = _col(df, "depth")
        depth = _number(df, "depth", self.sep)
        year = np.asarray(times.year, dtype=np.float64)
        flag = _col(df, "flag").to_numpy(dtype=object)
        network = _col(df, "network", "field").replace("", "field").to_numpy(dtype=object)
        sensor = _col(df, "sensor", "field").replace("", "field").to_numpy(dtype=object)
        kinds = self._unit_kinds(df)
        unknown = kinds.isna().to_numpy()
        masks = (
            (station == "").to_numpy(),
            ~(np.abs(lat) <= 90) | ~(np.abs(lon) <= 180),
            zone,
            np.asarray(times.isna()),
            (year < MIN_YEAR) | np.asarray(times > pd.Timestamp.now(tz="UTC")),
            np.isnan(sm),
            (depth_txt != "").to_numpy() & np.isnan(depth),
            depth < 0,
            unknown,
        )
        sm = np.where((kinds == "percent").to_numpy(), sm / 100.0, sm)
        drop = self._count_drops(masks, line, len(df))
        self.no_depth += int((~drop & np.isnan(depth)).sum())
        self.no_flag += int((~drop & (flag == "")).sum())
        fields = {
            "network": network,
            "station": station.to_numpy(dtype=object),
            "lat": lat,
            "lon": lon,
            "depth_from": np.where(np.isnan(depth), 0.0, depth),
            "depth_to": np.where(np.isnan(depth), 0.05, depth),
            "sensor": sensor,
        }
        flag = np.where(flag == "", "G", flag)
        self._store(fields, ~drop, times.asi8, sm, flag, line)

    def _unit_kinds(self, df: pd.DataFrame) -> pd.Series:
        """Each row's unit kind (NaN: unknown, remembered for the message)."""
        unit_txt = _col(df, "unit")
        unit_txt = unit_txt.where(unit_txt != "", self.options.unit)
        kinds = unit_txt.map(_unit_kind)
        unknown = kinds.isna().to_numpy()
        if unknown.any():
            self.unknown_units.update(unit_txt[unknown])
        return kinds

    def _count_drops(
        self, masks: tuple[npt.NDArray[np.bool_], ...], line: npt.NDArray[np.int64], n: int
    ) -> npt.NDArray[np.bool_]:
        """Rows to drop; each is counted under the first of :attr:`REASONS` it meets."""
        drop = np.zeros(n, dtype=bool)
        for why, mask in zip(self.REASONS, masks, strict=True):
            mask = mask & ~drop
            if mask.any():
                entry = self.counts[why]
                first = int(line[np.flatnonzero(mask)[0]])
                entry[1] = first if entry[0] == 0 else min(entry[1], first)
                entry[0] += int(mask.sum())
                drop |= mask
        return drop

    def _store(
        self,
        fields: dict[str, npt.NDArray[Any]],
        keep: npt.NDArray[np.bool_],
        ns: npt.NDArray[np.int64],
        sm: npt.NDArray[np.float64],
        flag: npt.NDArray[np.object_],
        line: npt.NDArray[np.int64],
    ) -> None:
        """Add the kept rows to their series' fragments (one per network ... sensor key)."""
        frame = pd.DataFrame(
            {**{k: v[keep] for k, v in fields.items()}, "pos": np.flatnonzero(keep)}
        )
        for key, grp in frame.groupby(_KEYS, sort=False):
            pos = grp["pos"].to_numpy()
            pooled = np.array([self.flag_pool.setdefault(f, f) for f in flag[pos]], dtype=object)
            self.parts.setdefault(tuple(key), []).append(
                (ns[pos], sm[pos].astype(np.float64), pooled, line[pos])
            )

    def result(self) -> ParseResult:
        """The series (fragments joined) and the warnings of the whole file."""
        warnings: list[str] = []
        for why, (count, first) in self.counts.items():
            if not count:
                continue
            if why == "unit":
                names = ", ".join(map(repr, sorted(self.unknown_units)))
                why = f"an unknown unit ({names}; allowed m3/m3 or %)"
            warnings.append(f"{self.name}: {count} rows with {why} skipped (first at line {first})")
        if self.no_depth:
            warnings.append(
                f"{self.name}: {self.no_depth} rows without a depth taken as surface "
                "(0-0.05 m) readings"
            )
        if self.no_flag and self.has_flag:
            warnings.append(f"{self.name}: {self.no_flag} rows without a flag taken as G")
        keys = list(self.parts)
        _warn_moving_stations(
            self.name,
            np.array([k[0] for k in keys], dtype=object),
            np.array([k[1] for k in keys], dtype=object),
            np.array([k[2] for k in keys], dtype=np.float64),
            np.array([k[3] for k in keys], dtype=np.float64),
            warnings,
        )
        series: list[Series] = []
        for key in keys:
            frags = self.parts.pop(key)
            net, sta, la, lo, dfr, dto, sen = key
            meta = StationMeta(
                str(net),
                str(sta),
                float(la),
                float(lo),
                None,
                float(dfr),
                float(dto),
                str(sen),
                self.name,
            )

            def join(k: int, frags: list[tuple[Any, ...]] = frags) -> npt.NDArray[Any]:
                return frags[0][k] if len(frags) == 1 else np.concatenate([f[k] for f in frags])

            series.append(Series(meta, _utc_index(join(0)), join(1), join(2), join(3)))
        return ParseResult(series, warnings)
