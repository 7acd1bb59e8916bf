"""Where station files come from: files, folders searched recursively, and zip archives.

:class:`_Reader` turns the inputs into :class:`~.text.TextSource` objects, one file at a time.
Zip archives are read in memory, member by member, never extracted by member name; the total
uncompressed size and each member's compression ratio are capped against zip bombs.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath

from ...errors import InputError
from .text import TextSource, _encoding

MAX_ZIP_TOTAL_BYTES = 2 * 1024**3
"""Largest total uncompressed size read from one zip archive (bytes)."""
MAX_ZIP_RATIO = 200.0
"""Largest compression ratio of a zip member above :data:`ZIP_RATIO_MIN_BYTES`."""
ZIP_RATIO_MIN_BYTES = 1024**2
"""Members smaller than this (uncompressed) are not checked for their ratio."""

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


def _unsafe_member(name: str) -> bool:
    """Absolute paths, drive letters and ``..`` parts: never used, and reported."""
    posix = name.replace("\\", "/")
    parts = PurePosixPath(posix).parts
    return posix.startswith("/") or bool(re.match(r"^[A-Za-z]:", posix)) or ".." in parts


_MEMBER_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    NotImplementedError,
    RuntimeError,
    OSError,
    ValueError,
)
"""What reading a damaged or oddly compressed zip member may raise (the member is skipped)."""


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
                if not self._wanted_member(info, label):
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
                except _MEMBER_ERRORS as exc:
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

    def _wanted_member(self, info: zipfile.ZipInfo, label: str) -> bool:
        """Whether a zip member is read: unsafe, side, nested-zip, other and bomb-like ones not.

        Unsafe paths, nested zips and bomb-like ratios are warned about; other file types are
        listed as skipped; ISMN side files are passed over silently.
        """
        name = info.filename
        if _unsafe_member(name):
            self.warnings.append(f"{label}: unsafe member path (absolute or with '..'); skipped")
            return False
        parts = PurePosixPath(name.replace("\\", "/")).parts
        suffix = PurePosixPath(name).suffix.lower()
        if _is_ancillary(parts):
            return False
        if suffix == ".zip":
            self.warnings.append(f"{label}: nested zip archives are not read; skipped")
            return False
        if suffix not in _CANDIDATE_SUFFIXES:
            self.skipped.append(label)
            return False
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > ZIP_RATIO_MIN_BYTES and ratio > MAX_ZIP_RATIO:
            self.warnings.append(
                f"{label}: compression ratio {ratio:.0f}:1 is above the limit of "
                f"{MAX_ZIP_RATIO:.0f}:1 (a possible zip bomb); skipped"
            )
            return False
        return True

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
