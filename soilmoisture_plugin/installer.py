"""Install the engine's Python packages with pip into the plugin's own folder, and remove them.

pip runs as a child process of QGIS's own Python interpreter (:func:`deps.find_python`) with
``--target``: it never writes to QGIS's site-packages, and Debian's "externally managed" guard
does not apply. pip first fills a staging folder beside the package folder; only a complete
install is moved into place, so a cancel or a failure leaves the package folder as it was.
Each run's pip output is kept in ``logs/`` beside the package folder, for bug reports.

Nothing here touches widgets: :func:`install` runs in a :class:`QgsTask` and reports through an
engine :class:`~core.progress.Progress` (fraction, message, cancel).
"""

from __future__ import annotations

import datetime as dt
import math
import os
import queue
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from ..core.errors import Cancelled, SoilMoistureError
from ..core.progress import Progress
from .deps import (
    QGIS_OWN,
    InstallPlan,
    check_dependencies,
    constraints_for_qgis,
    find_python,
    packages_dir,
    pip_requirements,
    shapely_needs_source_build,
    source_build_missing,
    which_pip_hint,
)
from .i18n import tr

TORCH_INDEX_ENV = "SOILMOISTURE_TORCH_INDEX"
"""Environment variable that replaces the torch index (empty: the default package index)."""

NETWORK_SIGNS = (
    "NewConnectionError",
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Name or service not known",
    "getaddrinfo failed",
    "ProxyError",
    "Network is unreachable",
    "ConnectTimeoutError",
    "ReadTimeoutError",
    "SSLError",
)
"""Lines of pip output that mean the package index could not be reached."""


class InstallError(SoilMoistureError):
    """The packages could not be installed; the message says why and what to do."""


@dataclass(frozen=True)
class InstallResult:
    """What an install did."""

    folder: Path
    log: Path
    installed: tuple[str, ...]
    """pip's "Successfully installed" list (distribution-version)."""


def nvidia_gpu_present() -> bool:
    """True when an NVIDIA driver is visible (the CUDA build is then offered)."""
    return bool(shutil.which("nvidia-smi")) or Path("/proc/driver/nvidia/version").exists()


def logs_dir(folder: Path) -> Path:
    """Where pip's logs are kept: beside the package folder."""
    return folder.parent / "logs"


def make_plan(
    modules: list[str] | tuple[str, ...],
    device: str = "cpu",
    folder: Path | None = None,
    environ: dict[str, str] | None = None,
) -> InstallPlan:
    """Return the pip run that installs ``modules`` (import names) for this QGIS.

    Raises:
        InstallError: QGIS's Python interpreter cannot be found.

    """
    env = os.environ if environ is None else environ
    python = find_python()
    if python is None:
        raise InstallError(
            tr(
                "Could not find the Python that QGIS runs, so nothing was installed. "
                "Install the packages by hand (see the command below)."
            )
        )
    requirements, index = pip_requirements(modules, device=device)
    if TORCH_INDEX_ENV in env:
        index = env[TORCH_INDEX_ENV]
    args: tuple[str, ...] = ("--retries", "2", "--timeout", "60")
    if "shapely" in modules and shapely_needs_source_build():
        lacking = source_build_missing()
        if lacking:
            raise InstallError(source_build_message(lacking))
        args += ("--no-binary", "shapely")  # built against the GEOS that QGIS loads
    folder = folder or packages_dir()
    return InstallPlan(
        python=python,
        target=folder,
        requirements=tuple(requirements),
        constraints=tuple(constraints_for_qgis()),
        extra_index=index,
        args=args,
    )


def terminal_command(plan: InstallPlan) -> str:
    """The plan as one command for a terminal: the same pip run as the Install button.

    The CPU index, ``xgboost-cpu``, the source build of shapely and the pins of the packages
    QGIS already has (written to a constraints file beside the package folder) all included.
    """
    import platform
    import shlex

    logs = logs_dir(plan.target)
    constraints = logs / "constraints-terminal.txt"
    try:
        logs.mkdir(parents=True, exist_ok=True)
        constraints.write_text("".join(f"{c}\n" for c in plan.constraints), encoding="utf-8")
        command = plan.command(constraints if plan.constraints else None)
    except OSError:  # the profile is not writable: no pins rather than no command
        command = plan.command()
    if platform.system() == "Windows":
        return subprocess.list2cmdline(command)
    return shlex.join(command)


