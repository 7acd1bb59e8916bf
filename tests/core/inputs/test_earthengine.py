"""The Earth Engine source, offline at its two seams.

(a) Expression graphs: ``ee`` is initialised offline with the wheel's own harness and every
    expression's ``serialize()`` is compared to a golden file in ``tests/core/inputs/golden/``.
    Regenerate after an intended change with ``SOILMOISTURE_REGEN_GOLDEN=1 pytest ...``.
(b) Pixels: a synthetic fetcher answers the requests; ``scene()`` must give a valid SceneInputs.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.errors import AuthenticationError, Cancelled, DataSourceError, NoDataError
from core.inputs.grid import GridWindow
from core.inputs.sources.base import InputSource, SceneInputs
from core.inputs.sources.earthengine import EarthEngineSource
from core.inputs.sources.ee import expressions as gee
from core.inputs.sources.ee import failures as ee_failures
from core.inputs.sources.ee import project as ee_project
from core.inputs.sources.ee import session as ee_login
from core.inputs.sources.ee.acquisitions import no_scene_message
from core.inputs.sources.ee.caching import CachingFetcher
from core.inputs.sources.ee.scene_plan import plan_scene
from core.inputs.sources.ee.tiled import TiledFetcher
from core.progress import CallbackProgress
from tests.core.ee_fakes import FakeFetcher, FakeValues, offline_ee, scene_values

GOLDEN = Path(__file__).parent / "golden"
REGEN = os.environ.get("SOILMOISTURE_REGEN_GOLDEN") == "1"
W9 = GridWindow("9km", 170, 1981, 1, 2)  # 5 E, 52 N
NORTH = GridWindow("9km", 2, 1981, 1, 1)  # ~84 N: outside SRTM
DATE = dt.date(2021, 6, 15)


@pytest.fixture(scope="module")
def ee_offline() -> Iterator[Any]:
    with offline_ee() as ee:
        yield ee


def check_golden(name: str, expression: Any) -> None:
    got = json.loads(expression.serialize())
    path = GOLDEN / f"{name}.json"
    if REGEN or not path.exists():
        if not REGEN:
            pytest.fail(f"golden file {path} missing: run with SOILMOISTURE_REGEN_GOLDEN=1")
        path.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    assert got == json.loads(path.read_text(encoding="utf-8")), f"{name} graph changed"


EXPRESSIONS = {
    "s1_image": lambda: gee.s1_image(W9, DATE, "DESCENDING", 37),
    "s1_footprints": lambda: gee.s1_footprints(W9, DATE, DATE + dt.timedelta(days=1)),
    "soil_image": gee.soil_image,
    "terrain_srtm": lambda: gee.terrain_image(W9),
    "terrain_glo30": lambda: gee.terrain_image(NORTH),
    "ndvi_image": lambda: gee.ndvi_image(
        [f"{gee.MOD13Q1}/2021_06_10", f"{gee.MYD13Q1}/2021_06_02"]
    ),
    "era5_image": lambda: gee.era5_image(["20210101", "20210102"]),
    "smap_image": lambda: gee.smap_image([f"{gee.SMAP_005}/20231203", f"{gee.SMAP_006}/20231204"]),
    "scene_metadata": lambda: gee.scene_metadata(W9, DATE),
}


@pytest.mark.parametrize("name", sorted(EXPRESSIONS))
def test_expression_graph_matches_golden(ee_offline: Any, name: str) -> None:
    check_golden(name, EXPRESSIONS[name]())


def test_expressions_carry_the_contract(ee_offline: Any) -> None:
    s1 = gee.s1_image(W9, DATE, "DESCENDING", 37).serialize()
    for needle in (
        '"IW"',
        '"VV"',
        '"VH"',
        "bilinear",
        "30.6",
        "45.3",
        "-30",
        "reduceResolution",
        "setDefaultProjection",
        "ImageCollection.mosaic",
        '"DESCENDING"',
        "-9999",
    ):
        assert needle in s1, needle
    assert gee.SRTM_ASSET in gee.terrain_image(W9).serialize()
    glo = gee.terrain_image(NORTH).serialize()
    assert gee.GLO30_ASSET in glo and gee.SRTM_ASSET not in glo and "Terrain.products" in glo
    assert "sand_0-5cm_mean" in gee.soil_image().serialize()
    assert gee.s1_image(W9, DATE, "DESCENDING", 37).serialize() == s1  # deterministic


def test_smap_version_switch() -> None:
    assert gee.smap_collection(dt.date(2023, 12, 3)) == gee.SMAP_005
    assert gee.smap_collection(dt.date(2023, 12, 4)) == gee.SMAP_006
    meta = FakeValues().compute(
        type("R", (), {"params": {"kind": "scene", "window9": W9, "date": dt.date(2023, 12, 10)}})
    )
    plan = plan_scene(meta, dt.date(2023, 12, 10))
    assert plan["smap_assets"][0] == f"{gee.SMAP_005}/20231110"
    assert plan["smap_assets"][-1] == f"{gee.SMAP_006}/20240109"
    assert all(
        a.startswith(gee.SMAP_006) == (d >= gee.SMAP_006_FROM)
        for a, d in zip(plan["smap_assets"], plan["smap_days"], strict=True)
    )


def make_source(values: FakeValues, fetcher: Any = None, **kw: Any) -> EarthEngineSource:
    return EarthEngineSource(
        offline=True,
        fetcher=fetcher or CachingFetcher(TiledFetcher(FakeFetcher(scene_values))),
        values=values,
        **kw,
    )


def test_registered_and_protocol() -> None:
    src = EarthEngineSource(offline=True)
    assert isinstance(src, InputSource)
    assert src.name == "gee" and src.simulated is False
    from core.inputs.sources.base import _SOURCES

    assert _SOURCES["gee"] is EarthEngineSource


def test_list_acquisitions_groups_slices(ee_offline: Any) -> None:
    values = FakeValues(
        scenes={
            dt.date(2021, 6, 3): [("DESCENDING", 37, 1.0)],
            dt.date(2021, 6, 9): [("ASCENDING", 88, 0.5), ("DESCENDING", 139, 1.0)],
        }
    )
    accs = make_source(values).list_acquisitions(W9, dt.date(2021, 6, 1), dt.date(2021, 6, 30))
    got = [(a.date, a.orbit_pass, a.relative_orbit, round(a.coverage)) for a in accs]
    assert got == [
        (dt.date(2021, 6, 3), "DESCENDING", 37, 100),
        (dt.date(2021, 6, 9), "DESCENDING", 139, 100),
        (dt.date(2021, 6, 9), "ASCENDING", 88, 50),
    ]
    assert accs[0].platform == "Sentinel-1A"


def test_scene_end_to_end_on_fake_fetcher(ee_offline: Any) -> None:
    values = FakeValues(scenes={DATE: [("ASCENDING", 88, 0.5), ("DESCENDING", 37, 1.0)]})
    inner = FakeFetcher(scene_values)
    src = make_source(values, CachingFetcher(TiledFetcher(inner)))
    messages: list[str] = []
    scene = src.scene(W9, DATE, CallbackProgress(on_message=messages.append))
    assert isinstance(scene, SceneInputs) and not scene.simulated
    assert scene.acquisition is not None and scene.acquisition.relative_orbit == 37
    assert scene.vv.shape == (180, 360) and float(scene.vv.mean()) == pytest.approx(-12.0)
    assert scene.static.bdod.shape == (180, 360) and float(scene.static.sand[0, 0]) == 400
    assert scene.ndvi.shape == (46, 36, 72) and scene.ndvi.dtype == np.float32
    assert scene.temperature.shape == (46, 1, 2)
    np.testing.assert_allclose(scene.temperature, 280.0)
    np.testing.assert_allclose(scene.precipitation, 0.002, rtol=1e-6)
    # AM 0.25 reference, PM 0.20 + bias 0.05 -> 0.25
    np.testing.assert_allclose(scene.smap, 0.25, rtol=1e-6)
    assert scene.ndvi_padded_steps == 0
    assert scene.attributes["datasets"]["dem"] == gee.SRTM_ASSET
    assert scene.attributes["datasets"]["smap"] == [gee.SMAP_005]
    assert len(scene.attributes["ndvi_dates"]) == 46
    assert any("tile" in m for m in messages)
    bands = {b for c in inner.calls for b in c.bands}
    assert {"vv", "vh", "angle", "sand", "elevation", "aspect"} <= bands
    assert sum(b.startswith("t_") for b in bands) == 368
    # a re-run is served from the cache alone
    n = len(inner.calls)
    again = src.scene(W9, DATE)
    assert len(inner.calls) == n
    np.testing.assert_array_equal(again.ndvi, scene.ndvi)
    # an offline source on the same cache needs no fetcher at all
    offline = EarthEngineSource(offline=True, cache=src.fetcher.cache, values=values)  # type: ignore[attr-defined]
    assert offline.scene(W9, DATE).attributes["requests"] == scene.attributes["requests"]


def test_scene_pads_ndvi_when_composites_are_missing(ee_offline: Any) -> None:
    values = FakeValues(
        scenes={DATE: [("DESCENDING", 37, 1.0)]}, ndvi_gap_after=DATE - dt.timedelta(days=40)
    )
    scene = make_source(values).scene(W9, DATE)
    assert scene.ndvi_padded_steps == 5
    assert scene.attributes["ndvi_dates"][0] == scene.attributes["ndvi_dates"][5]


def test_scene_with_late_era5(ee_offline: Any) -> None:
    values = FakeValues(scenes={DATE: [("DESCENDING", 37, 1.0)]}, era5_last=DATE)
    scene = make_source(values).scene(W9, DATE)
    start = dt.date.fromisoformat(scene.attributes["era5_start"])
    # the window runs 368 days from the first composite, past the last published day
    missing = (start + dt.timedelta(days=367) - DATE).days
    assert scene.attributes["era5_missing_days"] == missing > 0
    assert np.isfinite(scene.temperature).all()  # the last block still has some days
    values.era5_last = DATE - dt.timedelta(days=12)  # a whole 8-day block missing
    with pytest.raises(NoDataError, match="ERA5-Land"):
        make_source(values).scene(W9, DATE)


def test_date_without_scene_names_nearest_dates(ee_offline: Any) -> None:
    values = FakeValues(
        scenes={
            dt.date(2021, 6, 9): [("DESCENDING", 37, 1.0)],
            dt.date(2021, 6, 21): [("ASCENDING", 88, 0.6)],
            dt.date(2021, 8, 30): [("ASCENDING", 88, 1.0)],
        }
    )
    with pytest.raises(NoDataError) as info:
        make_source(values).scene(W9, DATE)
    msg = str(info.value)
    assert "2021-06-15" in msg and "2021-06-09" in msg and "2021-06-21" in msg
    assert "2021-08-30" not in msg
    assert "none" not in no_scene_message(DATE, []) and "36 days" in no_scene_message(DATE, [])


def test_cancel_before_fetching(ee_offline: Any) -> None:

    values = FakeValues(scenes={DATE: [("DESCENDING", 37, 1.0)]})
    inner = FakeFetcher(scene_values)
    with pytest.raises(Cancelled):
        make_source(values, CachingFetcher(TiledFetcher(inner))).scene(
            W9, DATE, CallbackProgress(is_cancelled=lambda: True)
        )
    assert inner.calls == []


# -- authentication ------------------------------------------------------------------------------


class TransportError(Exception):
    """Named like google.auth.exceptions.TransportError."""


@pytest.mark.parametrize(
    ("exc", "kind", "words"),
    [
        (
            RuntimeError(
                "Please authorize access to your Earth Engine account by running\n\n"
                "earthengine authenticate"
            ),
            AuthenticationError,
            "earthengine authenticate",
        ),
        (
            RuntimeError(
                "ee.Initialize: no project found. Call with project= or see http://goo.gle/ee-auth."
            ),
            AuthenticationError,
            "set_project",
        ),
        (
            RuntimeError(
                "Not signed up for Earth Engine or project is not registered. Visit "
                "https://developers.google.com/earth-engine/guides/access"
            ),
            AuthenticationError,
            "register",
        ),
        (
            RuntimeError(
                "Caller does not have required permission to use project p. Grant the "
                "caller the roles/serviceusage.serviceUsageConsumer role"
            ),
            AuthenticationError,
            "Service Usage Consumer",
        ),
        (
            TransportError("HTTPSConnectionPool: Max retries exceeded"),
            DataSourceError,
            "no network: check your connection, or use the cache / demo source",
        ),
        (
            RuntimeError(
                "Too Many Requests: Request was rejected because the request rate or "
                "concurrency limit was exceeded."
            ),
            DataSourceError,
            "quota",
        ),
    ],
)
def test_translate_error(exc: Exception, kind: type, words: str) -> None:
    err = ee_failures.translate_error(exc, "my-proj")
    assert type(err) is kind
    assert words in str(err)


def test_network_error_found_in_the_cause_chain() -> None:
    try:
        try:
            raise ConnectionError("Name or service not known")
        except ConnectionError as inner:
            raise RuntimeError("request failed") from inner
    except RuntimeError as outer:
        assert ee_failures.translate_error(outer).args[0] == ee_failures.NO_NETWORK


def test_initialize_translates_and_reuses(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Through the real client over the fake service (tests/core/ee_fakes.py)."""
    import ee

    from tests.core.ee_fakes import FakeEarthEngine, default_catalogue, isolate_home

    isolate_home(monkeypatch, tmp_path)
    monkeypatch.setattr(ee.deprecation, "_FetchDataCatalogStac", lambda: {})
    service = FakeEarthEngine(
        default_catalogue(dt.date(2021, 1, 1), dt.date(2021, 1, 31)), projects=("saved-proj",)
    )
    ee.Reset()
    ee_login.reset_session()
    try:
        with pytest.raises(AuthenticationError, match="not found"):
            ee_login.initialize(key_file=tmp_path / "missing.json", http_transport=service)
        assert not ee_project.has_credentials()
        creds = tmp_path / ".config" / "earthengine" / "credentials"
        creds.parent.mkdir(parents=True)
        creds.write_text(json.dumps({"refresh_token": service.refresh_token}))
        with pytest.raises(AuthenticationError, match="no Google Cloud project"):
            ee_login.initialize(http_transport=service)
        creds.write_text(
            json.dumps({"refresh_token": service.refresh_token, "project": "saved-proj"})
        )
        assert ee_project.has_credentials() and ee_project.stored_project() == "saved-proj"
        assert ee_login.initialize(http_transport=service) == "signed in, project saved-proj"
        assert ee_project.saved_project() is None  # not given explicitly: not saved
        listed = len(service.exchanges("algorithms"))
        assert listed == 1 and service.tokens_issued >= 1
        assert ee_login.initialize(http_transport=service) == "signed in, project saved-proj"
        assert len(service.exchanges("algorithms")) == listed  # reused, not initialised twice
    finally:
        ee.Reset()
        ee_login.reset_session()


