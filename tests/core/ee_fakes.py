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


# -- a synthetic Earth Engine for the scene tests ---------------------------------------------

SCENE_VALUES = {
    "vv": -12.0,
    "vh": -18.0,
    "angle": 38.0,
    "sand": 400.0,
    "clay": 200.0,
    "bdod": 130.0,
    "elevation": 100.0,
    "slope": 2.0,
    "aspect": 180.0,
    "ndvi": 5000.0,
    "t": 280.0,
    "p": 0.002,
    "am": 0.25,
    "pm": 0.20,
    "qam": 0.0,
    "qpm": 0.0,
}


def scene_values(band: str, grid: GridWindow) -> np.ndarray:
    """Plausible constant values per band family (prefix before the first underscore)."""
    family = band.split("_", 1)[0]
    return np.full(grid.shape, SCENE_VALUES[family])


def footprint(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    """A GeoJSON polygon geometry."""
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


@dataclass
class FakeValues:
    """Answers the two metadata requests (by their ``params``) like Earth Engine would.

    Attributes:
        scenes: ``{date: [(pass, orbit, fraction of the window width covered), ...]}``; each
            entry becomes two same-day slices (north and south halves).
        ndvi_gap_after: composites dated after this are "not yet published".
        era5_last: last published ERA5-Land day.
    """

    scenes: dict[Any, list[tuple[str, int, float]]] = field(default_factory=dict)
    ndvi_gap_after: Any = None
    era5_last: Any = None
    calls: list[Any] = field(default_factory=list)

    def compute(self, request: Any) -> Any:
        import datetime as dt

        from core.sources.earthengine import lonlat_bounds

        self.calls.append(request)
        p = request.params
        epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

        def ms(d: dt.date) -> int:
            return int((dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC) - epoch)
                       .total_seconds() * 1000)

        if p["kind"] == "s1":
            w, s, e, n = lonlat_bounds(p["window9"])
            feats = []
            for d, accs in sorted(self.scenes.items()):
                if not p["start"] <= d <= p["end"]:
                    continue
                for orbit_pass, orbit, frac in accs:
                    east = w + (e - w) * frac
                    mid = (s + n) / 2
                    for lo, hi in ((s - 1, mid), (mid, n + 1)):
                        feats.append({
                            "type": "Feature",
                            "geometry": footprint(w - 1, lo, east, hi),
                            "properties": {"t": ms(d) + 3600_000, "pass": orbit_pass,
                                           "orbit": orbit, "platform": "A"},
                        })
            return {"type": "FeatureCollection", "features": feats}
        assert p["kind"] == "scene"
        date = p["date"]

        def listing(days: list[dt.date], fmt: str) -> dict[str, list[Any]]:
            return {"index": [d.strftime(fmt) for d in days], "t": [ms(d) for d in days]}

        lo = date - dt.timedelta(days=366)
        mod, myd = [], []
        for y in range(lo.year, date.year + 1):
            mod += [dt.date(y, 1, 1) + dt.timedelta(days=k) for k in range(0, 365, 16)]
            myd += [dt.date(y, 1, 9) + dt.timedelta(days=k) for k in range(0, 357, 16)]
        last = self.ndvi_gap_after or date
        mod = [d for d in mod if lo <= d < date and d <= last]
        myd = [d for d in myd if lo <= d < date and d <= last]
        era5_end = self.era5_last or date + dt.timedelta(days=400)
        era5 = [lo + dt.timedelta(days=k) for k in range(366 + 368)]
        era5 = [d for d in era5 if d <= era5_end]
        smap = [date + dt.timedelta(days=k) for k in range(-30, 31)]
        switch = dt.date(2023, 12, 4)
        return {
            "mod": listing(mod, "%Y_%m_%d"),
            "myd": listing(myd, "%Y_%m_%d"),
            "era5": listing(era5, "%Y%m%d"),
            "smap005": listing([d for d in smap if d < switch], "%Y%m%d"),
            "smap006": listing([d for d in smap if d >= switch], "%Y%m%d"),
        }
