"""EASE-Grid 2.0 grids: cell arithmetic, nesting, windows, block means."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.errors import InputError
from core.inputs import grid

# WGS 84 and the EASE-2 global projection (cylindrical equal-area, standard parallel 30 deg).
A = 6378137.0
F = 1 / 298.257223563
E2 = F * (2 - F)
E = math.sqrt(E2)


def _q(phi: float) -> float:
    s = math.sin(phi)
    return (1 - E2) * (s / (1 - E2 * s * s) - 1 / (2 * E) * math.log((1 - E * s) / (1 + E * s)))


def ease2_xy(lon: float, lat: float) -> tuple[float, float]:
    """EASE-2 global x, y from the closed-form projection equations (independent of pyproj)."""
    phi1 = math.radians(30.0)
    k0 = math.cos(phi1) / math.sqrt(1 - E2 * math.sin(phi1) ** 2)
    x = A * k0 * math.radians(lon)
    y = A * _q(math.radians(lat)) / (2 * k0)
    return x, y


def hand_rowcol(lon: float, lat: float, size: float) -> tuple[int, int]:
    x, y = ease2_xy(lon, lat)
    return math.floor((grid.Y0 - y) / size), math.floor((x - grid.X0) / size)


def test_known_9km_cell() -> None:
    row, col = grid.lonlat_to_rowcol(5.0, 52.0, "9km")
    assert (int(row), int(col)) == (170, 1981)
    assert hand_rowcol(5.0, 52.0, grid.CELL_9KM) == (170, 1981)


def test_projection_matches_closed_form() -> None:
    for lon, lat in [(5.0, 52.0), (-97.4878, 36.6054), (27.96591, 44.08829), (-120.9675, -33.2)]:
        x, y = grid.lonlat_to_xy(lon, lat)
        hx, hy = ease2_xy(lon, lat)
        assert float(x) == pytest.approx(hx, abs=1e-3)
        assert float(y) == pytest.approx(hy, abs=1e-3)


def test_grid_edges() -> None:
    # The grid spans 360 deg of longitude: 3856 cells of 9 km.
    assert grid.COLS_9KM * grid.CELL_9KM == pytest.approx(-2 * grid.X0, abs=1e-3)
    assert grid.ROWS_9KM * grid.CELL_9KM == pytest.approx(2 * grid.Y0, abs=1e-3)
    assert grid.shape("50m") == (1624 * 180, 3856 * 180)


def test_cell_sizes_are_exact_divisions() -> None:
    assert grid.cell_size("9km") == 9008.055210146
    assert grid.cell_size("250m") == 9008.055210146 / 36
    assert grid.cell_size("50m") == 9008.055210146 / 180
    with pytest.raises(InputError, match="allowed"):
        grid.cell_size("100m")


@pytest.mark.parametrize("level", ["9km", "250m", "50m"])
def test_rowcol_cell_center_round_trip(level: str) -> None:
    rng = np.random.default_rng(0)
    rows_n, cols_n = grid.shape(level)
    rows = rng.integers(0, rows_n, 200)
    cols = rng.integers(0, cols_n, 200)
    x, y = grid.cell_center(rows, cols, level)
    r2, c2 = grid.rowcol(x, y, level)
    np.testing.assert_array_equal(r2, rows)
    np.testing.assert_array_equal(c2, cols)
    # via lon/lat too
    lon, lat = grid.xy_to_lonlat(x, y)
    r3, c3 = grid.lonlat_to_rowcol(lon, lat, level)
    np.testing.assert_array_equal(r3, rows)
    np.testing.assert_array_equal(c3, cols)


def test_point_hand_computed_at_all_levels() -> None:
    lon, lat = -0.7269, 44.467
    for level in ("9km", "250m", "50m"):
        r, c = grid.lonlat_to_rowcol(lon, lat, level)
        assert (int(r), int(c)) == hand_rowcol(lon, lat, grid.cell_size(level))


def test_parent_and_children() -> None:
    r50, c50 = grid.lonlat_to_rowcol(5.0, 52.0, "50m")
    r9, c9 = grid.parent(r50, c50, "50m")
    assert (int(r9), int(c9)) == (170, 1981)
    r250, c250 = grid.parent(r50, c50, "50m", "250m")
    assert (int(r250), int(c250)) == (int(r50) // 5, int(c50) // 5)
    rs, cs = grid.children(170, 1981, "9km", "50m")
    assert (rs.start, rs.stop, cs.start, cs.stop) == (170 * 180, 171 * 180, 1981 * 180, 1982 * 180)
    assert rs.start <= int(r50) < rs.stop and cs.start <= int(c50) < cs.stop
    rs, cs = grid.children(3, 4, "250m", "50m")
    assert (rs.start, rs.stop, cs.start, cs.stop) == (15, 20, 20, 25)
    with pytest.raises(InputError):
        grid.parent(0, 0, "9km", "50m")
    with pytest.raises(InputError):
        grid.children(0, 0, "50m", "9km")


def test_window_to_level_and_back() -> None:
    w = grid.GridWindow("9km", 170, 1981, 2, 3)
    w50 = w.to_level("50m")
    assert (w50.row0, w50.col0, w50.nrows, w50.ncols) == (170 * 180, 1981 * 180, 360, 540)
    assert w50.bounds == pytest.approx(w.bounds, abs=1e-6)
    assert w50.to_level("9km") == w
    w250 = w.to_level("250m")
    assert w250.shape == (72, 108)
    misaligned = grid.GridWindow("50m", 1, 0, 180, 180)
    with pytest.raises(InputError, match="aligned"):
        misaligned.to_level("9km")


def test_window_validation() -> None:
    with pytest.raises(InputError):
        grid.GridWindow("9km", 0, 0, 0, 1)
    with pytest.raises(InputError, match="outside"):
        grid.GridWindow("9km", 1620, 0, 10, 1)


def test_window_split_covers_without_overlap() -> None:
    w = grid.GridWindow("50m", 1000, 2000, 500, 730)
    tiles = w.split(200, 300, align=180)
    cover = np.zeros(w.shape, dtype=int)
    for t in tiles:
        assert t.nrows <= 180 and t.ncols <= 180  # 200 and 300 rounded down to 180-multiples
        assert (t.row0 - w.row0) % 180 == 0 and (t.col0 - w.col0) % 180 == 0
        cover[
            t.row0 - w.row0 : t.row0 - w.row0 + t.nrows, t.col0 - w.col0 : t.col0 - w.col0 + t.ncols
        ] += 1
    assert (cover == 1).all()
    plain = w.split(100, 100)
    assert len(plain) == 5 * 8
    assert sum(t.nrows * t.ncols for t in plain) == 500 * 730


def test_window_9km_covering_snaps_outward() -> None:
    s = grid.CELL_9KM
    x0 = grid.X0 + 10.2 * s
    y0 = grid.Y0 - 20.7 * s
    w = grid.window_9km_covering(x0, y0 - 1.0 * s, x0 + 2.5 * s, y0)
    assert (w.row0, w.col0) == (20, 10)
    assert (w.nrows, w.ncols) == (2, 3)
    xmin, ymin, xmax, ymax = w.bounds
    assert xmin <= x0 and xmax >= x0 + 2.5 * s and ymax >= y0 and ymin <= y0 - s
    with pytest.raises(InputError):
        grid.window_9km_covering(1.0, 1.0, 1.0, 2.0)


def test_block_mean_with_nans() -> None:
    a = np.array(
        [
            [1.0, 2.0, np.nan, np.nan],
            [3.0, np.nan, np.nan, np.nan],
            [0.5, 0.5, 4.0, 8.0],
            [0.5, 0.5, 6.0, np.nan],
        ]
    )
    out = grid.block_mean(a, 2)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out[0, 0], 2.0)
    assert np.isnan(out[0, 1])
    np.testing.assert_allclose(out[1, 0], 0.5)
    np.testing.assert_allclose(out[1, 1], 6.0)
    stacked = grid.block_mean(np.stack([a, a * 2]), 2)
    assert stacked.shape == (2, 2, 2)
    np.testing.assert_allclose(stacked[1, 1, 1], 12.0)
    with pytest.raises(InputError, match="blocks"):
        grid.block_mean(np.zeros((3, 4)), 2)
