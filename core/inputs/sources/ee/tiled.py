"""The tiling fetcher: split a pixel request under the limits, fetch the tiles, retry, assemble.

:class:`TiledFetcher` runs the tiles of :func:`.tiling.plan_tiles` in a bounded thread pool,
retries transient errors with exponential back-off, splits a tile again on "memory limit" /
"timed out" / size errors, and reports ``tile i/n`` progress. A cancel is honoured within a
fraction of a second even with requests in flight: they are abandoned.

Unit tests of the tiling logic use a synthetic fetcher; the Earth Engine layers are tested
through the real client over a fake HTTP transport (``tests/core/ee_fakes.py``).
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ....errors import Cancelled, DataSourceError, InputError
from ....progress import NULL_PROGRESS, CallbackProgress, Progress
from ...grid import GridWindow
from .failures import SplitNeeded, Transient, classify_error, translate_error
from .requests import Arrays, PixelFetcher, PixelRequest
from .tiling import MAX_BANDS, MAX_REQUEST_BYTES, MAX_SIDE_PX, plan_tiles, split_tile

log = logging.getLogger(__name__)


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
            :func:`.failures.translate_error`).

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
        # Not a ``with`` block: leaving it would wait for requests in flight; a cancel or a
        # failure abandons them instead (their answers are dropped, nothing is stored).
        pool = cf.ThreadPoolExecutor(
            max_workers=min(self.workers, n), thread_name_prefix="earth-engine-tile"
        )
        pending = {pool.submit(self._fetch_tile, t, 0, stop) for t in tiles}
        try:
            while pending:
                finished, pending = cf.wait(pending, timeout=0.1, return_when=cf.FIRST_COMPLETED)
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
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
        return out

    def _fetch_tile(
        self, tile: PixelRequest, depth: int, stop: threading.Event
    ) -> list[tuple[PixelRequest, Arrays]]:
        attempt = 0
        watch = CallbackProgress(is_cancelled=stop.is_set)
        while True:
            if stop.is_set():
                raise Cancelled()
            try:
                self._count("calls")
                return [(tile, self.inner.fetch(tile, watch))]
            except Exception as exc:  # noqa: BLE001 - classified below
                kind = classify_error(exc)
                if kind in ("split", "bands") and depth < self.max_splits:
                    self._count("splits")
                    log.info("splitting tile %s after: %s", tile.grid, exc)
                    parts = split_tile(tile, bands_first=kind == "bands")
                    result: list[tuple[PixelRequest, Arrays]] = []
                    for part in parts:
                        result.extend(self._fetch_tile(part, depth + 1, stop))
                    return result
                if kind == "retry" and attempt < self.max_retries:
                    pause = self.backoff_s * (2**attempt) * (1.0 + 0.5 * random.random())
                    attempt += 1
                    self._count("retries")
                    log.info("retry %d after %.1f s: %s", attempt, pause, exc)
                    if stop.wait(0) or self._pause(pause, stop):
                        raise Cancelled() from None
                    continue
                raise self._translate(exc) from exc

    def _pause(self, seconds: float, stop: threading.Event) -> bool:
        """Sleep ``seconds`` (through :attr:`sleep`); True when stopped meanwhile."""
        if self.sleep is time.sleep:
            return stop.wait(seconds)
        self.sleep(seconds)
        return stop.is_set()

    def _translate(self, exc: BaseException) -> BaseException:
        if isinstance(exc, (Cancelled, DataSourceError)) and not isinstance(
            exc, (SplitNeeded, Transient)
        ):
            return exc
        if self.translate is not None:
            return self.translate(exc)
        return translate_error(exc)

    @staticmethod
    def _place(out: Arrays, whole: GridWindow, tile: PixelRequest, arrays: Arrays) -> None:
        r = tile.grid.row0 - whole.row0
        c = tile.grid.col0 - whole.col0
        for band in tile.bands:
            out[band][r : r + tile.grid.nrows, c : c + tile.grid.ncols] = arrays[band]
