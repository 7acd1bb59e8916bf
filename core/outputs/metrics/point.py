"""Point metrics of matched soil moisture pairs and the physical-range checks.

Every metric here has the signature ``metric(obs, pred) -> float`` and drops NaN pairs the same
way (:func:`_pairs`), so ``n(obs, pred)`` is always the sample size the others used. The
physical-range helpers flag values of a map or a prediction that no soil can hold.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ...errors import InputError

#: Physical validity range of volumetric soil moisture in m3/m3 (inclusive).
VALID_RANGE: tuple[float, float] = (0.0, 0.6)

#: Fewer valid pairs than this give a NaN correlation in :func:`evaluate`.
MIN_PAIRS_FOR_R = 3

#: The error/agreement metrics reported per station and pooled, in display order.
METRIC_NAMES: tuple[str, ...] = ("bias", "rmse", "ubrmse", "r")

Metric = Callable[[ArrayLike, ArrayLike], float]
FloatArray = NDArray[np.float64]


# --------------------------------------------------------------------------------------- pairs
def _pairs(obs: ArrayLike, pred: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Return ``obs`` and ``pred`` as flat float arrays with NaN pairs removed.

    Raises:
        InputError: if the two inputs do not have the same number of values.

    """
    o = np.asarray(obs, dtype=np.float64).ravel()
    p = np.asarray(pred, dtype=np.float64).ravel()
    if o.shape != p.shape:
        raise InputError(
            f"Observed and predicted values must be paired one to one, but there are {o.size} "
            f"observed and {p.size} predicted values. Match them by station and date first."
        )
    keep = np.isfinite(o) & np.isfinite(p)
    return o[keep], p[keep]


def _check_alpha(alpha: float) -> None:
    if not 0.0 < alpha < 1.0:
        raise InputError(
            f"The confidence level alpha must lie strictly between 0 and 1 (e.g. 0.05 for a 95 % "
            f"interval), got {alpha!r}."
        )


# ------------------------------------------------------------------------------------- metrics
def n(obs: ArrayLike, pred: ArrayLike) -> float:
    """Count the valid (non-NaN) pairs.

    Args:
        obs: Reference values.
        pred: Estimated values, aligned with ``obs``.

    Returns:
        The count as a float (for the common metric signature).

    """
    o, _ = _pairs(obs, pred)
    return float(o.size)


def bias(obs: ArrayLike, pred: ArrayLike) -> float:
    """Mean error, ``mean(pred - obs)``: positive when the estimate is too wet.

    Args:
        obs: Reference values.
        pred: Estimated values, aligned with ``obs``.

    Returns:
        The bias in the unit of the inputs, NaN without valid pairs.

    """
    o, p = _pairs(obs, pred)
    return float(np.mean(p - o)) if o.size else math.nan


def rmse(obs: ArrayLike, pred: ArrayLike) -> float:
    """Root mean square error, ``sqrt(mean((pred - obs)^2))``.

    Args:
        obs: Reference values.
        pred: Estimated values, aligned with ``obs``.

    Returns:
        The RMSE, NaN without valid pairs.

    """
    o, p = _pairs(obs, pred)
    return float(np.sqrt(np.mean((p - o) ** 2))) if o.size else math.nan


def ubrmse(obs: ArrayLike, pred: ArrayLike) -> float:
    """Unbiased RMSE, ``sqrt(rmse^2 - bias^2)``: the RMSE left once the bias is removed.

    Computed as the (population, ddof = 0) standard deviation of the errors, which is the same
    quantity without the cancellation of subtracting two nearly equal squares.

    Args:
        obs: Reference values.
        pred: Estimated values, aligned with ``obs``.

    Returns:
        The ubRMSE, NaN without valid pairs.

    """
    o, p = _pairs(obs, pred)
    return float(np.std(p - o)) if o.size else math.nan


def pearson_r(obs: ArrayLike, pred: ArrayLike) -> float:
    """Pearson correlation coefficient between ``obs`` and ``pred``.

    Args:
        obs: Reference values.
        pred: Estimated values, aligned with ``obs``.

    Returns:
        R in [-1, 1]; NaN with fewer than two pairs or when either series is constant.

    """
    o, p = _pairs(obs, pred)
    if o.size < 2 or np.ptp(o) == 0.0 or np.ptp(p) == 0.0:
        return math.nan
    do = o - o.mean()
    dp = p - p.mean()
    denom = math.sqrt(float(np.dot(do, do)) * float(np.dot(dp, dp)))
    if denom == 0.0:
        return math.nan
    return float(np.clip(np.dot(do, dp) / denom, -1.0, 1.0))


def inversion_rate(obs: ArrayLike, pred: ArrayLike) -> float:
    """Share of predictions inside the physical range :data:`VALID_RANGE` (0-0.6 m3/m3).

    Only valid pairs count, as in every other metric; for a whole map (no observations) use
    :func:`share_outside_range`.

    Args:
        obs: Reference values (only used to select the valid pairs).
        pred: Estimated values, aligned with ``obs``.

    Returns:
        A fraction in [0, 1], NaN without valid pairs.

    """
    _, p = _pairs(obs, pred)
    if not p.size:
        return math.nan
    lo, hi = VALID_RANGE
    return float(np.mean((p >= lo) & (p <= hi)))


def share_outside_range(values: ArrayLike) -> float:
    """Share of finite values outside :data:`VALID_RANGE`, e.g. over the cells of a map.

    Args:
        values: Soil moisture values in m3/m3 of any shape; NaN (no data) cells are ignored.

    Returns:
        A fraction in [0, 1], NaN when no value is finite.

    """
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    if not v.size:
        return math.nan
    lo, hi = VALID_RANGE
    return float(np.mean((v < lo) | (v > hi)))


#: Predictions outside this range (m3/m3) are physically implausible: a broken or modified
#: model, inputs outside the training domain, or a unit mix-up. They are flagged, never written
#: silently (the genuine members on in-range inputs reach about -0.15 at the extremes).
PHYSICAL_RANGE: tuple[float, float] = (-0.05, 0.8)


def outside_physical_range(values: ArrayLike) -> NDArray[np.bool_]:
    """Mask of finite values outside :data:`PHYSICAL_RANGE` (NaN cells are not flagged)."""
    v = np.asarray(values, dtype=np.float64)
    lo, hi = PHYSICAL_RANGE
    return np.isfinite(v) & ((v < lo) | (v > hi))


def physical_range_note(values: ArrayLike, what: str) -> str | None:
    """One sentence about the values of ``what`` outside :data:`PHYSICAL_RANGE`, or None."""
    v = np.asarray(values, dtype=np.float64)
    bad = outside_physical_range(v)
    count = int(bad.sum())
    if not count:
        return None
    finite = int(np.isfinite(v).sum())
    lo, hi = PHYSICAL_RANGE
    worst = v[bad]
    return (
        f"{what}: {count:,} of {finite:,} values lie outside the physical range {lo:g}..{hi:g} "
        f"m3/m3 (from {float(worst.min()):.3g} to {float(worst.max()):.3g}); check the model "
        "set (`soilmoisture models list`) and the inputs before using them."
    )
