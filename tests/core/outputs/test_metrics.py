"""Tests of core.outputs.metrics: hand-computed values, scipy agreement, CI coverage, aggregation."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from core.errors import InputError
from core.outputs import metrics as m

# A tiny case worked by hand:
#   obs  = 0.10, 0.20, 0.30        pred = 0.12, 0.18, 0.33
#   d = pred - obs = 0.02, -0.02, 0.03
#   bias   = 0.03 / 3                             = 0.01
#   MSE    = (0.0004 + 0.0004 + 0.0009) / 3       = 0.0017 / 3
#   RMSE   = sqrt(0.000566667)                    = 0.0238048
#   ubRMSE = sqrt(0.000566667 - 0.0001)           = sqrt(0.000466667) = 0.0216025
#   R: obs - mean = -0.1, 0, 0.1 ; pred - mean(0.21) = -0.09, -0.03, 0.12
#      sum of products 0.009 + 0 + 0.012 = 0.021 ; ss_obs 0.02 ; ss_pred 0.0234
#      R = 0.021 / sqrt(0.02 * 0.0234) = 0.970725
#   bias CI: d - mean = 0.01, -0.03, 0.02 ; s^2 = 0.0014 / 2 = 0.0007
#      half width = t(0.975, 2) * sqrt(0.0007) / sqrt(3) = 4.302653 * 0.0264575 / 1.7320508
OBS = [0.1, 0.2, 0.3]
PRED = [0.12, 0.18, 0.33]


def test_hand_computed_values() -> None:
    assert m.n(OBS, PRED) == 3
    assert m.bias(OBS, PRED) == pytest.approx(0.01, abs=1e-12)
    assert m.rmse(OBS, PRED) == pytest.approx(math.sqrt(0.0017 / 3), rel=1e-9)
    assert m.rmse(OBS, PRED) == pytest.approx(0.0238048, abs=1e-7)
    assert m.ubrmse(OBS, PRED) == pytest.approx(0.0216025, abs=1e-7)
    assert m.pearson_r(OBS, PRED) == pytest.approx(0.970725, abs=1e-6)
    assert m.inversion_rate(OBS, PRED) == 1.0


def test_bias_sign_is_pred_minus_obs() -> None:
    assert m.bias([0.2, 0.2], [0.3, 0.3]) == pytest.approx(0.1)  # too wet -> positive


def test_hand_computed_bias_ci() -> None:
    lo, hi = m.bias_ci(OBS, PRED)
    half = 4.302653 * math.sqrt(0.0007) / math.sqrt(3)
    assert lo == pytest.approx(0.01 - half, abs=1e-6)
    assert hi == pytest.approx(0.01 + half, abs=1e-6)


def test_rmse_and_ubrmse_ci_degrees_of_freedom() -> None:
    # RMSE: n * MSE / sigma^2 ~ chi2(n); ubRMSE: n * ubMSE / sigma^2 ~ chi2(n - 1).
    lo, hi = m.rmse_ci(OBS, PRED)
    assert lo == pytest.approx(math.sqrt(0.0017 / stats.chi2.ppf(0.975, 3)), rel=1e-9)
    assert hi == pytest.approx(math.sqrt(0.0017 / stats.chi2.ppf(0.025, 3)), rel=1e-9)
    lo, hi = m.ubrmse_ci(OBS, PRED)
    assert lo == pytest.approx(math.sqrt(0.0014 / stats.chi2.ppf(0.975, 2)), rel=1e-9)
    assert hi == pytest.approx(math.sqrt(0.0014 / stats.chi2.ppf(0.025, 2)), rel=1e-9)
    assert lo < m.ubrmse(OBS, PRED) < hi


def test_pearson_r_ci_fisher_z() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=50)
    y = x + rng.normal(size=50)
    r = m.pearson_r(x, y)
    half = stats.norm.ppf(0.975) / math.sqrt(47)
    lo, hi = m.pearson_r_ci(x, y)
    assert lo == pytest.approx(math.tanh(math.atanh(r) - half))
    assert hi == pytest.approx(math.tanh(math.atanh(r) + half))
    assert m.pearson_r_ci(x[:3], y[:3]) == (pytest.approx(math.nan, nan_ok=True),) * 2


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pearson_r_agrees_with_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.05, 0.45, size=40)
    y = 0.7 * x + rng.normal(0, 0.05, size=40)
    assert m.pearson_r(x, y) == pytest.approx(stats.pearsonr(x, y)[0], abs=1e-12)


def test_nan_pairs_dropped_consistently() -> None:
    obs = [0.1, np.nan, 0.2, 0.3, 0.25]
    pred = [0.12, 0.2, 0.18, 0.33, np.nan]
    assert m.n(obs, pred) == 3
    for metric in (m.bias, m.rmse, m.ubrmse, m.pearson_r, m.inversion_rate):
        assert metric(obs, pred) == pytest.approx(metric(OBS, PRED), abs=1e-12)
    assert m.bias_ci(obs, pred) == pytest.approx(m.bias_ci(OBS, PRED))


def test_undefined_cases_give_nan_not_errors() -> None:
    assert math.isnan(m.bias([], []))
    assert math.isnan(m.rmse([np.nan], [0.1]))
    assert math.isnan(m.pearson_r([0.1], [0.2]))
    assert math.isnan(m.pearson_r([0.1, 0.1, 0.1], [0.1, 0.2, 0.3]))  # constant obs
    assert all(math.isnan(v) for v in m.bias_ci([0.1], [0.2]))


def test_mismatched_lengths_and_bad_alpha_raise() -> None:
    with pytest.raises(InputError, match="3 observed and 2 predicted"):
        m.bias([0.1, 0.2, 0.3], [0.1, 0.2])
    with pytest.raises(InputError, match="alpha"):
        m.bias_ci(OBS, PRED, alpha=1.5)


def test_inversion_rate_and_share_outside() -> None:
    obs = [0.1, 0.2, 0.3, 0.4]
    pred = [-0.01, 0.0, 0.6, 0.61]
    assert m.inversion_rate(obs, pred) == pytest.approx(0.5)
    assert m.share_outside_range(np.array([[-0.01, 0.0], [0.6, np.nan]])) == pytest.approx(1 / 3)


def test_ci_coverage_seeded_simulation() -> None:
    """About 95 % of 95 % intervals cover the true value (400 draws, loose tolerance)."""
    rng = np.random.default_rng(42)
    true_bias, sigma, size, draws = 0.02, 0.05, 30, 400
    hits = {"bias": 0, "rmse": 0, "ubrmse": 0, "r": 0}
    rho = 0.6
    for _ in range(draws):
        obs = rng.uniform(0.1, 0.4, size)
        err = rng.normal(true_bias, sigma, size)
        lo, hi = m.bias_ci(obs, obs + err)
        hits["bias"] += lo <= true_bias <= hi
        lo, hi = m.ubrmse_ci(obs, obs + err)
        hits["ubrmse"] += lo <= sigma <= hi
        zero_mean = rng.normal(0.0, sigma, size)
        lo, hi = m.rmse_ci(obs, obs + zero_mean)
        hits["rmse"] += lo <= sigma <= hi
        a = rng.normal(size=size)
        b = rho * a + math.sqrt(1 - rho**2) * rng.normal(size=size)
        lo, hi = m.pearson_r_ci(a, b)
        hits["r"] += lo <= rho <= hi
    for name, count in hits.items():
        assert 0.91 <= count / draws <= 0.985, (name, count)


def test_bootstrap_ci_seeded_and_close_to_analytic() -> None:
    rng = np.random.default_rng(3)
    obs = rng.uniform(0.1, 0.4, 200)
    pred = obs + rng.normal(0.01, 0.04, 200)
    a = m.bootstrap_ci(m.bias, obs, pred, n_boot=500, seed=7)
    assert a == m.bootstrap_ci(m.bias, obs, pred, n_boot=500, seed=7)
    assert a != m.bootstrap_ci(m.bias, obs, pred, n_boot=500, seed=8)
    lo, hi = m.bias_ci(obs, pred)
    assert a[0] < m.bias(obs, pred) < a[1]
    assert a[0] == pytest.approx(lo, abs=0.003) and a[1] == pytest.approx(hi, abs=0.003)
    rlo, rhi = m.bootstrap_ci(m.rmse, obs, pred, n_boot=300)
    assert rlo < m.rmse(obs, pred) < rhi


def _simpson_pairs(rng: np.random.Generator) -> pd.DataFrame:
    """Five stations whose means differ; within a station prediction and truth are unrelated."""
    frames = []
    for i, level in enumerate([0.08, 0.15, 0.22, 0.29, 0.36]):
        obs = level + rng.normal(0, 0.01, 60)
        pred = level + 0.01 + rng.normal(0, 0.01, 60)
        frames.append(pd.DataFrame({"station": f"S{i}", "obs": obs, "pred": pred}))
    return pd.concat(frames, ignore_index=True)


def test_simpsons_paradox_both_aggregations_reported() -> None:
    df = _simpson_pairs(np.random.default_rng(5))
    rep = m.evaluate(df)
    assert rep.pooled["r"] > 0.95
    assert rep.station_median is not None and rep.per_station is not None
    assert abs(rep.station_median["r"]) < 0.35
    assert (rep.per_station["r"].abs() < 0.4).all()
    assert "pooled" in rep.aggregation and "station_median" in rep.aggregation
    assert rep.pooled["bias"] == pytest.approx(0.01, abs=0.003)


def test_evaluate_tables_and_small_stations() -> None:
    df = pd.DataFrame(
        {
            "station": ["A", "A", "A", "A", "B", "B", "C"],
            "obs": [0.1, 0.2, 0.3, np.nan, 0.2, 0.25, 0.3],
            "pred": [0.12, 0.18, 0.33, 0.2, 0.22, 0.24, np.nan],
        }
    )
    rep = m.evaluate(df)
    t = rep.per_station
    assert t is not None
    assert list(t.index) == ["A", "B", "C"]
    assert list(t.columns) == ["n", "bias", "rmse", "ubrmse", "r"]
    assert t.loc["A", "n"] == 3 and t.loc["B", "n"] == 2 and t.loc["C", "n"] == 0
    assert t.loc["A", "rmse"] == pytest.approx(0.0238048, abs=1e-7)
    assert t.loc["A", "r"] == pytest.approx(0.970725, abs=1e-6)
    assert math.isnan(t.loc["B", "r"])  # fewer than 3 pairs
    assert math.isnan(t.loc["C", "bias"])
    assert rep.pooled["n"] == 5
    assert rep.station_median is not None
    # Median over the stations with a value (A and B): mean of the two.
    assert rep.station_median["bias"] == pytest.approx((0.01 + 0.005) / 2)
    assert rep.station_median["r"] == pytest.approx(0.970725, abs=1e-6)
    assert rep.n_stations == 3


def test_evaluate_without_station_column_is_pooled_only() -> None:
    df = pd.DataFrame({"insitu": OBS, "model": PRED})
    rep = m.evaluate(df, obs="insitu", pred="model")
    assert rep.per_station is None and rep.station_median is None
    assert rep.pooled["rmse"] == pytest.approx(0.0238048, abs=1e-7)
    assert rep.pooled_ci["bias"] == pytest.approx(m.bias_ci(OBS, PRED))
    assert "no station column" in rep.aggregation["station_median"]
    with pytest.raises(InputError, match="'nope'"):
        m.evaluate(df, obs="nope", pred="model")


def test_evaluate_bootstrap_option() -> None:
    df = _simpson_pairs(np.random.default_rng(6))
    rep = m.evaluate(df, ci="bootstrap", n_boot=200)
    lo, hi = rep.pooled_ci["rmse"]
    assert lo < rep.pooled["rmse"] < hi
    assert "bootstrap" in rep.ci_method["rmse"]
    with pytest.raises(InputError, match="'jackknife'"):
        m.evaluate(df, ci="jackknife")


def test_to_dict_is_json_and_round_trips() -> None:
    df = pd.DataFrame(
        {
            "station": [1, 1, 1, 2, 2],
            "obs": [0.1, 0.2, 0.3, 0.2, 0.25],
            "pred": [0.12, 0.18, 0.33, 0.22, 0.24],
        }
    )
    rep = m.evaluate(df)
    d = rep.to_dict()
    text = json.dumps(d, allow_nan=False)  # NaN must have become null
    back = json.loads(text)
    assert back == d
    assert back["per_station"]["2"]["r"] is None
    assert back["pooled"]["n"] == 5
    again = m.MetricsReport.from_dict(back)
    assert again.to_dict() == d
    assert again.pooled["rmse"] == pytest.approx(rep.pooled["rmse"])
