"""The demo source: a seeded, simulated scene that runs the product end to end with no account.

Everything it delivers is **simulated** and labelled so (``SceneInputs.simulated``, the
``attributes["source"]`` string, the acquisitions' platform, the station network name
``DEMO-SIMULATED``). Because its soil moisture truth is known at every 50 m cell, it doubles as
a benchmark: map-level error, not only station error.

The area is a 2 x 2 block of 9 km EASE-2 cells (about 18 x 18 km, 360 x 360 cells of 50 m) in
the cropland of north-central Oklahoma (near Lamont, the ARM Southern Great Plains site); the
AOI of about 10 x 10 km (:data:`DEMO_AOI_BBOX`) lies in its middle.

How the scene is made (all seeded, deterministic for a seed):

1. **Landscape** on the 50 m grid: a smooth synthetic DEM with a meandering valley, slope and
   aspect from it, a wetness index in [0, 1] standing in for the topographic wetness index
   ``ln(a / tan b)`` of Beven & Kirkby (1979) (high on the valley floor and in hollows, low on
   rises), smooth random sand/clay fields of silt loam texture (sand ~23 %, clay ~24 %, as the
   Kirkland and Renfrow silt loams of the Lamont area) with finer alluvium in the valley, bulk
   density, and a mosaic of 800 m fields (winter wheat, summer crop, grassland) with one
   irrigated field.
2. **Weather**, daily, regional: rain from a two-state Markov chain with gamma amounts and a
   spring maximum, each event with a random linear gradient across the area; 2 m temperature
   with a seasonal cycle and AR(1) anomalies; reference evapotranspiration from Hargreaves &
   Samani (1985) with extraterrestrial radiation from FAO-56 (Allen et al. 1998).
3. **Truth**: a daily water balance ("bucket") of the surface layer in every 50 m cell: rain in,
   evapotranspiration out (scaled by vegetation greenness and by a soil-water stress factor),
   drainage above field capacity (faster in sand), a lateral supply on the valley floor, and
   saturation excess. Wilting point, field capacity and saturation come from the texture with the
   pedotransfer equations of Saxton & Rawls (2006). The irrigated field is watered back to field
   capacity in the growing season.
4. **NDVI**: per-field phenology (double logistic), on the 250 m grid as 46 eight-day
   composites (MOD13Q1/MYD13Q1-like dates) with noise and occasional cloud contamination.
5. **ERA5-like** 46 eight-day means of the same weather per 9 km cell (precipitation as daily
   totals in m/day, as ERA5-Land's daily aggregates give them); **SMAP-like** 9 km values: block
   means of the truth + a bias + a retrieval error, on about two days in three, linearly
   interpolated to the date. The error is sized like SMAP's against dense in-situ networks
   (Colliander et al. 2017, Chan et al. 2018: ubRMSE about 0.04 m3/m3, biases of a few
   hundredths): a mean bias of +0.02 m3/m3 with a fixed offset per 9 km cell (sd 0.015), and
   an unbiased error of sd 0.04 made of a persistent part (AR(1), lag-one-day correlation 0.8,
   as vegetation and surface-temperature errors last for days) and a day-to-day part.
6. **Sentinel-1** (one ascending orbit, every 12 days): the water-cloud model of Attema & Ulaby
   (1978) with vegetation water content from NDVI after Jackson et al. (2004), over the
   semi-empirical bare-soil model of Oh, Sarabandi & Ulaby (1992), with the soil permittivity from
   the soil moisture by inverting Topp, Davis & Annan (1980). VV and VH in dB, the VH noise floor
   of the instrument added, and speckle: 25 ten-metre pixels of 4.4-look gamma speckle per 50 m
   cell, averaged in dB as the contract prescribes.
7. **Stations**: five 50 m cells in the AOI (one on the valley floor, one in the irrigated
   field), read every three hours as truth + sensor noise, written as ISMN "header + values"
   files (:func:`write_demo_stations`).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ... import atomic
from ...errors import InputError, NoDataError
from ...progress import NULL_PROGRESS, Progress
from ..grid import GridWindow, block_mean, cell_center, lat_text, lon_text, xy_to_lonlat
from .base import S1Acquisition, SceneInputs, StaticInputs, register_source

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]

# -- the demo area --------------------------------------------------------------------------------

DEMO_ROW0, DEMO_COL0, DEMO_ROWS, DEMO_COLS = 326, 883, 2, 2
"""The demo area: 9 km EASE-2 cells rows 326-327, cols 883-884 (north-central Oklahoma)."""
DEMO_AOI_BBOX: tuple[float, float, float, float] = (-97.520, 36.590, -97.418, 36.686)
"""The demo AOI (lon_min, lat_min, lon_max, lat_max), about 10 x 10 km in the area's middle."""
DEMO_LATITUDE = 36.638
"""Latitude of the area's centre (degrees), for the radiation terms."""

