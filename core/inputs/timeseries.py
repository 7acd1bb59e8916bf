"""The time logic of the input contract, in NumPy, outside Earth Engine.

Sources fetch raw daily or per-composite stacks; this module turns them into what the contract
(``docs/input-contract.md`` section 2 and 5) asks for:

- :func:`ndvi_window`: the 46 MODIS composites (Terra + Aqua merged, sorted by date) dated
  strictly inside the 365 days before the SAR date, padded by repeating the oldest.
- :func:`era5_window`: 368 consecutive days starting at the date of the first NDVI composite of
  that window, averaged in blocks of 8 days -> 46 values; precipitation clipped at 0.
- :func:`combine_am_pm` and :func:`interpolate_to_date`: the SMAP daily series (AM reference, PM
  shifted by the AM-PM bias, both averaged) linearly interpolated to the SAR date(s).

NaN handling (the same everywhere): NaN means "missing" and is never silently turned into a
number. Block means average the valid days only and are NaN where a block has none; the SMAP
bias is computed from days where both AM and PM are valid; interpolation uses, per pixel, the
nearest valid day on each side of the target and gives NaN when either side is missing (or
farther than ``max_gap_days``). Array arguments carry time on axis 0; the trailing axes (pixels)
are arbitrary and broadcast through unchanged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ..errors import InputError

N_STEPS = 46
"""Length of every series of the contract (NDVI, temperature, precipitation)."""
NDVI_WINDOW_DAYS = 365
"""NDVI composites are taken strictly inside this many days before the SAR date."""
ERA5_DAYS = 368
"""Consecutive ERA5-Land days of the weather window (46 blocks of 8)."""
ERA5_BLOCK_DAYS = 8
"""Days per weather block."""

FloatArray = npt.NDArray[np.floating]


@dataclass(frozen=True)
class NdviWindow:
    """Which composites make up the 46-step NDVI series for one SAR date.

    Attributes:
        indices: 46 indices into the *input* list of composite dates, oldest first; the first
            ``padded`` entries repeat the oldest composite.
        dates: the 46 composite dates, in the same order (padded steps repeat the oldest date).
        padded: how many of the oldest steps are padding (0 when 46 composites arrived).
        start: date of the first (oldest) composite of the window: the ERA5 window starts here.

    """

    indices: tuple[int, ...]
    dates: tuple[dt.date, ...]
    padded: int
    start: dt.date

    @property
    def unique_indices(self) -> tuple[int, ...]:
        """The distinct input indices, oldest first (what actually has to be fetched)."""
        return tuple(dict.fromkeys(self.indices))


def ndvi_window(composite_dates: Sequence[dt.date], sar_date: dt.date) -> NdviWindow:
    """Pick the 46 NDVI composites for a SAR date.

    The Terra (MOD13Q1) and Aqua (MYD13Q1) dates are merged and sorted; the composites dated
    strictly inside the 365 days before the SAR date (``sar - 365 d < d < sar``) are kept. If
    more than 46 qualify (duplicated dates), the 46 most recent are kept; if fewer, the oldest is
    repeated at the start until there are 46, and ``padded`` records how many.

    Args:
        composite_dates: dates (``system:time_start``) of the available composites, any order;
            the returned indices refer to this sequence.
        sar_date: the Sentinel-1 acquisition date.

    Returns:
        The selection, oldest first.

    Raises:
        InputError: when no composite lies inside the window.

    """
    lo = sar_date - dt.timedelta(days=NDVI_WINDOW_DAYS)
    inside = [(d, i) for i, d in enumerate(composite_dates) if lo < d < sar_date]
    if not inside:
        raise InputError(
            f"no MODIS NDVI composite between {lo.isoformat()} and {sar_date.isoformat()}; "
            "pick a SAR date with a year of MODIS data before it"
        )
    inside.sort()
    inside = inside[-N_STEPS:]
    padded = N_STEPS - len(inside)
    chosen = [inside[0]] * padded + inside
    return NdviWindow(
        indices=tuple(i for _, i in chosen),
        dates=tuple(d for d, _ in chosen),
        padded=padded,
        start=inside[0][0],
    )


def stack_ndvi(composites: FloatArray, window: NdviWindow) -> npt.NDArray[np.float32]:
    """Arrange fetched composites into the 46-step series.

    Args:
        composites: ``(N, ...)`` array, one slice per entry of the date list given to
            :func:`ndvi_window` (NaN = missing pixel).
        window: the selection from :func:`ndvi_window`.

    Returns:
        ``(46, ...)`` float32 array, oldest first.

    """
    a = np.asarray(composites, dtype=np.float32)
    return np.ascontiguousarray(a[list(window.indices)])


def era5_days(start: dt.date) -> list[dt.date]:
    """Return the 368 consecutive UTC days of the weather window beginning at ``start``."""
    return [start + dt.timedelta(days=k) for k in range(ERA5_DAYS)]


def era5_window(
    daily: FloatArray, days: Sequence[dt.date], start: dt.date
) -> tuple[npt.NDArray[np.float32], int]:
    """Eight-day means of a daily series over the 368-day weather window.

    Days of the window absent from ``days`` count as missing (NaN). Each block of 8 days is the
    mean of its valid days; a block without any valid day is NaN.

    Args:
        daily: ``(D, ...)`` daily values (temperature in K, or precipitation in m/day, already
            clipped with :func:`clip_precipitation`).
        days: the D dates of ``daily`` (any order, no duplicates).
        start: first day of the window (date of the first NDVI composite).

    Returns:
        ``(46, ...)`` float32 block means and the number of window days that were missing.

    Raises:
        InputError: if ``daily`` and ``days`` disagree in length or ``days`` has duplicates.

    """
    a = np.asarray(daily, dtype=np.float64)
    if a.shape[0] != len(days):
        raise InputError(f"{a.shape[0]} daily values but {len(days)} dates")
    if len(set(days)) != len(days):
        raise InputError("the daily dates contain duplicates")
    window = np.full((ERA5_DAYS, *a.shape[1:]), np.nan)
    missing = 0
    position = {d: k for k, d in enumerate(days)}
    for k, day in enumerate(era5_days(start)):
        j = position.get(day)
        if j is None:
            missing += 1
        else:
            window[k] = a[j]
    blocks = window.reshape(N_STEPS, ERA5_BLOCK_DAYS, *a.shape[1:])
    valid = ~np.isnan(blocks)
    count = valid.sum(axis=1)
    total = np.where(valid, blocks, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return means.astype(np.float32), missing


def clip_precipitation(daily: FloatArray) -> npt.NDArray[np.float32]:
    """Clip ERA5-Land's small negative precipitation totals (numerical noise) to 0; NaN stays."""
    a = np.asarray(daily, dtype=np.float32)
    return np.where(a < 0, np.float32(0.0), a)


