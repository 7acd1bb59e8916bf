"""QGIS 4 (Qt 6) readiness, checked statically: no Qt 5-only form in the plugin's code."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from qgis.core import QgsApplication  # noqa: F401 (the bindings the check introspects)

from .conftest import REPO, read_metadata


def checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sm_check_qt6", REPO / "scripts" / "check_qt6.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_plugin_has_no_qt5_only_forms() -> None:
    found = checker().check([REPO / "soilmoisture_plugin"])
    assert not found, "\n".join(map(str, found))


def test_the_check_catches_each_qt5_only_form(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from PyQt5.QtCore import Qt\n"
        "from qgis.PyQt.QtCore import QRegExp\n"
        "from qgis.PyQt.QtWidgets import QSizePolicy, QDialog\n"
        "from qgis.core import QgsTask, QgsWkbTypes\n"
        "a = Qt.AlignLeft\n"
        "b = QSizePolicy.Expanding\n"
        "c = QgsTask.CanCancel\n"
        "QDialog().exec_()\n"
        "d = QgsWkbTypes.PolygonGeometry\n"
        # scoped forms pass
        "e = Qt.AlignmentFlag.AlignLeft\n"
        "f = QSizePolicy.Policy.Expanding\n"
        "g = Qt.ItemDataRole.UserRole\n",
        encoding="utf-8",
    )
    found = [str(f) for f in checker().check([bad])]
    lines = sorted(int(f.split(":")[1]) for f in found)
    assert lines == [1, 2, 5, 6, 7, 8, 9], found
    assert any("write Qt.AlignmentFlag.AlignLeft" in f for f in found)
    assert any("write QSizePolicy.Policy.Expanding" in f for f in found)


def test_metadata_declares_the_versions_checked() -> None:
    meta = read_metadata(REPO)
    assert meta["qgisMinimumVersion"] == "3.22"
    assert meta["qgisMaximumVersion"] == "4.99"
