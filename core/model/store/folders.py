"""Atomic set folders: assembled in a hidden temporary folder beside their place, then renamed.

A failure or a cancel before the rename leaves nothing behind; what a killed process left (a
hidden ``.part`` folder untouched for a day) is swept away by the next one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

from ...errors import ModelStoreError

STALE_AFTER_S = 24 * 3600.0
"""A hidden ``.part`` folder untouched this long was left by a killed process."""


def _sweep_stale(parent: Path, now: float | None = None) -> None:
    """Remove the hidden ``.part`` folders a killed process left in ``parent``."""
    import time

    now = time.time() if now is None else now
    for old in parent.glob(".*.part"):
        with contextlib.suppress(OSError):
            if old.is_dir() and now - old.stat().st_mtime > STALE_AFTER_S:
                shutil.rmtree(old)


def _temp_folder(parent: Path, label: str) -> Path:
    parent.mkdir(parents=True, exist_ok=True)
    _sweep_stale(parent)
    tmp = Path(tempfile.mkdtemp(prefix=f".{label}.", suffix=".part", dir=parent))
    tmp.chmod(0o777 & ~_umask())  # mkdtemp makes it private; the set gets the usual mode
    return tmp


def _umask() -> int:
    """Return the process umask without changing it (os.umask is not thread-safe)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    return 0o022


def _commit_folder(tmp: Path, target: Path, replace: bool) -> None:
    """Rename the finished ``tmp`` onto ``target`` (replacing an existing one if asked)."""
    old: Path | None = None
    if target.exists():
        if not replace:
            raise ModelStoreError(f"{target} already exists")
        old = target.parent / f".{target.name}.old-{os.getpid()}-{tmp.name[-12:]}"
        os.replace(target, old)
    try:
        os.replace(tmp, target)
    except BaseException:
        if old is not None:
            os.replace(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
