"""The pixel-fetcher seam: (expression, grid, bands) requests in, NumPy arrays out.

Layers, each a :class:`PixelFetcher`:

- :class:`EarthEngineFetcher` sends one request to ``ee.data.computePixels`` (NUMPY_NDARRAY).
- :class:`TiledFetcher` splits a request under the size limits (bands first, then spatially on
  multiples of 180 px), runs the tiles in a bounded thread pool, retries transient errors with
  exponential back-off, splits a tile again on "memory limit" / "timed out" / size errors, and
  reports ``tile i/n`` progress with a cancel check between tiles.
- :class:`CachingFetcher` serves requests from the on-disk :class:`~core.cache.ArrayCache`.

Tests replace the bottom layer by a synthetic fetcher (or fake ``computePixels``).
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..cache import ArrayCache
from ..errors import Cancelled, DataSourceError, InputError
from ..grid import GridWindow
from ..progress import NULL_PROGRESS, Progress

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 48 * 1024 * 1024
"""Largest uncompressed response computePixels accepts (50331648 bytes)."""
MAX_SIDE_PX = 32768
"""Largest width or height of one request."""
MAX_BANDS = 1024
"""Largest number of bands of one request."""
SPLIT_ALIGN_PX = 180
"""Spatial tiles start on multiples of this many pixels (one 9 km cell at 50 m)."""
NODATA = -9999.0
"""Value expressions are unmasked to; turned into NaN on arrival."""

Arrays = dict[str, np.ndarray]


def _serialize(expression: Any) -> str:
    """An Earth Engine expression (or its already serialised JSON) as deterministic JSON."""
    if isinstance(expression, str):
        return expression
    return str(expression.serialize())


@dataclass(frozen=True, eq=False)
class PixelRequest:
    """One pixel request: an image expression sampled on a grid window, some bands.

    Attributes:
        expression: an ``ee.Image`` (or any object with ``serialize()``), or its serialised
            JSON string.
        grid: the pixel grid (an EASE-2 window; sent as ``GridWindow.ee_grid()``).
        bands: band ids to return, in order.
        dtype: NumPy dtype of the returned arrays.
        nodata: value that marks missing pixels in the response (becomes NaN for floats).
        label: short human name for progress messages (not part of the key).

    """

    expression: Any
    grid: GridWindow
    bands: tuple[str, ...]
    dtype: str = "float32"
    nodata: float | None = NODATA
    label: str = ""

    def __post_init__(self) -> None:
        if not self.bands:
            raise InputError("a pixel request needs at least one band")
        if len(set(self.bands)) != len(self.bands):
            raise InputError(f"duplicate band ids in a pixel request: {list(self.bands)}")
        np.dtype(self.dtype)

    @cached_property
    def serialized(self) -> str:
        """The expression as serialised JSON (deterministic)."""
        return _serialize(self.expression)

    def key(self) -> str:
        """Stable SHA-256 of the serialised expression, the grid, the bands, dtype and nodata."""
        payload = json.dumps(
            {
                "expression": self.serialized,
                "grid": self.grid.ee_grid(),
                "bands": list(self.bands),
                "dtype": np.dtype(self.dtype).str,
                "nodata": self.nodata,
            },
            sort_keys=True,
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    @property
    def nbytes(self) -> int:
        """Uncompressed response size (H x W x bytes per band x bands)."""
        return self.grid.nrows * self.grid.ncols * np.dtype(self.dtype).itemsize * len(self.bands)

    def with_grid(self, grid: GridWindow) -> PixelRequest:
        """Return the same request on another window (keeps the serialised expression)."""
        new = replace(self, grid=grid)
        new.__dict__["serialized"] = self.serialized
        return new

    def with_bands(self, bands: Sequence[str]) -> PixelRequest:
        """Return the same request for a subset of bands."""
        new = replace(self, bands=tuple(bands))
        new.__dict__["serialized"] = self.serialized
        return new


@runtime_checkable
class PixelFetcher(Protocol):
    """Anything that answers pixel requests with one 2-D array per band."""

    def fetch(self, request: PixelRequest, progress: Progress | None = None) -> Arrays:
        """Return ``{band: (H, W) array}`` for every band of the request, row 0 north."""
        ...


# -- errors ----------------------------------------------------------------------------------


class SplitNeeded(DataSourceError):
    """The server refused a tile as too large or too heavy; smaller tiles may pass."""


class Transient(DataSourceError):
    """A transient server error (quota, 5xx): retry after a pause."""


_SPLIT_MARKERS = (
    "computation timed out",
    "user memory limit exceeded",
    "memory limit",
    "total request size",
    "request payload size",
    "must be less than or equal to",
    "too many pixels",
    "too many bands",
    "response size exceeds",
)
_RETRY_MARKERS = (
    "too many requests",
    "quota exceeded",
    "rate limit",
    "internal error",
    "internal server error",
    "service unavailable",
    "backend error",
    "bad gateway",
    "gateway timeout",
    "deadline exceeded",
)
_RETRY_CODE = re.compile(r"(http|status|code|error)\W{0,3}(429|50[0234])\b")


def classify_error(exc: BaseException) -> str:
    """Classify a fetch failure.

    Returns:
        ``"split"`` (too big or too heavy: split the tile), ``"retry"`` (transient), or
        ``"fatal"``.

    """
    if isinstance(exc, SplitNeeded):
        return "split"
    if isinstance(exc, Transient):
        return "retry"
    if isinstance(exc, Cancelled):
        return "fatal"
    text = str(exc).lower()
    if any(m in text for m in _SPLIT_MARKERS):
        return "split"
    if any(m in text for m in _RETRY_MARKERS) or _RETRY_CODE.search(text):
        return "retry"
    return "fatal"


# -- Earth Engine ----------------------------------------------------------------------------


class EarthEngineFetcher:
    """One ``ee.data.computePixels`` call per request (Earth Engine must be initialised)."""

    def fetch(self, request: PixelRequest, progress: Progress | None = None) -> Arrays:
        """Send the request as NUMPY_NDARRAY and decode the structured array.

        Raises:
            Exception: the client library's ``EEException`` untranslated, so that the tiler can
                classify it; :class:`TiledFetcher` translates what it does not handle.

        """
        import ee

        expression = request.expression
        if isinstance(expression, str):
            expression = ee.deserializer.fromJSON(expression)
        params = {
            "expression": expression,
            "fileFormat": "NUMPY_NDARRAY",
            "bandIds": list(request.bands),
            "grid": request.grid.ee_grid(),
        }
        raw = ee.data.computePixels(params)
        return decode_pixels(raw, request)


def decode_pixels(raw: Any, request: PixelRequest) -> Arrays:
    """Turn a computePixels NumPy answer into ``{band: (H, W) array}`` of the request's dtype.

    Accepts a structured ``(H, W)`` array (one field per band) or a plain ``(H, W, B)`` one.
    Pixels equal to ``request.nodata`` become NaN (float dtypes).

    Raises:
        DataSourceError: when the answer's shape or bands do not match the request.

    """
    arr = np.asarray(raw)
    h, w = request.grid.shape
    out: Arrays = {}
    dtype = np.dtype(request.dtype)
    for i, band in enumerate(request.bands):
        if arr.dtype.names is not None:
            if band not in arr.dtype.names:
                raise DataSourceError(
                    f"Earth Engine returned bands {list(arr.dtype.names)}, missing {band!r}"
                )
            values = np.asarray(arr[band])
        else:
            if arr.ndim != 3 or arr.shape[2] != len(request.bands):
                raise DataSourceError(f"unexpected pixel array of shape {arr.shape}")
            values = arr[..., i]
        if values.shape != (h, w):
            raise DataSourceError(
                f"Earth Engine returned {values.shape} pixels for band {band!r}, expected {(h, w)}"
            )
        values = values.astype(dtype, copy=True)
        if request.nodata is not None and np.issubdtype(dtype, np.floating):
            values[values == request.nodata] = np.nan
        out[band] = values
    return out


# -- tiling ----------------------------------------------------------------------------------


def plan_tiles(
    request: PixelRequest,
    max_bytes: int = MAX_REQUEST_BYTES,
    max_side: int = MAX_SIDE_PX,
    max_bands: int = MAX_BANDS,
    align: int = SPLIT_ALIGN_PX,
) -> list[PixelRequest]:
    """Split a request under the limits: by band groups first, then spatially.

    Args:
        request: the whole request.
        max_bytes: largest uncompressed tile.
        max_side: largest tile width/height, pixels.
        max_bands: largest number of bands per tile.
        align: spatial tiles start on multiples of this many pixels of the request window.

    Returns:
        Tiles covering the request exactly once (band groups x windows).

    """
    itemsize = np.dtype(request.dtype).itemsize
    h, w = request.grid.shape
    per_band = h * w * itemsize
    group = max(1, min(max_bands, len(request.bands), max_bytes // max(per_band, 1)))
    groups = [request.bands[i : i + group] for i in range(0, len(request.bands), group)]
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


def split_tile(tile: PixelRequest, align: int = SPLIT_ALIGN_PX) -> list[PixelRequest]:
    """Split one tile in two, spatially if it can, otherwise by bands.

    Spatially: halve the longer side on ``align`` multiples when possible, otherwise on any
    pixel; by bands when the tile is a single pixel.

    Raises:
        DataSourceError: when the tile is one pixel of one band and cannot be split.

    """
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


@dataclass
class TiledFetcher:
    """Split, parallelise and retry requests over an inner (single-call) fetcher.

    Attributes:
        inner: the fetcher answering one tile (e.g. :class:`EarthEngineFetcher`).
        max_bytes: largest tile, bytes.
        max_side: largest tile side, pixels.
        max_bands: largest band count per tile.
        workers: thread pool size (at most 8: the project quota is 40 concurrent requests).
        max_retries: retries of a transient error before giving up.
        backoff_s: first back-off pause; doubles at each retry (plus up to 50 % jitter).
        max_splits: how deep a tile may be split again after memory/time/size errors.
        sleep: the pause function (tests pass a recorder).
        translate: turns an unhandled exception into a ``SoilMoistureError`` (default:
            :func:`core.sources.ee_auth.translate_error`).

    """

    inner: PixelFetcher
    max_bytes: int = MAX_REQUEST_BYTES
    max_side: int = MAX_SIDE_PX
    max_bands: int = MAX_BANDS
    workers: int = 8
    max_retries: int = 5
    backoff_s: float = 2.0
    max_splits: int = 8
    sleep: Callable[[float], None] = time.sleep
    translate: Callable[[BaseException], Exception] | None = None
    stats: dict[str, int] = field(default_factory=lambda: {"calls": 0, "retries": 0, "splits": 0})

    def __post_init__(self) -> None:
        if not 1 <= self.workers <= 8:
            raise InputError(f"workers must be between 1 and 8, got {self.workers}")
        self._lock = threading.Lock()

    def _count(self, name: str) -> None:
        with self._lock:
            self.stats[name] += 1

    def fetch(self, request: PixelRequest, progress: Progress | None = None) -> Arrays:
        """Fetch a request tile by tile and assemble the full arrays.

        Raises:
            Cancelled: when the user cancels (checked between tiles).
            DataSourceError: when a tile fails for good (translated to a plain message).

        """
        progress = progress or NULL_PROGRESS
        tiles = plan_tiles(request, self.max_bytes, self.max_side, self.max_bands)
        h, w = request.grid.shape
        dtype = np.dtype(request.dtype)
        fill = np.nan if np.issubdtype(dtype, np.floating) else 0
        out = {b: np.full((h, w), fill, dtype=dtype) for b in request.bands}
        stop = threading.Event()
        n = len(tiles)
        label = f"{request.label} " if request.label else ""
        progress.check()
        progress.message(f"{label}tile 0/{n}")
        done = 0
        with cf.ThreadPoolExecutor(max_workers=min(self.workers, n)) as pool:
            pending = {pool.submit(self._fetch_tile, t, 0, stop) for t in tiles}
            try:
                while pending:
                    finished, pending = cf.wait(
                        pending, timeout=0.2, return_when=cf.FIRST_COMPLETED
                    )
                    for fut in finished:
                        for tile, arrays in fut.result():
                            self._place(out, request.grid, tile, arrays)
                        done += 1
                        progress.fraction(done / n)
                        progress.message(f"{label}tile {done}/{n}")
                    if progress.cancelled:
                        raise Cancelled()
            except BaseException:
                stop.set()
                for fut in pending:
                    fut.cancel()
                raise
        return out

    def _fetch_tile(
        self, tile: PixelRequest, depth: int, stop: threading.Event
    ) -> list[tuple[PixelRequest, Arrays]]:
        attempt = 0
        while True:
            if stop.is_set():
                raise Cancelled()
            try:
                self._count("calls")
                return [(tile, self.inner.fetch(tile))]
            except Exception as exc:  # noqa: BLE001 - classified below
                kind = classify_error(exc)
                if kind == "split" and depth < self.max_splits:
                    self._count("splits")
                    log.info("splitting tile %s after: %s", tile.grid, exc)
                    parts = split_tile(tile)
                    result: list[tuple[PixelRequest, Arrays]] = []
                    for part in parts:
                        result.extend(self._fetch_tile(part, depth + 1, stop))
                    return result
                if kind == "retry" and attempt < self.max_retries:
                    pause = self.backoff_s * (2**attempt) * (1.0 + 0.5 * random.random())
                    attempt += 1
                    self._count("retries")
                    log.info("retry %d after %.1f s: %s", attempt, pause, exc)
                    self.sleep(pause)
                    continue
                raise self._translate(exc) from exc

    def _translate(self, exc: BaseException) -> BaseException:
        if isinstance(exc, (Cancelled, DataSourceError)) and not isinstance(
            exc, (SplitNeeded, Transient)
        ):
            return exc
        if self.translate is not None:
            return self.translate(exc)
        from .ee_auth import translate_error

        return translate_error(exc)

    @staticmethod
    def _place(out: Arrays, whole: GridWindow, tile: PixelRequest, arrays: Arrays) -> None:
        r = tile.grid.row0 - whole.row0
        c = tile.grid.col0 - whole.col0
        for band in tile.bands:
            out[band][r : r + tile.grid.nrows, c : c + tile.grid.ncols] = arrays[band]


@dataclass
class CachingFetcher:
    """Serve requests from the on-disk cache; fetch and store on a miss.

    Attributes:
        inner: the fetcher used on a miss (None = offline: a miss is an error).
        cache: the array cache (default: the user's cache folder).

    """

    inner: PixelFetcher | None
    cache: ArrayCache = field(default_factory=ArrayCache)
    hits: int = 0
    misses: int = 0

    def fetch(self, request: PixelRequest, progress: Progress | None = None) -> Arrays:
        """Return cached arrays for the request's key, or fetch, store and return them.

        Raises:
            DataSourceError: on a miss when offline.

        """
        key = request.key()
        cached = self.cache.get(key)
        if cached is not None and all(b in cached for b in request.bands):
            self.hits += 1
            if progress is not None:
                progress.fraction(1.0)
            return {b: cached[b] for b in request.bands}
        self.misses += 1
        if self.inner is None:
            raise DataSourceError(
                f"{request.label or 'an input'} for this AOI and date is not in the cache and "
                "the source is offline: connect to the network and run once online, or use the "
                "demo source"
            )
        arrays = self.inner.fetch(request, progress)
        self.cache.put(key, {b: arrays[b] for b in request.bands})
        return arrays


# -- small metadata requests (computeValue) ----------------------------------------------------


@dataclass(frozen=True, eq=False)
class ValueRequest:
    """A small metadata request answered by ``ee.data.computeValue`` (JSON result).

    Attributes:
        expression: an ee object (or its serialised JSON).
        label: what it is (``"s1-acquisitions"``, ``"scene-metadata"``); not part of the key.
        params: the plain parameters it was built from (for logs and synthetic fetchers);
            not part of the key.
        cacheable: False when the answer may still change (recent dates): never cached.

    """

    expression: Any
    label: str
    params: dict[str, Any] = field(default_factory=dict)
    cacheable: bool = True

    @cached_property
    def serialized(self) -> str:
        """The expression as serialised JSON."""
        return _serialize(self.expression)

    def key(self) -> str:
        """SHA-256 of the serialised expression."""
        payload = json.dumps({"value": self.serialized}, sort_keys=True)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@runtime_checkable
class ValueFetcher(Protocol):
    """Anything that answers metadata requests with a JSON-like value."""

    def compute(self, request: ValueRequest) -> Any:
        """Return the value of the request's expression."""
        ...


@dataclass
class EarthEngineValueFetcher:
    """``ee.data.computeValue`` with back-off on transient errors and translated failures."""

    max_retries: int = 5
    backoff_s: float = 2.0
    sleep: Callable[[float], None] = time.sleep

    def compute(self, request: ValueRequest) -> Any:
        """Compute the value (Earth Engine must be initialised).

        Raises:
            DataSourceError: translated failure.

        """
        import ee

        expression = request.expression
        if isinstance(expression, str):
            expression = ee.deserializer.fromJSON(expression)
        attempt = 0
        while True:
            try:
                return ee.data.computeValue(expression)
            except Exception as exc:  # noqa: BLE001 - classified below
                if classify_error(exc) == "retry" and attempt < self.max_retries:
                    self.sleep(self.backoff_s * (2**attempt) * (1.0 + 0.5 * random.random()))
                    attempt += 1
                    continue
                from .ee_auth import translate_error

                raise translate_error(exc) from exc


@dataclass
class CachingValueFetcher:
    """Serve cacheable metadata requests from the on-disk cache.

    Attributes:
        inner: the fetcher used on a miss (None = offline).
        cache: the array cache (JSON entries).

    """

    inner: ValueFetcher | None
    cache: ArrayCache = field(default_factory=ArrayCache)

    def compute(self, request: ValueRequest) -> Any:
        """Return the cached value, or compute it (and store when cacheable).

        Raises:
            DataSourceError: on a miss when offline.

        """
        key = request.key()
        if request.cacheable or self.inner is None:
            value = self.cache.get_json(key)
            if value is not None:
                return value
        if self.inner is None:
            raise DataSourceError(
                f"the {request.label} for this AOI and dates is not in the cache and the source "
                "is offline: connect to the network and run once online, or use the demo source"
            )
        value = self.inner.compute(request)
        if request.cacheable:
            self.cache.put_json(key, value)
        return value
