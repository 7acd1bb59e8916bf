"""The Google Earth Engine input source (``gee``), registered with :mod:`.base`.

:class:`EarthEngineSource` lists the Sentinel-1 acquisitions over a window and builds a scene:
it builds the Earth Engine expressions of every input of the contract
(:mod:`.ee.expressions`, ``docs/earth-engine.md``), plans what a date needs from a metadata
listing (:mod:`.ee.scene_plan`), fetches the pixel requests on the EASE-2 grids
(:mod:`.ee.scene_requests`) through the fetcher stack (cache -> tiler -> Earth Engine, see
:mod:`.ee.caching`, :mod:`.ee.tiled`, :mod:`.ee.service`) and applies the time logic of
:mod:`core.inputs.timeseries` in NumPy (:mod:`.ee.assemble`).

Requests per AOI and date: Sentinel-1 (50 m), soil (50 m), terrain (50 m), NDVI composites
(250 m), ERA5-Land days (9 km), SMAP days (9 km), plus two small metadata requests
(``computeValue``): the acquisitions on the date and the ids of the available composites/days.
Soil and terrain do not depend on the date and are reused from the cache for other dates.

``ee`` is imported inside functions only: the plugin imports this module at start-up whether or
not earthengine-api is installed.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import numpy as np

from ...errors import DataSourceError, InputError, NoDataError
from ...progress import NULL_PROGRESS, Progress
from ..cache import ArrayCache
from ..grid import GridWindow
from .base import S1Acquisition, SceneInputs, register_source
from .ee.acquisitions import NEAREST_SEARCH_DAYS, group_acquisitions, no_scene_message
from .ee.assemble import assemble_scene
from .ee.caching import CachingFetcher, CachingValueFetcher
from .ee.expressions import (
    era5_image,
    ndvi_image,
    s1_footprints,
    s1_image,
    scene_metadata,
    smap_image,
    soil_image,
    terrain_image,
)
from .ee.requests import PixelFetcher, ValueFetcher, ValueRequest
from .ee.scene_plan import plan_scene
from .ee.scene_requests import scene_requests
from .ee.service import EarthEngineFetcher, EarthEngineValueFetcher
from .ee.tiled import TiledFetcher

log = logging.getLogger(__name__)


RECENT_DAYS = 60
"""Metadata about dates closer to today than this may still change: not cached."""


@register_source("gee")
class EarthEngineSource:
    """Inputs from Google Earth Engine, through the on-disk cache.

    Args:
        project: Cloud project (default: the one saved with the credentials).
        key_file: service-account key for batch use.
        offline: serve everything from the cache; never touch the network.
        cache: array cache (default: the user's cache folder).
        fetcher: pixel fetcher to use instead of cache -> tiler -> Earth Engine (tests).
        values: metadata fetcher to use instead of cache -> Earth Engine (tests).
        workers: parallel requests (1-8).
        orbit_pass: prefer this pass when a date has several acquisitions.
        relative_orbit: prefer this relative orbit when a date has several acquisitions.

    """

    name = "gee"
    simulated = False

    def __init__(
        self,
        project: str | None = None,
        key_file: str | None = None,
        offline: bool = False,
        cache: ArrayCache | None = None,
        fetcher: PixelFetcher | None = None,
        values: ValueFetcher | None = None,
        workers: int = 8,
        orbit_pass: str | None = None,
        relative_orbit: int | None = None,
    ) -> None:
        if orbit_pass is not None and orbit_pass not in ("ASCENDING", "DESCENDING"):
            raise InputError(f"orbit pass must be ASCENDING or DESCENDING, got {orbit_pass!r}")
        self.project = project
        self.key_file = key_file
        self.offline = offline
        self.orbit_pass = orbit_pass
        self.relative_orbit = relative_orbit
        cache = cache or ArrayCache()
        self.fetcher: PixelFetcher = fetcher or CachingFetcher(
            None if offline else TiledFetcher(EarthEngineFetcher(), workers=workers), cache
        )
        self.values: ValueFetcher = values or CachingValueFetcher(
            None if offline else EarthEngineValueFetcher(), cache
        )

    # -- session -------------------------------------------------------------------------
    def connect(self) -> str:
        """Initialise Earth Engine (or the offline expression builder); returns a status line."""
        from .ee import session

        if self.offline:
            session.initialize_offline()
            return session.describe_session()
        return session.initialize(self.project, self.key_file)

    # -- acquisitions --------------------------------------------------------------------
    def list_acquisitions(
        self,
        window9: GridWindow,
        start: dt.date,
        end: dt.date,
        progress: Progress | None = None,
    ) -> list[S1Acquisition]:
        """Sentinel-1 acquisitions over the window, ``start``..``end`` inclusive.

        Listed one calendar year per request (a listing aborts past 5,000 elements; whole
        years are also reused from the cache by other periods). Same-day slices of one pass
        and relative orbit form one acquisition; coverage is the share of the window covered
        by the union of their footprints.

        Raises:
            InputError: when ``end`` is before ``start``.
            DataSourceError: when Earth Engine cannot answer (plain message).

        """
        if end < start:
            raise InputError(f"end date {end} is before start date {start}")
        progress = progress or NULL_PROGRESS
        progress.check()
        self.connect()
        features: list[dict[str, Any]] = []
        years = range(start.year, end.year + 1)
        for k, year in enumerate(years):
            lo, hi = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
            request = ValueRequest(
                s1_footprints(window9, lo, hi),
                "Sentinel-1 acquisition list",
                params={
                    "kind": "s1",
                    "window9": window9,
                    "start": lo,
                    "end": hi - dt.timedelta(days=1),
                },
                cacheable=hi < dt.date.today() - dt.timedelta(days=RECENT_DAYS),
            )
            answer = self.values.compute(request, progress)
            features.extend(answer.get("features", []))
            progress.fraction((k + 1) / len(years))
        found = group_acquisitions(features, window9, start, end)
        progress.fraction(1.0)
        return found

    def _pick(self, window9: GridWindow, date: dt.date, progress: Progress) -> S1Acquisition:
        found = [
            a
            for a in self.list_acquisitions(window9, date, date, progress)
            if (self.orbit_pass is None or a.orbit_pass == self.orbit_pass)
            and (self.relative_orbit is None or a.relative_orbit == self.relative_orbit)
        ]
        if found:
            return max(found, key=lambda a: a.coverage)
        span = dt.timedelta(days=NEAREST_SEARCH_DAYS)
        near = [
            a
            for a in self.list_acquisitions(window9, date - span, date + span)
            if a.date != date
            and (self.orbit_pass is None or a.orbit_pass == self.orbit_pass)
            and (self.relative_orbit is None or a.relative_orbit == self.relative_orbit)
        ]
        raise NoDataError(no_scene_message(date, near))

    # -- scene ---------------------------------------------------------------------------
    def scene(
        self, window9: GridWindow, date: dt.date, progress: Progress | None = None
    ) -> SceneInputs:
        """All contract inputs for the window on a Sentinel-1 date.

        Raises:
            NoDataError: no scene on the date (naming the nearest dates with one), or weather /
                NDVI data not available yet.
            DataSourceError: Earth Engine, network or cache failures, in plain words.
            Cancelled: when the user cancels between requests or tiles.

        """
        if window9.level != "9km":
            raise InputError("a scene window must be on the 9 km grid")
        progress = progress or NULL_PROGRESS
        progress.message("Sentinel-1: looking for the acquisition")
        acq = self._pick(window9, date, progress.sub(0.0, 0.03))
        progress.check()
        progress.message("listing NDVI composites, weather and SMAP days")
        meta = self.values.compute(
            ValueRequest(
                scene_metadata(window9, date),
                "NDVI / weather / SMAP listing",
                params={"kind": "scene", "window9": window9, "date": date},
                cacheable=date < dt.date.today() - dt.timedelta(days=RECENT_DAYS + 400),
            ),
            progress,
        )
        plan = plan_scene(meta, date)
        requests = scene_requests(
            window9,
            {
                "s1": s1_image(window9, date, acq.orbit_pass, acq.relative_orbit),
                "soil": soil_image(),
                "terrain": terrain_image(window9),
                "ndvi": ndvi_image(plan["ndvi_assets"]),
                "era5": era5_image(plan["era5_indices"]),
                "smap": smap_image(plan["smap_assets"]),
            },
            plan["ndvi_assets"],
            plan["era5_indices"],
            len(plan["smap_assets"]),
        )
        arrays: dict[str, dict[str, np.ndarray]] = {}
        lo = 0.05
        step = (1.0 - lo) / len(requests)
        for i, (name, request) in enumerate(requests.items()):
            progress.check()
            progress.message(f"fetching {request.label}")
            sub = progress.sub(lo + i * step, lo + (i + 1) * step)
            arrays[name] = self.fetcher.fetch(request, sub)
        progress.check()
        return assemble_scene(window9, date, acq, plan, requests, arrays)


def describe_error(exc: BaseException) -> DataSourceError:
    """Translate any Earth Engine failure (see :func:`.ee.failures.translate_error`)."""
    from .ee.failures import translate_error

    err = translate_error(exc)
    return err if isinstance(err, DataSourceError) else DataSourceError(str(err))
