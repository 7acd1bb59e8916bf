"""On-disk cache of fetched input arrays, keyed by a hash of the request.

Every array set a source fetches (one request: an expression on a grid with some bands) is
stored as ``<root>/<key[:2]>/<key>.npz`` with a sidecar ``<key>.sha256`` holding the SHA-256 of
the ``.npz`` bytes. Both are written atomically (temp file, then rename), the data first. On
read the checksum is verified: a missing sidecar, a mismatch or an unreadable file means the
entry is corrupt; it is logged, deleted and reported as a miss, so the caller refetches it. A
corrupt entry is never used.

Because keys depend only on the request (not on the method, alpha or run), a re-run, another
method or another alpha on the same AOI and date is served from here, and a run can be repeated
with no network at all. The root is ``core.paths.cache_dir() / "arrays"``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import logging
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import write_bytes
from ..errors import InputError
from ..paths import cache_dir

log = logging.getLogger(__name__)

_KEY = re.compile(r"^[0-9a-f]{16,128}$")


@dataclass(frozen=True)
class CacheEntry:
    """One stored entry."""

    key: str
    path: Path
    size_bytes: int
    """Size of the data file plus its sidecar."""
    modified: dt.datetime


def default_root() -> Path:
    """Return the array cache folder under the user's cache directory."""
    return cache_dir() / "arrays"


class ArrayCache:
    """A folder of ``.npz`` array sets with checksums (safe for concurrent threads)."""

    def __init__(self, root: str | Path | None = None) -> None:
        """Open (lazily create) a cache.

        Args:
            root: folder to use; default :func:`default_root` (evaluated now).

        """
        self.root = Path(root) if root is not None else default_root()

    # -- paths --------------------------------------------------------------------------
    def _check_key(self, key: str) -> None:
        if not _KEY.match(key):
            raise InputError(f"cache key {key!r} is not a lowercase hex digest")

    def path(self, key: str) -> Path:
        """Path of the data file for ``key``."""
        self._check_key(key)
        return self.root / key[:2] / f"{key}.npz"

    def _sidecar(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.sha256"

    # -- read / write -------------------------------------------------------------------
    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def get(self, key: str) -> dict[str, np.ndarray] | None:
        """Arrays stored under ``key``, or None on a miss or a corrupt entry.

        A corrupt entry (checksum missing or wrong, unreadable archive) is logged as a warning
        and deleted, and None is returned so that the caller refetches it.
        """
        data_path, side = self.path(key), self._sidecar(key)
        try:
            raw = data_path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            expected = side.read_text(encoding="ascii").split()[0].strip()
        except (FileNotFoundError, IndexError, UnicodeDecodeError):
            expected = ""
        actual = hashlib.sha256(raw).hexdigest()
        if expected != actual:
            self._discard(key, "checksum missing or wrong")
            return None
        try:
            with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
                return {name: np.asarray(npz[name]) for name in npz.files}
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
            self._discard(key, f"unreadable ({exc})")
            return None

    def put(self, key: str, arrays: Mapping[str, np.ndarray]) -> Path:
        """Store ``arrays`` under ``key`` (atomically, data then checksum).

        Returns:
            The data file path.

        """
        data_path = self.path(key)
        buf = io.BytesIO()
        np.savez(buf, **{name: np.asarray(a) for name, a in arrays.items()})
        raw = buf.getvalue()
        write_bytes(data_path, raw)
        write_bytes(self._sidecar(key), f"{hashlib.sha256(raw).hexdigest()}  {key}.npz\n".encode())
        return data_path

    def get_json(self, key: str) -> Any | None:
        """Return a JSON value stored with :meth:`put_json`, or None (miss or corrupt)."""
        arrays = self.get(key)
        if arrays is None:
            return None
        try:
            return json.loads(str(arrays["json"]))
        except (KeyError, ValueError):
            self._discard(key, "not a JSON entry")
            return None

    def put_json(self, key: str, value: Any) -> Path:
        """Store a JSON-serialisable value (request metadata) under ``key``."""
        return self.put(key, {"json": np.array(json.dumps(value, sort_keys=True))})

    def _discard(self, key: str, why: str) -> None:
        log.warning("cache entry %s is corrupt (%s); it is removed and will be refetched", key, why)
        for p in (self.path(key), self._sidecar(key)):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()

    # -- housekeeping -------------------------------------------------------------------
    def entries(self) -> list[CacheEntry]:
        """Every stored entry, oldest first."""
        out: list[CacheEntry] = []
        if not self.root.exists():
            return out
        for data_path in self.root.glob("*/*.npz"):
            key = data_path.stem
            if not _KEY.match(key):
                continue
            try:
                st = data_path.stat()
            except FileNotFoundError:
                continue
            size = st.st_size
            with contextlib.suppress(FileNotFoundError):
                size += self._sidecar(key).stat().st_size
            out.append(CacheEntry(key, data_path, size, dt.datetime.fromtimestamp(st.st_mtime)))
        return sorted(out, key=lambda e: e.modified)

    def problem(self, key: str) -> str | None:
        """Why the entry ``key`` is unusable (checksum missing or wrong), or None if sound.

        Unlike :meth:`get`, nothing is deleted: this is for reporting (``cache info``).
        """
        try:
            raw = self.path(key).read_bytes()
        except OSError as exc:
            return f"unreadable ({exc.strerror or exc})"
        try:
            expected = self._sidecar(key).read_text(encoding="ascii").split()[0].strip()
        except (OSError, IndexError, UnicodeDecodeError):
            return "checksum missing"
        if hashlib.sha256(raw).hexdigest() != expected:
            return "checksum wrong"
        return None

    def size_bytes(self) -> int:
        """Total size of the cache folder, bytes (including leftovers and temp files)."""
        if not self.root.exists():
            return 0
        return sum(p.stat().st_size for p in self.root.rglob("*") if p.is_file())

    def clear(self) -> int:
        """Delete every entry; returns how many files were removed."""
        removed = 0
        if not self.root.exists():
            return 0
        for p in sorted(self.root.rglob("*"), reverse=True):
            if p.is_file():
                with contextlib.suppress(FileNotFoundError):
                    p.unlink()
                    removed += 1
            elif p.is_dir():
                with contextlib.suppress(OSError):
                    p.rmdir()
        return removed


def size_bytes() -> int:
    """Size of the default cache, bytes."""
    return ArrayCache().size_bytes()


def entries() -> list[CacheEntry]:
    """Entries of the default cache."""
    return ArrayCache().entries()


def clear() -> int:
    """Empty the default cache; returns how many files were removed."""
    return ArrayCache().clear()


def human_size(n: int) -> str:
    """Format a byte count for people (``"12.3 MB"``)."""
    size = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"  # pragma: no cover
