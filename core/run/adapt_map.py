"""The "Adapt & Map" run: stations + AOI + dates -> adapted DenseSM-E -> 50 m maps + report.

One call, :func:`run_adapt_map`, does what the CLI (``soilmoisture adapt-map``), the QGIS dock
and the batch runner ask for:

1. read the station files (:mod:`core.inputs.stations`) and keep the stations inside the AOI;
2. list the Sentinel-1 acquisitions of the training period (default: the 365 days before the
   first map date, that date included) and, for every acquisition date on which at least one
   station has a daily value, get the scene and build
   - the labelled 50 m samples: the station cells on that date (:func:`features.cell_inputs_50m`),
   - the labelled 9 km samples: SMAP over the AOI's 9 km cells (:func:`features.cell_inputs_9km`).
   Acquisition dates without any station reading are skipped (they would only add 9 km
   samples, at the cost of a full scene each);
3. the unlabelled target: a seeded random subset (at most ``max_target_cells``, spread evenly
   over the map dates) of the AOI's 50 m cells on the map dates. The target only feeds a 32 x 32
   feature covariance in the domain loss, so a large random subset carries the same signal as
   all cells while keeping memory bounded for AOIs of a million cells;
4. adapt the 25 pretrained members (:func:`core.adaptation.train.adapt`) once for all map dates,
   unless ``method == "pretrained"``;
5. map every date tile by tile (tiles of whole 9 km cells, :data:`DEFAULT_TILE_9KM` per side):
   :func:`features.map_inputs_50m` stores the 138 time-series values once per 250 m NDVI pixel
   (every 50 m cell under it shares them, and the pixel lies in one ERA5/9 km cell), and
   ``Ensemble.predict_shared`` runs the time-series branch once per such pixel. Each map is a
   cloud-optimised GeoTIFF (:mod:`core.outputs.raster_io`), written atomically;
6. save the adapted ensemble with a manifest (AOI, dates, stations, method, alpha, beta per
   member, seeds, software versions, SHA-256 of the station files and of the scene arrays);
7. validate honestly: leave-one-station-out cross validation of the chosen method (each
   station predicted by an ensemble adapted without it, and every fold adapted exactly as the
   final ensemble: the same schedule and snapshots, alpha chosen for the fold's own stations),
   next to the pretrained ensemble, SMAP's 9 km value and random forest and XGBoost trained on
   the same stations, inputs and SMAP values (:mod:`core.adaptation.baselines`); with one station,
   the
   report says plainly that no held-out accuracy can be computed. The maps are written before
   this step, so they are on disk while the validation runs. For simulated (demo) scenes, the
   map is also compared with the simulated truth, next to the pretrained map and SMAP's 9 km
   values laid on the 50 m grid;
8. write the report (HTML + JSON + PNG charts, :mod:`core.outputs.report`).

Each step has its own module in :mod:`core.run`: ``config`` (settings, defaults, alpha),
``stations``, ``dates``, ``scenes``, ``samples``, ``checks``, ``maps``, ``validation``,
``provenance`` (manifest, checksums) and ``run_report``; this module tells the story.

Nothing here prints or keeps global state: the QGIS plugin runs it in a background task, and
everything the user should see goes through the :class:`~core.progress.Progress` reporter.
Cancelling raises :class:`~core.errors.Cancelled` at the next check; every output file is
written atomically, so no half-written GeoTIFF is left behind.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..atomic import check_output_dir, run_folder, write_text
from ..errors import NoDataError
from ..progress import NULL_PROGRESS, Progress
from .checks import input_checks
from .config import AdaptMapConfig, adapt_config, check_finetune_stations, choose_alpha
from .dates import check_map_dates, list_acquisition_dates
from .maps import map_tags, write_blended_maps, write_maps
from .provenance import existing_outputs, models_origin, run_manifest, save_ensemble, to_json
from .run_report import write_run_report
from .samples import RunSamples, run_samples
from .scenes import SceneCache
from .stages import Stages
from .stations import read_stations_in_aoi
from .validation import map_error_sample, validate_stations

if TYPE_CHECKING:
    import pandas as pd

    from ..inputs.sources.base import InputSource

F32 = npt.NDArray[np.float32]


@dataclass
class AdaptMapResult:
    """What a run produced."""

    out_dir: Path
    maps: dict[dt.date, Path]
    """The EASE-2 GeoTIFF of each map date."""
    report_html: Path | None
    report_json: Path
    manifest: Path
    ensemble_dir: Path | None
    """The saved adapted ensemble (None for ``method="pretrained"``)."""
    metrics: dict[str, Any]
    """Validation metrics by method (``MetricsReport.to_dict()``), plus map-level errors."""
    alpha: float | None
    alpha_reason: str
    warnings: list[str] = field(default_factory=list)
    reprojected: dict[dt.date, Path] = field(default_factory=dict)
    blended: dict[dt.date, Path] = field(default_factory=dict)
    """The SMAP blend of each map date's map (empty when no blend weight could be fitted)."""
    blended_reprojected: dict[dt.date, Path] = field(default_factory=dict)
    simulated: bool = False
    n_samples: int = 0
    n_stations: int = 0


