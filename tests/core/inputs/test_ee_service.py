"""The Earth Engine source through the real ``earthengine-api`` client over a fake service.

Only the HTTP transport is replaced (:class:`tests.core.ee_fakes.FakeEarthEngine`): the client's
serializer, request code, token refresh, NPY decoding and error translation all run. The fake
service evaluates the expressions it is sent against a catalogue with the public dataset ids and
band names, checks grids and limits, and answers with NPY bytes, JSON or the service's errors.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.errors import AuthenticationError, Cancelled, DataSourceError
from core.features import build as features
from core.inputs import timeseries as ts
from core.inputs.cache import ArrayCache
from core.inputs.grid import GridWindow
from core.inputs.sources.base import SceneInputs, StaticInputs
from core.inputs.sources.earthengine import EarthEngineSource
from core.inputs.sources.ee import expressions as gee
from core.inputs.sources.ee import project as ee_project
from core.inputs.sources.ee import session as ee_login
from core.inputs.sources.ee import signin as ee_signin
from core.inputs.sources.ee.caching import CachingFetcher
from core.inputs.sources.ee.grid_form import GRID_FORM_NAMES, GRID_FORMS, grid_form
from core.inputs.sources.ee.requests import PixelRequest, ValueRequest
from core.inputs.sources.ee.scene_requests import nominal_scene_requests
from core.inputs.sources.ee.service import EarthEngineFetcher
from core.inputs.sources.ee.tiled import TiledFetcher
from core.inputs.sources.ee.tiling import NPY_HEADER_LIMIT, plan_tiles
from core.progress import CallbackProgress
from tests.core.ee_fakes import (
    Band,
    FakeEarthEngine,
    default_catalogue,
    ee_session,
    isolate_home,
)

W9 = GridWindow("9km", 170, 1981, 1, 2)  # 5 E, 52 N
BIG9 = GridWindow("9km", 167, 1978, 7, 7)  # the largest window of a 50 x 50 km AOI
DATE = dt.date(2021, 6, 15)


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    isolate_home(monkeypatch, tmp_path)
    yield tmp_path


def bbox(window9: GridWindow, margin: float = 1.0) -> tuple[float, float, float, float]:
    w, s, e, n = gee.lonlat_bounds(window9)
    return (w - margin, s - margin, e + margin, n + margin)


def no_sleep(_: float) -> None:
    pass


def source(cache: ArrayCache, workers: int = 4, **fetch: Any) -> EarthEngineSource:
    tiled = TiledFetcher(EarthEngineFetcher(**fetch), workers=workers, sleep=no_sleep)
    return EarthEngineSource(cache=cache, fetcher=CachingFetcher(tiled, cache))


# -- the values the fake service serves, and the scene they must give ------------------------


def _day_of(asset: str) -> dt.date:
    index = asset.rsplit("/", 1)[1]
    digits = index.replace("_", "")
    if index.startswith("S1"):
        digits = index.split("_")[4][:8]
    return dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))


def _field(window: GridWindow, scale: float) -> np.ndarray:
    r, c = window.cell_rowcol()
    return scale * ((r % 7) + (c % 5) / 5.0)


def chosen(band: Band, window: GridWindow) -> np.ndarray:
    """The arrays the fake service serves, per dataset band, day and cell."""
    src, asset = band.source, band.asset
    if asset == "constant":
        return np.full(window.shape, float(band.source))
    if asset.startswith("COPERNICUS/S1_GRD/"):
        k = _day_of(asset).toordinal() % 11
        base = {"VV": -12.0, "VH": -19.0, "angle": 33.0}[src]
        return base + k * 0.25 + _field(window, 0.1)
    static = {
        "sand_0-5cm_mean": 300.0,
        "clay_0-5cm_mean": 150.0,
        "bdod_0-5cm_mean": 120.0,
        "elevation": 20.0,
        "slope": 1.0,
        "aspect": 90.0,
    }
    if src in static:
        return static[src] + _field(window, 2.0)
    day = _day_of(asset)
    k = day.toordinal()
    if src == "NDVI":
        return 3000.0 + (k % 23) * 100.0 + _field(window, 10.0)
    if src == "temperature_2m":
        return 270.0 + (k % 37) * 0.5 + _field(window, 0.25)
    if src == "total_precipitation_sum":
        return np.where((k % 5) == 0, -1e-6, 0.001 * (k % 9)) + _field(window, 1e-5)
    if src in ("soil_moisture_am", "soil_moisture_pm"):
        return 0.1 + (k % 13) * 0.01 + _field(window, 0.002)
    if src.startswith("retrieval_qual_flag"):
        return np.zeros(window.shape)
    raise AssertionError(f"the product asked for {asset}:{src}")


def expected_scene(window9: GridWindow, date: dt.date, cat: dict[str, Any]) -> SceneInputs:
    """The scene the demo source's path would hand over for the same arrays."""
    w50, w250 = window9.to_level("50m"), window9.to_level("250m")
    f32 = np.float32
    s1 = [im for im in cat["COPERNICUS/S1_GRD"].images if _day_of(im.id) == date][0].id

    def at(asset: str, src: str, window: GridWindow) -> np.ndarray:
        return chosen(Band(src, asset, src), window).astype(f32)

    composites = sorted(
        (_day_of(im.id), im.id)
        for aid in (gee.MOD13Q1, gee.MYD13Q1)
        for im in cat[aid].images
        if date - dt.timedelta(days=366) <= _day_of(im.id) < date
    )
    window = ts.ndvi_window([d for d, _ in composites], date)
    ndvi = np.stack([at(composites[i][1], "NDVI", w250) for i in window.indices])
    t = np.full((46, *window9.shape), np.nan)
    p = np.full((46, *window9.shape), np.nan)
    for b in range(46):
        days = [window.start + dt.timedelta(days=8 * b + j) for j in range(8)]
        ids = [f"{gee.ERA5_ASSET}/{d:%Y%m%d}" for d in days]
        t[b] = np.mean([at(i, "temperature_2m", window9) for i in ids], axis=0)
        p[b] = np.mean(
            [np.maximum(at(i, "total_precipitation_sum", window9), 0) for i in ids], axis=0
        )
    smap = at(f"{gee.SMAP_005}/{date:%Y%m%d}", "soil_moisture_am", window9)
    dem = gee.SRTM_ASSET
    return SceneInputs(
        window9=window9,
        date=date,
        acquisition=None,
        vv=at(s1, "VV", w50),
        vh=at(s1, "VH", w50),
        angle=at(s1, "angle", w50),
        static=StaticInputs(
            sand=at("s", "sand_0-5cm_mean", w50),
            clay=at("s", "clay_0-5cm_mean", w50),
            bdod=at("s", "bdod_0-5cm_mean", w50),
            elevation=at(dem, "elevation", w50),
            slope=at(dem, "slope", w50),
            aspect=at(dem, "aspect", w50),
        ),
        ndvi=ndvi.astype(f32),
        temperature=t.astype(f32),
        precipitation=p.astype(f32),
        smap=smap,
        ndvi_padded_steps=window.padded,
    )


