"""Installing the published ensemble into the store, from a folder, a zip archive or a URL."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from ...errors import ModelStoreError
from ...paths import models_dir
from ...progress import NULL_PROGRESS, Progress
from .archive import _install_from_zip
from .assemble import _assemble
from .layout import (
    _CHUNK,
    DEFAULT_NAME,
    INSTALL_HINT,
    MAX_ARCHIVE_BYTES,
    SUMS,
    _check_name,
    _find_published_files,
)
from .model_set import ModelSet


def _is_url(source: str) -> bool:
    return re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", source) is not None


def install(
    source: str | os.PathLike[str],
    name: str | None = None,
    progress: Progress | None = None,
    *,
    replace: bool = False,
) -> ModelSet:
    """Install the published DenseSM 9 km ensemble into the user's model store.

    Args:
        source: a folder holding ``coarse_{d}_{w}.pt`` files (and ideally ``SHA256SUMS``), the
            authors' ``DenseSM_9km.zip`` (members may sit in a sub-folder), or an ``http(s)``
            URL to that archive.
        name: name of the installed set (default ``"densesm_9km"``).
        progress: optional progress reporter; cancelling leaves nothing installed.
        replace: replace an installed set of the same name (else that is an error).

    Returns:
        The installed, verified :class:`ModelSet`.

    Raises:
        ModelStoreError: the source cannot be read or downloaded, the set is partial, a checksum
            differs, a file is not a DenseSM state dict of its size, or the name is taken.
        Cancelled: the user cancelled (nothing was installed).

    """
    progress = progress or NULL_PROGRESS
    name = _check_name(name if name is not None else DEFAULT_NAME)
    store = models_dir()
    target = store / name
    if target.exists() and not replace:
        raise ModelStoreError(
            f"a model set named {name!r} is already installed at {target}. Remove it first with "
            f"`soilmoisture models remove {name}`, or choose another name with --name."
        )
    src = os.fspath(source)
    if _is_url(src):
        scheme = src.split("://", 1)[0].lower()
        if scheme not in ("http", "https"):
            raise ModelStoreError(
                f"cannot install from {src}: only http(s) URLs, folders and .zip files are "
                "supported"
            )
        tmp_zip = _download(src, store, progress.sub(0.0, 0.6))
        try:
            return _install_from_zip(tmp_zip, name, src, progress.sub(0.6, 1.0), replace)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp_zip.unlink()
    path = Path(src).expanduser()
    if path.is_dir():
        return _install_from_folder(path, name, progress, replace)
    if path.is_file():
        if not zipfile.is_zipfile(path):
            raise ModelStoreError(
                f"{path} is neither a folder of coarse_{{d}}_{{w}}.pt files nor a zip archive "
                "(expected the authors' DenseSM_9km.zip)"
            )
        return _install_from_zip(path, name, str(path.resolve()), progress, replace)
    raise ModelStoreError(
        f"{path} does not exist. Give the folder of the published models, the DenseSM_9km.zip "
        "archive or a URL to it."
    )


def _download(url: str, store: Path, progress: Progress) -> Path:
    """Download ``url`` to a temporary file in the store folder; return its path."""
    store.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".download.", suffix=".zip.part", dir=store)
    tmp = Path(tmp_name)
    progress.message(f"downloading {url}")
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                request = urllib.request.Request(url, headers={"User-Agent": "soilmoisture"})
                with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                    total = int(response.headers.get("Content-Length") or 0)
                    if total > MAX_ARCHIVE_BYTES:
                        raise ModelStoreError(
                            f"{url} is {total / 1e9:.1f} GB, more than the "
                            f"{MAX_ARCHIVE_BYTES / 1e9:.0f} GB an ensemble archive may have"
                        )
                    done = 0
                    while chunk := response.read(_CHUNK):
                        progress.check()
                        done += len(chunk)
                        if done > MAX_ARCHIVE_BYTES:
                            raise ModelStoreError(
                                f"{url} is larger than the {MAX_ARCHIVE_BYTES / 1e9:.0f} GB an "
                                "ensemble archive may have"
                            )
                        out.write(chunk)
                        if total:
                            progress.fraction(done / total)
            except urllib.error.HTTPError as exc:
                raise ModelStoreError(
                    f"could not download {url}: HTTP {exc.code} {exc.reason}. {INSTALL_HINT}"
                ) from exc
            except urllib.error.URLError as exc:
                raise ModelStoreError(
                    f"could not download {url}: {exc.reason}. {INSTALL_HINT}"
                ) from exc
            except (OSError, ValueError) as exc:  # timeouts, resets, bad URLs
                raise ModelStoreError(f"could not download {url}: {exc}. {INSTALL_HINT}") from exc
        progress.fraction(1.0)
        return tmp
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def _install_from_folder(folder: Path, name: str, progress: Progress, replace: bool) -> ModelSet:
    files = _find_published_files(folder)
    if not files:
        subs = [p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")]
        if len(subs) == 1:
            folder = subs[0]
            files = _find_published_files(folder)
    sums_path = folder / SUMS
    sums_text = sums_path.read_text(encoding="utf-8") if sums_path.is_file() else None
    sources = {n: (lambda p=p: p.open("rb")) for n, p in files.items()}
    return _assemble(sources, sums_text, name, str(folder.resolve()), progress, replace, folder)
