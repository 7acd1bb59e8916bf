"""The engine's Python packages: which are missing, where the plugin installs them, and how.

Nothing here imports an engine package: each is looked up with :func:`importlib.util.find_spec`,
which only searches the import path, so the plugin loads in any QGIS and QGIS starts as fast with
it as without it.

The plugin installs missing packages with pip into a folder it owns (:func:`packages_dir`, inside
the QGIS profile, one per Python version and platform), never into QGIS's own site-packages. That
folder is put first on ``sys.path`` when the plugin starts (:func:`activate`): the versions pip
chose win over older copies in QGIS's Python (Debian's sympy is too old for torch). numpy is the
exception: pip is pinned to QGIS's own version and the copy it brings is removed, because QGIS's
GDAL bindings are built against QGIS's numpy (:data:`QGIS_OWN`).
"""

from __future__ import annotations

import importlib.util
import os
import platform
import shutil
import sys
import sysconfig
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath

from qgis.PyQt.QtCore import QT_TRANSLATE_NOOP


@dataclass(frozen=True)
class Requirement:
    """One Python package of the engine."""

    module: str
    """Import name (``sklearn``)."""
    package: str
    """Name users know and pip installs (``scikit-learn``)."""
    spec: str
    """pip requirement, with the version the engine is tested with (``scikit-learn>=1.3``)."""
    purpose: str
    """What it is needed for (marked for translation; translate when shown)."""
    needed: bool = True
    """True when Adapt & Map cannot run without it; False for one optional feature."""


REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement(
        "torch",
        "torch",
        "torch==2.13.0",
        QT_TRANSLATE_NOOP("@default", "the deep networks (Adapt & Map, Map with an ensemble)"),
    ),
    Requirement(
        "shapely", "shapely", "shapely>=2.0", QT_TRANSLATE_NOOP("@default", "areas of interest")
    ),
    Requirement("pyproj", "pyproj", "pyproj>=3.4", QT_TRANSLATE_NOOP("@default", "projections")),
    Requirement(
        "rasterio",
        "rasterio",
        "rasterio>=1.3",
        QT_TRANSLATE_NOOP("@default", "reading and writing rasters"),
    ),
    Requirement(
        "pandas", "pandas", "pandas>=1.5", QT_TRANSLATE_NOOP("@default", "station time series")
    ),
    Requirement(
        "scipy", "scipy", "scipy>=1.10", QT_TRANSLATE_NOOP("@default", "statistics and smoothing")
    ),
    Requirement(
        "matplotlib",
        "matplotlib",
        "matplotlib>=3.6",
        QT_TRANSLATE_NOOP("@default", "the charts of the validation report"),
    ),
    Requirement(
        "sklearn",
        "scikit-learn",
        "scikit-learn>=1.3",
        QT_TRANSLATE_NOOP("@default", "the random forest comparison"),
    ),
    Requirement(
        "xgboost",
        "xgboost",
        "xgboost>=2.0",
        QT_TRANSLATE_NOOP("@default", "the XGBoost comparison"),
    ),
    Requirement(
        "pyarrow",
        "pyarrow",
        "pyarrow>=14,<19",  # pyarrow 19 and later need numpy 2; QGIS ships numpy 1
        QT_TRANSLATE_NOOP("@default", "the input cache and Parquet station files"),
    ),
    Requirement(
        "ee",
        "earthengine-api",
        "earthengine-api==1.7.50",
        QT_TRANSLATE_NOOP("@default", "the Google Earth Engine data source"),
        needed=False,
    ),
)
"""Every package the plugin's runs need beyond QGIS itself, in the order they are listed."""

BY_MODULE: dict[str, Requirement] = {r.module: r for r in REQUIREMENTS}

PINS: dict[str, str] = {r.module: r.spec for r in REQUIREMENTS}
"""Import name -> pip requirement."""

PURPOSE: dict[str, str] = {r.module: r.purpose for r in REQUIREMENTS}
"""Import name -> what it is needed for (translate when shown)."""

TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
"""PyTorch's own index of CPU-only wheels (PyPI's Linux torch is a 2+ GB CUDA build)."""
TORCH_CUDA_INDEX = "https://download.pytorch.org/whl/cu128"
"""PyTorch's index of CUDA wheels for Windows (PyPI's Windows torch is CPU-only)."""

