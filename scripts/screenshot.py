#!/usr/bin/env python3
"""Screenshot of the plugin in the full QGIS desktop after a demo run (``make screenshot``).

Starts QGIS under Xvfb with the plugin staged from this checkout (a folder of links), a fresh
profile and isolated user folders, then a start-up script (``--code``) loads the plugin, opens
the dock, sets the demo area, loads the demo stations, runs Adapt & Map on the simulated scene
and, once the map layers are drawn, saves ``iface.mainWindow().grab()``.

Usage:
    python scripts/screenshot.py --out docs/screenshot.png [--epochs 2] [--timeout 900]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SOILMOISTURE_SHARED", REPO.parent / "shared"))

# The start-up script QGIS runs (inside QGIS's Python; `iface` comes from qgis.utils).
QGIS_SCRIPT = r"""
import dataclasses
import json
import os
import sys
import traceback

from qgis.core import QgsApplication, QgsProject
from qgis.gui import QgsCollapsibleGroupBox
from qgis.PyQt.QtCore import QPoint, Qt, QTimer
from qgis.utils import iface, loadPlugin, plugins, startPlugin

OUT = os.environ["SM_SHOT_OUT"]
STATUS = os.environ["SM_SHOT_STATUS"]
MODELS = os.environ.get("SM_SHOT_MODELS") or "densesm_9km"
EPOCHS = int(os.environ.get("SM_SHOT_EPOCHS", "2"))
state = {"step": "start", "ticks": 0}


def trace(text):
    with open(STATUS + ".trace", "a") as fh:
        fh.write(text + "\n")


def finish(ok, message=""):
    with open(STATUS, "w") as fh:
        json.dump({"ok": ok, "message": message, "step": state["step"]}, fh)
    QTimer.singleShot(500, QgsApplication.instance().quit)


def guard(fn):
    def wrapped():
        try:
            fn()
        except Exception:
            finish(False, traceback.format_exc())
    return wrapped


@guard
def start():
    trace("start")
    iface.mainWindow().showMaximized()
    assert loadPlugin("soilmoisture") and startPlugin("soilmoisture"), "plugin did not start"
    dock = plugins["soilmoisture"].show_dock()
    state["dock"] = dock
    dock.use_demo_area()
    dock.load_demo_stations()
    state["step"] = "stations"
    QTimer.singleShot(500, poll)


@guard
def poll():
    dock = state["dock"]
    state["ticks"] += 1
    trace(f"{state['step']} {state['ticks']} {dock.status_label.text()[:80]}")
    if state["step"] == "stations" and dock.station_list.count() > 0:
        config = dataclasses.replace(dock.build_config(), models=MODELS, epochs=EPOCHS)
        dock._select(dock.method_combo, "msda")
        if dock.start_run(config) is None:
            raise RuntimeError("run did not start: " + dock.status_label.text())
        state["step"] = "run"
    elif state["step"] == "run" and dock.run_task is None:
        if dock.result is None:
            raise RuntimeError("run failed: " + dock.status_label.text())
        layer = QgsProject.instance().mapLayer(dock.result_layer_ids[0])
        iface.setActiveLayer(layer)
        canvas = iface.mapCanvas()
        extent = iface.mapCanvas().mapSettings().layerExtentToOutputExtent(layer, layer.extent())
        extent.scale(1.05)
        canvas.setExtent(extent)
        canvas.refresh()
        # a dock wide enough for its labels, scrolled down to the results but not sideways
        iface.mainWindow().resizeDocks([dock], [560], Qt.Horizontal)
        results = dock.findChild(QgsCollapsibleGroupBox, "results_group")
        if results is not None:
            area = dock.widget()
            top = results.mapTo(area.widget(), QPoint(0, 0)).y()
            area.verticalScrollBar().setValue(max(top - 250, 0))  # the run box, then results
            area.horizontalScrollBar().setValue(0)
        state["step"] = "render"
        state["render_ticks"] = state["ticks"]
    elif state["step"] == "render" and state["ticks"] - state["render_ticks"] > 6:
        if iface.mapCanvas().isDrawing():
            QTimer.singleShot(500, poll)
            return
        iface.mainWindow().grab().save(OUT)
        finish(True)
        return
    QTimer.singleShot(500, poll)


QTimer.singleShot(2000, start)
"""


def venv_site_packages() -> str:
    """The running interpreter's site-packages (the venv's, built on Debian's python3)."""
    return sysconfig.get_paths()["purelib"]


def main(argv: list[str] | None = None) -> int:
    """Run QGIS under Xvfb and save the screenshot."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshot.png")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--timeout", type=int, default=1200, help="seconds before giving up")
    parser.add_argument("--models", default=None, help="pretrained model set (name or folder)")
    args = parser.parse_args(argv)
    for tool in ("xvfb-run", "qgis"):
        if shutil.which(tool) is None:
            print(f"screenshot: {tool} is not installed (make system-packages)", file=sys.stderr)
            return 2
    models = args.models or str(SHARED / "models" / "densesm_9km")
    sys.path.insert(0, str(REPO / "scripts"))
    from package import stage

    with tempfile.TemporaryDirectory(prefix="sm-shot-") as tmp_name:
        tmp = Path(tmp_name)
        plugins = tmp / "plugins"
        stage(plugins, REPO, link=True)
        script = tmp / "shot.py"
        script.write_text(QGIS_SCRIPT, encoding="utf-8")
        status = tmp / "status.json"
        png = tmp / "screenshot.png"
        env = dict(os.environ)
        env.update(
            QGIS_PLUGINPATH=str(plugins),
            PYTHONPATH=os.pathsep.join(filter(None, [venv_site_packages(), env.get("PYTHONPATH")])),
            SOILMOISTURE_DATA_DIR=str(tmp / "data"),
            SOILMOISTURE_CACHE_DIR=str(tmp / "cache"),
            SM_SHOT_OUT=str(png),
            SM_SHOT_STATUS=str(status),
            SM_SHOT_MODELS=models,
            SM_SHOT_EPOCHS=str(args.epochs),
        )
        env.pop("QT_QPA_PLATFORM", None)
        cmd = [
            "xvfb-run",
            "-a",
            "-s",
            "-screen 0 1600x1000x24",
            "qgis",
            "--nologo",
            "--noversioncheck",
            "--profiles-path",
            str(tmp / "profiles"),
            "--code",
            str(script),
        ]
        try:
            proc = subprocess.run(
                cmd, env=env, timeout=args.timeout, capture_output=True, text=True
            )
        except subprocess.TimeoutExpired:
            print(f"screenshot: QGIS did not finish within {args.timeout} s", file=sys.stderr)
            return 1
        trace = status.with_name(status.name + ".trace")
        if trace.exists():
            print("".join(trace.read_text().splitlines(True)[-5:]), file=sys.stderr)
        if not status.exists():
            print(
                "screenshot: QGIS exited without a result:\n" + proc.stderr[-3000:], file=sys.stderr
            )
            return 1
        import json

        result = json.loads(status.read_text())
        if not result["ok"] or not png.exists():
            print(f"screenshot: failed at {result['step']}:\n{result['message']}", file=sys.stderr)
            return 1
        args.out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(png, args.out)
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