@dataclass
class _Run:
    """What the later steps of a run share once its samples are built."""

    config: AdaptMapConfig
    daily: pd.DataFrame
    train_dates: list[dt.date]
    cache: SceneCache
    samples: RunSamples
    alpha: float | None
    alpha_reason: str
    simulated: bool
    models_origin: str


@dataclass
class _Adapted:
    """The ensemble that maps, and what its adaptation recorded (nothing for ``pretrained``)."""

    ensemble: Any
    betas: dict[str, float] = field(default_factory=dict)
    record: dict[str, Any] | None = None
    history: pd.DataFrame | None = None


@dataclass
class _Maps:
    """The written maps, their reprojected copies, per-date statistics and the quicklook."""

    maps: dict[dt.date, Path]
    reprojected: dict[dt.date, Path]
    stats: dict[str, Any]
    quicklook: tuple[F32, F32] | None
    blended: dict[dt.date, Path] = field(default_factory=dict)
    """The SMAP blend of each map (none without a fitted weight)."""
    blended_reprojected: dict[dt.date, Path] = field(default_factory=dict)
    tags: dict[str, Any] = field(default_factory=dict)
    """The maps' GeoTIFF tags (their blends carry them too)."""
    smaps: dict[dt.date, F32] = field(default_factory=dict)
    """Each map date's 9 km SMAP, from the scene the map was made from."""
    truths: dict[dt.date, F32] = field(default_factory=dict)
    """Each map date's simulated truth (simulated scenes only)."""


def run_adapt_map(config: AdaptMapConfig, progress: Progress | None = None) -> AdaptMapResult:
    """Run "Adapt & Map": adapt DenseSM-E to the AOI, map every date, validate, report.

    The output folder is checked before any work, locked for the run, cleaned of a killed
    run's temporary files, and its manifest (written last) lists only outputs that exist.

    Args:
        config: The run's configuration.
        progress: Progress and cancel reporter (stages, members, epochs, tiles).

    Returns:
        The :class:`AdaptMapResult`.

    Raises:
        InputError: bad inputs (no station inside the AOI, unreadable files, ...).
        NoDataError: a map date without Sentinel-1 (the message names the nearest dates), or
            no usable sample.
        Cancelled: the user cancelled; no half-written output is left behind.

    """
    from ..model.store import load_model_set

    check_output_dir(config.out_dir, "output folder", subfolders=("maps", "report", "ensemble"))
    load_model_set(config.models, verify=False)  # an unknown set fails now, not after the work
    with run_folder(config.out_dir):
        return _run_adapt_map(config, progress or NULL_PROGRESS)


