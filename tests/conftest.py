"""Shared fixtures: the published weights from ../shared and isolated user folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SOILMOISTURE_SHARED", REPO.parent / "shared"))
PRETRAINED_DIR = SHARED / "models" / "densesm_9km"
ISMN_DIR = SHARED / "data" / "ismn"


@pytest.fixture(autouse=True)
def _isolated_user_folders(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Never touch the real user's model store or cache from a test."""
    root = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("SOILMOISTURE_DATA_DIR", str(root / "data"))
    monkeypatch.setenv("SOILMOISTURE_CACHE_DIR", str(root / "cache"))


@pytest.fixture(scope="session")
def pretrained_dir() -> Path:
    """Folder of the authors' 25 published models (skips if ../shared is absent)."""
    if not (PRETRAINED_DIR / "SHA256SUMS").exists():
        pytest.skip(f"published weights not found at {PRETRAINED_DIR}")
    return PRETRAINED_DIR


@pytest.fixture(scope="session")
def ismn_dir() -> Path:
    """Folder of the real ISMN test files (skips if ../shared is absent)."""
    if not ISMN_DIR.exists():
        pytest.skip(f"ISMN test data not found at {ISMN_DIR}")
    return ISMN_DIR


@pytest.fixture(scope="session")
def published(pretrained_dir: Path) -> dict:
    """The 25 published state dicts keyed ``coarse_{d}_{w}`` (read-only: tests copy them)."""
    import torch

    return {
        p.stem: torch.load(p, map_location="cpu", weights_only=True)
        for p in sorted(pretrained_dir.glob("coarse_*.pt"))
    }
