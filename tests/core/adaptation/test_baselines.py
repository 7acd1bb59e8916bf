"""Tests of core.adaptation.baselines: RF/XGBoost learn a known relation; LOSO never leaks the station."""

from __future__ import annotations

import numpy as np
import pytest

from core.adaptation import baselines as b
from core.errors import Cancelled, InputError
from core.outputs import metrics as m
from core.progress import CallbackProgress


def _synthetic(
    n_stations: int = 5, per_station: int = 40, n_features: int = 12, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Known relation: soil moisture = 0.05 + 0.3 * x0 + 0.1 * x1 * x2 + small noise."""
    rng = np.random.default_rng(seed)
    n = n_stations * per_station
    x = rng.uniform(0.0, 1.0, size=(n, n_features))
    y = 0.05 + 0.3 * x[:, 0] + 0.1 * x[:, 1] * x[:, 2] + rng.normal(0.0, 0.005, n)
    stations = np.repeat([f"ST{i}" for i in range(n_stations)], per_station)
    return x, y, stations


def test_registry() -> None:
    assert b.list_baselines() == ["random_forest", "xgboost"]
    assert b.BASELINES["xgboost"].label == "XGBoost"
    with pytest.raises(InputError, match="'svm'.*random_forest, xgboost"):
        b.fit_baseline("svm", np.zeros((3, 2)), np.zeros(3))


@pytest.mark.parametrize("name", ["random_forest", "xgboost"])
def test_baselines_learn_a_simple_relation(name: str) -> None:
    x, y, _ = _synthetic(seed=1)
    xt, yt, _ = _synthetic(n_stations=2, seed=2)
    model = b.fit_baseline(name, x, y, seed=0)
    pred = b.predict(model, xt)
    assert pred.shape == yt.shape
    # A constant guess has an RMSE of std(y) (~0.09); the models must do much better.
    assert m.rmse(yt, pred) < 0.45 * np.std(yt)
    assert m.pearson_r(yt, pred) > 0.9
    # Fixed seed -> same model.
    again = b.predict(b.fit_baseline(name, x, y, seed=0), xt)
    np.testing.assert_allclose(pred, again)


def test_fit_baseline_input_checks() -> None:
    x, y, _ = _synthetic(n_stations=1, per_station=10)
    with pytest.raises(InputError, match="10 samples but there are 9 targets"):
        b.fit_baseline("random_forest", x, y[:9])
    with pytest.raises(InputError, match="2-D"):
        b.fit_baseline("random_forest", x[:, 0], y)
    y_nan = y.copy()
    y_nan[3] = np.nan
    with pytest.raises(InputError, match="1 training targets are missing"):
        b.fit_baseline("xgboost", x, y_nan)


def test_loso_never_trains_on_the_held_out_station() -> None:
    x, y, stations = _synthetic(n_stations=4, per_station=5)
    # Shuffle so stations are interleaved, not contiguous blocks.
    order = np.random.default_rng(0).permutation(len(y))
    x, y, stations = x[order], y[order], stations[order]
    calls: list[tuple[np.ndarray, np.ndarray]] = []

    def spy(train: np.ndarray, test: np.ndarray) -> np.ndarray:
        calls.append((train.copy(), test.copy()))
        return 100.0 + test.astype(float)  # encodes the sample index to check alignment

    res = b.leave_one_station_out(x, y, stations, spy)
    assert res.available and res.message == "" and res.n_folds == 4
    assert len(calls) == 4
    seen_test: list[int] = []
    for train, test in calls:
        held_out = set(stations[test])
        assert len(held_out) == 1  # one station per fold
        assert held_out.isdisjoint(set(stations[train]))  # never trained on it
        assert len(train) + len(test) == len(y)
        seen_test.extend(test.tolist())
    assert sorted(seen_test) == list(range(len(y)))  # each sample held out exactly once
    assert res.predictions is not None
    np.testing.assert_array_equal(res.predictions, 100.0 + np.arange(len(y)))


def test_loso_with_one_station_signals_no_held_out_accuracy() -> None:
    x, y, stations = _synthetic(n_stations=1, per_station=8)

    def never(train: np.ndarray, test: np.ndarray) -> np.ndarray:
        raise AssertionError("must not be called with one station")

    res = b.leave_one_station_out(x, y, stations, never)
    assert not res.available
    assert res.predictions is None and res.n_folds == 0
    assert "With one station no held-out accuracy can be computed" in res.message


def test_loso_checks_lengths_and_callback_output() -> None:
    x, y, stations = _synthetic(n_stations=2, per_station=3)
    with pytest.raises(InputError, match="one entry per sample"):
        b.leave_one_station_out(x, y, stations[:-1], lambda tr, te: np.zeros(len(te)))
    with pytest.raises(ValueError, match="returned 1 predictions for 3"):
        b.leave_one_station_out(x, y, stations, lambda tr, te: np.zeros(1))


def test_loso_checks_cancel_between_folds() -> None:
    x, y, stations = _synthetic(n_stations=3, per_station=3)
    folds: list[int] = []

    def fit_predict(train: np.ndarray, test: np.ndarray) -> np.ndarray:
        folds.append(1)
        return np.zeros(len(test))

    progress = CallbackProgress(is_cancelled=lambda: len(folds) >= 1)
    with pytest.raises(Cancelled):
        b.leave_one_station_out(x, y, stations, fit_predict, progress=progress)
    assert len(folds) == 1


def test_loso_baseline_generalises_to_unseen_stations() -> None:
    x, y, stations = _synthetic(n_stations=4, per_station=30, seed=3)
    res = b.loso_baseline("xgboost", x, y, stations, seed=0)
    assert res.predictions is not None
    assert not np.isnan(res.predictions).any()
    assert m.rmse(y, res.predictions) < 0.5 * np.std(y)
    # Overrides reach the estimator; a bad name is refused with the valid ones listed.
    few = b.loso_baseline("random_forest", x, y, stations, params={"n_estimators": 20})
    assert few.predictions is not None and m.pearson_r(y, few.predictions) > 0.8
    with pytest.raises(InputError, match="'n_trees'"):
        b.fit_baseline("random_forest", x, y, params={"n_trees": 5})


def test_baseline_features_add_smap_as_the_last_column() -> None:
    x = np.arange(6.0).reshape(3, 2)
    f = b.baseline_features(x, [0.1, np.nan, 0.3])
    assert f.shape == (3, 3)
    np.testing.assert_array_equal(f[:, :2], x)
    np.testing.assert_array_equal(f[:, 2], [0.1, np.nan, 0.3])
    with pytest.raises(InputError, match="2 SMAP values"):
        b.baseline_features(x, [0.1, 0.2])


@pytest.mark.parametrize("name", ["random_forest", "xgboost"])
def test_smap_feature_helps_where_the_inputs_alone_cannot(name: str) -> None:
    """Soil moisture follows the 9 km SMAP value through time; the other inputs are noise.

    Held out by station, the baseline given SMAP tracks the dates; without it, it cannot.
    """
    rng = np.random.default_rng(3)
    n_st, days = 5, 40
    smap = np.tile(0.1 + 0.25 * rng.random(days), n_st)
    stations = np.repeat([f"ST{i}" for i in range(n_st)], days)
    y = smap - 0.02 + rng.normal(0.0, 0.01, smap.size)
    x = rng.random((smap.size, 6))
    plain = b.loso_baseline(name, x, y, stations, seed=0).predictions
    with_smap = b.loso_baseline(name, b.baseline_features(x, smap), y, stations, seed=0).predictions
    assert plain is not None and with_smap is not None
    assert m.rmse(y, with_smap) < 0.5 * m.rmse(y, plain)