H50, W50 = DEMO_ROWS * 180, DEMO_COLS * 180
H250, W250 = DEMO_ROWS * 36, DEMO_COLS * 36
CELL_M = 9008.055210146 / 180

WEATHER_START = dt.date(2018, 11, 1)
"""First day of the simulated weather (the NDVI/weather windows reach a year back)."""
TRUTH_START = dt.date(2019, 9, 1)
"""First day of the water balance (four months of spin-up before the first acquisition)."""
SIM_END = dt.date(2021, 1, 31)
"""Last simulated day."""
FIRST_ACQUISITION = dt.date(2020, 1, 4)
ACQUISITION_REPEAT_DAYS = 12
LAST_ACQUISITION = dt.date(2020, 12, 29)
ORBIT_PASS = "ASCENDING"
RELATIVE_ORBIT = 88
STATION_PERIOD = (dt.date(2020, 1, 1), dt.date(2020, 12, 31))
"""Days of the simulated station readings (the training period)."""

NETWORK = "DEMO-SIMULATED"
SENSOR = "Simulated-Probe"
SOURCE_LABEL = "demo (simulated)"

SMAP_BIAS = 0.02
"""Mean bias of the simulated SMAP values against the truth block means, m3/m3."""
SMAP_CELL_BIAS = 0.015
"""Standard deviation of each 9 km cell's own fixed SMAP offset around the mean bias, m3/m3."""
SMAP_NOISE = 0.04
"""Standard deviation of the simulated SMAP retrieval error (its unbiased RMSE), m3/m3."""
SMAP_PERSISTENT = 0.55
"""Share of the retrieval error variance in the persistent (AR(1)) part."""
SMAP_AR1 = 0.8
"""Lag-one-day correlation of the persistent part of the SMAP error."""
STATION_NOISE = 0.02
"""Approximate standard deviation of the simulated station sensor error, m3/m3."""

LAYER_MM = 80.0
"""Effective depth of the simulated surface layer, mm."""
IRRIGATED = (slice(150, 166), slice(205, 225))
"""The irrigated field (window-relative 50 m rows, cols of the demo area): 800 m x 1 km."""
IRRIGATION_DOY = (130, 250)
FIELD_CELLS = 16
"""Field size in 50 m cells (800 m, a US quarter section)."""
CROPS = ("winter wheat", "summer crop", "grassland")

# Sentinel-1 C band
WAVELENGTH_CM = 5.547
LOOKS = 4.4
"""Equivalent number of looks of one 10 m GRD pixel."""
PIXELS_PER_CELL = 25
"""10 m pixels averaged (in dB) over one 50 m cell."""
NESZ_VH = 10 ** (-2.4)
"""Instrument noise floor added to VH (linear, about -24 dB)."""
WCM_A = {"vv": 0.08, "vh": 0.015}
"""Water-cloud vegetation scattering parameter A per polarisation (linear)."""
WCM_B = {"vv": 0.20, "vh": 0.15}
"""Water-cloud attenuation parameter B per polarisation (m2/kg)."""


def demo_window9() -> GridWindow:
    """Return the whole demo area as a window of whole 9 km cells (2 x 2)."""
    return GridWindow("9km", DEMO_ROW0, DEMO_COL0, DEMO_ROWS, DEMO_COLS)


def acquisition_dates() -> list[dt.date]:
    """Dates of the simulated Sentinel-1 acquisitions (every 12 days, one orbit)."""
    out = []
    d = FIRST_ACQUISITION
    while d <= LAST_ACQUISITION:
        out.append(d)
        d += dt.timedelta(days=ACQUISITION_REPEAT_DAYS)
    return out


def composite_dates() -> list[dt.date]:
    """Dates of the merged MOD13Q1/MYD13Q1-like composites: day 1, 9, 17, ... of each year."""
    out = []
    for year in range(WEATHER_START.year, SIM_END.year + 1):
        for k in range(46):
            d = dt.date(year, 1, 1) + dt.timedelta(days=8 * k)
            if d.year == year:
                out.append(d)
    return out


# -- published physical models --------------------------------------------------------------------


