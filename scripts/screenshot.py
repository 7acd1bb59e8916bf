#!/usr/bin/env python3
"""Screenshots of the plugin in the full QGIS desktop on the demo scene (``make screenshot``).

Starts QGIS under Xvfb (a 1920 x 1080 screen) with the plugin staged from this checkout (a
folder of links), a fresh profile and isolated user folders. A start-up script (``--code``)
sets the main window to 1280 x 800 (a laptop), loads the plugin, opens the dock at the width
QGIS gives it, sets the demo area, loads the demo stations and runs Adapt & Map with
cross-validation. It saves, next to ``--out`` (``docs/screenshot.png``):

- ``screenshot-1280x800-run.png``: during the run (run controls, progress and Cancel visible);
- ``screenshot-1280x800.png``: after the run (the plain-words summary, the map with the
  stations on top);
- ``screenshot-1920x1080.png``: the same window maximized on the 1920 x 1080 screen (also
  copied to ``--out``);
- ``screenshot-dock.png``: the whole dock content, top to bottom.

Usage:
    python scripts/screenshot.py --out docs/screenshot.png [--epochs 2] [--timeout 1200]
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
import traceback

from qgis.core import QgsApplication, QgsProject
from qgis.PyQt.QtCore import QTimer
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


def window(width, height):
    main = iface.mainWindow()
    main.showNormal()
    main.resize(width, height)
    main.move(0, 0)


def grab(name):
    path = os.path.join(os.path.dirname(OUT), name)
    iface.mainWindow().grab().save(path)
    trace("saved " + path)


@guard
def start():
    trace("start")
    window(1280, 800)
    assert loadPlugin("soilmoisture") and startPlugin("soilmoisture"), "plugin did not start"
    dock = plugins["soilmoisture"].show_dock()
    state["dock"] = dock
    dock.output_widget.setFilePath(os.environ["SM_SHOT_RUNS"])
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
        dock._select(dock.method_combo, "msda")
        config = dataclasses.replace(
            dock.build_config(), models=MODELS, epochs=EPOCHS, cross_validate=True
        )
        if dock.start_run(config) is None:
            raise RuntimeError("run did not start: " + dock.status_label.text())
        state["step"] = "run"
    elif state["step"] == "run" and dock.run_task is not None and dock.progress_bar.value() >= 15:
        # scrolled to the bottom, where the charts will come: the run box stays in view
        bar = dock.scroll.verticalScrollBar()
        bar.setValue(bar.maximum())
        grab("screenshot-1280x800-run.png")
        state["step"] = "running"
    elif state["step"] in ("run", "running") and dock.run_task is None:
        if dock.result is None:
            raise RuntimeError("run failed: " + dock.status_label.text())
        state["step"] = "render"
        state["render_ticks"] = state["ticks"]
    elif state["step"] == "render" and state["ticks"] - state["render_ticks"] > 6:
        if iface.mapCanvas().isDrawing():
            QTimer.singleShot(500, poll)
            return
        dock.scroll.ensureWidgetVisible(dock.results_summary, 0, 0)
        grab("screenshot-1280x800.png")
        window(1920, 1080)
        iface.mainWindow().showMaximized()
        state["step"] = "render-large"
        state["render_ticks"] = state["ticks"]
    elif state["step"] == "render-large" and state["ticks"] - state["render_ticks"] > 6:
        if iface.mapCanvas().isDrawing():
            QTimer.singleShot(500, poll)
            return
        dock.scroll.ensureWidgetVisible(dock.results_summary, 0, 0)
        grab("screenshot-1920x1080.png")
        iface.mainWindow().grab().save(OUT)
        body = dock.body
        body.grab().save(os.path.join(os.path.dirname(OUT), "screenshot-dock.png"))
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
        shots = tmp / "shots"
        shots.mkdir()
        png = shots / "screenshot.png"
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
            SM_SHOT_RUNS=str(tmp / "runs"),
        )
        env.pop("QT_QPA_PLATFORM", None)
        cmd = [
            "xvfb-run",
            "-a",
            "-s",
            "-screen 0 1920x1080x24",
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
        for shot in sorted(shots.glob("*.png")):
            target = args.out if shot.name == png.name else args.out.parent / shot.name
            shutil.copyfile(shot, target)
            print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