def source_build_message(lacking: list[str]) -> str:
    """Say what to install so that shapely can be built for QGIS's GEOS (Linux)."""
    if shutil.which("apt-get"):
        command = "sudo apt install libgeos-dev python3-dev gcc"
    elif shutil.which("dnf"):
        command = "sudo dnf install geos-devel python3-devel gcc"
    else:
        command = tr("your package manager: GEOS development files, Python headers, a C compiler")
    return tr(
        "shapely has to be built for the GEOS library QGIS uses (the ready-made one crashes "
        "QGIS on Linux), and this system lacks {lacking}. Install them with {command}, then "
        "click Install again. Nothing was changed."
    ).format(lacking=", ".join(lacking), command=command)


def _pip_works(python: Path) -> bool:
    try:
        out = subprocess.run(
            [str(python), "-m", "pip", "--version"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0


def _fraction(collected: int, installing: bool) -> float:
    """Progress from pip's output: resolving and downloading, then unpacking."""
    if installing:
        return 0.9
    return 0.85 * (1.0 - math.exp(-collected / 20.0))


def _explain_failure(text: str, returncode: int, log: Path) -> str:
    if any(sign in text for sign in NETWORK_SIGNS):
        return tr(
            "Could not reach the Python package index (pypi.org). Check the internet "
            "connection or the proxy (QGIS Settings > Options > Network), then click Install "
            "again. Nothing was changed. pip's log: {log}"
        ).format(log=log)
    if "No space left on device" in text:
        return tr(
            "The disk is full: the packages need about 1.5 GB. Free some space and click "
            "Install again. Nothing was changed. pip's log: {log}"
        ).format(log=log)
    last = [line for line in text.splitlines() if line.strip()][-3:]
    return tr(
        "pip could not install the packages (exit code {code}): {last}. Nothing was "
        "changed. Attach pip's log to a bug report: {log}"
    ).format(code=returncode, last=" / ".join(last), log=log)


def drop_qgis_own(staging: Path) -> list[str]:
    """Remove the copies of :data:`deps.QGIS_OWN` pip brought along (QGIS's own must load)."""
    removed = []
    for entry in sorted(staging.iterdir()):
        name = entry.name.lower()
        for own in QGIS_OWN:
            if name in (own, f"{own}.libs") or (
                name.startswith(f"{own}-") and name.endswith(".dist-info")
            ):
                if entry.is_dir():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
                removed.append(entry.name)
    return removed


def _move_into(staging: Path, folder: Path) -> None:
    """Move every entry of ``staging`` into ``folder``, replacing entries of the same name."""
    folder.mkdir(parents=True, exist_ok=True)
    for entry in sorted(staging.iterdir()):
        dest = folder / entry.name
        if dest.is_dir() and not dest.is_symlink():
            shutil.rmtree(dest)
        elif dest.exists() or dest.is_symlink():
            dest.unlink()
        os.replace(entry, dest)


def install(plan: InstallPlan, progress: Progress) -> InstallResult:
    """Run pip for ``plan``; progress and cancel through ``progress``.

    Raises:
        InstallError: No pip, no network, or pip failed (the message says what to do).
        Cancelled: The user cancelled; pip was stopped and nothing was changed.

    """
    folder = plan.target
    logs = logs_dir(folder)
    logs.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    log_path = logs / f"pip-install-{stamp}.log"
    progress.message(tr("Checking pip…"))
    if not _pip_works(plan.python):
        raise InstallError(
            tr("QGIS's Python ({python}) has no pip, so nothing was installed. {hint}").format(
                python=plan.python, hint=which_pip_hint()
            )
        )
    staging = folder.parent / f"{folder.name}.staging"
    if staging.exists():
        shutil.rmtree(staging)
    constraints = logs / f"constraints-{stamp}.txt"
    constraints.write_text("".join(f"{c}\n" for c in plan.constraints), encoding="utf-8")
    staged = InstallPlan(
        plan.python, staging, plan.requirements, plan.constraints, plan.extra_index, plan.args
    )
    command = staged.command(constraints)
    with log_path.open("w", encoding="utf-8") as log:
        log.write(f"# {dt.datetime.now().isoformat()}\n# {' '.join(command)}\n")
        log.write(f"# constraints: {', '.join(plan.constraints) or 'none'}\n")
        log.flush()
        progress.message(tr("Downloading the packages (about 1 GB)…"))
        proc = _start_pip(command, plan.python)
        output, returncode = _follow_pip(proc, log, progress, staging)
    if returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise InstallError(_explain_failure(output, returncode, log_path))
    progress.message(tr("Moving the packages into place…"))
    drop_qgis_own(staging)
    _move_into(staging, folder)
    shutil.rmtree(staging, ignore_errors=True)
    progress.fraction(1.0)
    done = re.findall(r"^Successfully installed (.+)$", output, flags=re.MULTILINE)
    return InstallResult(folder, log_path, tuple(done[-1].split()) if done else ())


def _pip_env() -> dict[str, str]:
    """The environment pip runs in: QGIS's Python as it is, output unbuffered."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)  # pip must see QGIS's Python as it is, nothing else
    env["PYTHONNOUSERSITE"] = "1"
    env["PYTHONUNBUFFERED"] = "1"  # pip's lines as they come, for the progress bar
    return env


def _start_pip(command: list[str], python: Path) -> subprocess.Popen[str]:
    """Start pip with its output (stdout and stderr together) read line by line."""
    try:
        return subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            env=_pip_env(),
        )
    except OSError as exc:
        raise InstallError(
            tr("Could not start {python}: {error}").format(python=python, error=exc)
        ) from exc


def _read_lines(proc: subprocess.Popen[str]) -> queue.Queue[str | None]:
    """Return pip's output lines, read by a thread into a queue (None after the last one)."""
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _stop_pip(proc: subprocess.Popen[str], log: TextIO, staging: Path) -> Cancelled:
    """Stop pip after a cancel, remove what it staged; returns the error to raise."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.write("# cancelled by the user\n")
    shutil.rmtree(staging, ignore_errors=True)
    return Cancelled(tr("Installation cancelled; nothing was changed."))


def _follow_pip(
    proc: subprocess.Popen[str], log: TextIO, progress: Progress, staging: Path
) -> tuple[str, int]:
    """Log pip's output and turn it into progress until pip ends (or the user cancels).

    Returns:
        pip's whole output and its exit code.

    Raises:
        Cancelled: The user cancelled; pip was stopped and the staging folder removed.

    """
    lines = _read_lines(proc)
    text: list[str] = []
    collected = 0
    installing = False
    while True:
        if progress.cancelled:
            raise _stop_pip(proc, log, staging)
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            continue
        if line is None:
            break
        log.write(line)
        text.append(line)
        if line.startswith("Collecting "):
            collected += 1
            name = re.split(r"[\s<>=!~\[;]", line[len("Collecting ") :].strip())[0]
            progress.message(tr("Downloading {name}…").format(name=name))
        elif line.startswith("Installing collected packages"):
            installing = True
            progress.message(tr("Unpacking the packages…"))
        progress.fraction(_fraction(collected, installing))
    returncode = proc.wait()
    log.write(f"# pip exit code {returncode}\n")
    return "".join(text), returncode


def uninstall(folder: Path | None = None) -> Path | None:
    """Remove the plugin's package folder (the logs stay); returns the folder removed."""
    folder = folder or packages_dir()
    staging = folder.parent / f"{folder.name}.staging"
    shutil.rmtree(staging, ignore_errors=True)
    if not folder.exists():
        return None
    shutil.rmtree(folder)
    return folder


def missing_modules() -> tuple[str, ...]:
    """Import names the plugin would install now."""
    return check_dependencies().missing
