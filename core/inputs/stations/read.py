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
"""

from __future__ import annotations

import io
import os
import re
import warnings as warnings_module
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..atomic import atomic_path
from ..errors import InputError
from ..progress import Progress
from .grid import LEVELS, lonlat_to_rowcol

if TYPE_CHECKING:  # the AOI module (shapely, pyproj) is only needed when an AOI is given
    from .aoi import AOI

SURFACE_DEPTH_M = 0.051
"""Deepest ``depth_to`` (m) of a surface (0-5 cm) sensor; 0.0508 m (2 inches) is kept."""
ACCEPTED_FLAGS: tuple[str, ...] = ("G",)
"""ISMN quality flags kept by default (exactly ``G``; ``"D01,D03"`` is not ``G``)."""
MAX_ZIP_TOTAL_BYTES = 2 * 1024**3
"""Largest total uncompressed size read from one zip archive (bytes)."""
MAX_ZIP_RATIO = 200.0
"""Largest compression ratio of a zip member above :data:`ZIP_RATIO_MIN_BYTES`."""
ZIP_RATIO_MIN_BYTES = 1024**2
"""Members smaller than this (uncompressed) are not checked for their ratio."""

READING_COLUMNS = [
    "network",
    "station",
    "lat",
    "lon",
    "depth_from",
    "depth_to",
    "sensor",
    "time",
    "sm",
    "flag",
    "source",
]
DAILY_COLUMNS = [
    "network",
    "station",
    "lat",
    "lon",
    "row9",
    "col9",
    "row50",
    "col50",
    "date",
    "sm",
    "n",
]

_DATE_RE = re.compile(r"^\d{4}/\d{2}/\d{2}\s+\d{2}:\d{2}\b")
_CEOP_RE = re.compile(r"^\d{4}/\d{2}/\d{2}\s+\d{2}:\d{2}\s+\d{4}/\d{2}/\d{2}\s+\d{2}:\d{2}\s")
_ISMN_NAME_RE = re.compile(
    r"^(?P<cse>[^_]+)_(?P<network>[^_]+)_(?P<station>.+)_(?P<var>[a-z_]+?)_"
    r"(?P<dfrom>-?\d+\.\d+)_(?P<dto>-?\d+\.\d+)_(?P<sensor>.+?)_(?P<start>\d{8})_(?P<end>\d{8})"
    r"\.stm$"
)
_ISMN_TIME_FORMAT = "%Y/%m/%d %H:%M"


# -- data model ------------------------------------------------------------------------------
@dataclass(frozen=True)
class StationMeta:
    """One sensor of one station, as read from a file.

    Attributes:
        network: Network name (e.g. ``"SCAN"``).
        station: Station name.
        lat: Latitude, WGS 84 degrees.
        lon: Longitude, WGS 84 degrees.
        elevation: Elevation, m (None where unknown).
        depth_from: Top of the measured layer, m below the surface.
        depth_to: Bottom of the measured layer, m below the surface.
        sensor: Sensor name.
        source: The file it came from (``archive.zip:member`` inside archives).

    """

    network: str
    station: str
    lat: float
    lon: float
    elevation: float | None
    depth_from: float
    depth_to: float
    sensor: str
    source: str

    def __post_init__(self) -> None:
        if not (-90.0 <= self.lat <= 90.0 and -180.0 <= self.lon <= 180.0):
            raise InputError(
                f"{self.source}: station {self.station!r} has lat={self.lat}, lon={self.lon}; "
                "latitude must be within -90..90 and longitude within -180..180 degrees."
            )

    @property
    def label(self) -> str:
        """``network station (sensor depth_from-depth_to m)`` for messages."""
        return (
            f"{self.network} {self.station} ({self.sensor} "
            f"{self.depth_from:.4g}-{self.depth_to:.4g} m)"
        )


@dataclass
class StationData:
    """The result of :func:`read_station_files`.

    Attributes:
        readings: Raw readings kept, columns :data:`READING_COLUMNS` (``time`` in UTC).
        daily: Daily table, one row per 50 m cell and UTC day, columns :data:`DAILY_COLUMNS`.
        stations: The sensors that contributed kept readings.
        warnings: One line per partial problem, with counts.

    """

    readings: pd.DataFrame
    daily: pd.DataFrame
    stations: list[StationMeta]
    warnings: list[str] = field(default_factory=list)


@dataclass
class Series:
    """Readings of one sensor from one file, before filtering (parser output)."""

    meta: StationMeta
    time: pd.DatetimeIndex
    sm: npt.NDArray[np.float64]
    flag: npt.NDArray[np.object_]
    line: npt.NDArray[np.int64]


@dataclass(frozen=True)
class TextSource:
    """A station file: display name (for messages), base file name and content.

    The content is kept as read (bytes, with the encoding found for them) or as text; parsers
    decode it piece by piece (:func:`_line_chunks`), so a large file is never held twice.
    """

    name: str
    filename: str
    content: str | bytes
    encoding: str = "utf-8-sig"

    @property
    def text(self) -> str:
        """The whole content as text (decodes everything: for small files and messages)."""
        if isinstance(self.content, bytes):
            return self.content.decode(self.encoding)
        return self.content

    def prefix(self, size: int) -> tuple[str, bool]:
        """The first ``size`` characters (bytes) as text, and whether that is everything."""
        piece = self.content[:size]
        complete = size >= len(self.content)
        if isinstance(piece, bytes):
            return piece.decode(self.encoding, errors="ignore"), complete
        return piece, complete


@dataclass(frozen=True)
class ReadOptions:
    """Options of a read that parsers need.

    Attributes:
        unit: Unit of CSV soil moisture values without a ``unit`` column: ``"m3/m3"`` or ``"%"``.

    """

    unit: str = "m3/m3"

    def __post_init__(self) -> None:
        if _unit_kind(self.unit) is None:
            raise InputError(f"unknown soil moisture unit {self.unit!r}; allowed: m3/m3 or %")


@dataclass
class ParseResult:
    """What a format parser returns: series and per-file warnings."""

    series: list[Series]
    warnings: list[str] = field(default_factory=list)


class StationFormat(Protocol):
    """A station file format: detected from content, parsed into series."""

    name: str
    description: str

    def sniff(self, src: TextSource) -> bool:
        """Whether ``src`` looks like this format."""
        ...

    def parse(self, src: TextSource, options: ReadOptions) -> ParseResult:
        """Parse ``src``; raise InputError when the file is unusable as a whole."""
        ...


FORMATS: dict[str, StationFormat] = {}
"""Registered station formats by name, tried in order."""


def register_format(fmt: StationFormat) -> StationFormat:
    """Add a station format to :data:`FORMATS` (replacing one of the same name)."""
    FORMATS[fmt.name] = fmt
    return fmt


# -- helpers -------------------------------------------------------------------------------
def _is_float(tok: str) -> bool:
    try:
        float(tok)
    except ValueError:
        return False
    return True


def _first_lines(text: str | TextSource, n: int) -> list[tuple[int, str]]:
    """Return the first ``n`` non-empty lines with their 1-based line numbers.

    Only the head of the content is split (a growing prefix), so sniffing a large file costs
    no more than its first lines.
    """
    src = text if isinstance(text, TextSource) else TextSource("", "", text)
    size = 1 << 16
    while True:
        head, complete = src.prefix(size)
        lines = head.splitlines()
        if not complete and lines:
            lines = lines[:-1]  # the last line of a prefix may be cut
        out: list[tuple[int, str]] = []
        for i, ln in enumerate(lines, start=1):
            if ln.strip():
                out.append((i, ln))
                if len(out) == n:
                    return out
        if complete:
            return out
        size *= 4


CHUNK_CHARS = 1 << 22
"""Characters (bytes) of a station file parsed at a time (bounds the parser's memory)."""


def _next_break(buf: str | bytes, start: int) -> int:
    """Index of the last character of the line break at or after ``start`` (-1: none)."""
    if isinstance(buf, bytes):
        found = [i for i in (buf.find(b"\n", start), buf.find(b"\r", start)) if i >= 0]
    else:
        found = [i for i in (buf.find("\n", start), buf.find("\r", start)) if i >= 0]
    if not found:
        return -1
    cut = min(found)
    if buf[cut : cut + 2] in ("\r\n", b"\r\n"):
        cut += 1
    return cut


def _line_chunks(
    src: TextSource, start: int = 0, first_line: int = 1, chunk_chars: int | None = None
) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(line number of the first line, lines)`` for consecutive pieces of a file.

    Each piece ends at a line break (LF, CR LF or a lone CR), so line numbers are exact; only
    one piece's lines exist at a time.
    """
    chunk_chars = chunk_chars or CHUNK_CHARS
    buf = src.content
    n = len(buf)
    line_no = first_line
    pos = start
    while pos < n:
        end = min(pos + chunk_chars, n)
        if end < n:
            if isinstance(buf, bytes):
                cut = max(buf.rfind(b"\n", pos, end), buf.rfind(b"\r", pos, end))
            else:
                cut = max(buf.rfind("\n", pos, end), buf.rfind("\r", pos, end))
            if cut < 0:  # one very long line: extend to its end
                cut = _next_break(buf, end)
                cut = n - 1 if cut < 0 else cut
            elif buf[cut : cut + 2] in ("\r\n", b"\r\n"):
                cut += 1
            end = cut + 1
        piece = buf[pos:end]
        text = piece.decode(src.encoding) if isinstance(piece, bytes) else piece
        del piece
        lines = text.splitlines()
        del text
        yield line_no, lines
        line_no += len(lines)
        pos = end


def _data_rows(
    src: TextSource, start: int = 0, first_line: int = 1
) -> Iterator[list[tuple[int, list[str]]]]:
    """Yield, piece by piece, the non-blank lines as ``(line number, tokens)``."""
    for first, lines in _line_chunks(src, start, first_line):
        yield [(first + k, ln.split()) for k, ln in enumerate(lines) if ln.strip()]


def _line_offset(src: TextSource, line_index: int) -> int:
    """Offset of the 0-based line ``line_index`` in the content (lines as ``splitlines``)."""
    pos = 0
    for _ in range(line_index):
        cut = _next_break(src.content, pos)
        if cut < 0:
            return len(src.content)
        pos = cut + 1
    return pos


def _station_span(tokens: Sequence[str], start: int) -> int | None:
    """Index after the station name: the first i > start with 5 numbers at tokens[i:i+5]."""
    for i in range(start + 1, len(tokens) - 4):
        if all(_is_float(t) for t in tokens[i : i + 5]):
            return i
    return None


def _name_meta(filename: str) -> dict[str, Any] | None:
    """Network, station, depths and sensor from an ISMN file name, if it is one."""
    m = _ISMN_NAME_RE.match(filename)
    if not m:
        return None
    return {
        "network": m["network"],
        "station": m["station"],
        "depth_from": float(m["dfrom"]),
        "depth_to": float(m["dto"]),
        "sensor": m["sensor"],
        "variable": m["var"],
    }


def _precise_depth(header: float, from_name: float | None) -> float:
    """Prefer the file name's depth where it agrees with the (2-decimal) header."""
    if from_name is not None and abs(from_name - header) <= 0.0051:
        return from_name
    return header


def _first_line_note(lines: npt.NDArray[np.int64], mask: npt.NDArray[np.bool_]) -> str:
    idx = np.flatnonzero(mask)
    return f" (first at line {int(lines[idx[0]])})" if idx.size else ""


def _parse_ismn_values(
    src: TextSource,
    chunks: Iterator[list[tuple[int, list[str]]]],
    date_idx: int,
    value_idx: int,
) -> tuple[
    pd.DatetimeIndex,
    npt.NDArray[np.float64],
    npt.NDArray[np.object_],
    npt.NDArray[np.int64],
    list[str],
]:
    """Parse times, values, flags and line numbers of ISMN data lines; warn about bad lines.

    The lines come piece by piece (:func:`_data_rows`); only one piece's tokens exist at a
    time, and equal flags share one string, so memory stays a small multiple of the readings.
    """
    need = value_idx + 2
    flag_pool: dict[str, str] = {}
    cap = _line_bound(src)
    t_all = np.empty(cap, dtype=np.int64)
    sm_all = np.empty(cap, dtype=np.float64)
    fl_all = np.empty(cap, dtype=object)
    ln_all = np.empty(cap, dtype=np.int64)
    n = 0
    n_bad = 0
    first_bad: int | None = None
    for rows in chunks:
        good = [(i, t) for i, t in rows if len(t) >= need]
        short = [i for i, t in rows if len(t) < need]
        stamps = [f"{t[date_idx]} {t[date_idx + 1]}" for _, t in good]
        times = pd.DatetimeIndex(
            pd.to_datetime(stamps, format=_ISMN_TIME_FORMAT, errors="coerce", utc=True)
        )
        del stamps
        values = pd.to_numeric(
            pd.Series([t[value_idx] for _, t in good], dtype=object), errors="coerce"
        ).to_numpy(dtype=np.float64)
        flags = np.array(
            [flag_pool.setdefault(t[value_idx + 1], t[value_idx + 1]) for _, t in good],
            dtype=object,
        )
        lines = np.array([i for i, _ in good], dtype=np.int64)
        del good, rows
        bad = np.asarray(times.isna()) | np.isnan(values)
        n_bad += len(short) + int(bad.sum())
        firsts = [*short[:1], *lines[bad][:1].tolist()]
        if firsts:
            first_bad = min([*firsts, *([first_bad] if first_bad is not None else [])])
        keep = ~bad
        k = int(keep.sum())
        t_all[n : n + k] = times.asi8[keep]
        sm_all[n : n + k] = values[keep]
        fl_all[n : n + k] = flags[keep]
        ln_all[n : n + k] = lines[keep]
        n += k
    warnings: list[str] = []
    if n_bad:
        warnings.append(
            f"{src.name}: {n_bad} lines that are not 'date time value flag' readings skipped "
            f"(first at line {first_bad})"
        )
    times_out = _utc_index(t_all[:n])
    del t_all
    return times_out, sm_all[:n], fl_all[:n], ln_all[:n], warnings


def _utc_index(ns: npt.NDArray[np.int64]) -> pd.DatetimeIndex:
    """UTC timestamps from nanoseconds since 1970, without the copies of ``pd.to_datetime``."""
    return pd.DatetimeIndex(np.ascontiguousarray(ns).view("M8[ns]")).tz_localize("UTC")


def _line_bound(src: TextSource) -> int:
    """An upper bound of the number of lines of a file (for preallocating its readings)."""
    c = src.content
    if isinstance(c, bytes):
        return c.count(b"\n") + c.count(b"\r") + 1
    return c.count("\n") + c.count("\r") + 1


# -- formats ---------------------------------------------------------------------------------
class IsmnHeaderValues:
    """ISMN "header + values": a header line, then ``YYYY/MM/DD HH:MM value flag orig_flag``."""

    name = "ismn-header-values"
    description = (
        "ISMN 'header + values' .stm (first line: CSE network station lat lon elevation "
        "depth_from depth_to sensor)"
    )

    def sniff(self, src: TextSource) -> bool:
        """Check that the first line is a station header and the next one a dated reading."""
        head = _first_lines(src, 2)
        if not head:
            return False
        tokens = head[0][1].split()
        if len(tokens) < 8 or _DATE_RE.match(head[0][1].strip()):
            return False
        if _station_span(tokens, 1) is None:
            return False
        return len(head) == 1 or bool(_DATE_RE.match(head[1][1].strip()))

    def parse(self, src: TextSource, options: ReadOptions) -> ParseResult:
        """Parse one header + values file into one series."""
        header_line, header = _first_lines(src, 1)[0]
        header_no = header_line - 1
        tokens = header.split()
        span = _station_span(tokens, 1)
        assert span is not None  # sniffed
        lat, lon, elev, dfrom, dto = (float(t) for t in tokens[span : span + 5])
        sensor = " ".join(tokens[span + 5 :]).strip("'\"")
        from_name = _name_meta(src.filename)
        meta = StationMeta(
            network=tokens[1],
            station=" ".join(tokens[2:span]),
            lat=lat,
            lon=lon,
            elevation=elev,
            depth_from=_precise_depth(dfrom, from_name["depth_from"] if from_name else None),
            depth_to=_precise_depth(dto, from_name["depth_to"] if from_name else None),
            sensor=sensor or (from_name["sensor"] if from_name else "unknown"),
            source=src.name,
        )
        start = _line_offset(src, header_no + 1)
        rows = _data_rows(src, start, header_no + 2)
        times, values, flags, nums, warnings = _parse_ismn_values(src, rows, 0, 2)
        return ParseResult([Series(meta, times, values, flags, nums)], warnings)


class IsmnCeop:
    """ISMN CEOP-separate: every line holds two dates, the station metadata and the reading.

    ``nominal_date time actual_date time CSE network station lat lon elevation depth_from
    depth_to value flag orig_flag``; the sensor name comes from the file name.
    """

    name = "ismn-ceop"
    description = (
        "ISMN CEOP-separate .stm (each line: date time date time CSE network station lat lon "
        "elevation depth_from depth_to value flag)"
    )

    def sniff(self, src: TextSource) -> bool:
        """Check that the first line starts with two date-times followed by a station."""
        head = _first_lines(src, 1)
        if not head or not _CEOP_RE.match(head[0][1].strip()):
            return False
        tokens = head[0][1].split()
        return len(tokens) >= 14 and _station_span(tokens, 6) is not None

    def parse(self, src: TextSource, options: ReadOptions) -> ParseResult:
        """Parse one CEOP file into one series (metadata from its first line and name)."""
        head = _first_lines(src, 1)
        tokens = head[0][1].split()
        span = _station_span(tokens, 6)
        assert span is not None  # sniffed
        lat, lon, elev, dfrom, dto = (float(t) for t in tokens[span : span + 5])
        from_name = _name_meta(src.filename)
        meta = StationMeta(
            network=tokens[5],
            station=" ".join(tokens[6:span]),
            lat=lat,
            lon=lon,
            elevation=elev,
            depth_from=_precise_depth(dfrom, from_name["depth_from"] if from_name else None),
            depth_to=_precise_depth(dto, from_name["depth_to"] if from_name else None),
            sensor=from_name["sensor"] if from_name else "unknown",
            source=src.name,
        )
        rows = _data_rows(src)
        times, values, flags, nums, warnings = _parse_ismn_values(src, rows, 0, span + 5)
        return ParseResult([Series(meta, times, values, flags, nums)], warnings)


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
_ZONE_NAME_RE = r"\d:\d\d(?::\d\d(?:\.\d+)?)?\s*(?!UTC\b|GMT\b|Z\b)[A-Za-z]{3,5}\s*$"
"""A time zone abbreviation (CET, EST, ...) after a time: ambiguous, so refused."""
MIN_YEAR = 1950
"""Readings dated before this year are taken as typing errors."""
MOVED_KM = 1.0
"""One station id at places farther apart than this (km) is reported."""


def _warn_moving_stations(
    name: str,
    network: npt.NDArray[np.object_],
    station: npt.NDArray[np.object_],
    lat: npt.NDArray[np.float64],
    lon: npt.NDArray[np.float64],
    warnings: list[str],
) -> None:
    """Warn when one station id appears at places more than :data:`MOVED_KM` apart."""
    if not len(station):
        return
    places = pd.DataFrame({"net": network, "sta": station, "lat": lat, "lon": lon})
    places = places.drop_duplicates()
    for (net, sta), grp in places.groupby(["net", "sta"], sort=False):
        if len(grp) < 2:
            continue
        la = np.radians(grp["lat"].to_numpy())
        lo = np.radians(grp["lon"].to_numpy())
        dy = (la.max() - la.min()) * 6371.0
        dx = (lo.max() - lo.min()) * 6371.0 * float(np.cos(la.mean()))
        km = float(np.hypot(dx, dy))
        if km > MOVED_KM:
            warnings.append(
                f"{name}: station {net} {sta} appears at {len(grp)} places up to {km:,.0f} km "
                "apart; check its coordinates (each place is read as a separate sensor)"
            )


def _unit_kind(unit: str) -> str | None:
    """``"fraction"`` for m3/m3, ``"percent"`` for % (vol), None if unknown."""
    u = unit.strip().lower().replace(" ", "").replace("^", "").replace("³", "3")
    if u in ("", "m3/m3", "m3m-3", "m3*m-3", "cm3/cm3", "cm3cm-3", "fraction", "vol"):
        return "fraction"
    if u in ("%", "%vol", "vol%", "percent", "%(vol)", "vol.%", "%v/v"):
        return "percent"
    return None


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


CSV_CHUNK_ROWS = 200_000
"""Rows of a station CSV processed at a time."""


class _CsvState:
    """What the blocks of one station CSV add up to: series fragments and problem counts."""

    REASONS = (
        "an empty station id",
        "an invalid lat/lon (need -90..90, -180..180)",
        "a time zone name instead of an offset (write e.g. 2020-06-01T12:00+01:00; names such "
        "as CET are ambiguous)",
        "an unreadable timestamp",
        f"a date before {MIN_YEAR} or in the future",
        "a non-numeric soil moisture",
        "a non-numeric depth",
        "a negative depth (depths are metres below the surface)",
        "unit",
    )

    def __init__(self, name: str, sep: str, options: ReadOptions, has_flag: bool) -> None:
        self.name = name
        self.sep = sep
        self.options = options
        self.has_flag = has_flag
        self.counts: dict[str, list[int]] = {r: [0, 0] for r in self.REASONS}  # count, first
        self.unknown_units: set[str] = set()
        self.no_depth = 0
        self.no_flag = 0
        self.parts: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}
        self.flag_pool: dict[str, str] = {}

    def add(self, df: pd.DataFrame, line: npt.NDArray[np.int64]) -> None:
        """Check and split one block of rows."""
        n = len(df)

        def col(name: str, default: str = "") -> pd.Series:
            if name in df.columns:
                return df[name].astype(str).str.strip()
            return pd.Series([default] * n, index=df.index, dtype=object)

        def number(name: str) -> npt.NDArray[np.float64]:
            text = col(name)
            if self.sep != ",":  # decimal commas ("36,6") in a ';' or tab separated file
                text = text.str.replace(",", ".", regex=False)
            return pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)

        station = col("station")
        lat = number("lat")
        lon = number("lon")
        stamp_txt = col("timestamp")
        zone = stamp_txt.str.contains(_ZONE_NAME_RE, na=False).to_numpy()
        with warnings_module.catch_warnings():
            warnings_module.simplefilter("ignore")  # each problem is reported instead
            times = pd.DatetimeIndex(
                pd.to_datetime(stamp_txt.where(~zone, ""), errors="coerce", utc=True)
            )
        del stamp_txt
        sm = number("sm")
        depth_txt = col("depth")
        depth = number("depth")
        year = np.asarray(times.year, dtype=np.float64)
        flag = col("flag").to_numpy(dtype=object)
        network = col("network", "field").replace("", "field").to_numpy(dtype=object)
        sensor = col("sensor", "field").replace("", "field").to_numpy(dtype=object)
        unit_txt = col("unit")
        unit_txt = unit_txt.where(unit_txt != "", self.options.unit)
        kinds = unit_txt.map(_unit_kind)
        unknown = kinds.isna().to_numpy()
        if unknown.any():
            self.unknown_units.update(unit_txt[unknown])
        masks = (
            (station == "").to_numpy(),
            ~(np.abs(lat) <= 90) | ~(np.abs(lon) <= 180),
            zone,
            np.asarray(times.isna()),
            (year < MIN_YEAR) | np.asarray(times > pd.Timestamp.now(tz="UTC")),
            np.isnan(sm),
            (depth_txt != "").to_numpy() & np.isnan(depth),
            depth < 0,
            unknown,
        )
        sm = np.where((kinds == "percent").to_numpy(), sm / 100.0, sm)
        drop = np.zeros(n, dtype=bool)
        for why, mask in zip(self.REASONS, masks, strict=True):
            mask = mask & ~drop
            if mask.any():
                entry = self.counts[why]
                first = int(line[np.flatnonzero(mask)[0]])
                entry[1] = first if entry[0] == 0 else min(entry[1], first)
                entry[0] += int(mask.sum())
                drop |= mask
        self.no_depth += int((~drop & np.isnan(depth)).sum())
        self.no_flag += int((~drop & (flag == "")).sum())
        flag = np.where(flag == "", "G", flag)
        depth_to = np.where(np.isnan(depth), 0.05, depth)
        depth_from = np.where(np.isnan(depth), 0.0, depth)
        keep = ~drop
        frame = pd.DataFrame(
            {
                "network": network[keep],
                "station": station.to_numpy(dtype=object)[keep],
                "lat": lat[keep],
                "lon": lon[keep],
                "depth_from": depth_from[keep],
                "depth_to": depth_to[keep],
                "sensor": sensor[keep],
                "pos": np.flatnonzero(keep),
            }
        )
        keys = ["network", "station", "lat", "lon", "depth_from", "depth_to", "sensor"]
        ns = times.asi8
        for key, grp in frame.groupby(keys, sort=False):
            pos = grp["pos"].to_numpy()
            pooled = np.array([self.flag_pool.setdefault(f, f) for f in flag[pos]], dtype=object)
            self.parts.setdefault(tuple(key), []).append(
                (ns[pos], sm[pos].astype(np.float64), pooled, line[pos])
            )

    def result(self) -> ParseResult:
        """The series (fragments joined) and the warnings of the whole file."""
        warnings: list[str] = []
        for why, (count, first) in self.counts.items():
            if not count:
                continue
            if why == "unit":
                names = ", ".join(map(repr, sorted(self.unknown_units)))
                why = f"an unknown unit ({names}; allowed m3/m3 or %)"
            warnings.append(f"{self.name}: {count} rows with {why} skipped (first at line {first})")
        if self.no_depth:
            warnings.append(
                f"{self.name}: {self.no_depth} rows without a depth taken as surface "
                "(0-0.05 m) readings"
            )
        if self.no_flag and self.has_flag:
            warnings.append(f"{self.name}: {self.no_flag} rows without a flag taken as G")
        keys = list(self.parts)
        _warn_moving_stations(
            self.name,
            np.array([k[0] for k in keys], dtype=object),
            np.array([k[1] for k in keys], dtype=object),
            np.array([k[2] for k in keys], dtype=np.float64),
            np.array([k[3] for k in keys], dtype=np.float64),
            warnings,
        )
        series: list[Series] = []
        for key in keys:
            frags = self.parts.pop(key)
            net, sta, la, lo, dfr, dto, sen = key
            meta = StationMeta(
                str(net),
                str(sta),
                float(la),
                float(lo),
                None,
                float(dfr),
                float(dto),
                str(sen),
                self.name,
            )

            def join(k: int, frags: list[tuple[Any, ...]] = frags) -> npt.NDArray[Any]:
                return frags[0][k] if len(frags) == 1 else np.concatenate([f[k] for f in frags])

            series.append(Series(meta, _utc_index(join(0)), join(1), join(2), join(3)))
        return ParseResult(series, warnings)


