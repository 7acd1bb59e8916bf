"""The "Python packages" dialog: what is missing, what each package is for, install and remove.

Shown from the message bar when QGIS starts without the engine's packages, and from the dock's
Options. The whole text is in the dialog (a message bar cuts long text to two lines). Installing
runs pip in a background task with progress and Cancel; QGIS stays usable meanwhile.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from qgis.core import QgsApplication
from qgis.PyQt.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..deps import BY_MODULE, DependencyReport, activate, check_dependencies, packages_dir
from ..i18n import tr
from ..tasks import EngineTask


def missing_html(report: DependencyReport) -> str:
    """Return the list of missing packages and their purposes as HTML."""
    if report.ok:
        return tr("Every Python package the plugin needs is installed.")
    rows = "".join(
        f"<li><b>{html.escape(BY_MODULE[m].package)}</b>: {html.escape(tr(BY_MODULE[m].purpose))}"
        + ("" if BY_MODULE[m].needed else " " + html.escape(tr("(optional)")))
        + "</li>"
        for m in report.missing
    )
    return f"<p>{html.escape(report.summary())}</p><ul>{rows}</ul>"


class PackagesDialog(QDialog):
    """Lists the missing packages, installs them (pip, background task) or removes them."""

    def __init__(
        self,
        report: DependencyReport,
        parent: QWidget | None = None,
        on_change: Callable[[DependencyReport], None] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("SoilMoisturePackages")
        self.setWindowTitle(tr("Soil Moisture: Python packages"))
        self.report = report
        self.on_change = on_change
        self.task: EngineTask | None = None
        self.last_log = ""
        layout = QVBoxLayout(self)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        try:
            self.folder = packages_dir()
            folder_text = str(self.folder)
        except Exception:  # noqa: BLE001 (no profile: the command says where)
            self.folder = None
            folder_text = ""
        where = QLabel(
            tr(
                "They go into a folder of the plugin's own (about 1.5 GB), never into "
                "QGIS's Python: {folder}"
            ).format(folder=folder_text)
        )
        where.setWordWrap(True)
        where.setTextInteractionFlags(where.textInteractionFlags() | _selectable())
        layout.addWidget(where)

        row = QHBoxLayout()
        row.addWidget(QLabel(tr("Build:")))
        self.device_combo = QComboBox()
        self.device_combo.addItem(tr("CPU (smaller download, works everywhere)"), "cpu")
        from ..installer import nvidia_gpu_present

        if nvidia_gpu_present():
            self.device_combo.addItem(tr("NVIDIA GPU (CUDA, about 3 GB more)"), "cuda")
        self.device_combo.setEnabled(self.device_combo.count() > 1)
        row.addWidget(self.device_combo, 1)
        self.install_button = QPushButton(tr("Install"))
        self.install_button.setObjectName("soilmoisture_install")
        self.install_button.clicked.connect(self.install)
        row.addWidget(self.install_button)
        self.cancel_button = QPushButton(tr("Cancel"))
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.setEnabled(False)
        row.addWidget(self.cancel_button)
        layout.addLayout(row)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setVisible(False)
        layout.addWidget(self.progress)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(self.status.textInteractionFlags() | _selectable())
        layout.addWidget(self.status)

        layout.addWidget(QLabel(tr("Or install them from a terminal:")))
        self.command = QPlainTextEdit()
        self.command.setReadOnly(True)
        self.command.setObjectName("soilmoisture_install_command")
        self.command.setMaximumHeight(80)
        layout.addWidget(self.command)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.remove_button = buttons.addButton(
            tr("Remove installed packages"), QDialogButtonBox.ButtonRole.ResetRole
        )
        self.remove_button.clicked.connect(self.remove)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(640, 420)
        self._refresh(report)

    # -- state -----------------------------------------------------------------------------
    def _refresh(self, report: DependencyReport) -> None:
        self.report = report
        self.summary.setText(missing_html(report))
        self.command.setPlainText(report.install_command() if not report.ok else "")
        running = self.task is not None
        self.install_button.setEnabled(not report.ok and not running)
        self.cancel_button.setEnabled(running)
        self.remove_button.setEnabled(
            not running and self.folder is not None and self.folder.exists()
        )

    def text(self) -> str:
        """The dialog's whole text (for tests and bug reports)."""
        return "\n".join(
            (self.summary.text(), self.status.text(), self.command.toPlainText())
        ).strip()

    # -- install -----------------------------------------------------------------------------
    def install(self) -> EngineTask | None:
        """Install the missing packages in a background task; returns the task."""
        from ..installer import install, make_plan

        if self.task is not None or self.report.ok:
            return None
        try:
            plan = make_plan(self.report.missing, device=self.device_combo.currentData())
        except Exception as exc:  # noqa: BLE001 (the message says what to do)
            self._done_failed(str(exc), False)
            return None
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self.status.setStyleSheet("")
        self.status.setText(tr("Starting pip…"))
        task = EngineTask(
            tr("Installing the Soil Moisture packages"),
            lambda progress: install(plan, progress),
            on_success=self._done_ok,
            on_failure=self._done_failed,
        )
        task.progressChanged.connect(lambda value: self.progress.setValue(int(value)))
        task.messageChanged.connect(self.status.setText)
        self.task = task
        self._refresh(self.report)
        QgsApplication.taskManager().addTask(task)
        return task

    def cancel(self) -> None:
        """Stop pip; nothing is changed."""
        if self.task is not None:
            self.task.cancel()

    def _done_ok(self, result: Any) -> None:
        self.task = None
        self.progress.setValue(100)
        activate(result.folder)
        report = check_dependencies()
        self.last_log = str(result.log)
        if report.can_run:
            self.status.setText(
                tr("Installed. Adapt & Map is ready; no restart needed. pip's log: {log}").format(
                    log=result.log
                )
            )
        else:
            self.status.setText(
                tr(
                    "pip finished but {names} still cannot be imported. Restart QGIS; if it "
                    "persists, attach pip's log to a bug report: {log}"
                ).format(names=", ".join(report.packages()), log=result.log)
            )
        self._refresh(report)
        if self.on_change is not None:
            self.on_change(report)

    def _done_failed(self, message: str, cancelled: bool) -> None:  # noqa: FBT001
        self.task = None
        self.progress.setVisible(False)
        self.status.setStyleSheet("" if cancelled else "color: #b2182b;")
        self.status.setText(message)
        self._refresh(self.report)

    # -- remove ------------------------------------------------------------------------------
    def remove(self) -> None:
        """Delete the plugin's package folder (QGIS's own packages are never touched)."""
        from ..installer import uninstall

        try:
            removed = uninstall(self.folder)
        except OSError as exc:
            self._done_failed(
                tr("Could not remove {folder}: {error}. Close QGIS and delete it.").format(
                    folder=self.folder, error=exc
                ),
                False,
            )
            return
        self.status.setStyleSheet("")
        self.status.setText(
            tr("Removed {folder}. Restart QGIS to finish.").format(folder=removed)
            if removed
            else tr("Nothing to remove.")
        )
        self._refresh(self.report)


def _selectable() -> Any:
    from qgis.PyQt.QtCore import Qt

    return Qt.TextInteractionFlag.TextSelectableByMouse
