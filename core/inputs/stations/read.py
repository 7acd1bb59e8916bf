"""The read itself: inputs walked, each file's format detected and parsed, series filtered.

:func:`read_station_files` is the entry point; a :class:`_ReadState` carries what the files add
up to (kept series, file-level problems, warnings) until the readings and daily tables are
built from it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import InputError
from ...progress import Progress
from .assemble import _assemble_readings
from .daily import daily_table
from .model import (
    ACCEPTED_FLAGS,
    SURFACE_DEPTH_M,
    ReadOptions,
    Series,
    StationData,
    StationMeta,
)
from .qc import _filter_series
from .registry import detect_format
from .station_csv import StationCsv
from .walk import _Reader

if TYPE_CHECKING:  # the AOI module (shapely, pyproj) is only needed when an AOI is given
    from ..aoi import AOI


@dataclass
class _ReadState:
    """The rules of one read and what its files have added up to so far."""

    options: ReadOptions
    aoi: AOI | None
    accept: frozenset[str]
    max_depth_m: float
    warnings: list[str]
    problems: list[str] = field(default_factory=list)  # file-level errors, also in the error
    kept_series: list[Series] = field(default_factory=list)
    metas: dict[StationMeta, None] = field(default_factory=dict)
    n_sources: int = 0

    def keep(self, series: list[Series], csv_unit_hint: bool) -> None:
        """Filter the series of one file, releasing each as soon as it is filtered."""
        while series:
            kept = _filter_series(
                series.pop(0),
                self.aoi,
                self.accept,
                self.max_depth_m,
                self.warnings,
                csv_unit_hint=csv_unit_hint,
            )
            if kept is not None:
                self.kept_series.append(kept)
                self.metas[kept.meta] = None
            del kept


def read_station_files(
    paths: Sequence[str | os.PathLike[str]],
    aoi: AOI | None = None,
    progress: Progress | None = None,
    unit: str = "m3/m3",
    accept_flags: Sequence[str] = ACCEPTED_FLAGS,
    max_depth_m: float = SURFACE_DEPTH_M,
) -> StationData:
    """Read ISMN files, folders, zip archives and station CSVs into readings and a daily table.

    Args:
        paths: Files, folders (searched recursively) and zip archives, in any mix.
        aoi: Keep only stations inside this AOI (stations outside are reported).
        progress: Reports one step per file; checked for cancellation between files.
        unit: Unit of CSV values in files without a ``unit`` column: ``"m3/m3"`` or ``"%"``.
            ISMN files are always m3/m3.
        accept_flags: ISMN quality flags kept (default exactly ``G``).
        max_depth_m: Deepest ``depth_to`` kept, m (default 0.051: the 0-5 cm layer,
            including 2-inch sensors at 0.0508 m).

    Returns:
        The kept readings, the daily table, the contributing sensors and the warnings.

    Raises:
        InputError: An input does not exist, or no usable reading remains (the message names
            the files and what was wrong with them).
        Cancelled: The progress was cancelled.

    """
    if not paths:
        raise InputError("no station files given; give ISMN files, folders or zip archives")
    options = ReadOptions(unit=unit)
    accept = frozenset(str(f).strip() for f in accept_flags)
    progress = progress or Progress()
    warnings: list[str] = []
    reader = _Reader(warnings)
    files: list[Path] = []
    for p in paths:
        files.extend(reader.expand(Path(p)))
    state = _ReadState(options, aoi, accept, max_depth_m, warnings)
    for k, path in enumerate(files):
        progress.check()
        progress.message(f"reading {path.name}")
        _read_file(reader, path, state, progress)
        progress.fraction((k + 1) / len(files))
    _warn_skipped(reader.skipped, warnings)
    if not state.kept_series:
        _raise_nothing_read(paths, state)
    all_warnings = [f"{p} The file was skipped." for p in state.problems] + warnings
    readings = _assemble_readings(state.kept_series, all_warnings)
    state.kept_series.clear()
    stations = _unique_stations(state.metas)
    return StationData(readings, daily_table(readings), stations, all_warnings)


def _read_file(reader: _Reader, path: Path, state: _ReadState, progress: Progress) -> None:
    """Parse and filter the station files of one input file (several in a zip archive)."""
    for src in reader.sources(path):
        progress.check()
        state.n_sources += 1
        try:
            fmt = detect_format(src)
            result = fmt.parse(src, state.options)
        except InputError as exc:
            state.problems.append(str(exc))
            continue
        finally:
            del src  # the file's content is not needed once parsed
        state.warnings.extend(result.warnings)
        series = result.series
        del result
        state.keep(series, csv_unit_hint=isinstance(fmt, StationCsv))


def _warn_skipped(skipped: list[str], warnings: list[str]) -> None:
    """One warning listing (the first five of) the files that are not station files."""
    if skipped:
        shown = ", ".join(skipped[:5])
        more = f" and {len(skipped) - 5} more" if len(skipped) > 5 else ""
        warnings.append(
            f"{len(skipped)} files that are not station files (not .stm, .csv, .txt or "
            f".zip) skipped: {shown}{more}"
        )


def _raise_nothing_read(paths: Sequence[str | os.PathLike[str]], state: _ReadState) -> None:
    """Raise the error of a read that kept no reading, naming the files and their problems."""
    problems, warnings = state.problems, state.warnings
    where = ", ".join(str(p) for p in paths)
    if state.n_sources == 0 and not problems:
        why = ("\n  " + "\n  ".join(warnings)) if warnings else ""
        raise InputError(
            f"no readable station file found in {where}; expected ISMN .stm files, station "
            f"CSVs, or folders / zip archives holding them.{why}"
        )
    if len(problems) == 1 and not warnings:
        raise InputError(problems[0])
    details = "\n  ".join(problems + warnings) or "no readings"
    raise InputError(f"no usable soil moisture readings in {where}:\n  {details}")


def _unique_stations(metas: dict[StationMeta, None]) -> list[StationMeta]:
    """The contributing sensors, one per sensor identity (the first read), in reading order."""
    stations: dict[tuple[Any, ...], StationMeta] = {}
    for meta in metas:
        key = (
            meta.network,
            meta.station,
            meta.lat,
            meta.lon,
            meta.depth_from,
            meta.depth_to,
            meta.sensor,
        )
        stations.setdefault(key, meta)
    return list(stations.values())
