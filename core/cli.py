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
import sys
from collections.abc import Sequence

from . import __version__
from .errors import Cancelled, SoilMoistureError

COMMAND_MODULES = ("models", "samples", "stations", "inputs", "mapping")


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every registered sub-command."""
    parser = argparse.ArgumentParser(
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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
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
        print(
            "soilmoisture: error: out of memory. Use a smaller AOI or batch size, or close other "
            "programs; nothing half-written was kept.",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
