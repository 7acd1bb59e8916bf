"""Tests of core.features.build: scene -> the 156 model inputs, checked by hand arithmetic."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from core.errors import InputError
from core.features import build as features
from core.features import contract
from core.inputs.grid import GridWindow
from core.inputs.sources.base import SceneInputs, StaticInputs

ROW0, COL0 = 400, 900  # a 9 km cell over the central US
A50 = "authors_50m"  # the raw order: the hand-arithmetic tests below index it directly


def _const_scene(h9: int = 1, w9: int = 1, date: dt.date = dt.date(2020, 7, 1)) -> SceneInputs:
    """A scene with constant, known values everywhere (ramps for the series)."""
    h50, w50 = h9 * 180, w9 * 180
    h250, w250 = h9 * 36, w9 * 36

    def full(v: float, shape: tuple[int, ...] = (h50, w50)) -> np.ndarray:
        return np.full(shape, v, dtype=np.float32)

    steps = np.arange(46, dtype=np.float32)
    ndvi = np.broadcast_to((100.0 * steps)[:, None, None], (46, h250, w250)).astype(np.float32)
    t2m = np.full((46, h9, w9), 290.0, dtype=np.float32)
    tp = np.broadcast_to((0.001 * steps)[:, None, None], (46, h9, w9)).astype(np.float32)
    return SceneInputs(
        window9=GridWindow("9km", ROW0, COL0, h9, w9),
        date=date,
        acquisition=None,
        vv=full(-12.0),
        vh=full(-18.0),
        angle=full(37.55),
        static=StaticInputs(
            sand=full(400.0),
            clay=full(200.0),
            bdod=full(140.0),
            elevation=full(550.0),
            slope=full(4.0),
            aspect=full(90.0),
        ),
        ndvi=ndvi,
        temperature=t2m,
        precipitation=tp,
        smap=full(0.25, (h9, w9)),
    )


def _random_scene(h9: int, w9: int, seed: int = 1) -> SceneInputs:
    """A scene with random, spatially varying values and a few gaps."""
    rng = np.random.default_rng(seed)
    h50, w50 = h9 * 180, w9 * 180
    h250, w250 = h9 * 36, w9 * 36

    def u(lo: float, hi: float, shape: tuple[int, ...] = (h50, w50)) -> np.ndarray:
        return rng.uniform(lo, hi, shape).astype(np.float32)

    scene = SceneInputs(
        window9=GridWindow("9km", ROW0, COL0, h9, w9),
        date=dt.date(2019, 3, 15),
        acquisition=None,
        vv=u(-25, 0),
        vh=u(-30, -5),
        angle=u(30, 45),
        static=StaticInputs(
            sand=u(50, 900),
            clay=u(50, 600),
            bdod=u(110, 170),
            elevation=u(0, 3000),
            slope=u(0, 30),
            aspect=u(0, 360),
        ),
        ndvi=u(-1000, 9000, (46, h250, w250)),
        temperature=u(260, 310, (46, h9, w9)),
        precipitation=u(0, 0.02, (46, h9, w9)),
        smap=u(0.05, 0.45, (h9, w9)),
    )
    scene.vv[3, 7] = np.nan
    scene.static.clay[100, 200 % w50] = np.nan
    scene.ndvi[10, 2, 3] = np.nan  # excludes the 25 cells of one 250 m pixel
    return scene


def _hand_raw153(scene: SceneInputs, r: int, c: int) -> np.ndarray:
    """The 153 raw variables of one cell, built element by element from the documentation."""
    st = scene.static
    doy = scene.date.timetuple().tm_yday
    row9 = scene.window9.row0 + r // 180
    col9 = scene.window9.col0 + c // 180
    a = math.radians(float(st.aspect[r, c]))
    snap = [
        scene.vv[r, c],
        scene.vh[r, c],
        scene.angle[r, c],
        math.sin(2 * math.pi * doy / 365),
        math.cos(2 * math.pi * doy / 365),
        st.sand[r, c],
        st.clay[r, c],
        st.bdod[r, c],
        st.elevation[r, c],
        st.slope[r, c],
        math.sin(a),
        math.cos(a),
        (row9 + 1) / 1624,
        math.sin(2 * math.pi * col9 / 3856),
        math.cos(2 * math.pi * col9 / 3856),
    ]
    ndvi = scene.ndvi[:, r // 5, c // 5]
    t2m = scene.temperature[:, r // 180, c // 180]
    tp = scene.precipitation[:, r // 180, c // 180]
    return np.concatenate([np.array(snap, dtype=np.float64), ndvi, t2m, tp]).astype(np.float64)


# -- hand arithmetic ---------------------------------------------------------------------------


def test_cell_inputs_by_hand_arithmetic() -> None:
    scene = _const_scene()
    x = features.cell_inputs_50m(scene, [0, 179, 90], [0, 179, 45], A50)
    assert x.shape == (3, 156) and x.dtype == np.float32
    doy = 183  # 2020-07-01, a leap year
    expect = {
        0: (-12 + 30) / 35,
        1: (-18 + 35) / 35,
        2: (37.55 - 29.1) / (46 - 29.1),
        3: (math.sin(2 * math.pi * doy / 365) + 1) / 2,
        4: (math.cos(2 * math.pi * doy / 365) + 1) / 2,
        5: 0.4,
        6: 0.2,
        7: (140 - 100) / 80,
        8: 550 / 5500,
        9: 4 / 40,
        10: 1.0,  # sin(90 deg) = 1 -> (1 + 1) / 2
        11: 0.5,  # cos(90 deg) = 0 -> (0 + 1) / 2
        12: ((ROW0 + 1) / 1624 + 1) / 2,
        13: (math.sin(2 * math.pi * COL0 / 3856) + 1) / 2,
        14: (math.cos(2 * math.pi * COL0 / 3856) + 1) / 2,
        # series means of the normalised ramps
        15: (np.mean(100.0 * np.arange(46)) + 2000) / 12000,  # (2250 + 2000) / 12000
        16: (290 - 263.15) / 45,
        17: np.mean(0.001 * np.arange(46)) / 0.3,  # 0.0225 / 0.3 = 0.075
        18: 2000 / 12000,  # first NDVI step: 0
        18 + 45: (4500 + 2000) / 12000,  # last NDVI step: 4500
        18 + 46: (290 - 263.15) / 45,
        18 + 92: 0.0,  # first precipitation step
        18 + 137: 0.045 / 0.3,  # last precipitation step
    }
    for i, v in expect.items():
        np.testing.assert_allclose(x[:, i], v, atol=2e-6, err_msg=f"input {i}")
    # every cell of a constant scene is identical
    assert np.array_equal(x[0], x[1]) and np.array_equal(x[0], x[2])


def test_values_outside_the_range_are_clipped() -> None:
    scene = _const_scene()
    scene.vv[0, 0] = 10.0  # above the 5 dB maximum
    scene.vh[0, 0] = -40.0  # below the -35 dB minimum
    x = features.cell_inputs_50m(scene, [0], [0])
    assert x[0, 0] == 1.0 and x[0, 1] == 0.0


def test_50m_cells_take_their_parent_9km_row_and_col() -> None:
    scene = _const_scene(h9=2, w9=2)
    x = features.cell_inputs_50m(scene, [0, 179, 180, 359, 200], [0, 180, 179, 359, 10], A50)
    parents = [(0, 0), (0, 1), (1, 0), (1, 1), (1, 0)]
    for k, (pr, pc) in enumerate(parents):
        row9, col9 = ROW0 + pr, COL0 + pc
        assert x[k, 12] == pytest.approx(((row9 + 1) / 1624 + 1) / 2, abs=1e-6)
        assert x[k, 13] == pytest.approx((math.sin(2 * math.pi * col9 / 3856) + 1) / 2, abs=1e-6)
        assert x[k, 14] == pytest.approx((math.cos(2 * math.pi * col9 / 3856) + 1) / 2, abs=1e-6)
    # row 12 differs between the two 9 km rows, 13-14 between the two columns
    assert x[0, 12] != x[2, 12] and x[0, 13] != x[1, 13]


def test_day_of_year_comes_from_the_scene_date() -> None:
    x = features.cell_inputs_50m(_const_scene(date=dt.date(2021, 1, 1)), [0], [0], A50)
    assert x[0, 3] == pytest.approx((math.sin(2 * math.pi / 365) + 1) / 2, abs=1e-6)
    assert x[0, 4] == pytest.approx((math.cos(2 * math.pi / 365) + 1) / 2, abs=1e-6)


def test_ndvi_is_taken_from_the_250m_pixel_and_weather_from_the_9km_cell() -> None:
    scene = _const_scene(h9=1, w9=2)
    scene.ndvi[:, 1, 2] = 5000.0  # 250 m pixel (1, 2) = 50 m rows 5-9, cols 10-14
    scene.temperature[:, 0, 1] = 300.0  # second 9 km cell
    x = features.cell_inputs_50m(scene, [5, 9, 4, 5], [10, 14, 10, 200])
    ndvi = slice(18, 18 + 46)
    assert np.allclose(x[0, ndvi], 7000 / 12000) and np.allclose(x[1, ndvi], 7000 / 12000)
    assert not np.allclose(x[2, ndvi], 7000 / 12000)  # row 4 is in the pixel above
    assert np.allclose(x[3, 18 + 46 : 18 + 92], (300 - 263.15) / 45, atol=1e-6)
    assert np.allclose(x[0, 18 + 46 : 18 + 92], (290 - 263.15) / 45, atol=1e-6)


def test_missing_input_gives_nan_row_and_bad_cells_raise() -> None:
    scene = _const_scene()
    scene.static.sand[2, 2] = np.nan
    x = features.cell_inputs_50m(scene, [2, 3], [2, 3])
    assert not np.isfinite(x[0]).all() and np.isfinite(x[1]).all()
    with pytest.raises(InputError, match="outside"):
        features.cell_inputs_50m(scene, [180], [0])
    with pytest.raises(InputError, match="differ"):
        features.cell_inputs_50m(scene, [1, 2], [1])


# -- the memory-lean whole-map form -----------------------------------------------------------


def test_shared_inputs_equal_cell_inputs_and_the_contract_by_hand(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(features, "_CHUNK", 7000)  # exercise the chunked snapshot build
    scene = _random_scene(1, 2)
    shared = features.map_inputs_50m(scene, layout=A50)
    n = len(shared)
    assert shared.snapshot.shape == (n, 18) and shared.series.shape[1] == 138
    assert shared.series_index.shape == (n,) and shared.rows.shape == (n,)
    # every valid cell, in chunks: shared layout == cell_inputs_50m exactly
    for start in range(0, n, 20000):
        sl = slice(start, start + 20000)
        full = np.concatenate([shared.snapshot[sl], shared.series[shared.series_index[sl]]], 1)
        ref = features.cell_inputs_50m(scene, shared.rows[sl], shared.cols[sl], A50)
        assert np.array_equal(full, ref)
        assert np.array_equal(shared.inputs(start, start + 20000), ref)
    # a few cells against the contract applied to hand-built raw variables
    for k in [0, 1, n // 3, n // 2, n - 1]:
        r, c = int(shared.rows[k]), int(shared.cols[k])
        raw = _hand_raw153(scene, r, c)[None]
        ref = contract.to_model_inputs(contract.normalise(raw))[0]
        got = np.concatenate([shared.snapshot[k], shared.series[shared.series_index[k]]])
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-6)
        # and the 3 means (15-17) are the means of the normalised series
        norm = contract.normalise(raw)[0]
        for j in range(3):
            mean = norm[15 + 46 * j : 15 + 46 * (j + 1)].astype(np.float64).mean()
            assert got[15 + j] == pytest.approx(mean, abs=1e-6)


def test_series_are_shared_per_250m_pixel() -> None:
    scene = _random_scene(1, 2)
    shared = features.map_inputs_50m(scene)
    # one series per 250 m pixel holding a valid cell: 36 x 72 pixels less the NDVI gap
    assert shared.series.shape[0] == 36 * 72 - 1
    idx = np.full(shared.valid.shape, -1, dtype=np.int64)
    idx[shared.rows, shared.cols] = shared.series_index
    assert idx[0, 0] == idx[4, 4] == idx[0, 4]
    assert idx[0, 0] != idx[0, 5] and idx[0, 0] != idx[5, 0]
    # cells of two 9 km cells never share a series, nor the weather part of it
    a, b = idx[0, 179], idx[0, 180]
    assert a != b
    assert not np.array_equal(shared.series[a, 46:], shared.series[b, 46:])


def test_excluded_cells_are_counted() -> None:
    scene = _random_scene(1, 2)
    mask = np.ones(scene.vv.shape, dtype=bool)
    mask[:, 300:] = False  # 60 columns outside the AOI
    shared = features.map_inputs_50m(scene, mask)
    assert shared.n_requested == 180 * 300
    # vv gap (3, 7): 1 cell; clay gap (100, 200): 1 cell; NDVI gap at pixel (2, 3): 25 cells
    assert shared.excluded == {"sar": 1, "static": 1, "ndvi": 25, "weather": 0}
    assert shared.n_excluded == 27 and shared.n_valid == 180 * 300 - 27
    assert not shared.valid[3, 7] and not shared.valid[12, 17] and not shared.valid[0, 300]
    assert shared.valid[0, 0] and shared.valid.sum() == shared.n_valid
    assert np.isfinite(shared.snapshot).all() and np.isfinite(shared.series).all()
    # a gap in a 9 km weather series removes every cell of that 9 km cell
    scene.precipitation[5, 0, 0] = np.nan
    shared = features.map_inputs_50m(scene)
    assert shared.excluded["weather"] == 180 * 180
    assert not shared.valid[:, :180].any() and shared.valid[:, 180:].sum() > 0
    with pytest.raises(InputError, match="mask has shape"):
        features.map_inputs_50m(scene, np.ones((10, 10), dtype=bool))


# -- 9 km samples ---------------------------------------------------------------------------------


def test_9km_samples_are_block_means_with_smap_labels() -> None:
    scene = _const_scene(h9=1, w9=3)
    scene.vv[:, 180:360] = -20.0
    scene.vv[:90, 180:360] = -10.0  # half the second cell: block mean -15 dB
    scene.vv[0, 0] = np.nan  # a gap is ignored by the block mean
    scene.ndvi[:, :, 36:72] = 3000.0
    scene.ndvi[:, :18, 36:72] = 5000.0  # block mean 4000
    scene.temperature[:, 0, 1] = 280.0
    scene.smap[0, 2] = np.nan  # no SMAP: the third cell is left out
    x, smap, rows9, cols9 = features.cell_inputs_9km(scene, A50)
    assert x.shape == (2, 156) and x.dtype == np.float32
    assert list(rows9) == [0, 0] and list(cols9) == [0, 1]
    assert np.allclose(smap, 0.25)
    assert x[0, 0] == pytest.approx((-12 + 30) / 35, abs=1e-6)
    assert x[1, 0] == pytest.approx((-15 + 30) / 35, abs=1e-6)
    assert np.allclose(x[1, 18:64], (4000 + 2000) / 12000, atol=1e-6)
    assert np.allclose(x[1, 64:110], (280 - 263.15) / 45, atol=1e-6)
    assert x[1, 13] == pytest.approx((math.sin(2 * math.pi * (COL0 + 1) / 3856) + 1) / 2, abs=1e-6)
    # equal to the contract applied to the block-mean raw values
    raw = features.raw_inputs_9km(scene)
    assert raw.shape == (3, 153)
    assert np.array_equal(x, contract.to_model_inputs(contract.normalise(raw[:2])))


def test_9km_cell_without_any_valid_input_is_left_out() -> None:
    scene = _const_scene(h9=1, w9=2)
    scene.static.slope[:, 180:] = np.nan
    x, smap, rows9, cols9 = features.cell_inputs_9km(scene)
    assert x.shape == (1, 156) and list(cols9) == [0]


# -- the published 9 km set's layout --------------------------------------------------------------


def test_published_layout_by_hand_arithmetic() -> None:
    """Day of year last, row in 0..1, precipitation x 10, as the weights' statistics show."""
    scene = _const_scene()
    x = features.cell_inputs_50m(scene, [0, 90], [0, 45])  # default: the published layout
    assert np.array_equal(x, features.cell_inputs_50m(scene, [0, 90], [0, 45], "densesm_9km"))
    doy = 183
    expect = {
        0: (-12 + 30) / 35,
        1: (-18 + 35) / 35,
        2: (37.55 - 29.1) / (46 - 29.1),
        3: 0.4,  # sand
        4: 0.2,  # clay
        5: (140 - 100) / 80,
        6: 550 / 5500,
        7: 4 / 40,
        8: 1.0,  # sin(aspect 90 deg)
        9: 0.5,  # cos(aspect 90 deg)
        10: (ROW0 + 1) / 1624,  # row counted from 1, range 0..1
        11: (math.sin(2 * math.pi * COL0 / 3856) + 1) / 2,
        12: (math.cos(2 * math.pi * COL0 / 3856) + 1) / 2,
        13: (math.sin(2 * math.pi * doy / 365) + 1) / 2,
        14: (math.cos(2 * math.pi * doy / 365) + 1) / 2,
        15: (np.mean(100.0 * np.arange(46)) + 2000) / 12000,
        16: (290 - 263.15) / 45,
        # mean of the normalised steps, each clipped at 1 (10 x 0.030 m/day and more)
        17: np.mean(np.minimum(10 * 0.001 * np.arange(46) / 0.3, 1.0)),
        18 + 92: 0.0,
        18 + 100: 10 * 0.008 / 0.3,
        18 + 137: 0.3 / 0.3,  # 10 x 0.045 = 0.45 m/day, clipped at 0.3
    }
    for i, v in expect.items():
        np.testing.assert_allclose(x[:, i], v, atol=2e-6, err_msg=f"input {i}")


