"""The Google Earth Engine input source (``gee``).

Builds the Earth Engine expressions for every input of the contract (``docs/earth-engine.md``),
fetches them with ``ee.data.computePixels`` on the EASE-2 grids (the projection in the form the
service was found to accept, see :func:`core.inputs.sources.fetch.probe_grid_form`) through the
fetcher stack (cache -> tiler -> Earth Engine), and applies the time logic of
:mod:`core.features.timeseries` in NumPy. Listings cover at most a year each (the service aborts one
past 5,000 elements).

Requests per AOI and date: Sentinel-1 (50 m), soil (50 m), terrain (50 m), NDVI composites
(250 m), ERA5-Land days (9 km), SMAP days (9 km), plus two small metadata requests
(``computeValue``): the acquisitions on the date and the ids of the available composites/days.
Soil and terrain do not depend on the date and are reused from the cache for other dates.

Server-side aggregation: where the target grid is coarser than the native data (S1 10 m,
terrain 30 m, MODIS 231 m -> 250 m) pixels are area-averaged with ``reduceResolution(mean)`` on
the native projection; where it is finer (SoilGrids 250 m and ERA5 0.1 deg at 50 m / 9 km) the
default nearest sampling is used, and SMAP (a 0.08 deg nearest-neighbour copy of EASE-2) is
sampled nearest on purpose. Every image is unmasked to ``NODATA`` (-9999), which becomes NaN.

``ee`` is imported inside functions only: the plugin imports this module at start-up whether or
not earthengine-api is installed.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ...errors import DataSourceError, InputError, NoDataError
from .. import timeseries as ts
from ...progress import NULL_PROGRESS, Progress
from ..cache import ArrayCache
from ..grid import GridWindow, xy_to_lonlat
from .base import S1Acquisition, SceneInputs, StaticInputs, register_source
from .fetch import (
    NODATA,
    CachingFetcher,
    CachingValueFetcher,
    EarthEngineFetcher,
    EarthEngineValueFetcher,
    PixelFetcher,
    PixelRequest,
    TiledFetcher,
    ValueFetcher,
    ValueRequest,
)

log = logging.getLogger(__name__)

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
NEAREST_SEARCH_DAYS = 36
"""How far around a date without a scene the nearest dates are looked for."""
RECENT_DAYS = 60
"""Metadata about dates closer to today than this may still change: not cached."""
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


def _day(ms: float) -> dt.date:
    return dt.datetime.fromtimestamp(ms / 1000.0, tz=dt.UTC).date()


# -- expressions ---------------------------------------------------------------------------------


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


def _ndvi_band(asset_id: str) -> str:
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
    names = [_ndvi_band(a) for a in asset_ids]
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


# -- the source ----------------------------------------------------------------------------------


def _coverage(features: Iterable[dict[str, Any]], window9: GridWindow) -> float:
    """Percentage of the window covered by the union of GeoJSON footprints."""
    from shapely.geometry import box, shape
    from shapely.ops import transform, unary_union

    from ..grid import lonlat_to_xy

    def project(x: Any, y: Any, z: Any = None) -> tuple[Any, Any]:
        return lonlat_to_xy(x, y)

    target = box(*window9.bounds)
    shapes = [transform(project, shape(f["geometry"])) for f in features if f.get("geometry")]
    if not shapes:
        return 0.0
    covered = unary_union(shapes).intersection(target).area
    return float(min(100.0, 100.0 * covered / target.area))


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
        from . import ee_auth

        if self.offline:
            ee_auth.initialize_offline()
            return ee_auth.describe_session()
        return ee_auth.initialize(self.project, self.key_file)

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
        groups: dict[tuple[dt.date, str, int], list[dict[str, Any]]] = {}
        platforms: dict[tuple[dt.date, str, int], set[str]] = {}
        for f in features:
            p = f.get("properties", {})
            try:
                key = (_day(float(p["t"])), str(p["pass"]), int(p["orbit"]))
            except (KeyError, TypeError, ValueError):
                continue
            if not start <= key[0] <= end:
                continue
            groups.setdefault(key, []).append(f)
            if p.get("platform"):
                platforms.setdefault(key, set()).add(f"Sentinel-1{p['platform']}")
        out = []
        for key, feats in groups.items():
            cover = _coverage(feats, window9)
            if cover <= 0 or key[1] not in ("ASCENDING", "DESCENDING"):
                continue
            platform = "/".join(sorted(platforms.get(key, set()))) or "Sentinel-1"
            out.append(S1Acquisition(key[0], key[1], key[2], round(cover, 1), platform))
        progress.fraction(1.0)
        return sorted(out, key=lambda a: (a.date, -a.coverage, a.orbit_pass, a.relative_orbit))

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
        plan = _plan(meta, date)
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
        return self._assemble(window9, date, acq, plan, requests, arrays)

    def _assemble(
        self,
        window9: GridWindow,
        date: dt.date,
        acq: S1Acquisition,
        plan: dict[str, Any],
        requests: dict[str, PixelRequest],
        arrays: dict[str, dict[str, np.ndarray]],
    ) -> SceneInputs:
        f32 = np.float32
        s1, soil, terr = arrays["s1"], arrays["soil"], arrays["terrain"]
        window: ts.NdviWindow = plan["ndvi_window"]
        ndvi_dates: list[str] = plan["ndvi_asset_of_index"]
        ndvi = np.stack([arrays["ndvi"][_ndvi_band(ndvi_dates[i])] for i in window.indices]).astype(
            f32
        )
        days: list[dt.date] = plan["era5_days"]
        t_daily = np.stack([arrays["era5"][f"t_{i}"] for i in plan["era5_indices"]])
        p_daily = ts.clip_precipitation(
            np.stack([arrays["era5"][f"p_{i}"] for i in plan["era5_indices"]])
        )
        temperature, missing = ts.era5_window(t_daily, days, window.start)
        precipitation, _ = ts.era5_window(p_daily, days, window.start)
        sm = arrays["smap"]
        k = range(len(plan["smap_assets"]))
        daily, bias = ts.combine_am_pm(
            np.stack([sm[f"am_{j}"] for j in k]),
            np.stack([sm[f"pm_{j}"] for j in k]),
            np.stack([sm[f"qam_{j}"] for j in k]),
            np.stack([sm[f"qpm_{j}"] for j in k]),
        )
        smap = ts.interpolate_to_date(daily, plan["smap_days"], date)
        attributes = {
            "source": "gee",
            "acquisition": {
                "date": acq.date.isoformat(),
                "pass": acq.orbit_pass,
                "relative_orbit": acq.relative_orbit,
                "coverage": acq.coverage,
            },
            "datasets": {
                "sar": S1_ASSET,
                "soil": [a for a, _ in SOIL_ASSETS.values()],
                "dem": dem_asset(window9),
                "ndvi": [MOD13Q1, MYD13Q1],
                "weather": ERA5_ASSET,
                "smap": sorted({a.rsplit("/", 1)[0] for a in plan["smap_assets"]}),
            },
            "ndvi_dates": [d.isoformat() for d in window.dates],
            "era5_start": window.start.isoformat(),
            "era5_missing_days": missing,
            "smap_days": len(plan["smap_days"]),
            "requests": {name: r.key() for name, r in requests.items()},
            "aspect": "cell mean of the 30 m aspect in degrees (as the authors)",
        }
        return SceneInputs(
            window9=window9,
            date=date,
            acquisition=acq,
            vv=s1["vv"].astype(f32),
            vh=s1["vh"].astype(f32),
            angle=s1["angle"].astype(f32),
            static=StaticInputs(
                sand=soil["sand"].astype(f32),
                clay=soil["clay"].astype(f32),
                bdod=soil["bdod"].astype(f32),
                elevation=terr["elevation"].astype(f32),
                slope=terr["slope"].astype(f32),
                aspect=terr["aspect"].astype(f32),
            ),
            ndvi=ndvi,
            temperature=temperature,
            precipitation=precipitation,
            smap=smap,
            ndvi_padded_steps=window.padded,
            simulated=False,
            attributes=attributes,
        )


def scene_requests(
    window9: GridWindow,
    expressions: dict[str, Any],
    ndvi_assets: Sequence[str],
    era5_indices: Sequence[str],
    n_smap_days: int,
) -> dict[str, PixelRequest]:
    """The six pixel requests of a scene, with the band ids the expressions produce.

    S1, soil and terrain on the 50 m grid, NDVI on the 250 m grid, ERA5-Land and SMAP on 9 km.
    """
    w50, w250 = window9.to_level("50m"), window9.to_level("250m")
    return {
        "s1": PixelRequest(expressions["s1"], w50, ("vv", "vh", "angle"), label="Sentinel-1"),
        "soil": PixelRequest(expressions["soil"], w50, ("sand", "clay", "bdod"), label="soil"),
        "terrain": PixelRequest(
            expressions["terrain"], w50, ("elevation", "slope", "aspect"), label="terrain"
        ),
        "ndvi": PixelRequest(
            expressions["ndvi"], w250, tuple(_ndvi_band(a) for a in ndvi_assets), label="NDVI"
        ),
        "era5": PixelRequest(
            expressions["era5"],
            window9,
            tuple(f"{v}_{i}" for i in era5_indices for v in ("t", "p")),
            label="ERA5-Land",
        ),
        "smap": PixelRequest(
            expressions["smap"],
            window9,
            tuple(f"{p}_{k}" for k in range(n_smap_days) for p in SMAP_PREFIXES),
            label="SMAP",
        ),
    }


def nominal_scene_requests(window9: GridWindow, date: dt.date) -> dict[str, PixelRequest]:
    """The pixel requests of a scene at their largest, without Earth Engine (``--dry-run``).

    Assumes the fullest listing: 46 NDVI composites (Terra and Aqua), the 368 weather days and
    every SMAP day within 30 days of the date. Expressions are placeholders: nothing is sent.
    """
    start = date - dt.timedelta(days=ts.NDVI_WINDOW_DAYS)
    ndvi = [
        f"{MOD13Q1 if k % 2 == 0 else MYD13Q1}/{start + dt.timedelta(days=8 * k):%Y_%m_%d}"
        for k in range(ts.N_STEPS)
    ]
    era5 = [f"{d:%Y%m%d}" for d in ts.era5_days(start)]
    placeholder = {
        name: f"dry-run:{name}" for name in ("s1", "soil", "terrain", "ndvi", "era5", "smap")
    }
    return scene_requests(window9, placeholder, ndvi, era5, 2 * SMAP_HALF_WINDOW_DAYS + 1)


def request_plan(
    window9: GridWindow,
    train: tuple[dt.date, dt.date],
    map_dates: Sequence[dt.date],
) -> str:
    """Describe the requests a ``gee`` run would make, without making any (``--dry-run``).

    Lists the acquisition listings (one per calendar year), then the pixel requests of one
    scene after splitting under the service's limits: for each, the number of requests, bands,
    pixels and bytes per request. Every scene is the same size; soil and terrain are fetched
    once per AOI (then served from the cache).

    Returns:
        The plan as text, one line per kind of request.

    """
    from ..cache import human_size as human
    from .fetch import plan_tiles

    first = min([train[0], *map_dates])
    last = max([train[1], *map_dates])
    years = last.year - first.year + 1
    lines = [
        f"grid: {window9.nrows} x {window9.ncols} cells of 9 km "
        f"({window9.nrows * 180} x {window9.ncols * 180} px at 50 m)",
        f"listings: {years} Sentinel-1 acquisition list(s) (one per year {first.year}-"
        f"{last.year}) and one NDVI/weather/SMAP listing per scene (small JSON answers)",
        "pixel requests per scene (largest case: 46 NDVI composites, 368 weather days, "
        "61 SMAP days):",
    ]
    total_requests = 0
    total_bytes = 0
    for name, request in nominal_scene_requests(window9, max(map_dates)).items():
        tiles = plan_tiles(request)
        sizes = [t.nbytes for t in tiles]
        bands = sorted({len(t.bands) for t in tiles})
        pixels = sorted({t.grid.nrows * t.grid.ncols for t in tiles})
        once = " (once per AOI)" if name in ("soil", "terrain") else ""
        lines.append(
            f"  {request.label:<11} {len(tiles):>3} request(s) x {'/'.join(map(str, bands))} "
            f"band(s) x {'/'.join(f'{p:,}' for p in pixels)} px, "
            f"{human(max(sizes))} per request, {human(sum(sizes))} in all{once}"
        )
        total_requests += len(tiles)
        total_bytes += sum(sizes)
    lines.append(
        f"per scene: {total_requests} pixel requests, {human(total_bytes)}; one scene per "
        f"Sentinel-1 date of {train[0].isoformat()}..{train[1].isoformat()} that has station "
        f"data, plus {len(map_dates)} map date(s) (`soilmoisture s1-dates` lists the dates); "
        "cached requests are not sent again"
    )
    return "\n".join(lines)


def no_scene_message(date: dt.date, near: Sequence[S1Acquisition]) -> str:
    """Build the message for a date without a scene, naming the nearest dates that have one."""
    if not near:
        return (
            f"no Sentinel-1 scene over this AOI on {date.isoformat()}, nor within "
            f"{NEAREST_SEARCH_DAYS} days of it; list the dates with `soilmoisture s1-dates`"
        )
    dates = sorted({a.date for a in near}, key=lambda d: (abs((d - date).days), d))[:4]
    described = []
    for d in sorted(dates):
        accs = [a for a in near if a.date == d]
        best = max(accs, key=lambda a: a.coverage)
        described.append(
            f"{d.isoformat()} ({best.orbit_pass.lower()}, orbit {best.relative_orbit}, "
            f"{best.coverage:.0f} %)"
        )
    return (
        f"no Sentinel-1 scene over this AOI on {date.isoformat()}; nearest dates with one: "
        + ", ".join(described)
    )


def _listing(meta: dict[str, Any], name: str) -> list[tuple[dt.date, str]]:
    """``(date, index)`` pairs of a listing (one dictionary, or a list of per-period ones)."""
    parts = meta.get(name) or []
    if isinstance(parts, dict):
        parts = [parts]
    out: list[tuple[dt.date, str]] = []
    for part in parts:
        pairs = zip(part.get("index", []), part.get("t", []), strict=False)
        out.extend((_day(float(t)), str(i)) for i, t in pairs)
    return out


def _plan(meta: dict[str, Any], date: dt.date) -> dict[str, Any]:
    """Decide, from the metadata listing, which composites and days to fetch."""
    ndvi = [(d, f"{MOD13Q1}/{i}") for d, i in _listing(meta, "mod")]
    ndvi += [(d, f"{MYD13Q1}/{i}") for d, i in _listing(meta, "myd")]
    if not ndvi:
        raise NoDataError(
            f"no MODIS NDVI composite in the year before {date.isoformat()}: MODIS starts in "
            "2000 (Terra) / 2002 (Aqua); pick a later date"
        )
    try:
        window = ts.ndvi_window([d for d, _ in ndvi], date)
    except InputError as exc:
        raise NoDataError(str(exc)) from None
    assets = [a for _, a in ndvi]
    unique = [assets[i] for i in window.unique_indices]

    wanted = set(ts.era5_days(window.start))
    era5 = sorted((d, i) for d, i in _listing(meta, "era5") if d in wanted)
    present = {d for d, _ in era5}
    blocks_missing = [
        b
        for b in range(ts.N_STEPS)
        if not any(
            window.start + dt.timedelta(days=b * ts.ERA5_BLOCK_DAYS + k) in present
            for k in range(ts.ERA5_BLOCK_DAYS)
        )
    ]
    if blocks_missing:
        last = window.start + dt.timedelta(days=ts.ERA5_DAYS - 1)
        raise NoDataError(
            f"ERA5-Land daily weather is not available for the whole window "
            f"{window.start.isoformat()}..{last.isoformat()} (it is published about a week "
            "late); pick an earlier date or retry in a few days"
        )

    smap = sorted(
        (d, f"{coll}/{i}")
        for name, coll in (("smap005", SMAP_005), ("smap006", SMAP_006))
        for d, i in _listing(meta, name)
        if smap_collection(d) == coll
    )
    dedup: dict[dt.date, str] = {}
    for d, a in smap:
        dedup.setdefault(d, a)
    if not dedup:
        raise NoDataError(
            f"no SMAP L3 enhanced data within {SMAP_HALF_WINDOW_DAYS} days of {date.isoformat()} "
            "(SMAP starts 2015-03-31)"
        )
    smap_days = sorted(dedup)
    return {
        "ndvi_window": window,
        "ndvi_asset_of_index": assets,
        "ndvi_assets": unique,
        "era5_indices": [i for _, i in era5],
        "era5_days": [d for d, _ in era5],
        "smap_assets": [dedup[d] for d in smap_days],
        "smap_days": smap_days,
    }


def describe_error(exc: BaseException) -> DataSourceError:
    """Translate any Earth Engine failure (see :func:`.ee_auth.translate_error`)."""
    from .ee_auth import translate_error

    err = translate_error(exc)
    return err if isinstance(err, DataSourceError) else DataSourceError(str(err))
