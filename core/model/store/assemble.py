"""The common end of every install: copy, verify and install the published member files."""

from __future__ import annotations

import hashlib
import logging
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ...errors import ModelStoreError
from ...paths import models_dir
from ...progress import Progress
from .architecture import _check_state_dict, _load_state_dict_bytes
from .checksums import PUBLISHED_SHA256, parse_sha256sums
from .folders import _commit_folder, _temp_folder
from .layout import (
    MAX_MEMBER_BYTES,
    PUBLISHED_MEMBERS,
    PUBLISHED_PROVENANCE,
    SUMS,
    _published_member,
    target_path,
)
from .manifest import _now, _sort_members, _write_manifest
from .model_set import MemberInfo, ModelSet

log = logging.getLogger(__name__)


def _assemble(
    sources: Mapping[str, Any],
    sums_text: str | None,
    name: str,
    source: str,
    progress: Progress,
    replace: bool,
    where: Path,
) -> ModelSet:
    """Copy, verify and install the published members given as ``{file name: opener}``."""
    required = [f"{m}.pt" for m in PUBLISHED_MEMBERS]
    missing = [f for f in required if f not in sources]
    if missing:
        hint = "" if len(missing) < len(required) else " (no coarse_{d}_{w}.pt file found)"
        raise ModelStoreError(
            f"{where} does not hold the complete DenseSM 9 km ensemble{hint}: "
            f"{len(missing)} of {len(required)} members are missing: {', '.join(missing)}"
        )
    extra = sorted(set(sources) - set(required))
    if extra:
        log.info("ignoring files that are not published members: %s", ", ".join(extra))
    if sums_text is not None:
        expected = parse_sha256sums(sums_text, f"{where}/{SUMS}")
        checked_against = f"the {SUMS} shipped with the set"
    else:
        expected = PUBLISHED_SHA256
        checked_against = "the checksums of the published files"

    store = models_dir()
    tmp = _temp_folder(store, f"installing-{name}")
    try:
        members: list[MemberInfo] = []
        for i, file_name in enumerate(required):
            progress.check()
            member_name, depth, width = _published_member(file_name)  # type: ignore[misc]
            progress.message(f"verifying {file_name}")
            with sources[file_name]() as f:
                data = f.read(MAX_MEMBER_BYTES + 1)
            if len(data) > MAX_MEMBER_BYTES:
                raise ModelStoreError(f"{where}: {file_name} is too large to be a DenseSM member")
            digest = hashlib.sha256(data).hexdigest()
            want = expected.get(file_name)
            if want is None:
                raise ModelStoreError(f"{where}: {SUMS} lists no checksum for {file_name}")
            if digest != want:
                raise ModelStoreError(
                    f"{where}: {file_name} is corrupt: its SHA-256 {digest} differs from "
                    f"{want} ({checked_against}). Download the archive again."
                )
            sd = _load_state_dict_bytes(data, file_name)
            _check_state_dict(sd, depth, width, file_name)
            (tmp / file_name).write_bytes(data)
            members.append(
                MemberInfo(member_name, depth, width, target_path(name) / file_name, digest)
            )
            progress.fraction((i + 1) / len(required))
        matches = all(m.sha256 == PUBLISHED_SHA256.get(m.path.name) for m in members)
        model_set = ModelSet(
            name=name,
            path=target_path(name),
            kind="pretrained",
            members=_sort_members(members),
            source=source,
            checksum_ok=True,
            installed_at=_now(),
            provenance={**PUBLISHED_PROVENANCE, "matches_published_checksums": matches},
        )
        _write_manifest(tmp, model_set)
        _commit_folder(tmp, target_path(name), replace)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    progress.message(f"installed {name} ({len(members)} members)")
    return model_set
