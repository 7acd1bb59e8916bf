"""Tests of the simulated demo source: shapes, physical ranges, structure, determinism, stations."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from core.errors import InputError, NoDataError
from core.features import build as features
from core.inputs.grid import GridWindow, block_mean, lonlat_to_rowcol
from core.inputs.sources import demo
from core.inputs.sources.base import _SOURCES, InputSource, SceneInputs
from core.inputs.sources.demo import DemoSource, demo_window9
from core.inputs.sources.demo.source import _shared_source

SUMMER = dt.date(2020, 8, 7)  # an acquisition date in the irrigation season


@pytest.fixture(scope="module")
def source() -> DemoSource:
    return _shared_source(0)  # the instance write_demo_stations uses too


@pytest.fixture(scope="module")
def summer(source: DemoSource) -> SceneInputs:
    return source.scene(demo_window9(), SUMMER)


@pytest.fixture(scope="module")
def dates(source: DemoSource) -> list[dt.date]:
    acq = source.list_acquisitions(demo_window9(), dt.date(2020, 1, 1), dt.date(2020, 12, 31))
    return [a.date for a in acq]


# -- published models --------------------------------------------------------------------------


def test_saxton_rawls_loam_by_hand() -> None:
    # 40 % sand, 20 % clay, 2 % OM, computed by hand from Saxton & Rawls (2006) eqs. 1-3, 5
    wp, fc, sat = demo.saxton_rawls(0.4, 0.2)
    assert float(wp) == pytest.approx(0.134, abs=0.002)
    assert float(fc) == pytest.approx(0.274, abs=0.002)
    assert float(sat) == pytest.approx(0.446, abs=0.003)
    wp_s, fc_s, _ = demo.saxton_rawls(0.85, 0.05)  # sand holds less water
    assert wp_s < wp and fc_s < fc


def test_topp_inversion_round_trip() -> None:
    eps = demo.topp_permittivity([0.05, 0.2, 0.4])
    theta = -5.3e-2 + 2.92e-2 * eps - 5.5e-4 * eps**2 + 4.3e-6 * eps**3
    np.testing.assert_allclose(theta, [0.05, 0.2, 0.4], atol=1e-4)
    assert np.all(np.diff(eps) > 0)


def test_water_cloud_limits_and_sar_sensitivity() -> None:
    # no vegetation: the soil backscatter itself
    assert float(demo.water_cloud(0.05, 0.0, 38.0, 0.08, 0.2)) == pytest.approx(0.05)
    # dense vegetation hides the soil: the value tends to A V cos(theta)
    dense = float(demo.water_cloud(0.05, 50.0, 38.0, 0.08, 0.2))
    assert dense == pytest.approx(0.08 * 50 * np.cos(np.radians(38.0)), rel=1e-6)
    # VV rises with soil moisture at fixed vegetation, less under more vegetation
    sm = np.linspace(0.05, 0.45, 9)
    vv_bare, vh_bare = demo.simulated_backscatter(sm, 0.0, 38.0, 1.0)
    vv_veg, _ = demo.simulated_backscatter(sm, 3.0, 38.0, 1.0)
    assert np.all(np.diff(vv_bare) > 0) and np.all(np.diff(vv_veg) > 0)
    assert np.all(np.diff(vh_bare) > 0)
    assert vv_bare[-1] - vv_bare[0] > vv_veg[-1] - vv_veg[0] > 0.1
    assert -20 < vv_bare[0] < vv_bare[-1] < -3
    # rougher soil scatters more
    assert (
        demo.simulated_backscatter(0.2, 0.0, 38.0, 2.0)[0]
        > demo.simulated_backscatter(0.2, 0.0, 38.0, 0.5)[0]
    )


def test_hargreaves_summer_exceeds_winter() -> None:
    ra = demo.extraterrestrial_radiation_mm([15, 196], demo.DEMO_LATITUDE)
    pet = demo.hargreaves_pet([276.0, 301.0], [12.0, 12.0], ra)
    assert 0.5 < pet[0] < 2.0 and 5.0 < pet[1] < 8.0


# -- the area and the registry --------------------------------------------------------------------


def test_registered_and_satisfies_the_interface(source: DemoSource) -> None:
    assert _SOURCES["demo"] is DemoSource
    assert isinstance(source, InputSource)
    assert source.name == "demo" and source.simulated is True


def test_aoi_lies_inside_the_demo_window(source: DemoSource) -> None:
    w = demo_window9()
    assert w.shape == (2, 2)
    lon0, lat0, lon1, lat1 = demo.DEMO_AOI_BBOX
    r, c = lonlat_to_rowcol([lon0, lon1], [lat1, lat0], "9km")
    assert w.row0 <= r.min() and r.max() < w.row0 + w.nrows
    assert w.col0 <= c.min() and c.max() < w.col0 + w.ncols
    r50, c50 = lonlat_to_rowcol([lon0, lon1], [lat1, lat0], "50m")
    size = (np.diff(r50)[0] * 50.0, np.diff(c50)[0] * 50.0)
    assert 9000 < size[0] < 11000 and 9000 < size[1] < 11000
    for st in source.stations():  # stations lie in the AOI
        assert r50[0] - w.row0 * 180 <= st.row <= r50[1] - w.row0 * 180
        assert c50[0] - w.col0 * 180 <= st.col <= c50[1] - w.col0 * 180


def test_acquisitions_every_12_days_one_orbit(source: DemoSource, dates: list[dt.date]) -> None:
    assert len(dates) >= 25
    assert all((b - a).days == 12 for a, b in zip(dates, dates[1:], strict=False))
    acq = source.list_acquisitions(demo_window9(), dt.date(2020, 3, 1), dt.date(2020, 3, 31))
    assert 2 <= len(acq) <= 3
    assert {(a.orbit_pass, a.relative_orbit) for a in acq} == {("ASCENDING", 88)}
    assert all("simulated" in a.platform for a in acq)


# -- the scene -----------------------------------------------------------------------------------


def test_scene_shapes_labels_and_ranges(summer: SceneInputs) -> None:
    s = summer
    assert s.vv.shape == s.vh.shape == s.angle.shape == (360, 360)
    assert s.ndvi.shape == (46, 72, 72) and s.temperature.shape == (46, 2, 2)
    assert s.simulated and s.truth is not None and s.truth.shape == (360, 360)
    assert s.attributes["source"] == "demo (simulated)"
    assert s.acquisition is not None and s.acquisition.date == SUMMER
    arrays = [s.vv, s.vh, s.angle, s.ndvi, s.temperature, s.precipitation, s.smap, s.truth]
    arrays += [
        getattr(s.static, n) for n in ("sand", "clay", "bdod", "elevation", "slope", "aspect")
    ]
    assert all(np.isfinite(a).all() and a.dtype == np.float32 for a in arrays)
    assert 0.03 <= s.truth.min() and s.truth.max() <= 0.5
    assert -25 < s.vv.min() and s.vv.max() < 0 and -30 < s.vh.min() and s.vh.max() < -8
    assert np.all(s.vh < s.vv)
    assert 29.1 <= s.angle.min() < s.angle.max() <= 46
    assert np.all(np.diff(s.angle[0]) >= 0)  # incidence grows across the swath (east)
    st = s.static
    assert 0 <= st.sand.min() and st.sand.max() <= 1000 and np.all(st.sand + st.clay <= 1000)
    assert 100 <= st.bdod.min() and st.bdod.max() <= 180
    assert (
        0 <= st.slope.min()
        and st.slope.max() < 40
        and 0 <= st.aspect.min()
        and st.aspect.max() < 360
    )
    assert -2000 <= s.ndvi.min() and s.ndvi.max() <= 10000
    assert 255 < s.temperature.min() and s.temperature.max() < 315
    assert 0 <= s.precipitation.min() and s.precipitation.max() < 0.05
    assert 0.02 <= s.smap.min() and s.smap.max() <= 0.6


def test_scene_feeds_the_features(summer: SceneInputs) -> None:
    shared = features.map_inputs_50m(summer)
    assert shared.n_excluded == 0 and len(shared) == 360 * 360
    assert shared.series.shape == (72 * 72, 138)
    x, smap, _, _ = features.cell_inputs_9km(summer)
    assert x.shape == (4, 156) and np.allclose(smap, summer.smap.ravel())


def test_deterministic_for_a_seed(summer: SceneInputs) -> None:
    again = DemoSource(0).scene(demo_window9(), SUMMER)
    for name in ("vv", "vh", "angle", "ndvi", "temperature", "precipitation", "smap", "truth"):
        assert np.array_equal(getattr(summer, name), getattr(again, name)), name
    other = DemoSource(1)  # another seed gives another landscape and weather
    assert not np.array_equal(other._landscape().sand, DemoSource(0)._landscape().sand)
    assert not np.array_equal(other._weather_sim().rain, DemoSource(0)._weather_sim().rain)


def test_sub_window_is_a_slice_of_the_area(source: DemoSource, summer: SceneInputs) -> None:
    w = demo_window9()
    sub = source.scene(GridWindow("9km", w.row0 + 1, w.col0, 1, 2), SUMMER)
    assert sub.truth is not None and summer.truth is not None
    assert np.array_equal(sub.truth, summer.truth[180:])
    assert np.array_equal(sub.vv, summer.vv[180:])
    assert np.array_equal(sub.ndvi, summer.ndvi[:, 36:])
    assert np.array_equal(sub.smap, summer.smap[1:])


def test_window_outside_the_area_and_missing_dates_raise(source: DemoSource) -> None:
    w = demo_window9()
    with pytest.raises(InputError, match="only has data for longitudes"):
        source.scene(GridWindow("9km", w.row0 - 1, w.col0, 2, 2), SUMMER)
    with pytest.raises(InputError, match="only has data for"):
        source.list_acquisitions(
            GridWindow("9km", 100, 100, 1, 1), dt.date(2020, 1, 1), dt.date(2020, 2, 1)
        )
    with pytest.raises(NoDataError, match="2020-08-07 and 2020-08-19"):
        source.scene(w, dt.date(2020, 8, 10))
    with pytest.raises(NoDataError, match="nearest"):
        source.truth_map(dt.date(2030, 1, 1))


# -- spatial structure and the coarse products -----------------------------------------------------


def test_valley_is_wetter_than_the_uplands(source: DemoSource, dates: list[dt.date]) -> None:
    wet = source.wetness()
    valley, upland = wet > 0.6, wet < 0.05
    assert valley.sum() > 1000 and upland.sum() > 10000
    for d in dates[::4]:
        truth = source.truth_map(d)
        assert truth[valley].mean() > truth[upland].mean() + 0.03, d


def test_irrigated_field_is_wetter_in_summer(source: DemoSource, summer: SceneInputs) -> None:
    irr = source.irrigated_mask()
    land = source._landscape()
    dry_summer_crop = (land.crop == 1) & ~irr & (source.wetness() < 0.05)
    assert summer.truth is not None
    assert summer.truth[irr].mean() > summer.truth[dry_summer_crop].mean() + 0.05
    # and greener: the 250 m NDVI composites over the field exceed the area's
    ndvi_irr = block_mean(irr.astype(np.float32), 5) > 0.99
    assert summer.ndvi[-1][ndvi_irr].mean() > np.median(summer.ndvi[-1]) + 1000


def test_sar_follows_soil_moisture_at_fixed_vegetation(
    source: DemoSource, summer: SceneInputs
) -> None:
    land = source._landscape()
    assert summer.truth is not None
    grass = (land.crop == 2) & (source.wetness() < 0.05)
    r = np.corrcoef(summer.vv[grass], summer.truth[grass])[0, 1]
    assert r > 0.3


def test_smap_error_is_sized_like_real_smap() -> None:
    """Mean bias, per-cell offsets, unbiased RMSE and persistence of the simulated error."""
    errs = np.stack([demo.smap_error(np.random.default_rng(k), 400) for k in range(150)])
    cell_mean = errs.mean(axis=1)  # (seeds, rows, cols)
    assert abs(cell_mean.mean() - demo.SMAP_BIAS) < 0.003
    assert 0.011 < cell_mean.std() < 0.02  # the fixed offsets (plus the AR part's slow mean)
    within = errs - cell_mean[:, None]
    assert 0.036 < within.std() < 0.043  # unbiased RMSE ~0.04, as SMAP against dense networks
    lag1 = (within[:, 1:] * within[:, :-1]).mean() / within.var()
    assert 0.35 < lag1 < 0.53  # 0.8 x 0.55: errors persist for days, they are not white


def test_smap_is_the_truth_block_mean_plus_error(source: DemoSource, summer: SceneInputs) -> None:
    truth = source._truth_sim()
    ok = np.isfinite(truth.smap9)
    assert 0.6 < ok.mean() < 0.8  # about two overpasses in three days
    diff = (truth.smap9 - truth.truth9)[ok]
    assert abs(diff.mean() - demo.SMAP_BIAS) < 0.03  # four cells, each with its own offset
    assert 0.03 < diff.std() < 0.055
    # the daily block means are those of the truth maps
    for d in (SUMMER, dt.date(2020, 3, 16)):
        i = truth.days.index(d)
        np.testing.assert_allclose(truth.truth9[i], block_mean(source.truth_map(d), 180), atol=1e-6)
    # the scene's SMAP is the gappy series interpolated to the date: truth + error
    assert summer.truth is not None
    scene_diff = summer.smap - block_mean(summer.truth, 180)
    assert np.abs(scene_diff - demo.SMAP_BIAS).max() < 0.15


# -- stations --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def station_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    out = tmp_path_factory.mktemp("demo_stations")
    return out, demo.write_demo_stations(out, seed=0)


def test_station_files_follow_the_ismn_layout(
    source: DemoSource, station_dir: tuple[Path, list[Path]]
) -> None:
    out, paths = station_dir
    assert len(paths) == 5 and (out / "README.txt").exists()
    assert "simulated" in (out / "README.txt").read_text().lower()
    src = source
    days, daily = src.station_truth()
    i0 = days.index(dt.date(2020, 7, 1))
    for k, (path, st) in enumerate(zip(paths, src.stations(), strict=True)):
        assert path.name.startswith(
            f"DEMO-SIMULATED_DEMO-SIMULATED_{st.name}_sm_0.000000_0.050000_"
        )
        lines = path.read_text().splitlines()
        head = lines[0].split()
        assert head[0] == head[1] == "DEMO-SIMULATED" and head[2] == st.name
        lat, lon, elev, d0, d1 = (float(v) for v in head[3:8])
        assert (d0, d1) == (0.0, 0.05) and head[8] == "Simulated-Probe"
        r, c = lonlat_to_rowcol(lon, lat, "50m")
        assert (int(r) - demo.DEMO_ROW0 * 180, int(c) - demo.DEMO_COL0 * 180) == (st.row, st.col)
        assert 250 < elev < 400
        assert len(lines) == 1 + 366 * 8
        date, time, value, flag, orig = lines[1].split()
        assert (date, time, flag, orig) == ("2020/01/01", "00:00", "G", "M")
        # the day's readings sample the truth with sensor noise
        day = [float(ln.split()[2]) for ln in lines[1:] if ln.startswith("2020/07/01")]
        assert len(day) == 8 and abs(np.mean(day) - daily[i0, k]) < 0.08
    # the exact column layout of a real ISMN "header + values" file
    assert lines[1][16:25] == f"{float(value):9.4f}"


def test_station_files_read_back_with_the_station_reader(
    source: DemoSource, station_dir: tuple[Path, list[Path]]
) -> None:
    stations = pytest.importorskip("core.inputs.stations")
    data = stations.read_station_files([station_dir[0]])
    assert set(data.daily["station"]) == {s.name for s in source.stations()}
    assert set(data.daily["network"]) == {"DEMO-SIMULATED"}
    assert len(data.daily) == 5 * 366