@pytest.mark.live_ee
def test_live_earth_engine_scene() -> None:
    if not ee_project.has_credentials():
        pytest.skip("no Earth Engine credentials configured")
    try:
        ee_login.initialize()
    except DataSourceError as exc:
        pytest.skip(f"Earth Engine not reachable: {exc}")
    src = EarthEngineSource()
    accs = src.list_acquisitions(W9, dt.date(2021, 6, 1), dt.date(2021, 6, 30))
    assert accs, "Sentinel-1 should cover 5 E, 52 N every few days"
    scene = src.scene(W9, accs[0].date)
    assert np.isfinite(scene.vv).mean() > 0.5


@pytest.mark.live_ee
def test_live_ee_check() -> None:
    if not ee_project.has_credentials():
        pytest.skip("no Earth Engine credentials configured")
    from core.inputs.sources.ee.check import check_connection

    checks = check_connection()
    if not checks[-1].ok and checks[-1].name in ("session", "project"):
        pytest.skip(f"Earth Engine not usable here: {checks[-1].detail}")
    assert all(c.ok for c in checks), "\n".join(c.line() for c in checks)


def test_s1_dates_command(
    ee_offline: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import core.inputs.sources.base as base
    from core.cli import main

    values = FakeValues(scenes={dt.date(2021, 6, 9): [("DESCENDING", 37, 1.0)]})
    seen: dict[str, Any] = {}

    def fake_get_source(name: str, **options: Any) -> Any:
        seen.update(options, name=name)
        return make_source(values)

    monkeypatch.setattr(base, "get_source", fake_get_source)
    rc = main(
        [
            "s1-dates",
            "--aoi",
            "4.95,51.95,5.05,52.05",
            "--start",
            "2021-06-01",
            "--end",
            "2021-06-30",
            "--offline",
        ]
    )
    out = capsys.readouterr().out
    assert rc == 0 and seen == {"name": "gee", "project": None, "offline": True}
    assert "2021-06-09" in out and "DESCENDING" in out and "37" in out and "100%" in out
    assert (
        main(
            [
                "s1-dates",
                "--aoi",
                "4.95,51.95,5.05,52.05",
                "--start",
                "2021-06-30",
                "--end",
                "2021-06-01",
            ]
        )
        == 2
    )
