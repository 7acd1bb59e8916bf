"""The "Run" section: Adapt & Map and Cancel, the progress bar and the status line.

The dock keeps this section below its scrolled part, so the run controls are always in view.
:func:`blocked_reason` says, in words, what is missing before a run can start.
"""

from __future__ import annotations

from typing import Any

from qgis.PyQt.QtCore import pyqtSignal
from qgis.PyQt.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton

from ...i18n import tr
from .common import Section, error_style


def blocked_reason(dependencies: Any, source: Any, has_area: bool, has_stations: bool) -> str:
    """Why a run cannot start yet ("" when it can): packages, area, stations, in that order."""
    if not dependencies.can_run:
        return tr("{summary} Install them with Options > Python packages…").format(
            summary=dependencies.summary()
        )
    if source == "gee" and not dependencies.earthengine:
        return tr(
            "The Earth Engine source needs earthengine-api: install it with Options > "
            "Python packages…"
        )
    if not has_area:
        return tr("Choose an area of interest first.")
    if not has_stations:
        return tr("Load stations and tick at least one.")
    return ""


class RunSection(Section):
    """Start and cancel a run, and follow it.

    Signals:
        runRequested(): the user clicked Adapt & Map.
        cancelRequested(): the user clicked Cancel.
    """

    runRequested = pyqtSignal()  # noqa: N815 (Qt naming)
    cancelRequested = pyqtSignal()  # noqa: N815 (Qt naming)

    WIDGETS = ("run_button", "cancel_button", "progress_bar", "status_label")
    """The widgets the dock shows as its own attributes (``dock.run_button``)."""

    def __init__(self) -> None:
        super().__init__(tr("Run"), "run_group")
        row = QHBoxLayout()
        self.run_button = QPushButton(tr("Adapt && Map"))
        self.run_button.setObjectName("run_button")
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(lambda: self.runRequested.emit())
        self.cancel_button = QPushButton(tr("Cancel"))
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(lambda: self.cancelRequested.emit())
        row.addWidget(self.run_button, 2)
        row.addWidget(self.cancel_button, 1)
        self.lay.addLayout(row)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 100)
        self.progress_bar.setValue(0)
        self.lay.addWidget(self.progress_bar)
        self.status_label = QLabel("")
        self.status_label.setObjectName("status_label")
        self.status_label.setWordWrap(True)
        self.lay.addWidget(self.status_label)

    def set_state(self, running: bool, reason: str) -> None:
        """Enable Adapt & Map when nothing runs and nothing is missing (``reason`` says what)."""
        self.run_button.setEnabled(not running and not reason)
        self.run_button.setToolTip(reason or tr("Adapt the models to the stations and map"))
        self.cancel_button.setEnabled(running)

    def show_status(self, text: str, error: bool = False) -> None:
        """Show ``text`` on the status line (in red for an ``error``)."""
        self.status_label.setText(text)
        error_style(self.status_label, error)

    def cancelling(self) -> None:
        """Say that the run is being cancelled; Cancel cannot be clicked twice."""
        self.show_status(tr("Cancelling…"))
        self.cancel_button.setEnabled(False)
