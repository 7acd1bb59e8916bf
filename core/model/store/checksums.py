"""SHA-256 checksums: ``SHA256SUMS`` files, the published files' checksums, hashing a file."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from ...errors import ModelStoreError
from .layout import _CHUNK, _SHA_RE, PUBLISHED_SHA256SUMS, SUMS

if TYPE_CHECKING:  # pragma: no cover
    from .model_set import MemberInfo


def parse_sha256sums(text: str, label: str = SUMS) -> dict[str, str]:
    """Parse ``sha256sum`` output (``HASH  NAME`` or ``HASH *NAME`` per line).

    Args:
        text: the file's contents.
        label: what to call the file in error messages.

    Returns:
        ``{file name: lower-case hex digest}`` (file names reduced to their base name).

    Raises:
        ModelStoreError: a line is not a checksum line.

    """
    sums: dict[str, str] = {}
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(maxsplit=1)
        if len(parts) != 2 or not _SHA_RE.match(parts[0].lower()):
            raise ModelStoreError(f"{label}, line {lineno} is not a 'SHA256  FILE' line: {raw!r}")
        name = parts[1].strip().lstrip("*")
        sums[PurePosixPath(name.replace("\\", "/")).name] = parts[0].lower()
    return sums


PUBLISHED_SHA256: dict[str, str] = parse_sha256sums(PUBLISHED_SHA256SUMS)
"""``{file name: SHA-256}`` of the 25 published files."""


def sha256_file(path: Path) -> str:
    """SHA-256 (hex) of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _sums_text(members: Iterable[MemberInfo]) -> str:
    return "".join(f"{m.sha256}  {m.path.name}\n" for m in members)
