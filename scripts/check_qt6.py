#!/usr/bin/env python3
"""Fail on Qt 5-only forms in the plugin's code (QGIS 4 runs on Qt 6 and PyQt6).

Checked, file by file (the syntax tree, not text):

- Qt imported from ``PyQt5``/``PyQt6`` instead of ``qgis.PyQt`` (the shim QGIS 3 and 4 share).
- ``exec_()`` (PyQt6 has only ``exec()``; use ``compat.exec_dialog``).
- Unscoped enum values: ``Qt.AlignLeft``, ``QSizePolicy.Expanding``, ``QgsTask.CanCancel``.
  PyQt6 and QGIS 4 only accept the scoped form (``Qt.AlignmentFlag.AlignLeft``). Whether a name
  is an enum value or an enum type is read from the running PyQt5 and QGIS 3 bindings, so the
  check knows every class the code names.
- Classes Qt 6 removed (``QRegExp``, ``QDesktopWidget``, ...) and ``QVariant`` field types
  outside ``compat.py`` (QGIS >= 3.38 and 4 take ``QMetaType``).

Usage:
    python scripts/check_qt6.py [paths...]      # default: soilmoisture_plugin
Exit status 1 with one line per finding (``file:line: message``), 0 when clean.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
QT_MODULES = ("QtCore", "QtGui", "QtWidgets", "QtNetwork", "QtXml", "QtSvg", "QtTest")
REMOVED = {
    "QRegExp": "use QRegularExpression",
    "QRegExpValidator": "use QRegularExpressionValidator",
    "QDesktopWidget": "use QScreen (QApplication.primaryScreen())",
    "QStringRef": "use str slices",
    "QTextCodec": "use Python str encoding",
    "QGLWidget": "use QOpenGLWidget",
    "QSound": "use QSoundEffect",
}
ALLOWED_QVARIANT = {"compat.py"}


@dataclass(frozen=True)
class Finding:
    """One Qt 5-only form."""

    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        try:
            shown = self.path.relative_to(REPO)
        except ValueError:
            shown = self.path
        return f"{shown}:{self.line}: {self.message}"


def _bindings() -> dict[str, Any]:
    """Every class the plugin may name: Qt's (through qgis.PyQt) and QGIS's."""
    names: dict[str, Any] = {}
    for mod in QT_MODULES:
        try:
            module = importlib.import_module(f"qgis.PyQt.{mod}")
        except ImportError:
            continue
        names.update({k: v for k, v in vars(module).items() if isinstance(v, type)})
    for mod in ("qgis.core", "qgis.gui"):
        try:
            module = importlib.import_module(mod)
        except ImportError:
            continue
        names.update({k: v for k, v in vars(module).items() if isinstance(v, type)})
    return names


def _is_enum_type(value: Any) -> bool:
    return isinstance(value, type) and type(value).__name__ in ("enumtype", "EnumType", "EnumMeta")


def _is_unscoped_value(owner: Any, name: str) -> str | None:
    """Return the scoped spelling when ``owner.name`` is an enum value reached unscoped."""
    try:
        value = getattr(owner, name)
    except AttributeError:
        return None
    if isinstance(value, type):
        return None  # an enum type or a nested class: the scoped path goes through it
    enum_type = type(value)
    if not _is_enum_type(enum_type):
        return None
    scoped = getattr(owner, enum_type.__name__, None)
    if scoped is enum_type:
        return f"{owner.__name__}.{enum_type.__name__}.{name}"
    return f"{enum_type.__qualname__}.{name}"


def check_source(path: Path, text: str, bindings: dict[str, Any]) -> list[Finding]:
    """Return the Qt 5-only forms in one file."""
    tree = ast.parse(text, filename=str(path))
    found: list[Finding] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            top = node.module.split(".")[0]
            if top in ("PyQt5", "PyQt6"):
                found.append(
                    Finding(path, node.lineno, f"import from qgis.PyQt, not {node.module}")
                )
            for alias in node.names:
                if alias.name in REMOVED:
                    found.append(
                        Finding(
                            path,
                            node.lineno,
                            f"{alias.name} is gone in Qt 6: {REMOVED[alias.name]}",
                        )
                    )
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in ("PyQt5", "PyQt6"):
                    found.append(
                        Finding(path, node.lineno, f"import from qgis.PyQt, not {alias.name}")
                    )
        elif isinstance(node, ast.Attribute):
            if node.attr in ("exec_", "print_"):
                found.append(
                    Finding(
                        path,
                        node.lineno,
                        f"{node.attr}() is gone in PyQt6: use {node.attr[:-1]}() "
                        "(compat.exec_dialog for dialogs)",
                    )
                )
                continue
            if not isinstance(node.value, ast.Name):
                # Owner.Type.Value: scoped, unless Owner.Type is itself an unscoped value
                continue
            owner = bindings.get(node.value.id)
            if owner is None:
                continue
            if node.value.id == "QVariant" and path.name not in ALLOWED_QVARIANT:
                found.append(
                    Finding(
                        path,
                        node.lineno,
                        "QVariant types: use compat.field_type (QMetaType in QGIS >= 3.38 and 4)",
                    )
                )
                continue
            scoped = _is_unscoped_value(owner, node.attr)
            if scoped:
                found.append(
                    Finding(
                        path,
                        node.lineno,
                        f"{node.value.id}.{node.attr} is unscoped (Qt 5 only): write {scoped}",
                    )
                )
    return found


def check(paths: list[Path]) -> list[Finding]:
    """Check every ``.py`` file under ``paths``."""
    bindings = _bindings()
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    found: list[Finding] = []
    for file in files:
        if "__pycache__" in file.parts:
            continue
        found.extend(check_source(file, file.read_text(encoding="utf-8"), bindings))
    return found


def main(argv: list[str] | None = None) -> int:
    """Command line entry."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", type=Path, default=[REPO / "soilmoisture_plugin"])
    args = parser.parse_args(argv)
    from qgis.core import QgsApplication  # noqa: F401 (loads the QGIS bindings)

    found = check(args.paths)
    for finding in found:
        print(finding)
    if found:
        print(f"{len(found)} Qt 5-only forms", file=sys.stderr)
        return 1
    print("no Qt 5-only forms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
