"""Maps of a run: predict a date tile by tile, write its GeoTIFFs, and sum up each map.

:func:`predict_map` keeps memory bounded by mapping tiles of whole 9 km cells; :func:`write_maps`
writes each date's cloud-optimised GeoTIFF (and a reprojected copy on request) with the run's
tags, and returns per-date statistics, warnings and a quicklook of the first date. The map-level
error against a simulated truth and the share of values outside the valid range live here too.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from .. import __version__
from ..errors import InputError
from ..inputs.aoi import AOI
from ..inputs.grid import GridWindow
from ..outputs.metrics import PHYSICAL_RANGE, outside_physical_range, physical_range_note
from ..progress import NULL_PROGRESS, Progress
from .config import DEFAULT_TILE_9KM, VALID_RANGE
from .scenes import SceneCache, subscene

if TYPE_CHECKING:
    from ..inputs.sources.base import SceneInputs

F32 = npt.NDArray[np.float32]


def map_error(pred: npt.ArrayLike, truth: npt.ArrayLike) -> dict[str, float]:
    """Map-level error of predictions against the simulated truth."""
    from ..outputs import metrics

    p = np.asarray(pred, dtype=np.float64).ravel()
    t = np.asarray(truth, dtype=np.float64).ravel()
    ok = np.isfinite(p) & np.isfinite(t)
    p, t = p[ok], t[ok]
    return {
        "n": float(p.size),
        "rmse": metrics.rmse(t, p),
        "bias": metrics.bias(t, p),
        "ubrmse": metrics.ubrmse(t, p),
        "r": metrics.pearson_r(t, p),
    }


def share_outside(values: npt.ArrayLike) -> float:
    """Share of the finite values outside :data:`~core.run.config.VALID_RANGE` (NaN if none)."""
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    if not v.size:
        return math.nan
    return float(np.mean((v < VALID_RANGE[0]) | (v > VALID_RANGE[1])))


def predict_map(
    ensemble: Any,
    scene: SceneInputs,
    mask: npt.NDArray[np.bool_],
    tile_9km: int = DEFAULT_TILE_9KM,
    progress: Progress | None = None,
) -> tuple[F32, F32, dict[str, int]]:
    """Predict a whole map tile by tile with bounded memory.

    Tiles are whole 9 km cells (``tile_9km`` per side); in each, the inputs keep the time-series
    block once per 250 m NDVI pixel and ``ensemble.predict_shared`` runs the time-series branch
    once per pixel.

    Args:
        ensemble: A loaded ``core.model.ensemble.Ensemble``.
        scene: The map date's scene.
        mask: ``(H50, W50)`` True for the cells to map (the AOI).
        tile_9km: Tile side in 9 km cells.
        progress: Optional progress reporter (one step per tile, cancellable).

    Returns:
        ``(mean, spread, counts)``: ``(H50, W50)`` float32 arrays, NaN outside the mask and where
        an input is missing; counts of requested, mapped and excluded cells.

    """
    from ..features.build import map_inputs_50m

    progress = progress or NULL_PROGRESS
    window9 = scene.window9
    h50, w50 = window9.nrows * 180, window9.ncols * 180
    if mask.shape != (h50, w50):
        raise InputError(f"mask has shape {mask.shape}, expected {(h50, w50)}")
    mean = np.full((h50, w50), np.nan, dtype=np.float32)
    spread = np.full((h50, w50), np.nan, dtype=np.float32)
    tiles = window9.split(tile_9km, tile_9km)
    counts = {"requested": 0, "mapped": 0, "excluded": 0}
    layout = getattr(ensemble, "input_layout", None)
    for k, tile in enumerate(tiles):
        progress.check()
        progress.message(f"Mapping {scene.date.isoformat()}: tile {k + 1}/{len(tiles)}")
        r0 = (tile.row0 - window9.row0) * 180
        c0 = (tile.col0 - window9.col0) * 180
        sl = (slice(r0, r0 + tile.nrows * 180), slice(c0, c0 + tile.ncols * 180))
        tile_mask = mask[sl]
        if tile_mask.any():
            shared = map_inputs_50m(subscene(scene, tile), tile_mask, layout)
            counts["requested"] += shared.n_requested
            counts["excluded"] += shared.n_excluded
            if len(shared):
                pred = ensemble.predict_shared(shared.snapshot, shared.series, shared.series_index)
                mean[shared.rows + r0, shared.cols + c0] = np.asarray(pred.mean, dtype=np.float32)
                spread[shared.rows + r0, shared.cols + c0] = np.asarray(
                    pred.spread, dtype=np.float32
                )
                counts["mapped"] += len(shared)
            del shared
        progress.fraction((k + 1) / len(tiles))
    return mean, spread, counts


def map_tags(
    method: str,
    alpha: float | None,
    betas: dict[str, float],
    models: str,
    simulated: bool,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """GeoTIFF tags of a run's maps: method, alpha, beta, model set, software, simulated."""
    finite = [b for b in betas.values() if b is not None and math.isfinite(b)]
    tags: dict[str, Any] = {
        "method": method,
        "alpha": "n/a" if alpha is None else alpha,
        "beta": "n/a"
        if not betas
        else (f"per member, median {float(np.median(finite)):.4g}" if finite else "n/a"),
        "beta_per_member": betas if betas else "n/a",
        "model_version": models,
        "simulated": simulated,
        "software": f"soilmoisture {__version__}",
        "spread": "standard deviation across ensemble members",
    }
    if simulated:
        tags["warning"] = "SIMULATED demo data: not a real soil moisture map"
    tags.update(extra or {})
    return tags


