"""What the mapping commands do once their arguments are parsed: check, run, print.

Each handler checks its inputs before any work (so a typo fails at once), runs the engine under a
terminal progress bar and prints where the results went; it returns the exit status.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

from ...errors import InputError

DEMO_MAP_DATE = dt.date(2020, 9, 1)
"""The demo maps the simulated Sentinel-1 acquisition closest to this date."""


def _resolve_dates(args: argparse.Namespace, aoi: Any, progress: Any) -> list[dt.date]:
    from ...run.dates import acquisition_dates_between

    if args.date is not None:
        return [args.date]
    if args.dates:
        return list(args.dates)
    start, end = args.date_range
    return acquisition_dates_between(args.source, aoi, start, end, progress)


def _adapt_map(args: argparse.Namespace) -> int:
    from ...atomic import check_output_dir
    from ...inputs.aoi import parse_aoi
    from ...run.adapt_map import run_adapt_map
    from ...run.config import AdaptMapConfig
    from .. import _checks
    from .._progress import TerminalProgress

    aoi = parse_aoi(args.aoi, limit_km2=args.max_area_km2)
    if args.dry_run:
        return _dry_run(args, aoi)
    check_output_dir(args.out, subfolders=("maps", "report", "ensemble"))
    _checks.station_inputs(args.stations)
    _checks.model_set(args.models)
    _checks.period(args.train_start, args.train_end)
    _checks.dates(_given_dates(args))
    with TerminalProgress() as progress:
        dates = _resolve_dates(args, aoi, progress)
        config = AdaptMapConfig(
            aoi=aoi,
            stations=tuple(args.stations),
            dates=tuple(dates),
            out_dir=args.out,
            source=args.source,
            method=args.method,
            alpha=args.alpha,
            device=args.device,
            train_start=args.train_start,
            train_end=args.train_end,
            models=args.models,
            seed=args.seed,
            epochs=args.epochs,
            min_epoch_steps=args.epoch_steps,
            batchnorm=args.batchnorm,
            consistency=args.consistency,
            cv_folds=args.cv_folds,
            reproject_crs=args.reproject,
            cross_validate=not args.no_cv,
            baselines=not args.no_baselines,
            max_target_cells=args.max_target_cells,
        )
        result = run_adapt_map(config, progress)
    _print_result(result)
    return 0


def _dry_run(args: argparse.Namespace, aoi: Any) -> int:
    """Print the request plan of a ``gee`` run (nothing is sent, nothing is written)."""
    from ...inputs.sources.ee.scene_requests import request_plan
    from ...run.config import TRAINING_DAYS

    if args.source != "gee":
        print(f"--dry-run: the {args.source} source makes no Earth Engine requests")
        return 0
    dates = _given_dates(args)
    end = args.train_end or dates[0]
    start = args.train_start or end - dt.timedelta(days=TRAINING_DAYS)
    if args.date_range:
        print("map dates: every Sentinel-1 date of the range (one scene each)")
    print(request_plan(aoi.window9(), (start, end), dates))
    return 0


def _given_dates(args: argparse.Namespace) -> list[dt.date]:
    """The dates written on the command line (a range's two ends)."""
    if args.date is not None:
        return [args.date]
    if args.dates:
        return list(args.dates)
    start, end = args.date_range
    if end < start:
        raise InputError(f"--date-range {start}:{end} ends before it starts; swap the dates")
    return [start, end]


def _print_result(result: Any) -> None:
    if result.simulated:
        print(
            "NOTE: the inputs are SIMULATED (demo source): these are not real soil moisture maps."
        )
    for day, path in sorted(result.maps.items()):
        print(f"map {day.isoformat()}: {path}")
        if day in result.reprojected:
            print(f"    reprojected: {result.reprojected[day]}")
        if day in result.blended:
            print(f"    blended with SMAP 9 km: {result.blended[day]}")
        if day in result.blended_reprojected:
            print(f"    blend reprojected: {result.blended_reprojected[day]}")
    blend = (result.metrics.get("smap_blend") or {}).get("map")
    if blend is not None:
        better = "the blend" if blend["recommended"] == "blend" else "the map itself"
        print(f"SMAP blend weight {blend['weight']:.2f}; {better} did better at held-out stations")
    elif "smap_blend" in result.metrics:
        why = result.metrics["smap_blend"].get("why_not") or "no held-out predictions"
        print(f"no SMAP blend: {why}")
    alpha = "n/a" if result.alpha is None else f"{result.alpha:g}"
    print(f"alpha = {alpha} ({result.alpha_reason})")
    methods = result.metrics.get("methods", {})
    for key, entry in methods.items():
        rmse = (entry.get("pooled") or {}).get("rmse")
        if rmse is not None:
            print(f"station RMSE {entry.get('label', key)}: {rmse:.3f} m3/m3")
    cv = result.metrics.get("cv", {})
    if cv.get("message"):
        print(cv["message"])
    for day, stats in sorted(result.metrics.get("maps", {}).items()):
        err = stats.get("error_vs_truth")
        if err and err.get("rmse") is not None:
            print(f"map {day} RMSE against the simulated truth: {err['rmse']:.3f} m3/m3")
        err = (stats.get("smap_blend") or {}).get("error_vs_truth")
        if err and err.get("rmse") is not None:
            print(f"map {day} blended with SMAP, RMSE against the truth: {err['rmse']:.3f} m3/m3")
    if result.report_html is not None:
        print(f"report: {result.report_html}")
    print(f"report data: {result.report_json}")
    if result.ensemble_dir is not None:
        print(f"adapted ensemble: {result.ensemble_dir}")
    print(f"manifest: {result.manifest}")
    for w in result.warnings:
        print(f"warning: {w}")


def _demo(args: argparse.Namespace) -> int:
    from ...atomic import check_output_dir
    from ...inputs.aoi import AOI
    from ...inputs.sources.demo import (
        DEMO_AOI_BBOX,
        DemoSource,
        acquisition_dates,
        write_demo_stations,
    )
    from ...run.adapt_map import run_adapt_map
    from ...run.config import AdaptMapConfig
    from .. import _checks
    from .._progress import TerminalProgress

    out: Path = args.out
    check_output_dir(out, subfolders=("stations", "maps", "report", "ensemble"))
    _checks.model_set(args.models)
    # the stations sample the same simulated world as the scenes the demo source delivers
    stations = write_demo_stations(out / "stations", seed=DemoSource().seed)
    aoi = AOI.from_bbox(*DEMO_AOI_BBOX, name="demo AOI (simulated)")
    day = min(acquisition_dates(), key=lambda d: abs((d - DEMO_MAP_DATE).days))
    print(
        f"Demo: SIMULATED scene and stations ({len(stations)} station files in "
        f"{out / 'stations'}); "
        f"mapping {day.isoformat()} with {args.method}, {args.epochs} epochs."
    )
    config = AdaptMapConfig(
        aoi=aoi,
        stations=tuple(stations),
        dates=(day,),
        out_dir=out,
        source="demo",
        method=args.method,
        device=args.device,
        models=args.models,
        seed=args.seed,
        epochs=args.epochs,
        min_epoch_steps=args.epoch_steps,
        batchnorm=args.batchnorm,
        consistency=args.consistency,
        cross_validate=not args.no_cv,
    )
    with TerminalProgress() as progress:
        result = run_adapt_map(config, progress)
    _print_result(result)
    print("All demo data are SIMULATED.")
    return 0


def _map(args: argparse.Namespace) -> int:
    from ...atomic import check_output_dir
    from ...inputs.aoi import parse_aoi
    from ...run.map_ensemble import run_map_with_ensemble
    from .. import _checks
    from .._progress import TerminalProgress

    aoi = parse_aoi(args.aoi, limit_km2=args.max_area_km2)
    check_output_dir(args.out, subfolders=("maps",))
    _checks.model_set(args.ensemble)
    _checks.dates(_given_dates(args))
    with TerminalProgress() as progress:
        dates = _resolve_dates(args, aoi, progress)
        result = run_map_with_ensemble(
            args.ensemble,
            aoi,
            dates,
            args.out,
            source=args.source,
            progress=progress,
            device=args.device,
            reproject_crs=args.reproject,
        )
    if result.simulated:
        print("NOTE: the inputs are SIMULATED (demo source).")
    for day, path in sorted(result.maps.items()):
        print(f"map {day.isoformat()}: {path}")
        if day in result.reprojected:
            print(f"    reprojected: {result.reprojected[day]}")
        err = result.map_error.get(day.isoformat(), {}).get("error_vs_truth")
        if err and err.get("rmse") is not None:
            print(f"    RMSE against the simulated truth: {err['rmse']:.3f} m3/m3")
        if day in result.blended:
            print(f"    blended with SMAP 9 km: {result.blended[day]}")
            err = (result.map_error.get(day.isoformat(), {}).get("smap_blend") or {}).get(
                "error_vs_truth"
            )
            if err and err.get("rmse") is not None:
                print(f"    blend's RMSE against the simulated truth: {err['rmse']:.3f} m3/m3")
    for w in result.warnings:
        print(f"warning: {w}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from ...atomic import check_output_dir
    from ...run.raster_check import validate_raster
    from .. import _checks
    from .._progress import TerminalProgress

    _checks.input_file(args.raster, "--raster")
    _checks.station_inputs(args.stations)
    if args.out is not None:
        check_output_dir(args.out)
    with TerminalProgress() as progress:
        result = validate_raster(
            args.raster, args.stations, args.out, date=args.date, progress=progress
        )
    pooled = result.metrics.pooled
    print(f"{args.raster} on {result.date.isoformat()}: {int(pooled['n'])} station(s)")
    for key in ("bias", "rmse", "ubrmse", "r"):
        value = pooled.get(key)
        print(
            f"  {key:7s} {value:.3f}" if value is not None and value == value else f"  {key:7s} n/a"
        )
    if result.report_json is not None:
        print(f"details: {result.report_json}")
    for w in result.warnings:
        print(f"warning: {w}")
    return 0


def _batch(args: argparse.Namespace) -> int:
    from ...atomic import check_output_dir
    from ...run.batch import format_summary, read_jobs, run_batch
    from .._progress import TerminalProgress

    check_output_dir(args.out)
    jobs = read_jobs(args.jobs, defaults={"epochs": args.epochs} if args.epochs else None)
    if not jobs:
        raise InputError(f"batch file {str(args.jobs)!r} holds no job")
    with TerminalProgress() as progress:
        results = run_batch(
            jobs,
            args.out,
            scheduler=args.scheduler,
            n_workers=args.workers,
            local=args.serial,
            progress=progress,
        )
    print(format_summary(results))
    failed = sum(1 for r in results if r.status != "ok")
    return 0 if not failed else 3
