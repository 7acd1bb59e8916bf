"""Sentinel-1 dates of a run: acquisitions over the AOI, and map dates that have none.

A map date needs a Sentinel-1 acquisition over the AOI; when it has none, the message names the
nearest dates that do (searched :data:`~core.run.config.NEAREST_SEARCH_DAYS` on each side).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from ..errors import InputError, NoDataError
from ..inputs.aoi import AOI
from ..inputs.grid import GridWindow
from ..progress import NULL_PROGRESS, Progress
from .config import NEAREST_SEARCH_DAYS

if TYPE_CHECKING:
    from ..inputs.sources.base import InputSource


def nearest_dates(available: Iterable[dt.date], date: dt.date, n: int = 2) -> list[dt.date]:
    """Return the ``n`` dates of ``available`` closest to ``date`` (sorted)."""
    uniq = sorted(set(available))
    return sorted(sorted(uniq, key=lambda d: (abs((d - date).days), d))[:n])


def list_acquisition_dates(
    source: InputSource, window9: GridWindow, start: dt.date, end: dt.date, progress: Progress
) -> list[dt.date]:
    """The sorted distinct dates of the source's acquisitions over ``window9`` in the range."""
    acqs = source.list_acquisitions(window9, start, end, progress=progress)
    return sorted({a.date for a in acqs})


def acquisition_dates_between(
    source: str, aoi: AOI, start: dt.date, end: dt.date, progress: Progress | None = None
) -> list[dt.date]:
    """Sentinel-1 acquisition dates over the AOI from ``start`` to ``end`` (for date ranges).

    Args:
        source: Input source name.
        aoi: The AOI.
        start: First day.
        end: Last day (inclusive).
        progress: Progress reporter.

    Returns:
        The sorted distinct dates.

    Raises:
        InputError: ``start`` after ``end``.
        NoDataError: no acquisition in the range.

    """
    from ..inputs.sources.base import get_source

    if start > end:
        raise InputError(f"date range start {start} is after its end {end}")
    dates = list_acquisition_dates(
        get_source(source), aoi.window9(), start, end, progress or NULL_PROGRESS
    )
    if not dates:
        raise NoDataError(
            f"no Sentinel-1 acquisition covers the AOI from {start} to {end}; widen the range"
        )
    return dates


def check_map_dates(
    source: InputSource,
    window9: GridWindow,
    dates: Sequence[dt.date],
    known: set[dt.date],
    progress: Progress,
) -> None:
    """Raise NoDataError naming the nearest acquisition dates for a map date without one."""
    for d in dates:
        if d in known:
            continue
        around = list_acquisition_dates(
            source,
            window9,
            d - dt.timedelta(days=NEAREST_SEARCH_DAYS),
            d + dt.timedelta(days=NEAREST_SEARCH_DAYS),
            progress,
        )
        if d in around:
            known.add(d)
            continue
        near = nearest_dates(around, d)
        if near:
            raise NoDataError(
                f"no Sentinel-1 acquisition covers the AOI on {d.isoformat()}; the nearest dates "
                f"with one are {', '.join(x.isoformat() for x in near)}. Map one of those dates "
                "instead."
            )
        raise NoDataError(
            f"no Sentinel-1 acquisition covers the AOI on {d.isoformat()}, nor on any day within "
            f"{NEAREST_SEARCH_DAYS} days of it (Sentinel-1 may not have covered this area then). "
            "List the dates it did cover with `soilmoisture s1-dates` (or Find Sentinel-1 dates "
            "in the dock) and map one of those."
        )