def feature_table(scene: SceneInputs) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = np.nonzero(np.ones(scene.vv.shape, dtype=bool))
    pick = np.arange(0, rows.size, 97)
    return features.raw_inputs_50m(scene, rows[pick], cols[pick]), features.raw_inputs_9km(scene)


def test_year_of_scenes_at_50_km_matches_the_demo_path(_home: Path) -> None:
    """Done-when: a 50 x 50 km AOI, a one-year training period, end to end through the client."""
    train = (dt.date(2021, 1, 1), dt.date(2021, 12, 31))
    orbit_days = [train[0] + dt.timedelta(days=k) for k in range(3, 365, 12)]
    cat = default_catalogue(
        dt.date(2019, 6, 1),
        dt.date(2022, 12, 31),
        s1={d: [("DESCENDING", 139)] for d in orbit_days},
        s1_bbox=bbox(BIG9),
    )
    service = FakeEarthEngine(cat, values=chosen)
    cache = ArrayCache(_home / "arrays")
    with ee_session(service, _home):
        src = source(cache)
        accs = src.list_acquisitions(BIG9, *train)
        assert [a.date for a in accs] == orbit_days
        assert all(a.coverage == 100.0 and a.relative_orbit == 139 for a in accs)
        for date in (orbit_days[0], orbit_days[15], orbit_days[-1]):
            got = src.scene(BIG9, date)
            want = expected_scene(BIG9, date, cat)
            g50, g9 = feature_table(got)
            w50, w9 = feature_table(want)
            np.testing.assert_allclose(g50, w50, rtol=2e-6, atol=1e-9, equal_nan=False)
            np.testing.assert_allclose(g9, w9, rtol=2e-6, atol=1e-9, equal_nan=False)
    pixels = service.exchanges("computePixels")
    assert pixels and all(e.status == 200 for e in pixels)
    assert max(e.header_bytes for e in pixels) < NPY_HEADER_LIMIT
    assert max(e.nbytes for e in pixels) <= 48 * 1024 * 1024
    era5 = [e for e in pixels if e.bands and e.bands[0].startswith(("t_", "p_"))]
    assert sum(len(e.bands) for e in era5) == 3 * 736  # every weather band, in several requests
    # the datasets the product touched are the catalogue's current ones
    used = {
        a.rsplit("/", 1)[0] if a.count("/") > 2 or "S1_GRD/" in a else a for a in service.loaded
    }
    assert {
        "COPERNICUS/S1_GRD",
        gee.SRTM_ASSET,
        gee.ERA5_ASSET,
        gee.SMAP_005,
        gee.MOD13Q1,
        gee.MYD13Q1,
        "projects/soilgrids-isric/sand_mean",
    } <= used


