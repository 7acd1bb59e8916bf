"""Load the plugin as QGIS does and check that unloading leaves nothing behind."""

from __future__ import annotations

import gc
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from qgis.core import Qgis, QgsApplication

from .conftest import module, read_metadata

REQUIRED_METADATA = (
    "name",
    "qgisMinimumVersion",
    "description",
    "about",
    "version",
    "author",
    "email",
    "tracker",
    "repository",
    "homepage",
    "tags",
    "category",
    "icon",
    "hasProcessingProvider",
    "experimental",
)


def _version_int(text: str) -> int:
    parts = [int(p) for p in text.split(".")] + [0, 0]
    return parts[0] * 10000 + parts[1] * 100 + parts[2]


def test_metadata_is_complete_and_accepts_this_qgis(plugins_dir: Path) -> None:
    meta = read_metadata(plugins_dir / "soilmoisture")
    missing = [k for k in REQUIRED_METADATA if not meta.get(k, "").strip()]
    assert not missing, f"metadata.txt lacks {missing}"
    assert meta["qgisMinimumVersion"] == "3.22"
    assert _version_int(meta["qgisMinimumVersion"]) <= Qgis.QGIS_VERSION_INT
    assert meta["hasProcessingProvider"].lower() == "yes"
    assert (plugins_dir / "soilmoisture" / meta["icon"]).is_file()


class Recorder:
    """Records what the plugin adds to and removes from the QGIS interface."""

    def __init__(self) -> None:
        self.menu: list[Any] = []
        self.toolbar: list[Any] = []
        self.docks: list[Any] = []

    def install(self, iface: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(
            iface, "addPluginToMenu", lambda name, a: self.menu.append(a), raising=False
        )
        monkeypatch.setattr(
            iface, "removePluginMenu", lambda name, a: self.menu.remove(a), raising=False
        )
        monkeypatch.setattr(
            iface, "addToolBarIcon", lambda a: self.toolbar.append(a), raising=False
        )
        monkeypatch.setattr(
            iface, "removeToolBarIcon", lambda a: self.toolbar.remove(a), raising=False
        )
        monkeypatch.setattr(
            iface, "addDockWidget", lambda area, d: self.docks.append(d), raising=False
        )
        monkeypatch.setattr(
            iface, "removeDockWidget", lambda d: self.docks.remove(d), raising=False
        )


def test_class_factory_init_gui_and_unload_leave_nothing(
    plugin_package: ModuleType,
    qgis_iface: Any,
    monkeypatch: pytest.MonkeyPatch,
    clean_project: None,
) -> None:
    rec = Recorder()
    rec.install(qgis_iface, monkeypatch)
    registry = QgsApplication.processingRegistry()
    assert registry.providerById("soilmoisture") is None

    plugin = plugin_package.classFactory(qgis_iface)
    plugin.initGui()
    provider = registry.providerById("soilmoisture")
    assert provider is not None
    ids = sorted(a.id() for a in provider.algorithms())
    assert ids == sorted(
        f"soilmoisture:{n}"
        for n in (
            "adaptmap",
            "mapwithensemble",
            "listsentinel1dates",
            "loadstations",
            "validateraster",
            "installmodels",
        )
    )
    assert len(rec.menu) == 1 and len(rec.toolbar) == 1

    dock = plugin.show_dock()
    assert rec.docks == [dock]
    canvas = qgis_iface.mapCanvas()
    dock.start_draw("rectangle")
    assert canvas.mapTool() is dock.map_tool
    n_items = len(canvas.scene().items())

    plugin.unload()
    gc.collect()
    assert registry.providerById("soilmoisture") is None
    assert rec.menu == [] and rec.toolbar == [] and rec.docks == []
    assert canvas.mapTool() is None
    assert len(canvas.scene().items()) < n_items  # rubber bands removed
    assert plugin.dock is None and plugin.action is None and plugin.provider is None


def test_missing_dependencies_warn_in_one_line_with_an_install_button(
    plugin_package: ModuleType, qgis_iface: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    deps = module("soilmoisture_plugin.deps")
    plugin_mod = module("soilmoisture_plugin.plugin")
    real = deps.is_available
    monkeypatch.setattr(deps, "is_available", lambda name: False if name == "torch" else real(name))
    monkeypatch.setattr(plugin_mod, "check_dependencies", deps.check_dependencies)
    pushed: list[tuple[Any, Any]] = []
    monkeypatch.setattr(
        qgis_iface.messageBar(),
        "pushWidget",
        lambda widget, level=None, duration=0: pushed.append((widget, level)) or widget,
        raising=False,
    )
    plugin = plugin_package.classFactory(qgis_iface)
    try:
        plugin.initGui()
        assert not plugin.dependencies.torch
        assert len(pushed) == 1
        item, level = pushed[0]
        assert level == Qgis.Warning
        assert item.text() == (
            "A Python package is missing: torch. The plugin can install what is missing."
        )
        dialog = plugin.show_dependencies()
        assert (
            "torch==2.13.0" in dialog.text()
            and "--extra-index-url" in dialog.text()
            and "--target" in dialog.text()
        )
        dialog.close()
        dock = plugin.show_dock()
        assert not dock.run_button.isEnabled()
        assert "Python packages" in dock.run_button.toolTip()
    finally:
        plugin.unload()


def test_no_heavy_import_when_loading(plugin_package: ModuleType) -> None:
    import subprocess
    import sys

    path = str(Path(plugin_package.__file__).parent.parent)
    code = (
        f"import sys; sys.path.insert(0, {path!r});"
        "from qgis.core import QgsApplication; app = QgsApplication([], False);"
        "import soilmoisture; from soilmoisture.soilmoisture_plugin import plugin;"
        "from soilmoisture.soilmoisture_plugin.algorithms import provider;"
        "print('torch' in sys.modules, 'ee' in sys.modules, 'core' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"},
    )
    assert out.stdout.strip().splitlines()[-1] == "False False False", out.stderr


def test_install_command_targets_the_plugin_folder(
    plugin_package: ModuleType, tmp_path: Path
) -> None:
    deps = module("soilmoisture_plugin.deps")
    command = deps.install_command(["torch==2.13.0"], target=tmp_path / "pkgs")
    assert command.endswith(f'-m pip install --target "{tmp_path / "pkgs"}" "torch==2.13.0"')
    assert "--user" not in command


def test_the_terminal_command_is_the_install_buttons_pip_run(
    plugin_package: ModuleType, tmp_path: Path
) -> None:
    import shlex

    deps = module("soilmoisture_plugin.deps")
    installer = module("soilmoisture_plugin.installer")
    plan = deps.InstallPlan(
        python=Path("/usr/bin/python3"),
        target=tmp_path / "packages" / "python3.11",
        requirements=("torch==2.13.0", "xgboost-cpu==2.1.4"),
        constraints=("numpy==1.24.2",),
        extra_index="https://download.pytorch.org/whl/cpu",
        args=("--no-binary", "shapely"),
    )
    words = shlex.split(installer.terminal_command(plan))
    pins = tmp_path / "packages" / "logs" / "constraints-terminal.txt"
    assert words == plan.command(pins)
    assert pins.read_text() == "numpy==1.24.2\n"
    assert "--extra-index-url" in words and "--no-binary" in words and "--user" not in words
    text = deps.DependencyReport(missing=("torch",)).install_command()
    assert "torch==" in text and "--target" in text and "--extra-index-url" in text
