"""`make package`: the zip installs with "Install from ZIP" and leaks no top-level module."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from .conftest import REPO, load_package_script, read_metadata


def test_zip_layout(tmp_path: Path) -> None:
    script = load_package_script()
    zip_path = script.build_zip(tmp_path / "dist", REPO)
    version = read_metadata(REPO)["version"]
    assert zip_path.name == f"soilmoisture-{version}.zip"
    with zipfile.ZipFile(zip_path) as zf:
        names = zf.namelist()
        zf.extractall(tmp_path / "unzipped")
    tops = {n.split("/")[0] for n in names}
    assert tops == {"soilmoisture"}, tops  # one plugin folder, nothing else at the top
    for required in (
        "__init__.py",
        "metadata.txt",
        "core/__init__.py",
        "core/run/__init__.py",
        "core/model/ensemble.py",
        "soilmoisture_plugin/plugin.py",
        "resources/icon.svg",
    ):
        assert f"soilmoisture/{required}" in names, required
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert not [n for n in names if n.startswith("soilmoisture/tests/") or ".venv" in n]
    assert not [n for n in names if n.endswith(".ts")]  # sources stay out, .qm go in
    root_init = zf_text(zip_path, "soilmoisture/__init__.py")
    assert "def classFactory(iface)" in root_init


def zf_text(zip_path: Path, name: str) -> str:
    with zipfile.ZipFile(zip_path) as zf:
        return zf.read(name).decode("utf-8")


def test_unzipped_plugin_imports_without_a_top_level_core(tmp_path: Path) -> None:
    script = load_package_script()
    zip_path = script.build_zip(tmp_path / "dist", REPO)
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(tmp_path / "plugins")
    code = (
        f"import sys; sys.path.insert(0, {str(tmp_path / 'plugins')!r});"
        "from qgis.core import QgsApplication; app = QgsApplication([], False);"
        "import soilmoisture, importlib;"
        "m = importlib.import_module('soilmoisture.soilmoisture_plugin.algorithms.provider');"
        "print(soilmoisture.__file__);"
        "print('core' in sys.modules, callable(soilmoisture.classFactory))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
    )
    lines = out.stdout.strip().splitlines()
    assert lines, out.stderr
    assert lines[0].startswith(str(tmp_path / "plugins" / "soilmoisture"))
    assert lines[-1] == "False True", out.stderr
