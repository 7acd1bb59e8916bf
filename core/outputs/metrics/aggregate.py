"""Evaluation of a pairs table: pooled and per-station metrics in a :class:`MetricsReport`.

:func:`evaluate` computes the metrics over all pairs together (pooled, with analytical or
bootstrap intervals) and per station with the median over stations (bootstrap over stations);
:class:`MetricsReport` holds the result and round-trips through JSON.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ...errors import InputError
from .intervals import _ANALYTIC_CI, _ANALYTIC_CI_NAMES, bootstrap_ci
from .point import (
    METRIC_NAMES,
    MIN_PAIRS_FOR_R,
    FloatArray,
    Metric,
    _check_alpha,
    _pairs,
    bias,
    inversion_rate,
    n,
    pearson_r,
    rmse,
    ubrmse,
)

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd


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
    _check_evaluate_options(df, obs, pred, alpha, ci)
    o_all = np.asarray(df[obs], dtype=np.float64)
    p_all = np.asarray(df[pred], dtype=np.float64)
    o, p = _pairs(o_all, p_all)
    pooled, pooled_ci, ci_method = _pooled_block(o, p, alpha, ci, n_boot, seed)

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
    _add_station_block(report, table, alpha, n_boot, seed)
    return report


def _check_evaluate_options(df: pd.DataFrame, obs: str, pred: str, alpha: float, ci: str) -> None:
    """Raise an :class:`InputError` for a bad option or a missing column of :func:`evaluate`."""
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


def _pooled_block(
    o: FloatArray, p: FloatArray, alpha: float, ci: str, n_boot: int, seed: int
) -> tuple[dict[str, float], dict[str, tuple[float, float]], dict[str, str]]:
    """Pooled metrics of the valid pairs, their intervals and how each interval was computed."""
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
    return pooled, pooled_ci, ci_method


def _add_station_block(
    report: MetricsReport, table: pd.DataFrame, alpha: float, n_boot: int, seed: int
) -> None:
    """Put the per-station table, the medians over stations and their intervals in ``report``."""
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
    report.aggregation["per_station"] = "each station's own pairs only"
    report.aggregation["station_median"] = (
        "median over stations of the per-station metrics (each station counts once); "
        "interval: percentile bootstrap resampling stations"
    )
