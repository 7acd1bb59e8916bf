"""The demo source itself: :class:`DemoSource`, which assembles a scene from the simulation.

It memoises the expensive parts (landscape, weather, water balance, NDVI composites) per
instance, makes the NDVI composites (step 4 of the package docstring) and the eight-day weather
means (step 5), and cuts a window of whole 9 km cells out of the demo area.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import numpy as np
import numpy.typing as npt

from ....errors import InputError, NoDataError
from ....progress import NULL_PROGRESS, Progress
from ...grid import GridWindow, block_mean, lat_text, lon_text, xy_to_lonlat
from ..base import S1Acquisition, SceneInputs, StaticInputs, register_source
from .area import (
    ACQUISITION_REPEAT_DAYS,
    DEMO_AOI_BBOX,
    DEMO_COL0,
    DEMO_COLS,
    DEMO_ROW0,
    DEMO_ROWS,
    F32,
    F64,
    ORBIT_PASS,
    RELATIVE_ORBIT,
    WEATHER_START,
    acquisition_dates,
    composite_dates,
    demo_window9,
)
from .landscape import DemoStation, _greenness, _Landscape, _make_landscape, _station_list
from .radar import _simulated_acquisition
from .smap import SMAP_BIAS, _smap_on
from .truth import _simulate_truth, _Truth
from .weather import _make_weather, _Weather

SOURCE_LABEL = "demo (simulated)"

_Slices = tuple[slice, slice]


def _as_date(date: dt.date) -> dt.date:
    return date.date() if isinstance(date, dt.datetime) else date


def _f32(a: npt.ArrayLike) -> F32:
    return np.ascontiguousarray(a, dtype=np.float32)


def _acquisition(date: dt.date) -> S1Acquisition:
    return S1Acquisition(date, ORBIT_PASS, RELATIVE_ORBIT, 100.0, platform="Sentinel-1 (simulated)")


def _window_slices(r0: int, c0: int, window9: GridWindow) -> tuple[_Slices, _Slices, _Slices]:
    """The window's rows and cols on the 50 m, 250 m and 9 km grids of the demo area."""
    s50 = (
        slice(r0 * 180, (r0 + window9.nrows) * 180),
        slice(c0 * 180, (c0 + window9.ncols) * 180),
    )
    s250 = (
        slice(r0 * 36, (r0 + window9.nrows) * 36),
        slice(c0 * 36, (c0 + window9.ncols) * 36),
    )
    s9 = (slice(r0, r0 + window9.nrows), slice(c0, c0 + window9.ncols))
    return s50, s250, s9


def _static_inputs(land: _Landscape, s50: _Slices) -> StaticInputs:
    return StaticInputs(
        sand=_f32(land.sand[s50]),
        clay=_f32(land.clay[s50]),
        bdod=_f32(land.bdod[s50]),
        elevation=_f32(land.elevation[s50]),
        slope=_f32(land.slope[s50]),
        aspect=_f32(land.aspect[s50]),
    )


def _attributes(seed: int) -> dict[str, Any]:
    return {
        "source": SOURCE_LABEL,
        "simulated": True,
        "seed": seed,
        "demo_area_9km": [DEMO_ROW0, DEMO_COL0, DEMO_ROWS, DEMO_COLS],
        "smap_bias": SMAP_BIAS,
        "models": "Saxton & Rawls 2006 soil hydraulics, Hargreaves 1985 ET0, "
        "Attema & Ulaby 1978 water cloud, Oh et al. 1992 soil, Topp et al. 1980",
    }