def test_every_request_fits_the_service_at_the_largest_aoi(_home: Path) -> None:
    """The largest windows a 50 x 50 km AOI can give (mid and high latitude)."""
    for window9 in (BIG9, GridWindow("9km", 20, 1900, 3, 28)):
        for name, request in nominal_scene_requests(window9, DATE).items():
            tiles = plan_tiles(request)
            assert sum(t.grid.nrows * t.grid.ncols * len(t.bands) for t in tiles) == (
                request.grid.nrows * request.grid.ncols * len(request.bands)
            ), name
            for t in tiles:
                assert t.nbytes <= 48 * 1024 * 1024 and len(t.bands) <= 1024
                assert max(t.grid.shape) <= 32768
                header = _npy_header(t)
                assert header < NPY_HEADER_LIMIT, (name, header)
    era5 = nominal_scene_requests(BIG9, DATE)["era5"]
    assert len(era5.bands) == 736 and _npy_header(era5) > NPY_HEADER_LIMIT  # why it is split


def _npy_header(request: PixelRequest) -> int:
    import io

    dtype = np.dtype([(b, request.dtype) for b in request.bands])
    buf = io.BytesIO()
    np.save(buf, np.zeros((1, 1), dtype=dtype))
    data = buf.getvalue()
    # the shape digits of the real answer are longer than "(1, 1)"
    extra = len(str(request.grid.shape)) - len("(1, 1)")
    return int.from_bytes(data[8:10], "little") + extra + 64


def test_the_unsplit_weather_request_is_what_numpy_refuses(_home: Path) -> None:
    """Without the header-aware split, the client cannot decode the weather answer."""
    service = FakeEarthEngine(default_catalogue(dt.date(2020, 1, 1), dt.date(2021, 12, 31)))
    days = [f"{d:%Y%m%d}" for d in ts.era5_days(dt.date(2020, 6, 14))]
    with ee_session(service, _home):
        request = PixelRequest(
            gee.era5_image(days), W9, tuple(f"{v}_{i}" for i in days for v in ("t", "p"))
        )
        with pytest.raises(ValueError, match="Header info length"):
            EarthEngineFetcher(form="wkt").fetch(request)
        out = TiledFetcher(EarthEngineFetcher(), sleep=no_sleep).fetch(request)
        assert len(out) == 736 and all(a.shape == W9.shape for a in out.values())


# -- projection --------------------------------------------------------------------------------


@pytest.mark.parametrize("accepted", GRID_FORMS)
def test_grid_form_is_probed_once_and_remembered(_home: Path, accepted: str) -> None:
    service = FakeEarthEngine(
        default_catalogue(dt.date(2021, 1, 1), dt.date(2021, 12, 31)), accept_forms=(accepted,)
    )
    with ee_session(service, _home) as ee:
        fetcher = TiledFetcher(EarthEngineFetcher(), sleep=no_sleep)
        request = PixelRequest(gee.soil_image(), W9.to_level("50m"), ("sand", "clay", "bdod"))
        out = fetcher.fetch(request)
        assert grid_form() == accepted
        assert float(out["sand"][0, 0]) == pytest.approx(
            float(
                chosen_default(
                    Band("sand", "projects/soilgrids-isric/sand_mean", "sand_0-5cm_mean"),
                    W9.to_level("50m"),
                )[0, 0]
            ),
            rel=1e-6,
        )
        fetcher.fetch(request.with_bands(("bdod",)))
        probes = [e for e in service.exchanges("computePixels") if e.bands == ("probe",)]
        assert len(probes) == GRID_FORMS.index(accepted) + 1
        assert [e.status for e in probes] == [400] * GRID_FORMS.index(accepted) + [200]
        assert all(e.window is not None and e.window.shape == (2, 2) for e in probes[-1:])
        assert GRID_FORM_NAMES[accepted] in ee_login.describe_session()
        assert ee.data.is_initialized()