def _aoi_crop(mask: npt.NDArray[np.bool_]) -> tuple[slice, slice]:
    """Slices of the AOI's bounding box in the 50 m window (everything for an empty mask)."""
    rows_in = np.flatnonzero(mask.any(axis=1))
    cols_in = np.flatnonzero(mask.any(axis=0))
    return (
        (slice(rows_in[0], rows_in[-1] + 1), slice(cols_in[0], cols_in[-1] + 1))
        if rows_in.size
        else (slice(None), slice(None))
    )


def _write_map(
    mean: F32,
    spread: F32,
    window50: GridWindow,
    d: dt.date,
    path: Path,
    tags: dict[str, Any],
    implausible: int,
) -> Path:
    """Write one date's GeoTIFF at ``path`` with the run's tags and the physical-range count."""
    from ..outputs.raster_io import write_sm_geotiff

    lo, hi = PHYSICAL_RANGE
    date_tags = {
        **tags,
        "cells_outside_physical_range": implausible,
        "physical_range_m3m3": f"{lo:g}..{hi:g}",
    }
    write_sm_geotiff(path, mean, spread, window50, date=d, tags=date_tags)
    return path


def _reproject(path: Path, reproject_crs: str) -> Path:
    """Write the reprojected copy of a map next to it (``<stem>_<CRS code>.tif``)."""
    from ..outputs.raster_io import reproject_geotiff

    code = re.sub(r"[^A-Za-z0-9]+", "", reproject_crs)[:24]
    return reproject_geotiff(path, path.with_name(f"{path.stem}_{code}.tif"), reproject_crs)


def _map_stats(
    d: dt.date,
    mean: F32,
    spread: F32,
    counts: dict[str, int],
    implausible: int,
    truth: Any,
    mask: npt.NDArray[np.bool_],
    warnings: list[str],
) -> dict[str, Any]:
    """One map's statistics (cells, mean, spread, error against a simulated truth); warnings."""
    values = mean[np.isfinite(mean)]
    entry: dict[str, Any] = {
        "cells_in_aoi": counts["requested"],
        "cells_mapped": counts["mapped"],
        "cells_without_inputs": counts["excluded"],
        "mean": float(values.mean()) if values.size else None,
        "share_outside_0_0.6": share_outside(values),
        "spread_median": float(np.nanmedian(spread)) if values.size else None,
    }
    entry["cells_outside_physical_range"] = implausible
    note = physical_range_note(mean, f"map {d.isoformat()}")
    if note:
        warnings.append(note)
    if counts["excluded"]:
        warnings.append(
            f"{d.isoformat()}: {counts['excluded']} of {counts['requested']} AOI cells have "
            "no value (an input was missing there); they are nodata in the map"
        )
    if truth is not None:
        entry["error_vs_truth"] = map_error(mean[mask], np.asarray(truth)[mask])
    return entry


