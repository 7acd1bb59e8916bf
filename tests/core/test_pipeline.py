from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from core.aoi import AOI
from core.errors import InputError, NoDataError
from core.grid import GridWindow
from core.pipeline import (
    AdaptMapConfig,
    choose_alpha,
    nearest_dates,
    run_adapt_map,
    scene_sha256,
    subscene,
)
from core.sources import get_source
from core.sources.demo import DEMO_AOI_BBOX, acquisition_dates, demo_window9, write_demo_stations

MAP_DATE = dt.date(2020, 8, 31)  # a demo acquisition


@pytest.fixture(scope="module")
def demo_stations(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ...]:
    return tuple(write_demo_stations(tmp_path_factory.mktemp("stations"), seed=0))


@pytest.fixture(scope="module")
def demo_aoi() -> AOI:
    return AOI.from_bbox(*DEMO_AOI_BBOX, name="demo")


@pytest.fixture()
def installed(pretrained_dir: Path) -> str:
    from core.store import install

    return install(pretrained_dir).name


def _config(aoi: AOI, files: tuple[Path, ...], out: Path, **kw: object) -> AdaptMapConfig:
    base: dict[str, object] = dict(
        aoi=aoi,
        stations=files,
        dates=(MAP_DATE,),
        out_dir=out,
        source="demo",
        epochs=1,
        cv_epochs=1,
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
    assert cfg.fold_epochs == 10
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
    from core.features import map_inputs_50m

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


# -- failures before any training -----------------------------------------------------------
def test_date_without_sentinel1_names_the_nearest_dates(
    demo_aoi: AOI, demo_stations: tuple[Path, ...], tmp_path: Path
) -> None:
    cfg = _config(demo_aoi, demo_stations, tmp_path / "out", dates=(dt.date(2020, 9, 2),))
    with pytest.raises(NoDataError) as err:
        run_adapt_map(cfg)
    text = str(err.value)
    assert "2020-09-02" in text and "2020-08-31" in text and "2020-09-12" in text
    assert not list(tmp_path.rglob("*.tif"))


def test_no_station_inside_the_aoi(demo_stations: tuple[Path, ...], tmp_path: Path) -> None:
    elsewhere = AOI.from_bbox(-97.40, 36.59, -97.35, 36.62, name="east")
    with pytest.raises(InputError, match="no station lies inside the AOI 'east'.*DEMO-SIMULATED"):
        run_adapt_map(_config(elsewhere, demo_stations, tmp_path / "out"))
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").rglob("*.tif"))
