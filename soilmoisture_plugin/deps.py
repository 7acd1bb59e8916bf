"""Check the heavy optional dependencies without importing them.

torch (the models) and earthengine-api (the ``ee`` module, the Earth Engine source) are looked up
with :func:`importlib.util.find_spec`, which only searches the import path: QGIS starts as fast
with the plugin as without it, and a missing package never breaks loading.
"""

from __future__ import annotations

import importlib.util
import platform
from dataclasses import dataclass

from qgis.PyQt.QtCore import QT_TRANSLATE_NOOP

PINS: dict[str, str] = {"torch": "torch==2.13.0", "ee": "earthengine-api==1.7.50"}
"""Import name -> pip requirement (the versions the engine is tested with)."""

PURPOSE: dict[str, str] = {
    "torch": QT_TRANSLATE_NOOP(
        "@default", "adaptation and mapping (Adapt & Map, Map with an ensemble)"
    ),
    "ee": QT_TRANSLATE_NOOP("@default", "the Google Earth Engine data source"),
}
"""What each package is needed for (translated when shown)."""


@dataclass(frozen=True)
class DependencyReport:
    """Which optional dependencies are importable."""

    missing: tuple[str, ...]
    """Import names not found (subset of :data:`PINS`)."""

    @property
    def torch(self) -> bool:
        """True when torch can be imported (runs are possible)."""
        return "torch" not in self.missing

    @property
    def earthengine(self) -> bool:
        """True when earthengine-api can be imported (the Earth Engine source works)."""
        return "ee" not in self.missing

    @property
    def ok(self) -> bool:
        """True when nothing is missing."""
        return not self.missing

    def requirements(self) -> list[str]:
        """Pip requirements of the missing packages."""
        return [PINS[name] for name in self.missing]

    def install_command(self) -> str:
        """Return the exact command that installs the missing packages into QGIS's Python."""
        return install_command(self.requirements())


def is_available(module: str) -> bool:
    """Return True if ``module`` can be imported, without importing it."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def check_dependencies() -> DependencyReport:
    """Look up every optional dependency (cheap: no import)."""
    return DependencyReport(missing=tuple(name for name in PINS if not is_available(name)))


def install_command(requirements: list[str], system: str | None = None) -> str:
    """Return the pip command for QGIS's Python on this operating system.

    Args:
        requirements: pip requirement strings.
        system: ``platform.system()`` value (for tests); the running system by default.

    Returns:
        One shell command line: on Windows for the OSGeo4W Shell, on macOS for the QGIS app's
        bundled Python, elsewhere for the system Python QGIS uses.

    """
    system = system or platform.system()
    reqs = " ".join(f'"{r}"' for r in requirements)
    if system == "Windows":
        return f"python -m pip install {reqs}"  # in the OSGeo4W Shell
    if system == "Darwin":
        return f"/Applications/QGIS.app/Contents/MacOS/bin/python3 -m pip install --user {reqs}"
    return f"python3 -m pip install --user {reqs}"
