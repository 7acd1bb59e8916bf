"""What every dock section shares: the collapsible box, button rows, error colour, dates.

Each section of the dock is a :class:`Section` (a collapsible group box with its object name)
built from the small helpers here, so that the sections look alike and stay narrow enough for
a laptop-sized dock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from qgis.core import QgsCoordinateReferenceSystem
from qgis.gui import QgsCollapsibleGroupBox
from qgis.PyQt.QtCore import QDate
from qgis.PyQt.QtWidgets import QComboBox, QGridLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ...tasks import EngineTask

WGS84 = QgsCoordinateReferenceSystem("EPSG:4326")
ERROR_STYLE = "color: #b2182b;"
"""The colour of a label that says what went wrong."""

TaskStarter = Callable[[EngineTask], EngineTask]
"""Hands a task to the task manager and keeps it alive (the dock's ``_start_task``)."""


def plural(n: int, one: str, many: str) -> str:
    """Return ``one`` for 1, else ``many`` with ``{n}`` filled in (``1 map``, ``3 maps``)."""
    return one if n == 1 else many.format(n=f"{n:,}")


def qdate(value: dt.date) -> QDate:
    """Return a QDate from a ``datetime.date``."""
    return QDate(value.year, value.month, value.day)


def pydate(value: QDate) -> dt.date:
    """Return a ``datetime.date`` from a QDate."""
    return dt.date(value.year(), value.month(), value.day())


def error_style(label: QLabel, error: bool) -> None:
    """Colour ``label`` as an error message, or back to normal."""
    label.setStyleSheet(ERROR_STYLE if error else "")


def is_error_styled(label: QLabel) -> bool:
    """True when ``label`` currently shows an error (for tests and checks)."""
    return label.styleSheet() == ERROR_STYLE


def button_grid(buttons: list[QPushButton], columns: int = 2) -> QGridLayout:
    """Buttons in rows of ``columns``: the dock stays narrow enough for a laptop."""
    grid = QGridLayout()
    grid.setHorizontalSpacing(4)
    for i, button in enumerate(buttons):
        last_alone = i == len(buttons) - 1 and i % columns == 0
        grid.addWidget(button, i // columns, i % columns, 1, columns if last_alone else 1)
    return grid


def select_data(combo: QComboBox, data: Any) -> None:
    """Select the entry of ``combo`` holding ``data`` (nothing changes when none does)."""
    index = combo.findData(data)
    if index >= 0:
        combo.setCurrentIndex(index)


class Section(QgsCollapsibleGroupBox):
    """A collapsible group box of the dock, named ``name``, with a vertical layout ``lay``."""

    WIDGETS: tuple[str, ...] = ()
    """Names of the widgets the dock shows as its own attributes."""

    def __init__(self, title: str, name: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.setObjectName(name)
        self.lay = QVBoxLayout(self)

    def hint(self, text: str) -> QLabel:
        """Add a word-wrapped hint line and return it."""
        label = QLabel(text)
        label.setWordWrap(True)
        self.lay.addWidget(label)
        return label