def write_maps(
    ensemble: Any,
    aoi: AOI,
    cache: SceneCache,
    dates: Sequence[dt.date],
    out_dir: Path,
    tags: dict[str, Any],
    tile_9km: int,
    reproject_crs: str | None,
    progress: Progress,
    smaps: dict[dt.date, F32] | None = None,
    truths: dict[dt.date, F32] | None = None,
) -> tuple[
    dict[dt.date, Path], dict[dt.date, Path], dict[str, Any], list[str], tuple[F32, F32] | None
]:
    """Map every date and write the GeoTIFFs.

    ``smaps`` and ``truths``, when given, receive each date's 9 km SMAP and simulated truth
    (for :func:`write_blended_maps`, so the blend uses the very scene the map was made from).

    Returns:
        ``(maps, reprojected, stats, warnings, quicklook)``; quicklook is the first date's
        (mean, spread) cropped to the AOI's bounding box.

    """
    window50 = cache.window9.to_level("50m")
    mask = aoi.mask50(window50)
    maps: dict[dt.date, Path] = {}
    reproj: dict[dt.date, Path] = {}
    stats: dict[str, Any] = {}
    warnings: list[str] = []
    quicklook: tuple[F32, F32] | None = None
    crop = _aoi_crop(mask)
    for i, d in enumerate(dates):
        sub = progress.sub(i / len(dates), (i + 1) / len(dates))
        scene = cache.get(d, sub.sub(0.0, 0.2))
        if smaps is not None:
            smaps[d] = np.asarray(scene.smap, dtype=np.float32).copy()
        if truths is not None and scene.truth is not None:
            truths[d] = np.asarray(scene.truth, dtype=np.float32)
        mean, spread, counts = predict_map(ensemble, scene, mask, tile_9km, sub.sub(0.2, 0.9))
        sub.check()
        implausible = int(outside_physical_range(mean).sum())
        path = out_dir / "maps" / f"soil_moisture_{d.isoformat()}.tif"
        maps[d] = _write_map(mean, spread, window50, d, path, tags, implausible)
        if reproject_crs:
            reproj[d] = _reproject(maps[d], reproject_crs)
        stats[d.isoformat()] = _map_stats(
            d, mean, spread, counts, implausible, scene.truth, mask, warnings
        )
        if quicklook is None:
            quicklook = (mean[crop].copy(), spread[crop].copy())
        del mean, spread
        sub.fraction(1.0)
    return maps, reproj, stats, warnings, quicklook


def blended_path(path: Path) -> Path:
    """Where the SMAP blend of a map is written: ``<stem>_smap_blend.tif`` beside it."""
    return path.with_name(f"{path.stem}_smap_blend.tif")


def write_blended_maps(
    maps: dict[dt.date, Path],
    aoi: AOI,
    smaps: dict[dt.date, F32],
    weight: float,
    tags: dict[str, Any],
    reproject_crs: str | None,
    progress: Progress,
    truths: dict[dt.date, Any] | None = None,
) -> tuple[dict[dt.date, Path], dict[dt.date, Path], dict[str, Any]]:
    """Write the SMAP blend (:mod:`.blend`) of each written map beside it.

    The blend is ``SMAP + weight (map - SMAP)`` cell by cell (the map's value where SMAP is
    missing), its spread the members' spread times ``weight``.

    Args:
        maps: The written maps by date.
        aoi: The run's area.
        smaps: Each date's ``(H9, W9)`` SMAP, from the scene the map was made from.
        weight: The blend weight.
        tags: The maps' tags.
        reproject_crs: Also write reprojected copies.
        progress: Progress reporter (cancellable between dates).
        truths: Each date's simulated truth, for the error against it.

    Returns:
        ``(blended, reprojected, stats)``: the paths by date and each map's cells and (for a
        simulated scene) error against the truth.

    """
    from ..outputs.raster_io import read_sm_geotiff
    from .blend import blend

    blended: dict[dt.date, Path] = {}
    reproj: dict[dt.date, Path] = {}
    stats: dict[str, Any] = {}
    for i, (d, path) in enumerate(maps.items()):
        progress.check()
        progress.message(f"Blending the {d.isoformat()} map with SMAP 9 km (weight {weight:.2f})")
        raster = read_sm_geotiff(path)
        window50 = raster.window50
        if window50 is None:
            raise InputError(f"the map {path} is not on the EASE-Grid 2.0 50 m grid")
        mask = aoi.mask50(window50)
        smap50 = np.kron(np.asarray(smaps[d], dtype=np.float32), np.ones((180, 180), np.float32))
        mean = blend(raster.mean, smap50, weight).astype(np.float32)
        without = np.isfinite(raster.mean) & ~np.isfinite(smap50)
        spread = np.asarray(raster.spread, dtype=np.float32)
        spread = np.where(without, spread, weight * spread).astype(np.float32)
        implausible = int(outside_physical_range(mean).sum())
        blend_tags = {
            **tags,
            "smap_blend_weight": round(weight, 4),
            "smap_blend": "SMAP 9 km + weight x (map - SMAP 9 km), the map's value where SMAP "
            "is missing; weight fitted on held-out station predictions",
            "spread": "standard deviation across ensemble members times the blend weight",
        }
        blended[d] = _write_map(
            mean, spread, window50, d, blended_path(path), blend_tags, implausible
        )
        if reproject_crs:
            reproj[d] = _reproject(blended[d], reproject_crs)
        entry: dict[str, Any] = {
            "weight": weight,
            "cells_mapped": int(np.isfinite(mean[mask]).sum()),
            "cells_without_smap": int(without[mask].sum()),
        }
        truth = (truths or {}).get(d)
        if truth is not None:
            entry["error_vs_truth"] = map_error(mean[mask], np.asarray(truth)[mask])
        stats[d.isoformat()] = entry
        progress.fraction((i + 1) / len(maps))
    return blended, reproj, stats
