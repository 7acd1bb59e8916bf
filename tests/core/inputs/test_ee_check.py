"""``soilmoisture ee-check`` through the real client over the fake Earth Engine service."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.inputs.sources.ee import expressions as gee
from core.inputs.sources.ee import project as ee_project
from core.inputs.sources.ee import session as ee_login
from core.inputs.sources.ee.check import Check, check_connection, summary
from tests.core.ee_fakes import FakeEarthEngine, default_catalogue, isolate_home

DATE = dt.date(2021, 6, 15)
LONLAT = (5.0, 52.0)


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    import ee

    isolate_home(monkeypatch, tmp_path)
    monkeypatch.setattr(ee.deprecation, "_FetchDataCatalogStac", lambda: {})
    ee.Reset()
    ee_login.reset_session()
    yield tmp_path
    ee.Reset()
    ee_login.reset_session()


def _credentials(home: Path, token: str = "refresh-token") -> None:
    path = home / ".config" / "earthengine" / "credentials"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"refresh_token": token}))


def _service(**kw: Any) -> FakeEarthEngine:
    scenes = {DATE - dt.timedelta(days=k): [("DESCENDING", 37)] for k in (3, 15, 27)}
    cat = default_catalogue(
        dt.date(2021, 1, 1), dt.date(2021, 12, 31), s1=scenes, s1_bbox=(3.0, 50.0, 7.0, 54.0)
    )
    return FakeEarthEngine(cat, **kw)


def test_all_checks_pass_and_touch_every_dataset(_home: Path) -> None:
    _credentials(_home)
    service = _service()
    seen: list[Check] = []
    checks = check_connection(
        project="test-project",
        date=DATE,
        lonlat=LONLAT,
        http_transport=service,
        on_check=seen.append,
    )
    assert seen == checks
    assert [c.name for c in checks] == [
        "client library",
        "credentials",
        "project",
        "session",
        "grid (EPSG:6933)",
        "Sentinel-1",
        "SMAP 005",
        "MODIS NDVI (Terra)",
        "MODIS NDVI (Aqua)",
        "ERA5-Land daily",
        "SoilGrids",
        "DEM (SRTM)",
        "DEM (GLO-30 2024)",
    ], [c.line() for c in checks]
    assert all(c.ok for c in checks), [c.line() for c in checks]
    assert summary(checks) == "all Earth Engine checks passed"
    loaded = set(service.loaded)
    assert gee.SRTM_ASSET in loaded and gee.GLO30_ASSET in loaded
    assert any(a.startswith(f"{gee.SMAP_005}/") for a in loaded)
    assert "COPERNICUS/S1_GRD" in loaded
    assert "project test-project" in checks[3].detail
    assert ee_project.saved_project() == "test-project"  # saved for the dock and Processing


def test_failures_say_what_to_do(_home: Path) -> None:
    checks = check_connection(date=DATE, lonlat=LONLAT, http_transport=_service())
    assert [c.ok for c in checks] == [True, False]
    assert "sign-in" in checks[1].detail and "earthengine authenticate" in checks[1].detail

    _credentials(_home)
    checks = check_connection(date=DATE, lonlat=LONLAT, http_transport=_service())
    assert checks[-1].name == "project" and "--project" in checks[-1].detail

    checks = check_connection(
        project="unregistered", date=DATE, lonlat=LONLAT, http_transport=_service()
    )
    assert checks[-1].name == "session" and not checks[-1].ok
    assert "not registered for Earth Engine" in checks[-1].detail

    service = _service()
    del service.catalogue[gee.SMAP_005]
    service.catalogue[gee.MYD13Q1].bands = ("NDVI", "EVI")
    checks = check_connection(
        project="test-project", date=DATE, lonlat=LONLAT, http_transport=service
    )
    failed = {c.name: c.detail for c in checks if not c.ok}
    assert set(failed) == {"SMAP 005", "MODIS NDVI (Aqua)"}
    assert "no dataset 'NASA/SMAP/SPL3SMP_E/005'" in failed["SMAP 005"]
    assert "no band 'SummaryQA'" in failed["MODIS NDVI (Aqua)"]
    assert summary(checks).startswith("2 Earth Engine check(s) failed")


def test_cli_without_credentials_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    from core.cli import main

    assert main(["ee-check", "--date", "2021-06-15"]) == 2
    captured = capsys.readouterr()
    assert "FAIL  credentials" in captured.out
    last = captured.err.strip().splitlines()[-1]
    assert last.startswith("soilmoisture: error: ") and "check(s) failed" in last
    with pytest.raises(SystemExit):
        main(["ee-check", "--lonlat", "500,1"])
