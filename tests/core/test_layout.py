"""The engine's layout rule: packages import only earlier stages, and never QGIS or Qt.

``docs/development.md`` draws the map. The stages follow the data's way through a run; the
foundations (errors, progress, atomic, paths) serve every stage, and the CLI sits on top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "core"

STAGES = {
    "inputs": 1,
    "features": 2,
    "model": 3,
    "adaptation": 4,
    "outputs": 5,
    "run": 6,
    "commands": 7,
    "cli": 7,
}
"""Rank of each top-level part of ``core``; anything not listed is a foundation (rank 0)."""

FORBIDDEN_ROOTS = ("qgis", "PyQt5", "PyQt6", "sip")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(CORE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """``(line, absolute module)`` of every import in ``path``, relative ones resolved."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if node.level and not node.module:
                # ``from . import x``: each name may be a module of its own
                found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, target))
    return found


def _rank(module: str) -> int:
    parts = module.split(".")
    if parts[0] != "core" or len(parts) < 2:
        return 0
    return STAGES.get(parts[1], 0)


def _engine_files() -> list[Path]:
    return sorted(p for p in CORE.rglob("*.py") if "__pycache__" not in p.parts)


def layout_violations() -> list[str]:
    """Every import of a later stage, and every import of QGIS or Qt, in ``core/``."""
    bad = []
    for path in _engine_files():
        own = _rank(_module_name(path))
        for line, target in _imports(path):
            where = f"{path.relative_to(CORE.parent)}:{line}"
            if target.split(".")[0] in FORBIDDEN_ROOTS:
                bad.append(f"{where} imports {target}: core/ must run without QGIS")
            elif target.startswith("core.") and _rank(target) > own:
                bad.append(f"{where} imports {target}, a later stage than its own")
    return bad


def test_engine_imports_follow_the_flow() -> None:
    assert layout_violations() == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from ..run.config import X\n", "a later stage"),
        ("def f():\n    from ..adaptation import train\n", "a later stage"),
        ("from qgis.core import QgsProject\n", "without QGIS"),
    ],
)
def test_rule_catches_a_bad_import(
    source: str, expected: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The checker itself fails on a planted backward import (it is not a test that cannot fail)."""
    fake_core = tmp_path / "core"
    (fake_core / "model").mkdir(parents=True)
    (fake_core / "__init__.py").write_text("")
    (fake_core / "model" / "__init__.py").write_text("")
    (fake_core / "model" / "bad.py").write_text(source)
    monkeypatch.setattr(__import__(__name__, fromlist=["CORE"]), "CORE", fake_core)
    problems = layout_violations()
    assert len(problems) == 1 and expected in problems[0], problems


def test_every_engine_module_is_a_room_of_reasonable_size() -> None:
    """No engine or plugin module grows past ~500 lines (600 is the hard stop)."""
    plugin = CORE.parent / "soilmoisture_plugin"
    files = _engine_files() + sorted(plugin.rglob("*.py"))
    too_big = {
        str(p.relative_to(CORE.parent)): n
        for p in files
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 600
    }
    assert too_big == {}
