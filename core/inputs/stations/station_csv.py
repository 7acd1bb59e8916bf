"""The station CSV format for field data: header detection, column aliases and block reading.

The rows themselves are checked and grouped into series by :class:`.csv_rows._CsvState`, one
block of :data:`CSV_CHUNK_ROWS` rows at a time.
"""

from __future__ import annotations

import io
from collections import Counter

import numpy as np
import pandas as pd

from ...errors import InputError
from .csv_rows import _CsvState
from .model import ParseResult, ReadOptions
from .text import TextSource, _first_lines, _line_chunks

CSV_CHUNK_ROWS = 200_000
"""Rows of a station CSV processed at a time."""

_CSV_ALIASES = {
    "station": "station",
    "station_id": "station",
    "id": "station",
    "site": "station",
    "lat": "lat",
    "latitude": "lat",
    "lon": "lon",
    "lng": "lon",
    "long": "lon",
    "longitude": "lon",
    "timestamp": "timestamp",
    "time": "timestamp",
    "datetime": "timestamp",
    "date": "timestamp",
    "sm": "sm",
    "soil_moisture": "sm",
    "value": "sm",
    "depth": "depth",
    "depth_m": "depth",
    "flag": "flag",
    "quality_flag": "flag",
    "network": "network",
    "unit": "unit",
    "units": "unit",
    "sensor": "sensor",
}
_CSV_REQUIRED = ("station", "lat", "lon", "timestamp", "sm")


def _csv_header(text: str | TextSource) -> tuple[str, list[str]] | None:
    """Delimiter and normalised column names of a delimited first line, if it looks like one."""
    head = _first_lines(text, 1)
    if not head:
        return None
    line = head[0][1]
    counts = {d: line.count(d) for d in (",", ";", "\t")}
    sep = max(counts, key=lambda d: counts[d])
    if counts[sep] == 0:
        return None
    cols = [c.strip().strip('"').strip().lower() for c in line.split(sep)]
    return sep, [_CSV_ALIASES.get(c, c) for c in cols]


class StationCsv:
    """Plain CSV for field data: station, lat, lon, timestamp, sm [, depth, flag, network, unit].

    See ``docs/stations.md`` for the columns. Timestamps without a time zone are UTC; soil
    moisture is m3/m3 unless the row's ``unit`` (or the read's ``unit`` option) says ``%``; a
    missing depth is taken as the surface layer and a missing flag as ``G`` (both are reported).
    """

    name = "station-csv"
    description = (
        "station CSV (columns station, lat, lon, timestamp, sm; optional depth, flag, "
        "network, unit, sensor)"
    )

    def sniff(self, src: TextSource) -> bool:
        """Check that the first line is a delimited header with the required columns."""
        header = _csv_header(src)
        return header is not None and all(c in header[1] for c in _CSV_REQUIRED)

    def parse(self, src: TextSource, options: ReadOptions) -> ParseResult:
        """Parse a station CSV into one series per (network, station, location, depth).

        The table is read in blocks of :data:`CSV_CHUNK_ROWS` rows, so memory stays bounded
        for large files; the problems of all blocks are counted together.
        """
        header = _csv_header(src)
        assert header is not None
        sep, cols = header
        if len(set(cols)) != len(cols):
            dup = sorted(c for c, k in Counter(cols).items() if k > 1)
            raise InputError(f"{src.name}: columns {', '.join(dup)} appear more than once")
        # Line numbers: header is line 1, data rows follow (blank lines are skipped by pandas).
        line_all = np.concatenate(
            [
                first
                + np.flatnonzero(np.fromiter((bool(ln.strip()) for ln in lines), bool, len(lines)))
                for first, lines in _line_chunks(src)
            ]
        )[1:].astype(np.int64)
        state = _CsvState(src.name, sep, options, "flag" in cols)
        offset = 0
        buffer = (
            io.BytesIO(src.content) if isinstance(src.content, bytes) else io.StringIO(src.content)
        )
        try:
            reader = pd.read_csv(
                buffer,
                sep=sep,
                encoding=src.encoding,
                dtype=str,
                keep_default_na=False,
                skip_blank_lines=True,
                skipinitialspace=True,
                chunksize=CSV_CHUNK_ROWS,
            )
            for df in reader:
                n = len(df)
                if df.shape[1] != len(cols):
                    raise ValueError(f"expected {len(cols)} columns, found {df.shape[1]}")
                df.columns = cols
                line = line_all[offset : offset + n]
                if len(line) != n:  # quoted multi-line fields: fall back to row numbers
                    line = np.arange(offset + 2, offset + n + 2, dtype=np.int64)
                state.add(df, line)
                offset += n
                del df
        except (pd.errors.ParserError, ValueError, UnicodeDecodeError) as exc:
            raise InputError(f"{src.name}: cannot read the CSV: {exc}") from None
        if offset == 0:
            raise InputError(f"{src.name}: the CSV has a header but no rows")
        return state.result()
