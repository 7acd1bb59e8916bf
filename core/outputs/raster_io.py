"""Soil-moisture GeoTIFF output: cloud-optimised, EASE-2 50 m (EPSG:6933), two float32 bands.

Layout of every map the engine writes (:func:`write_sm_geotiff`):

* band 1: ensemble mean soil moisture, m3/m3 (description "soil moisture (ensemble mean)");
* band 2: ensemble spread, the standard deviation across the members, m3/m3
  (description "ensemble spread (std)");
* float32, nodata ``-9999`` outside the AOI and where an input was missing;
* the transform is exactly that of the EASE-2 50 m grid window (cell size 9 km / 180, corner on
  the global grid), CRS EPSG:6933;
* GDAL's ``COG`` driver: 256 x 256 tiles, DEFLATE with the floating-point predictor, overviews
  by averaging (GDAL excludes nodata from the average) down to below one tile;
* dataset tags: ``units``, ``date``, ``method``, ``alpha``, ``beta``, ``model_version``,
  ``simulated`` and whatever else the caller passes; band tags: ``units``.

Files are written atomically (:mod:`core.atomic`): the COG is built under a temporary name
beside the target and renamed on success, so a failure or a cancel never leaves a half-written
GeoTIFF under the final name.

Reprojection (:func:`reproject_geotiff`) uses *bilinear* resampling for both bands: soil moisture
and its spread are continuous fields, bilinear avoids the blocky look and the half-cell shifts
of nearest neighbour, and GDAL leaves nodata source cells out of the kernel, so the AOI edge is
not smeared into nodata. The EPSG:6933 file stays the reference product (its cell values are
the model's own predictions); the reprojected copy is for display and overlay.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ..atomic import atomic_path
from ..errors import InputError
from ..inputs.grid import EPSG, X0, Y0, GridWindow, cell_size, shape

F32 = npt.NDArray[np.float32]

NODATA = -9999.0
"""Default nodata value of the maps."""
BAND_DESCRIPTIONS = ("soil moisture (ensemble mean)", "ensemble spread (std)")
"""Descriptions of band 1 and band 2."""
UNITS = "m3/m3"
BLOCKSIZE = 256
"""Tile size of the COGs (pixels)."""

_COG_OPTIONS: dict[str, str] = {
    "BLOCKSIZE": str(BLOCKSIZE),
    "COMPRESS": "DEFLATE",
    "PREDICTOR": "3",
    "RESAMPLING": "AVERAGE",
    "OVERVIEWS": "AUTO",
    "BIGTIFF": "IF_SAFER",
}


@dataclass
class SMRaster:
    """A soil-moisture map read back from a GeoTIFF (nodata turned into NaN)."""

    mean: F32
    """(H, W) band 1, m3/m3, NaN where nodata."""
    spread: F32 | None
    """(H, W) band 2, m3/m3, NaN where nodata; None for a single-band raster."""
    transform: Any
    """rasterio ``Affine`` of the raster."""
    crs: Any
    """rasterio ``CRS`` of the raster."""
    nodata: float | None
    tags: dict[str, str] = field(default_factory=dict)
    """Dataset tags (date, method, alpha, ...)."""
    descriptions: tuple[str | None, ...] = ()

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols)."""
        h, w = self.mean.shape
        return int(h), int(w)

    @property
    def window50(self) -> GridWindow | None:
        """The EASE-2 50 m grid window of the raster, or None if it is not on that grid."""
        return window50_from_transform(self.transform, self.crs, self.shape)


def _tag_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        import json

        return json.dumps({str(k): v for k, v in value.items()}, sort_keys=True, default=str)
    return str(value)


def _write_cog(
    path: Path,
    bands: list[F32],
    transform: Any,
    crs: Any,
    nodata: float,
    tags: Mapping[str, Any],
    descriptions: tuple[str, ...],
) -> Path:
    """Write float32 ``bands`` (NaN = nodata) as a COG, atomically."""
    import rasterio
    import rasterio.shutil
    from rasterio.io import MemoryFile

    h, w = bands[0].shape
    profile = {
        "driver": "GTiff",
        "height": h,
        "width": w,
        "count": len(bands),
        "dtype": "float32",
        "crs": crs,
        "transform": transform,
        "nodata": nodata,
    }
    str_tags = {str(k): _tag_value(v) for k, v in tags.items()}
    with atomic_path(path) as tmp, MemoryFile() as mem:
        with mem.open(**profile) as ds:
            for i, band in enumerate(bands, start=1):
                data = np.asarray(band, dtype=np.float32)
                ds.write(
                    np.where(np.isfinite(data), data, np.float32(nodata)).astype(np.float32), i
                )
                ds.set_band_description(i, descriptions[i - 1])
                ds.update_tags(i, units=UNITS)
            ds.units = tuple(UNITS for _ in bands)
            ds.update_tags(**str_tags)
        with mem.open() as src:
            rasterio.shutil.copy(src, str(tmp), driver="COG", **_COG_OPTIONS)
        _make_readable(tmp)
    return path


