"""The ISMN CEOP-separate format: every line repeats the station next to its reading."""

from __future__ import annotations

from .ismn_values import _CEOP_RE, _name_meta, _parse_ismn_values, _precise_depth, _station_span
from .model import ParseResult, ReadOptions, Series, StationMeta
from .text import TextSource, _data_rows, _first_lines


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
