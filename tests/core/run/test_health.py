"""Input health and the 9 km self-check: hand-computed cases, and broken inputs on the demo."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import pytest

from core.features import contract
from core.inputs.aoi import AOI
from core.inputs.sources.demo import DEMO_AOI_BBOX, write_demo_stations
from core.run.health import input_health, norm_statistics, smap_self_check
from tests.conftest import SHARED

D1, D2 = dt.date(2020, 7, 1), dt.date(2020, 8, 1)


def test_norm_statistics_pool_the_members_as_a_mixture() -> None:
    sd1 = {"norm.running_mean": np.r_[np.full(18, 0.2), np.zeros(12)],
           "norm.running_var": np.r_[np.full(18, 0.01), np.ones(12)]}  # fmt: skip
    sd2 = {"norm.running_mean": np.r_[np.full(18, 0.4), np.zeros(12)],
           "norm.running_var": np.r_[np.full(18, 0.03), np.ones(12)]}  # fmt: skip
    mean, sd = norm_statistics({"a": sd1, "b": sd2})
    assert mean.shape == sd.shape == (18,)
    np.testing.assert_allclose(mean, 0.3, atol=1e-7)
    # mean of the variances 0.02 plus variance of the means 0.01
    np.testing.assert_allclose(sd, math.sqrt(0.03), atol=1e-7)


def test_input_health_z_scores_by_hand() -> None:
    lay = contract.PUBLISHED_LAYOUT
    mu, sd = np.full(18, 0.5), np.full(18, 0.1)
    x1 = np.full((4, 156), 0.5)
    x2 = np.full((2, 156), 0.5)
    x2[:, 17] = 0.85  # precipitation mean 3.5 sd above on the second date only
    x1[:, 0] = 0.72  # VV 2.2 sd above on the first date
    h = input_health(lay, mu, sd, {D1: x1, D2: x2}, min_cells_per_date=2)
    by = {e["name"]: e for e in h["inputs"]}
    assert [e["name"] for e in h["inputs"]] == list(lay.input_names)
    assert by["sand"]["z"] == pytest.approx(0.0) and by["sand"]["status"] == "ok"
    # pooled over the 6 cells: (4 * 0.5 + 2 * 0.85) / 6 = 0.61667 -> z 1.1667
    assert by["tp_mean"]["z"] == pytest.approx(7 / 6, abs=1e-6)
    assert by["tp_mean"]["z_by_date"] == {"2020-07-01": pytest.approx(0.0),
                                          "2020-08-01": pytest.approx(3.5)}  # fmt: skip
    assert by["tp_mean"]["status"] == "bad"  # a single date far out is enough
    assert by["vv"]["status"] == "caution"
    assert h["status"] == "bad"
    # physical units: precipitation back in real m/day (the layout's x 10 undone)
    assert by["tp_mean"]["training_mean"] == pytest.approx(0.5 * 0.3 / 10)
    assert by["vv"]["run_mean"] == pytest.approx((4 * 0.72 + 2 * 0.5) / 6 * 35 - 30)
    text = " ".join(h["warnings"])
    assert "precipitation, one-year mean is 3.5 sd above" in text and "ERA5" in text
    assert "VV backscatter" in text and len(h["warnings"]) == 2


def test_dates_with_few_cells_count_only_in_the_pooled_z() -> None:
    lay = contract.PUBLISHED_LAYOUT
    mu, sd = np.full(18, 0.5), np.full(18, 0.1)
    many = np.full((40, 156), 0.5)
    one = np.full((1, 156), 0.5)
    one[0, 8] = 1.0  # a single station cell's aspect, 5 sd out
    h = input_health(lay, mu, sd, {D1: many, D2: one})
    by = {e["name"]: e for e in h["inputs"]}
    assert list(by["aspect_sin"]["z_by_date"]) == ["2020-07-01"]
    assert by["aspect_sin"]["z"] == pytest.approx(5 / 41)
    assert h["status"] == "ok" and h["warnings"] == []


def test_input_health_without_cells_is_unavailable() -> None:
    h = input_health(contract.PUBLISHED_LAYOUT, np.zeros(18), np.ones(18), {D1: np.zeros((0, 156))})
    assert h["status"] == "unavailable" and h["inputs"] == []


def test_smap_self_check_by_hand() -> None:
    y = np.array([0.10, 0.20, 0.30, 0.40])
    ok = smap_self_check(y + np.array([0.02, -0.02, 0.02, -0.02]), y)
    assert ok["status"] == "ok" and ok["rmse"] == pytest.approx(0.02)
    assert ok["bias"] == pytest.approx(0.0, abs=1e-12) and ok["n"] == 4
    caution = smap_self_check(y + 0.1, y)
    assert caution["status"] == "caution" and caution["bias"] == pytest.approx(0.1)
    assert caution["ubrmse"] == pytest.approx(0.0, abs=1e-6) and caution["r"] == pytest.approx(1)
    bad = smap_self_check(y[::-1] + 0.1, y)
    assert bad["status"] == "bad" and "probably not prepared" in bad["message"]
    assert smap_self_check([np.nan, 0.1], [0.2, np.nan])["status"] == "unavailable"


def test_published_layout_brings_real_inputs_closer_to_the_weights(
    published: dict,
) -> None:
    """Real Earth Engine-prepared inputs (Thai Binh): the declared layout fits the weights better."""
    import pandas as pd

    path = SHARED / "data" / "real_inputs" / "eov_thaibinh_raw_samples.csv"
    if not path.exists():
        pytest.skip("real inputs not found")
    table = pd.read_csv(path)
    a = table[[str(i) for i in range(153)]].to_numpy(float)
    raw = a.copy()  # first 15 raw; series normalised with the contract's ranges: undo that
    raw[:, 15:] = contract.denormalise(np.c_[np.zeros((len(a), 15)), a[:, 15:]])[:, 15:]
    mu, sd = norm_statistics(published)
    mean_abs_z = {}
    for lay in (contract.AUTHORS_50M, contract.DENSESM_9KM):
        x = lay.model_inputs(raw)
        mean_abs_z[lay.name] = float(np.abs((x[:, :18] - mu) / sd).mean())
        h = input_health(lay, mu, sd, {D1: x})
        if lay is contract.AUTHORS_50M:  # elevation and slope read as 2,750 m and 21 degrees
            by = {e["name"]: e for e in h["inputs"]}
            assert by["elevation"]["status"] == "bad" and by["slope"]["status"] == "bad"
    assert mean_abs_z["densesm_9km"] < 0.7 * mean_abs_z["authors_50m"]


# -- on the demo: green as prepared, red when an input is broken ---------------------------------


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ...]:
    return tuple(write_demo_stations(tmp_path_factory.mktemp("stations"), seed=0))


def _run(files: tuple[Path, ...], out: Path, pretrained_dir: Path) -> dict:
    from core.model.store import install
    from core.run.adapt_map import run_adapt_map
    from core.run.config import AdaptMapConfig

    install(pretrained_dir)
    cfg = AdaptMapConfig(
        aoi=AOI.from_bbox(*DEMO_AOI_BBOX, name="demo"),
        stations=files,
        dates=(dt.date(2020, 8, 31),),
        out_dir=out,
        source="demo",
        method="pretrained",  # the default training period: the year before the map date
        max_target_cells=3000,
        cross_validate=False,
    )
    result = run_adapt_map(cfg)
    manifest = json.loads(result.manifest.read_text())
    report = json.loads(result.report_json.read_text())
    assert report["input_checks"] == json.loads(json.dumps(manifest["input_checks"]))
    assert "Checks of the inputs" in result.report_html.read_text()
    assert manifest["input_layout"] == "densesm_9km"
    return manifest["input_checks"]


def test_demo_inputs_are_healthy(
    demo_files: tuple[Path, ...], tmp_path: Path, pretrained_dir: Path
) -> None:
    checks = _run(demo_files, tmp_path / "out", pretrained_dir)
    health, self_check = checks["input_health"], checks["smap_self_check"]
    bad = [e["label"] for e in health["inputs"] if e["status"] == "bad"]
    assert bad == [], health["warnings"]
    assert self_check["status"] == "ok", self_check["message"]
    assert self_check["n"] > 0


@pytest.mark.parametrize("broken", ["precipitation x 10", "day of year and soil swapped"])
def test_broken_inputs_turn_the_checks_red(
    broken: str,
    demo_files: tuple[Path, ...],
    tmp_path: Path,
    pretrained_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    good = contract.DENSESM_9KM
    if broken == "precipitation x 10":
        bad = dataclasses.replace(good, precipitation_scale=10 * good.precipitation_scale)
    else:  # the authors' 50 m order fed to weights trained on the 9 km order
        bad = dataclasses.replace(good, snapshot=contract.AUTHORS_50M.snapshot,
                                  ranges=contract.AUTHORS_50M.ranges)  # fmt: skip
    monkeypatch.setattr(contract, "LAYOUTS", {**contract.LAYOUTS, good.name: bad})
    checks = _run(demo_files, tmp_path / "out", pretrained_dir)
    health, self_check = checks["input_health"], checks["smap_self_check"]
    assert health["status"] == "bad"
    by = {e["name"]: e for e in health["inputs"]}
    if broken == "precipitation x 10":
        # the input health names it; the network is not sensitive enough to precipitation for
        # the 9 km error to show it (0.067 -> 0.072 on the demo), so the self-check may stay ok
        assert by["tp_mean"]["status"] == "bad" and by["tp_mean"]["z"] > 3
        assert "precipitation" in " ".join(health["warnings"])
    else:
        assert by["elevation"]["status"] == "bad" and by["slope"]["status"] == "bad"
        assert self_check["status"] == "bad", self_check["message"]


def test_model_sets_declare_their_layout(pretrained_dir: Path, tmp_path: Path) -> None:
    from core.model.ensemble import Ensemble, declared_layout
    from core.model.store import install, load_model_set, save_model_set

    installed = install(pretrained_dir)
    assert installed.provenance["input_layout"] == "densesm_9km"
    ens = Ensemble.load(installed.name)
    assert ens.input_layout is contract.DENSESM_9KM
    # an adapted set carries its base's layout
    saved = ens.save(tmp_path / "adapted", provenance={"method": "msda"})
    assert Ensemble.load(saved.path).input_layout is contract.DENSESM_9KM
    # sets saved before layouts were declared: the published weights keep theirs, others
    # were made from inputs in the raw (authors' 50 m) order
    states = ens.state_dicts()
    old = save_model_set(tmp_path / "old", states, kind="adapted", provenance={"method": "ms"})
    assert declared_layout(load_model_set(old.path)) == "authors_50m"
    legacy = load_model_set(installed.name)
    legacy.provenance.pop("input_layout")
    assert declared_layout(legacy) == "densesm_9km"


def test_mapping_with_a_saved_set_checks_inputs_against_its_own_statistics(
    pretrained_dir: Path, tmp_path: Path
) -> None:
    from core.model.store import install
    from core.run.map_ensemble import run_map_with_ensemble

    installed = install(pretrained_dir)
    res = run_map_with_ensemble(
        installed.path,
        AOI.from_bbox(*DEMO_AOI_BBOX, name="demo"),
        [dt.date(2020, 8, 31)],
        tmp_path / "map",
        source="demo",
    )
    manifest = json.loads((res.out_dir / "manifest.json").read_text())
    assert manifest["input_layout"] == "densesm_9km"
    health = manifest["input_checks"]["input_health"]
    assert "trained on" in health["statistics_of"]
    assert [e["name"] for e in health["inputs"]] == list(contract.DENSESM_9KM.input_names)
    assert list(health["inputs"][0]["z_by_date"]) == ["2020-08-31"]
