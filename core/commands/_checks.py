"""Checks that commands run before any work, so that a run that must fail fails at once."""

from __future__ import annotations

import argparse
import datetime as dt
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from ..adaptation.methods import BATCHNORM_MODES, check_consistency_weight
from ..errors import InputError
from ..inputs.sources.base import check_sentinel1_era


def date_arg(text: str) -> dt.date:
    """An argparse type: a ``YYYY-MM-DD`` date."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; use YYYY-MM-DD") from None


def station_inputs(paths: Iterable[str | os.PathLike[str]], option: str = "--stations") -> None:
    """Every station input exists (file, folder or zip).

    Raises:
        InputError: naming the first missing input.

    """
    for p in paths:
        if not Path(p).exists():
            raise InputError(
                f"{option}: station input {os.fspath(p)!r} does not exist; give ISMN files, "
                "folders or zip archives, or station CSVs"
            )


def input_file(path: str | os.PathLike[str], option: str) -> None:
    """An input file exists and is a file.

    Raises:
        InputError: missing, or a folder.

    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"{option} {os.fspath(p)!r} does not exist; check the path")
    if p.is_dir():
        raise InputError(f"{option} {os.fspath(p)!r} is a folder; give the file")


def model_set(name_or_path: str | os.PathLike[str]) -> None:
    """The model set can be opened and its files match their checksums; say where it is from.

    Raises:
        ModelStoreError: unknown name, not a model-set folder, or a corrupt member.

    """
    from ..model.store import load_model_set
    from .models import say_origin

    say_origin(load_model_set(name_or_path))


def dates(days: Sequence[dt.date], option: str = "--date") -> None:
    """Map dates lie in the Sentinel-1 era and not in the future.

    Raises:
        InputError: naming the first date outside.

    """
    check_sentinel1_era(days, option)


def period(start: dt.date | None, end: dt.date | None) -> None:
    """A training period whose start is not after its end.

    Raises:
        InputError: start after end, or a bound outside the Sentinel-1 record.

    """
    if start is not None and end is not None and start > end:
        raise InputError(f"--train-start {start} is after --train-end {end}; swap them")
    dates([d for d in (start, end) if d is not None], "training period bound")


def new_folder(path: str | os.PathLike[str], option: str = "--out") -> None:
    """The output folder of a model set must not exist yet (a set is never overwritten).

    Raises:
        InputError: it exists, is a file, or cannot be created.

    """
    from ..atomic import check_output_dir

    check_output_dir(path, option)
    if Path(path).exists():
        raise InputError(
            f"{option} {os.fspath(path)!r} already exists; choose a new folder for the model "
            "set, or remove the old one first"
        )


def add_batchnorm_option(p: argparse.ArgumentParser, default: str) -> None:
    """``--batchnorm``: how BatchNorm normalises during adaptation (adapt, adapt-map, demo)."""
    p.add_argument(
        "--batchnorm",
        default=default,
        choices=BATCHNORM_MODES,
        help="BatchNorm in adaptation: 'pretrained' keeps the pretrained statistics (only the "
        "weights learn); 'batch' normalises training batches by their own statistics (the "
        f"method as published). Default {default!r}; see the README",
    )


def add_consistency_option(p: argparse.ArgumentParser, default: float) -> None:
    """``--consistency``: weight of the 9 km consistency term (adapt-map, demo)."""

    def weight(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        try:
            check_consistency_weight(value)
        except InputError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return value

    p.add_argument(
        "--consistency",
        type=weight,
        default=default,
        metavar="W",
        help="weight of the 9 km consistency term: the mean of the 50 m predictions of each "
        "9 km cell is drawn toward its SMAP value on every training date (MS and MSDA). "
        f"0 is the method as published (default {default:g}; see the README)",
    )