def _make_readable(path: Path) -> None:
    """Give the temporary file the permissions of a normally created file (umask applies).

    Temporary files are created private (0600); a map is meant to be shared like any output.
    """
    os.chmod(path, 0o666 & ~_current_umask())


def _current_umask() -> int:
    """Return the process umask without changing it (os.umask would race with threads)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    return 0o022


def write_sm_geotiff(
    path: str | os.PathLike[str],
    mean: npt.ArrayLike,
    spread: npt.ArrayLike,
    window50: GridWindow,
    *,
    date: dt.date,
    tags: Mapping[str, Any] | None = None,
    nodata: float = NODATA,
) -> Path:
    """Write a soil-moisture map as a cloud-optimised GeoTIFF on the EASE-2 50 m grid.

    Args:
        path: target file (``.tif``); its folder is created.
        mean: ``(H, W)`` ensemble mean, m3/m3; NaN marks cells outside the AOI or without inputs.
        spread: ``(H, W)`` ensemble spread (std across members), m3/m3; NaN likewise.
        window50: the 50 m grid window the arrays cover (gives the transform).
        date: the map date (tag ``date``).
        tags: further dataset tags (method, alpha, beta, model_version, simulated, ...);
            ``units`` and ``date`` are always set.
        nodata: value written for NaN cells.

    Returns:
        The path written.

    Raises:
        InputError: the arrays do not match the window or each other, or the window is not 50 m.

    """
    from rasterio.crs import CRS
    from rasterio.transform import Affine

    if window50.level != "50m":
        raise InputError(
            f"a soil-moisture map must be on the 50 m grid, got a {window50.level} window"
        )
    m = np.asarray(mean, dtype=np.float32)
    s = np.asarray(spread, dtype=np.float32)
    if m.shape != window50.shape or s.shape != window50.shape:
        raise InputError(
            f"map arrays of shape {m.shape} and {s.shape} do not match the 50 m window "
            f"{window50.shape}"
        )
    all_tags: dict[str, Any] = {
        "units": UNITS,
        "date": date.isoformat(),
        "grid": "EASE-Grid 2.0 50 m",
    }
    all_tags.update(dict(tags or {}))
    all_tags["units"] = UNITS
    all_tags["date"] = date.isoformat()
    return _write_cog(
        Path(path),
        [m, s],
        Affine(*window50.affine()),
        CRS.from_epsg(EPSG),
        nodata,
        all_tags,
        BAND_DESCRIPTIONS,
    )


def read_sm_geotiff(path: str | os.PathLike[str]) -> SMRaster:
    """Read a soil-moisture GeoTIFF (ours or any single/two-band float raster).

    Args:
        path: the GeoTIFF.

    Returns:
        :class:`SMRaster` with nodata as NaN.

    Raises:
        InputError: the file does not exist or cannot be read as a raster.

    """
    import rasterio
    from rasterio.errors import RasterioIOError

    p = Path(path)
    if not p.exists():
        raise InputError(f"raster {str(p)!r} does not exist")
    try:
        with rasterio.open(p) as ds:
            nodata = ds.nodata

            def band(i: int) -> F32:
                a = ds.read(i).astype(np.float32)
                if nodata is not None:
                    a[a == np.float32(nodata)] = np.nan
                return a

            mean = band(1)
            spread = band(2) if ds.count >= 2 else None
            return SMRaster(
                mean=mean,
                spread=spread,
                transform=ds.transform,
                crs=ds.crs,
                nodata=nodata,
                tags=dict(ds.tags()),
                descriptions=tuple(ds.descriptions),
            )
    except RasterioIOError as exc:
        raise InputError(f"cannot read raster {str(p)!r}: {exc}") from None


def window50_from_transform(
    transform: Any, crs: Any, raster_shape: tuple[int, int]
) -> GridWindow | None:
    """Return the EASE-2 50 m window a raster covers, or None if it is not on that grid."""
    try:
        if crs is None or crs.to_epsg() != EPSG:
            return None
    except Exception:  # noqa: BLE001 - an exotic CRS is simply "not on the grid"
        return None
    s = cell_size("50m")
    a, b, c, d, e, f = (
        transform.a,
        transform.b,
        transform.c,
        transform.d,
        transform.e,
        transform.f,
    )
    if b != 0 or d != 0 or not np.isclose(a, s, rtol=1e-9) or not np.isclose(e, -s, rtol=1e-9):
        return None
    col0 = (c - X0) / s
    row0 = (Y0 - f) / s
    if abs(col0 - round(col0)) > 1e-6 or abs(row0 - round(row0)) > 1e-6:
        return None
    h, w = raster_shape
    grows, gcols = shape("50m")
    r0, c0 = int(round(row0)), int(round(col0))
    if r0 < 0 or c0 < 0 or r0 + h > grows or c0 + w > gcols:
        return None
    return GridWindow("50m", r0, c0, h, w)


def reproject_geotiff(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    crs: str,
    *,
    resolution: float | None = None,
) -> Path:
    """Write a reprojected copy of a soil-moisture GeoTIFF (COG, same bands, tags, nodata).

    Both bands are resampled bilinearly (continuous fields; nodata cells are left out of the
    kernel by GDAL). The output resolution is GDAL's default estimate for the target CRS
    (about 50 m for a projected CRS) unless ``resolution`` is given in target CRS units.

    Args:
        src: the EASE-2 GeoTIFF.
        dst: the reprojected file to write.
        crs: target CRS as the user names it (``"EPSG:32633"``, a WKT or PROJ string).
        resolution: optional output cell size in target CRS units.

    Returns:
        The path written.

    Raises:
        InputError: unknown CRS or unreadable source.

    """
    import rasterio
    from rasterio.crs import CRS
    from rasterio.errors import CRSError
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    try:
        dst_crs = CRS.from_user_input(crs)
    except CRSError:
        raise InputError(
            f"unknown coordinate reference system {crs!r}; give e.g. 'EPSG:32633'"
        ) from None
    src_path = Path(src)
    if not src_path.exists():
        raise InputError(f"raster {str(src_path)!r} does not exist")
    with rasterio.open(src_path) as ds:
        nodata = ds.nodata if ds.nodata is not None else NODATA
        kwargs: dict[str, Any] = {}
        if resolution is not None:
            kwargs["resolution"] = resolution
        transform, width, height = calculate_default_transform(
            ds.crs, dst_crs, ds.width, ds.height, *ds.bounds, **kwargs
        )
        out: list[F32] = []
        for i in range(1, ds.count + 1):
            dest = np.full((height, width), np.float32(nodata), dtype=np.float32)
            reproject(
                source=ds.read(i),
                destination=dest,
                src_transform=ds.transform,
                src_crs=ds.crs,
                src_nodata=nodata,
                dst_transform=transform,
                dst_crs=dst_crs,
                dst_nodata=nodata,
                resampling=Resampling.bilinear,
            )
            dest[dest == np.float32(nodata)] = np.nan
            out.append(dest)
        tags = dict(ds.tags())
        descriptions = tuple(d or f"band {i + 1}" for i, d in enumerate(ds.descriptions))
    tags.pop("grid", None)
    tags["reprojected_from"] = "EPSG:6933 (EASE-Grid 2.0 50 m)"
    tags["resampling"] = "bilinear"
    return _write_cog(Path(dst), out, transform, dst_crs, float(nodata), tags, descriptions)


def sample_raster(
    raster: SMRaster, lon: npt.ArrayLike, lat: npt.ArrayLike
) -> tuple[F32, F32 | None]:
    """Values of the raster's bands at WGS 84 points (NaN outside the raster or at nodata).

    Args:
        raster: a raster read with :func:`read_sm_geotiff`.
        lon: longitudes, degrees.
        lat: latitudes, degrees.

    Returns:
        ``(mean, spread)`` at the points; ``spread`` is None for a single-band raster.

    """
    from pyproj import Transformer

    lon_a = np.atleast_1d(np.asarray(lon, dtype=np.float64))
    lat_a = np.atleast_1d(np.asarray(lat, dtype=np.float64))
    tr = Transformer.from_crs("EPSG:4326", raster.crs.to_wkt(), always_xy=True)
    x, y = tr.transform(lon_a, lat_a)
    inv = ~raster.transform
    col_f, row_f = inv * (np.asarray(x), np.asarray(y))
    row = np.floor(np.asarray(row_f, dtype=np.float64)).astype(np.int64)
    col = np.floor(np.asarray(col_f, dtype=np.float64)).astype(np.int64)
    h, w = raster.shape
    inside = (
        (row >= 0) & (row < h) & (col >= 0) & (col < w) & np.isfinite(row_f) & np.isfinite(col_f)
    )
    rr, cc = np.where(inside, row, 0), np.where(inside, col, 0)
    mean = np.where(inside, raster.mean[rr, cc], np.nan).astype(np.float32)
    spread = None
    if raster.spread is not None:
        spread = np.where(inside, raster.spread[rr, cc], np.nan).astype(np.float32)
    return mean, spread