def saxton_rawls(sand: npt.ArrayLike, clay: npt.ArrayLike, om: float = 2.0) -> tuple[F64, F64, F64]:
    """Wilting point, field capacity and saturation from texture (Saxton & Rawls 2006).

    Saxton, K. E. & Rawls, W. J. (2006), Soil water characteristic estimates by texture and
    organic matter for hydrologic solutions, Soil Sci. Soc. Am. J. 70:1569-1578, eqs. 1-3, 5.

    Args:
        sand: sand fraction (0-1, by weight).
        clay: clay fraction (0-1).
        om: organic matter, percent by weight.

    Returns:
        ``(theta_1500, theta_33, theta_s)`` in m3/m3: moisture at -1500 kPa (wilting point), at
        -33 kPa (field capacity) and at saturation.

    """
    s = np.asarray(sand, dtype=np.float64)
    c = np.asarray(clay, dtype=np.float64)
    t1500t = -0.024 * s + 0.487 * c + 0.006 * om + 0.005 * s * om - 0.013 * c * om
    t1500t += 0.068 * s * c + 0.031
    t1500 = t1500t + (0.14 * t1500t - 0.02)
    t33t = -0.251 * s + 0.195 * c + 0.011 * om + 0.006 * s * om - 0.027 * c * om
    t33t += 0.452 * s * c + 0.299
    t33 = t33t + (1.283 * t33t**2 - 0.374 * t33t - 0.015)
    ts33t = 0.278 * s + 0.034 * c + 0.022 * om - 0.018 * s * om - 0.027 * c * om
    ts33t += -0.584 * s * c + 0.078
    ts33 = ts33t + (0.636 * ts33t - 0.107)
    ts = t33 + ts33 - 0.097 * s + 0.043
    return t1500, t33, ts


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


def topp_permittivity(sm: npt.ArrayLike) -> F64:
    """Real relative permittivity of soil from volumetric moisture, inverting Topp et al. (1980).

    Topp, G. C., Davis, J. L. & Annan, A. P. (1980), Electromagnetic determination of soil water
    content, Water Resources Research 16(3):574-582:
    ``theta = -5.3e-2 + 2.92e-2 e - 5.5e-4 e^2 + 4.3e-6 e^3``, monotonic for 1 <= e <= 40; inverted
    here by interpolation in a fine table.
    """
    eps = np.linspace(1.0, 40.0, 3901)
    theta = -5.3e-2 + 2.92e-2 * eps - 5.5e-4 * eps**2 + 4.3e-6 * eps**3
    return np.interp(np.asarray(sm, dtype=np.float64), theta, eps)


def _fresnel(eps: F64, theta: F64) -> tuple[F64, F64, F64]:
    """Fresnel power reflectivities (h, v at ``theta``; nadir) of a half-space."""
    cos_t = np.cos(theta)
    root = np.sqrt(eps - np.sin(theta) ** 2)
    gh = np.square((cos_t - root) / (cos_t + root))
    gv = np.square((eps * cos_t - root) / (eps * cos_t + root))
    g0 = np.square((1.0 - np.sqrt(eps)) / (1.0 + np.sqrt(eps)))
    return gh, gv, g0


def oh_soil_backscatter(
    sm: npt.ArrayLike, angle_deg: npt.ArrayLike, s_cm: npt.ArrayLike
) -> tuple[F64, F64]:
    """Bare-soil VV and HV backscatter (linear) from the semi-empirical model of Oh et al. (1992).

    Oh, Y., Sarabandi, K. & Ulaby, F. T. (1992), An empirical model and an inversion technique for
    radar scattering from bare soil surfaces, IEEE TGRS 30(2):370-381:
    ``sigma_vv = g cos^3(theta) (Gv + Gh) / sqrt(p)``, ``p = (1 - (2 theta / pi)^(1/G0) e^-ks)^2``,
    ``q = sigma_hv / sigma_vv = 0.23 sqrt(G0) (1 - e^-ks)``, ``g = 0.7 (1 - e^(-0.65 (ks)^1.8))``.

    Args:
        sm: volumetric soil moisture, m3/m3 (permittivity from Topp et al. 1980).
        angle_deg: incidence angle, degrees.
        s_cm: rms surface height, cm.

    Returns:
        ``(sigma_vv, sigma_hv)`` linear backscatter coefficients.

    """
    theta = np.deg2rad(np.asarray(angle_deg, dtype=np.float64))
    ks = 2.0 * np.pi / WAVELENGTH_CM * np.asarray(s_cm, dtype=np.float64)
    gh, gv, g0 = _fresnel(topp_permittivity(sm), theta)
    g = 0.7 * (1.0 - np.exp(-0.65 * ks**1.8))
    p = (1.0 - (2.0 * theta / np.pi) ** (1.0 / g0) * np.exp(-ks)) ** 2
    q = 0.23 * np.sqrt(g0) * (1.0 - np.exp(-ks))
    vv = g * np.cos(theta) ** 3 * (gv + gh) / np.sqrt(p)
    return vv, q * vv


