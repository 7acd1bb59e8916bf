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
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ....errors import Cancelled, SoilMoistureError
from ....progress import NULL_PROGRESS, Progress
from ...grid import GridWindow, lonlat_to_rowcol

DEFAULT_LONLAT = (5.0, 52.0)
"""Where the tiny requests are made by default (a place every dataset covers)."""
DEFAULT_AGE_DAYS = 45
"""The default date is this many days ago: every dataset has published it by then."""
CHECK_DEADLINE_S = 120.0
"""Deadline of each request of the check."""

Build = Callable[[], tuple[Any, GridWindow, tuple[str, ...]]]
"""Builds one dataset's tiny request: (expression, grid, bands)."""


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


@dataclass
class _Run:
    """One run of the check: what it was asked, and the checks so far."""

    project: str | None
    key_file: str | None
    date: dt.date
    progress: Progress
    on_check: Callable[[Check], None] | None
    http_transport: Any
    checks: list[Check] = field(default_factory=list)

    def record(self, name: str, ok: bool, detail: str) -> bool:
        """Add a check (and show it at once); returns ``ok``."""
        check = Check(name, ok, detail)
        self.checks.append(check)
        if self.on_check is not None:
            self.on_check(check)
        return ok

    def failure(self, exc: BaseException) -> str:
        """The plain message of a failed step (a cancel is raised, not reported)."""
        from .failures import translate_error

        if isinstance(exc, Cancelled):
            raise exc
        return str(translate_error(exc, self.project))


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
        project: Cloud project (default: :func:`core.inputs.sources.ee.project.resolve_project`).
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
    run = _Run(
        project=project,
        key_file=key_file,
        date=date or default_date(),
        progress=progress or NULL_PROGRESS,
        on_check=on_check,
        http_transport=http_transport,
    )
    if _client_library(run) is None:
        return run.checks
    run.progress.check()
    if not _credentials(run, sign_in, open_browser):
        return run.checks
    ok, resolved = _project(run)
    if not ok:
        return run.checks
    run.progress.check()
    if not _session(run):
        return run.checks
    window9 = _window(lonlat)
    form = _grid(run, window9)
    if form is None:
        return run.checks
    _datasets(run, window9, form, resolved)
    return run.checks


def _client_library(run: _Run) -> Any:
    """The ``ee`` module, checked (None when earthengine-api is not installed)."""
    try:
        import ee
    except ImportError:
        run.record(
            "client library",
            False,
            "earthengine-api is not installed: install it with "
            "`pip install earthengine-api` (in QGIS: the plugin's install button)",
        )
        return None
    run.record(
        "client library",
        True,
        f"earthengine-api {ee.__version__}, Python {platform.python_version()}",
    )
    return ee


def _credentials(run: _Run, sign_in: bool, open_browser: Callable[[str], Any] | None) -> bool:
    """Sign in through the browser, or find the saved credentials; False when that failed."""
    from . import project as ee_project
    from . import signin

    if sign_in:
        try:
            signin.sign_in(
                run.project,
                run.progress,
                open_browser=open_browser,
                http_transport=run.http_transport,
            )
        except SoilMoistureError as exc:
            if isinstance(exc, Cancelled):
                raise
            return run.record("sign-in", False, str(exc))
        return run.record("sign-in", True, f"credentials saved in {ee_project.credentials_path()}")
    if not ee_project.has_credentials(run.key_file):
        return run.record(
            "credentials",
            False,
            "no Earth Engine credentials found: run `soilmoisture "
            "ee-check --sign-in` (or `earthengine authenticate`), or set "
            "SOILMOISTURE_EE_KEY_FILE to a service-account key",
        )
    key_file = run.key_file
    where = f"service-account key {key_file}" if key_file else ee_project.credentials_path()
    return run.record("credentials", True, f"found ({where})")


def _project(run: _Run) -> tuple[bool, str | None]:
    """Resolve the Cloud project: (whether the check may go on, the project)."""
    from .project import resolve_project

    resolved, origin = resolve_project(run.project)
    if resolved is None and not run.key_file:
        run.record(
            "project",
            False,
            "no Google Cloud project: pass --project PROJECT_ID (it is "
            "saved for the next runs), or set SOILMOISTURE_EE_PROJECT; the project must be "
            "registered for Earth Engine",
        )
        return False, None
    run.record("project", True, f"{resolved} (from {origin})" if resolved else "the key's own")
    return True, resolved


def _session(run: _Run) -> bool:
    """Initialise Earth Engine (a new session unless a matching one exists); False on failure."""
    from . import session
    from .deadline import call_with_deadline

    try:
        state = call_with_deadline(
            lambda: session.initialize(
                run.project,
                run.key_file,
                force=_new_session(run.project, run.key_file),
                http_transport=run.http_transport,
            ),
            CHECK_DEADLINE_S,
            run.progress,
            "sign-in",
        )
    except Exception as exc:  # noqa: BLE001 - reported as a failed check
        return run.record("session", False, run.failure(exc))
    return run.record("session", True, state)


def _grid(run: _Run, window9: GridWindow) -> str | None:
    """Probe the grid form the service accepts (None when it refused them all)."""
    from .deadline import call_with_deadline
    from .grid_form import GRID_FORM_NAMES, probe_grid_form

    try:
        form = call_with_deadline(
            lambda: probe_grid_form(window9), CHECK_DEADLINE_S, run.progress, "grid probe"
        )
    except Exception as exc:  # noqa: BLE001 - reported as a failed check
        run.record("grid (EPSG:6933)", False, run.failure(exc))
        return None
    run.record("grid (EPSG:6933)", True, f"accepted as {GRID_FORM_NAMES[form]}")
    return str(form)


