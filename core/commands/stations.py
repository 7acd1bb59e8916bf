"""``soilmoisture stations``: read ISMN / CSV station files and write the daily table."""

from __future__ import annotations

import argparse
import sys

from ._progress import TerminalProgress

MAX_WARNINGS_SHOWN = 30
"""Warnings printed on the terminal; the rest are counted."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``stations`` sub-command."""
    p = subparsers.add_parser(
        "stations",
        help="read ISMN/CSV station files and write the daily 50 m table",
        description=(
            "Read ISMN downloads (header + values or CEOP .stm files, folders, zip archives) "
            "and station CSVs; keep readings at depth <= 5 cm with flag G; average them per "
            "calendar day (UTC) and 50 m EASE-2 cell; write the daily table as CSV and print a "
            "summary per station. See docs/stations.md for the CSV columns."
        ),
    )
    p.add_argument(
        "inputs",
        nargs="+",
        metavar="FILES_OR_FOLDERS_OR_ZIPS",
        help="station files, folders (searched recursively) and zip archives",
    )
    p.add_argument("--out", required=True, metavar="DAILY_CSV", help="daily table to write")
    p.add_argument(
        "--aoi",
        metavar="AOI",
        help="keep stations inside this AOI: a vector file, 'xmin,ymin,xmax,ymax' "
        "(lon/lat) or 'xmin,ymin,xmax,ymax@EPSG:xxxx'",
    )
    p.add_argument(
        "--unit",
        choices=["m3/m3", "%"],
        default="m3/m3",
        help="unit of CSV soil moisture without a unit column (default m3/m3)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Read the station inputs, write the daily table, print the summary and warnings.

    Raises:
        InputError: Unusable inputs or AOI.

    """
    from ..inputs.stations import read_station_files, station_summary, write_daily_csv

    out, err = sys.stdout, sys.stderr
    aoi = None
    if args.aoi:
        from ..inputs.aoi import parse_aoi

        aoi = parse_aoi(args.aoi)
    from ..atomic import check_output_file
    from ._checks import station_inputs

    check_output_file(args.out, (".csv",))
    station_inputs(args.inputs, "stations")
    with TerminalProgress() as progress:
        data = read_station_files(args.inputs, aoi=aoi, progress=progress, unit=args.unit)
    write_daily_csv(data.daily, args.out)

    summary = station_summary(data)
    header = (
        f"{'network':<12} {'station':<20} {'lat':>9} {'lon':>10} {'depth':<14} "
        f"{'days':>5}  {'period':<23} {'mean sm':>7}"
    )
    print(header, file=out)
    print("-" * len(header), file=out)
    for row in summary.itertuples(index=False):
        period = f"{row.first:%Y-%m-%d}..{row.last:%Y-%m-%d}"
        print(
            f"{str(row.network)[:12]:<12} {str(row.station)[:20]:<20} {row.lat:9.4f} "
            f"{row.lon:10.4f} {row.depth:<14} {row.days:5d}  {period:<23} {row.sm:7.3f}",
            file=out,
        )
    print(
        f"\n{len(summary)} sensors, {len(data.readings)} readings kept, {len(data.daily)} daily "
        f"cell values written to {args.out}",
        file=out,
    )
    if data.warnings:
        print(f"\n{len(data.warnings)} warnings:", file=err)
        for w in data.warnings[:MAX_WARNINGS_SHOWN]:
            print(f"  - {w}", file=err)
        if len(data.warnings) > MAX_WARNINGS_SHOWN:
            print(f"  ... and {len(data.warnings) - MAX_WARNINGS_SHOWN} more", file=err)
    return 0