def jackson_vwc(ndvi: npt.ArrayLike, stem_factor: npt.ArrayLike, greenness: npt.ArrayLike) -> F64:
    """Vegetation water content (kg/m2) from NDVI, after Jackson et al. (2004).

    Jackson, T. J. et al. (2004), Vegetation water content mapping using Landsat data derived
    normalized difference water index for corn and soybeans, RSE 92:475-482:
    foliage ``1.9134 NDVI^2 - 0.3215 NDVI`` plus a stem term ``F (NDVImax - NDVImin) / (1 -
    NDVImin)``; here the stem term follows the season (scaled by the greenness in [0, 1]).
    """
    n = np.asarray(ndvi, dtype=np.float64)
    foliage = np.maximum(1.9134 * n**2 - 0.3215 * n, 0.0)
    return foliage + np.asarray(stem_factor) * np.asarray(greenness) * (0.85 - 0.15) / (1 - 0.15)


def water_cloud(
    sigma_soil: npt.ArrayLike, vwc: npt.ArrayLike, angle_deg: npt.ArrayLike, a: float, b: float
) -> F64:
    """Total backscatter (linear) of a vegetated soil with the water-cloud model.

    Attema, E. P. W. & Ulaby, F. T. (1978), Vegetation modeled as a water cloud, Radio Science
    13(2):357-364: ``sigma = A V cos(theta) (1 - tau^2) + tau^2 sigma_soil`` with
    ``tau^2 = exp(-2 B V / cos(theta))`` and V the vegetation water content.
    """
    cos_t = np.cos(np.deg2rad(np.asarray(angle_deg, dtype=np.float64)))
    v = np.asarray(vwc, dtype=np.float64)
    tau2 = np.exp(-2.0 * b * v / cos_t)
    return a * v * cos_t * (1.0 - tau2) + tau2 * np.asarray(sigma_soil)


def simulated_backscatter(
    sm: npt.ArrayLike, vwc: npt.ArrayLike, angle_deg: npt.ArrayLike, s_cm: npt.ArrayLike
) -> tuple[F64, F64]:
    """Speckle-free VV and VH (dB): water cloud over the Oh et al. soil, plus the VH noise floor."""
    soil_vv, soil_vh = oh_soil_backscatter(sm, angle_deg, s_cm)
    vv = water_cloud(soil_vv, vwc, angle_deg, WCM_A["vv"], WCM_B["vv"])
    vh = water_cloud(soil_vh, vwc, angle_deg, WCM_A["vh"], WCM_B["vh"]) + NESZ_VH
    return 10.0 * np.log10(vv), 10.0 * np.log10(vh)


def _greenness(doy: npt.ArrayLike) -> F64:
    """Greenness in [0, 1] of the three crops on days of year: shape ``doy.shape + (3,)``."""
    d = np.asarray(doy, dtype=np.float64)[..., None]
    up = np.array([55.0, 150.0, 100.0])
    down = np.array([160.0, 250.0, 285.0])
    rate_up = np.array([0.09, 0.10, 0.06])
    rate_down = np.array([0.12, 0.08, 0.05])
    g = 1.0 / (1.0 + np.exp(-rate_up * (d - up))) - 1.0 / (1.0 + np.exp(-rate_down * (d - down)))
    return np.clip(g, 0.0, 1.0)


# -- the simulation -------------------------------------------------------------------------------


@dataclass
class _Landscape:
    elevation: F64
    slope: F64
    aspect: F64
    wetness: F64
    valley_col: npt.NDArray[np.int64]
    sand: F64
    clay: F64
    bdod: F64
    crop: npt.NDArray[np.int64]
    ndvi_min: F64
    ndvi_amp: F64
    roughness: F64
    irrigated: npt.NDArray[np.bool_]
    wp: F64
    fc: F64
    sat: F64


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


@dataclass(frozen=True)
class DemoStation:
    """A simulated station: name and window-relative 50 m cell of the demo area."""

    name: str
    row: int
    col: int
    note: str


def _smooth_noise(rng: np.random.Generator, sigma_cells: float) -> F64:
    from scipy.ndimage import gaussian_filter

    field = gaussian_filter(rng.standard_normal((H50, W50)), sigma_cells, mode="reflect")
    return (field - field.mean()) / field.std()


