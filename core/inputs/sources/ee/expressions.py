"""The Earth Engine expressions of every input of the contract (``docs/earth-engine.md``).

Server-side aggregation: where the target grid is coarser than the native data (S1 10 m,
terrain 30 m, MODIS 231 m -> 250 m) pixels are area-averaged with ``reduceResolution(mean)`` on
the native projection; where it is finer (SoilGrids 250 m and ERA5 0.1 deg at 50 m / 9 km) the
default nearest sampling is used, and SMAP (a 0.08 deg nearest-neighbour copy of EASE-2) is
sampled nearest on purpose. Every image is unmasked to ``NODATA`` (-9999), which becomes NaN.
Listings cover at most a year each (the service aborts one past 5,000 elements).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from ... import timeseries as ts
from ...grid import GridWindow, xy_to_lonlat
from .requests import NODATA

S1_ASSET = "COPERNICUS/S1_GRD"


SOIL_ASSETS = {
    "sand": ("projects/soilgrids-isric/sand_mean", "sand_0-5cm_mean"),
    "clay": ("projects/soilgrids-isric/clay_mean", "clay_0-5cm_mean"),
    "bdod": ("projects/soilgrids-isric/bdod_mean", "bdod_0-5cm_mean"),
}


SRTM_ASSET = "USGS/SRTMGL1_003"


GLO30_ASSET = "COPERNICUS/DEM/GLO30_2024_1"
"""Copernicus GLO-30 DEM, 2024 release (successor of the deprecated ``COPERNICUS/DEM/GLO30``)."""


SRTM_LAT_RANGE = (-56.0, 60.0)


MOD13Q1 = "MODIS/061/MOD13Q1"


MYD13Q1 = "MODIS/061/MYD13Q1"


ERA5_ASSET = "ECMWF/ERA5_LAND/DAILY_AGGR"


SMAP_005 = "NASA/SMAP/SPL3SMP_E/005"


SMAP_006 = "NASA/SMAP/SPL3SMP_E/006"


SMAP_006_FROM = dt.date(2023, 12, 4)


SMAP_HALF_WINDOW_DAYS = 30
"""SMAP days fetched on each side of the SAR date (bias and interpolation)."""


ANGLE_RANGE = (30.6, 45.3)
"""Incidence angles kept (outside: residual border noise)."""


VV_MIN_DB = -30.0


MAX_PIXELS = 1024
"""``reduceResolution`` input pixels per output pixel."""


LISTING_MAX_DAYS = 366
"""Longest period one collection listing covers: a listing aborts past 5,000 elements, so long
periods are listed year by year."""


NDVI_QA_MAX = 1
"""MODIS ``SummaryQA`` kept: 0 good, 1 marginal (2 snow/ice and 3 cloudy are masked)."""


NDVI_VALID_MIN = -2000
"""Smallest valid raw MODIS NDVI (the fill value is -3000)."""


UNMASKED = {"value": NODATA, "sameFootprint": False}


# -- geometry ------------------------------------------------------------------------------------


def lonlat_bounds(window9: GridWindow) -> tuple[float, float, float, float]:
    """Return the window as a lon/lat rectangle (west, south, east, north).

    EASE-2 global is cylindrical, so a grid window is exactly a lon/lat rectangle.
    """
    xmin, ymin, xmax, ymax = window9.bounds
    lon, lat = xy_to_lonlat([xmin, xmax], [ymin, ymax])
    return float(lon[0]), float(lat[0]), float(lon[1]), float(lat[1])


def region(window9: GridWindow) -> Any:
    """Return the window as an ``ee.Geometry.Rectangle`` (planar lon/lat edges)."""
    import ee

    return ee.Geometry.Rectangle(list(lonlat_bounds(window9)), "EPSG:4326", False)


def _iso(d: dt.date) -> str:
    return d.isoformat()


def ms_to_date(ms: float) -> dt.date:
    """The UTC date of an Earth Engine time (milliseconds since 1970)."""
    return dt.datetime.fromtimestamp(ms / 1000.0, tz=dt.UTC).date()


# -- images --------------------------------------------------------------------------------------


def _stack(images: Sequence[Any], names: Sequence[str]) -> Any:
    """Stack single- or multi-band images into one image with the given band names.

    ``ImageCollection.toBands`` keeps the graph flat (``Image.cat`` nests one ``addBands`` per
    image, which overflows the serialiser for the 368 ERA5 days); bands keep the images' order.
    """
    import ee

    return ee.ImageCollection.fromImages(list(images)).toBands().rename(list(names))


def s1_collection(window9: GridWindow, start: dt.date, end: dt.date) -> Any:
    """Sentinel-1 GRD IW scenes with VV and VH over the window, ``start <= date < end``."""
    import ee

    return (
        ee.ImageCollection(S1_ASSET)
        .filterBounds(region(window9))
        .filterDate(_iso(start), _iso(end))
        .filter(ee.Filter.eq("instrumentMode", "IW"))
        .filter(ee.Filter.listContains("transmitterReceiverPolarisation", "VV"))
        .filter(ee.Filter.listContains("transmitterReceiverPolarisation", "VH"))
    )


def s1_footprints(window9: GridWindow, start: dt.date, end: dt.date) -> Any:
    """Footprints and orbit properties of the scenes (a FeatureCollection, for computeValue)."""
    import ee

    def footprint(img: Any) -> Any:
        return ee.Feature(
            img.geometry(),
            {
                "t": img.get("system:time_start"),
                "pass": img.get("orbitProperties_pass"),
                "orbit": img.get("relativeOrbitNumber_start"),
                "platform": img.get("platform_number"),
            },
        )

    return ee.FeatureCollection(s1_collection(window9, start, end).map(footprint))


def s1_image(window9: GridWindow, date: dt.date, orbit_pass: str, relative_orbit: int) -> Any:
    """VV, VH (dB, mean of dB over the cell) and angle for one orbit and pass on one date.

    Same-day slices are mosaicked; border noise (angle outside 30.6-45.3 deg, VV < -30 dB) is
    masked; ``angle`` is resampled bilinearly; the mosaic gets the native 10 m projection back
    and is area-averaged onto the request grid.
    """
    import ee

    col = (
        s1_collection(window9, date, date + dt.timedelta(days=1))
        .filter(ee.Filter.eq("orbitProperties_pass", orbit_pass))
        .filter(ee.Filter.eq("relativeOrbitNumber_start", relative_orbit))
    )

    def clean(img: Any) -> Any:
        angle = img.select("angle").resample("bilinear")
        vv = img.select("VV")
        ok = angle.gte(ANGLE_RANGE[0]).And(angle.lte(ANGLE_RANGE[1])).And(vv.gte(VV_MIN_DB))
        return img.select(["VV", "VH"]).addBands(angle).updateMask(ok)

    native = ee.Image(col.first()).select("VV").projection()
    mosaic = ee.ImageCollection(col.map(clean)).mosaic().setDefaultProjection(native)
    return (
        mosaic.reduceResolution(ee.Reducer.mean(), False, MAX_PIXELS)
        .rename(["vv", "vh", "angle"])
        .toFloat()
        .unmask(**UNMASKED)
    )


def soil_image() -> Any:
    """SoilGrids 0-5 cm sand, clay (g/kg) and bulk density (cg/cm3): bands sand, clay, bdod."""
    import ee

    bands = [ee.Image(asset).select(band) for asset, band in SOIL_ASSETS.values()]
    return _stack(bands, list(SOIL_ASSETS)).toFloat().unmask(**UNMASKED)


def dem_asset(window9: GridWindow) -> str:
    """SRTM inside 56S-60N (what the weights saw), Copernicus GLO30 where the window leaves it."""
    _, south, _, north = lonlat_bounds(window9)
    if south >= SRTM_LAT_RANGE[0] and north <= SRTM_LAT_RANGE[1]:
        return SRTM_ASSET
    return GLO30_ASSET


def terrain_image(window9: GridWindow, asset: str | None = None) -> Any:
    """Elevation (m), slope and aspect (degrees) from the 30 m DEM, area-averaged per cell.

    Slope and aspect come from ``ee.Terrain.products`` on the native 30 m grid; the aspect is
    the cell mean of the degrees, as the authors computed it.

    Args:
        window9: the scene window (decides the DEM, see :func:`dem_asset`).
        asset: use this DEM instead (:data:`SRTM_ASSET` or :data:`GLO30_ASSET`).
    """
    import ee

    if (asset or dem_asset(window9)) == SRTM_ASSET:
        dem = ee.Image(SRTM_ASSET).select("elevation")
    else:
        col = ee.ImageCollection(GLO30_ASSET).filterBounds(region(window9)).select("DEM")
        native = ee.Image(col.first()).projection()
        dem = col.mosaic().setDefaultProjection(native).rename("elevation")
    products = ee.Terrain.products(dem).select(["elevation", "slope", "aspect"])
    return (
        products.reduceResolution(ee.Reducer.mean(), False, MAX_PIXELS).toFloat().unmask(**UNMASKED)
    )


def ndvi_band(asset_id: str) -> str:
    """The band id of one MODIS composite in :func:`ndvi_image`."""
    return "ndvi_" + asset_id.replace("/", "_")


def ndvi_quality(image: Any) -> Any:
    """MODIS NDVI with fill values and poor pixels masked (``SummaryQA`` above 1: snow, cloud)."""
    ndvi = image.select("NDVI")
    ok = image.select("SummaryQA").lte(NDVI_QA_MAX).And(ndvi.gte(NDVI_VALID_MIN))
    return ndvi.updateMask(ok)


def ndvi_image(asset_ids: Sequence[str]) -> Any:
    """One band per MODIS composite (raw NDVI x 10000), QA-masked, area-averaged from 231 m.

    The mean runs over the pixels that pass :func:`ndvi_quality`; a 250 m cell without any is
    NODATA (NaN on arrival).
    """
    import ee

    images = [
        ndvi_quality(ee.Image(a)).reduceResolution(ee.Reducer.mean(), False, MAX_PIXELS)
        for a in asset_ids
    ]
    names = [ndvi_band(a) for a in asset_ids]
    return _stack(images, names).toFloat().unmask(**UNMASKED)


def era5_image(indices: Sequence[str]) -> Any:
    """Bands ``t_<day>`` (daily mean 2 m temperature, K) and ``p_<day>`` (daily total, m)."""
    import ee

    images = [
        ee.Image(f"{ERA5_ASSET}/{i}").select(["temperature_2m", "total_precipitation_sum"])
        for i in indices
    ]
    names = [f"{v}_{i}" for i in indices for v in ("t", "p")]
    return _stack(images, names).toFloat().unmask(**UNMASKED)


SMAP_BANDS = (
    "soil_moisture_am",
    "soil_moisture_pm",
    "retrieval_qual_flag_am",
    "retrieval_qual_flag_pm",
)


SMAP_PREFIXES = ("am", "pm", "qam", "qpm")


def smap_collection(day: dt.date) -> str:
    """SMAP L3 enhanced version for a day: 005 up to 2023-12-03, 006 from 2023-12-04."""
    return SMAP_006 if day >= SMAP_006_FROM else SMAP_005


def smap_image(asset_ids: Sequence[str]) -> Any:
    """Bands ``am_k``, ``pm_k``, ``qam_k``, ``qpm_k`` per day k (nearest sampling, no averaging)."""
    import ee

    images = [ee.Image(a).select(list(SMAP_BANDS)) for a in asset_ids]
    names = [f"{p}_{k}" for k in range(len(asset_ids)) for p in SMAP_PREFIXES]
    return _stack(images, names).toFloat().unmask(**UNMASKED)


# -- listings ------------------------------------------------------------------------------------


def periods(
    start: dt.date, end: dt.date, days: int = LISTING_MAX_DAYS
) -> list[tuple[dt.date, dt.date]]:
    """Split ``start <= d < end`` into consecutive periods of at most ``days`` days."""
    out: list[tuple[dt.date, dt.date]] = []
    lo = start
    while lo < end:
        hi = min(end, lo + dt.timedelta(days=days))
        out.append((lo, hi))
        lo = hi
    return out


def listing(asset: str, start: dt.date, end: dt.date) -> Any:
    """Ids and start times of a collection's images, ``start <= t < end``, year by year.

    Returns an ``ee.List`` of ``{"index": [...], "t": [...]}`` dictionaries, one per period of
    at most :data:`LISTING_MAX_DAYS` days (no single listing can reach the 5,000-element limit).
    """
    import ee

    parts = []
    for lo, hi in periods(start, end):
        col = ee.ImageCollection(asset).filterDate(_iso(lo), _iso(hi))
        parts.append(
            ee.Dictionary(
                {
                    "index": col.aggregate_array("system:index"),
                    "t": col.aggregate_array("system:time_start"),
                }
            )
        )
    return ee.List(parts)


def scene_metadata(window9: GridWindow, date: dt.date) -> Any:
    """Ids and dates of the NDVI composites, ERA5 days and SMAP days the scene may need."""
    import ee

    year = dt.timedelta(days=ts.NDVI_WINDOW_DAYS + 1)
    smap = dt.timedelta(days=SMAP_HALF_WINDOW_DAYS)
    day = dt.timedelta(days=1)
    return ee.Dictionary(
        {
            "mod": listing(MOD13Q1, date - year, date),
            "myd": listing(MYD13Q1, date - year, date),
            "era5": listing(ERA5_ASSET, date - year, date + dt.timedelta(days=ts.ERA5_DAYS)),
            "smap005": listing(SMAP_005, date - smap, min(date + smap + day, SMAP_006_FROM)),
            "smap006": listing(SMAP_006, max(date - smap, SMAP_006_FROM), date + smap + day),
        }
    )
