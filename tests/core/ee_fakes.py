"""Test helpers: offline Earth Engine initialisation and synthetic fetchers.

- :func:`offline_ee` initialises the ``ee`` client library offline with the wheel's own harness
  (``ee/apitestcase.py``: the bundled algorithm list, no discovery or catalogue fetch) and
  undoes it afterwards.
- :class:`FakeFetcher` answers pixel requests with arrays computed from the request's grid and
  band ids (so tiled assembly can be checked exactly) and can be scripted to fail.
- :func:`fake_compute_pixels` stands in for ``ee.data.computePixels`` (structured NumPy array).
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.grid import GridWindow
from core.progress import Progress
from core.sources.fetch import PixelRequest


@contextlib.contextmanager
def offline_ee() -> Iterator[Any]:
    """Initialise ee offline (bundled algorithms); restore the library state afterwards."""
    import ee

    from core.sources import ee_auth

    saved = (
        ee.data._install_cloud_api_resource,
        ee.data.getAlgorithms,
        ee.deprecation._FetchDataCatalogStac,
    )
    ee.Reset()
    ee_auth.reset_session()
    ee_auth.initialize_offline(project="test")
    try:
        yield ee
    finally:
        ee.Reset()
        ee_auth.reset_session()
        (
            ee.data._install_cloud_api_resource,
            ee.data.getAlgorithms,
            ee.deprecation._FetchDataCatalogStac,
        ) = saved


def band_base(band: str) -> float:
    """A stable per-band offset (0..999) derived from the band id."""
    return float(int(hashlib.sha256(band.encode()).hexdigest()[:6], 16) % 1000)


def synthetic(band: str, grid: GridWindow) -> np.ndarray:
    """Value = band offset + (global row % 1000) + (global col % 1000) / 1000 (float64)."""
    r, c = grid.cell_rowcol()
    return band_base(band) + (r % 1000) + (c % 1000) / 1000.0


@dataclass
class Failure:
    """A scripted failure: raise ``exc`` for requests matching ``when``, ``times`` times."""

    when: Callable[[PixelRequest], bool]
    exc: Exception
    times: int = 1_000_000


@dataclass
class FakeFetcher:
    """A pixel fetcher answering from the request grid and band ids."""

    values: Callable[[str, GridWindow], np.ndarray] = synthetic
    failures: list[Failure] = field(default_factory=list)
    calls: list[PixelRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def fetch(
        self, request: PixelRequest, progress: Progress | None = None
    ) -> dict[str, np.ndarray]:
        with self._lock:
            self.calls.append(request)
            for f in self.failures:
                if f.times > 0 and f.when(request):
                    f.times -= 1
                    raise f.exc
        return {
            b: np.asarray(self.values(b, request.grid)).astype(request.dtype) for b in request.bands
        }


def fake_compute_pixels(
    values: Callable[[str, GridWindow], np.ndarray] = synthetic,
    level: str = "50m",
    fail: Callable[[dict[str, Any]], Exception | None] | None = None,
    calls: list[dict[str, Any]] | None = None,
) -> Callable[[dict[str, Any]], np.ndarray]:
    """A stand-in for ``ee.data.computePixels`` returning a structured (H, W) array.

    The grid window is recovered from the request's affine transform (``level`` cell size).
    """
    from core.grid import X0, Y0, cell_size

    def compute(params: dict[str, Any]) -> np.ndarray:
        if calls is not None:
            calls.append(params)
        assert params["fileFormat"] == "NUMPY_NDARRAY"
        assert "crsWkt" in params["grid"]
        if fail is not None:
            exc = fail(params)
            if exc is not None:
                raise exc
        g = params["grid"]
        s = cell_size(level)
        col0 = round((g["affineTransform"]["translateX"] - X0) / s)
        row0 = round((Y0 - g["affineTransform"]["translateY"]) / s)
        win = GridWindow(
            level, row0, col0, g["dimensions"]["height"], g["dimensions"]["width"]
        )
        bands = params["bandIds"]
        out = np.zeros(win.shape, dtype=[(b, "<f4") for b in bands])
        for b in bands:
            out[b] = values(b, win)
        return out

    return compute
