"""The dependency installer: per-OS decisions, and real pip runs on a local wheel (offline)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from .conftest import module


@pytest.fixture()
def deps(plugin_package: ModuleType) -> ModuleType:
    return module("soilmoisture_plugin.deps")


@pytest.fixture()
def installer(plugin_package: ModuleType) -> ModuleType:
    return module("soilmoisture_plugin.installer")


# -- per-OS logic -----------------------------------------------------------------------------
def test_qgis_python_on_each_system(deps: ModuleType) -> None:
    linux = deps.python_candidates("Linux", "/usr/bin/qgis", "/usr", (3, 11))
    assert str(linux[0]) == "/usr/bin/python3.11"
    osgeo4w = deps.python_candidates(
        "Windows", r"C:\OSGeo4W\bin\qgis-bin.exe", r"C:\OSGeo4W\apps\Python312", (3, 12)
    )
    assert str(osgeo4w[0]) == r"C:\OSGeo4W\apps\Python312\python.exe"
    standalone = deps.python_candidates(
        "Windows", r"C:\Program Files\QGIS 3.40.4\bin\qgis-bin.exe", "", (3, 12)
    )
    assert [str(p) for p in standalone] == [
        r"C:\Program Files\QGIS 3.40.4\apps\Python312\python.exe"
    ]
    mac = deps.python_candidates(
        "Darwin",
        "/Applications/QGIS-LTR.app/Contents/MacOS/QGIS",
        "/Applications/QGIS-LTR.app/Contents/Frameworks",
        (3, 9),
    )
    assert str(mac[0]) == "/Applications/QGIS-LTR.app/Contents/MacOS/bin/python3.9"
    # a Python interpreter itself (qgis_process through python, tests) is used as is
    first = deps.python_candidates("Linux", "/opt/venv/bin/python3", "/usr", (3, 11))[0]
    assert str(first) == "/opt/venv/bin/python3"


def test_find_python_takes_the_first_that_exists(deps: ModuleType) -> None:
    found = deps.find_python(
        "Darwin",
        "/Applications/QGIS.app/Contents/MacOS/QGIS",
        "/x",
        (3, 11),
        exists=lambda p: p.name == "python3",
    )
    assert found == Path("/Applications/QGIS.app/Contents/MacOS/bin/python3")
    assert (
        deps.find_python("Linux", "/usr/bin/qgis", "/usr", (3, 11), exists=lambda p: False) is None
    )
    assert deps.find_python() is not None  # this QGIS's Python


def test_cpu_builds_by_default_and_cuda_on_request(deps: ModuleType) -> None:
    reqs, index = deps.pip_requirements(["torch", "xgboost", "shapely"], "Linux", "cpu")
    assert reqs == ["torch==2.13.0", "xgboost-cpu>=2.0", "shapely>=2.0"]
    assert index == deps.TORCH_CPU_INDEX
    reqs, index = deps.pip_requirements(["torch", "xgboost"], "Linux", "cuda")
    assert reqs == ["torch==2.13.0", "xgboost>=2.0"] and index == ""  # PyPI's Linux torch is CUDA
    assert deps.pip_requirements(["torch"], "Windows", "cuda")[1] == deps.TORCH_CUDA_INDEX
    reqs, index = deps.pip_requirements(["torch", "xgboost"], "Darwin", "cpu")
    assert reqs == ["torch==2.13.0", "xgboost>=2.0"] and index == ""
    assert deps.pip_requirements(["ee"], "Linux", "cpu") == (["earthengine-api==1.7.50"], "")


def test_package_folder_is_per_profile_and_python(deps: ModuleType, tmp_path: Path) -> None:
    folder = deps.packages_dir(tmp_path / "profile", environ={}, tag="python3.12-win-amd64")
    assert folder == tmp_path / "profile" / "soilmoisture" / "packages" / "python3.12-win-amd64"
    assert deps.packages_dir(environ={"SOILMOISTURE_PACKAGES": str(tmp_path)}) == tmp_path
    assert deps.platform_tag((3, 11), "linux-x86_64") == "python3.11-linux-x86_64"
    assert deps.platform_tag((3, 9), "macosx-11.0-arm64") == "python3.9-macosx-11_0-arm64"


def test_activate_puts_the_plugin_folder_first(deps: ModuleType, tmp_path: Path) -> None:
    assert deps.activate(tmp_path / "absent") is None
    try:
        assert deps.activate(tmp_path) == tmp_path
        assert sys.path[0] == str(tmp_path)
        deps.activate(tmp_path)
        assert sys.path.count(str(tmp_path)) == 1
    finally:
        sys.path.remove(str(tmp_path))


def test_numpy_is_pinned_to_qgis_own_and_never_kept(
    deps: ModuleType, installer: ModuleType, tmp_path: Path
) -> None:
    import numpy

    assert f"numpy=={numpy.__version__}" in deps.constraints_for_qgis()
    for name in ("numpy", "numpy.libs", "numpy-1.24.2.dist-info", "numpyro", "scipy"):
        (tmp_path / name).mkdir()
    removed = installer.drop_qgis_own(tmp_path)
    assert removed == ["numpy", "numpy-1.24.2.dist-info", "numpy.libs"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["numpyro", "scipy"]


# -- real pip runs, offline --------------------------------------------------------------------
def make_wheel(folder: Path, name: str = "smtiny", version: str = "1.0") -> Path:
    """A minimal pure-Python wheel pip installs without any network."""
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    info = f"{name}-{version}.dist-info"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr(f"{name}/__init__.py", f"VALUE = {version!r}\n")
        zf.writestr(
            f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        )
        zf.writestr(
            f"{info}/WHEEL",
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        zf.writestr(
            f"{info}/RECORD",
            f"{name}/__init__.py,,\n{info}/METADATA,,\n{info}/WHEEL,,\n{info}/RECORD,,\n",
        )
    return wheel


class Recorder:
    """An engine Progress that records and can ask to cancel."""

    def __init__(self, progress_cls: type, cancel: bool = False) -> None:
        self.fractions: list[float] = []
        self.messages: list[str] = []
        self.progress: Any = progress_cls()
        self.progress._emit_fraction = self.fractions.append
        self.progress._emit_message = self.messages.append
        self.progress._cancel_requested = lambda: cancel


def offline_plan(deps: ModuleType, python: Path, target: Path, wheels: Path, *reqs: str) -> Any:
    return deps.InstallPlan(
        python=python,
        target=target,
        requirements=reqs,
        args=("--no-index", "--find-links", str(wheels)),
    )


def test_install_into_the_plugin_folder_then_remove(
    deps: ModuleType, installer: ModuleType, tmp_path: Path
) -> None:
    from soilmoisture.core.progress import Progress

    wheels = tmp_path / "wheels"
    make_wheel(wheels)
    target = tmp_path / "profile" / "packages" / "py"
    python = deps.find_python()
    rec = Recorder(Progress)
    result = installer.install(offline_plan(deps, python, target, wheels, "smtiny"), rec.progress)
    assert (target / "smtiny" / "__init__.py").is_file()
    assert result.installed == ("smtiny-1.0",)
    assert not (target.parent / "py.staging").exists()
    log = result.log.read_text(encoding="utf-8")
    assert "--target" in log and "Successfully installed smtiny-1.0" in log
    assert rec.fractions[-1] == 1.0 and rec.messages
    # a second install of an upgrade replaces the package in place
    make_wheel(wheels, version="2.0")
    installer.install(offline_plan(deps, python, target, wheels, "smtiny==2.0"), rec.progress)
    assert "2.0" in (target / "smtiny" / "__init__.py").read_text(encoding="utf-8")
    assert installer.uninstall(target) == target and not target.exists()
    assert result.log.is_file()  # the logs stay for bug reports
    assert installer.uninstall(target) is None


def test_failure_leaves_the_folder_as_it_was_and_points_to_the_log(
    deps: ModuleType, installer: ModuleType, tmp_path: Path
) -> None:
    from soilmoisture.core.progress import Progress

    wheels = tmp_path / "wheels"
    make_wheel(wheels)
    target = tmp_path / "packages"
    python = deps.find_python()
    installer.install(
        offline_plan(deps, python, target, wheels, "smtiny"), Recorder(Progress).progress
    )
    with pytest.raises(installer.InstallError) as err:
        installer.install(
            offline_plan(deps, python, target, wheels, "smtiny", "no-such-package-xyz"),
            Recorder(Progress).progress,
        )
    text = str(err.value)
    assert "pip could not install the packages" in text and "no-such-package-xyz" in text
    log = Path(text.rsplit(": ", 1)[-1])
    assert log.is_file() and log.parent == target.parent / "logs"
    assert (target / "smtiny").is_dir()  # untouched


def test_cancel_stops_pip_and_changes_nothing(
    deps: ModuleType, installer: ModuleType, tmp_path: Path
) -> None:
    from soilmoisture.core.errors import Cancelled
    from soilmoisture.core.progress import Progress

    wheels = tmp_path / "wheels"
    make_wheel(wheels)
    target = tmp_path / "packages"
    plan = offline_plan(deps, deps.find_python(), target, wheels, "smtiny")
    with pytest.raises(Cancelled):
        installer.install(plan, Recorder(Progress, cancel=True).progress)
    assert not target.exists() and not (tmp_path / "packages.staging").exists()


def test_network_failure_is_said_in_words(installer: ModuleType, tmp_path: Path) -> None:
    text = (
        "WARNING: Retrying (Retry(total=1)) after connection broken by "
        "'NewConnectionError(...: Failed to establish a new connection: [Errno -3] Temporary "
        "failure in name resolution')': /simple/torch/\nERROR: No matching distribution found"
    )
    message = installer._explain_failure(text, 1, tmp_path / "pip.log")
    assert message.startswith("Could not reach the Python package index")
    assert str(tmp_path / "pip.log") in message


def test_a_python_without_pip_gets_a_clear_message(
    deps: ModuleType, installer: ModuleType, tmp_path: Path
) -> None:
    from soilmoisture.core.progress import Progress

    venv = tmp_path / "nopip"
    subprocess.run(
        ["/usr/bin/python3", "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120
    )
    plan = deps.InstallPlan(
        python=venv / "bin" / "python", target=tmp_path / "packages", requirements=("smtiny",)
    )
    with pytest.raises(installer.InstallError) as err:
        installer.install(plan, Recorder(Progress).progress)
    assert "has no pip" in str(err.value) and "apt install python3-pip" in str(err.value)


def test_linux_builds_shapely_against_qgis_geos(
    deps: ModuleType, installer: ModuleType, tmp_path: Path
) -> None:
    assert deps.shapely_needs_source_build("Linux")
    assert not deps.shapely_needs_source_build("Windows")
    assert not deps.shapely_needs_source_build("Darwin")
    (tmp_path / "Python.h").write_text("", encoding="utf-8")
    tools = {"geos-config": "/usr/bin/geos-config", "cc": "/usr/bin/cc"}
    assert deps.source_build_missing(tools.get, str(tmp_path)) == []
    assert deps.source_build_missing({}.get, str(tmp_path / "none")) == [
        "geos-config",
        "cc",
        "Python.h",
    ]
    message = installer.source_build_message(["geos-config"])
    assert "lacks geos-config" in message and "Nothing was changed" in message
    if deps.shapely_needs_source_build() and not deps.source_build_missing():
        plan = installer.make_plan(["shapely"], folder=tmp_path / "pkgs", environ={})
        assert plan.command()[-3:] == ["--no-binary", "shapely", "shapely>=2.0"]