def chosen_default(band: Band, window: GridWindow) -> np.ndarray:
    from tests.core.ee_fakes import default_values

    return default_values(band, window)


def test_every_grid_form_refused_is_a_clear_error(_home: Path) -> None:
    service = FakeEarthEngine(
        default_catalogue(dt.date(2021, 1, 1), dt.date(2021, 12, 31)), accept_forms=()
    )
    with ee_session(service, _home):
        request = PixelRequest(gee.soil_image(), W9.to_level("50m"), ("sand",))
        with pytest.raises(DataSourceError, match="refused every form") as info:
            TiledFetcher(EarthEngineFetcher(), sleep=no_sleep).fetch(request)
        assert "could not be parsed" in str(info.value) and "ee-check" in str(info.value)


# -- errors as the service words them -------------------------------------------------------------


TRANSIENT = [
    (429, "Too many concurrent aggregations."),
    (400, "Earth Engine memory capacity exceeded."),
    (503, "The service is currently unavailable."),
    (
        429,
        "Too Many Requests: Request was rejected because the request rate or concurrency "
        "limit was exceeded.",
    ),
    (500, "An internal error has occurred (request ID: 1234)."),
]


@pytest.mark.parametrize(("status", "message"), TRANSIENT)
def test_transient_errors_are_retried_with_backoff(_home: Path, status: int, message: str) -> None:
    failures = {"n": 0}

    def fail(exchange: Any) -> tuple[int, str] | None:
        if exchange.kind == "computePixels" and exchange.bands != ("probe",) and failures["n"] < 2:
            failures["n"] += 1
            return status, message
        return None

    service = FakeEarthEngine(
        default_catalogue(dt.date(2021, 1, 1), dt.date(2021, 12, 31)), fail=fail
    )
    pauses: list[float] = []
    with ee_session(service, _home):
        tiled = TiledFetcher(EarthEngineFetcher(), backoff_s=1.0, sleep=pauses.append)
        out = tiled.fetch(PixelRequest(gee.soil_image(), W9.to_level("50m"), ("sand",)))
    assert out["sand"].shape == (180, 360)
    assert tiled.stats["retries"] == 2 and 1.0 <= pauses[0] <= 1.5 and 2.0 <= pauses[1] <= 3.0


def test_transient_error_that_persists_says_so(_home: Path) -> None:
    service = FakeEarthEngine(
        default_catalogue(dt.date(2021, 1, 1), dt.date(2021, 12, 31)),
        fail=lambda e: (
            (429, "Too many concurrent aggregations.")
            if e.kind == "computePixels" and e.bands != ("probe",)
            else None
        ),
    )
    with ee_session(service, _home):
        tiled = TiledFetcher(EarthEngineFetcher(), max_retries=2, sleep=no_sleep)
        with pytest.raises(DataSourceError, match="busy") as info:
            tiled.fetch(PixelRequest(gee.soil_image(), W9.to_level("50m"), ("sand",)))
    assert "Too many concurrent aggregations" in str(info.value)
    assert len([e for e in service.exchanges("computePixels") if e.bands != ("probe",)]) == 3


def test_unknown_dataset_and_band_fail_fast(_home: Path) -> None:
    cat = default_catalogue(dt.date(2021, 1, 1), dt.date(2021, 12, 31))
    del cat[gee.SRTM_ASSET]
    cat[gee.MOD13Q1].bands = tuple(b for b in cat[gee.MOD13Q1].bands if b != "SummaryQA")
    service = FakeEarthEngine(cat)
    with ee_session(service, _home):
        tiled = TiledFetcher(EarthEngineFetcher(), sleep=no_sleep)
        with pytest.raises(DataSourceError, match="no dataset 'USGS/SRTMGL1_003'"):
            tiled.fetch(PixelRequest(gee.terrain_image(W9), W9.to_level("50m"), ("elevation",)))
        assert tiled.stats["retries"] == 0 and tiled.stats["calls"] == 1
        asset = cat[gee.MOD13Q1].images[5].id
        with pytest.raises(DataSourceError, match="no band 'SummaryQA'"):
            tiled.fetch(
                PixelRequest(gee.ndvi_image([asset]), W9.to_level("250m"), (gee.ndvi_band(asset),))
            )
        assert tiled.stats["retries"] == 0


