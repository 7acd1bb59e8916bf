"""The pixel-fetcher seam: (expression, grid, bands) requests in, NumPy arrays out.

Layers, each a :class:`PixelFetcher`:

- :class:`EarthEngineFetcher` sends one request to ``ee.data.computePixels`` (NUMPY_NDARRAY)
  with a per-request deadline, in the grid form the service was found to accept
  (:func:`probe_grid_form`).
- :class:`TiledFetcher` splits a request under the service's limits (bands first, then
  spatially on multiples of 180 px; band groups also keep the NPY header of the answer under
  NumPy's 10,000-byte default, which the client's decoder enforces), runs the tiles in a bounded
  thread pool, retries transient errors with exponential back-off, splits a tile again on
  "memory limit" / "timed out" / size errors, and reports ``tile i/n`` progress. A cancel is
  honoured within a fraction of a second even with requests in flight: they are abandoned.
- :class:`CachingFetcher` serves requests from the on-disk :class:`~core.inputs.cache.ArrayCache`;
  it
  stores a request only once all of it has arrived.

Unit tests of the tiling logic use a synthetic fetcher; the Earth Engine layers are tested
through the real client over a fake HTTP transport (``tests/core/ee_fakes.py``).
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

from ...errors import Cancelled, DataSourceError, InputError
from ...progress import NULL_PROGRESS, CallbackProgress, Progress
from ..cache import ArrayCache
from ..grid import GridWindow

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
NPY_HEADER_LIMIT = 10_000
"""NumPy's default limit on an NPY header (``numpy.load``'s ``max_header_size``)."""
NPY_HEADER_BUDGET = 8_000
"""Largest NPY header a band group may produce by our estimate (margin for the service's
formatting of the header, which may differ from NumPy's)."""
REQUEST_DEADLINE_S = 300.0
"""A request still unanswered after this long is abandoned and retried."""

Arrays = dict[str, np.ndarray]


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


# -- grid forms ------------------------------------------------------------------------------

GRID_FORMS = ("wkt", "wkt-plain", "code")
"""How the EASE-2 grid's projection can be sent: WKT with its EPSG authority, WKT without any
authority clause, or the code ``EPSG:6933``. Which one the service parses cannot be settled
offline, so the first request of a session probes them in this order."""
GRID_FORM_NAMES = {
    "wkt": "WKT with the EPSG:6933 authority (crsWkt)",
    "wkt-plain": "WKT without authority clauses (crsWkt)",
    "code": "the code EPSG:6933 (crsCode)",
}
_AUTHORITY = re.compile(r',AUTHORITY\["[^"]*","[^"]*"\]')
_grid_state: dict[str, str | None] = {"form": None}
_grid_lock = threading.Lock()
_probe_lock = threading.Lock()


def ee_grid(window: GridWindow, form: str = "wkt") -> dict[str, Any]:
    """The ``grid`` member of a computePixels request in one of :data:`GRID_FORMS`."""
    grid = window.ee_grid()
    if form == "wkt":
        return grid
    wkt = grid.pop("crsWkt")
    if form == "wkt-plain":
        grid["crsWkt"] = _AUTHORITY.sub("", wkt)
    elif form == "code":
        grid["crsCode"] = "EPSG:6933"
    else:
        raise InputError(f"unknown grid form {form!r}; expected one of {GRID_FORMS}")
    return grid


def grid_form() -> str | None:
    """The grid form found to work in this session (None before the probe)."""
    with _grid_lock:
        return _grid_state["form"]


def forget_grid_form() -> None:
    """Forget the probed grid form (a new session probes again)."""
    with _grid_lock:
        _grid_state["form"] = None


_CRS_MARKERS = ("could not be parsed", "crs", "projection", "wkt", "coordinate reference")


def probe_grid_form(
    window: GridWindow,
    compute: Callable[[dict[str, Any]], Any] | None = None,
    forms: Sequence[str] = GRID_FORMS,
    wait_s: float = REQUEST_DEADLINE_S,
) -> str:
    """Find which grid form the service accepts with a tiny request (2 x 2 cells); remember it.

    Tried in order; a refusal that names the projection moves on to the next form, any other
    failure is raised as it is (it is not about the grid). Does nothing when a form is known;
    concurrent callers wait for one probe.

    Args:
        window: where to probe (its top-left 2 x 2 cells are used).
        compute: the computePixels function (default ``ee.data.computePixels``).
        forms: the forms to try.
        wait_s: how long to wait for a probe already running elsewhere.

    Returns:
        The accepted form (one of :data:`GRID_FORMS`).

    Raises:
        DataSourceError: when the service refuses every form.
        RequestTimeout: when another probe did not finish within ``wait_s``.

    """
    known = grid_form()
    if known is not None:
        return known
    if not _probe_lock.acquire(timeout=wait_s):
        raise RequestTimeout(f"grid probe: no answer from Earth Engine within {wait_s:.0f} s")
    try:
        known = grid_form()
        if known is not None:
            return known
        import ee

        compute = compute or ee.data.computePixels
        tiny = GridWindow(window.level, window.row0, window.col0, 2, 2)
        refusals: list[str] = []
        for form in forms:
            params = {
                "expression": ee.Image.constant(1).rename("probe").toFloat(),
                "fileFormat": "NUMPY_NDARRAY",
                "bandIds": ["probe"],
                "grid": ee_grid(tiny, form),
            }
            try:
                compute(params)
            except Exception as exc:  # noqa: BLE001 - projection refusals are expected here
                text = str(exc)
                if any(m in text.lower() for m in _CRS_MARKERS):
                    refusals.append(f"{GRID_FORM_NAMES[form]}: {text}")
                    continue
                raise
            with _grid_lock:
                _grid_state["form"] = form
            log.info("Earth Engine accepts the EASE-2 grid as %s", GRID_FORM_NAMES[form])
            return form
        raise DataSourceError(
            "Earth Engine refused every form of the EASE-2 grid (EPSG:6933): "
            + "; ".join(refusals)
            + ". Please report this with the output of `soilmoisture ee-check`"
        )
    finally:
        _probe_lock.release()


def call_with_deadline(
    fn: Callable[[], Any],
    deadline_s: float,
    progress: Progress | None = None,
    what: str = "Earth Engine request",
    poll_s: float = 0.1,
) -> Any:
    """Run ``fn`` in a daemon thread; give up after ``deadline_s`` or on a cancel.

    The abandoned call finishes (or times out in its transport) in the background; its result
    is dropped, so nothing it returns is ever stored.

    Raises:
        RequestTimeout: when no answer came within ``deadline_s``.
        Cancelled: when ``progress`` is cancelled while waiting.

    """
    done = threading.Event()
    result: list[Any] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            result.append(fn())
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            failure.append(exc)
        finally:
            done.set()

    threading.Thread(target=run, name="earth-engine-request", daemon=True).start()
    start = time.monotonic()
    while not done.wait(poll_s):
        if progress is not None and progress.cancelled:
            raise Cancelled()
        if time.monotonic() - start > deadline_s:
            raise RequestTimeout(f"{what}: no answer from Earth Engine within {deadline_s:.0f} s")
    if failure:
        raise failure[0]
    return result[0]


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


class RequestTimeout(Transient):
    """A request got no answer within its deadline (abandoned; retried)."""


_BAND_SPLIT_MARKERS = (
    "header info length",  # numpy.load refused the answer's header: fewer bands per request
    "too many bands",
)
_SPLIT_MARKERS = (
    "computation timed out",
    "user memory limit exceeded",
    "total request size",
    "request payload size",
    "must be less than or equal to",
    "too many pixels",
    "response size exceeds",
)
_RETRY_MARKERS = (
    "too many requests",
    "too many concurrent aggregations",
    "memory capacity exceeded",
    "currently unavailable",
    "service unavailable",
    "quota exceeded",
    "rate limit",
    "internal error",
    "internal server error",
    "backend error",
    "bad gateway",
    "gateway timeout",
    "deadline exceeded",
    "try again",
)
_RETRY_CODE = re.compile(r"(http|status|code|error)\W{0,3}(429|50[0234])\b")


def classify_error(exc: BaseException) -> str:
    """Classify a fetch failure by the words the service and the client use.

    ``EEException`` carries only the service's message (never an HTTP status), so the
    classification reads the text: e.g. "Too many concurrent aggregations.", "Earth Engine
    memory capacity exceeded." and "The service is currently unavailable." are transient;
    "User memory limit exceeded." and "Computation timed out." call for smaller tiles.

    Returns:
        ``"bands"`` (split the tile's bands), ``"split"`` (too big or too heavy: split the
        tile), ``"retry"`` (transient), or ``"fatal"``.

    """
    if isinstance(exc, SplitNeeded):
        return "split"
    if isinstance(exc, Transient):
        return "retry"
    if isinstance(exc, Cancelled):
        return "fatal"
    text = str(exc).lower()
    if any(m in text for m in _BAND_SPLIT_MARKERS):
        return "bands"
    if any(m in text for m in _SPLIT_MARKERS):
        return "split"
    if any(m in text for m in _RETRY_MARKERS) or _RETRY_CODE.search(text):
        return "retry"
    return "fatal"


# -- Earth Engine ----------------------------------------------------------------------------


@dataclass
class EarthEngineFetcher:
    """One ``ee.data.computePixels`` call per request (Earth Engine must be initialised).

    Attributes:
        deadline_s: a request unanswered after this long is abandoned (:class:`RequestTimeout`).
        form: the grid form to send (default: probed once per session, then remembered).

    """

    deadline_s: float = REQUEST_DEADLINE_S
    form: str | None = None

    def fetch(self, request: PixelRequest, progress: Progress | None = None) -> Arrays:
        """Send the request as NUMPY_NDARRAY and decode the structured array.

        Raises:
            Exception: the client library's ``EEException`` untranslated, so that the tiler can
                classify it; :class:`TiledFetcher` translates what it does not handle.
            RequestTimeout: no answer within the deadline.
            Cancelled: ``progress`` was cancelled while the request was in flight.

        """
        import ee

        form = self.form or grid_form()
        if form is None:
            form = call_with_deadline(
                lambda: probe_grid_form(request.grid),
                self.deadline_s,
                progress,
                "grid probe",
            )
        expression = request.expression
        if isinstance(expression, str):
            expression = ee.deserializer.fromJSON(expression)
        params = {
            "expression": expression,
            "fileFormat": "NUMPY_NDARRAY",
            "bandIds": list(request.bands),
            "grid": ee_grid(request.grid, form),
        }
        raw = call_with_deadline(
            lambda: ee.data.computePixels(params),
            self.deadline_s,
            progress,
            request.label or "pixel request",
        )
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
            :func:`core.inputs.sources.ee_auth.translate_error`).

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

    def compute(self, request: ValueRequest, progress: Progress | None = None) -> Any:
        """Return the value of the request's expression (``progress`` may cancel it)."""
        ...


