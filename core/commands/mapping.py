"""``soilmoisture adapt-map | demo | map | validate | batch``: the mapping commands.

* ``adapt-map``: adapt DenseSM-E to an AOI with its stations and map one or more dates;
* ``demo``: the same on the simulated demo scene (what ``make demo`` runs);
* ``map``: map new dates with a saved adapted ensemble (no retraining);
* ``validate``: validate any soil-moisture GeoTIFF against station files;
* ``batch``: many runs from a CSV/YAML file, locally or on a Dask cluster.

Every long command draws a progress bar on stderr; the first Ctrl-C asks the run to stop at the
next check (no half-written GeoTIFF is left behind), a second one interrupts at once.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..inputs.aoi import MAX_AOI_KM2
from ._checks import date_arg

DEMO_MAP_DATE = dt.date(2020, 9, 1)
"""The demo maps the simulated Sentinel-1 acquisition closest to this date."""


def _date_list(text: str) -> list[dt.date]:
    return [date_arg(t) for t in text.split(",") if t.strip()]


def _date_range(text: str) -> tuple[dt.date, dt.date]:
    parts = text.split(":")
    if len(parts) != 2:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a range; use START:END (YYYY-MM-DD:YYYY-MM-DD)"
        )
    return date_arg(parts[0]), date_arg(parts[1])


def _add_dates(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--date", type=date_arg, metavar="YYYY-MM-DD", help="one map date")
    group.add_argument("--dates", type=_date_list, metavar="D1,D2,...", help="several map dates")
    group.add_argument(
        "--date-range",
        type=_date_range,
        metavar="START:END",
        help="every Sentinel-1 acquisition date from START to END (inclusive)",
    )


def _resolve_dates(args: argparse.Namespace, aoi: Any, progress: Any) -> list[dt.date]:
    from ..run.pipeline import acquisition_dates_between

    if args.date is not None:
        return [args.date]
    if args.dates:
        return list(args.dates)
    start, end = args.date_range
    return acquisition_dates_between(args.source, aoi, start, end, progress)


def _sources() -> list[str]:
    from ..inputs.sources.base import available_sources

    return available_sources()


def register(subparsers: Any) -> None:
    """Add the mapping commands to the CLI.

    Args:
        subparsers: the object returned by ``ArgumentParser.add_subparsers``.

    """
    from ..run.pipeline import DEFAULT_EPOCH_STEPS, METHODS

    # -- adapt-map -----------------------------------------------------------------------------
    p = subparsers.add_parser(
        "adapt-map",
        help="adapt DenseSM-E to an area with its stations and map soil moisture at 50 m",
        description=(
            "Adapt the 25 pretrained DenseSM models to the AOI (multi-scale domain adaptation), "
            "write a 50 m soil-moisture GeoTIFF per date, the adapted ensemble with its manifest "
            "and a validation report (leave-one-station-out)."
        ),
    )
    p.add_argument(
        "--aoi",
        required=True,
        help="vector file, 'W,S,E,N' in lon/lat (write --aoi=-97.5,36.6,-97.4,36.7 when W is "
        "negative) or WKT",
    )
    p.add_argument(
        "--max-area-km2",
        type=float,
        default=MAX_AOI_KM2,
        help="largest AOI accepted, km2 (default %(default)g: 50 x 50 km)",
    )
    p.add_argument(
        "--stations",
        required=True,
        nargs="+",
        type=Path,
        metavar="FILE",
        help="ISMN files/zip or station CSVs",
    )
    _add_dates(p)
    p.add_argument("--out", required=True, type=Path, metavar="DIR", help="output folder")
    p.add_argument("--source", default="gee", help="input source: gee or demo (default gee)")
    p.add_argument(
        "--method", default="msda", choices=METHODS, help="adaptation method (default msda)"
    )
    p.add_argument(
        "--alpha",
        type=float,
        default=None,
        help="weight of the 50 m loss (default 0.7, or 0.5 with 5 stations or fewer)",
    )
    p.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    p.add_argument(
        "--train-start",
        type=date_arg,
        default=None,
        metavar="YYYY-MM-DD",
        help="first day of the training period (default: 365 days before --train-end)",
    )
    p.add_argument(
        "--train-end",
        type=date_arg,
        default=None,
        metavar="YYYY-MM-DD",
        help="last day of the training period (default: the first map date)",
    )
    p.add_argument("--epochs", type=int, default=50, help="adaptation epochs (default 50)")
    p.add_argument(
        "--epoch-steps",
        type=int,
        default=DEFAULT_EPOCH_STEPS,
        help="fewest optimizer steps of an epoch: with few station samples an epoch draws them "
        f"again until it has taken this many (default {DEFAULT_EPOCH_STEPS}). Every "
        "cross-validation fold is adapted exactly like the final ensemble",
    )
    p.add_argument(
        "--cv-folds",
        type=int,
        default=None,
        help="k folds of whole stations instead of leave-one-station-out",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument(
        "--models", default="densesm_9km", help="pretrained model set (default densesm_9km)"
    )
    p.add_argument(
        "--reproject",
        default=None,
        metavar="EPSG:xxxx",
        help="also write each map reprojected to this CRS",
    )
    p.add_argument("--no-cv", action="store_true", help="skip the held-out validation (faster)")
    p.add_argument(
        "--no-baselines", action="store_true", help="skip the random forest and XGBoost baselines"
    )
    p.add_argument(
        "--max-target-cells",
        type=int,
        default=200_000,
        help="largest unlabelled target subset for the domain loss (default 200000)",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="print the Earth Engine requests the run would make (count, bands, pixels, bytes "
        "per request) and stop; nothing is sent",
    )
    p.set_defaults(func=_adapt_map)

    # -- demo ----------------------------------------------------------------------------------
    d = subparsers.add_parser(
        "demo",
        help="run adapt-map on the SIMULATED demo scene (no account needed)",
        description=(
            "Write the simulated demo stations and run adapt-map on the demo AOI. Every number "
            "is SIMULATED. The adaptation schedule is the method's own (50 epochs of at least "
            f"{DEFAULT_EPOCH_STEPS} steps), for the final ensemble and each cross-validation "
            "fold alike, so the report's held-out numbers are those of the map's model."
        ),
    )
    d.add_argument("--out", required=True, type=Path, metavar="DIR", help="output folder")
    d.add_argument("--epochs", type=int, default=50, help="adaptation epochs (default 50)")
    d.add_argument(
        "--epoch-steps",
        type=int,
        default=DEFAULT_EPOCH_STEPS,
        help=f"fewest optimizer steps of an epoch (default {DEFAULT_EPOCH_STEPS})",
    )
    d.add_argument("--method", default="msda", choices=METHODS, help="adaptation method")
    d.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    d.add_argument(
        "--seed",
        type=int,
        default=0,
        help="random seed of the adaptation, folds and baselines (default 0); the simulated "
        "scene and its stations are always the demo source's own",
    )
    d.add_argument("--models", default="densesm_9km", help="pretrained model set")
    d.add_argument("--no-cv", action="store_true", help="skip the held-out validation")
    d.set_defaults(func=_demo)

    # -- map -----------------------------------------------------------------------------------
    m = subparsers.add_parser(
        "map",
        help="map new dates with a saved adapted ensemble (no retraining)",
        description="Map dates (or another AOI) with an ensemble saved by adapt-map.",
    )
    m.add_argument(
        "--ensemble",
        required=True,
        type=Path,
        metavar="DIR",
        help="the ensemble folder (OUT/ensemble of adapt-map) or a model set name",
    )
    m.add_argument(
        "--aoi", required=True, help="vector file, bbox (--aoi=W,S,E,N when negative) or WKT"
    )
    m.add_argument(
        "--max-area-km2",
        type=float,
        default=MAX_AOI_KM2,
        help="largest AOI accepted, km2 (default %(default)g: 50 x 50 km)",
    )
    _add_dates(m)
    m.add_argument("--out", required=True, type=Path, metavar="DIR", help="output folder")
    m.add_argument("--source", default="gee", help="input source: gee or demo (default gee)")
    m.add_argument("--device", default="cpu", help="cpu or cuda")
    m.add_argument(
        "--reproject",
        default=None,
        metavar="EPSG:xxxx",
        help="also write each map reprojected to this CRS",
    )
    m.set_defaults(func=_map)

    # -- validate ------------------------------------------------------------------------------
    v = subparsers.add_parser(
        "validate",
        help="validate a soil-moisture GeoTIFF against station files",
        description=(
            "Compare a soil-moisture raster (band 1, m3/m3, any CRS) with the stations' daily "
            "0-5 cm readings on the raster's date (its 'date' tag, or --date)."
        ),
    )
    v.add_argument("--raster", required=True, type=Path, metavar="R.tif")
    v.add_argument("--stations", required=True, nargs="+", type=Path, metavar="FILE")
    v.add_argument("--date", type=date_arg, default=None, help="the raster's date if it has no tag")
    v.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="write validation.json and a scatter chart here",
    )
    v.set_defaults(func=_validate)

    # -- batch ---------------------------------------------------------------------------------
    b = subparsers.add_parser(
        "batch",
        help="run many adapt-map jobs from a CSV or YAML file",
        description=(
            "Run every job of a batch file (columns/keys: name, aoi, stations, dates, method, "
            "alpha, source, ...). A failed job is reported and does not stop the others. Jobs run "
            "on a Dask cluster: an existing scheduler (--scheduler) or a local cluster of worker "
            "processes (--workers)."
        ),
    )
    b.add_argument("jobs", type=Path, metavar="JOBS.csv|JOBS.yaml")
    b.add_argument("--out", required=True, type=Path, metavar="DIR", help="output folder")
    where = b.add_mutually_exclusive_group()
    where.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="address of a running Dask scheduler (tcp://host:8786)",
    )
    where.add_argument(
        "--workers",
        type=int,
        default=None,
        help="local worker processes (default: CPU cores, at most the jobs)",
    )
    where.add_argument(
        "--serial",
        action="store_true",
        help="run the jobs one after the other in this process (no Dask)",
    )
    b.add_argument(
        "--epochs", type=int, default=None, help="adaptation epochs for jobs that do not set them"
    )
    b.set_defaults(func=_batch)


def _adapt_map(args: argparse.Namespace) -> int:
    from ..atomic import check_output_dir
    from ..inputs.aoi import parse_aoi
    from ..run.pipeline import AdaptMapConfig, run_adapt_map
    from . import _checks
    from ._progress import TerminalProgress

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
    from ..inputs.sources.earthengine import request_plan
    from ..run.pipeline import TRAINING_DAYS

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
    if result.report_html is not None:
        print(f"report: {result.report_html}")
    print(f"report data: {result.report_json}")
    if result.ensemble_dir is not None:
        print(f"adapted ensemble: {result.ensemble_dir}")
    print(f"manifest: {result.manifest}")
    for w in result.warnings:
        print(f"warning: {w}")


def _demo(args: argparse.Namespace) -> int:
    from ..atomic import check_output_dir
    from ..inputs.aoi import AOI
    from ..inputs.sources.demo import (
        DEMO_AOI_BBOX,
        DemoSource,
        acquisition_dates,
        write_demo_stations,
    )
    from ..run.pipeline import AdaptMapConfig, run_adapt_map
    from . import _checks
    from ._progress import TerminalProgress

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
        cross_validate=not args.no_cv,
    )
    with TerminalProgress() as progress:
        result = run_adapt_map(config, progress)
    _print_result(result)
    print("All demo data are SIMULATED.")
    return 0


def _map(args: argparse.Namespace) -> int:
    from ..atomic import check_output_dir
    from ..inputs.aoi import parse_aoi
    from ..run.pipeline import run_map_with_ensemble
    from . import _checks
    from ._progress import TerminalProgress

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
    for w in result.warnings:
        print(f"warning: {w}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from ..atomic import check_output_dir
    from ..run.pipeline import validate_raster
    from . import _checks
    from ._progress import TerminalProgress

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
    from ..atomic import check_output_dir
    from ..run.batch import format_summary, read_jobs, run_batch
    from ._progress import TerminalProgress

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
