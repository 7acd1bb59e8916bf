"""EASE-Grid 2.0 global grids (EPSG:6933): the 9 km grid and its exact nested 250 m and 50 m grids.

The 9 km cell size is the SMAP L3 one; the nested levels divide it exactly (9 km / 36 and
9 km / 180), never rounded, so a 50 m cell always lies inside exactly one 9 km cell:
``parent = (row50 // 180, col50 // 180)``.

Row 0 is the northern edge; ``row = floor((y0 - y) / s)``, ``col = floor((x - x0) / s)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import InputError

CELL_9KM = 9008.055210146
"""Cell size of the 9 km EASE-2 global grid, metres."""
X0 = -17367530.4451615
"""x of the grid's upper-left corner, metres (EPSG:6933)."""
Y0 = 7314540.8306386
"""y of the grid's upper-left corner, metres (EPSG:6933)."""
ROWS_9KM = 1624
COLS_9KM = 3856

LEVELS: dict[str, int] = {"9km": 1, "250m": 36, "50m": 180}
"""Subdivisions of one 9 km cell per side, by level name."""

EPSG = 6933

EASE2_WKT = (
    'PROJCS["WGS 84 / NSIDC EASE-Grid 2.0 Global",'
    'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,'
    'AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,'
    'AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],'
    'AUTHORITY["EPSG","4326"]],PROJECTION["Cylindrical_Equal_Area"],'
    'PARAMETER["standard_parallel_1",30],PARAMETER["central_meridian",0],'
    'PARAMETER["false_easting",0],PARAMETER["false_northing",0],'
    'UNIT["metre",1,AUTHORITY["EPSG","9001"]],AXIS["Easting",EAST],AXIS["Northing",NORTH],'
    'AUTHORITY["EPSG","6933"]]'
)
"""WKT1 of EPSG:6933, sent to Earth Engine as ``crsWkt`` (it refuses the literal code)."""


def factor(level: str) -> int:
    """Number of cells of ``level`` along one side of a 9 km cell."""
    try:
        return LEVELS[level]
    except KeyError:
        raise InputError(f"unknown grid level {level!r}; allowed: {', '.join(LEVELS)}") from None


def cell_size(level: str) -> float:
    """Cell size in metres of a grid level (exact division of the 9 km cell)."""
    return CELL_9KM / factor(level)


def shape(level: str) -> tuple[int, int]:
    """Global (rows, cols) of a grid level."""
    f = factor(level)
    return ROWS_9KM * f, COLS_9KM * f