@dataclass
class EarthEngineValueFetcher:
    """``ee.data.computeValue`` with a deadline, back-off on transient errors, plain failures.

    Attributes:
        max_retries: retries of a transient error before giving up.
        backoff_s: first back-off pause; doubles at each retry (plus up to 50 % jitter).
        sleep: the pause function (tests pass a recorder).
        deadline_s: a request unanswered after this long is abandoned and retried.

    """

    max_retries: int = 5
    backoff_s: float = 2.0
    sleep: Callable[[float], None] = time.sleep
    deadline_s: float = REQUEST_DEADLINE_S

    def compute(self, request: ValueRequest, progress: Progress | None = None) -> Any:
        """Compute the value (Earth Engine must be initialised).

        Raises:
            Cancelled: ``progress`` was cancelled (the request in flight is abandoned).
            DataSourceError: translated failure.

        """
        import ee

        expression = request.expression
        if isinstance(expression, str):
            expression = ee.deserializer.fromJSON(expression)
        attempt = 0
        while True:
            try:
                return call_with_deadline(
                    lambda: ee.data.computeValue(expression),
                    self.deadline_s,
                    progress,
                    request.label,
                )
            except Cancelled:
                raise
            except Exception as exc:  # noqa: BLE001 - classified below
                if classify_error(exc) == "retry" and attempt < self.max_retries:
                    log.info("retry %d of the %s: %s", attempt + 1, request.label, exc)
                    self.sleep(self.backoff_s * (2**attempt) * (1.0 + 0.5 * random.random()))
                    attempt += 1
                    if progress is not None:
                        progress.check()
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

    def compute(self, request: ValueRequest, progress: Progress | None = None) -> Any:
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
        value = self.inner.compute(request, progress)
        if request.cacheable:
            self.cache.put_json(key, value)
        return value
