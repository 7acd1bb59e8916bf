"""Model inputs from a scene: :class:`~core.inputs.sources.base.SceneInputs` -> 156 inputs.

Everything here goes through :mod:`core.features.contract`; no normalisation is written out in this
module. Three forms are offered:

* :func:`cell_inputs_50m`: the full ``(N, 156)`` inputs of given 50 m cells (labelled station
  cells, small batches). It is the reference form: it assembles the 153 raw variables per cell
  and maps them with :meth:`core.features.contract.InputLayout.model_inputs`.
* :func:`map_inputs_50m`: a memory-lean form for whole maps. Every 50 m cell under one 250 m
  NDVI pixel shares the NDVI series, and every cell in one 9 km cell shares the weather, so the
  138 series values are stored once per (250 m pixel, 9 km cell) pair. As the grids nest exactly,
  a 250 m pixel lies in exactly one 9 km cell and the pair is identified by the 250 m pixel.
  ``concat(snapshot, series[series_index])`` equals :func:`cell_inputs_50m` exactly.
* :func:`cell_inputs_9km`: the 9 km samples of the coarse (SMAP) loss: 50 m inputs as block
  means over each 9 km cell (EASE-2 is equal-area, so the plain mean of the valid pixels is the
  area-weighted mean), NDVI as the block mean of the 250 m series, weather as is.

Choices recorded here:

* Every function takes the model set's :class:`~core.features.contract.InputLayout` (default: the
  published set's); raw variables are assembled in the raw order of
  :data:`core.features.contract.VARIABLES`
  and the layout orders, normalises and scales them for the network.
* Rows/columns 12-14 of every 50 m cell are those of its parent 9 km cell
  (:func:`core.features.contract.grid_terms` applies the authors' row-from-1 convention).
* The day of year (3-4) is that of ``scene.date`` (the SAR acquisition date).
* A cell with any missing (NaN) input is excluded from :func:`map_inputs_50m` and from
  :func:`cell_inputs_9km`, and counted; :func:`cell_inputs_50m` keeps NaN so the caller sees it.
* At 9 km, aspect is the block mean of the 50 m cell-mean aspects in degrees, matching the
  contract's "sin/cos of the cell-mean aspect".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from ..errors import InputError
from ..inputs.grid import block_mean, factor
from ..inputs.sources.base import SceneInputs
from . import contract
from .contract import InputLayout, get_layout

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]

K50 = factor("50m")  # 180 cells of 50 m per 9 km cell side
K250 = factor("250m")  # 36
K50_PER_250 = K50 // K250  # 5 cells of 50 m per 250 m pixel side

_STATIC_NAMES = ("sand", "clay", "bdod", "elevation", "slope", "aspect")
_CHUNK = 1 << 18
"""Cells per chunk when building snapshots of whole maps (bounds the float64 temporaries)."""


def day_of_year(scene: SceneInputs) -> int:
    """Day of year (1-366) of the scene's SAR acquisition date."""
    return scene.date.timetuple().tm_yday


def _check_cells(scene: SceneInputs, rows: npt.ArrayLike, cols: npt.ArrayLike) -> tuple[I64, I64]:
    r = np.asarray(rows, dtype=np.int64).ravel()
    c = np.asarray(cols, dtype=np.int64).ravel()
    if r.shape != c.shape:
        raise InputError(f"rows and cols differ in length ({r.size} and {c.size})")
    h, w = scene.vv.shape
    bad = (r < 0) | (r >= h) | (c < 0) | (c >= w)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"50 m cell (row {r[i]}, col {c[i]}) lies outside the scene window of {h} x {w} cells"
        )
    return r, c