def test_published_layout_is_a_reordering_of_the_raw_variables() -> None:
    scene = _random_scene(1, 2)
    rows, cols = np.array([0, 50, 170, 90]), np.array([0, 200, 359, 17])
    a = features.cell_inputs_50m(scene, rows, cols, A50)
    p = features.cell_inputs_50m(scene, rows, cols)
    raw_to_9km = [0, 1, 2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 3, 4]
    same = [i for i in range(15) if i != 10]  # all but the row, whose range differs
    np.testing.assert_array_equal(p[:, same], a[:, raw_to_9km][:, same])
    np.testing.assert_allclose(p[:, 10], 2 * a[:, 12] - 1, atol=1e-6)  # (r + 1) / 2 -> r
    np.testing.assert_array_equal(p[:, 18:110], a[:, 18:110])  # NDVI, temperature as they are
    shared = features.map_inputs_50m(scene)
    ref = features.cell_inputs_50m(scene, shared.rows[:500], shared.cols[:500])
    assert np.array_equal(shared.inputs(0, 500), ref)


def test_9km_aspect_in_the_published_layout_is_the_circular_mean() -> None:
    scene = _const_scene(h9=1, w9=1)
    scene.static.aspect[:, :90] = 10.0
    scene.static.aspect[:, 90:] = 350.0  # mean in degrees 180 (south); circular mean 0 (north)
    x_pub, *_ = features.cell_inputs_9km(scene)
    x_a50, *_ = features.cell_inputs_9km(scene, A50)
    assert x_a50[0, 11] == pytest.approx(0.0, abs=1e-6)  # cos(180 deg) = -1 -> 0
    cos10 = math.cos(math.radians(10))
    assert x_pub[0, 9] == pytest.approx((cos10 + 1) / 2, abs=1e-6)  # mean of the cosines
    assert x_pub[0, 8] == pytest.approx(0.5, abs=1e-6)  # the sines cancel
