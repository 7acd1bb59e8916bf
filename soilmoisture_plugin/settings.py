"""Plugin settings kept between sessions (QgsSettings, under ``soilmoisture/``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qgis.core import QgsSettings

PREFIX = "soilmoisture/"

DEFAULTS: dict[str, Any] = {
    "last_station_dir": str(Path.home()),
    "last_output_dir": str(Path.home() / "soilmoisture-output"),
    "source": "gee",
    "method": "msda",
    "device": "cpu",
    "ee_project": "",
    "epochs": 50,
    # a new key: the default changed from "batch", which earlier versions saved on every run
    "batchnorm_mode": "pretrained",
    "consistency": True,
}
"""Every setting and its default."""


class PluginSettings:
    """Typed access to the plugin's persistent settings."""

    def __init__(self, settings: QgsSettings | None = None) -> None:
        self._settings = settings or QgsSettings()

    def get(self, key: str) -> Any:
        """Return the stored value of ``key`` (its default when unset), of the default's type."""
        default = DEFAULTS[key]
        value = self._settings.value(PREFIX + key, default)
        if isinstance(default, bool):  # QSettings may give "true"/"false" back
            return value in (True, 1) or str(value).strip().lower() in ("true", "1")
        if isinstance(default, int):
            try:
                return int(value)
            except (TypeError, ValueError):
                return default
        return str(value) if value is not None else default

    def set(self, key: str, value: Any) -> None:
        """Store ``value`` under ``key``."""
        if key not in DEFAULTS:
            raise KeyError(f"unknown setting {key!r}")
        self._settings.setValue(PREFIX + key, value)
