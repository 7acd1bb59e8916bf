"""The pixel-fetcher seam: request keys, tiling, retries, splits, cancel, cache."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.errors import AuthenticationError, Cancelled, DataSourceError, InputError
from core.inputs.cache import ArrayCache
from core.inputs.grid import GridWindow
from core.inputs.sources.ee.caching import CachingFetcher, CachingValueFetcher
from core.inputs.sources.ee.failures import classify_error
from core.inputs.sources.ee.requests import PixelRequest, ValueRequest
from core.inputs.sources.ee.service import (
    EarthEngineFetcher,
    EarthEngineValueFetcher,
    decode_pixels,
)
from core.inputs.sources.ee.tiled import TiledFetcher
from core.inputs.sources.ee.tiling import plan_tiles, split_tile
from core.progress import CallbackProgress
from tests.core.ee_fakes import (
    Band,
    Failure,
    FakeEarthEngine,
    FakeFetcher,
    default_catalogue,
    default_values,
    ee_session,
    isolate_home,
    synthetic,
)

W9 = GridWindow("9km", 170, 1981, 2, 3)
W50 = W9.to_level("50m")  # 360 x 540
EXPR = '{"result": "0", "values": {"0": {"constantValue": 1}}}'


def req(
    bands: tuple[str, ...] = ("VV", "VH"), grid: GridWindow = W50, **kw: object
) -> PixelRequest:
    return PixelRequest(EXPR, grid, bands, **kw)  # type: ignore[arg-type]


def expected(request: PixelRequest) -> dict[str, np.ndarray]:
    return {b: synthetic(b, request.grid).astype(np.float32) for b in request.bands}


def no_sleep(_: float) -> None:
    pass


def test_key_is_stable_and_sensitive() -> None:
    a = req()
    assert a.key() == req().key() == req(label="other").key()
    assert len(a.key()) == 64
    assert a.key() != req(("VV",)).key()
    assert a.key() != req(grid=GridWindow("50m", W50.row0, W50.col0, 180, 180)).key()
    assert a.key() != PixelRequest(EXPR.replace("1", "2"), W50, ("VV", "VH")).key()
    assert a.with_grid(W50).key() == a.key()
    assert a.nbytes == 360 * 540 * 4 * 2
    with pytest.raises(InputError):
        req(("VV", "VV"))


def test_plan_tiles_band_groups_first_then_spatial() -> None:
    big = GridWindow("50m", 0, 0, 1440, 1440)
    r = req(tuple(f"b{i}" for i in range(7)), grid=big)
    tiles = plan_tiles(r)
    # one band = 1440^2 x 4 B = 8.29 MB; 6 of them = 49.8 MB <= 48 MiB (50.3 MB), 7 do not fit
    assert [len(t.bands) for t in tiles] == [6, 1]
    assert all(t.grid == big for t in tiles)
    small = plan_tiles(req(("VV",), grid=big), max_bytes=1024 * 1024)
    assert len(small) > 1
    for t in small:
        assert (t.grid.row0 - big.row0) % 180 == 0 and (t.grid.col0 - big.col0) % 180 == 0
        assert t.nbytes <= 1024 * 1024
    assert sum(t.grid.nrows * t.grid.ncols for t in small) == 1440 * 1440
    side = plan_tiles(req(("VV",), grid=GridWindow("50m", 0, 0, 360, 720)), max_side=360)
    assert [t.grid.ncols for t in side] == [360, 360]


def test_split_tile_halves_on_180_then_pixels_then_bands() -> None:
    t = req(grid=GridWindow("50m", 0, 0, 360, 540))
    a, b = split_tile(t)
    assert (a.grid.ncols, b.grid.ncols) == (180, 360) and a.grid.nrows == 360
    tiny = req(grid=GridWindow("50m", 0, 0, 3, 1))
    assert [p.grid.nrows for p in split_tile(tiny)] == [1, 2]
    one = req(grid=GridWindow("50m", 0, 0, 1, 1))
    assert [p.bands for p in split_tile(one)] == [("VV",), ("VH",)]
    with pytest.raises(DataSourceError):
        split_tile(req(("VV",), grid=GridWindow("50m", 0, 0, 1, 1)))


def test_tiled_fetch_assembles_exactly_and_reports_progress() -> None:
    fake = FakeFetcher()
    messages: list[str] = []
    fractions: list[float] = []
    tf = TiledFetcher(fake, max_bytes=200_000, workers=3, sleep=no_sleep)
    r = req(label="SAR")
    out = tf.fetch(r, CallbackProgress(fractions.append, messages.append))
    for b, arr in expected(r).items():
        np.testing.assert_array_equal(out[b], arr)
    n = len(fake.calls)
    assert n > 1 and all(c.nbytes <= 200_000 for c in fake.calls)
    assert messages[-1] == f"SAR tile {n}/{n}" and fractions[-1] == 1.0


def test_size_error_splits_tile() -> None:
    fake = FakeFetcher(
        failures=[
            Failure(
                lambda r: r.grid.nrows * r.grid.ncols > 180 * 180,
                RuntimeError(
                    "Total request size (60000000 bytes) must be less than or equal to "
                    "50331648 bytes."
                ),
            )
        ]
    )
    tf = TiledFetcher(fake, sleep=no_sleep)
    r = req()
    out = tf.fetch(r)
    np.testing.assert_array_equal(out["VH"], expected(r)["VH"])
    assert tf.stats["splits"] >= 1
    ok = [c for c in fake.calls if c.grid.nrows * c.grid.ncols <= 180 * 180]
    assert sum(c.grid.nrows * c.grid.ncols for c in ok) == 360 * 540


def test_memory_limit_and_timeout_split() -> None:
    fake = FakeFetcher(
        failures=[
            Failure(lambda r: r.grid.ncols > 180, RuntimeError("User memory limit exceeded.")),
            Failure(lambda r: r.grid.nrows > 180, RuntimeError("Computation timed out.")),
        ]
    )
    tf = TiledFetcher(fake, sleep=no_sleep)
    out = tf.fetch(req())
    np.testing.assert_array_equal(out["VV"], expected(req())["VV"])
    assert tf.stats["splits"] >= 3


def test_429_is_retried_with_exponential_backoff() -> None:
    pauses: list[float] = []
    fake = FakeFetcher(failures=[Failure(lambda r: True, RuntimeError("Too Many Requests"), 3)])
    tf = TiledFetcher(fake, workers=1, backoff_s=1.0, sleep=pauses.append)
    out = tf.fetch(req())
    np.testing.assert_array_equal(out["VV"], expected(req())["VV"])
    assert tf.stats["retries"] == 3 and len(pauses) == 3
    for k, p in enumerate(pauses):
        assert 2**k <= p <= 1.5 * 2**k


def test_retries_give_up_with_plain_message() -> None:
    fake = FakeFetcher(failures=[Failure(lambda r: True, RuntimeError("Too Many Requests"))])
    tf = TiledFetcher(fake, workers=1, max_retries=2, sleep=no_sleep)
    with pytest.raises(DataSourceError, match="quota"):
        tf.fetch(req())
    assert len(fake.calls) == 3


def test_fatal_error_is_translated() -> None:
    fake = FakeFetcher(
        failures=[
            Failure(
                lambda r: True,
                RuntimeError("Not signed up for Earth Engine or project is not registered."),
            )
        ]
    )
    with pytest.raises(AuthenticationError, match="register"):
        TiledFetcher(fake, sleep=no_sleep).fetch(req())
    assert len(fake.calls) == 1


def test_cancel_between_tiles() -> None:
    fake = FakeFetcher()
    calls = {"n": 0}

    def cancelled() -> bool:
        calls["n"] += 1
        return calls["n"] > 1

    tf = TiledFetcher(fake, max_bytes=50_000, workers=1, sleep=no_sleep)
    with pytest.raises(Cancelled):
        tf.fetch(req(), CallbackProgress(is_cancelled=cancelled))
    assert len(fake.calls) < len(plan_tiles(req(), max_bytes=50_000))


def test_classify_error() -> None:
    assert classify_error(RuntimeError("User memory limit exceeded.")) == "split"
    assert classify_error(RuntimeError("Computation timed out.")) == "split"
    assert classify_error(RuntimeError("HTTP Error 503: Service Unavailable")) == "retry"
    assert classify_error(RuntimeError("Image.load: asset 'X500' not found")) == "fatal"
    for text in (
        "Too many concurrent aggregations.",
        "Earth Engine memory capacity exceeded.",
        "The service is currently unavailable.",
    ):
        assert classify_error(RuntimeError(text)) == "retry", text
    assert (
        classify_error(
            ValueError("Header info length (17014) is large and may not be safe to load securely.")
        )
        == "bands"
    )


def test_caching_fetcher_hits_and_refetches_corrupt_entry() -> None:
    fake = FakeFetcher()
    cf = CachingFetcher(fake)
    r = req()
    first = cf.fetch(r)
    second = cf.fetch(req(label="again"))
    assert len(fake.calls) == 1 and cf.hits == 1
    np.testing.assert_array_equal(first["VV"], second["VV"])
    path = cf.cache.path(r.key())
    path.write_bytes(path.read_bytes()[:-20] + b"x" * 20)
    third = cf.fetch(r)
    assert len(fake.calls) == 2
    np.testing.assert_array_equal(third["VH"], first["VH"])
    offline = CachingFetcher(None, cf.cache)
    np.testing.assert_array_equal(offline.fetch(r)["VV"], first["VV"])
    with pytest.raises(DataSourceError, match="offline"):
        offline.fetch(req(("angle",)))


def _service_session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **kw: Any) -> Any:
    isolate_home(monkeypatch, tmp_path)
    service = FakeEarthEngine(default_catalogue(dt.date(2021, 1, 1), dt.date(2021, 3, 31)), **kw)
    return service, ee_session(service, tmp_path)


def test_earth_engine_fetcher_decodes_computepixels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.inputs.sources.ee.expressions import soil_image

    def values(band: Band, grid: GridWindow) -> np.ndarray:
        v = default_values(band, grid)
        v[0, 0] = -9999.0
        return v

    service, session = _service_session(tmp_path, monkeypatch, values=values)
    with session:
        r = PixelRequest(soil_image(), W50, ("sand", "bdod"))
        out = EarthEngineFetcher().fetch(r)
    sent = [e for e in service.exchanges("computePixels") if e.bands != ("probe",)]
    assert sent[0].bands == ("sand", "bdod") and sent[0].window == W50
    assert sent[0].body is not None and sent[0].body["grid"] == W50.ee_grid()
    assert np.isnan(out["sand"][0, 0]) and out["sand"].dtype == np.float32
    want = default_values(
        Band("bdod", "projects/soilgrids-isric/bdod_mean", "bdod_0-5cm_mean"), W50
    )
    np.testing.assert_allclose(out["bdod"][1:, 1:], want[1:, 1:], rtol=1e-6)


def test_decode_rejects_wrong_shape() -> None:
    r = req(("VV",))
    with pytest.raises(DataSourceError):
        decode_pixels(np.zeros((2, 2), dtype=[("VV", "<f4")]), r)
    with pytest.raises(DataSourceError, match="missing"):
        decode_pixels(np.zeros(W50.shape, dtype=[("VH", "<f4")]), r)


def test_value_fetchers_cache_and_retry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from core.inputs.sources.ee.expressions import listing

    failed: list[int] = []

    def fail(exchange: Any) -> tuple[int, str] | None:
        if exchange.kind == "compute" and not failed:
            failed.append(1)
            return 429, "Too many concurrent aggregations."
        return None

    service, session = _service_session(tmp_path, monkeypatch, fail=fail)
    pauses: list[float] = []
    with session:
        inner = EarthEngineValueFetcher(sleep=pauses.append)
        vf = CachingValueFetcher(inner, ArrayCache(tmp_path / "cache"))
        r = ValueRequest(
            listing("NASA/SMAP/SPL3SMP_E/005", dt.date(2021, 1, 1), dt.date(2021, 1, 4)), "test"
        )
        first = vf.compute(r)
        assert [p["index"] for p in first] == [["20210101", "20210102", "20210103"]]
        assert vf.compute(r) == first  # cached
        assert len(service.exchanges("compute")) == 2 and len(pauses) == 1
        assert vf.compute(ValueRequest(r.expression, "test", cacheable=False)) == first
        assert len(service.exchanges("compute")) == 3
    with pytest.raises(DataSourceError, match="offline"):
        CachingValueFetcher(None, vf.cache).compute(ValueRequest(EXPR + " ", "s1"))


@pytest.mark.parametrize("n", [1, 3, 46, 339, 736])
def test_npy_header_estimate_matches_numpy(n: int) -> None:
    import io

    from core.inputs.sources.ee.tiling import NPY_HEADER_BUDGET, NPY_HEADER_LIMIT, npy_header_bytes

    bands = [f"t_{20200101 + k}" for k in range(n)]
    buf = io.BytesIO()
    np.save(buf, np.zeros((7, 12), dtype=[(b, "<f4") for b in bands]))
    actual = int.from_bytes(buf.getvalue()[8:10], "little")
    estimate = npy_header_bytes(bands, "float32", (7, 12))
    assert 0 <= estimate - actual <= 10
    tiles = plan_tiles(PixelRequest(EXPR, GridWindow("9km", 0, 0, 7, 12), tuple(bands)))
    assert all(npy_header_bytes(t.bands, "float32", (7, 12)) <= NPY_HEADER_BUDGET for t in tiles)
    assert NPY_HEADER_BUDGET < NPY_HEADER_LIMIT
