"""A model set and its members as data, and the loading of its verified weights."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import ModelStoreError
from ...paths import models_dir
from ...progress import NULL_PROGRESS, Progress
from .architecture import _check_state_dict, _load_state_dict_bytes
from .checksums import PUBLISHED_SHA256
from .layout import ORIGIN_LABELS, PUBLISHED_MEMBERS, PUBLISHED_PROVENANCE

if TYPE_CHECKING:  # pragma: no cover
    import torch


@dataclass(frozen=True)
class MemberInfo:
    """One ensemble member of a model set.

    Attributes:
        name: member name, e.g. ``"coarse_2_16"``.
        depth: number of dense blocks ``d``.
        width: width ``w`` of the dense blocks.
        path: the member's ``.pt`` file.
        sha256: expected SHA-256 of that file (hex).

    """

    name: str
    depth: int
    width: int
    path: Path
    sha256: str


@dataclass
class ModelSet:
    """A verified ensemble in the store (or in any folder of the same layout).

    Attributes:
        name: the set's name (its folder name once installed).
        path: its folder.
        kind: ``"pretrained"`` or ``"adapted"``.
        members: the members, in the fixed order depth 1..5, then width 8..128.
        source: where it came from (a path, a URL, or what produced an adapted set).
        checksum_ok: True when every member file matched its SHA-256 when the set was opened.
        installed_at: ISO-8601 UTC time of installation or saving.
        provenance: free-form details (for adapted sets: method, alpha, stations, ...).
        problem: why ``checksum_ok`` is False (or why the set cannot be used), else None.

    """

    name: str
    path: Path
    kind: str
    members: list[MemberInfo]
    source: str
    checksum_ok: bool
    installed_at: str = ""
    provenance: dict[str, Any] = field(default_factory=dict)
    problem: str | None = None

    @property
    def member_names(self) -> list[str]:
        """Names of the members, in the set's fixed order."""
        return [m.name for m in self.members]

    @property
    def origin(self) -> str:
        """Where the weights come from, judged against the published checksums in this code.

        ``"published"``: the 25 members are byte for byte the published DenseSM 9 km files (and
        matched their checksums when opened). ``"modified"``: the set presents itself as the
        published ensemble (installed as such, or a folder of its files) but at least one
        member differs from the published file, even if the set's own checksum list was
        changed to match. ``"own"``: a set made by the user (adapted or pretrained with this
        tool), which the published checksums cannot vouch for.
        """
        published = len(self.members) == len(PUBLISHED_MEMBERS) and all(
            PUBLISHED_SHA256.get(m.path.name) == m.sha256 for m in self.members
        )
        if published:
            return "published" if self.checksum_ok else "modified"
        claims = self.kind == "pretrained" and (
            self.provenance.get("reference") == PUBLISHED_PROVENANCE["reference"]
            or "matches_published_checksums" in self.provenance
        )
        return "modified" if claims else "own"

    @property
    def origin_label(self) -> str:
        """The origin in words, for listings and run logs."""
        return ORIGIN_LABELS[self.origin]

    def state_dicts(self, progress: Progress | None = None) -> dict[str, dict[str, torch.Tensor]]:
        """Load every member's weights on the CPU, in the set's fixed member order.

        Each file is read once, its SHA-256 checked against the manifest, and the same bytes are
        loaded with ``torch.load(weights_only=True)``, so what is loaded is what was verified.

        Args:
            progress: optional progress reporter (one step per member, cancellable).

        Returns:
            ``{member name: state_dict}``, ordered by depth, then width.

        Raises:
            ModelStoreError: a member file is missing, corrupt or not a DenseSM state dict.

        """
        progress = progress or NULL_PROGRESS
        out: dict[str, dict[str, torch.Tensor]] = {}
        for i, member in enumerate(self.members):
            progress.check()
            progress.message(f"loading {member.name}")
            data = _read_member_bytes(member.path, self.name)
            digest = hashlib.sha256(data).hexdigest()
            if digest != member.sha256:
                raise ModelStoreError(
                    f"model set {self.name!r}: {member.path.name} is corrupt (SHA-256 {digest} "
                    f"differs from the recorded {member.sha256}). {_reinstall_hint(self)}"
                )
            sd = _load_state_dict_bytes(data, member.path.name)
            _check_state_dict(sd, member.depth, member.width, member.path.name)
            out[member.name] = sd
            progress.fraction((i + 1) / len(self.members))
        return out


def _read_member_bytes(path: Path, set_name: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise ModelStoreError(
            f"model set {set_name!r} is incomplete: {path.name} is missing from {path.parent}. "
            f"Remove and reinstall it."
        ) from exc
    except OSError as exc:
        raise ModelStoreError(f"cannot read {path}: {exc}") from exc


def _reinstall_hint(model_set: ModelSet) -> str:
    if model_set.path.parent == models_dir():
        return f"Remove it with `soilmoisture models remove {model_set.name}` and install it again."
    return "Restore the folder from its original source."