def _make_landscape(seed: int) -> _Landscape:
    rng = np.random.default_rng((seed, 1))
    rows, cols = np.mgrid[0:H50, 0:W50].astype(np.float64)
    # A meandering valley running north-south, west of the centre.
    centre = 130.0 + 30.0 * np.sin(2.0 * np.pi * rows / 280.0 + rng.uniform(0, 2 * np.pi))
    dist_m = (cols - centre) * CELL_M
    valley = np.exp(-((dist_m / 700.0) ** 2))
    hills = _smooth_noise(rng, 30.0)
    elevation = 345.0 - 0.04 * cols - 0.02 * rows - 28.0 * valley + 6.0 * hills
    gy, gx = np.gradient(elevation, CELL_M)  # d/drow (southward), d/dcol (eastward)
    dz_east, dz_north = gx, -gy
    slope = np.degrees(np.arctan(np.hypot(dz_east, dz_north)))
    aspect = np.degrees(np.arctan2(-dz_east, -dz_north)) % 360.0  # downslope azimuth
    from scipy.ndimage import gaussian_filter

    lowness = gaussian_filter(elevation, 20.0, mode="reflect") - elevation  # hollows > 0
    wetness = np.clip(0.75 * valley**2 + 0.5 * np.clip(lowness / 4.0, -1.0, 1.0), 0.0, 1.0)

    floor = valley > 0.6
    sand = (
        230.0 + 90.0 * _smooth_noise(rng, 12.0) + 40.0 * _smooth_noise(rng, 40.0) - 120.0 * valley
    )
    clay = 240.0 + 45.0 * _smooth_noise(rng, 12.0) + 110.0 * valley
    sand = np.clip(sand, 80.0, 850.0)
    clay = np.clip(clay, 50.0, 550.0)
    clay = np.minimum(clay, 950.0 - sand)
    bdod = np.clip(
        150.0 + 0.02 * (sand - 450.0) - 0.05 * (clay - 200.0) + 3.0 * _smooth_noise(rng, 6.0),
        110.0,
        170.0,
    )

    nf_r, nf_c = -(-H50 // FIELD_CELLS), -(-W50 // FIELD_CELLS)
    field_crop = rng.choice(3, size=(nf_r, nf_c), p=[0.4, 0.35, 0.25])
    field_rough = rng.uniform(0.6, 1.6, size=(nf_r, nf_c))
    field_amp = rng.uniform(0.85, 1.1, size=(nf_r, nf_c))
    fr = (rows // FIELD_CELLS).astype(np.int64)
    fc = (cols // FIELD_CELLS).astype(np.int64)
    crop = field_crop[fr, fc]
    crop = np.where(floor, 2, crop)  # riparian grassland on the valley floor
    irrigated = np.zeros((H50, W50), dtype=bool)
    irrigated[IRRIGATED] = True
    crop = np.where(irrigated, 1, crop)
    ndvi_min = np.full((H50, W50), 0.17) + 0.01 * _smooth_noise(rng, 4.0)
    peak = np.array([0.78, 0.82, 0.62])[crop] * field_amp[fr, fc] + 0.12 * valley * (crop == 2)
    peak = np.where(irrigated, 0.90, np.minimum(peak, 0.88))
    roughness = field_rough[fr, fc]
    wp, fcap, sat = saxton_rawls(sand / 1000.0, clay / 1000.0)
    sat = np.minimum(sat, 0.50)
    return _Landscape(
        elevation=elevation,
        slope=slope,
        aspect=aspect,
        wetness=wetness,
        valley_col=np.round(centre[:, 0]).astype(np.int64),
        sand=sand,
        clay=clay,
        bdod=bdod,
        crop=crop.astype(np.int64),
        ndvi_min=ndvi_min,
        ndvi_amp=peak - ndvi_min,
        roughness=roughness,
        irrigated=irrigated,
        wp=wp,
        fc=fcap,
        sat=sat,
    )


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


def _unit_coordinates() -> tuple[F64, F64]:
    """Coordinates of the 50 m cells scaled to [-1, 1] across the area (east, north)."""
    rows, cols = np.mgrid[0:H50, 0:W50].astype(np.float64)
    return (cols - (W50 - 1) / 2.0) / (W50 / 2.0), ((H50 - 1) / 2.0 - rows) / (H50 / 2.0)


_STEM_FACTOR = np.array([1.5, 3.0, 0.3])
"""Stem term of the vegetation water content per crop, kg/m2 (wheat, summer crop, grass)."""


def _station_list(land: _Landscape) -> list[DemoStation]:
    vr = 120
    return [
        DemoStation("Valley", vr, int(land.valley_col[vr]), "valley floor, riparian grassland"),
        DemoStation("Irrigated", 158, 215, "irrigated summer crop"),
        DemoStation("Upland-North", 95, 255, "upland field"),
        DemoStation("Upland-East", 205, 268, "upland field"),
        DemoStation("Upland-South", 262, 205, "upland field"),
    ]


def smap_error(rng: np.random.Generator, n_days: int) -> F64:
    """Simulated SMAP retrieval error of the demo area's 9 km cells, ``(n_days, rows, cols)``.

    The mean bias :data:`SMAP_BIAS`, a fixed offset per cell (sd :data:`SMAP_CELL_BIAS`), and an
    unbiased error of sd :data:`SMAP_NOISE`: a stationary AR(1) part (lag-one-day correlation
    :data:`SMAP_AR1`, :data:`SMAP_PERSISTENT` of the variance) plus independent daily noise.
    """
    shape = (DEMO_ROWS, DEMO_COLS)
    offset = SMAP_BIAS + rng.normal(0.0, SMAP_CELL_BIAS, size=shape)
    sd_ar = SMAP_NOISE * math.sqrt(SMAP_PERSISTENT)
    sd_white = SMAP_NOISE * math.sqrt(1.0 - SMAP_PERSISTENT)
    innovations = rng.normal(0.0, sd_ar * math.sqrt(1.0 - SMAP_AR1**2), size=(n_days, *shape))
    ar = np.empty((n_days, *shape))
    ar[0] = rng.normal(0.0, sd_ar, size=shape)
    for i in range(1, n_days):
        ar[i] = SMAP_AR1 * ar[i - 1] + innovations[i]
    return offset + ar + rng.normal(0.0, sd_white, size=(n_days, *shape))


def _simulate_truth(seed: int, land: _Landscape, weather: _Weather, progress: Progress) -> _Truth:
    """Run the daily surface water balance of every 50 m cell (see the module docstring)."""
    rng = np.random.default_rng((seed, 3))
    i0 = (TRUTH_START - WEATHER_START).days
    days = weather.days[i0:]
    n = len(days)
    acq = set(acquisition_dates())
    stations = _station_list(land)
    st_r = np.array([s.row for s in stations])
    st_c = np.array([s.col for s in stations])

    f32 = np.float32
    wp, fc, sat = land.wp.astype(f32), land.fc.astype(f32), land.sat.astype(f32)
    theta_r = np.maximum(f32(0.03), f32(0.5) * wp)
    kd = ((0.4 + 0.8 * land.sand / 1000.0) * (1.0 - 0.5 * land.wetness)).astype(f32)
    lateral = (3.0 * land.wetness / LAYER_MM).astype(f32)  # m3/m3 per day at most
    inv_range = (1.0 / (fc - theta_r)).astype(f32)
    xn, yn = (a.astype(f32) for a in _unit_coordinates())
    crop = land.crop
    irr = land.irrigated
    doy = np.array([d.timetuple().tm_yday for d in days])
    green = _greenness(doy)  # (n, 3)
    ra = extraterrestrial_radiation_mm(doy, DEMO_LATITUDE)
    wet = weather.rain[i0:] > 0
    pet = hargreaves_pet(weather.t_mean[i0:], 13.0 - 5.0 * wet, ra)

    theta = (0.5 * (wp + fc)).astype(f32)
    truth9 = np.empty((n, DEMO_ROWS, DEMO_COLS))
    at_stations = np.empty((n, len(stations)))
    on_acq: dict[dt.date, F32] = {}
    for i, day in enumerate(days):
        if i % 32 == 0:
            progress.check()
            progress.fraction(i / n)
        w = i0 + i
        kc3 = (0.30 * (1.0 - 0.5 * green[i]) + 0.55 * green[i]).astype(f32)
        beta = np.clip((theta - theta_r) * inv_range, 0.0, 1.0)
        theta = theta - f32(pet[i] / LAYER_MM) * kc3[crop] * beta
        theta += lateral * np.clip(f32(1.0) - theta / fc, 0.0, 1.0)
        if weather.rain[w] > 0.0:
            gx, gy = weather.grad[w]
            theta += f32(weather.rain[w] / LAYER_MM) * (f32(1.0) + f32(gx) * xn + f32(gy) * yn)
        theta -= kd * np.maximum(theta - fc, 0.0)
        if (
            IRRIGATION_DOY[0] <= doy[i] <= IRRIGATION_DOY[1]
            and theta[irr].mean() < 0.75 * fc[irr].mean()
        ):
            theta[irr] += f32(25.0 / LAYER_MM)  # one pass of the pivot, 25 mm
        theta = np.clip(theta, theta_r, sat)
        blocks = theta.reshape(DEMO_ROWS, 180, DEMO_COLS, 180)
        truth9[i] = blocks.mean(axis=(1, 3), dtype=np.float64)
        at_stations[i] = theta[st_r, st_c]
        if day in acq:
            on_acq[day] = theta.copy()
    progress.fraction(1.0)

    overpass = rng.random((n, DEMO_ROWS, DEMO_COLS)) < 0.7
    smap9 = np.where(overpass, np.clip(truth9 + smap_error(rng, n), 0.02, 0.6), np.nan)
    return _Truth(
        days=days, on_acquisitions=on_acq, truth9=truth9, smap9=smap9, stations=at_stations
    )


# -- the source -----------------------------------------------------------------------------------


def _as_date(date: dt.date) -> dt.date:
    return date.date() if isinstance(date, dt.datetime) else date


@register_source("demo")
class DemoSource:
    """Seeded, simulated inputs for the built-in demo area (see the module docstring).

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
        return [
            S1Acquisition(d, ORBIT_PASS, RELATIVE_ORBIT, 100.0, platform="Sentinel-1 (simulated)")
            for d in acquisition_dates()
            if start <= d <= end
        ]

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
        s50 = (
            slice(r0 * 180, (r0 + window9.nrows) * 180),
            slice(c0 * 180, (c0 + window9.ncols) * 180),
        )
        s250 = (
            slice(r0 * 36, (r0 + window9.nrows) * 36),
            slice(c0 * 36, (c0 + window9.ncols) * 36),
        )
        s9 = (slice(r0, r0 + window9.nrows), slice(c0, c0 + window9.ncols))

        # NDVI composites strictly inside the 365 days before the date, oldest first, padded.
        comps = [d for d in composite_dates() if d < date and (date - d).days < 365][-46:]
        padded = 46 - len(comps)
        ndvi = np.stack([self._composite(d) for d in [comps[0]] * padded + comps])
        # Weather: 368 days from the first composite, eight-day means.
        w0 = (comps[0] - WEATHER_START).days
        t9 = weather.t9[w0 : w0 + 368].reshape(46, 8, DEMO_ROWS, DEMO_COLS).mean(axis=1)
        p9 = weather.p9[w0 : w0 + 368].reshape(46, 8, DEMO_ROWS, DEMO_COLS).mean(axis=1)
        progress.fraction(0.85)

        # Sentinel-1 on the acquisition date.
        sm = truth.on_acquisitions[date]
        g = _greenness(date.timetuple().tm_yday)
        ndvi50 = self._ndvi50(date)
        vwc = jackson_vwc(ndvi50, _STEM_FACTOR[land.crop], g[land.crop])
        cols = np.arange(W50, dtype=np.float64)
        angle = np.broadcast_to(37.2 + 0.064 * cols * CELL_M / 1000.0, (H50, W50))
        vv, vh = simulated_backscatter(sm, vwc, angle, land.roughness)
        rng = np.random.default_rng((self.seed, 4, date.toordinal()))
        for arr in (vv, vh):
            speckle = rng.standard_gamma(LOOKS, size=(PIXELS_PER_CELL, H50, W50), dtype=np.float32)
            arr += (10.0 * np.log10(speckle / np.float32(LOOKS))).mean(axis=0)
        progress.fraction(0.95)

        # SMAP: the daily series with gaps, interpolated linearly to the date.
        ords = np.array([d.toordinal() for d in truth.days], dtype=np.float64)
        smap = np.empty((DEMO_ROWS, DEMO_COLS), dtype=np.float32)
        for i in range(DEMO_ROWS):
            for j in range(DEMO_COLS):
                ok = np.isfinite(truth.smap9[:, i, j])
                smap[i, j] = np.interp(date.toordinal(), ords[ok], truth.smap9[ok, i, j])

        def f32(a: npt.ArrayLike) -> F32:
            return np.ascontiguousarray(a, dtype=np.float32)

        scene = SceneInputs(
            window9=window9,
            date=date,
            acquisition=S1Acquisition(
                date, ORBIT_PASS, RELATIVE_ORBIT, 100.0, platform="Sentinel-1 (simulated)"
            ),
            vv=f32(vv[s50]),
            vh=f32(vh[s50]),
            angle=f32(angle[s50]),
            static=StaticInputs(
                sand=f32(land.sand[s50]),
                clay=f32(land.clay[s50]),
                bdod=f32(land.bdod[s50]),
                elevation=f32(land.elevation[s50]),
                slope=f32(land.slope[s50]),
                aspect=f32(land.aspect[s50]),
            ),
            ndvi=f32(ndvi[:, s250[0], s250[1]]),
            temperature=f32(t9[:, s9[0], s9[1]]),
            precipitation=f32(p9[:, s9[0], s9[1]]),
            smap=f32(smap[s9]),
            ndvi_padded_steps=padded,
            simulated=True,
            truth=f32(sm[s50]),
            attributes={
                "source": SOURCE_LABEL,
                "simulated": True,
                "seed": self.seed,
                "demo_area_9km": [DEMO_ROW0, DEMO_COL0, DEMO_ROWS, DEMO_COLS],
                "smap_bias": SMAP_BIAS,
                "models": "Saxton & Rawls 2006 soil hydraulics, Hargreaves 1985 ET0, "
                "Attema & Ulaby 1978 water cloud, Oh et al. 1992 soil, Topp et al. 1980",
            },
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


# -- stations -------------------------------------------------------------------------------------

_README = """DEMO-SIMULATED: simulated in-situ soil moisture (NOT real measurements)

These files were generated by the soil moisture tool's demo source (seed {seed}). They imitate
ISMN "header + values" downloads: {n} stations of network DEMO-SIMULATED, sensor depth 0.00-0.05 m,
three-hourly readings from {start} to {end}, quality flag G.

The values are the simulated 50 m soil moisture truth of the demo scene at each station's cell plus
simulated sensor error (a fixed offset per station, a daily error and a per-reading error; about
{noise} m3/m3 in all). They exist to demonstrate and test the product; never use them as data.

Stations (name, lat, lon, setting):
{stations}
"""


def write_demo_stations(out_dir: str | Path, seed: int = 0) -> list[Path]:
    """Write the simulated stations as ISMN "header + values" files, plus a README.txt.

    Files: ``out_dir/DEMO-SIMULATED/<station>/DEMO-SIMULATED_DEMO-SIMULATED_<station>_sm_0.000000_
    0.050000_Simulated-Probe_<start>_<end>.stm``, in the layout of the ISMN downloads: a header line
    ``network network station lat lon elevation depth_from depth_to sensor`` then lines
    ``YYYY/MM/DD HH:MM value flag orig_flag``.

    Args:
        out_dir: folder to write into (created if needed).
        seed: the demo seed (the same as the :class:`DemoSource` whose truth they sample).

    Returns:
        The paths of the ``.stm`` files, one per station.

    """
    out = Path(out_dir)
    src = _shared_source(int(seed))
    days, daily = src.station_truth()
    land = src._landscape()
    rng = np.random.default_rng((seed, 5))
    start, end = STATION_PERIOD
    ords = np.array([d.toordinal() for d in days], dtype=np.float64) + 0.5  # daily value at noon
    n_days = (end - start).days + 1
    times = [
        dt.datetime.combine(start, dt.time()) + dt.timedelta(hours=3 * k) for k in range(n_days * 8)
    ]
    t = np.array([start.toordinal() + k / 8.0 for k in range(n_days * 8)])
    paths: list[Path] = []
    described = []
    for k, st in enumerate(src.stations()):
        x, y = cell_center(DEMO_ROW0 * 180 + st.row, DEMO_COL0 * 180 + st.col, "50m")
        lon, lat = (float(v) for v in xy_to_lonlat(x, y))
        elevation = float(land.elevation[st.row, st.col])
        offset = rng.normal(0.0, 0.01)
        daily_err = rng.normal(0.0, 0.012, size=n_days)
        reading_err = rng.normal(0.0, 0.01, size=t.size)
        value = np.interp(t, ords, daily[:, k]) + offset + np.repeat(daily_err, 8) + reading_err
        value = np.clip(value, 0.0, 0.6)
        header = (
            f"{NETWORK:<10s} {NETWORK:<15s} {st.name:<17s}{lat:>9.5f}{lon:>12.5f}"
            f"{elevation:>8.2f}{0.0:>8.2f}{0.05:>8.2f} {SENSOR}"
        )
        lines = [f"{tt:%Y/%m/%d %H:%M} {v:8.4f} G M" for tt, v in zip(times, value, strict=True)]
        name = (
            f"{NETWORK}_{NETWORK}_{st.name}_sm_0.000000_0.050000_{SENSOR}_"
            f"{start:%Y%m%d}_{end:%Y%m%d}.stm"
        )
        path = out / NETWORK / st.name / name
        atomic.write_text(path, header + "\n" + "\n".join(lines) + "\n")
        paths.append(path)
        described.append(f"  {st.name}: {lat:.5f}, {lon:.5f} ({st.note})")
    atomic.write_text(
        out / "README.txt",
        _README.format(
            seed=seed,
            n=len(paths),
            start=start,
            end=end,
            noise=STATION_NOISE,
            stations="\n".join(described),
        ),
    )
    return paths