register_format(IsmnHeaderValues())
register_format(IsmnCeop())
register_format(StationCsv())


def detect_format(src: TextSource) -> StationFormat:
    """Return the registered format that recognises ``src``.

    Raises:
        InputError: No format recognises it (the message lists the accepted formats).

    """
    for fmt in FORMATS.values():
        if fmt.sniff(src):
            return fmt
    detail = ""
    header = _csv_header(src)
    if header is not None and src.filename.lower().endswith((".csv", ".txt")):
        missing = [c for c in _CSV_REQUIRED if c not in header[1]]
        if missing and len(header[1]) > 1:
            detail = f" It looks like a CSV but lacks the columns {', '.join(missing)}."
    first = _first_lines(src, 1)
    shown = first[0][1].strip()[:60] if first else "(empty file)"
    accepted = "; ".join(f.description for f in FORMATS.values())
    raise InputError(
        f"{src.name}: unknown station file format (line {first[0][0] if first else 1}: "
        f"{shown!r}).{detail} Accepted: {accepted}."
    )


# -- inputs: files, folders, zips ----------------------------------------------------------
_CANDIDATE_SUFFIXES = (".stm", ".csv", ".txt")
_ISMN_ANCILLARY = re.compile(
    r"(_static_variables\.csv$|^metadata\.xml$|^readme|qualityflags|^ismn_.*\.txt$)",
    re.IGNORECASE,
)


