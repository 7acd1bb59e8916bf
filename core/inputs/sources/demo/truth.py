"""Step 3, the truth: a daily water balance ("bucket") of the surface layer in every 50 m cell.

Rain in, evapotranspiration out (scaled by greenness and a soil-water stress factor), drainage
above field capacity (faster in sand), a lateral supply on the valley floor, saturation excess,
and irrigation of the irrigated field in the growing season. The run keeps the whole-area truth
on acquisition dates, the daily 9 km block means (and from them the SMAP-like series), and the
daily truth at the station cells.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ....progress import Progress
from .area import (
    DEMO_COLS,
    DEMO_LATITUDE,
    DEMO_ROWS,
    F32,
    F64,
    TRUTH_START,
    WEATHER_START,
    _unit_coordinates,
    acquisition_dates,
)
from .landscape import _greenness, _Landscape, _station_list
from .smap import _smap_series
from .weather import _Weather, extraterrestrial_radiation_mm, hargreaves_pet

LAYER_MM = 80.0
"""Effective depth of the simulated surface layer, mm."""
IRRIGATION_DOY = (130, 250)


@dataclass
class _Truth:
    days: list[dt.date]
    on_acquisitions: dict[dt.date, F32]
    truth9: F64
    """(T, 2, 2) daily block means of the truth."""
    smap9: F64
    """(T, 2, 2) daily SMAP-like values, NaN on days without an overpass."""
    stations: F64
    """(T, S) daily truth at the station cells."""


@dataclass
class _Bucket:
    """The water balance's fixed float32 fields of the 50 m grid."""

    theta0: F32
    """Starting moisture: halfway between wilting point and field capacity."""
    theta_r: F32
    fc: F32
    sat: F32
    kd: F32
    lateral: F32
    inv_range: F32
    xn: F32
    yn: F32
    crop: npt.NDArray[np.int64]
    irr: npt.NDArray[np.bool_]


def _bucket(land: _Landscape) -> _Bucket:
    f32 = np.float32
    wp, fc, sat = land.wp.astype(f32), land.fc.astype(f32), land.sat.astype(f32)
    theta_r = np.maximum(f32(0.03), f32(0.5) * wp)
    kd = ((0.4 + 0.8 * land.sand / 1000.0) * (1.0 - 0.5 * land.wetness)).astype(f32)
    lateral = (3.0 * land.wetness / LAYER_MM).astype(f32)  # m3/m3 per day at most
    inv_range = (1.0 / (fc - theta_r)).astype(f32)
    xn, yn = (a.astype(f32) for a in _unit_coordinates())
    return _Bucket(
        theta0=(0.5 * (wp + fc)).astype(f32),
        theta_r=theta_r,
        fc=fc,
        sat=sat,
        kd=kd,
        lateral=lateral,
        inv_range=inv_range,
        xn=xn,
        yn=yn,
        crop=land.crop,
        irr=land.irrigated,
    )


def _day(theta: F32, b: _Bucket, green: F64, pet: float, rain: float, grad: F64, doy: int) -> F32:
    """One day of the water balance: the moisture at the day's end."""
    f32 = np.float32
    kc3 = (0.30 * (1.0 - 0.5 * green) + 0.55 * green).astype(f32)
    beta = np.clip((theta - b.theta_r) * b.inv_range, 0.0, 1.0)
    theta = theta - f32(pet / LAYER_MM) * kc3[b.crop] * beta
    theta += b.lateral * np.clip(f32(1.0) - theta / b.fc, 0.0, 1.0)
    if rain > 0.0:
        gx, gy = grad
        theta += f32(rain / LAYER_MM) * (f32(1.0) + f32(gx) * b.xn + f32(gy) * b.yn)
    theta -= b.kd * np.maximum(theta - b.fc, 0.0)
    if (
        IRRIGATION_DOY[0] <= doy <= IRRIGATION_DOY[1]
        and theta[b.irr].mean() < 0.75 * b.fc[b.irr].mean()
    ):
        theta[b.irr] += f32(25.0 / LAYER_MM)  # one pass of the pivot, 25 mm
    return np.clip(theta, b.theta_r, b.sat)


def _simulate_truth(seed: int, land: _Landscape, weather: _Weather, progress: Progress) -> _Truth:
    """Run the daily surface water balance of every 50 m cell (see the package docstring)."""
    rng = np.random.default_rng((seed, 3))
    i0 = (TRUTH_START - WEATHER_START).days
    days = weather.days[i0:]
    n = len(days)
    acq = set(acquisition_dates())
    stations = _station_list(land)
    st_r = np.array([s.row for s in stations])
    st_c = np.array([s.col for s in stations])

    b = _bucket(land)
    doy = np.array([d.timetuple().tm_yday for d in days])
    green = _greenness(doy)  # (n, 3)
    ra = extraterrestrial_radiation_mm(doy, DEMO_LATITUDE)
    wet = weather.rain[i0:] > 0
    pet = hargreaves_pet(weather.t_mean[i0:], 13.0 - 5.0 * wet, ra)

    theta = b.theta0
    truth9 = np.empty((n, DEMO_ROWS, DEMO_COLS))
    at_stations = np.empty((n, len(stations)))
    on_acq: dict[dt.date, F32] = {}
    for i, day in enumerate(days):
        if i % 32 == 0:
            progress.check()
            progress.fraction(i / n)
        w = i0 + i
        theta = _day(theta, b, green[i], pet[i], weather.rain[w], weather.grad[w], doy[i])
        blocks = theta.reshape(DEMO_ROWS, 180, DEMO_COLS, 180)
        truth9[i] = blocks.mean(axis=(1, 3), dtype=np.float64)
        at_stations[i] = theta[st_r, st_c]
        if day in acq:
            on_acq[day] = theta.copy()
    progress.fraction(1.0)

    smap9 = _smap_series(rng, truth9)
    return _Truth(
        days=days, on_acquisitions=on_acq, truth9=truth9, smap9=smap9, stations=at_stations
    )
