"""Run the real QGIS desktop (Debian's ``qgis``, system Python, no virtual environment).

The packaged zip is unpacked into a fresh profile's plugins folder and enabled there, as
"Install from ZIP" does; QGIS starts under Xvfb with a startup script that records every message
log entry (Python tracebacks included) and, optionally, hides Python packages so that QGIS's
Python looks like one that never had them. A ``--code`` script then inspects QGIS and writes a
JSON file. Every run is bounded in time.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import textwrap
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENGINE_PACKAGES = (
    "shapely",
    "sklearn",
    "xgboost",
    "torch",
    "ee",
    "dask",
    "distributed",
    "numba",
    "pyarrow",
)
"""What a plain QGIS's Python lacks (numpy and GDAL are QGIS's own)."""

STARTUP = '''
import importlib.abc, os, sys
HIDDEN = set(filter(None, os.environ.get("SM_HIDE", "").split(",")))
ALLOWED = os.environ.get("SM_ALLOW", "")


class _Hide(importlib.abc.MetaPathFinder):
    """Hide packages unless they come from the SM_ALLOW folder (the plugin's own)."""

    sm_hide = True

    def find_spec(self, name, path=None, target=None):
        if "." in name or name not in HIDDEN:  # submodules follow their package
            return None
        for finder in sys.meta_path:
            if getattr(finder, "sm_hide", False) or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                where = spec.origin or ""
                if ALLOWED and where.startswith(ALLOWED):
                    return spec
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


if HIDDEN and not any(getattr(f, "sm_hide", False) for f in sys.meta_path):
    sys.meta_path.insert(0, _Hide())
from qgis.core import QgsApplication

_log = open(os.environ["SM_LOG"], "a", encoding="utf-8")


def _record(message, tag, level):
    _log.write(f"[{tag}|{int(level)}] {message}\\n")
    _log.flush()


if not getattr(QgsApplication, "_sm_recording", False):
    QgsApplication._sm_recording = True
    QgsApplication.messageLog().messageReceived.connect(_record)
'''


@dataclass
class DesktopRun:
    """What one QGIS desktop run left behind."""

    returncode: int
    result: dict[str, Any]
    log: str
    output: str

    def tracebacks(self) -> list[str]:
        """Python tracebacks QGIS logged."""
        return [part for part in self.log.split("\n[") if "Traceback (most recent call" in part]


def install_zip(zip_path: Path, profiles: Path, enable: bool = True) -> Path:
    """Unpack the plugin zip into ``profiles/default`` and enable it; returns the plugin folder."""
    profile = profiles / "profiles" / "default"
    plugins = profile / "python" / "plugins"
    if plugins.exists():
        shutil.rmtree(plugins)
    plugins.mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(plugins)
    (profile / "QGIS").mkdir(parents=True, exist_ok=True)
    if enable:
        (profile / "QGIS" / "QGIS3.ini").write_text(
            "[PythonPlugins]\nsoilmoisture=true\n", encoding="utf-8"
        )
    return plugins / "soilmoisture"


def run_desktop(
    profiles: Path,
    code: str,
    work: Path,
    hide: tuple[str, ...] = ENGINE_PACKAGES,
    allow: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: int = 240,
    screen: str = "1280x800x24",
) -> DesktopRun:
    """Start QGIS on ``profiles``, run ``code`` once it is up, and collect what it wrote.

    ``code`` runs inside QGIS (``iface`` from ``qgis.utils``) and must fill the dict ``RESULT``;
    the harness writes it and ends QGIS.
    """
    work.mkdir(parents=True, exist_ok=True)
    startup = work / "startup.py"
    startup.write_text(STARTUP, encoding="utf-8")
    out = work / "result.json"
    log = work / "log.txt"
    for path in (out, log):
        path.unlink(missing_ok=True)
    script = work / "code.py"
    script.write_text(
        "import json, os, traceback\n"
        "RESULT = {}\n"
        "try:\n" + textwrap.indent(textwrap.dedent(code), "    ") + "\nexcept BaseException:\n"
        "    RESULT['harness_error'] = traceback.format_exc()\n"
        f"with open({str(out)!r}, 'w', encoding='utf-8') as fh:\n"
        "    json.dump(RESULT, fh, default=str)\n"
        "from qgis.core import QgsProject\n"
        "QgsProject.instance().removeAllMapLayers()\n"
        "os._exit(0)\n",
        encoding="utf-8",
    )
    compile(script.read_text(encoding="utf-8"), str(script), "exec")  # QGIS would hang on it
    home = work / "home"
    home.mkdir(exist_ok=True)
    environ = {
        "HOME": str(home),
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "SM_LOG": str(log),
        "SM_HIDE": ",".join(hide),
        "SM_ALLOW": str(allow or ""),
        "PYQGIS_STARTUP": str(startup),
        "XDG_RUNTIME_DIR": str(work),
        "PIP_FIND_LINKS": os.environ.get("PIP_FIND_LINKS", ""),
        **(env or {}),
    }
    if os.path.exists("/etc/pip.conf"):
        environ.setdefault("PIP_CONFIG_FILE", "/etc/pip.conf")
    cmd = [
        "xvfb-run",
        "-a",
        "-s",
        f"-screen 0 {screen}",
        "qgis",
        "--nologo",
        "--noversioncheck",
        "--profiles-path",
        str(profiles),
        "--code",
        str(script),
    ]
    proc = subprocess.Popen(
        cmd,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = proc.communicate(timeout=timeout)
        returncode = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # xvfb-run, Xvfb and QGIS: the whole group
        output, _ = proc.communicate()
        returncode = -1
        output = f"timed out after {timeout} s\n{output}"
    (work / "output.txt").write_text(output, encoding="utf-8")  # for a post-mortem
    result = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    return DesktopRun(
        returncode, result, log.read_text(encoding="utf-8") if log.exists() else "", output
    )
