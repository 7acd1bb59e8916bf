"""Saving an ensemble (e.g. adapted weights) as a model set folder, atomically."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import ModelStoreError
from .architecture import _check_state_dict, infer_architecture
from .checksums import sha256_file
from .folders import _commit_folder, _temp_folder
from .layout import _MEMBER_RE, KINDS, _check_name
from .manifest import _now, _sort_members, _write_manifest
from .model_set import MemberInfo, ModelSet

if TYPE_CHECKING:  # pragma: no cover
    import torch


def save_model_set(
    folder: str | os.PathLike[str],
    state_dicts: Mapping[str, Mapping[str, torch.Tensor]],
    kind: str = "adapted",
    provenance: Mapping[str, Any] | None = None,
    name: str | None = None,
    *,
    source: str = "",
    replace: bool = False,
) -> ModelSet:
    """Save an ensemble (e.g. adapted weights) as a model set folder, atomically.

    Each member is written to ``{member name}.pt`` (CPU tensors, a plain state dict), with a
    ``SHA256SUMS`` and a ``manifest.json``. Depth and width of each member are read off its
    weights, which are checked against the DenseSM architecture before anything is written.

    Args:
        folder: the set's folder, e.g. ``models_dir() / "msda_scan"`` to save it into the store
            (``folder.name`` must then be a valid set name), or any other folder.
        state_dicts: ``{member name: state_dict}``, e.g. ``{"coarse_2_16": {...}, ...}``.
        kind: ``"adapted"`` or ``"pretrained"``.
        provenance: free-form JSON-serialisable details (method, alpha, stations, dates, ...).
        name: the set's name (default: the folder's name).
        source: what produced it (e.g. the base set's name); stored in the manifest.
        replace: replace an existing folder (else that is an error).

    Returns:
        The saved :class:`ModelSet`.

    Raises:
        ModelStoreError: bad kind, name or member name, a member that is not a DenseSM state
            dict, non-serialisable provenance, or an existing folder.

    """
    folder = Path(folder).expanduser()
    name = _check_name(name if name is not None else folder.name)
    if kind not in KINDS:
        raise ModelStoreError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if not state_dicts:
        raise ModelStoreError("cannot save an empty ensemble: no member state dicts given")
    prov = _checked_provenance(provenance)
    if folder.exists() and not replace:
        raise ModelStoreError(f"{folder} already exists; choose another folder or replace it")
    infos = _checked_cpu_members(state_dicts)

    tmp = _temp_folder(folder.parent, f"saving-{folder.name}")
    try:
        members = _write_members(tmp, folder, infos)
        model_set = ModelSet(
            name=name,
            path=folder,
            kind=kind,
            members=_sort_members(members),
            source=source,
            checksum_ok=True,
            installed_at=_now(),
            provenance=prov,
        )
        _write_manifest(tmp, model_set)
        _commit_folder(tmp, folder, replace)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return model_set


def _checked_provenance(provenance: Mapping[str, Any] | None) -> dict[str, Any]:
    """A copy of ``provenance`` (empty if None), refused unless it is JSON-serialisable."""
    prov = dict(provenance or {})
    try:
        json.dumps(prov)
    except (TypeError, ValueError) as exc:
        raise ModelStoreError(f"provenance must be JSON-serialisable: {exc}") from exc
    return prov


_Member = tuple[str, int, int, dict[str, "torch.Tensor"]]
"""A member to write: name, depth, width and its weights on the CPU."""


def _checked_cpu_members(
    state_dicts: Mapping[str, Mapping[str, torch.Tensor]],
) -> list[_Member]:
    """Check every member's name and architecture, and copy its weights to the CPU."""
    infos: list[_Member] = []
    for member_name, sd in state_dicts.items():
        if not _MEMBER_RE.match(member_name):
            raise ModelStoreError(
                f"invalid member name {member_name!r}: use letters, digits, '_', '-' or '.'"
            )
        depth, width = infer_architecture(sd, f"member {member_name}")
        _check_state_dict(sd, depth, width, f"member {member_name}")
        cpu = {k: v.detach().to("cpu").clone().contiguous() for k, v in sd.items()}
        infos.append((member_name, depth, width, cpu))
    return infos


def _write_members(tmp: Path, folder: Path, infos: list[_Member]) -> list[MemberInfo]:
    """Write each member to ``tmp/{name}.pt``; their entries name their files in ``folder``."""
    import torch

    members = []
    for member_name, depth, width, cpu in infos:
        file_path = tmp / f"{member_name}.pt"
        torch.save(cpu, file_path)
        digest = sha256_file(file_path)
        members.append(MemberInfo(member_name, depth, width, folder / file_path.name, digest))
    return members
