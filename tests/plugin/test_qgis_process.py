"""Batch outside the GUI: Adapt & Map on the demo scene through ``qgis_process run``.

The packaged zip is unpacked into a fresh QGIS profile and enabled there (as the README tells
users to do); ``qgis_process`` then finds the provider like any other.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

from .conftest import REPO, load_package_script, module
from .desktop import install_zip
from .test_processing import demo_date, demo_extent

QGIS_PROCESS = shutil.which("qgis_process.bin") or shutil.which("qgis_process")
"""Debian's /usr/bin/qgis_process wraps the binary with an option 3.22 rejects: call the binary."""

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(QGIS_PROCESS is None, reason="needs qgis_process"),
]


def qgis_process(args: list[str], config: Path, timeout: int) -> subprocess.CompletedProcess[str]:
    site = REPO / ".venv" / "lib" / "python3.11" / "site-packages"
    env = {
        "HOME": str(config.parent),
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "QT_QPA_PLATFORM": "offscreen",
        "QGIS_CUSTOM_CONFIG_PATH": str(config),  # the profile with the plugin enabled
        "SOILMOISTURE_DATA_DIR": os.environ["SOILMOISTURE_DATA_DIR"],
        "SOILMOISTURE_CACHE_DIR": os.environ["SOILMOISTURE_CACHE_DIR"],
    }
    if site.is_dir():  # the engine's packages, as a user's QGIS Python would have them
        env["PYTHONPATH"] = str(site)
    assert QGIS_PROCESS is not None
    return subprocess.run(
        [QGIS_PROCESS, *args], env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("qgis_process")
    zip_path = load_package_script().build_zip(root / "dist", REPO)
    install_zip(zip_path, root / "config")
    return root / "config"


def test_the_provider_is_listed(config: Path) -> None:
    out = qgis_process(["list"], config, timeout=120)
    assert "soilmoisture:adaptmap" in out.stdout, out.stdout[-2000:] + out.stderr[-2000:]


def test_adapt_and_map_runs_on_the_demo_scene(
    config: Path, plugin_package: ModuleType, pretrained_dir: Path, tmp_path: Path
) -> None:
    stations = tmp_path / "stations"
    module("core.inputs.sources.demo").write_demo_stations(stations)
    out_dir = tmp_path / "out"
    out = qgis_process(
        [
            "run",
            "soilmoisture:adaptmap",
            "--json",
            f"--EXTENT={demo_extent()}",
            f"--STATIONS={stations}",
            f"--DATES={demo_date().isoformat()}",
            "--SOURCE=1",
            "--EPOCHS=1",
            "--CROSS_VALIDATE=false",
            f"--MODELS={pretrained_dir}",
            f"--OUTPUT_FOLDER={out_dir}",
        ],
        config,
        timeout=1200,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    results = json.loads(out.stdout[out.stdout.index("{") :])["results"]
    assert Path(results["OUTPUT"]).is_file()
    assert Path(results["REPORT"]).is_file()
    assert Path(results["OUTPUT"]).is_relative_to(out_dir)