def _datasets(run: _Run, window9: GridWindow, form: str, resolved: str | None) -> None:
    """One tiny pixel request per dataset, with the product's own expressions."""
    from . import expressions as gee
    from .requests import PixelRequest
    from .service import EarthEngineFetcher, EarthEngineValueFetcher

    fetcher = EarthEngineFetcher(deadline_s=CHECK_DEADLINE_S, form=form)
    direct = EarthEngineValueFetcher(
        max_retries=0, deadline_s=CHECK_DEADLINE_S, project=run.project
    )
    w50, w250 = window9.to_level("50m"), window9.to_level("250m")
    tiny50 = GridWindow("50m", w50.row0 + 90, w50.col0 + 90, 2, 2)
    tiny250 = GridWindow("250m", w250.row0 + 18, w250.col0 + 18, 2, 2)

    def pixels(name: str, build: Build) -> None:
        run.progress.check()
        try:
            expression, grid, bands = build()
            request = PixelRequest(expression, grid, bands, label=name)
            arrays = fetcher.fetch(request, run.progress)
        except Exception as exc:  # noqa: BLE001 - reported as a failed check
            run.record(name, False, run.failure(exc))
            return
        run.record(name, True, _describe(arrays))

    def latest(asset: str, days: int) -> str:
        return _latest(run, direct, asset, days)

    smap = gee.smap_collection(run.date)
    terrain = ("elevation", "slope", "aspect")
    pixels("Sentinel-1", lambda: _s1(run, direct, window9, tiny50, resolved))
    pixels(
        f"SMAP {smap.rsplit('/', 1)[1]}",
        lambda: (
            gee.smap_image([latest(smap, 10)]),
            window9,
            tuple(f"{p}_0" for p in gee.SMAP_PREFIXES),
        ),
    )
    pixels("MODIS NDVI (Terra)", lambda: _ndvi(latest(gee.MOD13Q1, 40), tiny250))
    pixels("MODIS NDVI (Aqua)", lambda: _ndvi(latest(gee.MYD13Q1, 40), tiny250))
    pixels("ERA5-Land daily", lambda: _era5(latest(gee.ERA5_ASSET, 30), window9))
    pixels("SoilGrids", lambda: (gee.soil_image(), tiny50, ("sand", "clay", "bdod")))
    pixels("DEM (SRTM)", lambda: (gee.terrain_image(window9, gee.SRTM_ASSET), tiny50, terrain))
    pixels(
        "DEM (GLO-30 2024)",
        lambda: (gee.terrain_image(window9, gee.GLO30_ASSET), tiny50, terrain),
    )


def _latest(run: _Run, direct: Any, asset: str, days: int) -> str:
    """The newest image of a collection in the ``days`` up to the date (its full id)."""
    from .expressions import listing
    from .requests import ValueRequest

    date = run.date
    expression = listing(asset, date - dt.timedelta(days=days), date + dt.timedelta(days=1))
    answer = direct.compute(ValueRequest(expression, asset), run.progress)
    ids = [i for part in answer for i in part.get("index", [])]
    if not ids:
        raise SoilMoistureError(
            f"{asset} has no image in the {days} days up to {date.isoformat()} here: pick "
            "another --date (data are published with a delay)"
        )
    return f"{asset}/{sorted(ids)[-1]}"


def _s1(
    run: _Run, direct: Any, window9: GridWindow, tiny50: GridWindow, resolved: str | None
) -> tuple[Any, GridWindow, tuple[str, ...]]:
    """The Sentinel-1 request: the latest acquisition within 30 days before the date."""
    from ..earthengine import EarthEngineSource
    from .expressions import s1_image

    date = run.date
    src = EarthEngineSource(project=resolved, key_file=run.key_file, values=direct)
    accs = src.list_acquisitions(window9, date - dt.timedelta(days=30), date, run.progress)
    if not accs:
        raise SoilMoistureError(
            f"no Sentinel-1 scene within 30 days before {date.isoformat()} here: pick "
            "another --date or --lonlat"
        )
    acq = max(accs, key=lambda a: (a.date, a.coverage))
    image = s1_image(window9, acq.date, acq.orbit_pass, acq.relative_orbit)
    return image, tiny50, ("vv", "vh", "angle")


def _new_session(project: str | None, key_file: str | None) -> bool:
    """Whether the check needs its own session (a shared one is reused when it matches)."""
    from . import session

    if not session.is_initialized() or key_file:
        return True
    return bool(project) and project != session.session_project()


def _ndvi(asset: str, grid: GridWindow) -> tuple[Any, GridWindow, tuple[str, ...]]:
    from .expressions import ndvi_band, ndvi_image

    return ndvi_image([asset]), grid, (ndvi_band(asset),)


def _era5(asset: str, grid: GridWindow) -> tuple[Any, GridWindow, tuple[str, ...]]:
    from .expressions import era5_image

    index = asset.rsplit("/", 1)[1]
    return era5_image([index]), grid, (f"t_{index}", f"p_{index}")


def summary(checks: list[Check]) -> str:
    """The last line: all passed, or how many failed."""
    failed = [c for c in checks if not c.ok]
    if not failed:
        return "all Earth Engine checks passed"
    return f"{len(failed)} Earth Engine check(s) failed; the first: {failed[0].name}"
