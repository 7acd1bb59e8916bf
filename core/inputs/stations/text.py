"""A station file's content and how parsers walk it: heads, line pieces and their numbers.

:class:`TextSource` holds a file as read (bytes with their encoding, or text). The helpers here
split it piece by piece (:data:`CHUNK_CHARS` at a time) so that a large file is never held
twice, and keep every line's 1-based number exact for messages.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

CHUNK_CHARS = 1 << 22
"""Characters (bytes) of a station file parsed at a time (bounds the parser's memory)."""


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


def _line_bound(src: TextSource) -> int:
    """An upper bound of the number of lines of a file (for preallocating its readings)."""
    c = src.content
    if isinstance(c, bytes):
        return c.count(b"\n") + c.count(b"\r") + 1
    return c.count("\n") + c.count("\r") + 1
