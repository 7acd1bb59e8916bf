"""``ee-check``: can this account get every input the product needs from Earth Engine?

:func:`check_connection` signs in (or reuses the credentials), resolves the Cloud project,
probes which form of the EASE-2 grid the service accepts, and makes one tiny request per dataset
the product uses (Sentinel-1, SMAP for the date's collection version, MODIS NDVI, ERA5-Land,
SoilGrids, both DEMs) with the product's own expressions, 2 x 2 cells each. Every step gives a
:class:`Check`: OK with what was seen, or the error in plain words with what to do. It is the
first thing a new user runs and the first thing a bug report pastes.
"""

from __future__ import annotations

import datetime as dt
import platform
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import Cancelled, SoilMoistureError
from ...progress import NULL_PROGRESS, Progress
from ..grid import GridWindow, lonlat_to_rowcol

DEFAULT_LONLAT = (5.0, 52.0)
"""Where the tiny requests are made by default (a place every dataset covers)."""
DEFAULT_AGE_DAYS = 45
"""The default date is this many days ago: every dataset has published it by then."""
CHECK_DEADLINE_S = 120.0
"""Deadline of each request of the check."""


@dataclass(frozen=True)
class Check:
    """One line of the check.

    Attributes:
        name: what was checked.
        ok: whether it worked.
        detail: what was seen (OK) or the error with what to do (failed).

    """

    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        """``OK    name  detail`` / ``FAIL  name  detail``."""
        return f"{'OK' if self.ok else 'FAIL':<5} {self.name:<22} {self.detail}"


def default_date() -> dt.date:
    """The date checked when none is given."""
    return dt.date.today() - dt.timedelta(days=DEFAULT_AGE_DAYS)


def _window(lonlat: tuple[float, float]) -> GridWindow:
    row, col = lonlat_to_rowcol(lonlat[0], lonlat[1], "9km")
    return GridWindow("9km", int(row), int(col), 1, 1)


def _describe(arrays: dict[str, np.ndarray]) -> str:
    values = np.concatenate([np.ravel(a) for a in arrays.values()])
    finite = np.isfinite(values)
    if not finite.any():
        return f"answered, {len(arrays)} band(s), but every value is missing here"
    return (
        f"{len(arrays)} band(s) x {next(iter(arrays.values())).size} px decoded, "
        f"{int(finite.sum())}/{values.size} values present"
    )


