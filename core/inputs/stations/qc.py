"""Quality control of parsed series: the AOI, depth, date, value-range and flag rules.

:func:`_filter_series` keeps what passes and counts every drop in the read's warnings, so
nothing is dropped silently.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pandas as pd

from .model import MIN_YEAR, Series

if TYPE_CHECKING:  # the AOI module (shapely, pyproj) is only needed when an AOI is given
    from ..aoi import AOI


def _filter_series(
    s: Series,
    aoi: AOI | None,
    accept: frozenset[str],
    max_depth: float,
    warnings: list[str],
    csv_unit_hint: bool,
) -> Series | None:
    """Apply the AOI, depth, range and flag rules to one series; count what is dropped."""
    m = s.meta
    whole = _whole_series_problem(s, aoi, max_depth)
    if whole is not None:
        warnings.append(whole)
        return None
    bad_date = _bad_dates(s, warnings)
    bad_value = ~((s.sm >= 0.0) & (s.sm <= 1.0)) & ~bad_date
    out_of_range = bad_value | bad_date
    _warn_bad_values(s, bad_value, warnings, csv_unit_hint)
    flag_ok = np.isin(s.flag.astype(str), list(accept))
    _warn_bad_flags(s, ~flag_ok & ~out_of_range, accept, warnings)
    keep = flag_ok & ~out_of_range
    if not keep.any():
        return None
    if keep.all():
        return s
    return Series(m, s.time[keep], s.sm[keep], s.flag[keep], s.line[keep])


def _whole_series_problem(s: Series, aoi: AOI | None, max_depth: float) -> str | None:
    """Why the whole series is dropped (no readings, outside the AOI, its depth), or None."""
    m = s.meta
    n = len(s.sm)
    if n == 0:
        return f"{m.source}: {m.label} has no readings"
    if aoi is not None and not _inside(aoi, m.lat, m.lon):
        return (
            f"{m.source}: station {m.network} {m.station} at lat {m.lat:.5f}, lon {m.lon:.5f} "
            f"lies outside the AOI {aoi.name!r}: {n} readings dropped"
        )
    if m.depth_from < 0 or m.depth_to < 0 or m.depth_to < m.depth_from:
        return (
            f"{m.source}: {m.label} has the depths {m.depth_from:g}-{m.depth_to:g} m; depths are "
            f"metres below the surface, from <= to: {n} readings dropped"
        )
    if m.depth_to > max_depth:
        return (
            f"{m.source}: {m.label} measures {m.depth_from:.2f}-{m.depth_to:.2f} m, deeper than "
            f"the 0-5 cm surface layer (not a surface measurement): {n} readings dropped"
        )
    return None


def _bad_dates(s: Series, warnings: list[str]) -> npt.NDArray[np.bool_]:
    """Readings dated before :data:`MIN_YEAR` or in the future (counted in ``warnings``)."""
    m = s.meta
    year = np.asarray(s.time.year)
    bad_date = (year < MIN_YEAR) | np.asarray(s.time > pd.Timestamp.now(tz="UTC"))
    if bad_date.any():
        idx = np.flatnonzero(bad_date)[0]
        warnings.append(
            f"{m.source}: {int(bad_date.sum())} readings of {m.label} dated before {MIN_YEAR} or "
            f"in the future dropped (first at line {int(s.line[idx])}: {s.time[idx]:%Y-%m-%d})"
        )
    return bad_date


def _warn_bad_values(
    s: Series, bad_value: npt.NDArray[np.bool_], warnings: list[str], csv_unit_hint: bool
) -> None:
    """Count the readings outside 0-1 m3/m3 (with a hint about percent for CSV files)."""
    m = s.meta
    if bad_value.any():
        idx = np.flatnonzero(bad_value)[0]
        hint = (
            "; if the values are percent, add a unit column with '%' or pass the unit option %"
            if csv_unit_hint
            else ""
        )
        warnings.append(
            f"{m.source}: {int(bad_value.sum())} readings of {m.label} outside 0-1 m3/m3 "
            f"dropped (first at line {int(s.line[idx])}: {s.sm[idx]:g}){hint}"
        )


def _warn_bad_flags(
    s: Series, bad_flag: npt.NDArray[np.bool_], accept: frozenset[str], warnings: list[str]
) -> None:
    """Count the readings with a flag that is not accepted (the six commonest shown)."""
    m = s.meta
    if bad_flag.any():
        counts = Counter(s.flag[bad_flag].tolist()).most_common()
        shown = ", ".join(f"{f}: {c}" for f, c in counts[:6])
        more = f", {len(counts) - 6} other flags" if len(counts) > 6 else ""
        warnings.append(
            f"{m.source}: {int(bad_flag.sum())} readings of {m.label} with a flag other than "
            f"{'/'.join(sorted(accept))} dropped ({shown}{more})"
        )


def _inside(aoi: AOI, lat: float, lon: float) -> bool:
    import shapely

    from ..grid import lonlat_to_xy

    x, y = lonlat_to_xy(lon, lat)
    return bool(shapely.contains_xy(aoi.geometry, float(x), float(y)))
