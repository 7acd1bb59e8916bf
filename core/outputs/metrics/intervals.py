"""Confidence intervals of the point metrics: analytical (t, chi-square, Fisher z) and bootstrap.

Each analytical interval ``<metric>_ci(obs, pred, alpha)`` returns ``(lower, upper)`` of the
two-sided ``1 - alpha`` interval under independent, normal errors; :func:`bootstrap_ci` gives a
percentile bootstrap interval of any metric by resampling pairs.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from ...errors import InputError
from .point import Metric, _check_alpha, _pairs, n, pearson_r


def bias_ci(obs: ArrayLike, pred: ArrayLike, alpha: float = 0.05) -> tuple[float, float]:
    """Confidence interval of the bias: Student t on the mean error, n - 1 degrees of freedom.

    Args:
        obs: Reference values.
        pred: Estimated values, aligned with ``obs``.
        alpha: Two-sided significance level (0.05 gives a 95 % interval).

    Returns:
        ``(lower, upper)``; NaNs with fewer than two pairs.

    Raises:
        InputError: if ``alpha`` is not in (0, 1).

    """
    from scipy import stats

    _check_alpha(alpha)
    o, p = _pairs(obs, pred)
    if o.size < 2:
        return math.nan, math.nan
    d = p - o
    half = float(stats.t.ppf(1.0 - alpha / 2.0, o.size - 1)) * float(np.std(d, ddof=1))
    half /= math.sqrt(o.size)
    m = float(np.mean(d))
    return m - half, m + half


def rmse_ci(obs: ArrayLike, pred: ArrayLike, alpha: float = 0.05) -> tuple[float, float]:
    """Confidence interval of the RMSE: ``n * MSE / sigma^2`` is chi-square with n dof.

    Args:
        obs: Reference values.
        pred: Estimated values, aligned with ``obs``.
        alpha: Two-sided significance level (0.05 gives a 95 % interval).

    Returns:
        ``(lower, upper)``; NaNs without valid pairs.

    Raises:
        InputError: if ``alpha`` is not in (0, 1).

    """
    from scipy import stats

    _check_alpha(alpha)
    o, p = _pairs(obs, pred)
    k = o.size
    if k < 1:
        return math.nan, math.nan
    ss = float(np.sum((p - o) ** 2))  # n * MSE
    lower = math.sqrt(ss / float(stats.chi2.ppf(1.0 - alpha / 2.0, k)))
    upper = math.sqrt(ss / float(stats.chi2.ppf(alpha / 2.0, k)))
    return lower, upper


def ubrmse_ci(obs: ArrayLike, pred: ArrayLike, alpha: float = 0.05) -> tuple[float, float]:
    """Confidence interval of the ubRMSE: ``n * ubMSE / sigma^2`` is chi-square with n - 1 dof.

    One degree of freedom is spent on the estimated mean error (the bias).

    Args:
        obs: Reference values.
        pred: Estimated values, aligned with ``obs``.
        alpha: Two-sided significance level (0.05 gives a 95 % interval).

    Returns:
        ``(lower, upper)``; NaNs with fewer than two pairs.

    Raises:
        InputError: if ``alpha`` is not in (0, 1).

    """
    from scipy import stats

    _check_alpha(alpha)
    o, p = _pairs(obs, pred)
    k = o.size
    if k < 2:
        return math.nan, math.nan
    d = p - o
    ss = float(np.sum((d - d.mean()) ** 2))  # n * ubMSE
    lower = math.sqrt(ss / float(stats.chi2.ppf(1.0 - alpha / 2.0, k - 1)))
    upper = math.sqrt(ss / float(stats.chi2.ppf(alpha / 2.0, k - 1)))
    return lower, upper


def pearson_r_ci(obs: ArrayLike, pred: ArrayLike, alpha: float = 0.05) -> tuple[float, float]:
    """Confidence interval of Pearson's R with the Fisher z transform.

    ``z = atanh(R)`` is about normal with standard error ``1 / sqrt(n - 3)``; the interval is
    built on z and transformed back with ``tanh``.

    Args:
        obs: Reference values.
        pred: Estimated values, aligned with ``obs``.
        alpha: Two-sided significance level (0.05 gives a 95 % interval).

    Returns:
        ``(lower, upper)``; NaNs with fewer than four pairs or an undefined R, and ``(R, R)``
        when R is exactly +-1.

    Raises:
        InputError: if ``alpha`` is not in (0, 1).

    """
    from scipy import stats

    _check_alpha(alpha)
    r = pearson_r(obs, pred)
    k = int(n(obs, pred))
    if k < 4 or math.isnan(r):
        return math.nan, math.nan
    if abs(r) >= 1.0:
        return r, r
    z = math.atanh(r)
    half = float(stats.norm.ppf(1.0 - alpha / 2.0)) / math.sqrt(k - 3)
    return math.tanh(z - half), math.tanh(z + half)


def bootstrap_ci(
    metric: Metric,
    obs: ArrayLike,
    pred: ArrayLike,
    n_boot: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of any metric, resampling pairs.

    Valid pairs are resampled with replacement ``n_boot`` times; the interval is the
    ``alpha / 2`` and ``1 - alpha / 2`` percentiles of the metric over the resamples (resamples
    where the metric is undefined, e.g. a constant series for R, are skipped).

    Args:
        metric: A function ``metric(obs, pred) -> float`` of this module (or alike).
        obs: Reference values.
        pred: Estimated values, aligned with ``obs``.
        n_boot: Number of bootstrap resamples.
        seed: Seed of the random generator (same seed, same interval).
        alpha: Two-sided significance level (0.05 gives a 95 % interval).

    Returns:
        ``(lower, upper)``; NaNs with fewer than two pairs or no defined resample.

    Raises:
        InputError: if ``alpha`` is not in (0, 1) or ``n_boot`` is below 1.

    """
    _check_alpha(alpha)
    if n_boot < 1:
        raise InputError(f"The number of bootstrap resamples must be at least 1, got {n_boot!r}.")
    o, p = _pairs(obs, pred)
    if o.size < 2:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, o.size, size=(n_boot, o.size))
    values = np.array([metric(o[i], p[i]) for i in idx], dtype=np.float64)
    values = values[np.isfinite(values)]
    if not values.size:
        return math.nan, math.nan
    lower, upper = np.percentile(values, [100.0 * alpha / 2.0, 100.0 * (1.0 - alpha / 2.0)])
    return float(lower), float(upper)


_ANALYTIC_CI: dict[str, Callable[[ArrayLike, ArrayLike, float], tuple[float, float]]] = {
    "bias": bias_ci,
    "rmse": rmse_ci,
    "ubrmse": ubrmse_ci,
    "r": pearson_r_ci,
}

_ANALYTIC_CI_NAMES: dict[str, str] = {
    "bias": "Student t (n - 1 dof)",
    "rmse": "chi-square (n dof)",
    "ubrmse": "chi-square (n - 1 dof)",
    "r": "Fisher z",
}
