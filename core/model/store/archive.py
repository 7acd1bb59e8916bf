"""Installing from the authors' ``DenseSM_9km.zip``: its members read safely, within limits.

Unsafe paths, encrypted or oversized members and duplicate member files are refused;
other files (logs, read-me files, ``__MACOSX`` resource forks) are ignored.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path, PurePosixPath

from ...errors import ModelStoreError
from ...progress import Progress
from .assemble import _assemble
from .layout import _CHUNK, MAX_ARCHIVE_ENTRIES, MAX_MEMBER_BYTES, SUMS, _published_member
from .model_set import ModelSet


def _install_from_zip(
    archive: Path, name: str, source: str, progress: Progress, replace: bool
) -> ModelSet:
    try:
        zf = zipfile.ZipFile(archive)
    except (OSError, zipfile.BadZipFile) as exc:
        raise ModelStoreError(f"{archive} cannot be read as a zip archive: {exc}") from exc
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ARCHIVE_ENTRIES:
            raise ModelStoreError(
                f"{archive} has {len(infos)} entries; this is not the model archive"
            )
        wanted: dict[str, zipfile.ZipInfo] = {}
        sums_info: zipfile.ZipInfo | None = None
        for info in infos:
            if info.is_dir():
                continue
            parts = PurePosixPath(info.filename.replace("\\", "/")).parts
            if not parts:
                continue
            base = parts[-1]
            is_member = _published_member(base) is not None
            if not is_member and base != SUMS:
                continue  # ignore logs, read-me files, __MACOSX/._* resource forks, ...
            if info.filename.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]:
                raise ModelStoreError(
                    f"{archive} holds an unsafe member path {info.filename!r}; refusing to read it"
                )
            if any(p.startswith(".") or p == "__MACOSX" for p in parts[:-1]):
                continue
            if info.flag_bits & 0x1:
                raise ModelStoreError(f"{archive}: {info.filename} is encrypted")
            if info.file_size > MAX_MEMBER_BYTES:
                raise ModelStoreError(
                    f"{archive}: {info.filename} is {info.file_size / 1e6:.0f} MB, larger than "
                    f"any DenseSM member ({MAX_MEMBER_BYTES / 1e6:.0f} MB at most)"
                )
            if is_member:
                if base in wanted:
                    raise ModelStoreError(
                        f"{archive} holds {base} twice ({wanted[base].filename} and "
                        f"{info.filename}); cannot tell which to install"
                    )
                wanted[base] = info
            elif sums_info is None or len(parts) < len(PurePosixPath(sums_info.filename).parts):
                sums_info = info
        sums_text = None
        if sums_info is not None:
            sums_text = _read_zip_member(zf, sums_info, archive).decode("utf-8", errors="replace")
        sources = {
            n: (lambda i=i: io.BytesIO(_read_zip_member(zf, i, archive))) for n, i in wanted.items()
        }
        return _assemble(sources, sums_text, name, source, progress, replace, archive)


def _read_zip_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, archive: Path) -> bytes:
    """Read one member, never more than its declared size nor the member cap."""
    buf = io.BytesIO()
    try:
        with zf.open(info) as f:
            while chunk := f.read(_CHUNK):
                if buf.tell() + len(chunk) > min(info.file_size, MAX_MEMBER_BYTES):
                    raise ModelStoreError(
                        f"{archive}: {info.filename} is larger than it claims; refusing it"
                    )
                buf.write(chunk)
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as exc:
        raise ModelStoreError(f"{archive}: {info.filename} cannot be extracted: {exc}") from exc
    return buf.getvalue()
