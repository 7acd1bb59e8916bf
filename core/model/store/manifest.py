"""A set folder's ``manifest.json`` and ``SHA256SUMS``: written, read back, and verified."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path, PurePosixPath

from ...errors import ModelStoreError
from .checksums import _sums_text, sha256_file
from .layout import _SHA_RE, MANIFEST, MANIFEST_FORMAT, SUMS
from .model_set import MemberInfo, ModelSet


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def _sort_members(members: list[MemberInfo]) -> list[MemberInfo]:
    return sorted(members, key=lambda m: (m.depth, m.width, m.name))


def _write_manifest(folder: Path, model_set: ModelSet) -> None:
    manifest = {
        "format": MANIFEST_FORMAT,
        "name": model_set.name,
        "kind": model_set.kind,
        "members": [
            {
                "name": m.name,
                "depth": m.depth,
                "width": m.width,
                "file": m.path.name,
                "sha256": m.sha256,
            }
            for m in model_set.members
        ],
        "source": model_set.source,
        "installed_at": model_set.installed_at,
        "provenance": model_set.provenance,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    (folder / SUMS).write_text(_sums_text(model_set.members), encoding="utf-8")


def _read_manifest(folder: Path) -> ModelSet:
    """Read ``manifest.json`` of a set folder (no checksum verification)."""
    path = folder / MANIFEST
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelStoreError(f"{folder} is not a model set: it has no {MANIFEST}") from exc
    except (OSError, ValueError) as exc:
        raise ModelStoreError(f"{path} cannot be read: {exc}") from exc
    try:
        kind = str(raw["kind"])
        members = []
        for entry in raw["members"]:
            file = str(entry["file"])
            if PurePosixPath(file).name != file or file in ("", ".", ".."):
                raise ValueError(f"member file {file!r} is not a plain file name")
            sha = str(entry["sha256"]).lower()
            if not _SHA_RE.match(sha):
                raise ValueError(f"member {entry['name']!r} has no valid sha256")
            members.append(
                MemberInfo(
                    name=str(entry["name"]),
                    depth=int(entry["depth"]),
                    width=int(entry["width"]),
                    path=folder / file,
                    sha256=sha,
                )
            )
        provenance = raw.get("provenance") or {}
        if not isinstance(provenance, dict):
            raise ValueError("provenance is not an object")
        if not members:
            raise ValueError("it lists no members")
        return ModelSet(
            name=str(raw.get("name") or folder.name),
            path=folder,
            kind=kind,
            members=_sort_members(members),
            source=str(raw.get("source", "")),
            checksum_ok=False,
            installed_at=str(raw.get("installed_at", "")),
            provenance=provenance,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelStoreError(f"{path} is not a valid model-set manifest: {exc}") from exc


def _verify(model_set: ModelSet) -> ModelSet:
    """Hash every member file; set ``checksum_ok`` and ``problem`` accordingly."""
    problems = []
    for m in model_set.members:
        try:
            digest = sha256_file(m.path)
        except FileNotFoundError:
            problems.append(f"{m.path.name} is missing")
            continue
        except OSError as exc:
            problems.append(f"{m.path.name} cannot be read ({exc})")
            continue
        if digest != m.sha256:
            problems.append(f"{m.path.name} is corrupt (SHA-256 differs)")
    model_set.checksum_ok = not problems
    model_set.problem = "; ".join(problems) or None
    return model_set
