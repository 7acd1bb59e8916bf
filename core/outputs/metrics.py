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

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import InputError

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd

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


# -------------------------------------------------------------------- confidence intervals
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


def _pearson_r_min(obs: ArrayLike, pred: ArrayLike) -> float:
    """Pearson R, NaN below :data:`MIN_PAIRS_FOR_R` valid pairs."""
    return pearson_r(obs, pred) if n(obs, pred) >= MIN_PAIRS_FOR_R else math.nan


#: The metrics of a report by name (the same names as the columns of the station table).
METRICS: dict[str, Metric] = {
    "bias": bias,
    "rmse": rmse,
    "ubrmse": ubrmse,
    "r": _pearson_r_min,
}


# ------------------------------------------------------------------------------- evaluation
def _nan_to_none(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _none_to_nan(value: Any) -> float:
    return math.nan if value is None else float(value)


@dataclass
class MetricsReport:
    """The accuracy of one method against in-situ data, pooled and per station.

    Attributes:
        pooled: Metrics over all valid pairs of all stations together: ``n``, ``bias``,
            ``rmse``, ``ubrmse``, ``r`` and ``inversion_rate``.
        pooled_ci: ``(lower, upper)`` of ``bias``, ``rmse``, ``ubrmse`` and ``r`` pooled.
        per_station: One row per station (index = station id) with columns ``n``, ``bias``,
            ``rmse``, ``ubrmse``, ``r``; ``None`` when there was no station column.
        station_median: Median over stations of ``bias``, ``rmse``, ``ubrmse`` and ``r``
            (stations where a metric is NaN are left out of its median), plus ``n_stations``;
            ``None`` without a station column.
        station_median_ci: Percentile bootstrap interval (resampling stations) of each median;
            ``None`` without a station column.
        aggregation: What each block means, in words, for the report's readers.
        ci_method: How each pooled interval was computed.
        alpha: Two-sided significance level of all intervals.

    """

    pooled: dict[str, float]
    pooled_ci: dict[str, tuple[float, float]]
    per_station: pd.DataFrame | None = None
    station_median: dict[str, float] | None = None
    station_median_ci: dict[str, tuple[float, float]] | None = None
    aggregation: dict[str, str] = field(default_factory=dict)
    ci_method: dict[str, str] = field(default_factory=dict)
    alpha: float = 0.05

    @property
    def n_stations(self) -> int:
        """Number of stations in the per-station table (0 without a station column)."""
        return 0 if self.per_station is None else int(len(self.per_station))

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dictionary (NaN becomes ``None``, station ids strings)."""

        def ci(d: Mapping[str, tuple[float, float]] | None) -> dict[str, list[float | None]] | None:
            if d is None:
                return None
            return {k: [_nan_to_none(v[0]), _nan_to_none(v[1])] for k, v in d.items()}

        per_station: dict[str, dict[str, float | None]] | None = None
        if self.per_station is not None:
            per_station = {
                str(station): {
                    col: (int(row[col]) if col == "n" else _nan_to_none(float(row[col])))
                    for col in self.per_station.columns
                }
                for station, row in self.per_station.iterrows()
            }
        median: dict[str, float | None] | None = None
        if self.station_median is not None:
            median = {k: _nan_to_none(v) for k, v in self.station_median.items()}
        pooled: dict[str, float | None] = {
            k: (int(v) if k == "n" else _nan_to_none(v)) for k, v in self.pooled.items()
        }
        return {
            "alpha": float(self.alpha),
            "aggregation": dict(self.aggregation),
            "ci_method": dict(self.ci_method),
            "pooled": pooled,
            "pooled_ci": ci(self.pooled_ci),
            "n_stations": self.n_stations,
            "station_median": median,
            "station_median_ci": ci(self.station_median_ci),
            "per_station": per_station,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MetricsReport:
        """Rebuild a report from :meth:`to_dict` output (e.g. read back from JSON).

        Args:
            data: The dictionary written by :meth:`to_dict`.

        Returns:
            An equivalent report (station ids come back as strings).

        """
        import pandas as pd

        def ci(d: Mapping[str, Any] | None) -> dict[str, tuple[float, float]] | None:
            if d is None:
                return None
            return {k: (_none_to_nan(v[0]), _none_to_nan(v[1])) for k, v in d.items()}

        per_station = None
        if data.get("per_station") is not None:
            rows = data["per_station"]
            per_station = pd.DataFrame(
                {col: [_none_to_nan(rows[s][col]) for s in rows] for col in ("n", *METRIC_NAMES)},
                index=pd.Index(list(rows), name="station"),
            )
            per_station["n"] = per_station["n"].astype(int)
        median = data.get("station_median")
        return cls(
            pooled={k: _none_to_nan(v) for k, v in data["pooled"].items()},
            pooled_ci=ci(data["pooled_ci"]) or {},
            per_station=per_station,
            station_median=None
            if median is None
            else {k: _none_to_nan(v) for k, v in median.items()},
            station_median_ci=ci(data.get("station_median_ci")),
            aggregation=dict(data.get("aggregation", {})),
            ci_method=dict(data.get("ci_method", {})),
            alpha=float(data.get("alpha", 0.05)),
        )


def _station_table(o: FloatArray, p: FloatArray, s: NDArray[Any]) -> pd.DataFrame:
    import pandas as pd

    stations = pd.unique(s)
    rows = []
    for station in stations:
        sel = s == station
        oo, pp = o[sel], p[sel]
        row: dict[str, float] = {"n": n(oo, pp)}
        for name, metric in METRICS.items():
            row[name] = metric(oo, pp)
        rows.append(row)
    table = pd.DataFrame(
        rows, index=pd.Index(stations, name="station"), columns=["n", *METRIC_NAMES]
    )
    table["n"] = table["n"].astype(int)
    return table


def _median_ci(values: FloatArray, alpha: float, n_boot: int, seed: int) -> tuple[float, float]:
    """Percentile bootstrap interval of the median of ``values`` (NaN skipped)."""
    v = values[np.isfinite(values)]
    if v.size < 2:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    medians = np.median(v[rng.integers(0, v.size, size=(n_boot, v.size))], axis=1)
    lower, upper = np.percentile(medians, [100.0 * alpha / 2.0, 100.0 * (1.0 - alpha / 2.0)])
    return float(lower), float(upper)


def evaluate(
    df: pd.DataFrame,
    obs: str = "obs",
    pred: str = "pred",
    station: str = "station",
    *,
    alpha: float = 0.05,
    ci: str = "analytic",
    n_boot: int = 1000,
    seed: int = 0,
) -> MetricsReport:
    """Evaluate predictions against observations, pooled and per station.

    Rows with a NaN observation or prediction are dropped first. Stations keep the order of
    their first appearance; a station without any valid pair stays in the table with ``n = 0``
    and NaN metrics, and stations with fewer than :data:`MIN_PAIRS_FOR_R` pairs get a NaN R.

    Args:
        df: Table of matched pairs.
        obs: Column of the in-situ observations.
        pred: Column of the predictions.
        station: Column of the station ids; when absent from ``df`` only pooled metrics are
            computed.
        alpha: Two-sided significance level of the intervals.
        ci: ``"analytic"`` (t, chi-square, Fisher z) or ``"bootstrap"`` (percentile bootstrap
            of the pairs) for the pooled intervals. The station-median intervals are always
            a bootstrap over stations.
        n_boot: Bootstrap resamples.
        seed: Seed of every bootstrap (results are reproducible).

    Returns:
        The :class:`MetricsReport`.

    Raises:
        InputError: if a column is missing or an option is invalid.

    """
    _check_alpha(alpha)
    if ci not in ("analytic", "bootstrap"):
        raise InputError(
            f"Unknown confidence interval method {ci!r}; use 'analytic' or 'bootstrap'."
        )
    missing = [c for c in (obs, pred) if c not in df.columns]
    if missing:
        raise InputError(
            f"The pairs table has no column {missing[0]!r}; its columns are "
            f"{', '.join(map(str, df.columns))}. Name the observed and predicted columns."
        )
    o_all = np.asarray(df[obs], dtype=np.float64)
    p_all = np.asarray(df[pred], dtype=np.float64)
    o, p = _pairs(o_all, p_all)

    pooled: dict[str, float] = {"n": float(o.size)}
    for name, metric in METRICS.items():
        pooled[name] = metric(o, p)
    pooled["inversion_rate"] = inversion_rate(o, p)

    if ci == "analytic":
        pooled_ci = {name: _ANALYTIC_CI[name](o, p, alpha) for name in METRIC_NAMES}
        ci_method = dict(_ANALYTIC_CI_NAMES)
    else:
        pooled_ci = {
            name: bootstrap_ci(METRICS[name], o, p, n_boot=n_boot, seed=seed, alpha=alpha)
            for name in METRIC_NAMES
        }
        ci_method = {name: f"percentile bootstrap of pairs ({n_boot})" for name in METRIC_NAMES}

    aggregation = {
        "pooled": "all valid pairs of all stations together, as one sample",
    }
    report = MetricsReport(
        pooled=pooled,
        pooled_ci=pooled_ci,
        aggregation=aggregation,
        ci_method=ci_method,
        alpha=alpha,
    )
    if station not in df.columns:
        aggregation["station_median"] = "not computed: the pairs carry no station column"
        return report

    # Stations without any valid pair still get a row (n = 0).
    table = _station_table(o_all, p_all, np.asarray(df[station]))
    median: dict[str, float] = {}
    median_ci: dict[str, tuple[float, float]] = {}
    for i, name in enumerate(METRIC_NAMES):
        col = table[name].to_numpy(dtype=np.float64)
        finite = col[np.isfinite(col)]
        median[name] = float(np.median(finite)) if finite.size else math.nan
        median_ci[name] = _median_ci(col, alpha, n_boot, seed + i)
    median["n_stations"] = float(len(table))
    report.per_station = table
    report.station_median = median
    report.station_median_ci = median_ci
    aggregation["per_station"] = "each station's own pairs only"
    aggregation["station_median"] = (
        "median over stations of the per-station metrics (each station counts once); "
        "interval: percentile bootstrap resampling stations"
    )
    return report