def test_oversize_request_is_split_by_the_tiler(_home: Path) -> None:
    """The fake refuses > 48 MiB; a tiler told a larger limit learns it from the 400."""
    service = FakeEarthEngine(default_catalogue(dt.date(2021, 1, 1), dt.date(2021, 12, 31)))
    window = GridWindow("50m", 30600, 356580, 2160, 2160)  # 12 x 12 cells of 9 km
    with ee_session(service, _home):
        tiled = TiledFetcher(EarthEngineFetcher(), max_bytes=10**9, sleep=no_sleep)
        out = tiled.fetch(PixelRequest(gee.soil_image(), window, ("sand", "clay", "bdod")))
    assert out["clay"].shape == (2160, 2160) and np.isfinite(out["clay"]).all()
    refused = [e for e in service.exchanges("computePixels") if e.status == 400]
    assert refused and all(e.nbytes > 50_331_648 for e in refused)
    assert tiled.stats["splits"] >= 1


def _holding(release: threading.Event, resumed: threading.Event, which: Any) -> Any:
    """A ``hold`` for the fake: matching requests wait for ``release``, then set ``resumed``."""

    def hold(exchange: Any) -> None:
        if which(exchange):
            release.wait(30)
            resumed.set()

    return hold


def test_cancel_with_a_request_in_flight_abandons_it(_home: Path) -> None:
    release, resumed = threading.Event(), threading.Event()
    service = FakeEarthEngine(
        default_catalogue(dt.date(2021, 1, 1), dt.date(2021, 12, 31)),
        hold=_holding(
            release, resumed, lambda e: e.kind == "computePixels" and e.bands != ("probe",)
        ),
    )
    cache = ArrayCache(_home / "arrays")
    cancel = threading.Event()
    try:
        with ee_session(service, _home):
            fetcher = CachingFetcher(TiledFetcher(EarthEngineFetcher(), sleep=no_sleep), cache)
            request = PixelRequest(gee.soil_image(), W9.to_level("50m"), ("sand",))
            threading.Timer(0.3, cancel.set).start()
            with pytest.raises(Cancelled):
                fetcher.fetch(request, CallbackProgress(is_cancelled=cancel.is_set))
            assert not resumed.is_set()  # returned while the service still held the request
            assert cache.get(request.key()) is None and cache.entries() == []
    finally:
        release.set()


def test_request_deadline_abandons_and_retries(_home: Path) -> None:
    release = threading.Event()
    held = {"n": 0}

    def hold(e: Any) -> threading.Event | None:
        if e.kind == "computePixels" and e.bands != ("probe",) and held["n"] <= 0:
            held["n"] += 1
            return release
        return None

    service = FakeEarthEngine(
        default_catalogue(dt.date(2021, 1, 1), dt.date(2021, 12, 31)), hold=hold
    )
    try:
        with ee_session(service, _home):
            tiled = TiledFetcher(EarthEngineFetcher(deadline_s=0.5), sleep=no_sleep)
            out = tiled.fetch(PixelRequest(gee.soil_image(), W9.to_level("50m"), ("sand",)))
            assert out["sand"].shape == (180, 360) and tiled.stats["retries"] == 1
            held["n"] = -100  # every request held from now on
            tiled = TiledFetcher(EarthEngineFetcher(deadline_s=0.3), max_retries=1, sleep=no_sleep)
            with pytest.raises(DataSourceError, match="no answer from Earth Engine within"):
                tiled.fetch(PixelRequest(gee.soil_image(), W9.to_level("50m"), ("clay",)))
    finally:
        release.set()


# -- listings ------------------------------------------------------------------------------------


