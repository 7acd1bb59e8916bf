"""Mapping with a saved ensemble: new dates or a new AOI, without retraining.

:func:`run_map_with_ensemble` loads an adapted ensemble written by
:func:`core.run.adapt_map.run_adapt_map` (or any model set), checks the map dates and the
health of the area's inputs against the ensemble's own statistics, writes the maps and a
manifest naming the ensemble and its provenance.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..atomic import check_output_dir, run_folder, write_text
from ..errors import InputError
from ..inputs.aoi import AOI
from ..inputs.sources.base import check_sentinel1_era
from ..progress import NULL_PROGRESS, Progress
from .checks import map_input_health
from .config import DEFAULT_TILE_9KM, as_date
from .dates import check_map_dates
from .maps import map_tags, write_blended_maps, write_maps
from .provenance import existing_outputs, software_versions, to_json
from .scenes import SceneCache


@dataclass
class MapResult:
    """Maps made with a saved ensemble (:func:`run_map_with_ensemble`)."""

    out_dir: Path
    maps: dict[dt.date, Path]
    reprojected: dict[dt.date, Path] = field(default_factory=dict)
    blended: dict[dt.date, Path] = field(default_factory=dict)
    """Each map blended with SMAP by the weight of the run that adapted the ensemble."""
    map_error: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    simulated: bool = False


def run_map_with_ensemble(
    ensemble_dir: str | os.PathLike[str],
    aoi: AOI,
    dates: Sequence[dt.date],
    out_dir: str | os.PathLike[str],
    source: str = "demo",
    progress: Progress | None = None,
    *,
    device: str = "cpu",
    reproject_crs: str | None = None,
    tile_9km: int = DEFAULT_TILE_9KM,
) -> MapResult:
    """Map new dates (or a new AOI) with a saved adapted ensemble, without retraining.

    Args:
        ensemble_dir: Folder written by :func:`run_adapt_map` (``out/ensemble``) or any model set.
        aoi: The area to map.
        dates: Map dates.
        out_dir: Output folder (``maps/`` and ``manifest.json``).
        source: Input source name.
        progress: Progress and cancel reporter.
        device: ``"cpu"`` or ``"cuda"``.
        reproject_crs: Also write reprojected copies.
        tile_9km: Tile side in 9 km cells.

    Returns:
        The :class:`MapResult`.

    Raises:
        ModelStoreError: the ensemble folder is missing or corrupt.
        NoDataError: a date without Sentinel-1 (naming the nearest dates).
        Cancelled: the user cancelled.

    """
    progress = progress or NULL_PROGRESS
    out = check_output_dir(out_dir, "output folder", subfolders=("maps",))
    date_list = sorted({as_date(d, "map date") for d in dates})
    if not date_list:
        raise InputError("no map date given; give at least one date (YYYY-MM-DD)")
    check_sentinel1_era(date_list, "map date")
    with run_folder(out):
        return _map_with_ensemble(
            ensemble_dir, aoi, date_list, out, source, progress, device, reproject_crs, tile_9km
        )


def _map_with_ensemble(
    ensemble_dir: str | os.PathLike[str],
    aoi: AOI,
    date_list: list[dt.date],
    out: Path,
    source: str,
    progress: Progress,
    device: str,
    reproject_crs: str | None,
    tile_9km: int,
) -> MapResult:
    from ..inputs.sources.base import get_source
    from ..model.ensemble import Ensemble
    from ..model.store import load_model_set

    progress.message(f"Loading the ensemble {os.fspath(ensemble_dir)}")
    model_set = load_model_set(ensemble_dir)
    prov = dict(model_set.provenance or {})
    ensemble = Ensemble.from_model_set(model_set, device=device)
    src = get_source(source)
    window9 = aoi.window9()
    check_map_dates(src, window9, date_list, set(), progress.sub(0.0, 0.05))
    cache = SceneCache(src, window9)
    tags = map_tags(
        str(prov.get("method", model_set.kind)),
        prov.get("alpha"),
        prov.get("beta") or {},
        str(prov.get("models", model_set.name)),
        bool(src.simulated),
        extra={"ensemble": str(Path(ensemble_dir).resolve()), "ensemble_name": model_set.name},
    )
    # the health cells first, in reverse date order: the scene cache keeps the last scene,
    # which is then the first date the maps need
    checks = map_input_health(
        ensemble, model_set.kind, aoi, cache, date_list, progress.sub(0.05, 0.1)
    )
    smaps: dict[dt.date, Any] = {}
    truths: dict[dt.date, Any] = {}
    maps, reproj, stats, warnings, _ = write_maps(
        ensemble,
        aoi,
        cache,
        date_list,
        out,
        tags,
        tile_9km,
        reproject_crs,
        progress.sub(0.1, 0.98),
        smaps,
        truths,
    )
    blended: dict[dt.date, Path] = {}
    blend = prov.get("smap_blend")
    if isinstance(blend, dict) and blend.get("weight") is not None and maps:
        blended, _, blend_stats = write_blended_maps(
            maps,
            aoi,
            smaps,
            float(blend["weight"]),
            tags,
            reproject_crs,
            progress.sub(0.98, 1.0),
            truths,
        )
        for day, entry in blend_stats.items():
            stats[day]["smap_blend"] = entry
    simulated = bool(src.simulated) or cache.simulated
    warnings = list(warnings) + checks["input_health"]["warnings"]
    manifest = _manifest(
        ensemble_dir, model_set, prov, ensemble, aoi, date_list, source, simulated, cache
    )
    manifest["maps"] = stats
    manifest["input_layout"] = ensemble.input_layout.name
    manifest["input_checks"] = checks
    manifest["outputs"] = existing_outputs(
        {
            "maps": {d.isoformat(): str(p.relative_to(out)) for d, p in maps.items()},
            "maps_smap_blend": {d.isoformat(): str(p.relative_to(out)) for d, p in blended.items()},
        },
        out,
    )
    write_text(out / "manifest.json", to_json(manifest))
    progress.fraction(1.0)
    return MapResult(
        out_dir=out,
        maps=maps,
        reprojected=reproj,
        blended=blended,
        map_error=stats,
        warnings=warnings,
        simulated=simulated,
    )


def _manifest(
    ensemble_dir: str | os.PathLike[str],
    model_set: Any,
    prov: dict[str, Any],
    ensemble: Any,
    aoi: AOI,
    date_list: list[dt.date],
    source: str,
    simulated: bool,
    cache: SceneCache,
) -> dict[str, Any]:
    """The manifest's head: software, the ensemble and its provenance, AOI, dates, scenes."""
    return {
        "format": 1,
        "kind": "soilmoisture map run (saved ensemble, no retraining)",
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "software": software_versions(),
        "ensemble": {
            "path": str(Path(ensemble_dir).resolve()),
            "name": model_set.name,
            "members": {m.name: m.sha256 for m in model_set.members},
        },
        "ensemble_provenance": prov,
        "aoi": aoi.to_geojson(),
        "dates": [d.isoformat() for d in date_list],
        "source": {"name": source, "simulated": simulated},
        "scenes": {d.isoformat(): v for d, v in sorted(cache.checksums.items())},
    }