def _is_ancillary(parts: Sequence[str]) -> bool:
    """ISMN side files (metadata, read-me, static variables) that hold no readings."""
    if not parts:
        return False
    return "python_metadata" in parts[:-1] or bool(_ISMN_ANCILLARY.search(parts[-1]))


def folder_station_files(folder: Path) -> tuple[list[Path], list[Path]]:
    """The files of a folder (searched recursively) that are read as station files.

    Returns:
        ``(files, skipped)``: candidate station files and zips, sorted; and the files of other
        types. ISMN side files (read-me, metadata, static variables) are in neither list.
    """
    files: list[Path] = []
    skipped: list[Path] = []
    for p in sorted(folder.rglob("*")):
        if not p.is_file() or _is_ancillary(p.relative_to(folder).parts):
            continue
        if p.suffix.lower() in (*_CANDIDATE_SUFFIXES, ".zip"):
            files.append(p)
        else:
            skipped.append(p)
    return files, skipped


def _encoding(data: bytes) -> str:
    """``utf-8-sig`` when the bytes are valid UTF-8, else ``latin-1`` (checked piece by piece)."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for k in range(0, len(data), CHUNK_CHARS):
            decoder.decode(data[k : k + CHUNK_CHARS])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "latin-1"
    return "utf-8-sig"


def _unsafe_member(name: str) -> bool:
    """Absolute paths, drive letters and ``..`` parts: never used, and reported."""
    posix = name.replace("\\", "/")
    parts = PurePosixPath(posix).parts
    return posix.startswith("/") or bool(re.match(r"^[A-Za-z]:", posix)) or ".." in parts


class _Reader:
    """Walks inputs and collects sources and warnings."""

    def __init__(self, warnings: list[str]) -> None:
        self.warnings = warnings
        self.skipped: list[str] = []
        self.seen: set[Path] = set()

    def expand(self, path: Path) -> list[Path]:
        """Files to read for one input path (a folder is searched recursively).

        A file given twice (directly or through folders) is read once, and said so.
        """
        if not path.exists():
            raise InputError(f"station input {str(path)!r} does not exist")
        if path.is_dir():
            files, skipped = folder_station_files(path)
            self.skipped.extend(str(p) for p in skipped)
        else:
            files = [path]
        fresh = []
        for f in files:
            key = f.resolve()
            if key in self.seen:
                self.warnings.append(f"{f}: given more than once; read once")
                continue
            self.seen.add(key)
            fresh.append(f)
        return fresh

    def sources(self, path: Path) -> Iterator[TextSource]:
        """Yield the decoded station files of one file or zip archive."""
        if path.is_file() and (path.suffix.lower() == ".zip" or zipfile.is_zipfile(path)):
            yield from self._zip_sources(path)
            return
        try:
            if not path.is_file():  # a device or a pipe (/dev/zero never ends)
                self.warnings.append(f"{path}: not a regular file; skipped")
                return
            size = path.stat().st_size
            if size > MAX_ZIP_TOTAL_BYTES:
                self.warnings.append(
                    f"{path}: {size / 1024**3:,.1f} GiB is more than a station file can be "
                    f"({MAX_ZIP_TOTAL_BYTES / 1024**3:,.0f} GiB); split it; skipped"
                )
                return
            data = path.read_bytes()
        except OSError as exc:
            self.warnings.append(f"{path}: cannot be read ({exc.strerror or exc}); skipped")
            return
        box = [TextSource(str(path), path.name, data, _encoding(data))]
        del data
        yield box.pop()  # the generator keeps no reference while the file is parsed

    def _zip_sources(self, path: Path) -> Iterator[TextSource]:
        try:
            zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            self.warnings.append(f"{path}: not a readable zip archive ({exc}); skipped")
            return
        budget = MAX_ZIP_TOTAL_BYTES
        with zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
            for k, info in enumerate(infos):
                name = info.filename
                label = f"{path}:{name}"
                if _unsafe_member(name):
                    self.warnings.append(
                        f"{label}: unsafe member path (absolute or with '..'); skipped"
                    )
                    continue
                parts = PurePosixPath(name.replace("\\", "/")).parts
                suffix = PurePosixPath(name).suffix.lower()
                if _is_ancillary(parts):
                    continue
                if suffix == ".zip":
                    self.warnings.append(f"{label}: nested zip archives are not read; skipped")
                    continue
                if suffix not in _CANDIDATE_SUFFIXES:
                    self.skipped.append(label)
                    continue
                ratio = info.file_size / max(info.compress_size, 1)
                if info.file_size > ZIP_RATIO_MIN_BYTES and ratio > MAX_ZIP_RATIO:
                    self.warnings.append(
                        f"{label}: compression ratio {ratio:.0f}:1 is above the limit of "
                        f"{MAX_ZIP_RATIO:.0f}:1 (a possible zip bomb); skipped"
                    )
                    continue
                if info.file_size > budget:
                    self.warnings.append(
                        f"{path}: more than {MAX_ZIP_TOTAL_BYTES / 1024**2:,.0f} MiB uncompressed; "
                        f"stopped at {name!r}, {len(infos) - k} members not read. Unzip the "
                        "archive and give the folder, or split it."
                    )
                    return
                try:
                    data = self._read_member(zf, info, budget)
                except (
                    zipfile.BadZipFile,
                    zlib.error,
                    EOFError,
                    NotImplementedError,
                    RuntimeError,
                    OSError,
                    ValueError,
                ) as exc:
                    self.warnings.append(
                        f"{label}: cannot be read, the archive is damaged or uses an "
                        f"unsupported compression ({exc}); skipped"
                    )
                    continue
                if data is None:
                    self.warnings.append(
                        f"{label}: expands beyond its declared size or the archive's "
                        f"{MAX_ZIP_TOTAL_BYTES / 1024**2:,.0f} MiB limit; skipped"
                    )
                    return
                budget -= len(data)
                box = [TextSource(label, PurePosixPath(name).name, data, _encoding(data))]
                del data
                yield box.pop()

    @staticmethod
    def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int) -> bytes | None:
        """Read a member in memory, at most its declared size and the budget (None if more)."""
        cap = min(info.file_size, budget)
        chunks: list[bytes] = []
        got = 0
        with zf.open(info) as fh:
            while True:
                chunk = fh.read(min(1024**2, cap + 1 - got))
                if not chunk:
                    break
                got += len(chunk)
                if got > cap:
                    return None
                chunks.append(chunk)
        return b"".join(chunks)


# -- filtering -----------------------------------------------------------------------------
def _filter_series(
    s: Series,
    aoi: AOI | None,
    accept: frozenset[str],
    max_depth: float,
    warnings: list[str],
    csv_unit_hint: bool,
) -> Series | None:
    """Apply the AOI, depth, range and flag rules to one series; count what is dropped."""
    m = s.meta
    n = len(s.sm)
    if n == 0:
        warnings.append(f"{m.source}: {m.label} has no readings")
        return None
    if aoi is not None and not _inside(aoi, m.lat, m.lon):
        warnings.append(
            f"{m.source}: station {m.network} {m.station} at lat {m.lat:.5f}, lon {m.lon:.5f} "
            f"lies outside the AOI {aoi.name!r}: {n} readings dropped"
        )
        return None
    if m.depth_from < 0 or m.depth_to < 0 or m.depth_to < m.depth_from:
        warnings.append(
            f"{m.source}: {m.label} has the depths {m.depth_from:g}-{m.depth_to:g} m; depths are "
            f"metres below the surface, from <= to: {n} readings dropped"
        )
        return None
    if m.depth_to > max_depth:
        warnings.append(
            f"{m.source}: {m.label} measures {m.depth_from:.2f}-{m.depth_to:.2f} m, deeper than "
            f"the 0-5 cm surface layer (not a surface measurement): {n} readings dropped"
        )
        return None
    year = np.asarray(s.time.year)
    bad_date = (year < MIN_YEAR) | np.asarray(s.time > pd.Timestamp.now(tz="UTC"))
    if bad_date.any():
        idx = np.flatnonzero(bad_date)[0]
        warnings.append(
            f"{m.source}: {int(bad_date.sum())} readings of {m.label} dated before {MIN_YEAR} or "
            f"in the future dropped (first at line {int(s.line[idx])}: {s.time[idx]:%Y-%m-%d})"
        )
    bad_value = ~((s.sm >= 0.0) & (s.sm <= 1.0)) & ~bad_date
    out_of_range = bad_value | bad_date
    if bad_value.any():
        idx = np.flatnonzero(bad_value)[0]
        hint = (
            "; if the values are percent, add a unit column with '%' or pass the unit option %"
            if csv_unit_hint
            else ""
        )
        warnings.append(
            f"{m.source}: {int(bad_value.sum())} readings of {m.label} outside 0-1 m3/m3 "
            f"dropped (first at line {int(s.line[idx])}: {s.sm[idx]:g}){hint}"
        )
    flag_ok = np.isin(s.flag.astype(str), list(accept))
    bad_flag = ~flag_ok & ~out_of_range
    if bad_flag.any():
        counts = Counter(s.flag[bad_flag].tolist()).most_common()
        shown = ", ".join(f"{f}: {c}" for f, c in counts[:6])
        more = f", {len(counts) - 6} other flags" if len(counts) > 6 else ""
        warnings.append(
            f"{m.source}: {int(bad_flag.sum())} readings of {m.label} with a flag other than "
            f"{'/'.join(sorted(accept))} dropped ({shown}{more})"
        )
    keep = flag_ok & ~out_of_range
    if not keep.any():
        return None
    if keep.all():
        return s
    return Series(m, s.time[keep], s.sm[keep], s.flag[keep], s.line[keep])


def _inside(aoi: AOI, lat: float, lon: float) -> bool:
    import shapely

    from .grid import lonlat_to_xy

    x, y = lonlat_to_xy(lon, lat)
    return bool(shapely.contains_xy(aoi.geometry, float(x), float(y)))


_SENSOR_FIELDS = ("network", "station", "lat", "lon", "depth_from", "depth_to", "sensor")
"""What identifies one sensor (its readings at one place and depth)."""


def _categorical(values: Sequence[Any], codes: npt.NDArray[np.int64]) -> pd.Categorical:
    """A categorical of ``values[codes]`` with sorted categories (string order sorts right)."""
    cats = sorted(set(values))
    where = {v: k for k, v in enumerate(cats)}
    per_value = np.array([where[v] for v in values], dtype=np.int64)
    small = per_value[codes]
    return pd.Categorical.from_codes(small, categories=cats)


def _assemble_readings(series: list[Series], warnings: list[str]) -> pd.DataFrame:
    """The kept series as one readings table, duplicates dropped, ordered, memory-lean.

    The sensor columns are categoricals (one small code per reading), so a table of millions of
    readings costs about 25 bytes per reading. The first reading of each sensor and timestamp
    is kept (in the order the inputs were given); the others are counted per file.
    """
    lengths = np.array([len(x.sm) for x in series], dtype=np.int64)
    metas = [x.meta for x in series]
    sensor_of: dict[tuple[Any, ...], int] = {}
    series_sensor = np.array(
        [
            sensor_of.setdefault(tuple(getattr(m, f) for f in _SENSOR_FIELDS), len(sensor_of))
            for m in metas
        ],
        dtype=np.int64,
    )
    series_idx = np.repeat(np.arange(len(series), dtype=np.int32), lengths)
    sid = series_sensor.astype(np.int32)[series_idx]
    t_ns = np.concatenate([x.time.asi8 for x in series])
    dup = _duplicates(sid, t_ns)
    if dup is not None:
        key = pd.DataFrame({"sid": sid, "t": t_ns})
        _count_duplicates(key, dup, series, series_idx, warnings)
        del key
    keep = np.flatnonzero(~dup) if dup is not None else None
    del dup
    # order: network, station, sensor, time (stable: ties keep the input order)
    sensors = list(sensor_of)
    names = [(k[0], k[1], k[6]) for k in sensors]
    rank_of = {v: r for r, v in enumerate(sorted(set(names)))}
    sensor_rank = np.array([rank_of[v] for v in names], dtype=np.int32)
    rank = sensor_rank[sid] if keep is None else sensor_rank[sid[keep]]
    t_kept = t_ns if keep is None else t_ns[keep]
    order: npt.NDArray[np.int64] | None
    if _is_sorted(rank, t_kept):
        order = keep  # None: the input order is the table's order, nothing to move
    else:
        perm = np.lexsort((t_kept, rank))
        order = perm if keep is None else keep[perm]
        del perm
    del keep, rank, t_kept

    def take(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
        return values if order is None else values[order]

    def joined(arrays: list[npt.NDArray[Any]]) -> npt.NDArray[Any]:
        return take(arrays[0] if len(arrays) == 1 else np.concatenate(arrays))

    sid_o = take(sid)
    series_o = take(series_idx)
    del sid, series_idx
    columns: dict[str, Any] = {}
    for k, name in enumerate(_SENSOR_FIELDS):
        columns[name] = _categorical([sk[k] for sk in sensors], sid_o)
    del sid_o
    columns["time"] = _utc_index(take(t_ns))
    del t_ns
    columns["sm"] = joined([x.sm for x in series])
    columns["flag"] = pd.Categorical(joined([x.flag for x in series]))
    columns["source"] = _categorical([m.source for m in metas], series_o)
    return pd.DataFrame(columns, copy=False)[READING_COLUMNS]


def _is_sorted(major: npt.NDArray[Any], minor: npt.NDArray[Any]) -> bool:
    """Whether rows are already in (major, minor) order (then nothing needs sorting)."""
    if major.size < 2:
        return True
    up = major[1:] > major[:-1]
    same = major[1:] == major[:-1]
    return bool(np.all(up | (same & (minor[1:] >= minor[:-1]))))


def _duplicates(sid: npt.NDArray[Any], t_ns: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_] | None:
    """Mask of readings whose sensor and time occurred earlier in the input (None: none do).

    Data come sorted by time per sensor almost always: then one pass over neighbours proves
    that nothing repeats, without hashing millions of keys.
    """
    if sid.size < 2:
        return None
    if _is_sorted(sid, t_ns):
        same = (sid[1:] == sid[:-1]) & (t_ns[1:] == t_ns[:-1])
        if not same.any():
            return None
        dup = np.zeros(sid.size, dtype=bool)
        dup[1:] = same
        return dup
    perm = np.lexsort((t_ns, sid))  # stable: the first of equal keys stays first
    s_sid, s_t = sid[perm], t_ns[perm]
    same = (s_sid[1:] == s_sid[:-1]) & (s_t[1:] == s_t[:-1])
    del s_sid, s_t
    if not same.any():
        return None
    dup = np.zeros(sid.size, dtype=bool)
    dup[perm[1:][same]] = True
    return dup


def _count_duplicates(
    key: pd.DataFrame,
    dup: npt.NDArray[np.bool_],
    series: list[Series],
    series_idx: npt.NDArray[np.integer[Any]],
    warnings: list[str],
) -> None:
    """Warn, per file, about readings whose sensor and timestamp were already read."""
    involved = np.flatnonzero(key.duplicated(keep=False).to_numpy())
    sub = key.iloc[involved].assign(series=series_idx[involved], row=involved)
    first = sub.groupby(["sid", "t"], sort=False)["series"].transform("first").to_numpy()
    is_dup = dup[involved]
    line = np.concatenate([x.line for x in series])
    frame = pd.DataFrame(
        {
            "src": series_idx[involved][is_dup],
            "orig": first[is_dup],
            "row": involved[is_dup],
        }
    )
    for (src_i, orig_i), grp in frame.groupby(["src", "orig"], sort=False):
        src = series[int(src_i)].meta.source
        orig = series[int(orig_i)].meta.source
        where = "within the file" if src == orig else f"already read from {orig}"
        row = int(grp["row"].iloc[0])
        when = pd.Timestamp(int(key["t"].iloc[row]), tz="UTC")
        warnings.append(
            f"{src}: {len(grp)} readings with a duplicate timestamp {where} dropped (first "
            f"at line {int(line[row])}, {when:%Y-%m-%d %H:%M} UTC); "
            "the first reading of each timestamp was kept"
        )


# -- daily table ---------------------------------------------------------------------------
def _codes(column: pd.Series) -> tuple[npt.NDArray[np.int64], int]:
    """Integer codes of a column and their count (categorical codes are used as they are)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.codes.to_numpy().astype(np.int64), len(column.cat.categories)
    codes, uniques = pd.factorize(column, use_na_sentinel=False)
    return codes.astype(np.int64), len(uniques)


