"""The arguments of the mapping commands: one function per sub-command adds its parser.

:func:`register` adds ``adapt-map``, ``demo``, ``map``, ``validate`` and ``batch`` in this order
(the order of ``soilmoisture --help``); each parser's ``func`` is its handler in
:mod:`.handlers`.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

from ...inputs.aoi import MAX_AOI_KM2
from .._checks import add_batchnorm_option, add_consistency_option, date_arg
from .handlers import _adapt_map, _batch, _demo, _map, _validate


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


def register(subparsers: Any) -> None:
    """Add the mapping commands to the CLI.

    Args:
        subparsers: the object returned by ``ArgumentParser.add_subparsers``.

    """
    from ...run.config import DEFAULT_EPOCH_STEPS, METHODS

    _add_adapt_map(subparsers, METHODS, DEFAULT_EPOCH_STEPS)
    _add_demo(subparsers, METHODS, DEFAULT_EPOCH_STEPS)
    _add_map(subparsers)
    _add_validate(subparsers)
    _add_batch(subparsers)


def _add_adapt_map(subparsers: Any, methods: tuple[str, ...], epoch_steps: int) -> None:
    """``adapt-map``: the area and its inputs, the adaptation, the outputs."""
    p = subparsers.add_parser(
        "adapt-map",
        help="adapt DenseSM-E to an area with its stations and map soil moisture at 50 m",
        description=(
            "Adapt the 25 pretrained DenseSM models to the AOI (multi-scale domain adaptation), "
            "write a 50 m soil-moisture GeoTIFF per date, the adapted ensemble with its manifest "
            "and a validation report (leave-one-station-out)."
        ),
    )
    _add_adapt_map_area(p)
    _add_adapt_map_training(p, methods, epoch_steps)
    _add_adapt_map_outputs(p)
    p.set_defaults(func=_adapt_map)


def _add_adapt_map_area(p: argparse.ArgumentParser) -> None:
    """``adapt-map``: AOI, stations, dates, output folder and input source."""
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


def _add_adapt_map_training(
    p: argparse.ArgumentParser, methods: tuple[str, ...], epoch_steps: int
) -> None:
    """``adapt-map``: method, alpha, device, training period, schedule, folds, seed, models."""
    from ...run.config import DEFAULT_BATCHNORM, DEFAULT_CONSISTENCY

    p.add_argument(
        "--method", default="msda", choices=methods, help="adaptation method (default msda)"
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
        default=epoch_steps,
        help="fewest optimizer steps of an epoch: with few station samples an epoch draws them "
        f"again until it has taken this many (default {epoch_steps}). Every "
        "cross-validation fold is adapted exactly like the final ensemble",
    )
    add_batchnorm_option(p, DEFAULT_BATCHNORM)
    add_consistency_option(p, DEFAULT_CONSISTENCY)
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


def _add_adapt_map_outputs(p: argparse.ArgumentParser) -> None:
    """``adapt-map``: reprojection, what to skip, the domain-loss subset and the dry run."""
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


def _add_demo(subparsers: Any, methods: tuple[str, ...], epoch_steps: int) -> None:
    """``demo``: adapt-map on the simulated demo scene."""
    from ...run.config import DEFAULT_BATCHNORM, DEFAULT_CONSISTENCY

    d = subparsers.add_parser(
        "demo",
        help="run adapt-map on the SIMULATED demo scene (no account needed)",
        description=(
            "Write the simulated demo stations and run adapt-map on the demo AOI. Every number "
            "is SIMULATED. The adaptation schedule is the method's own (50 epochs of at least "
            f"{epoch_steps} steps), for the final ensemble and each cross-validation "
            "fold alike, so the report's held-out numbers are those of the map's model."
        ),
    )
    d.add_argument("--out", required=True, type=Path, metavar="DIR", help="output folder")
    d.add_argument("--epochs", type=int, default=50, help="adaptation epochs (default 50)")
    d.add_argument(
        "--epoch-steps",
        type=int,
        default=epoch_steps,
        help=f"fewest optimizer steps of an epoch (default {epoch_steps})",
    )
    d.add_argument("--method", default="msda", choices=methods, help="adaptation method")
    add_batchnorm_option(d, DEFAULT_BATCHNORM)
    add_consistency_option(d, DEFAULT_CONSISTENCY)
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


def _add_map(subparsers: Any) -> None:
    """``map``: new dates or another AOI with a saved adapted ensemble."""
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


def _add_validate(subparsers: Any) -> None:
    """``validate``: a soil-moisture GeoTIFF against station files."""
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


def _add_batch(subparsers: Any) -> None:
    """``batch``: many adapt-map jobs from a CSV or YAML file, locally or on Dask."""
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