def test_long_periods_are_listed_year_by_year(_home: Path) -> None:
    """A dense catalogue (over 5,000 slices in the period) lists only when split by year."""
    start, end = dt.date(2021, 3, 1), dt.date(2022, 12, 31)
    orbits = [("DESCENDING", o) for o in (8, 37)] + [("ASCENDING", 15), ("ASCENDING", 88)]
    s1 = {start + dt.timedelta(days=k): orbits for k in range((end - start).days + 1)}
    cat = default_catalogue(start, end, s1=s1, s1_bbox=bbox(W9))
    service = FakeEarthEngine(cat)
    with ee_session(service, _home) as ee:
        whole = gee.s1_footprints(W9, start, end + dt.timedelta(days=1))
        with pytest.raises(ee.EEException, match="5000 elements"):
            ee.data.computeValue(whole)
        src = EarthEngineSource(cache=ArrayCache(_home / "arrays"))
        accs = src.list_acquisitions(W9, start, end)
    assert len(accs) == len(s1) * len(orbits) and len(cat["COPERNICUS/S1_GRD"].images) > 5000
    assert len(service.exchanges("compute")) == 1 + 2  # the refused one, then one per year


def test_scene_listing_is_split_and_uses_current_datasets(_home: Path) -> None:
    with ee_session(FakeEarthEngine(default_catalogue()), _home) as ee:
        meta = ee.data.computeValue(gee.scene_metadata(W9, DATE))
    assert len(meta["era5"]) == 3 and len(meta["mod"]) == 1  # 734 and 366 days, by <= 366
    for part in meta["era5"]:
        days = [dt.date(int(i[:4]), int(i[4:6]), int(i[6:])) for i in part["index"]]
        assert len(days) <= gee.LISTING_MAX_DAYS
    assert sum(len(p["index"]) for p in meta["era5"]) == 734
    assert gee.GLO30_ASSET == "COPERNICUS/DEM/GLO30_2024_1"
    with ee_session(FakeEarthEngine(default_catalogue()), _home):
        north = GridWindow("9km", 2, 1981, 1, 1)
        ndvi = gee.ndvi_image([f"{gee.MOD13Q1}/2021_06_10"]).serialize()
        assert "SummaryQA" in ndvi and "-2000" in ndvi
        fetcher = TiledFetcher(EarthEngineFetcher(), sleep=no_sleep)
        out = fetcher.fetch(
            PixelRequest(
                gee.terrain_image(north), north.to_level("50m"), ("elevation", "slope", "aspect")
            )
        )
        assert np.isfinite(out["slope"]).all()


# -- sign-in, project, offline then online --------------------------------------------------------