def _group_ids(columns: Sequence[pd.Series]) -> npt.NDArray[np.int64]:
    """One integer per distinct combination of ``columns`` (0..k-1, in order of appearance)."""
    acc: npt.NDArray[np.int64] | None = None
    size = 1
    for col in columns:
        c, k = _codes(col)
        if acc is None:
            acc, size = c, max(k, 1)
        else:
            acc = acc * max(k, 1) + c
            size *= max(k, 1)
        if size > 2**40:  # keep the mixed radix inside int64
            acc, uniques = pd.factorize(acc)
            size = len(uniques)
    assert acc is not None
    ids, _ = pd.factorize(acc)
    return ids.astype(np.int64)


def _per_sensor_daily(readings: pd.DataFrame) -> pd.DataFrame:
    """Daily mean and count of each sensor's readings (UTC days), without copying the table.

    Returns:
        Columns network, station, lat, lon, depth_from, depth_to, sensor, date (tz-naive
        midnight), mean, size.

    """
    sensor_key = list(_SENSOR_FIELDS)
    ns = pd.DatetimeIndex(readings["time"]).asi8  # UTC nanoseconds
    day = np.floor_divide(ns, 86_400 * 10**9)
    del ns
    sid = _group_ids([readings[c] for c in sensor_key])
    gid = _group_ids([pd.Series(sid), pd.Series(day)])
    n_groups = int(gid.max()) + 1 if gid.size else 0
    sm = readings["sm"].to_numpy(dtype=np.float64)
    sums = np.bincount(gid, weights=sm, minlength=n_groups)
    counts = np.bincount(gid, minlength=n_groups)
    first = np.full(n_groups, -1, dtype=np.int64)
    rows = np.arange(gid.size, dtype=np.int64)
    first[gid[::-1]] = rows[::-1]
    del rows
    out = readings.iloc[first][sensor_key].reset_index(drop=True)
    for c in sensor_key:
        if isinstance(out[c].dtype, pd.CategoricalDtype):
            out[c] = out[c].astype(out[c].cat.categories.dtype)
    out["date"] = pd.to_datetime(day[first] * 86_400 * 10**9)
    out["mean"] = sums / counts
    out["size"] = counts.astype(np.int64)
    return out