def rowcol(
    x: npt.ArrayLike, y: npt.ArrayLike, level: str
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Cell (row, col) containing EPSG:6933 coordinates (x, y)."""
    s = cell_size(level)
    row = np.floor((Y0 - np.asarray(y, dtype=np.float64)) / s).astype(np.int64)
    col = np.floor((np.asarray(x, dtype=np.float64) - X0) / s).astype(np.int64)
    return row, col


def cell_center(
    row: npt.ArrayLike, col: npt.ArrayLike, level: str
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """EPSG:6933 coordinates (x, y) of the centre of cell (row, col)."""
    s = cell_size(level)
    x = X0 + (np.asarray(col, dtype=np.float64) + 0.5) * s
    y = Y0 - (np.asarray(row, dtype=np.float64) + 0.5) * s
    return x, y


@cache
def _transformer(src: Any, dst: Any) -> Any:
    from pyproj import Transformer

    return Transformer.from_crs(src, dst, always_xy=True)


def lonlat_to_xy(
    lon: npt.ArrayLike, lat: npt.ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Project WGS 84 lon/lat (degrees) to EPSG:6933 metres."""
    x, y = _transformer("EPSG:4326", f"EPSG:{EPSG}").transform(
        np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    )
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def lon_text(lon: float) -> str:
    """``97.4700 W``: a longitude with its hemisphere, never a negative east."""
    return f"{abs(lon):.4f} {'E' if lon >= 0 else 'W'}"


def lat_text(lat: float) -> str:
    """``36.6400 N``: a latitude with its hemisphere."""
    return f"{abs(lat):.4f} {'N' if lat >= 0 else 'S'}"


def xy_to_lonlat(
    x: npt.ArrayLike, y: npt.ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Unproject EPSG:6933 metres to WGS 84 lon/lat (degrees)."""
    lon, lat = _transformer(f"EPSG:{EPSG}", "EPSG:4326").transform(
        np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    )
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def lonlat_to_rowcol(
    lon: npt.ArrayLike, lat: npt.ArrayLike, level: str
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Cell (row, col) of ``level`` containing WGS 84 lon/lat."""
    x, y = lonlat_to_xy(lon, lat)
    return rowcol(x, y, level)


def parent(
    row: npt.ArrayLike, col: npt.ArrayLike, level: str, parent_level: str = "9km"
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Row/col of the cell of ``parent_level`` containing cell (row, col) of ``level``."""
    f, fp = factor(level), factor(parent_level)
    if f % fp:
        raise InputError(f"{parent_level} is not a parent level of {level}")
    k = f // fp
    return np.asarray(row, dtype=np.int64) // k, np.asarray(col, dtype=np.int64) // k


def children(row: int, col: int, level: str, child_level: str) -> tuple[slice, slice]:
    """Row and column slices (global indices) of the ``child_level`` cells inside one cell."""
    f, fc = factor(level), factor(child_level)
    if fc % f:
        raise InputError(f"{child_level} is not a child level of {level}")
    k = fc // f
    return slice(row * k, (row + 1) * k), slice(col * k, (col + 1) * k)


@dataclass(frozen=True)
class GridWindow:
    """A rectangular window of a grid level: global (row0, col0) and size (nrows, ncols)."""

    level: str
    row0: int
    col0: int
    nrows: int
    ncols: int

    def __post_init__(self) -> None:
        factor(self.level)
        if self.nrows <= 0 or self.ncols <= 0:
            raise InputError(
                f"a grid window needs at least one cell, got {self.nrows} x {self.ncols}"
            )
        grows, gcols = shape(self.level)
        if (
            self.row0 < 0
            or self.col0 < 0
            or self.row0 + self.nrows > grows
            or self.col0 + self.ncols > gcols
        ):
            raise InputError(
                f"grid window rows {self.row0}..{self.row0 + self.nrows - 1}, cols "
                f"{self.col0}..{self.col0 + self.ncols - 1} lies outside the global "
                f"{self.level} grid"
            )

    @property
    def cell_size(self) -> float:
        """Cell size in metres."""
        return cell_size(self.level)

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols) of the window."""
        return self.nrows, self.ncols

    @property
    def x_ul(self) -> float:
        """X of the window's upper-left corner (EPSG:6933 m)."""
        return X0 + self.col0 * self.cell_size

    @property
    def y_ul(self) -> float:
        """Y of the window's upper-left corner (EPSG:6933 m)."""
        return Y0 - self.row0 * self.cell_size

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) in EPSG:6933 metres."""
        s = self.cell_size
        return self.x_ul, self.y_ul - self.nrows * s, self.x_ul + self.ncols * s, self.y_ul

    def affine(self) -> tuple[float, float, float, float, float, float]:
        """GDAL-order affine (a, b, c, d, e, f) as rasterio's ``Affine(a, b, c, d, e, f)``."""
        s = self.cell_size
        return (s, 0.0, self.x_ul, 0.0, -s, self.y_ul)

    def ee_grid(self) -> dict[str, Any]:
        """The ``grid`` member of an Earth Engine ``computePixels`` request."""
        s = self.cell_size
        return {
            "dimensions": {"width": self.ncols, "height": self.nrows},
            "affineTransform": {
                "scaleX": s,
                "shearX": 0,
                "translateX": self.x_ul,
                "shearY": 0,
                "scaleY": -s,
                "translateY": self.y_ul,
            },
            "crsWkt": EASE2_WKT,
        }

    def to_level(self, level: str) -> GridWindow:
        """The same area on another level (must nest exactly: coarse -> fine always does)."""
        f_self, f_new = factor(self.level), factor(level)
        if f_new >= f_self:
            if f_new % f_self:
                raise InputError(f"{level} does not nest in {self.level}")
            k = f_new // f_self
            return GridWindow(level, self.row0 * k, self.col0 * k, self.nrows * k, self.ncols * k)
        if f_self % f_new:
            raise InputError(f"{self.level} does not nest in {level}")
        k = f_self // f_new
        if self.row0 % k or self.col0 % k or self.nrows % k or self.ncols % k:
            raise InputError(f"window is not aligned to whole {level} cells")
        return GridWindow(level, self.row0 // k, self.col0 // k, self.nrows // k, self.ncols // k)

    def cell_rowcol(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Global (row, col) of every cell, as two ``(nrows, ncols)`` arrays."""
        rows = np.arange(self.row0, self.row0 + self.nrows, dtype=np.int64)
        cols = np.arange(self.col0, self.col0 + self.ncols, dtype=np.int64)
        r, c = np.meshgrid(rows, cols, indexing="ij")
        return r, c

    def split(self, max_rows: int, max_cols: int, align: int = 1) -> list[GridWindow]:
        """Split into tiles of about ``max_rows`` x ``max_cols`` cells.

        Tile edges fall on multiples of ``align`` cells; when ``align`` exceeds a maximum, tiles
        are ``align`` cells on that side.
        """
        step_r = max(align, (max_rows // align) * align)
        step_c = max(align, (max_cols // align) * align)
        tiles = []
        for r in range(0, self.nrows, step_r):
            for c in range(0, self.ncols, step_c):
                tiles.append(
                    GridWindow(
                        self.level,
                        self.row0 + r,
                        self.col0 + c,
                        min(step_r, self.nrows - r),
                        min(step_c, self.ncols - c),
                    )
                )
        return tiles


def window_9km_covering(xmin: float, ymin: float, xmax: float, ymax: float) -> GridWindow:
    """The smallest window of whole 9 km cells covering an EPSG:6933 bounding box."""
    if not (xmax > xmin and ymax > ymin):
        raise InputError(f"empty bounding box ({xmin}, {ymin}, {xmax}, {ymax})")
    s = CELL_9KM
    col0 = math.floor((xmin - X0) / s)
    col1 = math.ceil((xmax - X0) / s)
    row0 = math.floor((Y0 - ymax) / s)
    row1 = math.ceil((Y0 - ymin) / s)
    return GridWindow("9km", row0, col0, row1 - row0, col1 - col0)


def block_mean(array: npt.NDArray[np.floating], k: int) -> npt.NDArray[np.float32]:
    """Mean of valid (non-NaN) values over k x k blocks of the last two axes.

    EASE-2 is equal-area, so this is the area-weighted mean. Blocks without a valid value are NaN.
    """
    a = np.asarray(array, dtype=np.float32)
    *lead, h, w = a.shape
    if h % k or w % k:
        raise InputError(f"array of {h} x {w} is not a whole number of {k} x {k} blocks")
    blocks = a.reshape(*lead, h // k, k, w // k, k)
    valid = ~np.isnan(blocks)
    total = np.where(valid, blocks, 0.0).sum(axis=(-3, -1), dtype=np.float64)
    count = valid.sum(axis=(-3, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = total / count
    return np.where(count > 0, out, np.nan).astype(np.float32)
