from __future__ import annotations

import dataclasses
import datetime as dt
import json
from html import unescape
from pathlib import Path

import numpy as np
import pytest

from core.errors import Cancelled, InputError, NoDataError
from core.inputs.aoi import AOI
from core.inputs.grid import GridWindow
from core.inputs.sources import get_source
from core.inputs.sources.demo import (
    DEMO_AOI_BBOX,
    acquisition_dates,
    demo_window9,
    write_demo_stations,
)
from core.progress import CallbackProgress
from core.run.adapt_map import run_adapt_map
from core.run.config import DEFAULT_EPOCH_STEPS, AdaptMapConfig, choose_alpha
from core.run.dates import nearest_dates
from core.run.provenance import scene_sha256
from core.run.scenes import subscene

MAP_DATE = dt.date(2020, 8, 31)  # a demo acquisition


@pytest.fixture(scope="module")
def demo_stations(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ...]:
    return tuple(write_demo_stations(tmp_path_factory.mktemp("stations"), seed=0))


@pytest.fixture(scope="module")
def demo_aoi() -> AOI:
    return AOI.from_bbox(*DEMO_AOI_BBOX, name="demo")


@pytest.fixture()
def installed(pretrained_dir: Path) -> str:
    from core.model.store import install

    return install(pretrained_dir).name


def _config(aoi: AOI, files: tuple[Path, ...], out: Path, **kw: object) -> AdaptMapConfig:
    base: dict[str, object] = dict(
        aoi=aoi,
        stations=files,
        dates=(MAP_DATE,),
        out_dir=out,
        source="demo",
        epochs=1,
        min_epoch_steps=1,
        train_start=dt.date(2020, 6, 1),
        max_target_cells=5000,
    )
    base.update(kw)
    return AdaptMapConfig(**base)  # type: ignore[arg-type]


