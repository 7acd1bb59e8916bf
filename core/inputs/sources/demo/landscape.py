"""Step 1, the landscape: DEM, wetness, soils, crops and the irrigated field on the 50 m grid.

A smooth synthetic DEM with a meandering valley, slope and aspect, a wetness index, sand/clay
fields and bulk density, soil hydraulics from the texture (Saxton & Rawls 2006), a mosaic of
800 m fields with their crop and phenology (greenness), one irrigated field, and the cells of the
simulated stations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .area import CELL_M, F64, H50, W50

IRRIGATED = (slice(150, 166), slice(205, 225))
"""The irrigated field (window-relative 50 m rows, cols of the demo area): 800 m x 1 km."""
FIELD_CELLS = 16
"""Field size in 50 m cells (800 m, a US quarter section)."""
CROPS = ("winter wheat", "summer crop", "grassland")


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


def _greenness(doy: npt.ArrayLike) -> F64:
    """Greenness in [0, 1] of the three crops on days of year: shape ``doy.shape + (3,)``."""
    d = np.asarray(doy, dtype=np.float64)[..., None]
    up = np.array([55.0, 150.0, 100.0])
    down = np.array([160.0, 250.0, 285.0])
    rate_up = np.array([0.09, 0.10, 0.06])
    rate_down = np.array([0.12, 0.08, 0.05])
    g = 1.0 / (1.0 + np.exp(-rate_up * (d - up))) - 1.0 / (1.0 + np.exp(-rate_down * (d - down)))
    return np.clip(g, 0.0, 1.0)


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


def _station_list(land: _Landscape) -> list[DemoStation]:
    vr = 120
    return [
        DemoStation("Valley", vr, int(land.valley_col[vr]), "valley floor, riparian grassland"),
        DemoStation("Irrigated", 158, 215, "irrigated summer crop"),
        DemoStation("Upland-North", 95, 255, "upland field"),
        DemoStation("Upland-East", 205, 268, "upland field"),
        DemoStation("Upland-South", 262, 205, "upland field"),
    ]