def daily_table(readings: pd.DataFrame) -> pd.DataFrame:
    """Average readings per calendar day (UTC) and per 50 m EASE-2 cell.

    Each sensor's readings are first averaged per day; the sensors (and stations) in one 50 m
    cell are then averaged with equal weight. ``n`` is the number of readings used.

    Args:
        readings: Columns network, station, lat, lon, depth_from, depth_to, sensor, time (UTC,
            tz-aware), sm.

    Returns:
        One row per cell and day, columns :data:`DAILY_COLUMNS`; ``date`` is the UTC day as a
        tz-naive midnight timestamp; sorted by network, station, date.

    """
    if readings.empty:
        return pd.DataFrame(columns=DAILY_COLUMNS)
    per_sensor = _per_sensor_daily(readings)
    row50, col50 = lonlat_to_rowcol(
        per_sensor["lon"].to_numpy(dtype=np.float64),
        per_sensor["lat"].to_numpy(dtype=np.float64),
        "50m",
    )
    per_sensor["row50"] = row50
    per_sensor["col50"] = col50

    def _join(values: pd.Series) -> str:
        return "+".join(sorted(set(map(str, values))))

    grouped = per_sensor.groupby(["row50", "col50", "date"], sort=False)
    daily = grouped.agg(
        network=("network", _join),
        station=("station", _join),
        lat=("lat", "mean"),
        lon=("lon", "mean"),
        sm=("mean", "mean"),
        n=("size", "sum"),
    ).reset_index()
    k = LEVELS["50m"] // LEVELS["9km"]
    daily["row9"] = daily["row50"] // k
    daily["col9"] = daily["col50"] // k
    daily["n"] = daily["n"].astype(np.int64)
    daily = daily[DAILY_COLUMNS].sort_values(["network", "station", "date"], kind="stable")
    return daily.reset_index(drop=True)


