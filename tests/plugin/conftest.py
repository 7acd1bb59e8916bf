"""Plugin test fixtures: the plugin imported as QGIS does, from a staged ``soilmoisture`` folder.

The repository is staged (symbolic links, as ``scripts/package.py --link`` does) into a temporary
plugins folder, which is put on ``sys.path``; the plugin is then the package ``soilmoisture``
and reaches its engine as ``soilmoisture.core``, exactly as inside QGIS.
"""

from __future__ import annotations

import configparser
import importlib
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]


def load_package_script() -> ModuleType:
    """Import scripts/package.py (not a package) as a module."""
    spec = importlib.util.spec_from_file_location(
        "sm_package_script", REPO / "scripts" / "package.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def read_metadata(folder: Path) -> configparser.SectionProxy:
    """The [general] section of a plugin's metadata.txt, read as QGIS reads it."""
    parser = configparser.ConfigParser(interpolation=None)
    assert parser.read(folder / "metadata.txt", encoding="utf-8"), "metadata.txt missing"
    return parser["general"]


@pytest.fixture(scope="session")
def plugins_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A plugins folder holding ``soilmoisture/`` linked to this checkout, on sys.path."""
    root = tmp_path_factory.mktemp("plugins")
    load_package_script().stage(root, REPO, link=True)
    sys.path.insert(0, str(root))
    yield root
    sys.path.remove(str(root))


@pytest.fixture(scope="session")
def plugin_package(plugins_dir: Path, qgis_app: Any) -> ModuleType:
    """The plugin root package ``soilmoisture`` imported from the staged folder."""
    package = importlib.import_module("soilmoisture")
    assert Path(package.__file__).parent == plugins_dir / "soilmoisture"
    return package


@pytest.fixture()
def sm(plugin_package: ModuleType) -> ModuleType:
    """Shortcut to ``soilmoisture`` (use ``importlib.import_module`` for sub-modules)."""
    return plugin_package


def module(name: str) -> ModuleType:
    """Import ``soilmoisture.<name>`` (after the ``plugin_package`` fixture ran)."""
    return importlib.import_module(f"soilmoisture.{name}")


@pytest.fixture()
def clean_project(qgis_app: Any) -> Iterator[None]:
    """Remove every layer after the test (QGIS segfaults at exit otherwise)."""
    yield
    from qgis.core import QgsProject

    QgsProject.instance().removeAllMapLayers()


@pytest.fixture()
def demo_stations(tmp_path: Path, plugin_package: ModuleType) -> Path:
    """The demo scene's station files written to a temporary folder."""
    demo = module("core.inputs.sources.demo")
    out = tmp_path / "demo_stations"
    demo.write_demo_stations(out)
    return out


@pytest.fixture()
def registered_provider(plugin_package: ModuleType, qgis_processing: Any) -> Iterator[Any]:
    """The plugin's Processing provider registered with Processing."""
    from qgis.core import QgsApplication

    provider_module = module("soilmoisture_plugin.algorithms.provider")
    registry = QgsApplication.processingRegistry()
    existing = registry.providerById("soilmoisture")
    if existing is not None:
        yield existing
        return
    provider = provider_module.SoilMoistureProvider()
    assert registry.addProvider(provider)
    yield provider
    registry.removeProvider(provider)
