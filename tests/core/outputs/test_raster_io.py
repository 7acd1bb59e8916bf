from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
import rasterio

from core.errors import InputError
from core.inputs.grid import X0, Y0, GridWindow, cell_size, lonlat_to_rowcol, xy_to_lonlat
from core.outputs import raster_io
from core.outputs.raster_io import (
    BAND_DESCRIPTIONS,
    read_sm_geotiff,
    reproject_geotiff,
    sample_raster,
    window50_from_transform,
    write_sm_geotiff,
)

DATE = dt.date(2020, 6, 14)


def _window(n9: int = 2) -> GridWindow:
    return GridWindow("9km", 300, 1900, n9, n9).to_level("50m")


def _arrays(w: GridWindow, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    mean = rng.uniform(0.05, 0.45, w.shape).astype(np.float32)
    spread = rng.uniform(0.0, 0.05, w.shape).astype(np.float32)
    mean[:20, :] = np.nan  # "outside the AOI"
    spread[:20, :] = np.nan
    mean[100, 100] = np.nan  # "missing input"
    spread[100, 100] = np.nan
    return mean, spread


@pytest.fixture()
def written(tmp_path: Path) -> tuple[Path, GridWindow, np.ndarray, np.ndarray]:
    w = _window()
    mean, spread = _arrays(w)
    path = write_sm_geotiff(
        tmp_path / "sm.tif",
        mean,
        spread,
        w,
        date=DATE,
        tags={
            "method": "msda",
            "alpha": 0.7,
            "beta": {"coarse_1_8": 0.25},
            "model_version": "densesm_9km",
            "simulated": True,
        },
    )
    return path, w, mean, spread


def test_bands_tags_and_units(written: tuple[Path, GridWindow, np.ndarray, np.ndarray]) -> None:
    path, _, _, _ = written
    with rasterio.open(path) as ds:
        assert ds.count == 2
        assert ds.dtypes == ("float32", "float32")
        assert ds.descriptions == BAND_DESCRIPTIONS
        tags = ds.tags()
        assert tags["units"] == "m3/m3"
        assert tags["date"] == "2020-06-14"
        assert tags["method"] == "msda"
        assert float(tags["alpha"]) == pytest.approx(0.7)
        assert "coarse_1_8" in tags["beta"]
        assert tags["model_version"] == "densesm_9km"
        assert tags["simulated"] == "true"
        assert ds.tags(1)["units"] == "m3/m3"
        assert ds.tags(2)["units"] == "m3/m3"


def test_crs_and_transform_are_the_ease2_50m_grid(
    written: tuple[Path, GridWindow, np.ndarray, np.ndarray],
) -> None:
    path, w, _, _ = written
    s = cell_size("50m")
    with rasterio.open(path) as ds:
        assert ds.crs.to_epsg() == 6933
        assert ds.shape == w.shape
        t = ds.transform
        assert t.a == pytest.approx(s, rel=1e-12)
        assert t.e == pytest.approx(-s, rel=1e-12)
        assert t.b == 0 and t.d == 0
        assert t.c == pytest.approx(X0 + w.col0 * s, abs=1e-6)
        assert t.f == pytest.approx(Y0 - w.row0 * s, abs=1e-6)
        # the cell containing a point is the EASE-2 cell computed by core.inputs.grid
        lon, lat = xy_to_lonlat(*ds.xy(37, 211))
        r, c = lonlat_to_rowcol(lon, lat, "50m")
        assert (int(r) - w.row0, int(c) - w.col0) == (37, 211)
    back = read_sm_geotiff(path)
    assert back.window50 == w


def test_values_and_nodata_round_trip(
    written: tuple[Path, GridWindow, np.ndarray, np.ndarray],
) -> None:
    path, _, mean, spread = written
    with rasterio.open(path) as ds:
        assert ds.nodata == -9999.0
        raw = ds.read(1)
        assert (raw[:20] == -9999.0).all()
        assert raw[100, 100] == -9999.0
    back = read_sm_geotiff(path)
    np.testing.assert_array_equal(np.isnan(back.mean), np.isnan(mean))
    np.testing.assert_allclose(back.mean, mean, equal_nan=True)
    assert back.spread is not None
    np.testing.assert_allclose(back.spread, spread, equal_nan=True)
    assert back.tags["method"] == "msda"


def test_cloud_optimised_layout(written: tuple[Path, GridWindow, np.ndarray, np.ndarray]) -> None:
    path, _, _, _ = written
    with rasterio.open(path) as ds:
        assert ds.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        assert ds.profile["tiled"]
        assert ds.block_shapes[0] == (256, 256)
        assert ds.overviews(1) == [2]  # 360 px -> one overview level below one tile
        assert ds.overviews(2) == [2]
        ov = ds.read(1, out_shape=(180, 180))
        assert np.isfinite(ov).all()
    assert path.stat().st_mode & 0o044  # readable by others like any normal output


def test_atomic_failure_midway_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rasterio.shutil

    real_copy = rasterio.shutil.copy

    def copy_then_crash(*args: object, **kwargs: object) -> None:
        real_copy(*args, **kwargs)  # the COG is fully written under the temporary name...
        raise OSError("disk full")  # ...then the run dies before the rename

    monkeypatch.setattr(rasterio.shutil, "copy", copy_then_crash)
    w = _window(1)
    mean, spread = _arrays(w)
    with pytest.raises(OSError, match="disk full"):
        write_sm_geotiff(tmp_path / "sm.tif", mean, spread, w, date=DATE, tags={})
    assert list(tmp_path.iterdir()) == []


def test_atomic_failure_keeps_previous_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = _window(1)
    mean, spread = _arrays(w)
    target = write_sm_geotiff(
        tmp_path / "sm.tif", mean, spread, w, date=DATE, tags={"method": "old"}
    )
    import rasterio.shutil

    def crash(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(rasterio.shutil, "copy", crash)
    with pytest.raises(KeyboardInterrupt):
        write_sm_geotiff(target, mean + 0.1, spread, w, date=DATE, tags={"method": "new"})
    assert [p.name for p in tmp_path.iterdir()] == ["sm.tif"]
    assert read_sm_geotiff(target).tags["method"] == "old"


def test_bad_inputs(tmp_path: Path) -> None:
    w = _window(1)
    mean, spread = _arrays(w)
    with pytest.raises(InputError, match="do not match"):
        write_sm_geotiff(tmp_path / "a.tif", mean[:-1], spread, w, date=DATE, tags={})
    with pytest.raises(InputError, match="50 m grid"):
        write_sm_geotiff(
            tmp_path / "a.tif", mean, spread, GridWindow("9km", 300, 1900, 1, 1), date=DATE
        )
    with pytest.raises(InputError, match="does not exist"):
        read_sm_geotiff(tmp_path / "missing.tif")
    assert not (tmp_path / "a.tif").exists()


def test_reproject(
    written: tuple[Path, GridWindow, np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    path, _, mean, _ = written
    out = reproject_geotiff(path, tmp_path / "sm_utm.tif", "EPSG:32633")
    with rasterio.open(out) as ds:
        assert ds.crs.to_epsg() == 32633
        assert ds.descriptions == BAND_DESCRIPTIONS
        assert ds.tags()["resampling"] == "bilinear"
        assert ds.tags()["date"] == "2020-06-14"
        assert "grid" not in ds.tags()
        assert ds.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
    rep = read_sm_geotiff(out)
    assert rep.window50 is None
    vals = rep.mean[np.isfinite(rep.mean)]
    assert vals.size > 0.5 * np.isfinite(mean).sum()
    assert vals.min() >= np.nanmin(mean) - 1e-6 and vals.max() <= np.nanmax(mean) + 1e-6
    with pytest.raises(InputError, match="unknown coordinate reference system"):
        reproject_geotiff(path, tmp_path / "x.tif", "EPSG:999999")


def test_sample_and_grid_detection(
    written: tuple[Path, GridWindow, np.ndarray, np.ndarray],
) -> None:
    path, w, mean, _ = written
    r = read_sm_geotiff(path)
    x = X0 + (w.col0 + np.array([50.5, 200.5])) * cell_size("50m")
    y = Y0 - (w.row0 + np.array([30.5, 300.5])) * cell_size("50m")
    lon, lat = xy_to_lonlat(x, y)
    got, spread = sample_raster(r, np.append(lon, 0.0), np.append(lat, 0.0))
    np.testing.assert_allclose(got[:2], [mean[30, 50], mean[300, 200]])
    assert np.isnan(got[2])  # outside the raster
    assert spread is not None
    assert window50_from_transform(r.transform, r.crs, (5, 5)) == GridWindow(
        "50m", w.row0, w.col0, 5, 5
    )
    shifted = r.transform * raster_io_affine_shift()
    assert window50_from_transform(shifted, r.crs, r.shape) is None


def raster_io_affine_shift():  # type: ignore[no-untyped-def]
    from rasterio.transform import Affine

    return Affine.translation(0.5, 0.0)


def test_module_imports_no_rasterio_at_import_time() -> None:
    # the plugin imports core modules at start-up: rasterio is loaded lazily
    assert "rasterio" not in raster_io.__dict__
