"""The pixel-fetcher seam: request keys, tiling, retries, splits, cancel, cache."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import AuthenticationError, Cancelled, DataSourceError, InputError
from core.grid import GridWindow
from core.progress import CallbackProgress
from core.sources.fetch import (
    CachingFetcher,
    CachingValueFetcher,
    EarthEngineFetcher,
    EarthEngineValueFetcher,
    PixelRequest,
    TiledFetcher,
    ValueRequest,
    classify_error,
    decode_pixels,
    plan_tiles,
    split_tile,
)
from tests.core.ee_fakes import Failure, FakeFetcher, fake_compute_pixels, synthetic

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
        failures=[Failure(lambda r: True, RuntimeError("Not signed up for Earth Engine or "
                                                       "project is not registered."))]
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


def test_earth_engine_fetcher_decodes_computepixels(monkeypatch: pytest.MonkeyPatch) -> None:
    import ee

    calls: list[dict[str, object]] = []

    def values(band: str, grid: GridWindow) -> np.ndarray:
        v = synthetic(band, grid)
        v[0, 0] = -9999.0
        return v

    monkeypatch.setattr(ee.data, "computePixels", fake_compute_pixels(values, calls=calls))
    r = PixelRequest(object(), W50, ("VV", "angle"))
    out = EarthEngineFetcher().fetch(r)
    assert calls[0]["bandIds"] == ["VV", "angle"] and calls[0]["grid"] == W50.ee_grid()
    assert np.isnan(out["VV"][0, 0]) and out["VV"].dtype == np.float32
    np.testing.assert_allclose(out["angle"][1:, 1:], synthetic("angle", W50)[1:, 1:], rtol=1e-6)


def test_earth_engine_fetcher_split_on_400_through_tiler(monkeypatch: pytest.MonkeyPatch) -> None:
    import ee

    def fail(params: dict[str, object]) -> Exception | None:
        dims = params["grid"]["dimensions"]  # type: ignore[index]
        if dims["width"] * dims["height"] > 180 * 180:
            return ee.EEException("Total request size (1 bytes) must be less than or equal to 2")
        return None

    calls: list[dict[str, object]] = []
    monkeypatch.setattr(ee.data, "computePixels", fake_compute_pixels(fail=fail, calls=calls))
    out = TiledFetcher(EarthEngineFetcher(), sleep=no_sleep).fetch(req())
    np.testing.assert_allclose(out["VV"], expected(req())["VV"])
    assert len(calls) > 6


def test_decode_rejects_wrong_shape() -> None:
    r = req(("VV",))
    with pytest.raises(DataSourceError):
        decode_pixels(np.zeros((2, 2), dtype=[("VV", "<f4")]), r)
    with pytest.raises(DataSourceError, match="missing"):
        decode_pixels(np.zeros(W50.shape, dtype=[("VH", "<f4")]), r)


def test_value_fetchers_cache_and_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    import ee

    answers = iter([ee.EEException("Too Many Requests"), {"a": 1}, {"a": 2}])

    def compute_value(expr: object) -> object:
        a = next(answers)
        if isinstance(a, Exception):
            raise a
        return a

    monkeypatch.setattr(ee.data, "computeValue", compute_value)
    inner = EarthEngineValueFetcher(sleep=no_sleep)
    vf = CachingValueFetcher(inner)
    r = ValueRequest(EXPR, "test")
    monkeypatch.setattr(ee.deserializer, "fromJSON", lambda s: s)
    assert vf.compute(r) == {"a": 1}
    assert vf.compute(r) == {"a": 1}  # cached
    assert vf.compute(ValueRequest(EXPR, "test", cacheable=False)) == {"a": 2}
    with pytest.raises(DataSourceError, match="offline"):
        CachingValueFetcher(None, vf.cache).compute(ValueRequest(EXPR + " ", "s1"))
