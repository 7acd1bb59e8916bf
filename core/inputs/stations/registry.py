"""The station file formats by name, and the detection that picks one from a file's content.

Each format lives in a file of its own (:mod:`.ismn_header`, :mod:`.ismn_ceop`,
:mod:`.station_csv`) and is registered here, in the order they are tried; a new format is one
class with ``name``, ``description``, ``sniff`` and ``parse`` and one :func:`register_format`.
"""

from __future__ import annotations

from typing import Protocol

from ...errors import InputError
from .ismn_ceop import IsmnCeop
from .ismn_header import IsmnHeaderValues
from .model import ParseResult, ReadOptions
from .station_csv import _CSV_REQUIRED, StationCsv, _csv_header
from .text import TextSource, _first_lines


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