# -- public entry points -------------------------------------------------------------------
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
    problems: list[str] = []  # file-level errors, also shown in the final error
    kept_series: list[Series] = []
    metas: dict[StationMeta, None] = {}
    n_sources = 0
    for k, path in enumerate(files):
        progress.check()
        progress.message(f"reading {path.name}")
        for src in reader.sources(path):
            progress.check()
            n_sources += 1
            try:
                fmt = detect_format(src)
                result = fmt.parse(src, options)
            except InputError as exc:
                problems.append(str(exc))
                continue
            finally:
                del src  # the file's content is not needed once parsed
            warnings.extend(result.warnings)
            series = result.series
            del result
            while series:  # each series is released as soon as it is filtered
                kept = _filter_series(
                    series.pop(0),
                    aoi,
                    accept,
                    max_depth_m,
                    warnings,
                    csv_unit_hint=isinstance(fmt, StationCsv),
                )
                if kept is not None:
                    kept_series.append(kept)
                    metas[kept.meta] = None
                del kept
        progress.fraction((k + 1) / len(files))
    if reader.skipped:
        shown = ", ".join(reader.skipped[:5])
        more = f" and {len(reader.skipped) - 5} more" if len(reader.skipped) > 5 else ""
        warnings.append(
            f"{len(reader.skipped)} files that are not station files (not .stm, .csv, .txt or "
            f".zip) skipped: {shown}{more}"
        )
    if not kept_series:
        where = ", ".join(str(p) for p in paths)
        if n_sources == 0 and not problems:
            why = ("\n  " + "\n  ".join(warnings)) if warnings else ""
            raise InputError(
                f"no readable station file found in {where}; expected ISMN .stm files, station "
                f"CSVs, or folders / zip archives holding them.{why}"
            )
        if len(problems) == 1 and not warnings:
            raise InputError(problems[0])
        details = "\n  ".join(problems + warnings) or "no readings"
        raise InputError(f"no usable soil moisture readings in {where}:\n  {details}")
    all_warnings = [f"{p} The file was skipped." for p in problems] + warnings
    readings = _assemble_readings(kept_series, all_warnings)
    del kept_series
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
    return StationData(readings, daily_table(readings), list(stations.values()), all_warnings)


