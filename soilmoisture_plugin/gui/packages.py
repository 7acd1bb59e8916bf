"""The "Python packages" dialog: what is missing, what each package is for, how to install it.

Shown from the message bar when QGIS starts without the engine's packages, and from the dock.
The whole text is in the dialog (a message bar cuts long text to two lines).
"""

from __future__ import annotations

import html

from qgis.PyQt.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from ..deps import BY_MODULE, DependencyReport, packages_dir
from ..i18n import tr


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
    """Lists the missing packages and shows the exact install command."""

    def __init__(self, report: DependencyReport, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("SoilMoisturePackages")
        self.setWindowTitle(tr("Soil Moisture: Python packages"))
        self.report = report
        layout = QVBoxLayout(self)
        self.summary = QLabel(missing_html(report))
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        try:
            folder = str(packages_dir())
        except Exception:  # noqa: BLE001 (no profile: the command says where)
            folder = ""
        where = QLabel(
            tr(
                "They go into a folder of the plugin's own, never into QGIS's Python: {folder}"
            ).format(folder=folder)
        )
        where.setWordWrap(True)
        layout.addWidget(where)
        layout.addWidget(QLabel(tr("To install them from a terminal instead:")))
        self.command = QPlainTextEdit(report.install_command())
        self.command.setReadOnly(True)
        self.command.setObjectName("soilmoisture_install_command")
        self.command.setMaximumHeight(90)
        layout.addWidget(self.command)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(620, 360)

    def text(self) -> str:
        """The dialog's whole text (for tests and bug reports)."""
        return f"{self.summary.text()}\n{self.command.toPlainText()}"
