"""Per-user folders: the model store (data) and the input cache.

``SOILMOISTURE_DATA_DIR`` and ``SOILMOISTURE_CACHE_DIR`` override the XDG defaults
(``~/.local/share/soilmoisture`` and ``~/.cache/soilmoisture``); tests point them at temporary
folders.
"""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    """Root of the user's data folder (model store, adapted ensembles)."""
    env = os.environ.get("SOILMOISTURE_DATA_DIR")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "soilmoisture"


def models_dir() -> Path:
    """Folder holding installed model sets, one sub-folder each."""
    return data_dir() / "models"


def cache_dir() -> Path:
    """Root of the on-disk input cache."""
    env = os.environ.get("SOILMOISTURE_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "soilmoisture"