def station_summary(data: StationData) -> pd.DataFrame:
    """One row per kept sensor: network, station, lat, lon, depth, sensor, days, first, last, sm.

    ``days`` counts UTC days with readings; ``sm`` is the mean of the sensor's daily means.
    """
    r = data.readings
    if r.empty:
        return pd.DataFrame(
            columns=[
                "network",
                "station",
                "lat",
                "lon",
                "depth",
                "sensor",
                "days",
                "first",
                "last",
                "sm",
                "readings",
            ]
        )
    key = list(_SENSOR_FIELDS)
    daily = _per_sensor_daily(r)
    g = daily.groupby(key, sort=False)
    out = g.agg(
        days=("date", "nunique"),
        first=("date", "min"),
        last=("date", "max"),
        sm=("mean", "mean"),
        readings=("size", "sum"),
    ).reset_index()
    pairs = zip(out["depth_from"], out["depth_to"], strict=True)
    out["depth"] = [f"{a:.4g}-{b:.4g} m" for a, b in pairs]
    cols = [
        "network",
        "station",
        "lat",
        "lon",
        "depth",
        "sensor",
        "days",
        "first",
        "last",
        "sm",
        "readings",
    ]
    return out[cols].sort_values(["network", "station"], kind="stable").reset_index(drop=True)


