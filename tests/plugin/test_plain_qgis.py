"""The packaged plugin in a plain QGIS: the desktop, its own Python, none of the engine's packages.

This is what a new user meets after Plugins > Install from ZIP: the plugin must load without a
traceback, say in one complete line what is missing with a button to the installer, register its
Processing algorithms, and refuse to run them with the same clear message.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .conftest import REPO, load_package_script
from .desktop import ENGINE_PACKAGES, install_zip, run_desktop

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (shutil.which("qgis") and shutil.which("xvfb-run")),
        reason="needs the QGIS desktop and Xvfb",
    ),
]

CHECK = r"""
import sys
import qgis.utils
from qgis.utils import iface
from qgis.core import QgsApplication, QgsProcessingException, QgsProcessingFeedback
from qgis.PyQt.QtWidgets import QPushButton
import processing

RESULT["hidden_importable"] = []
for name in HIDDEN:
    try:
        __import__(name)
        RESULT["hidden_importable"].append(name)
    except ImportError:
        pass
RESULT["active"] = list(qgis.utils.active_plugins)
bar = []
for item in iface.messageBar().items():
    buttons = [b.text() for b in item.findChildren(QPushButton)]
    bar.append({"title": item.title(), "text": item.text(), "level": int(item.level()),
                "buttons": buttons})
RESULT["bar"] = bar
plugin = qgis.utils.plugins.get("soilmoisture")
RESULT["missing"] = list(plugin.dependencies.missing) if plugin else None
dialog = plugin.show_dependencies()
RESULT["dialog"] = dialog.text()
dialog.close()
provider = QgsApplication.processingRegistry().providerById("soilmoisture")
RESULT["algorithms"] = sorted(a.id() for a in provider.algorithms()) if provider else []
class Feedback(QgsProcessingFeedback):
    errors = []

    def reportError(self, error, fatalError=False):
        self.errors.append(error)


feedback = Feedback()
try:
    processing.run("soilmoisture:adaptmap", {"EXTENT": "0,1,0,1 [EPSG:4326]",
                   "STATIONS": [], "DATES": "2023-05-01", "SOURCE": 1,
                   "OUTPUT_FOLDER": OUT_FOLDER}, feedback=feedback)
    RESULT["run"] = "ran"
except QgsProcessingException as exc:
    RESULT["run"] = str(exc) + "\n" + "\n".join(feedback.errors)
RESULT["engine_modules"] = sorted(m for m in sys.modules if m.split(".")[0] in HIDDEN)
"""


@pytest.fixture(scope="module")
def plugin_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The release zip, built as `make package` builds it."""
    return load_package_script().build_zip(tmp_path_factory.mktemp("dist"), REPO)


def test_zip_loads_in_a_qgis_without_the_engine_packages(plugin_zip: Path, tmp_path: Path) -> None:
    profiles = tmp_path / "profiles"
    install_zip(plugin_zip, profiles)
    run = run_desktop(
        profiles,
        f"HIDDEN = {list(ENGINE_PACKAGES)!r}\nOUT_FOLDER = {str(tmp_path / 'out')!r}\n" + CHECK,
        tmp_path / "work",
        timeout=120,
    )
    result = run.result
    assert result, (
        f"QGIS wrote nothing (rc {run.returncode}):\n{run.output[-3000:]}\n{run.log[-3000:]}"
    )
    assert "harness_error" not in result, result["harness_error"]
    assert result["hidden_importable"] == []  # this QGIS really lacks them
    assert not run.tracebacks(), run.tracebacks()[0]
    assert "soilmoisture" in result["active"]

    # one short, complete line in the message bar, with a button to the installer
    ours = [m for m in result["bar"] if m["title"] == "Soil Moisture"]
    assert len(ours) == 1, result["bar"]
    text = ours[0]["text"]
    assert "torch" in text and "shapely" in text and "more" in text, text
    assert len(text) < 160, text  # fits the bar without scroll arrows
    assert "pip install --user" not in text
    assert ours[0]["buttons"] == ["Install dependencies…"]

    # the dialog names every missing package and a command that works on Debian 12
    assert set(result["missing"]) >= {"torch", "shapely", "sklearn", "xgboost", "ee"}
    for package in ("torch", "shapely", "scikit-learn", "xgboost", "earthengine-api"):
        assert package in result["dialog"], package
    assert "--target" in result["dialog"] and "--user" not in result["dialog"]

    # Processing: registered, and a run refuses with what to install, not a traceback
    assert "soilmoisture:adaptmap" in result["algorithms"]
    assert "Python packages are missing" in result["run"], result["run"]
    assert "Options > Python packages" in result["run"] and "--target" in result["run"]
    assert result["engine_modules"] == []