# -- configuration ------------------------------------------------------------------------
def test_config_normalises_and_defaults(demo_aoi: AOI, demo_stations: tuple[Path, ...]) -> None:
    cfg = AdaptMapConfig(
        aoi=demo_aoi,
        stations=[str(p) for p in demo_stations],  # type: ignore[arg-type]
        dates=["2020-08-31", dt.date(2020, 8, 19), "2020-08-31"],  # type: ignore[arg-type]
        out_dir="out",  # type: ignore[arg-type]
    )
    assert cfg.dates == (dt.date(2020, 8, 19), dt.date(2020, 8, 31))
    assert all(isinstance(p, Path) for p in cfg.stations)
    assert cfg.out_dir == Path("out")
    assert cfg.training_period == (dt.date(2019, 8, 20), dt.date(2020, 8, 19))
    assert cfg.epochs == 50 and cfg.min_epoch_steps == DEFAULT_EPOCH_STEPS
    assert cfg.steps_per_epoch(100) == DEFAULT_EPOCH_STEPS  # few samples: more than one pass
    assert cfg.steps_per_epoch(128 * 9 + 1) == 10  # many: one pass
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.method = "ms"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"method": "magic"}, "unknown method 'magic'"),
        ({"alpha": 1.5}, "alpha must be a number from 0 to 1"),
        ({"device": "tpu"}, "device must be"),
        ({"epochs": 0}, "epochs must be a whole number"),
        ({"dates": ()}, "no map date"),
        ({"dates": ("2020-31-01",)}, "is not a date"),
        ({"stations": ()}, "no station files"),
        ({"stations": (Path("/nonexistent/file.stm"),)}, "does not exist"),
        ({"source": "nowhere"}, "unknown data source 'nowhere'"),
        ({"reproject_crs": "EPSG:999999"}, "unknown coordinate reference system"),
        ({"train_start": dt.date(2020, 9, 1), "train_end": dt.date(2020, 1, 1)}, "after train end"),
        ({"cv_folds": 1}, "cv_folds must be at least 2"),
        ({"batchnorm": "frozen"}, "unknown BatchNorm mode 'frozen'"),
    ],
)
def test_config_rejects_bad_values(
    demo_aoi: AOI, demo_stations: tuple[Path, ...], tmp_path: Path, change: dict, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        _config(demo_aoi, demo_stations, tmp_path, **change)


def test_too_large_aoi_is_refused() -> None:
    with pytest.raises(InputError, match="too large"):
        AOI.from_bbox(-98.5, 36.0, -97.5, 37.0)  # about 90 x 110 km


def test_choose_alpha_follows_the_papers() -> None:
    assert choose_alpha(None, 5, "msda")[0] == 0.5
    assert "5 or fewer" in choose_alpha(None, 5, "msda")[1]
    assert choose_alpha(None, 6, "msda")[0] == 0.7
    assert choose_alpha(None, 1, "ms")[0] == 0.5
    assert choose_alpha(0.3, 2, "msda") == (0.3, "alpha = 0.3 set by the user")
    assert choose_alpha(None, 3, "finetune")[0] == 1.0
    assert choose_alpha(0.3, 3, "da")[0] == 1.0
    assert choose_alpha(None, 3, "pretrained")[0] is None


def test_nearest_dates() -> None:
    avail = [dt.date(2020, 1, d) for d in (4, 16, 28)]
    assert nearest_dates(avail, dt.date(2020, 1, 10)) == [dt.date(2020, 1, 4), dt.date(2020, 1, 16)]


def test_subscene_is_the_matching_part_of_the_scene() -> None:
    from core.features.build import map_inputs_50m

    src = get_source("demo")
    scene = src.scene(demo_window9(), MAP_DATE)
    w = scene.window9
    tile = GridWindow("9km", w.row0 + 1, w.col0, 1, 2)
    sub = subscene(scene, tile)
    assert sub.vv.shape == (180, 360) and sub.ndvi.shape == (46, 36, 72)
    np.testing.assert_array_equal(sub.vv, scene.vv[180:, :])
    np.testing.assert_array_equal(sub.smap, scene.smap[1:, :])
    # inputs computed on the tile equal those of the same cells of the whole scene
    mask = np.zeros(scene.vv.shape, dtype=bool)
    mask[200:210, 100:110] = True
    whole = map_inputs_50m(scene, mask)
    part = map_inputs_50m(sub, mask[180:, :])
    np.testing.assert_allclose(part.inputs(), whole.inputs())
    assert scene_sha256(scene) == scene_sha256(src.scene(demo_window9(), MAP_DATE))
    assert scene_sha256(scene) != scene_sha256(src.scene(demo_window9(), acquisition_dates()[0]))


def test_consistency_cells_are_grouped_by_date_and_9km_cell_with_smaps_value() -> None:
    """Cells of a 9 km cell carry that cell's SMAP value; a cell without SMAP, or with inputs
    for less than half of its drawn cells, gives no group."""
    import dataclasses

    from core.run.samples import _Groups

    scene = get_source("demo").scene(demo_window9(), MAP_DATE)
    window50 = scene.window9.to_level("50m")
    smap = np.array(scene.smap, dtype=np.float64)
    assert smap.shape == (2, 2) and np.isfinite(smap).all()
    groups = _Groups(per_date=2000, seed=0, layout=None)
    groups.draw(scene, window50)
    smap[0, 1] = np.nan  # no SMAP over the north-east cell
    vv = np.array(scene.vv, dtype=np.float64)
    vv[180:, :120] = np.nan  # two thirds of the south-west cell without Sentinel-1
    later = dataclasses.replace(scene, smap=smap, vv=vv)
    groups.draw(later, window50)
    cset = groups.result()
    assert cset is not None
    first = sorted(np.array(scene.smap, dtype=np.float32).ravel().tolist())
    second = sorted([smap[0, 0], smap[1, 1]])
    assert sorted(cset.smap[:4].tolist()) == pytest.approx(first)
    assert sorted(cset.smap[4:].tolist()) == pytest.approx(sorted(second))
    counts = np.bincount(cset.group)
    assert counts[:4].sum() > 1800 and (counts > 300).all()  # ~500 cells per 9 km cell
    # the grid inputs (9 km row and column) are one 9 km cell's within a group, another's in the next
    where = [cset.x[cset.group == g][:, 10:13] for g in range(4)]
    assert all(np.ptp(w, axis=0).max() < 1e-6 for w in where)
    assert len({tuple(np.round(w[0], 6)) for w in where}) == 4
    checked = cset.checked()
    assert checked.n_groups == 6 and checked.x.shape == (counts.sum(), 156)


# -- failures before any training -----------------------------------------------------------
def test_date_without_sentinel1_names_the_nearest_dates(
    demo_aoi: AOI, demo_stations: tuple[Path, ...], tmp_path: Path, installed: str
) -> None:
    cfg = _config(demo_aoi, demo_stations, tmp_path / "out", dates=(dt.date(2020, 9, 2),))
    with pytest.raises(NoDataError) as err:
        run_adapt_map(cfg)
    text = str(err.value)
    assert "2020-09-02" in text and "2020-08-31" in text and "2020-09-12" in text
    assert not list(tmp_path.rglob("*.tif"))


def test_finetune_with_fewer_than_three_stations_is_refused_before_any_work(
    demo_stations: tuple[Path, ...], tmp_path: Path, installed: str
) -> None:
    two = tuple(p for p in demo_stations if "Valley" in p.name or "Irrigated" in p.name)
    assert len(two) == 2
    with pytest.raises(InputError, match="finetune .* at least 3 stations .* has 2"):
        run_adapt_map(
            _config(AOI.from_bbox(*DEMO_AOI_BBOX), two, tmp_path / "out", method="finetune")
        )
    assert not list((tmp_path / "out").rglob("*.tif"))
    messages: list[str] = []
    # msda with the same two stations goes on past the check (stopped at the first scene)
    with pytest.raises(Cancelled):
        run_adapt_map(
            _config(AOI.from_bbox(*DEMO_AOI_BBOX), two, tmp_path / "msda"),
            CallbackProgress(on_message=_cancel_at("Training inputs", messages)),
        )


def _cancel_at(prefix: str, messages: list[str]):  # type: ignore[no-untyped-def]
    def on_message(text: str) -> None:
        messages.append(text)
        if text.startswith(prefix):
            raise Cancelled()

    return on_message


def test_no_station_inside_the_aoi(
    demo_stations: tuple[Path, ...], tmp_path: Path, installed: str
) -> None:
    elsewhere = AOI.from_bbox(-97.40, 36.59, -97.35, 36.62, name="east")
    with pytest.raises(InputError, match="no station lies inside the AOI 'east'.*DEMO-SIMULATED"):
        run_adapt_map(_config(elsewhere, demo_stations, tmp_path / "out"))
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").rglob("*.tif"))


def test_validate_raster_against_stations(demo_stations: tuple[Path, ...], tmp_path: Path) -> None:
    from core.outputs.raster_io import reproject_geotiff, write_sm_geotiff
    from core.run.raster_check import validate_raster

    src = get_source("demo")
    scene = src.scene(demo_window9(), MAP_DATE)
    assert scene.truth is not None
    w50 = demo_window9().to_level("50m")
    tif = write_sm_geotiff(
        tmp_path / "truth.tif", scene.truth, np.zeros_like(scene.truth), w50, date=MAP_DATE, tags={}
    )
    res = validate_raster(tif, demo_stations, tmp_path / "val")
    assert res.date == MAP_DATE
    assert len(res.pairs) == 5
    # the stations read the truth plus sensor noise (0.02 m3/m3): a small error, not zero
    assert 0.0 < res.metrics.pooled["rmse"] < 0.06
    assert (tmp_path / "val" / "validation.json").exists()
    assert res.charts["scatter"].exists()
    # a reprojected copy validates the same way (sampling in any CRS)
    utm = reproject_geotiff(tif, tmp_path / "truth_utm.tif", "EPSG:32614")
    res2 = validate_raster(utm, demo_stations)
    assert len(res2.pairs) == 5
    assert abs(res2.metrics.pooled["rmse"] - res.metrics.pooled["rmse"]) < 0.02
    # a date the stations do not cover
    with pytest.raises(InputError, match="no station has a reading"):
        validate_raster(tif, demo_stations, date=dt.date(2021, 6, 1))


# -- end-to-end runs on the demo source -------------------------------------------------------
# three 1 x 1 km squares around the Valley, Irrigated and Upland-East stations: ~1,200 cells
STATION_SITES = ((-97.48055, 36.66711), (-97.45047, 36.64861), (-97.42298, 36.62575))


@pytest.fixture(scope="module")
def small_aoi() -> AOI:
    squares = ", ".join(
        f"(({x - 0.0056} {y - 0.0045}, {x + 0.0056} {y - 0.0045}, {x + 0.0056} {y + 0.0045}, "
        f"{x - 0.0056} {y + 0.0045}, {x - 0.0056} {y - 0.0045}))"
        for x, y in STATION_SITES
    )
    return AOI.from_wkt(f"MULTIPOLYGON ({squares})", name="small")


def _run_config(aoi: AOI, files: tuple[Path, ...], out: Path, **kw: object) -> AdaptMapConfig:
    base: dict[str, object] = dict(
        train_start=dt.date(2020, 6, 1),  # 8 Sentinel-1 dates: quick
        max_target_cells=3000,
        epochs=2,
        min_epoch_steps=2,
    )
    base.update(kw)
    return _config(aoi, files, out, **base)


@pytest.fixture(scope="module")
def msda_run(
    tmp_path_factory: pytest.TempPathFactory,
    pretrained_dir: Path,
    small_aoi: AOI,
    demo_stations: tuple[Path, ...],
) -> tuple[AdaptMapConfig, object, list[str], list[float]]:
    from core.model.store import install

    root = tmp_path_factory.mktemp("msda")
    messages: list[str] = []
    fractions: list[float] = []
    cfg = _run_config(
        small_aoi,
        demo_stations,
        root / "out",
        dates=(dt.date(2020, 8, 19), MAP_DATE),
        reproject_crs="EPSG:32614",
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOILMOISTURE_DATA_DIR", str(root / "data"))  # a module-scoped user store
        install(pretrained_dir)
        result = run_adapt_map(
            cfg, CallbackProgress(on_fraction=fractions.append, on_message=messages.append)
        )
    return cfg, result, messages, fractions


def test_msda_run_writes_maps_ensemble_manifest_and_report(
    msda_run: tuple[AdaptMapConfig, object, list[str], list[float]],
) -> None:
    import rasterio

    from core.outputs.raster_io import read_sm_geotiff

    cfg, result, messages, fractions = msda_run
    # several dates: one adaptation, one map per date
    assert sorted(result.maps) == [dt.date(2020, 8, 19), MAP_DATE]
    assert sum(m.startswith("Adapting 25 members") for m in messages) == 1
    assert any("tile 1/1" in m for m in messages)
    assert fractions == sorted(fractions) or max(fractions) == pytest.approx(1.0)
    for day, path in result.maps.items():
        r = read_sm_geotiff(path)
        assert r.window50 == cfg.aoi.window9().to_level("50m")
        assert r.tags["date"] == day.isoformat() and r.tags["method"] == "msda"
        assert r.tags["alpha"] == "0.5" and r.tags["simulated"] == "true"
        assert "median" in r.tags["beta"] and r.tags["model_version"] == "densesm_9km"
        mask = cfg.aoi.mask50(r.window50)
        assert np.isfinite(r.mean[mask]).all() and np.isnan(r.mean[~mask]).all()
        assert np.nanmin(r.mean) > -0.2 and np.nanmax(r.mean) < 0.8
        assert r.spread is not None and np.nanmin(r.spread) >= 0.0
        with rasterio.open(result.reprojected[day]) as ds:
            assert ds.crs.to_epsg() == 32614
    assert not list(Path(cfg.out_dir).rglob("*.part"))
    # alpha: 3 stations -> 0.5, and the report says why
    assert result.alpha == 0.5 and "5 or fewer" in result.alpha_reason
    assert result.n_stations == 3

    manifest = json.loads(result.manifest.read_text())
    assert manifest["method"] == "msda" and manifest["alpha"] == 0.5
    assert len(manifest["beta"]) == 25 and all(b >= 0 for b in manifest["beta"].values())
    assert manifest["dates"] == ["2020-08-19", "2020-08-31"]
    assert {s["station"] for s in manifest["stations"]} == {"Valley", "Irrigated", "Upland-East"}
    assert len(manifest["station_files"]) == 5
    assert all(len(f["sha256"]) == 64 for f in manifest["station_files"])
    assert set(manifest["scenes"]) >= {"2020-08-19", "2020-08-31"}
    assert all(len(v["sha256"]) == 64 for v in manifest["scenes"].values())
    for key in ("python", "torch", "numpy", "soilmoisture"):
        assert manifest["software"][key]
    assert manifest["seeds"]["adaptation"] == 0
    assert manifest["aoi"]["type"] == "Feature"
    assert manifest["adaptation"]["n_fine"] == result.n_samples
    # the run's defaults: pretrained BatchNorm statistics and the 9 km consistency term
    assert manifest["batchnorm"] == "pretrained" and manifest["consistency"] == 16.0
    assert manifest["adaptation"]["config"]["consistency"] == 16.0
    used = manifest["samples"]["consistency_50m"]
    assert used["groups"] > 0 and used["cells"] >= 16 * used["groups"] // 2

    from core.model.store import load_model_set

    saved = load_model_set(result.ensemble_dir)
    assert saved.kind == "adapted" and len(saved.members) == 25
    assert saved.provenance["method"] == "msda"

    report = json.loads(result.report_json.read_text())
    assert report["simulated"] is True
    html = result.report_html.read_text()
    assert "SIMULATED" in html and "LOSO CV" in html and "random forest" in html
    assert "XGBoost" in html and "0.5" in html
    methods = result.metrics["methods"]
    for key in ("adapted_cv", "pretrained", "random_forest", "xgboost", "adapted_in_sample"):
        assert methods[key]["pooled"]["n"] == result.n_samples
    # every fold is trained as the final ensemble, alpha by the rule on its own stations
    cv = result.metrics["cv"]
    assert cv["epochs_per_fold"] == cv["epochs_final"] == 2
    assert "2 epochs of 2 optimizer step(s) (4 steps)" in cv["note"]
    assert "9 km consistency of the 50 m predictions (weight 16)" in cv["note"]
    assert cv["fold_alphas"] == [0.5] * cv["folds"]
    assert "random forest on the inputs and SMAP 9 km" in html
    err = result.metrics["maps"]["2020-08-31"]["error_vs_truth"]
    assert 0.0 < err["rmse"] < 0.2 and err["n"] > 1000
    sample = result.metrics["map_error_sample"]
    assert sample["pretrained"]["rmse"] > 0 and sample["adapted"]["rmse"] > 0
    assert sample["smap_9km"]["rmse"] > 0 and sample["smap_9km"]["n"] == sample["cells"]
    pngs = {p.name for p in (result.report_json.parent / "report_files").iterdir()}
    assert "timeseries.png" in pngs and any(p.startswith("scatter_") for p in pngs)


def test_msda_run_blends_its_maps_with_smap_by_the_held_out_weight(
    msda_run: tuple[AdaptMapConfig, object, list[str], list[float]],
) -> None:
    import pandas as pd

    from core.outputs.raster_io import read_sm_geotiff
    from core.run.blend import blend_weight

    cfg, result, _, _ = msda_run
    record = result.metrics["smap_blend"]["map"]
    pairs = pd.read_csv(result.report_json.parent / "station_predictions.csv")
    # the maps' weight: fitted on the held-out predictions of all three stations
    weight = blend_weight(pairs["adapted_cv"], pairs["obs"], pairs["smap_9km"], pairs["station"])
    assert record["weight"] == pytest.approx(weight, abs=1e-6) and 0.0 <= weight <= 1.0
    assert set(record["fold_weights"]) == {
        f"DEMO-SIMULATED/{s}" for s in ("Valley", "Irrigated", "Upland-East")
    }
    # each station's held-out blend uses the weight of the other two
    for key, w in record["fold_weights"].items():
        own = pairs["station"] == key
        other = ~own
        assert w == pytest.approx(
            blend_weight(*(pairs[c][other] for c in ("adapted_cv", "obs", "smap_9km", "station"))),
            abs=1e-6,
        )
        rows = pairs[own]
        expected = rows["smap_9km"] + w * (rows["adapted_cv"] - rows["smap_9km"])
        np.testing.assert_allclose(rows["adapted_smap_blend"], expected, atol=1e-6)
    assert result.metrics["held_out"]["adapted_smap_blend"] == "adapted_smap_blend"
    methods = result.metrics["methods"]
    held = {
        k: methods[c]["pooled"]["rmse"]
        for k, c in (("map", "adapted_cv"), ("blend", "adapted_smap_blend"))
    }
    assert record["held_out_rmse"] == held
    assert record["recommended"] == ("blend" if held["blend"] < held["map"] else "map")
    assert result.metrics["methods"]["pretrained_smap_blend"]["pooled"]["n"] == result.n_samples
    # every map has its blend beside it, on the same grid, cell by cell
    source = get_source("demo")
    manifest = json.loads(result.manifest.read_text())
    assert sorted(result.blended) == sorted(result.maps)
    for day, path in result.blended.items():
        assert path.name == f"soil_moisture_{day.isoformat()}_smap_blend.tif"
        assert manifest["outputs"]["maps_smap_blend"][day.isoformat()] == f"maps/{path.name}"
        assert manifest["outputs"]["reprojected_smap_blend"][day.isoformat()].endswith("32614.tif")
        assert result.blended_reprojected[day].name.endswith("_smap_blend_EPSG32614.tif")
        mapped, blended = read_sm_geotiff(result.maps[day]), read_sm_geotiff(path)
        assert blended.window50 == mapped.window50
        assert float(blended.tags["smap_blend_weight"]) == pytest.approx(weight, abs=1e-4)
        smap = source.scene(cfg.aoi.window9(), day).smap
        smap50 = np.repeat(np.repeat(smap, 180, axis=0), 180, axis=1)
        np.testing.assert_allclose(
            blended.mean, smap50 + weight * (mapped.mean - smap50), atol=1e-6, equal_nan=True
        )
        np.testing.assert_allclose(
            blended.spread, weight * mapped.spread, atol=1e-6, equal_nan=True
        )
        stats = result.metrics["maps"][day.isoformat()]["smap_blend"]
        assert stats["cells_mapped"] == result.metrics["maps"][day.isoformat()]["cells_mapped"]
        assert 0.0 < stats["error_vs_truth"]["rmse"] < 0.2
    sample = result.metrics["map_error_sample"]
    assert sample["adapted_smap_blend"]["n"] == sample["cells"]
    summary = json.loads(result.report_json.read_text())["summary"]
    assert f"+ {weight:.2f} x (map - SMAP 9 km)" in summary["SMAP blend"]
    # the time-series chart draws the held-out blend, and the notes say what it is
    page = unescape(result.report_html.read_text())
    assert "'adapted + SMAP blend' is its held-out SMAP blend" in page


def test_saved_ensemble_maps_again_without_retraining(
    msda_run: tuple[AdaptMapConfig, object, list[str], list[float]], tmp_path: Path
) -> None:
    from core.outputs.raster_io import read_sm_geotiff
    from core.run.map_ensemble import run_map_with_ensemble

    cfg, result, _, _ = msda_run
    res = run_map_with_ensemble(
        result.ensemble_dir, cfg.aoi, [MAP_DATE, dt.date(2020, 9, 12)], tmp_path, source="demo"
    )
    assert sorted(res.maps) == [MAP_DATE, dt.date(2020, 9, 12)]
    again = read_sm_geotiff(res.maps[MAP_DATE])
    first = read_sm_geotiff(result.maps[MAP_DATE])
    np.testing.assert_allclose(again.mean, first.mean, atol=1e-6, equal_nan=True)
    assert again.tags["method"] == "msda" and again.tags["alpha"] == "0.5"
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["ensemble_provenance"]["method"] == "msda"
    # the saved ensemble blends its new maps with the adapting run's weight
    weight = result.metrics["smap_blend"]["map"]["weight"]
    assert manifest["ensemble_provenance"]["smap_blend"]["weight"] == pytest.approx(weight)
    assert sorted(res.blended) == sorted(res.maps)
    blended = read_sm_geotiff(res.blended[MAP_DATE])
    np.testing.assert_allclose(
        blended.mean, read_sm_geotiff(result.blended[MAP_DATE]).mean, atol=1e-6, equal_nan=True
    )
    assert manifest["outputs"]["maps_smap_blend"]["2020-08-31"].endswith("_smap_blend.tif")


def test_pretrained_only_run(
    pretrained_dir: Path, small_aoi: AOI, demo_stations: tuple[Path, ...], tmp_path: Path
) -> None:
    from core.model.store import install
    from core.outputs.raster_io import read_sm_geotiff

    install(pretrained_dir)
    cfg = _run_config(small_aoi, demo_stations, tmp_path / "out", method="pretrained")
    result = run_adapt_map(cfg)
    assert result.ensemble_dir is None and result.alpha is None
    assert "adapted_cv" not in result.metrics["methods"]
    assert "adapted_in_sample" not in result.metrics["methods"]
    assert result.metrics["held_out"]["pretrained"] == "pretrained"
    assert "random_forest" in result.metrics["methods"]  # baselines still run
    tags = read_sm_geotiff(result.maps[MAP_DATE]).tags
    assert tags["method"] == "pretrained" and tags["alpha"] == "n/a"
    assert result.report_html is not None and result.report_html.exists()
    # the map's own blend: the pretrained ensemble's, its weight from the pretrained predictions
    assert result.metrics["smap_blend"]["map"]["of"] == "pretrained"
    assert sorted(result.blended) == sorted(result.maps)


def test_run_without_consistency_cells_says_so_and_trains_without_the_term(
    pretrained_dir: Path,
    small_aoi: AOI,
    demo_stations: tuple[Path, ...],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from core.model.store import install
    from core.run import samples

    install(pretrained_dir)
    monkeypatch.setattr(samples, "MIN_GROUP_SHARE", 1.01)  # no 9 km cell can qualify
    cfg = _run_config(
        small_aoi, demo_stations, tmp_path / "out", epochs=1, cross_validate=False, baselines=False
    )
    assert cfg.uses_consistency
    result = run_adapt_map(cfg)
    assert any("consistency term was left out" in w for w in result.warnings)
    manifest = json.loads(result.manifest.read_text())
    assert manifest["consistency"] == 0.0 and manifest["samples"]["consistency_50m"] is None
    assert manifest["adaptation"]["config"]["consistency"] == 0.0


def test_one_station_says_no_held_out_accuracy(
    pretrained_dir: Path, small_aoi: AOI, demo_stations: tuple[Path, ...], tmp_path: Path
) -> None:
    from core.model.store import install

    install(pretrained_dir)
    valley = tuple(p for p in demo_stations if "Valley" in p.name)
    cfg = _run_config(small_aoi, valley, tmp_path / "out", epochs=1)
    result = run_adapt_map(cfg)
    assert result.n_stations == 1 and result.alpha == 0.5
    assert "no held-out accuracy can be computed" in result.metrics["cv"]["message"]
    assert "adapted_cv" not in result.metrics["methods"]
    assert "random_forest" not in result.metrics["methods"]
    assert "no held-out accuracy can be computed" in result.report_html.read_text()
    assert result.maps[MAP_DATE].exists()
    assert result.blended == {} and result.metrics["smap_blend"]["map"] is None
    assert result.metrics["smap_blend"]["why_not"].startswith("one station")
    summary = json.loads(result.report_json.read_text())["summary"]
    assert summary["SMAP blend"].startswith("not made")


def test_cancel_while_mapping_leaves_no_geotiff(
    pretrained_dir: Path, small_aoi: AOI, demo_stations: tuple[Path, ...], tmp_path: Path
) -> None:
    from core.model.store import install

    install(pretrained_dir)
    seen: list[str] = []
    progress = CallbackProgress(
        on_message=seen.append, is_cancelled=lambda: any(m.startswith("Mapping") for m in seen)
    )
    cfg = _run_config(small_aoi, demo_stations, tmp_path / "out", method="pretrained")
    with pytest.raises(Cancelled):
        run_adapt_map(cfg, progress)
    assert any(m.startswith("Mapping") for m in seen)
    leftovers = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert not [p for p in leftovers if ".tif" in p.name]


# -- the CLI face -------------------------------------------------------------------------------
def test_cli_adapt_map_date_without_sentinel1_exits_with_a_clear_message(
    demo_stations: tuple[Path, ...],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    installed: str,
) -> None:
    from core.cli import main

    bbox = ",".join(str(v) for v in DEMO_AOI_BBOX)
    argv = ["adapt-map", f"--aoi={bbox}", "--stations", *map(str, demo_stations)]
    status = main([*argv, "--date", "2020-09-02", "--out", str(tmp_path / "o"), "--source", "demo"])
    err = capsys.readouterr().err
    assert status == 2
    assert "no Sentinel-1 acquisition covers the AOI on 2020-09-02" in err
    assert "2020-08-31" in err
    with pytest.raises(SystemExit):
        main([*argv, "--date-range", "2020-08-01", "--out", str(tmp_path / "o")])
    assert "START:END" in capsys.readouterr().err
    status = main([*argv, "--date", "2020-08-31", "--out", str(tmp_path), "--alpha", "2"])
    assert status == 2 and "alpha must be a number from 0 to 1" in capsys.readouterr().err


def test_cli_validate(
    demo_stations: tuple[Path, ...], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from core.cli import main
    from core.outputs.raster_io import write_sm_geotiff

    scene = get_source("demo").scene(demo_window9(), MAP_DATE)
    assert scene.truth is not None
    tif = write_sm_geotiff(
        tmp_path / "t.tif",
        scene.truth,
        scene.truth * 0,
        demo_window9().to_level("50m"),
        date=MAP_DATE,
        tags={},
    )
    status = main(["validate", "--raster", str(tif), "--stations", *map(str, demo_stations)])
    out = capsys.readouterr().out
    assert status == 0
    assert "on 2020-08-31: 5 station(s)" in out and "rmse" in out


def test_map_dates_outside_the_sentinel1_record_are_refused_by_every_face(
    demo_aoi: AOI, demo_stations: tuple[Path, ...], tmp_path: Path
) -> None:
    """The dock, Processing and batch build the same config as the CLI: the rule lives there."""
    from core.run.map_ensemble import run_map_with_ensemble

    for day in ("2013-06-01", (dt.date.today() + dt.timedelta(days=3)).isoformat()):
        with pytest.raises(InputError, match="outside the Sentinel-1 record"):
            AdaptMapConfig(aoi=demo_aoi, stations=demo_stations, dates=(day,), out_dir=tmp_path)
        with pytest.raises(InputError, match="outside the Sentinel-1 record"):
            run_map_with_ensemble(tmp_path / "ens", demo_aoi, [day], tmp_path / "map")