def write_daily_csv(daily: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write the daily table as CSV atomically (dates as YYYY-MM-DD, sm to 5 decimals).

    Raises:
        InputError: The table lacks daily columns.

    """
    missing = [c for c in DAILY_COLUMNS if c not in daily.columns]
    if missing:
        raise InputError(f"not a daily station table: missing columns {', '.join(missing)}")
    out = daily[DAILY_COLUMNS].copy()
    out["date"] = pd.to_datetime(out["date"]).dt.strftime("%Y-%m-%d")
    out["lat"] = out["lat"].astype(float).round(6)
    out["lon"] = out["lon"].astype(float).round(6)
    out["sm"] = out["sm"].astype(float).round(5)
    with atomic_path(path) as tmp:
        out.to_csv(tmp, index=False, lineterminator="\n")


__all__ = [
    "ACCEPTED_FLAGS",
    "DAILY_COLUMNS",
    "FORMATS",
    "MAX_ZIP_RATIO",
    "MAX_ZIP_TOTAL_BYTES",
    "READING_COLUMNS",
    "SURFACE_DEPTH_M",
    "ParseResult",
    "ReadOptions",
    "Series",
    "StationCsv",
    "StationData",
    "StationFormat",
    "StationMeta",
    "IsmnCeop",
    "IsmnHeaderValues",
    "TextSource",
    "daily_table",
    "detect_format",
    "read_station_files",
    "register_format",
    "station_summary",
    "write_daily_csv",
]
