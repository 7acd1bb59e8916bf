"""The SMAP blend: its weight by hand, the held-out weights that never see their own fold."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.run.blend import (
    blend,
    blend_weight,
    held_out_blend,
    smap_blend_record,
    why_no_blend,
)


def test_weight_is_the_least_squares_slope_of_the_departures_from_smap() -> None:
    smap = np.array([0.20, 0.20, 0.30, 0.30])
    pred = np.array([0.30, 0.10, 0.40, 0.20])  # departures +0.1, -0.1, +0.1, -0.1
    obs = np.array([0.25, 0.16, 0.36, 0.26])  # departures +0.05, -0.04, +0.06, -0.04
    station = np.array(["a", "a", "b", "b"], dtype=object)
    # sum(dp * do) / sum(dp^2) = (0.005 + 0.004 + 0.006 + 0.004) / 0.04 = 0.475
    assert blend_weight(pred, obs, smap, station) == pytest.approx(0.475)
    np.testing.assert_allclose(blend(pred, smap, 0.475), smap + 0.475 * (pred - smap))
    # where SMAP is missing the prediction is kept: the blend covers the same rows and cells
    gappy = np.array([0.2, np.nan, 0.3, np.nan])
    np.testing.assert_allclose(blend(pred, gappy, 0.5), [0.25, 0.10, 0.35, 0.20], atol=1e-12)
    assert np.isnan(blend(np.array([np.nan]), np.array([0.2]), 0.5)).all()


def test_weight_is_clipped_to_0_1_and_none_when_it_cannot_be_fitted() -> None:
    smap = np.array([0.2, 0.2, 0.3, 0.3])
    dp = np.array([0.1, -0.1, 0.1, -0.1])
    st = np.array(["a", "a", "b", "b"], dtype=object)
    assert blend_weight(smap + dp, smap + 3 * dp, smap, st) == 1.0  # stations vary more: keep
    assert blend_weight(smap + dp, smap - dp, smap, st) == 0.0  # the model's detail is wrong
    assert blend_weight(smap, smap + dp, smap, st) is None  # the model is SMAP
    assert blend_weight(smap + dp, smap + dp, smap, np.array(["a"] * 4, dtype=object)) is None
    # rows with a missing value are left out; one station left is too few
    obs = np.array([0.25, 0.15, np.nan, np.nan])
    assert blend_weight(smap + dp, obs, smap, st) is None


def test_each_folds_weight_comes_from_the_other_folds_only() -> None:
    rng = np.random.default_rng(0)
    n = 40
    station = np.repeat(np.array(["a", "b", "c", "d"], dtype=object), n // 4)
    smap = rng.uniform(0.1, 0.3, n)
    dp = rng.normal(0, 0.05, n)
    share = np.repeat([0.2, 0.4, 0.6, 0.8], n // 4)  # each station confirms a different share
    obs = smap + share * dp
    pred = smap + dp
    blended, weights = held_out_blend(pred, obs, smap, station, station)
    for s in ("a", "b", "c", "d"):
        other = station != s
        expected = blend_weight(pred[other], obs[other], smap[other], station[other])
        assert weights[s] == pytest.approx(expected)
        own = station == s
        np.testing.assert_allclose(blended[own], smap[own] + expected * dp[own])
    # station a (0.2) is scored with the weight of b, c, d: larger than its own share
    assert weights["a"] > 0.5 > weights["d"]
    # folds of several stations: a fold's weight never sees any of its stations
    folds = np.where(np.isin(station, ["a", "b"]), "fold 1", "fold 2").astype(object)
    _, fold_weights = held_out_blend(pred, obs, smap, station, folds)
    assert fold_weights["fold 1"] == pytest.approx(0.7, abs=0.05)  # from c and d only
    assert fold_weights["fold 2"] == pytest.approx(0.3, abs=0.05)


def test_record_of_station_pairs_and_a_fold_without_a_weight() -> None:
    pairs = pd.DataFrame(
        {
            "station": ["a", "a", "b", "b"],
            "obs": [0.25, 0.16, 0.36, 0.26],
            "smap_9km": [0.2, 0.2, 0.3, 0.3],
            "adapted_cv": [0.3, 0.1, 0.4, 0.2],
        }
    )
    third = pd.DataFrame(
        {"station": ["c", "c"], "obs": [0.3, 0.2], "smap_9km": [0.25] * 2, "adapted_cv": [0.4, 0.1]}
    )
    three = pd.concat([pairs, third], ignore_index=True)
    record, held = smap_blend_record(three, "adapted_cv", three["station"].to_numpy(object))
    assert record is not None and held is not None and record["of"] == "adapted_cv"
    # c: departures +0.15, -0.15 against +0.05, -0.05; with a, b: 0.034 / 0.085 = 0.4
    assert record["weight"] == pytest.approx(0.4)
    assert record["fold_weights"]["c"] == pytest.approx(0.475)  # a and b only
    np.testing.assert_allclose(held[4:], [0.25 + 0.475 * 0.15, 0.25 - 0.475 * 0.15])
    # two stations: each fold's weight would rest on one station, so the blend is not made
    none, nothing = smap_blend_record(pairs, "adapted_cv", pairs["station"].to_numpy(object))
    assert none is None and nothing is None


def test_cli_says_which_of_map_and_blend_to_use_and_why_there_is_none(
    capsys: pytest.CaptureFixture[str], tmp_path: object
) -> None:
    import datetime as dt
    from pathlib import Path
    from types import SimpleNamespace

    from core.commands.mapping.handlers import _print_result

    day = dt.date(2020, 8, 31)
    out = Path(str(tmp_path))
    record = {"weight": 0.46, "recommended": "blend"}
    result = SimpleNamespace(
        simulated=True,
        maps={day: out / "maps/soil_moisture_2020-08-31.tif"},
        reprojected={},
        blended={day: out / "maps/soil_moisture_2020-08-31_smap_blend.tif"},
        blended_reprojected={},
        alpha=0.5,
        alpha_reason="default",
        metrics={
            "smap_blend": {"map": record},
            "maps": {"2020-08-31": {"smap_blend": {"error_vs_truth": {"rmse": 0.042}}}},
        },
        report_html=None,
        report_json=out / "report.json",
        ensemble_dir=None,
        manifest=out / "manifest.json",
        warnings=[],
    )
    _print_result(result)
    text = capsys.readouterr().out
    assert "    blended with SMAP 9 km: " + str(result.blended[day]) in text
    assert "SMAP blend weight 0.46; the blend did better at held-out stations" in text
    assert "map 2020-08-31 blended with SMAP, RMSE against the truth: 0.042 m3/m3" in text
    result.blended = {}
    result.metrics = {"smap_blend": {"map": None, "why_not": "the predictions never depart"}}
    _print_result(result)
    text = capsys.readouterr().out
    assert "no SMAP blend: the predictions never depart" in text
    assert "blended with SMAP 9 km" not in text


def test_why_no_blend_names_the_reason() -> None:
    pairs = pd.DataFrame(
        {
            "station": ["a", "a", "b", "b", "c", "c"],
            "obs": [0.25, 0.16, 0.36, 0.26, 0.3, 0.2],
            "smap_9km": [0.2, 0.2, 0.3, 0.3, np.nan, np.nan],
            "adapted_cv": [0.3, 0.1, 0.4, 0.2, 0.4, 0.1],
            "flat": [0.2, 0.2, 0.3, 0.3, 0.4, 0.1],
        }
    )
    assert why_no_blend(pairs, None).startswith("there are no held-out predictions")
    # station c has no SMAP: two stations are left
    assert why_no_blend(pairs, "adapted_cv").startswith("2 station(s) have held-out")
    pairs.loc[4:, "smap_9km"] = 0.25
    assert why_no_blend(
        pairs.assign(adapted_cv=[0.2, 0.2, 0.3, 0.3, 0.25, 0.25]), "adapted_cv"
    ) == ("the predictions never depart from SMAP")
    halves = np.array(["f1", "f1", "f1", "f1", "f2", "f2"], dtype=object)  # f1 leaves only c
    assert why_no_blend(pairs, "adapted_cv").startswith("some cross-validation fold")
    assert smap_blend_record(pairs, "adapted_cv", halves) == (None, None)
