"""The store's sets by name or folder: opened and verified, listed, and removed."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ...errors import ModelStoreError
from ...paths import models_dir
from .checksums import PUBLISHED_SHA256, parse_sha256sums
from .layout import (
    _NAME_RE,
    MANIFEST,
    PUBLISHED_MEMBERS,
    PUBLISHED_PROVENANCE,
    SUMS,
    _check_name,
    _find_published_files,
    _published_member,
)
from .manifest import _read_manifest, _sort_members, _verify
from .model_set import MemberInfo, ModelSet, _reinstall_hint


def load_model_set(name_or_path: str | os.PathLike[str], *, verify: bool = True) -> ModelSet:
    """Open an installed set by name, or a set folder by path, and verify its checksums.

    A name is looked up in the store first. A folder may be a saved set (with ``manifest.json``)
    or a plain folder of the published ``coarse_{d}_{w}.pt`` files with their ``SHA256SUMS``
    (e.g. the unpacked archive), which is then opened in place without installing it.

    Args:
        name_or_path: an installed set's name, or a folder.
        verify: hash every member file (default); a mismatch is an error.

    Returns:
        The :class:`ModelSet` (``checksum_ok`` True when verified).

    Raises:
        ModelStoreError: unknown name (the message lists installed sets, or says how to install
            one), a broken manifest, or a missing or corrupt member file.

    """
    text = os.fspath(name_or_path)
    candidate = models_dir() / text if _NAME_RE.match(text) else None
    if candidate is not None and (candidate / MANIFEST).is_file():
        model_set = _read_manifest(candidate)
    else:
        path = Path(text).expanduser()
        if path.is_dir() and (path / MANIFEST).is_file():
            model_set = _read_manifest(path)
        elif path.is_dir() and _find_published_files(path):
            model_set = _open_plain_folder(path)
        else:
            raise ModelStoreError(_unknown_set_message(text))
    if verify:
        _verify(model_set)
        if not model_set.checksum_ok:
            raise ModelStoreError(
                f"model set {model_set.name!r} at {model_set.path} failed verification: "
                f"{model_set.problem}. {_reinstall_hint(model_set)}"
            )
    return model_set


def _open_plain_folder(folder: Path) -> ModelSet:
    files = _find_published_files(folder)
    sums_path = folder / SUMS
    if sums_path.is_file():
        expected = parse_sha256sums(sums_path.read_text(encoding="utf-8"), str(sums_path))
    else:
        expected = PUBLISHED_SHA256
    members = []
    missing = []
    for file_name in (f"{m}.pt" for m in PUBLISHED_MEMBERS):
        if file_name not in files:
            missing.append(file_name)
            continue
        member_name, depth, width = _published_member(file_name)  # type: ignore[misc]
        sha = expected.get(file_name)
        if sha is None:
            raise ModelStoreError(f"{sums_path} lists no checksum for {file_name}")
        members.append(MemberInfo(member_name, depth, width, files[file_name], sha))
    if missing:
        raise ModelStoreError(
            f"{folder} does not hold the complete DenseSM 9 km ensemble: {len(missing)} members "
            f"are missing: {', '.join(missing)}"
        )
    return ModelSet(
        name=folder.name,
        path=folder,
        kind="pretrained",
        members=_sort_members(members),
        source=str(folder.resolve()),
        checksum_ok=False,
        provenance=dict(PUBLISHED_PROVENANCE),
    )


def _unknown_set_message(text: str, as_path: bool = True) -> str:
    installed = [s.name for s in list_installed(verify=False)]
    if not installed:
        return (
            f"no model set named {text!r}, and no model set is installed yet. Install the "
            "published DenseSM 9 km ensemble with `soilmoisture models install --from "
            "/path/to/DenseSM_9km.zip` (or a folder of its coarse_{d}_{w}.pt files)."
        )
    return (
        f"no model set named {text!r}"
        + (" (nor a model-set folder at that path)" if as_path else "")
        + f". Installed sets: {', '.join(installed)}. See `soilmoisture models list`."
    )


def list_installed(*, verify: bool = True) -> list[ModelSet]:
    """List the sets in the store, sorted by name.

    A set whose manifest cannot be read is still listed (kind ``"unknown"``, no members,
    ``checksum_ok`` False, ``problem`` saying why), so that it can be seen and removed.

    Args:
        verify: hash every member file to fill ``checksum_ok`` (default).

    Returns:
        The installed sets.

    """
    store = models_dir()
    if not store.is_dir():
        return []
    out = []
    for folder in sorted(store.iterdir()):
        if not folder.is_dir() or folder.name.startswith("."):
            continue
        try:
            model_set = _read_manifest(folder)
        except ModelStoreError as exc:
            out.append(ModelSet(folder.name, folder, "unknown", [], "", False, problem=str(exc)))
            continue
        model_set.name = folder.name
        if verify:
            _verify(model_set)
        out.append(model_set)
    return out


def remove(name: str) -> Path:
    """Remove an installed set from the store.

    The folder is first renamed to a hidden name (so it disappears at once), then deleted.

    Args:
        name: the set's name.

    Returns:
        The folder that was removed.

    Raises:
        ModelStoreError: no set of that name is installed.

    """
    _check_name(name)
    target = models_dir() / name
    if not target.is_dir():
        raise ModelStoreError(_unknown_set_message(name, as_path=False))
    trash = models_dir() / f".removing-{name}-{os.getpid()}"
    if trash.exists():
        shutil.rmtree(trash, ignore_errors=True)
    os.replace(target, trash)
    shutil.rmtree(trash, ignore_errors=True)
    return target
