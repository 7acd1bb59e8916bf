"""In-situ soil moisture station readers: ISMN downloads and a plain CSV for field data.

The dock, the Processing algorithm and the ``soilmoisture stations`` command all use
:func:`read_station_files`. Inputs are files, folders (searched recursively) and zip archives,
in any mix; each file's format is detected from its content by the formats registered in
:data:`FORMATS` (ISMN "header + values", ISMN CEOP-separate, station CSV).

Readings are kept when they are surface measurements (``depth_to <= 0.051 m``: the US networks'
2-inch sensors at 0.0508 m are the 5 cm layer) with ISMN quality flag exactly ``G``, their value
is within 0-1 m3/m3, and their station lies in the AOI. Nothing is dropped silently: every drop
is counted in :attr:`StationData.warnings`. The daily table averages the kept readings per
calendar day (UTC) and per 50 m EASE-2 cell.

Zip archives are read in memory, member by member, never extracted by member name; the total
uncompressed size and each member's compression ratio are capped against zip bombs.

One concern per module: :mod:`.model` (data types, rules' constants), :mod:`.text` (file
content and line pieces), :mod:`.registry` (the formats and their detection), one module per
format (:mod:`.ismn_header`, :mod:`.ismn_ceop`, :mod:`.station_csv` with :mod:`.csv_rows`;
:mod:`.ismn_values` for what the ISMN formats share), :mod:`.walk` (files, folders, zips),
:mod:`.qc` (the filtering rules), :mod:`.assemble` (the readings table), :mod:`.daily` and
:mod:`.cells` (daily means per cell), :mod:`.summary` and :mod:`.read` (the entry point).
Tunables read at call time (``CHUNK_CHARS``, ``CSV_CHUNK_ROWS``, ``MAX_ZIP_TOTAL_BYTES``) are
changed on their home module, not on this package.
"""

from __future__ import annotations

from .csv_rows import MOVED_KM
from .daily import daily_table, write_daily_csv
from .ismn_ceop import IsmnCeop
from .ismn_header import IsmnHeaderValues
from .model import (
    ACCEPTED_FLAGS,
    DAILY_COLUMNS,
    MIN_YEAR,
    READING_COLUMNS,
    SURFACE_DEPTH_M,
    ParseResult,
    ReadOptions,
    Series,
    StationData,
    StationMeta,
)
from .read import read_station_files
from .registry import FORMATS, StationFormat, detect_format, register_format
from .station_csv import CSV_CHUNK_ROWS, StationCsv
from .summary import station_summary
from .text import CHUNK_CHARS, TextSource
from .walk import MAX_ZIP_RATIO, MAX_ZIP_TOTAL_BYTES, ZIP_RATIO_MIN_BYTES, folder_station_files

__all__ = [
    "ACCEPTED_FLAGS",
    "CHUNK_CHARS",
    "CSV_CHUNK_ROWS",
    "DAILY_COLUMNS",
    "FORMATS",
    "MAX_ZIP_RATIO",
    "MAX_ZIP_TOTAL_BYTES",
    "MIN_YEAR",
    "MOVED_KM",
    "READING_COLUMNS",
    "SURFACE_DEPTH_M",
    "ZIP_RATIO_MIN_BYTES",
    "IsmnCeop",
    "IsmnHeaderValues",
    "ParseResult",
    "ReadOptions",
    "Series",
    "StationCsv",
    "StationData",
    "StationFormat",
    "StationMeta",
    "TextSource",
    "daily_table",
    "detect_format",
    "folder_station_files",
    "read_station_files",
    "register_format",
    "station_summary",
    "write_daily_csv",
]