def check_connection(
    project: str | None = None,
    key_file: str | None = None,
    date: dt.date | None = None,
    lonlat: tuple[float, float] = DEFAULT_LONLAT,
    progress: Progress | None = None,
    sign_in: bool = False,
    http_transport: Any = None,
    on_check: Callable[[Check], None] | None = None,
    open_browser: Callable[[str], Any] | None = None,
) -> list[Check]:
    """Run the connection check (blocking; never on the GUI thread).

    Args:
        project: Cloud project (default: :func:`core.inputs.sources.ee_auth.resolve_project`).
        key_file: service-account key (batch use).
        date: the date whose datasets are checked (default: 45 days ago).
        lonlat: where the tiny requests are made.
        progress: cancel is honoured within a fraction of a second.
        sign_in: sign in through the browser first (saves the credentials and the project).
        http_transport: transport for the client (tests).
        on_check: called with every check as soon as it is known (live output).
        open_browser: shows the sign-in page (default: the system browser).

    Returns:
        The checks in order; the run stops after a failed sign-in step (nothing else can work).

    Raises:
        Cancelled: when ``progress`` is cancelled.

    """
    from . import earthengine as gee
    from . import ee_auth
    from .fetch import (
        GRID_FORM_NAMES,
        EarthEngineFetcher,
        PixelRequest,
        call_with_deadline,
        probe_grid_form,
    )

    progress = progress or NULL_PROGRESS
    date = date or default_date()
    checks: list[Check] = []

    def record(name: str, ok: bool, detail: str) -> bool:
        check = Check(name, ok, detail)
        checks.append(check)
        if on_check is not None:
            on_check(check)
        return ok

    def failure(exc: BaseException) -> str:
        if isinstance(exc, Cancelled):
            raise exc
        return str(ee_auth.translate_error(exc, project))

    try:
        import ee
    except ImportError:
        record(
            "client library",
            False,
            "earthengine-api is not installed: install it with "
            "`pip install earthengine-api` (in QGIS: the plugin's install button)",
        )
        return checks
    record(
        "client library",
        True,
        f"earthengine-api {ee.__version__}, Python {platform.python_version()}",
    )
    progress.check()
    if sign_in:
        try:
            ee_auth.sign_in(
                project, progress, open_browser=open_browser, http_transport=http_transport
            )
        except SoilMoistureError as exc:
            if isinstance(exc, Cancelled):
                raise
            record("sign-in", False, str(exc))
            return checks
        record("sign-in", True, f"credentials saved in {ee_auth.credentials_path()}")
    elif not ee_auth.has_credentials(key_file):
        record(
            "credentials",
            False,
            "no Earth Engine credentials found: run `soilmoisture "
            "ee-check --sign-in` (or `earthengine authenticate`), or set "
            "SOILMOISTURE_EE_KEY_FILE to a service-account key",
        )
        return checks
    else:
        where = f"service-account key {key_file}" if key_file else ee_auth.credentials_path()
        record("credentials", True, f"found ({where})")
    resolved, origin = ee_auth.resolve_project(project)
    if resolved is None and not key_file:
        record(
            "project",
            False,
            "no Google Cloud project: pass --project PROJECT_ID (it is "
            "saved for the next runs), or set SOILMOISTURE_EE_PROJECT; the project must be "
            "registered for Earth Engine",
        )
        return checks
    record("project", True, f"{resolved} (from {origin})" if resolved else "the key's own")
    progress.check()
    try:
        state = call_with_deadline(
            lambda: ee_auth.initialize(
                project,
                key_file,
                force=_new_session(project, key_file),
                http_transport=http_transport,
            ),
            CHECK_DEADLINE_S,
            progress,
            "sign-in",
        )
    except Exception as exc:  # noqa: BLE001 - reported as a failed check
        record("session", False, failure(exc))
        return checks
    record("session", True, state)

    window9 = _window(lonlat)
    w50, w250 = window9.to_level("50m"), window9.to_level("250m")
    tiny50 = GridWindow("50m", w50.row0 + 90, w50.col0 + 90, 2, 2)
    tiny250 = GridWindow("250m", w250.row0 + 18, w250.col0 + 18, 2, 2)
    try:
        form = call_with_deadline(
            lambda: probe_grid_form(window9), CHECK_DEADLINE_S, progress, "grid probe"
        )
    except Exception as exc:  # noqa: BLE001 - reported as a failed check
        record("grid (EPSG:6933)", False, failure(exc))
        return checks
    record("grid (EPSG:6933)", True, f"accepted as {GRID_FORM_NAMES[form]}")
    fetcher = EarthEngineFetcher(deadline_s=CHECK_DEADLINE_S, form=form)

    def pixels(name: str, build: Callable[[], tuple[Any, GridWindow, tuple[str, ...]]]) -> None:
        progress.check()
        try:
            expression, grid, bands = build()
            arrays = fetcher.fetch(PixelRequest(expression, grid, bands, label=name), progress)
        except Exception as exc:  # noqa: BLE001 - reported as a failed check
            record(name, False, failure(exc))
            return
        record(name, True, _describe(arrays))

    def latest(asset: str, days: int) -> str:
        answer = call_with_deadline(
            lambda: ee.data.computeValue(
                gee.listing(asset, date - dt.timedelta(days=days), date + dt.timedelta(days=1))
            ),
            CHECK_DEADLINE_S,
            progress,
            asset,
        )
        ids = [i for part in answer for i in part.get("index", [])]
        if not ids:
            raise SoilMoistureError(
                f"{asset} has no image in the {days} days up to {date.isoformat()} here: pick "
                "another --date (data are published with a delay)"
            )
        return f"{asset}/{sorted(ids)[-1]}"

    def s1() -> tuple[Any, GridWindow, tuple[str, ...]]:
        src = gee.EarthEngineSource(project=resolved, key_file=key_file, values=_Direct())
        accs = src.list_acquisitions(window9, date - dt.timedelta(days=30), date, progress)
        if not accs:
            raise SoilMoistureError(
                f"no Sentinel-1 scene within 30 days before {date.isoformat()} here: pick "
                "another --date or --lonlat"
            )
        acq = max(accs, key=lambda a: (a.date, a.coverage))
        image = gee.s1_image(window9, acq.date, acq.orbit_pass, acq.relative_orbit)
        return image, tiny50, ("vv", "vh", "angle")

    smap = gee.smap_collection(date)
    pixels("Sentinel-1", s1)
    pixels(
        f"SMAP {smap.rsplit('/', 1)[1]}",
        lambda: (
            gee.smap_image([latest(smap, 10)]),
            window9,
            tuple(f"{p}_0" for p in gee.SMAP_PREFIXES),
        ),
    )
    pixels("MODIS NDVI (Terra)", lambda: _ndvi(gee, latest(gee.MOD13Q1, 40), tiny250))
    pixels("MODIS NDVI (Aqua)", lambda: _ndvi(gee, latest(gee.MYD13Q1, 40), tiny250))
    pixels("ERA5-Land daily", lambda: _era5(gee, latest(gee.ERA5_ASSET, 30), window9))
    pixels("SoilGrids", lambda: (gee.soil_image(), tiny50, ("sand", "clay", "bdod")))
    pixels(
        "DEM (SRTM)",
        lambda: (
            gee.terrain_image(window9, gee.SRTM_ASSET),
            tiny50,
            ("elevation", "slope", "aspect"),
        ),
    )
    pixels(
        "DEM (GLO-30 2024)",
        lambda: (
            gee.terrain_image(window9, gee.GLO30_ASSET),
            tiny50,
            ("elevation", "slope", "aspect"),
        ),
    )
    return checks


def _new_session(project: str | None, key_file: str | None) -> bool:
    """Whether the check needs its own session (a shared one is reused when it matches)."""
    from . import ee_auth

    if not ee_auth.is_initialized() or key_file:
        return True
    return bool(project) and project != ee_auth.session_project()


class _Direct:
    """A value fetcher straight to ``ee.data.computeValue`` with a deadline, no cache."""

    def compute(self, request: Any, progress: Progress | None = None) -> Any:
        import ee

        from .fetch import call_with_deadline

        return call_with_deadline(
            lambda: ee.data.computeValue(request.expression),
            CHECK_DEADLINE_S,
            progress,
            request.label,
        )


def _ndvi(gee: Any, asset: str, grid: GridWindow) -> tuple[Any, GridWindow, tuple[str, ...]]:
    return gee.ndvi_image([asset]), grid, (gee._ndvi_band(asset),)


def _era5(gee: Any, asset: str, grid: GridWindow) -> tuple[Any, GridWindow, tuple[str, ...]]:
    index = asset.rsplit("/", 1)[1]
    return gee.era5_image([index]), grid, (f"t_{index}", f"p_{index}")


def summary(checks: list[Check]) -> str:
    """The last line: all passed, or how many failed."""
    failed = [c for c in checks if not c.ok]
    if not failed:
        return "all Earth Engine checks passed"
    return f"{len(failed)} Earth Engine check(s) failed; the first: {failed[0].name}"
