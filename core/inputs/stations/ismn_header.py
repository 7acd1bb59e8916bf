"""The ISMN "header + values" format: a station header line, then one reading per line."""

from __future__ import annotations

from .ismn_values import _DATE_RE, _name_meta, _parse_ismn_values, _precise_depth, _station_span
from .model import ParseResult, ReadOptions, Series, StationMeta
from .text import TextSource, _data_rows, _first_lines, _line_offset


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
