"""The service's limits on one pixel request, and how a request is cut into tiles under them.

Bands are grouped first (also keeping the NPY header of each answer under NumPy's 10,000-byte
default, which the client's decoder enforces), then the window is split spatially on multiples
of 180 px; :func:`split_tile` halves a tile again after a "too large" or "too heavy" refusal.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ....errors import DataSourceError
from ...grid import GridWindow
from .requests import PixelRequest

MAX_REQUEST_BYTES = 48 * 1024 * 1024
"""Largest uncompressed response computePixels accepts (50331648 bytes)."""


MAX_SIDE_PX = 32768
"""Largest width or height of one request."""


MAX_BANDS = 1024
"""Largest number of bands of one request."""


SPLIT_ALIGN_PX = 180
"""Spatial tiles start on multiples of this many pixels (one 9 km cell at 50 m)."""


NPY_HEADER_LIMIT = 10_000
"""NumPy's default limit on an NPY header (``numpy.load``'s ``max_header_size``)."""


NPY_HEADER_BUDGET = 8_000
"""Largest NPY header a band group may produce by our estimate (margin for the service's
formatting of the header, which may differ from NumPy's)."""


def npy_header_bytes(bands: Sequence[str], dtype: str, shape: tuple[int, int]) -> int:
    """Length of the NPY header of a structured ``shape`` array with one field per band.

    Computed as NumPy writes it: the dictionary literal, 21 spaces left for the shape to grow,
    a newline, padded so that the 10-byte prefix plus the header is a multiple of 64 bytes (the
    result counts the prefix too, so it is at most 10 bytes above the header's own length).
    """
    field_dtype = np.dtype(dtype).str
    fields = ", ".join(repr((str(b), field_dtype)) for b in bands)
    text = f"{{'descr': [{fields}], 'fortran_order': False, 'shape': {tuple(shape)!r}, }}"
    return (10 + len(text) + 21 + 1 + 63) // 64 * 64


def header_groups(
    bands: Sequence[str],
    dtype: str,
    shape: tuple[int, int],
    max_count: int,
    budget: int = NPY_HEADER_BUDGET,
) -> list[tuple[str, ...]]:
    """Split bands into consecutive groups of at most ``max_count`` within the header budget."""
    field_dtype = np.dtype(dtype).str
    base = npy_header_bytes([], dtype, shape) + 64
    groups: list[tuple[str, ...]] = []
    current: list[str] = []
    size = base
    for band in bands:
        extra = len(repr((str(band), field_dtype))) + 2
        if current and (len(current) >= max_count or size + extra > budget):
            groups.append(tuple(current))
            current, size = [], base
        current.append(band)
        size += extra
    if current:
        groups.append(tuple(current))
    return groups


def plan_tiles(
    request: PixelRequest,
    max_bytes: int = MAX_REQUEST_BYTES,
    max_side: int = MAX_SIDE_PX,
    max_bands: int = MAX_BANDS,
    align: int = SPLIT_ALIGN_PX,
    header_budget: int = NPY_HEADER_BUDGET,
) -> list[PixelRequest]:
    """Split a request under the limits: by band groups first, then spatially.

    Band groups also keep the NPY header of each answer within ``header_budget`` bytes (a
    structured array's header grows with its band names: 736 ERA5 bands need ~17 kB, more than
    ``numpy.load`` accepts by default).

    Args:
        request: the whole request.
        max_bytes: largest uncompressed tile.
        max_side: largest tile width/height, pixels.
        max_bands: largest number of bands per tile.
        align: spatial tiles start on multiples of this many pixels of the request window.
        header_budget: largest estimated NPY header of a tile's answer, bytes.

    Returns:
        Tiles covering the request exactly once (band groups x windows).

    """
    itemsize = np.dtype(request.dtype).itemsize
    h, w = request.grid.shape
    per_band = h * w * itemsize
    group = max(1, min(max_bands, len(request.bands), max_bytes // max(per_band, 1)))
    groups = header_groups(request.bands, request.dtype, (h, w), group, header_budget)
    tiles: list[PixelRequest] = []
    for bands in groups:
        nb = len(bands)
        max_px = max(1, max_bytes // (itemsize * nb))
        if h <= max_side and w <= max_side and h * w <= max_px:
            windows = [request.grid]
        else:
            side = min(max_side, int(max_px**0.5))
            step = max(align, (side // align) * align) if side >= align else max(1, side)
            windows = request.grid.split(step, step, align=1)
        for win in windows:
            tiles.append(request.with_bands(bands).with_grid(win))
    return tiles


def split_tile(
    tile: PixelRequest, align: int = SPLIT_ALIGN_PX, bands_first: bool = False
) -> list[PixelRequest]:
    """Split one tile in two, spatially if it can, otherwise by bands.

    Spatially: halve the longer side on ``align`` multiples when possible, otherwise on any
    pixel; by bands when the tile is a single pixel, or first when ``bands_first`` (an answer
    whose header was too large for the decoder).

    Raises:
        DataSourceError: when the tile is one pixel of one band and cannot be split.

    """
    if bands_first and len(tile.bands) > 1:
        k = len(tile.bands) // 2
        return [tile.with_bands(tile.bands[:k]), tile.with_bands(tile.bands[k:])]
    g = tile.grid
    for unit in (align, 1):
        if g.nrows >= g.ncols and g.nrows >= 2 * unit:
            half = max(unit, (g.nrows // 2 // unit) * unit)
            parts = [
                GridWindow(g.level, g.row0, g.col0, half, g.ncols),
                GridWindow(g.level, g.row0 + half, g.col0, g.nrows - half, g.ncols),
            ]
            return [tile.with_grid(p) for p in parts]
        if g.ncols >= 2 * unit:
            half = max(unit, (g.ncols // 2 // unit) * unit)
            parts = [
                GridWindow(g.level, g.row0, g.col0, g.nrows, half),
                GridWindow(g.level, g.row0, g.col0 + half, g.nrows, g.ncols - half),
            ]
            return [tile.with_grid(p) for p in parts]
        if g.nrows >= 2 * unit:
            half = max(unit, (g.nrows // 2 // unit) * unit)
            parts = [
                GridWindow(g.level, g.row0, g.col0, half, g.ncols),
                GridWindow(g.level, g.row0 + half, g.col0, g.nrows - half, g.ncols),
            ]
            return [tile.with_grid(p) for p in parts]
    if len(tile.bands) > 1:
        k = len(tile.bands) // 2
        return [tile.with_bands(tile.bands[:k]), tile.with_bands(tile.bands[k:])]
    raise DataSourceError(
        "Earth Engine cannot compute even a single pixel of this input (memory or time limit); "
        "try another date or a smaller AOI later"
    )
