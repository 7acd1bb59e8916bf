"""The ``soilmoisture`` command line: batch and research face of the engine.

Each group of sub-commands lives in a module of :mod:`core.commands` exposing
``register(subparsers)``; a sub-command sets ``func(args) -> int`` as its default.
User-facing errors (:class:`~core.errors.SoilMoistureError`) print one clear message and exit
with status 2; Ctrl-C exits with 130 after the command has cleaned up.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import re
import sys
import traceback
from collections.abc import Sequence
from typing import Any, NoReturn

from . import __version__
from .errors import OUT_OF_MEMORY, Cancelled, SoilMoistureError, describe_os_error

COMMAND_MODULES = ("models", "samples", "stations", "inputs", "mapping", "eecheck")

_NEGATIVE_VALUE = re.compile(r"^-\.?\d[\d.]*([,;\s]+-?\.?\d[\d.]*)*(@\S+)?$")
"""A value that starts with a minus sign and is a number or a list of numbers (a bounding box
west of Greenwich, ``-97.5,36.6,-97.4,36.7``, optionally ``@EPSG:xxxx``): a value, not an
option."""


class ArgumentParser(argparse.ArgumentParser):
    """The CLI's parser: ``soilmoisture: error:`` lines, negative numbers and bboxes as values."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = _NEGATIVE_VALUE

    def error(self, message: str) -> NoReturn:
        """Print the usage and one ``soilmoisture: error:`` line, exit with status 2."""
        self.print_usage(sys.stderr)
        self.exit(
            2,
            f"soilmoisture: error: {message}\nSee `{self.prog} --help` for the options.\n",
        )


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every registered sub-command."""
    parser = ArgumentParser(
        prog="soilmoisture",
        description="Field-scale soil moisture with DenseSM-E and multi-scale domain adaptation.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="show debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"{__package__}.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__package__}.commands.{name}":
                raise
            continue
        module.register(sub)
    return parser


def _report_unexpected(exc: BaseException, verbose: bool) -> int:
    """One error line for an exception that no check turned into a message (a defect)."""
    last = traceback.extract_tb(exc.__traceback__)[-1:]
    where = f" at {last[0].filename}:{last[0].lineno}" if last else ""
    if verbose:
        traceback.print_exception(exc, file=sys.stderr)
    print(
        f"soilmoisture: error: internal error {type(exc).__name__}: {exc}{where}. Nothing "
        "half-written was kept. This is a defect of the tool: please report it with the command "
        "line (run again with -v for the details).",
        file=sys.stderr,
    )
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit status.

    Every failure ends in one ``soilmoisture: error:`` line and status 2 (130 for a cancel),
    never in a traceback: user errors carry their own message, file-system errors say which
    path and what to do, and anything else is reported as an internal error.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not args.verbose:
        # Dask's loggers are quieted where Dask is imported (it resets them to INFO then)
        logging.getLogger("asyncio").setLevel(logging.WARNING)
    logging.captureWarnings(True)  # library warnings: one log line, not a stack of source lines
    if not getattr(args, "func", None):
        parser.print_help()
        return 1
    try:
        return int(args.func(args) or 0)
    except Cancelled as exc:
        print(f"soilmoisture: {exc}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("soilmoisture: interrupted; no partial output was kept.", file=sys.stderr)
        return 130
    except SoilMoistureError as exc:
        print(f"soilmoisture: error: {exc}", file=sys.stderr)
        return 2
    except MemoryError:
        print(f"soilmoisture: error: {OUT_OF_MEMORY}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"soilmoisture: error: {describe_os_error(exc)}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - the last guard of "no traceback, ever"
        return _report_unexpected(exc, bool(args.verbose))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