def _run_adapt_map(config: AdaptMapConfig, progress: Progress) -> AdaptMapResult:
    """The run, step by step (the numbers follow the module's docstring)."""
    from ..inputs.sources.base import get_source

    warnings: list[str] = []
    # 1. the stations inside the AOI
    daily = _read_stations(config, progress, warnings)
    # 2. the Sentinel-1 dates with station readings, and the labelled samples on them;
    # 3. the unlabelled target cells of the map dates
    source = get_source(config.source)
    train_dates = _training_dates(config, source, daily, progress)
    stages = _stages(config, daily, train_dates)
    pretrained, models_origin = _load_pretrained(config, progress, warnings)
    cache = SceneCache(source, config.aoi.window9())
    samples = run_samples(
        config, daily, cache, train_dates, pretrained.input_layout, stages, progress, warnings
    )
    if config.uses_consistency and samples.consistency is None:
        warnings.append(
            "the 9 km consistency term was left out: on no training date did a 9 km cell around "
            "the area have SMAP and every input for at least half of its 50 m cells"
        )
        config = replace(config, consistency=0.0)
    alpha, alpha_reason = choose_alpha(config.alpha, len(samples.labelled.stations), config.method)
    simulated = bool(source.simulated) or cache.simulated
    run = _Run(
        config, daily, train_dates, cache, samples, alpha, alpha_reason, simulated, models_origin
    )
    # 4. the checks of the inputs, then adapt
    checks = _check_inputs(run, pretrained, warnings)
    adapted = _adapt(run, pretrained, progress.sub(*stages.ADAPT), progress)
    # 5. the maps, written before the validation
    maps = _write_maps(run, adapted, progress.sub(*stages.MAP), warnings)
    # 6. the validation
    validation = _validate(run, pretrained, adapted, progress.sub(*stages.VALIDATE), warnings)
    _write_blended(run, maps, validation, progress.sub(*stages.BLEND))
    # 7. the manifest and the adapted ensemble
    manifest = _manifest(run, adapted, maps, pretrained, checks)
    manifest["smap_blend"] = validation["smap_blend"]["map"]  # a saved ensemble blends with it
    ensemble_dir = _save_adapted(run, adapted, manifest, progress)
    # 8. the report
    progress.message("Writing the report")
    report_sub = progress.sub(*stages.REPORT)
    report = _write_report(run, adapted, maps, validation, checks, warnings, report_sub)
    # 9. the manifest, last: it lists only what exists
    manifest_path = _write_manifest(config.out_dir, manifest, *report)
    progress.fraction(1.0)
    progress.message(f"Done: {len(maps.maps)} map(s) in {config.out_dir}")
    return _result(run, maps, validation, manifest, report, manifest_path, ensemble_dir, warnings)


def _read_stations(config: AdaptMapConfig, progress: Progress, warnings: list[str]) -> pd.DataFrame:
    """Step 1: the daily readings of the stations inside the AOI (finetune needs enough)."""
    progress.message("Reading station files")
    daily, w = read_stations_in_aoi(config.stations, config.aoi, progress.sub(0.0, 0.01))
    warnings += w
    check_finetune_stations(config.method, int(daily["key"].nunique()))
    progress.check()
    return daily


def _training_dates(
    config: AdaptMapConfig, source: InputSource, daily: pd.DataFrame, progress: Progress
) -> list[dt.date]:
    """Step 2: the Sentinel-1 dates of the training period with station readings.

    The map dates are checked on the way: one without an acquisition fails here, naming the
    nearest dates that have one.
    """
    window9 = config.aoi.window9()
    train_start, train_end = config.training_period
    progress.message("Listing Sentinel-1 acquisitions")
    acq_dates = list_acquisition_dates(source, window9, train_start, train_end, progress)
    check_map_dates(source, window9, config.dates, set(acq_dates), progress)
    station_dates = set(daily["date"])
    train_dates = [d for d in acq_dates if d in station_dates]
    if not train_dates:
        first, last = min(station_dates), max(station_dates)
        raise NoDataError(
            f"no Sentinel-1 acquisition of the training period {train_start}..{train_end} falls "
            f"on a day with station readings (stations report {first}..{last}); set "
            "--train-start/--train-end to a period the stations cover."
        )
    return train_dates


def _stages(config: AdaptMapConfig, daily: pd.DataFrame, train_dates: list[dt.date]) -> Stages:
    """The progress bar's share of each stage, from the run's size."""
    return Stages(
        config,
        len(train_dates),
        int(daily["date"].isin(set(train_dates)).sum()),
        int(daily["key"].nunique()),
    )


def _load_pretrained(
    config: AdaptMapConfig, progress: Progress, warnings: list[str]
) -> tuple[Any, str]:
    """The pretrained ensemble, verified once (origin and weights); a modified set warns."""
    from ..model.ensemble import Ensemble
    from ..model.store import load_model_set

    progress.message(f"Loading the pretrained ensemble {config.models!r}")
    model_set = load_model_set(config.models)  # verified once: origin and weights
    pretrained = Ensemble.from_model_set(model_set, device=config.device)
    return pretrained, models_origin(model_set, warnings)


