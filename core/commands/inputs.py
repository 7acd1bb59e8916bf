"""``soilmoisture s1-dates`` and ``soilmoisture cache info|clear``: inputs and their cache."""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import InputError
from ..inputs.aoi import MAX_AOI_KM2
from ._checks import date_arg


def register(subparsers: Any) -> None:
    """Add the ``s1-dates`` command and the ``cache`` group to the CLI.

    Args:
        subparsers: the object returned by ``ArgumentParser.add_subparsers``.

    """
    p = subparsers.add_parser(
        "s1-dates",
        help="list the Sentinel-1 acquisitions over an AOI",
        description=(
            "List the Sentinel-1 acquisitions (date, pass, relative orbit, share of the AOI "
            "covered) between two dates, so that a map date with data can be picked."
        ),
    )
    p.add_argument("--aoi", required=True, help="AOI: a vector file, a WKT/GeoJSON or a bbox")
    p.add_argument(
        "--max-area-km2",
        type=float,
        default=MAX_AOI_KM2,
        help="largest AOI accepted, km2 (default %(default)g: 50 x 50 km)",
    )
    p.add_argument("--start", required=True, type=date_arg, help="first date, YYYY-MM-DD")
    p.add_argument("--end", required=True, type=date_arg, help="last date, YYYY-MM-DD (inclusive)")
    p.add_argument("--source", default="gee", help="input source: gee or demo (default gee)")
    p.add_argument("--project", default=None, help="Earth Engine Cloud project (gee only)")
    p.add_argument("--offline", action="store_true", help="answer from the cache only (gee only)")
    p.set_defaults(func=_s1_dates)

    c = subparsers.add_parser(
        "cache",
        help="show or clear the input cache",
        description="The on-disk cache of fetched input arrays (re-runs need no network).",
    )
    sub = c.add_subparsers(dest="cache_command", metavar="ACTION")
    c.set_defaults(func=lambda args: _help(c))
    info = sub.add_parser("info", help="show where the cache is and how big it is")
    info.set_defaults(func=_cache_info)
    clear = sub.add_parser("clear", help="delete every cached array")
    clear.set_defaults(func=_cache_clear)


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 1


def _s1_dates(args: argparse.Namespace) -> int:
    from ..inputs.aoi import parse_aoi
    from ..inputs.sources.base import get_source
    from ._progress import TerminalProgress

    if args.end < args.start:
        raise InputError(f"--end {args.end} is before --start {args.start}")
    aoi = parse_aoi(args.aoi, limit_km2=args.max_area_km2)
    options: dict[str, Any] = {}
    if args.source == "gee":
        options = {"project": args.project, "offline": args.offline}
    source = get_source(args.source, **options)
    with TerminalProgress() as progress:
        progress.message("listing Sentinel-1 acquisitions")
        accs = source.list_acquisitions(aoi.window9(), args.start, args.end, progress)
    if not accs:
        print(f"No Sentinel-1 acquisition over the AOI between {args.start} and {args.end}.")
        return 0
    print(f"{'date':<12}{'pass':<12}{'orbit':>6}{'coverage':>10}  platform")
    for a in accs:
        print(
            f"{a.date.isoformat():<12}{a.orbit_pass:<12}{a.relative_orbit:>6}"
            f"{a.coverage:>9.0f}%  {a.platform}"
        )
    if getattr(source, "simulated", False):
        print("NOTE: demo source: these dates are simulated.")
    return 0


def _cache_info(args: argparse.Namespace) -> int:
    from ..inputs.cache import ArrayCache, human_size

    cache = ArrayCache()
    entries = cache.entries()
    problems = [(e.key, why) for e in entries if (why := cache.problem(e.key)) is not None]
    print(f"cache folder: {cache.root}")
    print(
        f"entries:      {len(entries) - len(problems)} sound"
        + (f", {len(problems)} corrupt" if problems else "")
    )
    print(f"size:         {human_size(cache.size_bytes())}")
    for key, why in problems[:10]:
        print(f"corrupt:      {key[:16]}... ({why})")
    if problems:
        print(
            "Corrupt entries are never used: they are fetched again when needed. Remove them "
            "with `soilmoisture cache clear`."
        )
    if entries:
        print(f"oldest:       {entries[0].modified:%Y-%m-%d %H:%M}")
        print(f"newest:       {entries[-1].modified:%Y-%m-%d %H:%M}")
    return 0


def _cache_clear(args: argparse.Namespace) -> int:
    from ..inputs.cache import ArrayCache, human_size

    cache = ArrayCache()
    size = cache.size_bytes()
    removed = cache.clear()
    print(f"removed {removed} files ({human_size(size)}) from {cache.root}")
    return 0
