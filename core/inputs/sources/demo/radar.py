"""Step 6, the Sentinel-1 model: VV and VH backscatter of a vegetated soil, with speckle.

The water-cloud model of Attema & Ulaby (1978) with vegetation water content from NDVI after
Jackson et al. (2004), over the bare-soil model of Oh, Sarabandi & Ulaby (1992) with the soil
permittivity from Topp, Davis & Annan (1980); the VH noise floor; and the simulated acquisition
of the demo area on a date (incidence angles, 4.4-look gamma speckle averaged in dB).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import numpy.typing as npt

from .area import CELL_M, F64, H50, W50
from .landscape import _greenness, _Landscape

WAVELENGTH_CM = 5.547
"""Sentinel-1 C-band wavelength, cm."""
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

_STEM_FACTOR = np.array([1.5, 3.0, 0.3])
"""Stem term of the vegetation water content per crop, kg/m2 (wheat, summer crop, grass)."""


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


def _simulated_acquisition(
    seed: int, date: dt.date, land: _Landscape, sm: npt.ArrayLike, ndvi50: F64
) -> tuple[F64, F64, F64]:
    """VV, VH (dB, with speckle) and incidence angle of the whole demo area on a date."""
    g = _greenness(date.timetuple().tm_yday)
    vwc = jackson_vwc(ndvi50, _STEM_FACTOR[land.crop], g[land.crop])
    cols = np.arange(W50, dtype=np.float64)
    angle = np.broadcast_to(37.2 + 0.064 * cols * CELL_M / 1000.0, (H50, W50))
    vv, vh = simulated_backscatter(sm, vwc, angle, land.roughness)
    rng = np.random.default_rng((seed, 4, date.toordinal()))
    for arr in (vv, vh):
        speckle = rng.standard_gamma(LOOKS, size=(PIXELS_PER_CELL, H50, W50), dtype=np.float32)
        arr += (10.0 * np.log10(speckle / np.float32(LOOKS))).mean(axis=0)
    return vv, vh, angle