def _check_inputs(run: _Run, pretrained: Any, warnings: list[str]) -> dict[str, Any]:
    """Step 4, first: the input health and the 9 km self-check (their warnings join the run's)."""
    s = run.samples
    checks = input_checks(
        pretrained, s.labelled, s.coarse_x, s.coarse_y, s.target_x, s.target_counts
    )
    warnings += checks["warnings"]
    return checks


def _adapt(run: _Run, pretrained: Any, sub: Progress, progress: Progress) -> _Adapted:
    """Step 4: adapt the pretrained members once for all map dates (not for ``pretrained``)."""
    config, samples = run.config, run.samples
    if config.method == "pretrained":
        progress.check()
        return _Adapted(pretrained)
    from ..adaptation.train import adapt

    progress.message(
        f"Adapting {len(pretrained.member_names)} members ({config.method}, "
        f"{config.epochs} epochs, {len(samples.labelled)} station samples)"
    )
    result = adapt(
        pretrained,
        samples.labelled.x,
        samples.labelled.y,
        *samples.coarse,
        samples.target_x,
        config=adapt_config(config, run.alpha, config.epochs, config.seed),
        progress=sub,
        consistency=samples.consistency,
    )
    progress.check()
    return _Adapted(
        result.ensemble,
        betas={k: float(v) for k, v in (result.betas or {}).items()},
        record=result.provenance(),
        history=result.history,
    )


def _write_maps(run: _Run, adapted: _Adapted, progress: Progress, warnings: list[str]) -> _Maps:
    """Step 5: map every date and write the GeoTIFFs, tagged with the run's settings."""
    config = run.config
    tags = map_tags(config.method, run.alpha, adapted.betas, config.models, run.simulated)
    smaps: dict[dt.date, F32] = {}
    truths: dict[dt.date, F32] = {}
    maps, reproj, stats, w, quicklook = write_maps(
        adapted.ensemble,
        config.aoi,
        run.cache,
        config.dates,
        config.out_dir,
        tags,
        config.tile_9km,
        config.reproject_crs,
        progress,
        smaps,
        truths,
    )
    warnings += w
    return _Maps(maps, reproj, stats, quicklook, tags=tags, smaps=smaps, truths=truths)


def _write_blended(run: _Run, maps: _Maps, validation: dict[str, Any], progress: Progress) -> None:
    """Step 6: the SMAP blend of every map, when the validation fitted its weight."""
    record = validation["smap_blend"]["map"]
    if record is None or not maps.maps:
        return
    config = run.config
    maps.blended, maps.blended_reprojected, stats = write_blended_maps(
        maps.maps,
        config.aoi,
        maps.smaps,
        record["weight"],
        maps.tags,
        config.reproject_crs,
        progress,
        maps.truths,
    )
    for day, entry in stats.items():
        maps.stats[day]["smap_blend"] = entry


def _validate(
    run: _Run, pretrained: Any, adapted: _Adapted, progress: Progress, warnings: list[str]
) -> dict[str, Any]:
    """Step 6: station validation; for simulated scenes, the map error on the target cells."""
    s = run.samples
    validation = validate_stations(
        run.config,
        s,
        pretrained,
        adapted.ensemble,
        run.alpha,
        progress,
    )
    warnings += validation.pop("warnings", [])
    if s.target_truth is not None and run.config.method != "pretrained":
        validation["map_error_sample"] = map_error_sample(
            pretrained,
            adapted.ensemble,
            s.target_x,
            s.target_truth,
            s.target_smap,
            validation["smap_blend"],
        )
    return validation