def _port_is_free(port: int) -> bool:
    """Nothing listens on the port (a redirect server, which reuses addresses, can bind it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _redirect_port(url: str) -> int:
    query = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)
    return int(urllib.parse.urlparse(query["redirect_uri"][0]).port or 0)


def test_cancelled_sign_in_frees_its_port_and_a_second_one_works(_home: Path) -> None:
    import ee

    urls: list[str] = []
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    with pytest.raises(Cancelled):  # not the 5-minute timeout: the cancel ended the wait
        ee_signin.sign_in(
            "test-project",
            CallbackProgress(is_cancelled=cancel.is_set),
            poll_s=0.05,
            open_browser=urls.append,
        )
    port = _redirect_port(urls[0])
    assert _port_is_free(port)

    service = FakeEarthEngine(default_catalogue(dt.date(2021, 1, 1), dt.date(2021, 12, 31)))

    def browser(url: str) -> None:  # the user signs in: Google redirects to the local server
        redirect = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)["redirect_uri"][0]
        threading.Thread(
            target=lambda: urllib.request.urlopen(f"{redirect}/?code=the-code&scope=x").read(),
            daemon=True,
        ).start()

    exchanged: list[tuple[str, str, str]] = []

    def exchange(code: str, verifier: str, uri: str) -> str:
        exchanged.append((code, verifier, uri))
        return service.refresh_token

    saved = ee.deprecation._FetchDataCatalogStac
    ee.deprecation._FetchDataCatalogStac = lambda: {}
    try:
        ee.Reset()
        state = ee_signin.sign_in(
            "test-project",
            poll_s=0.05,
            open_browser=browser,
            exchange=exchange,
            http_transport=service,
        )
    finally:
        ee.deprecation._FetchDataCatalogStac = saved
        ee.Reset()
        ee_login.reset_session()
    assert state.startswith("signed in, project test-project")
    assert exchanged and exchanged[0][0] == "the-code" and len(exchanged[0][1]) >= 43
    creds = json.loads((_home / ".config" / "earthengine" / "credentials").read_text())
    assert creds["refresh_token"] == service.refresh_token and creds["project"] == "test-project"
    assert ee_project.saved_project() == "test-project"
    assert service.tokens_issued >= 1  # the token was refreshed through the client's transport
    assert _port_is_free(int(urllib.parse.urlparse(exchanged[0][2]).port or 0))


def test_saved_project_is_used_by_a_fresh_session(_home: Path) -> None:
    service = FakeEarthEngine(
        default_catalogue(dt.date(2021, 1, 1), dt.date(2021, 12, 31)), projects=("saved-proj",)
    )
    with (
        pytest.raises(AuthenticationError, match="not registered"),
        ee_session(service, _home, project="other-proj"),
    ):
        pass
    ee_project.save_project("saved-proj")
    with ee_session(service, _home, project=None):  # type: ignore[arg-type]
        assert ee_login.describe_session().startswith("signed in, project saved-proj")
    assert ee_project.resolve_project() == ("saved-proj", ee_project.resolve_project()[1])
    assert "saved setting" in ee_project.resolve_project()[1]


def test_offline_then_online(_home: Path) -> None:
    import ee

    originals = (
        ee.data._install_cloud_api_resource,
        ee.data.getAlgorithms,
        ee.deprecation._FetchDataCatalogStac,
    )
    ee.Reset()
    ee_login.reset_session()
    ee_login.initialize_offline("test")
    try:
        assert ee_login.describe_session() == "offline (cached inputs only)"
        expression = gee.soil_image()  # expressions build offline
        with pytest.raises(DataSourceError, match="offline"):
            EarthEngineSource(cache=ArrayCache(_home / "a")).values.compute(
                ValueRequest(gee.scene_metadata(W9, DATE), "listing")
            )
        assert (
            ee.data._install_cloud_api_resource,
            ee.data.getAlgorithms,
            ee.deprecation._FetchDataCatalogStac,
        ) == originals
        service = FakeEarthEngine(default_catalogue(dt.date(2021, 1, 1), dt.date(2021, 12, 31)))
        with ee_session(service, _home):
            assert ee_login.describe_session().startswith("signed in")
            out = TiledFetcher(EarthEngineFetcher(), sleep=no_sleep).fetch(
                PixelRequest(expression, W9.to_level("50m"), ("sand",))
            )
            assert np.isfinite(out["sand"]).all()
    finally:
        ee.Reset()
        ee_login.reset_session()


def test_adapt_map_dry_run_prints_the_plan_and_sends_nothing(
    _home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import ee

    from core.cli import main

    ee.Reset()
    out = _home / "run"
    rc = main(
        [
            "adapt-map",
            "--aoi",
            "4.7,51.8,5.4,52.25",
            "--stations",
            str(_home / "none.zip"),
            "--date",
            "2021-06-15",
            "--out",
            str(out),
            "--dry-run",
        ]
    )
    text = capsys.readouterr().out
    assert rc == 0 and not out.exists() and not ee.data.is_initialized()
    assert "2 Sentinel-1 acquisition list(s) (one per year 2020-2021)" in text
    lines = {line.split()[0]: line for line in text.splitlines() if line.startswith("  ")}
    assert set(lines) == {"Sentinel-1", "soil", "terrain", "NDVI", "ERA5-Land", "SMAP"}
    assert "3 request(s) x 58/339 band(s)" in lines["ERA5-Land"]
    assert "1 request(s) x 3 band(s) x 1,296,000 px, 15.6 MB" in lines["Sentinel-1"]
    assert "per scene: 8 pixel requests" in text


def test_the_fake_service_refuses_what_the_service_refuses(_home: Path) -> None:
    """The limits the tiler plans for are enforced by the fake, as by the service."""
    service = FakeEarthEngine(default_catalogue(dt.date(2020, 1, 1), dt.date(2021, 12, 31)))
    days = [f"{dt.date(2020, 1, 1) + dt.timedelta(days=k):%Y%m%d}" for k in range(513)]
    with ee_session(service, _home) as ee:
        fetcher = EarthEngineFetcher(form="wkt")
        many = PixelRequest(
            gee.era5_image(days), W9, tuple(f"{v}_{i}" for i in days for v in ("t", "p"))
        )
        with pytest.raises(ee.EEException, match="Too many bands: 1026"):
            fetcher.fetch(many)
        wide = GridWindow("50m", 30600, 300000, 1, 32769)
        with pytest.raises(ee.EEException, match="maximum of 32768 pixels"):
            fetcher.fetch(PixelRequest(gee.soil_image(), wide, ("sand",)))
        with pytest.raises(ee.EEException, match="did not match any bands"):
            fetcher.fetch(PixelRequest(gee.soil_image(), W9, ("silt",)))
        tiled = TiledFetcher(EarthEngineFetcher(), sleep=no_sleep)
        assert tiled.fetch(many)["p_" + days[-1]].shape == W9.shape  # split: it passes


def test_cancel_during_a_listing_abandons_it(_home: Path) -> None:
    release, resumed = threading.Event(), threading.Event()
    service = FakeEarthEngine(
        default_catalogue(dt.date(2021, 1, 1), dt.date(2021, 12, 31)),
        hold=_holding(release, resumed, lambda e: e.kind == "compute"),
    )
    cancel = threading.Event()
    try:
        with ee_session(service, _home):
            src = EarthEngineSource(cache=ArrayCache(_home / "arrays"))
            threading.Timer(0.3, cancel.set).start()
            with pytest.raises(Cancelled):
                src.list_acquisitions(
                    W9,
                    dt.date(2021, 1, 1),
                    dt.date(2021, 3, 1),
                    CallbackProgress(is_cancelled=cancel.is_set),
                )
            assert not resumed.is_set()  # returned while the service still held the listing
            assert ArrayCache(_home / "arrays").entries() == []
    finally:
        release.set()


def test_revoked_sign_in_says_to_sign_in_again(_home: Path) -> None:
    creds = _home / ".config" / "earthengine" / "credentials"
    creds.parent.mkdir(parents=True)
    creds.write_text(json.dumps({"refresh_token": "revoked", "project": "test-project"}))
    service = FakeEarthEngine(default_catalogue(dt.date(2021, 1, 1), dt.date(2021, 3, 31)))
    with (
        pytest.raises(AuthenticationError, match="expired or was revoked"),
        ee_session(service, _home),
    ):
        pass
    assert service.tokens_issued == 0


def test_scene_across_the_smap_version_switch(_home: Path) -> None:
    date = dt.date(2023, 12, 10)
    cat = default_catalogue(
        dt.date(2022, 11, 1), dt.date(2024, 2, 1), s1={date: [("ASCENDING", 88)]}, s1_bbox=bbox(W9)
    )
    service = FakeEarthEngine(cat, values=chosen)
    with ee_session(service, _home):
        scene = source(ArrayCache(_home / "arrays")).scene(W9, date)
    assert scene.attributes["datasets"]["smap"] == [gee.SMAP_005, gee.SMAP_006]
    want = chosen(Band("soil_moisture_am", f"{gee.SMAP_006}/{date:%Y%m%d}", "soil_moisture_am"), W9)
    np.testing.assert_allclose(scene.smap, want, rtol=1e-6)
    assert any(a.startswith(f"{gee.SMAP_005}/2023120") for a in service.loaded)
    assert any(a.startswith(f"{gee.SMAP_006}/2024010") for a in service.loaded)


@pytest.mark.parametrize("message", ["User memory limit exceeded.", "Computation timed out."])
def test_heavy_tiles_are_split_through_the_client(_home: Path, message: str) -> None:
    def fail(exchange: Any) -> tuple[int, str] | None:
        heavy = exchange.window is not None and exchange.window.ncols > 180
        grid = (exchange.body or {}).get("grid", {}).get("dimensions", {})
        if exchange.kind == "computePixels" and (heavy or grid.get("width", 0) > 180):
            return 400, message
        return None

    service = FakeEarthEngine(
        default_catalogue(dt.date(2021, 1, 1), dt.date(2021, 3, 31)), fail=fail
    )
    with ee_session(service, _home):
        tiled = TiledFetcher(EarthEngineFetcher(), sleep=no_sleep)
        out = tiled.fetch(PixelRequest(gee.soil_image(), W9.to_level("50m"), ("sand", "clay")))
    assert np.isfinite(out["clay"]).all() and tiled.stats["splits"] >= 1
    assert tiled.stats["retries"] == 0
    ok = [
        e for e in service.exchanges("computePixels") if e.status == 200 and e.bands != ("probe",)
    ]
    assert sum(e.body["grid"]["dimensions"]["width"] for e in ok if e.body) == 360