PACKAGES_ENV = "SOILMOISTURE_PACKAGES"
"""Environment variable that overrides :func:`packages_dir` (tests, shared installs)."""


@dataclass(frozen=True)
class DependencyReport:
    """Which of the engine's packages are importable."""

    missing: tuple[str, ...]
    """Import names not found (subset of :data:`PINS`, in :data:`REQUIREMENTS` order)."""

    @property
    def torch(self) -> bool:
        """True when every package a run needs can be imported (runs are possible)."""
        return self.can_run

    @property
    def can_run(self) -> bool:
        """True when every package Adapt & Map needs can be imported."""
        return not self.missing_needed

    @property
    def missing_needed(self) -> tuple[str, ...]:
        """The missing packages without which nothing runs."""
        return tuple(m for m in self.missing if BY_MODULE[m].needed)

    @property
    def earthengine(self) -> bool:
        """True when earthengine-api can be imported (the Earth Engine source works)."""
        return "ee" not in self.missing

    @property
    def ok(self) -> bool:
        """True when nothing is missing."""
        return not self.missing

    def packages(self) -> list[str]:
        """Names of the missing packages as users know them (``scikit-learn``)."""
        return [BY_MODULE[m].package for m in self.missing]

    def requirements(self) -> list[str]:
        """Pip requirements of the missing packages."""
        return [PINS[name] for name in self.missing]

    def install_command(self) -> str:
        """Return the command a terminal runs to install the missing packages.

        The same pip run as the Install button (:func:`installer.make_plan`); a plain pip line
        only when no plan can be made (no QGIS Python found, or shapely cannot be built here).
        """
        from .installer import InstallError, make_plan, terminal_command

        try:
            return terminal_command(make_plan(list(self.missing)))
        except InstallError:
            return install_command(self.requirements())

    def summary(self) -> str:
        """One short line naming what is missing (for a message bar or a tooltip)."""
        names = self.packages()
        if not names:
            return ""
        shown = ", ".join(names[:3])
        more = len(names) - 3
        from .i18n import tr

        if more > 0:
            return tr("{count} Python packages are missing: {names} and {more} more.").format(
                count=len(names), names=shown, more=more
            )
        if len(names) == 1:
            return tr("A Python package is missing: {names}.").format(names=shown)
        return tr("{count} Python packages are missing: {names}.").format(
            count=len(names), names=shown
        )


def is_available(module: str) -> bool:
    """Return True if ``module`` can be imported, without importing it."""
    if module in sys.modules:
        return sys.modules[module] is not None
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def check_dependencies() -> DependencyReport:
    """Look up every package of :data:`REQUIREMENTS` (cheap: no import)."""
    missing = tuple(r.module for r in REQUIREMENTS if not is_available(r.module))
    return DependencyReport(missing=missing)


# -- where the packages go ----------------------------------------------------------------------
def platform_tag(version: tuple[int, int] | None = None, plat: str | None = None) -> str:
    """Return ``python3.11-linux-x86_64``: compiled packages only work on one Python and system."""
    major, minor = version or sys.version_info[:2]
    plat = (plat or sysconfig.get_platform()).replace(".", "_").replace(" ", "_")
    return f"python{major}.{minor}-{plat}"


def packages_dir(
    profile_dir: str | Path | None = None,
    environ: dict[str, str] | None = None,
    tag: str | None = None,
) -> Path:
    """Return the folder the plugin installs packages into and adds to ``sys.path``.

    Args:
        profile_dir: The QGIS profile folder (``QgsApplication.qgisSettingsDirPath()`` when
            None): ``~/.local/share/QGIS/QGIS3/profiles/default`` on Linux,
            ``%APPDATA%/QGIS/QGIS3/profiles/default`` on Windows,
            ``~/Library/Application Support/QGIS/QGIS3/profiles/default`` on macOS.
        environ: Environment (for tests); ``SOILMOISTURE_PACKAGES`` overrides the folder.
        tag: :func:`platform_tag` (for tests).

    Returns:
        ``<profile>/soilmoisture/packages/<python version and platform>``; outside the plugin's
        own folder, so updating the plugin keeps the packages.

    """
    env = os.environ if environ is None else environ
    if env.get(PACKAGES_ENV):
        return Path(env[PACKAGES_ENV])
    if profile_dir is None:
        from qgis.core import QgsApplication

        profile_dir = QgsApplication.qgisSettingsDirPath()
    return Path(profile_dir) / "soilmoisture" / "packages" / (tag or platform_tag())


