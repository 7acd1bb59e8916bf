"""``soilmoisture ee-check``: the first command a new Earth Engine user runs.

Signs in (``--sign-in``) or reuses the saved credentials, resolves the Cloud project, and makes
one tiny request per dataset the product uses, printing one line per step: OK with what was
seen, or FAIL with the service's error in plain words and what to do. Exit status 0 when every
check passed, 2 otherwise.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ._checks import date_arg


def register(subparsers: Any) -> None:
    """Add the ``ee-check`` command to the CLI.

    Args:
        subparsers: the object returned by ``ArgumentParser.add_subparsers``.

    """
    p = subparsers.add_parser(
        "ee-check",
        help="check the Earth Engine account: sign-in, project and every dataset used",
        description=(
            "Check that Earth Engine answers for this account: credentials, Cloud project, "
            "the grid's projection, and one tiny request per dataset (Sentinel-1, SMAP, MODIS "
            "NDVI, ERA5-Land, SoilGrids, DEM). Paste its output into bug reports."
        ),
    )
    p.add_argument(
        "--project",
        default=None,
        help="Cloud project registered for Earth Engine (saved for later runs)",
    )
    p.add_argument("--key-file", default=None, help="service-account JSON key (batch use)")
    p.add_argument(
        "--sign-in",
        action="store_true",
        help="sign in through the browser first (saves credentials and project)",
    )
    p.add_argument(
        "--date",
        type=date_arg,
        default=None,
        help="date whose datasets are checked, YYYY-MM-DD (default: 45 days ago)",
    )
    p.add_argument(
        "--lonlat",
        type=_lonlat,
        default=None,
        help="where to make the tiny requests, LON,LAT (default 5,52)",
    )
    p.set_defaults(func=_ee_check)


def _lonlat(text: str) -> tuple[float, float]:
    try:
        lon, lat = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not LON,LAT (e.g. --lonlat=-97.5,36.6 when LON is negative)"
        ) from None
    if not (-180 <= lon <= 180 and -85 <= lat <= 85):
        raise argparse.ArgumentTypeError(f"{text!r} is outside -180..180, -85..85")
    return lon, lat


def _open_browser(url: str) -> None:
    import webbrowser

    print(
        f"Sign in to Earth Engine in your browser (opening it now); if it does not open, "
        f"visit:\n{url}",
        flush=True,
    )
    webbrowser.open(url)


def _ee_check(args: argparse.Namespace) -> int:
    from ..inputs.sources.ee.check import DEFAULT_LONLAT, check_connection, default_date, summary
    from ._progress import TerminalProgress

    date = args.date or default_date()
    lonlat = args.lonlat or DEFAULT_LONLAT
    print(f"Earth Engine check for {date.isoformat()} at {lonlat[0]:g}, {lonlat[1]:g}")
    with TerminalProgress() as progress:
        checks = check_connection(
            project=args.project,
            key_file=args.key_file,
            date=date,
            lonlat=lonlat,
            progress=progress,
            sign_in=args.sign_in,
            on_check=lambda c: print(c.line(), flush=True),
            open_browser=_open_browser,
        )
    sys.stdout.flush()
    if all(c.ok for c in checks):
        print(summary(checks))
        return 0
    # the FAIL lines above say what to do; the last line follows the CLI's error rule
    print(f"soilmoisture: error: {summary(checks)} (see its FAIL line above)", file=sys.stderr)
    return 2