def _manifest(
    run: _Run, adapted: _Adapted, maps: _Maps, pretrained: Any, checks: dict[str, Any]
) -> dict[str, Any]:
    """Step 7: the run's manifest (its outputs completed as they are written)."""
    s = run.samples
    manifest = run_manifest(
        run.config,
        run.daily,
        s.labelled,
        s.coarse_y,
        s.target_counts,
        run.train_dates,
        run.cache,
        run.alpha,
        run.alpha_reason,
        adapted.betas,
        maps.maps,
        maps.reprojected,
        run.simulated,
    )
    manifest["adaptation"] = adapted.record
    out_dir = run.config.out_dir
    manifest["outputs"]["maps_smap_blend"] = {
        d.isoformat(): str(p.relative_to(out_dir)) for d, p in maps.blended.items()
    }
    manifest["outputs"]["reprojected_smap_blend"] = {
        d.isoformat(): str(p.relative_to(out_dir)) for d, p in maps.blended_reprojected.items()
    }
    cset = s.consistency if run.config.uses_consistency else None
    manifest["samples"]["consistency_50m"] = (
        None if cset is None else {"cells": len(cset.x), "groups": cset.n_groups}
    )
    manifest["models_origin"] = run.models_origin
    manifest["input_layout"] = pretrained.input_layout.name
    manifest["input_checks"] = {k: v for k, v in checks.items() if k != "warnings"}
    return manifest


def _save_adapted(
    run: _Run, adapted: _Adapted, manifest: dict[str, Any], progress: Progress
) -> Path | None:
    """Step 7: save the adapted ensemble under ``ensemble/`` (None for ``pretrained``)."""
    if run.config.method == "pretrained":
        return None
    progress.message("Saving the adapted ensemble")
    ensemble_dir = run.config.out_dir / "ensemble"
    save_ensemble(adapted.ensemble, ensemble_dir, manifest)
    manifest["outputs"]["ensemble"] = "ensemble"
    return ensemble_dir


def _write_report(
    run: _Run,
    adapted: _Adapted,
    maps: _Maps,
    validation: dict[str, Any],
    checks: dict[str, Any],
    warnings: list[str],
    progress: Progress,
) -> tuple[Path, Path]:
    """Step 8: the report (HTML + JSON + charts) and the files beside it."""
    s = run.samples
    return write_run_report(
        run.config.out_dir / "report",
        config=run.config,
        samples=s.labelled,
        validation=validation,
        map_stats=maps.stats,
        quicklook=maps.quicklook,
        train_dates=run.train_dates,
        n_coarse=int(len(s.coarse_y)),
        n_target=int(s.target_x.shape[0]),
        alpha=run.alpha,
        alpha_reason=run.alpha_reason,
        betas=adapted.betas,
        simulated=run.simulated,
        warnings=warnings,
        history=adapted.history,
        progress=progress,
        checks=checks,
    )


def _write_manifest(
    out_dir: Path, manifest: dict[str, Any], report_html: Path | None, report_json: Path
) -> Path:
    """Step 9: write ``manifest.json`` last, listing only the outputs that exist."""
    manifest["outputs"]["report"] = {
        "html": str(report_html.relative_to(out_dir)) if report_html is not None else None,
        "json": str(report_json.relative_to(out_dir)),
    }
    manifest["outputs"] = existing_outputs(manifest["outputs"], out_dir)
    manifest_path = out_dir / "manifest.json"
    write_text(manifest_path, to_json(manifest))
    return manifest_path


def _result(
    run: _Run,
    maps: _Maps,
    validation: dict[str, Any],
    manifest: dict[str, Any],
    report: tuple[Path, Path],
    manifest_path: Path,
    ensemble_dir: Path | None,
    warnings: list[str],
) -> AdaptMapResult:
    """What the run hands back: paths, metrics (validation, maps, input checks), settings."""
    metrics = {k: v for k, v in validation.items() if k not in ("pairs", "reports", "pair_columns")}
    metrics["maps"] = maps.stats
    metrics["input_checks"] = manifest["input_checks"]
    return AdaptMapResult(
        out_dir=run.config.out_dir,
        maps=maps.maps,
        report_html=report[0],
        report_json=report[1],
        manifest=manifest_path,
        ensemble_dir=ensemble_dir,
        metrics=metrics,
        alpha=run.alpha,
        alpha_reason=run.alpha_reason,
        warnings=warnings,
        reprojected=maps.reprojected,
        blended=maps.blended,
        blended_reprojected=maps.blended_reprojected,
        simulated=run.simulated,
        n_samples=len(run.samples.labelled),
        n_stations=len(run.samples.labelled.stations),
    )