@register_source("demo")
class DemoSource:
    """Seeded, simulated inputs for the built-in demo area (see the package docstring).

    Expensive parts (landscape, weather, water balance, NDVI composites) are computed once per
    instance, on first use.
    """

    name = "demo"
    simulated = True

    def __init__(self, seed: int = 0) -> None:
        if not isinstance(seed, int | np.integer) or isinstance(seed, bool):
            raise InputError(f"the demo seed must be an integer, got {seed!r}")
        self.seed = int(seed)
        self._land: _Landscape | None = None
        self._weather: _Weather | None = None
        self._truth: _Truth | None = None
        self._composites: dict[dt.date, F32] = {}

    # -- memoised parts ----------------------------------------------------------------------
    def _landscape(self) -> _Landscape:
        if self._land is None:
            self._land = _make_landscape(self.seed)
        return self._land

    def _weather_sim(self) -> _Weather:
        if self._weather is None:
            self._weather = _make_weather(self.seed, self._landscape())
        return self._weather

    def _truth_sim(self, progress: Progress = NULL_PROGRESS) -> _Truth:
        if self._truth is None:
            progress.message("Simulating the demo scene's soil moisture (first use)")
            self._truth = _simulate_truth(
                self.seed, self._landscape(), self._weather_sim(), progress
            )
        return self._truth

    def _ndvi50(self, date: dt.date) -> F64:
        """Noise-free NDVI (0-1) of every 50 m cell on a date."""
        land = self._landscape()
        g = _greenness(date.timetuple().tm_yday)
        return land.ndvi_min + land.ndvi_amp * g[land.crop]

    def _composite(self, date: dt.date) -> F32:
        """One 250 m NDVI composite (raw NDVI x 10000) of the whole area, memoised."""
        if date not in self._composites:
            rng = np.random.default_rng((self.seed, 6, date.toordinal()))
            mid = self._ndvi50(date + dt.timedelta(days=8))
            ndvi = block_mean(mid, 5).astype(np.float64)
            ndvi += rng.normal(0.0, 0.025, size=ndvi.shape)
            cloudy = rng.random(ndvi.shape) < 0.04
            ndvi -= cloudy * rng.uniform(0.1, 0.3, size=ndvi.shape)
            self._composites[date] = np.round(np.clip(ndvi, -0.2, 1.0) * 10000.0).astype(np.float32)
        return self._composites[date]

    def _eight_day_inputs(self, date: dt.date, weather: _Weather) -> tuple[F32, int, F64, F64]:
        """The year before ``date``: NDVI composites and the eight-day weather means.

        Returns the 46 NDVI composites (the oldest repeated to pad), the count of padded steps,
        and the eight-day means of temperature and precipitation per 9 km cell.
        """
        # NDVI composites strictly inside the 365 days before the date, oldest first, padded.
        comps = [d for d in composite_dates() if d < date and (date - d).days < 365][-46:]
        padded = 46 - len(comps)
        ndvi = np.stack([self._composite(d) for d in [comps[0]] * padded + comps])
        # Weather: 368 days from the first composite, eight-day means.
        w0 = (comps[0] - WEATHER_START).days
        t9 = weather.t9[w0 : w0 + 368].reshape(46, 8, DEMO_ROWS, DEMO_COLS).mean(axis=1)
        p9 = weather.p9[w0 : w0 + 368].reshape(46, 8, DEMO_ROWS, DEMO_COLS).mean(axis=1)
        return ndvi, padded, t9, p9

    # -- public ------------------------------------------------------------------------------
    def stations(self) -> list[DemoStation]:
        """Return the simulated stations (window-relative 50 m cells of :func:`demo_window9`)."""
        return _station_list(self._landscape())

    def truth_map(self, date: dt.date) -> F32:
        """Soil moisture truth (m3/m3) of the whole demo area on an acquisition date."""
        date = _as_date(date)
        truth = self._truth_sim()
        if date not in truth.on_acquisitions:
            raise NoDataError(self._no_acquisition_message(date))
        return truth.on_acquisitions[date].copy()

    def wetness(self) -> F64:
        """Return the wetness index (0-1, high on the valley floor) of the whole demo area."""
        return self._landscape().wetness.copy()

    def irrigated_mask(self) -> npt.NDArray[np.bool_]:
        """Return a mask, True on the irrigated field, on the 50 m grid of the whole demo area."""
        return self._landscape().irrigated.copy()

    def station_truth(self) -> tuple[list[dt.date], F64]:
        """Daily truth at the station cells: the days and a ``(days, stations)`` array."""
        truth = self._truth_sim()
        return list(truth.days), truth.stations.copy()

    def list_acquisitions(
        self, window9: GridWindow, start: dt.date, end: dt.date, progress: Progress | None = None
    ) -> list[S1Acquisition]:
        """List the simulated Sentinel-1 acquisitions between ``start`` and ``end`` (inclusive)."""
        self._offsets(window9)
        start, end = _as_date(start), _as_date(end)
        return [_acquisition(d) for d in acquisition_dates() if start <= d <= end]

    def scene(
        self, window9: GridWindow, date: dt.date, progress: Progress | None = None
    ) -> SceneInputs:
        """All inputs for the window on a simulated acquisition date.

        Args:
            window9: whole 9 km cells inside the demo area (:func:`demo_window9`).
            date: a date of :func:`acquisition_dates`.
            progress: progress reporter (the first call simulates the water balance).

        Returns:
            The scene, with ``simulated=True`` and ``truth`` set.

        Raises:
            InputError: the window lies outside the demo area.
            NoDataError: no simulated acquisition on ``date`` (the nearest dates are named).

        """
        progress = progress or NULL_PROGRESS
        r0, c0 = self._offsets(window9)
        date = _as_date(date)
        if date not in set(acquisition_dates()):
            raise NoDataError(self._no_acquisition_message(date))
        land = self._landscape()
        weather = self._weather_sim()
        truth = self._truth_sim(progress.sub(0.0, 0.8))
        progress.message("Assembling the simulated demo scene")
        s50, s250, s9 = _window_slices(r0, c0, window9)
        ndvi, padded, t9, p9 = self._eight_day_inputs(date, weather)
        progress.fraction(0.85)
        # Sentinel-1 on the acquisition date.
        sm = truth.on_acquisitions[date]
        vv, vh, angle = _simulated_acquisition(self.seed, date, land, sm, self._ndvi50(date))
        progress.fraction(0.95)
        smap = _smap_on(truth.days, truth.smap9, date)
        scene = SceneInputs(
            window9=window9,
            date=date,
            acquisition=_acquisition(date),
            vv=_f32(vv[s50]),
            vh=_f32(vh[s50]),
            angle=_f32(angle[s50]),
            static=_static_inputs(land, s50),
            ndvi=_f32(ndvi[:, s250[0], s250[1]]),
            temperature=_f32(t9[:, s9[0], s9[1]]),
            precipitation=_f32(p9[:, s9[0], s9[1]]),
            smap=_f32(smap[s9]),
            ndvi_padded_steps=padded,
            simulated=True,
            truth=_f32(sm[s50]),
            attributes=_attributes(self.seed),
        )
        progress.fraction(1.0)
        return scene

    # -- helpers -------------------------------------------------------------------------------
    def _offsets(self, window9: GridWindow) -> tuple[int, int]:
        """Offsets (9 km cells) of the window in the demo area; InputError when outside."""
        if window9.level != "9km":
            raise InputError(
                f"a scene window must be on the 9 km grid, got the {window9.level} grid"
            )
        r0, c0 = window9.row0 - DEMO_ROW0, window9.col0 - DEMO_COL0
        if r0 < 0 or c0 < 0 or r0 + window9.nrows > DEMO_ROWS or c0 + window9.ncols > DEMO_COLS:
            x0, y0, x1, y1 = demo_window9().bounds
            (w, e), (s, n) = xy_to_lonlat([x0, x1], [y0, y1])
            lon0, lat0, lon1, lat1 = DEMO_AOI_BBOX
            raise InputError(
                "the demo scene only has data for longitudes "
                f"{lon_text(min(w, e))} to {lon_text(max(w, e))} and latitudes "
                f"{lat_text(min(s, n))} to {lat_text(max(s, n))}, and this area "
                "reaches beyond them (an area takes the whole 9 km cells it touches). Draw the "
                f"area inside the demo area (longitudes {lon_text(lon0)} to "
                f"{lon_text(lon1)}, latitudes {lat_text(lat0)} to "
                f"{lat_text(lat1)}), or use the Earth Engine source for other places."
            )
        return r0, c0

    @staticmethod
    def _no_acquisition_message(date: dt.date) -> str:
        dates = acquisition_dates()
        before = [d for d in dates if d < date]
        after = [d for d in dates if d > date]
        near = ([f"{before[-1]:%Y-%m-%d}"] if before else []) + (
            [f"{after[0]:%Y-%m-%d}"] if after else []
        )
        return (
            f"the demo source has no (simulated) Sentinel-1 acquisition on {date:%Y-%m-%d}; the "
            f"nearest are {' and '.join(near)} (every {ACQUISITION_REPEAT_DAYS} days from "
            f"{dates[0]:%Y-%m-%d} to {dates[-1]:%Y-%m-%d})"
        )


@functools.lru_cache(maxsize=2)
def _shared_source(seed: int) -> DemoSource:
    """Return a memoised source per seed, so that writing stations does not simulate twice."""
    return DemoSource(seed)