def mask_smap(values: FloatArray, qc: FloatArray | None = None) -> npt.NDArray[np.float64]:
    """Mask SMAP soil moisture: QC flag 1 (fail) or a value outside [0, 1] becomes NaN.

    Args:
        values: soil moisture, m3/m3.
        qc: Earth Engine's retrieval quality flag, 0 = pass, 1 = fail (NaN = unknown = fail).

    Returns:
        float64 array with NaN where masked.

    """
    v = np.asarray(values, dtype=np.float64)
    bad = ~((v >= 0.0) & (v <= 1.0))
    if qc is not None:
        q = np.asarray(qc, dtype=np.float64)
        bad |= q != 0
    return np.where(bad, np.nan, v)


def combine_am_pm(
    am: FloatArray,
    pm: FloatArray,
    qc_am: FloatArray | None = None,
    qc_pm: FloatArray | None = None,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Daily SMAP series: AM as reference, PM shifted by the AM-PM bias, then averaged.

    Per pixel, ``bias = mean(am - pm)`` over the days where both are valid (after QC and range
    masking). The daily value is ``(am + (pm + bias)) / 2`` where both exist, ``am`` or
    ``pm + bias`` where only one does, NaN where neither does. Where no day has both (bias
    unknown) the PM values cannot be aligned and are not used: only AM counts.

    Args:
        am: ``(D, ...)`` ``soil_moisture_am``.
        pm: ``(D, ...)`` ``soil_moisture_pm``.
        qc_am: ``retrieval_qual_flag_am`` (0 pass / 1 fail), or None to skip QC masking.
        qc_pm: ``retrieval_qual_flag_pm``.

    Returns:
        The daily series ``(D, ...)`` and the per-pixel bias ``(...)`` (NaN where unknown).

    Raises:
        InputError: when AM and PM shapes differ.

    """
    a = mask_smap(am, qc_am)
    p = mask_smap(pm, qc_pm)
    if a.shape != p.shape:
        raise InputError(f"SMAP AM {a.shape} and PM {p.shape} shapes differ")
    both = ~np.isnan(a) & ~np.isnan(p)
    n = both.sum(axis=0)
    diff = np.where(both, a - p, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        bias = np.where(n > 0, diff / np.maximum(n, 1), np.nan)
    p_adj = p + bias  # NaN wherever the bias is unknown
    stacked = np.stack([a, p_adj])
    valid = ~np.isnan(stacked)
    cnt = valid.sum(axis=0)
    tot = np.where(valid, stacked, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        daily = np.where(cnt > 0, tot / np.maximum(cnt, 1), np.nan)
    return daily, bias


def interpolate_to_dates(
    series: FloatArray,
    days: Sequence[dt.date],
    targets: Sequence[dt.date],
    max_gap_days: int | None = None,
) -> npt.NDArray[np.float32]:
    """Linearly interpolate a daily series to several dates, pixel by pixel.

    For each pixel and target, the nearest valid day on or before and on or after the target
    are used (the same day if valid on the target itself). NaN when either is missing, or when
    they are more than ``max_gap_days`` apart.

    Args:
        series: ``(D, ...)`` values (NaN = missing).
        days: the D dates of ``series`` (strictly increasing).
        targets: the dates to interpolate to.
        max_gap_days: largest allowed distance between the two bracketing days (None: any).

    Returns:
        ``(len(targets), ...)`` float32 array.

    Raises:
        InputError: if the dates are not strictly increasing or do not match ``series``.

    """
    s = np.asarray(series, dtype=np.float64)
    if s.shape[0] != len(days):
        raise InputError(f"{s.shape[0]} daily values but {len(days)} dates")
    x = np.array([d.toordinal() for d in days], dtype=np.int64)
    if x.size and np.any(np.diff(x) <= 0):
        raise InputError("the dates of a daily series must be strictly increasing")
    flat = s.reshape(s.shape[0], -1)
    valid = ~np.isnan(flat)
    idx = np.arange(x.size)[:, None]
    out = np.full((len(targets), flat.shape[1]), np.nan)
    cols = np.arange(flat.shape[1])
    for k, target in enumerate(targets):
        t = target.toordinal()
        before = np.where(valid & (x[:, None] <= t), idx, -1).max(axis=0, initial=-1)
        after = np.where(valid & (x[:, None] >= t), idx, x.size).min(axis=0, initial=x.size)
        ok = (before >= 0) & (after < x.size)
        if not ok.any():
            continue
        b, a = before[ok], after[ok]
        xb, xa = x[b], x[a]
        vb, va = flat[b, cols[ok]], flat[a, cols[ok]]
        span = (xa - xb).astype(np.float64)
        w = np.where(span > 0, (t - xb) / np.where(span > 0, span, 1.0), 0.0)
        value = vb + w * (va - vb)
        if max_gap_days is not None:
            value = np.where(span <= max_gap_days, value, np.nan)
        out[k, ok] = value
    return out.reshape(len(targets), *s.shape[1:]).astype(np.float32)


def interpolate_to_date(
    series: FloatArray,
    days: Sequence[dt.date],
    target: dt.date,
    max_gap_days: int | None = None,
) -> npt.NDArray[np.float32]:
    """Linearly interpolate a daily series to one date (see :func:`interpolate_to_dates`).

    Returns:
        ``(...)`` float32 array (the trailing axes of ``series``).

    """
    return interpolate_to_dates(series, days, [target], max_gap_days)[0]