QGIS_OWN = ("numpy",)
"""Packages always taken from QGIS's own Python, never from the plugin's folder."""


def activate(folder: Path | None = None) -> Path | None:
    """Put the plugin's package folder first on ``sys.path`` (once) when it exists.

    Returns:
        The folder added (or already there), None when there is none yet.

    """
    try:
        folder = folder or packages_dir()
    except Exception:  # noqa: BLE001 (no QGIS application yet: nothing to add)
        return None
    if not folder.is_dir():
        return None
    text = str(folder)
    if text not in sys.path:
        sys.path.insert(0, text)
        importlib.invalidate_caches()
    return folder


# -- the Python QGIS runs --------------------------------------------------------------------
def python_candidates(
    system: str,
    executable: str,
    exec_prefix: str,
    version: tuple[int, int],
) -> list[PurePath]:
    """Return where QGIS's Python interpreter may be, most likely first.

    Inside the QGIS desktop ``sys.executable`` is QGIS itself, so the interpreter is found
    from the Python installation QGIS embeds.

    Args:
        system: ``platform.system()``: ``Linux``, ``Windows`` or ``Darwin``.
        executable: ``sys.executable``.
        exec_prefix: ``sys.exec_prefix``.
        version: ``sys.version_info[:2]``.

    """
    major, minor = version
    kind: type[PurePath] = PureWindowsPath if system == "Windows" else PurePosixPath
    exe = kind(executable) if executable else None
    prefix = kind(exec_prefix) if exec_prefix else None
    out: list[PurePath] = []
    if exe is not None and exe.name.lower().startswith("python"):
        out.append(exe)
    if system == "Windows":
        # OSGeo4W and the standalone installer: <root>\apps\Python3xx\python.exe
        if prefix is not None:
            out.append(prefix / "python.exe")
        if exe is not None:
            root = exe.parent.parent  # <root>\bin\qgis-bin.exe -> <root>
            out.append(root / "apps" / f"Python{major}{minor}" / "python.exe")
    elif system == "Darwin":
        # QGIS.app: Contents/MacOS/QGIS next to Contents/MacOS/bin/python3
        if exe is not None:
            out.append(exe.parent / "bin" / f"python{major}.{minor}")
            out.append(exe.parent / "bin" / "python3")
        if prefix is not None:
            out.append(prefix / "bin" / f"python{major}.{minor}")
            out.append(prefix / "bin" / "python3")
    elif prefix is not None:
        out.append(prefix / "bin" / f"python{major}.{minor}")
        out.append(prefix / "bin" / "python3")
    return list(dict.fromkeys(out))


def find_python(
    system: str | None = None,
    executable: str | None = None,
    exec_prefix: str | None = None,
    version: tuple[int, int] | None = None,
    exists: Callable[[Path], bool] = Path.is_file,
) -> Path | None:
    """Return QGIS's Python interpreter, or None when none of the usual places has it."""
    for candidate in python_candidates(
        system or platform.system(),
        sys.executable if executable is None else executable,
        sys.exec_prefix if exec_prefix is None else exec_prefix,
        version or (sys.version_info[0], sys.version_info[1]),
    ):
        if exists(Path(candidate)):
            return Path(candidate)
    return None


# -- what pip is asked ------------------------------------------------------------------------
@dataclass(frozen=True)
class InstallPlan:
    """The pip run that installs the missing packages."""

    python: Path
    target: Path
    requirements: tuple[str, ...]
    constraints: tuple[str, ...] = ()
    extra_index: str = ""
    args: tuple[str, ...] = field(default=())

    def command(self, constraints_file: Path | None = None) -> list[str]:
        """Return the argument list (``constraints_file`` holds :attr:`constraints`)."""
        cmd = [
            str(self.python),
            "-m",
            "pip",
            "install",
            "--target",
            str(self.target),
            "--upgrade",
            "--no-input",
            "--disable-pip-version-check",
            "--progress-bar",
            "off",
        ]
        if constraints_file is not None:
            cmd += ["--constraint", str(constraints_file)]
        if self.extra_index:
            cmd += ["--extra-index-url", self.extra_index]
        return cmd + list(self.args) + list(self.requirements)


