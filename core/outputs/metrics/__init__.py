"""Validation metrics for matched soil moisture pairs, with confidence intervals.

Metrics
-------
Every metric is a pure function with one signature::

    def metric(obs: ArrayLike, pred: ArrayLike) -> float

``obs`` is the reference (in-situ soil moisture), ``pred`` the estimate, both in m3/m3 and
aligned element by element. Pairs where either value is NaN are dropped, the same way in every
metric, so ``n(obs, pred)`` is always the sample size the other metrics used. A metric that is
undefined for the sample (no pairs; R with fewer than two pairs or a constant series) returns NaN
instead of raising. The definitions follow ``docs/method.md`` section 5 and agree with pytesmo's
pairwise metrics (with the sign convention bias = mean(pred - obs)):

- ``bias``           mean(pred - obs)
- ``rmse``           sqrt(mean((pred - obs)^2))
- ``ubrmse``         sqrt(rmse^2 - bias^2) (the standard deviation of the errors, ddof = 0)
- ``pearson_r``      Pearson correlation coefficient
- ``inversion_rate`` share of predictions inside the physical range 0-0.6 m3/m3
- ``n``              number of valid pairs

Confidence intervals
--------------------
Analytical intervals are named ``<metric>_ci`` and share the signature::

    def metric_ci(obs: ArrayLike, pred: ArrayLike, alpha: float = 0.05) -> tuple[float, float]

returning ``(lower, upper)`` of the two-sided ``1 - alpha`` interval (Gilleland 2010,
doi:10.5065/D6WD3XJM):

- ``bias_ci``      Student t with n - 1 degrees of freedom on the mean error;
- ``rmse_ci``      chi-square with n degrees of freedom on n * MSE / sigma^2;
- ``ubrmse_ci``    chi-square with n - 1 degrees of freedom on n * ubMSE / sigma^2;
- ``pearson_r_ci`` Fisher z transform, standard error 1 / sqrt(n - 3).

They assume independent, normally distributed errors. Daily series of one station are
autocorrelated, so pooled intervals are optimistic; per-station medians carry a bootstrap
interval over stations instead (see :func:`evaluate`). :func:`bootstrap_ci` gives a percentile
bootstrap interval for any metric, e.g. where samples are few or the normal assumptions fail.

Aggregation
-----------
:func:`evaluate` reports the metrics *pooled* over all pairs and *per station* with the median
over stations, and says which number is which: the two differ a lot when stations differ in their
mean (Simpson's paradox: the pooled R is high from between-station contrasts while each station's
own R is low).
"""

from __future__ import annotations

from .aggregate import METRICS as METRICS
from .aggregate import MetricsReport, evaluate
from .intervals import bias_ci, bootstrap_ci, pearson_r_ci, rmse_ci, ubrmse_ci
from .point import (
    METRIC_NAMES,
    MIN_PAIRS_FOR_R,
    PHYSICAL_RANGE,
    VALID_RANGE,
    Metric,
    bias,
    inversion_rate,
    n,
    outside_physical_range,
    pearson_r,
    physical_range_note,
    rmse,
    share_outside_range,
    ubrmse,
)

__all__ = [
    "VALID_RANGE",
    "MIN_PAIRS_FOR_R",
    "METRIC_NAMES",
    "Metric",
    "MetricsReport",
    "bias",
    "rmse",
    "ubrmse",
    "pearson_r",
    "inversion_rate",
    "n",
    "share_outside_range",
    "bias_ci",
    "rmse_ci",
    "ubrmse_ci",
    "pearson_r_ci",
    "bootstrap_ci",
    "evaluate",
    "PHYSICAL_RANGE",
    "outside_physical_range",
    "physical_range_note",
]
