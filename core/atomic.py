"""Atomic output writing: write to a temporary file beside the target, then rename.

A crash, an out-of-memory kill or a cancel never leaves a half-written file under the final
name: either the old file (or nothing) is there, or the complete new one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str], suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success.

    On an exception (including ``KeyboardInterrupt`` and ``Cancelled``) the temporary file is
    removed and ``target`` is untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{target.name}.",
        suffix=suffix if suffix is not None else target.suffix + ".part",
        dir=target.parent,
    )
    os.close(fd)
    tmp_path = Path(tmp)
    # mkstemp creates 0600 files; give outputs the permissions a plain open() would
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_path, 0o666 & ~umask)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def write_text(target: str | os.PathLike[str], text: str) -> None:
    """Write a text file atomically (UTF-8)."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_bytes(target: str | os.PathLike[str], data: bytes) -> None:
    """Write a binary file atomically."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


# -- checks before work ----------------------------------------------------------------------
def _nearest_existing(path: Path) -> Path:
    """The path itself or its deepest existing ancestor."""
    p = path
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def _probe_writable(folder: Path) -> str | None:
    """Try to create and remove a file in ``folder``; the reason it fails, or None."""
    try:
        fd, name = tempfile.mkstemp(prefix=".write-test.", suffix=".part", dir=folder)
    except OSError as exc:
        return exc.strerror or str(exc)
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(name)
    return None


def _check_through(path: Path, option: str) -> None:
    """Raise when a component above ``path`` is a file or a folder that cannot be written."""
    from .errors import InputError

    base = _nearest_existing(path.parent if path.parent != path else path)
    if not base.is_dir():
        raise InputError(
            f"{option} {str(path)!r} runs through {str(base)!r}, which is a file, not a folder; "
            "choose a path in a folder."
        )
    _require_writable(base, path, option)


def _require_writable(folder: Path, path: Path, option: str) -> None:
    """Raise when no file can be created in ``folder`` (named in the message)."""
    from .errors import InputError

    why = _probe_writable(folder)
    if why is not None:
        raise InputError(
            f"{option} {str(path)!r}: cannot write in {str(folder)!r} ({why}); choose a "
            "folder you can write to, or change its permissions."
        )


def check_output_file(
    target: str | os.PathLike[str],
    extensions: tuple[str, ...],
    option: str = "--out",
) -> Path:
    """Check, before any work, that ``target`` can be written as a file of a known type.

    Args:
        target: The output file.
        extensions: Accepted suffixes, lower case with the dot (e.g. ``(".csv", ".parquet")``).
        option: How the user named it (for the message).

    Returns:
        ``target`` as a Path.

    Raises:
        InputError: Unknown extension, an existing folder of that name, a path through a file,
            or a folder that cannot be written.

    """
    from .errors import InputError

    path = Path(target)
    if not path.name.lower().endswith(extensions):
        raise InputError(
            f"{option} {str(path)!r} must end with {' or '.join(extensions)}; "
            "give a file name with one of these extensions."
        )
    if path.is_dir():
        raise InputError(
            f"{option} {str(path)!r} is an existing folder; give a file name inside it, e.g. "
            f"{str(path / ('out' + extensions[0]))!r}."
        )
    _check_through(path, option)
    if path.exists():
        why = _probe_writable(path.parent)
        if why is not None or not os.access(path, os.W_OK):
            raise InputError(
                f"{option} {str(path)!r} exists and cannot be replaced ({why or 'read-only'}); "
                "choose another name or change its permissions."
            )
    return path


def check_output_dir(
    target: str | os.PathLike[str], option: str = "--out", subfolders: tuple[str, ...] = ()
) -> Path:
    """Check, before any work, that ``target`` is (or can become) a writable folder.

    Args:
        target: The output folder.
        option: How the user named it (for the message).
        subfolders: Sub-folders the run writes into; those that exist must be writable too.

    Returns:
        ``target`` as a Path.

    Raises:
        InputError: ``target`` (or a sub-folder) is a file, a path through a file, or cannot
            be written.

    """
    from .errors import InputError

    path = Path(target)
    if path.exists() and not path.is_dir():
        raise InputError(
            f"{option} {str(path)!r} is an existing file, not a folder; give a folder name."
        )
    if not path.exists():
        _check_through(path, option)
        return path
    for sub in ("", *subfolders):
        folder = path / sub if sub else path
        if not folder.exists():
            continue
        if not folder.is_dir():
            raise InputError(
                f"{option} {str(path)!r}: {str(folder)!r} is a file, but the run writes a "
                "folder there; move the file away or choose another output folder."
            )
        _require_writable(folder, path, option)
    return path


# -- run folders -----------------------------------------------------------------------------
RUN_LOCK = ".soilmoisture-run.lock"
_HELD: set[Path] = set()
"""Folders a run of this process owns right now (QGIS runs every task in one process)."""
_HELD_LOCK = threading.Lock()
"""Marker of a run in progress in an output folder (holds the process id)."""


def _is_debris(name: str) -> bool:
    """Temporary names this product writes: ``.x.part`` files/folders, staging folders."""
    if not name.startswith("."):
        return False
    return name.endswith(".part") or name.startswith(".report-") or ".old-" in name


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_debris(folder: str | os.PathLike[str], depth: int = 2) -> list[Path]:
    """Remove the temporary files and folders a killed run left in ``folder``.

    Only names this product writes while working are touched (``.NAME.XXXX.part`` files and
    folders, ``.report-XXXX`` staging folders, ``.NAME.old-...`` folders being replaced), in
    ``folder`` and its sub-folders down to ``depth`` levels.

    Returns:
        The removed paths.

    """
    import shutil

    removed: list[Path] = []
    root = Path(folder)
    if not root.is_dir():
        return removed
    level = [root]
    for _ in range(depth + 1):
        nxt: list[Path] = []
        for d in level:
            try:
                entries = list(d.iterdir())
            except OSError:
                continue
            for p in entries:
                if _is_debris(p.name):
                    if p.is_dir() and not p.is_symlink():
                        shutil.rmtree(p, ignore_errors=True)
                    else:
                        with contextlib.suppress(OSError):
                            p.unlink()
                    removed.append(p)
                elif p.is_dir() and not p.is_symlink():
                    nxt.append(p)
        level = nxt
    return removed


@contextlib.contextmanager
def run_folder(folder: str | os.PathLike[str], manifest: str = "manifest.json") -> Iterator[Path]:
    """Own an output folder for one run: lock it, clean a killed run's debris, retire its manifest.

    The folder is consistent at every instant: while the run works it holds no manifest (the
    old one is removed first, since the outputs it lists are about to be replaced), and the run
    writes its manifest last. A second run into the same folder while this one works is refused.

    Yields:
        The folder (created if needed).

    Raises:
        InputError: Another live run is writing into the folder.

    """
    from .errors import InputError

    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    key = path.resolve()
    with _HELD_LOCK:
        if key in _HELD:
            raise InputError(
                f"another run of this session is writing into {str(path)!r}; wait for it to "
                "finish or choose another output folder."
            )
        _HELD.add(key)
    lock = path / RUN_LOCK
    try:
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                pid = int(lock.read_text().strip() or 0)
            except (OSError, ValueError):
                pid = 0
            # our own pid here is a killed earlier process whose pid came back: this process
            # holds no run in the folder (checked above)
            if pid != os.getpid() and _pid_alive(pid):
                raise InputError(
                    f"another run (process {pid}) is writing into {str(path)!r}; wait for it to "
                    "finish or choose another output folder."
                ) from None
            lock.unlink(missing_ok=True)  # left by a killed run
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        with os.fdopen(fd, "w") as fh:
            fh.write(str(os.getpid()))
        try:
            clean_debris(path)
            (path / manifest).unlink(missing_ok=True)
            yield path
        finally:
            with contextlib.suppress(OSError):
                lock.unlink()
    finally:
        with _HELD_LOCK:
            _HELD.discard(key)