def pip_requirements(
    modules: list[str] | tuple[str, ...], system: str | None = None, device: str = "cpu"
) -> tuple[list[str], str]:
    """Return the pip requirements of ``modules`` and the extra index for torch.

    CPU builds by default: XGBoost's ``xgboost-cpu`` wheel (no 200 MB NCCL library) and torch
    from PyTorch's CPU index on Linux and Windows (PyPI's Linux build is CUDA, 2+ GB). With
    ``device="cuda"``, the CUDA builds. macOS wheels are CPU (and Apple GPU) builds already.

    Args:
        modules: Import names from :data:`REQUIREMENTS`.
        system: ``platform.system()`` (for tests).
        device: ``"cpu"`` or ``"cuda"``.

    Returns:
        (requirements, extra index URL or ``""``).

    """
    system = system or platform.system()
    reqs: list[str] = []
    for module in modules:
        spec = PINS[module]
        if module == "xgboost" and device == "cpu" and system != "Darwin":
            spec = spec.replace("xgboost", "xgboost-cpu", 1)
        reqs.append(spec)
    index = ""
    if "torch" in modules and system != "Darwin":
        if device == "cpu":
            index = TORCH_CPU_INDEX
        elif system == "Windows":
            index = TORCH_CUDA_INDEX
    return reqs, index


def shapely_needs_source_build(system: str | None = None) -> bool:
    """True on Linux: shapely must use the GEOS library QGIS itself loads.

    On Linux the shapely wheel's own GEOS clashes with QGIS's (the process shares one set of
    C++ symbols) and the QGIS desktop crashes in the first geometry operation; built from
    source against the system's GEOS, it shares QGIS's. Windows and macOS keep each library's
    symbols apart, so the wheel is fine there.
    """
    return (system or platform.system()) == "Linux"


def source_build_missing(
    which: Callable[[str], str | None] = shutil.which,
    python_include: str | None = None,
) -> list[str]:
    """Return what a shapely build against the system GEOS lacks (empty when ready)."""
    include = python_include or sysconfig.get_paths().get("include", "")
    missing = []
    if not which("geos-config"):
        missing.append("geos-config")
    if not (which("cc") or which("gcc")):
        missing.append("cc")
    if not include or not (Path(include) / "Python.h").is_file():
        missing.append("Python.h")
    return missing


def installed_version(distribution: str) -> str | None:
    """Return the version of an installed distribution, or None (no import of it)."""
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def constraints_for_qgis() -> list[str]:
    """Pin the packages QGIS already has, so pip picks builds that work with them.

    numpy above all: QGIS's GDAL bindings are built against its numpy, and a package compiled
    for a newer numpy fails to import with QGIS's.
    """
    out = []
    for dist, module in (("numpy", "numpy"), *((r.package, r.module) for r in REQUIREMENTS)):
        if not is_available(module):
            continue
        version = installed_version(dist)
        if version and all(c.isdigit() or c == "." for c in version):
            out.append(f"{dist}=={version}")
    return out


def install_command(requirements: list[str], target: Path | None = None) -> str:
    """Return a plain pip command that installs ``requirements`` into the plugin's folder.

    The fallback of :meth:`DependencyReport.install_command` when the installer cannot plan
    its run (Debian and Ubuntu refuse ``pip install --user`` into the system Python; a
    ``--target`` folder is allowed).
    """
    try:
        folder = target or packages_dir()
    except Exception:  # noqa: BLE001 (no QGIS application: show the placeholder)
        folder = Path("<QGIS profile>/soilmoisture/packages")
    python = find_python() or Path("python3")
    reqs = " ".join(f'"{r}"' for r in requirements)
    return f'"{python}" -m pip install --target "{folder}" {reqs}'


def which_pip_hint(system: str | None = None) -> str:
    """Return how to get pip for QGIS's Python on this system (translated)."""
    from .i18n import tr

    system = system or platform.system()
    if system == "Windows":
        return tr("Run the OSGeo4W Setup (or reinstall QGIS) and select the package python3-pip.")
    if system == "Darwin":
        return tr("Run in a Terminal: {python} -m ensurepip").format(
            python=find_python() or "python3"
        )
    if shutil.which("apt-get"):
        return tr("Run in a terminal: sudo apt install python3-pip")
    if shutil.which("dnf"):
        return tr("Run in a terminal: sudo dnf install python3-pip")
    return tr("Install pip for {python} with your system's package manager.").format(
        python=find_python() or "python3"
    )
