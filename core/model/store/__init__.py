"""The user's model store: installed DenseSM ensembles, verified, one folder per model set.

A *model set* is a folder under :func:`core.paths.models_dir` holding one plain PyTorch
``state_dict`` file per ensemble member (``coarse_{d}_{w}.pt``), a ``SHA256SUMS`` file and a
``manifest.json``::

    {"format": 1, "name": "densesm_9km", "kind": "pretrained",
     "members": [{"name": "coarse_1_8", "depth": 1, "width": 8, "file": "coarse_1_8.pt",
                  "sha256": "..."}, ...],
     "source": "/path/to/DenseSM_9km.zip", "installed_at": "2025-01-01T00:00:00+00:00",
     "provenance": {...}}

The published 9 km ensemble (25 members, Zhu et al. 2024) is installed with :func:`install` from
a folder, from the authors' ``DenseSM_9km.zip`` or from a URL to that archive. Every file is
checked against its SHA-256 (the ``SHA256SUMS`` shipped with the set, or the checksums of the
published files embedded here), loaded with ``weights_only=True`` and checked for the keys and
shapes of DenseSM-d-w. Adapted ensembles are written with :func:`save_model_set` in the same
layout (``kind = "adapted"``).

Installation and saving are atomic: the set is assembled in a hidden temporary folder beside its
destination and renamed into place, so a failure or a cancel leaves nothing behind.

torch is imported inside the functions that need it: the QGIS plugin imports this package at
start-up, where torch may be missing.

One concern per module: :mod:`.layout` (names, limits, the published ensemble),
:mod:`.checksums`, :mod:`.architecture` (what a member's state dict must be), :mod:`.model_set`
(the data classes and loading weights), :mod:`.manifest`, :mod:`.folders` (atomic folders),
:mod:`.install` with :mod:`.archive` and :mod:`.assemble` (installing), :mod:`.save`, and
:mod:`.catalog` (opening, listing and removing sets).
"""

from __future__ import annotations

from ...paths import models_dir
from .architecture import expected_shapes, infer_architecture
from .catalog import list_installed, load_model_set, remove
from .checksums import PUBLISHED_SHA256, parse_sha256sums, sha256_file
from .install import install
from .layout import (
    BOTTLENECK,
    DEFAULT_NAME,
    DEPTHS,
    INSTALL_HINT,
    KINDS,
    MANIFEST,
    MANIFEST_FORMAT,
    MAX_ARCHIVE_BYTES,
    MAX_ARCHIVE_ENTRIES,
    MAX_MEMBER_BYTES,
    N_SNAPSHOT_FEATURES,
    ORIGIN_LABELS,
    PUBLISHED_MEMBERS,
    PUBLISHED_PROVENANCE,
    PUBLISHED_SHA256SUMS,
    SUMS,
    WIDTHS,
    target_path,
)
from .model_set import MemberInfo, ModelSet
from .save import save_model_set

__all__ = [
    "BOTTLENECK",
    "DEFAULT_NAME",
    "DEPTHS",
    "INSTALL_HINT",
    "KINDS",
    "MANIFEST",
    "MANIFEST_FORMAT",
    "MAX_ARCHIVE_BYTES",
    "MAX_ARCHIVE_ENTRIES",
    "MAX_MEMBER_BYTES",
    "N_SNAPSHOT_FEATURES",
    "ORIGIN_LABELS",
    "PUBLISHED_MEMBERS",
    "PUBLISHED_PROVENANCE",
    "PUBLISHED_SHA256",
    "PUBLISHED_SHA256SUMS",
    "SUMS",
    "WIDTHS",
    "MemberInfo",
    "ModelSet",
    "expected_shapes",
    "infer_architecture",
    "install",
    "list_installed",
    "load_model_set",
    "models_dir",
    "parse_sha256sums",
    "remove",
    "save_model_set",
    "sha256_file",
    "target_path",
]