def _raw_snapshot_cells(scene: SceneInputs, r: I64, c: I64) -> npt.NDArray[np.float64]:
    """Assemble the 15 raw snapshot values of 50 m cells (window-relative indices), ``(N, 15)``."""
    st = scene.static
    return contract.raw_snapshot(
        vv=scene.vv[r, c],
        vh=scene.vh[r, c],
        angle=scene.angle[r, c],
        doy=np.full(1, float(day_of_year(scene))),
        sand=st.sand[r, c],
        clay=st.clay[r, c],
        bdod=st.bdod[r, c],
        elevation=st.elevation[r, c],
        slope=st.slope[r, c],
        aspect=st.aspect[r, c],
        row9=(scene.window9.row0 + r // K50).astype(np.float64),
        col9=(scene.window9.col0 + c // K50).astype(np.float64),
    )


def raw_inputs_50m(
    scene: SceneInputs, rows: npt.ArrayLike, cols: npt.ArrayLike
) -> npt.NDArray[np.float64]:
    """Assemble the 153 raw (physical-unit) contract variables of given 50 m cells.

    Args:
        scene: the scene.
        rows: window-relative 50 m rows (row 0 = northern edge of ``scene.window9``).
        cols: window-relative 50 m columns.

    Returns:
        float64 array ``(N, 153)`` in the units of :data:`core.features.contract.VARIABLES`; NaN
        where an
        input is missing. This is the layout of the authors' sample tables before normalisation.

    Raises:
        InputError: a cell lies outside the window, or rows and cols differ in length.

    """
    r, c = _check_cells(scene, rows, cols)
    snap = _raw_snapshot_cells(scene, r, c)
    ndvi = scene.ndvi[:, r // K50_PER_250, c // K50_PER_250].T
    t2m = scene.temperature[:, r // K50, c // K50].T
    tp = scene.precipitation[:, r // K50, c // K50].T
    return np.concatenate([snap, ndvi, t2m, tp], axis=1).astype(np.float64)


def cell_inputs_50m(
    scene: SceneInputs,
    rows: npt.ArrayLike,
    cols: npt.ArrayLike,
    layout: InputLayout | str | None = None,
) -> F32:
    """Build the 156 model inputs of given 50 m cells.

    Args:
        scene: the scene.
        rows: window-relative 50 m rows.
        cols: window-relative 50 m columns.
        layout: the model set's input layout (default: the published set's).

    Returns:
        float32 array ``(N, 156)``; a row holds NaN where one of the cell's inputs is missing
        (check with ``np.isfinite(x).all(axis=1)``).

    Raises:
        InputError: a cell lies outside the window.

    """
    raw = raw_inputs_50m(scene, rows, cols)
    return get_layout(layout).model_inputs(raw)


@dataclass
class SharedInputs:
    """Model inputs of a whole map with the time series stored once per 250 m pixel.

    The full inputs of cell ``i`` are ``concat(snapshot[i], series[series_index[i]])``
    (:meth:`inputs`), identical to :func:`cell_inputs_50m` for that cell.
    """

    snapshot: F32
    """(N, 18): 15 normalised snapshot values and the 3 normalised series means."""
    series: F32
    """(U, 138): normalised [NDVI x 46, temperature x 46, precipitation x 46], one row per
    (250 m NDVI pixel, 9 km weather cell) pair used by a valid cell."""
    series_index: I64
    """(N,): row of ``series`` for each cell."""
    rows: I64
    """(N,): window-relative 50 m row of each cell."""
    cols: I64
    """(N,): window-relative 50 m column of each cell."""
    valid: npt.NDArray[np.bool_]
    """(H50, W50): True for the cells kept (inside the mask, every input present)."""
    n_requested: int
    """Cells inside the mask (all cells of the window without a mask)."""
    excluded: dict[str, int] = field(default_factory=dict)
    """Cells inside the mask excluded for a missing input, by input group
    (``sar``, ``static``, ``ndvi``, ``weather``); a cell missing several counts in each."""

    def __len__(self) -> int:
        return int(self.rows.size)

    @property
    def n_valid(self) -> int:
        """Number of cells kept."""
        return len(self)

    @property
    def n_excluded(self) -> int:
        """Number of cells inside the mask excluded for a missing input."""
        return self.n_requested - len(self)

    def inputs(self, start: int = 0, stop: int | None = None) -> F32:
        """Full ``(n, 156)`` model inputs of cells ``start:stop`` (a batch for the network)."""
        sl = slice(start, stop)
        return np.concatenate([self.snapshot[sl], self.series[self.series_index[sl]]], axis=1)


def _series_250m(scene: SceneInputs, pr: I64, pc: I64, layout: InputLayout) -> F32:
    """Normalised series ``(U, 138)`` of 250 m pixels (window-relative rows ``pr``, cols ``pc``).

    The weather of a pixel is that of the 9 km cell containing it (the grids nest exactly).
    """
    ndvi = layout.normalise_series(scene.ndvi[:, pr, pc].T, "ndvi")
    t2m = layout.normalise_series(scene.temperature[:, pr // K250, pc // K250].T, "t2m")
    tp = layout.normalise_series(scene.precipitation[:, pr // K250, pc // K250].T, "tp")
    return np.concatenate([ndvi, t2m, tp], axis=1)


def map_inputs_50m(
    scene: SceneInputs,
    mask: npt.ArrayLike | None = None,
    layout: InputLayout | str | None = None,
) -> SharedInputs:
    """Model inputs of every valid 50 m cell of the scene, series shared per 250 m pixel.

    Args:
        scene: the scene.
        mask: optional ``(H50, W50)`` boolean array, True for the cells to map (e.g. the AOI
            polygon); all cells of the window when None.
        layout: the model set's input layout (default: the published set's).

    Returns:
        :class:`SharedInputs` with cells in row-major order.

    Raises:
        InputError: the mask does not have the window's 50 m shape.

    """
    lay = get_layout(layout)
    h50, w50 = scene.vv.shape
    if mask is None:
        want = np.ones((h50, w50), dtype=bool)
    else:
        want = np.asarray(mask, dtype=bool)
        if want.shape != (h50, w50):
            raise InputError(
                f"mask has shape {want.shape}, expected the window's 50 m shape {(h50, w50)}"
            )

    st = scene.static
    sar_ok = np.isfinite(scene.vv) & np.isfinite(scene.vh) & np.isfinite(scene.angle)
    static_ok = np.ones((h50, w50), dtype=bool)
    for name in _STATIC_NAMES:
        static_ok &= np.isfinite(getattr(st, name))
    ndvi_ok250 = np.isfinite(scene.ndvi).all(axis=0)
    weather_ok9 = np.isfinite(scene.temperature).all(axis=0)
    weather_ok9 &= np.isfinite(scene.precipitation).all(axis=0)
    ndvi_ok = np.repeat(np.repeat(ndvi_ok250, K50_PER_250, axis=0), K50_PER_250, axis=1)
    weather_ok = np.repeat(np.repeat(weather_ok9, K50, axis=0), K50, axis=1)
    excluded = {
        "sar": int((want & ~sar_ok).sum()),
        "static": int((want & ~static_ok).sum()),
        "ndvi": int((want & ~ndvi_ok).sum()),
        "weather": int((want & ~weather_ok).sum()),
    }
    valid = want & sar_ok & static_ok & ndvi_ok & weather_ok
    rows, cols = np.nonzero(valid)
    rows = rows.astype(np.int64)
    cols = cols.astype(np.int64)

    w250 = w50 // K50_PER_250
    pix = (rows // K50_PER_250) * w250 + cols // K50_PER_250
    used, series_index = np.unique(pix, return_inverse=True)
    series = _series_250m(scene, used // w250, used % w250, lay)
    means = contract.series_means(series)

    n = rows.size
    snapshot = np.empty((n, contract.N_MODEL_SNAPSHOT), dtype=np.float32)
    for start in range(0, n, _CHUNK):
        sl = slice(start, min(n, start + _CHUNK))
        raw = _raw_snapshot_cells(scene, rows[sl], cols[sl])
        snapshot[sl, : contract.N_SNAPSHOT] = lay.normalise_snapshot(raw)
    snapshot[:, contract.N_SNAPSHOT :] = means[series_index]
    return SharedInputs(
        snapshot=snapshot,
        series=series,
        series_index=series_index.astype(np.int64),
        rows=rows,
        cols=cols,
        valid=valid,
        n_requested=int(want.sum()),
        excluded=excluded,
    )


def raw_inputs_9km(scene: SceneInputs, circular_aspect: bool = False) -> npt.NDArray[np.float64]:
    """Assemble the 153 raw contract variables of every 9 km cell, ``(H9 * W9, 153)``.

    50 m inputs are block means of the valid 50 m values over each 9 km cell, NDVI the block
    mean of the valid 250 m values per step, weather as delivered. Cells in row-major order; NaN
    where a cell has no valid value of an input.

    Args:
        scene: the scene.
        circular_aspect: aspect terms (10, 11) as the block means of the 50 m cells' sine and
            cosine (near 0 over varied terrain) instead of the sine and cosine of the block-mean
            aspect in degrees (see :attr:`core.features.contract.InputLayout.circular_aspect`).
    """
    h9, w9 = scene.window9.shape
    st = scene.static

    def bm(a: npt.NDArray[np.floating]) -> npt.NDArray[np.float32]:
        return block_mean(a, K50).ravel()

    r9, c9 = np.divmod(np.arange(h9 * w9, dtype=np.int64), w9)
    snap = contract.raw_snapshot(
        vv=bm(scene.vv),
        vh=bm(scene.vh),
        angle=bm(scene.angle),
        doy=np.full(1, float(day_of_year(scene))),
        sand=bm(st.sand),
        clay=bm(st.clay),
        bdod=bm(st.bdod),
        elevation=bm(st.elevation),
        slope=bm(st.slope),
        aspect=bm(st.aspect),
        row9=(scene.window9.row0 + r9).astype(np.float64),
        col9=(scene.window9.col0 + c9).astype(np.float64),
    )
    if circular_aspect:
        sin_a, cos_a = contract.aspect_terms(st.aspect)
        snap[:, 10] = bm(sin_a)
        snap[:, 11] = bm(cos_a)
    ndvi = block_mean(scene.ndvi, K250).reshape(contract.N_STEPS, -1).T
    t2m = np.asarray(scene.temperature, dtype=np.float32).reshape(contract.N_STEPS, -1).T
    tp = np.asarray(scene.precipitation, dtype=np.float32).reshape(contract.N_STEPS, -1).T
    return np.concatenate([snap, ndvi, t2m, tp], axis=1).astype(np.float64)


def cell_inputs_9km(
    scene: SceneInputs, layout: InputLayout | str | None = None
) -> tuple[F32, F32, I64, I64]:
    """Labelled 9 km samples of the window for the coarse (SMAP) loss.

    Args:
        scene: the scene.
        layout: the model set's input layout (default: the published set's).

    Returns:
        ``(x, smap, rows9, cols9)``: inputs ``(M, 156)`` float32, SMAP label ``(M,)`` in m3/m3,
        and the window-relative 9 km row and column of each sample (add ``scene.window9.row0``/
        ``col0`` for global indices). Cells without SMAP or with a missing input are left out.

    """
    lay = get_layout(layout)
    raw = raw_inputs_9km(scene, circular_aspect=lay.circular_aspect)
    label = np.asarray(scene.smap, dtype=np.float32).ravel()
    ok = np.isfinite(raw).all(axis=1) & np.isfinite(label)
    x = lay.model_inputs(raw[ok])
    idx = np.flatnonzero(ok).astype(np.int64)
    rows9, cols9 = np.divmod(idx, scene.window9.ncols)
    return x, label[ok], rows9, cols9
