"""Step 2, the weather: daily regional rain and temperature, and reference evapotranspiration.

Rain from a two-state Markov chain with gamma amounts and a spring maximum, each event with a
random linear gradient across the area; 2 m temperature with a seasonal cycle and AR(1)
anomalies; per-9 km-cell daily values; and the published models of the evaporative demand
(FAO-56 extraterrestrial radiation, Hargreaves & Samani 1985).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ...grid import block_mean
from .area import F64, SIM_END, WEATHER_START, _unit_coordinates
from .landscape import _Landscape


def extraterrestrial_radiation_mm(doy: npt.ArrayLike, lat_deg: float) -> F64:
    """Daily extraterrestrial radiation as evaporation equivalent, mm/day (FAO-56, eqs. 21-25).

    Allen, R. G., Pereira, L. S., Raes, D. & Smith, M. (1998), Crop evapotranspiration, FAO
    Irrigation and Drainage Paper 56.
    """
    j = np.asarray(doy, dtype=np.float64)
    phi = math.radians(lat_deg)
    dr = 1.0 + 0.033 * np.cos(2.0 * np.pi * j / 365.0)
    delta = 0.409 * np.sin(2.0 * np.pi * j / 365.0 - 1.39)
    ws = np.arccos(np.clip(-math.tan(phi) * np.tan(delta), -1.0, 1.0))
    ra = (
        (24.0 * 60.0 / np.pi)
        * 0.0820
        * dr
        * (ws * math.sin(phi) * np.sin(delta) + math.cos(phi) * np.cos(delta) * np.sin(ws))
    )
    return 0.408 * ra


def hargreaves_pet(t_mean_k: npt.ArrayLike, t_range_k: npt.ArrayLike, ra_mm: npt.ArrayLike) -> F64:
    """Compute reference evapotranspiration, mm/day (Hargreaves & Samani 1985).

    ``ET0 = 0.0023 Ra (T + 17.8) sqrt(T_max - T_min)``, T in degrees Celsius.

    Hargreaves, G. H. & Samani, Z. A. (1985), Reference crop evapotranspiration from temperature,
    Applied Engineering in Agriculture 1(2):96-99.
    """
    tc = np.asarray(t_mean_k, dtype=np.float64) - 273.15
    dtr = np.maximum(np.asarray(t_range_k, dtype=np.float64), 0.0)
    return np.maximum(0.0023 * np.asarray(ra_mm) * (tc + 17.8) * np.sqrt(dtr), 0.0)


@dataclass
class _Weather:
    days: list[dt.date]
    t_mean: F64
    """(D,) regional daily mean 2 m temperature, K."""
    rain: F64
    """(D,) regional daily rain, mm."""
    grad: F64
    """(D, 2) rain gradient across the area (east, north), fraction per half-width."""
    t9: F64
    """(D, 2, 2) daily temperature per 9 km cell, K."""
    p9: F64
    """(D, 2, 2) daily rain per 9 km cell, m/day."""


def _make_weather(seed: int, land: _Landscape) -> _Weather:
    rng = np.random.default_rng((seed, 2))
    n = (SIM_END - WEATHER_START).days + 1
    days = [WEATHER_START + dt.timedelta(days=i) for i in range(n)]
    doy = np.array([d.timetuple().tm_yday for d in days], dtype=np.float64)
    season = 0.5 * (1.0 + np.cos(2.0 * np.pi * (doy - 140.0) / 365.0))  # 1 in late May
    p01 = 0.13 + 0.13 * season  # P(wet | dry yesterday)
    p11 = 0.40 + 0.15 * season  # P(wet | wet yesterday)
    u = rng.random(n)
    wet = np.zeros(n, dtype=bool)
    for i in range(n):
        wet[i] = u[i] < (p11[i] if i and wet[i - 1] else p01[i])
    mean_mm = 4.5 + 6.5 * season
    amount = rng.gamma(0.75, mean_mm / 0.75)
    rain = np.where(wet, amount, 0.0)
    grad = rng.uniform(-0.35, 0.35, size=(n, 2))
    anomaly = np.zeros(n)
    eps = rng.standard_normal(n) * 3.0 * math.sqrt(1.0 - 0.7**2)
    for i in range(1, n):
        anomaly[i] = 0.7 * anomaly[i - 1] + eps[i]
    t_mean = 288.65 + 12.5 * np.sin(2.0 * np.pi * (doy - 105.0) / 365.0) + anomaly - 1.5 * wet

    xn, yn = _unit_coordinates()
    xbar = block_mean(xn, 180).astype(np.float64)
    ybar = block_mean(yn, 180).astype(np.float64)
    p9 = rain[:, None, None] * (1.0 + grad[:, 0, None, None] * xbar + grad[:, 1, None, None] * ybar)
    elev9 = block_mean(land.elevation, 180).astype(np.float64)
    t9 = t_mean[:, None, None] - 0.0065 * (elev9 - land.elevation.mean())
    return _Weather(days=days, t_mean=t_mean, rain=rain, grad=grad, t9=t9, p9=p9 / 1000.0)
