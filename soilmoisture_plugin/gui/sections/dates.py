"""The "Dates" section: the map date, the Sentinel-1 acquisitions near it, the training period.

"Find Sentinel-1 dates" lists the acquisitions over the area within :data:`SEARCH_DAYS` of the
picked date (in a task); ticked ones are mapped, else the picked date is. A custom training
period replaces the default year before the first map date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from qgis.PyQt.QtCore import QDate, Qt
from qgis.PyQt.QtWidgets import (
    QCheckBox,
    QDateEdit,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
)

from ...i18n import tr
from ...tasks import EngineTask
from .common import Section, TaskStarter, error_style, pydate, qdate

SEARCH_DAYS = 30
"""The Sentinel-1 search covers this many days either side of the picked date."""


class DatesSection(Section):
    """When to map (and, optionally, which period to adapt on)."""

    WIDGETS = (
        "date_edit",
        "find_dates_button",
        "dates_tree",
        "dates_label",
        "custom_training",
        "train_start",
        "train_end",
    )
    """The widgets the dock shows as its own attributes (``dock.date_edit``)."""

    def __init__(self, start_task: TaskStarter) -> None:
        super().__init__(tr("Dates"), "dates_group")
        self.start_task = start_task
        self.current_aoi: Callable[[], Any] = lambda: None
        """The dock's area of interest (the search covers it)."""
        self.current_source: Callable[[], Any] = lambda: None
        """The chosen data source's name (it lists the acquisitions)."""
        self.acquisitions: list[Any] = []
        self._picking_date = False
        self._build_map_date()
        self._build_training()

    def _build_map_date(self) -> None:
        form = QFormLayout()
        row = QHBoxLayout()
        self.date_edit = QDateEdit()
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("yyyy-MM-dd")
        self.date_edit.setDate(QDate.currentDate().addDays(-7))
        self.find_dates_button = QPushButton(tr("Find Sentinel-1 dates"))
        self.find_dates_button.setToolTip(
            tr(
                "List the Sentinel-1 acquisitions over the area within {days} days of the date"
            ).format(days=SEARCH_DAYS)
        )
        self.find_dates_button.clicked.connect(self.find_dates)
        self.date_edit.dateChanged.connect(self._map_date_changed)
        row.addWidget(self.date_edit, 1)
        form.addRow(tr("Map date"), row)
        self.lay.addLayout(form)
        self.lay.addWidget(self.find_dates_button)
        self.dates_tree = QTreeWidget()
        self.dates_tree.setObjectName("dates_tree")
        self.dates_tree.setHeaderLabels([tr("Date"), tr("Pass"), tr("Orbit"), tr("Coverage")])
        self.dates_tree.setRootIsDecorated(False)
        self.dates_tree.setMinimumHeight(80)
        self.dates_tree.setToolTip(
            tr("Tick the dates to map; double-click a date to put it in the date picker")
        )
        self.dates_tree.itemDoubleClicked.connect(self._acquisition_picked)
        self.lay.addWidget(self.dates_tree)
        self.dates_label = QLabel(tr("Ticked dates are mapped; with none ticked, the map date is."))
        self.dates_label.setWordWrap(True)
        self.lay.addWidget(self.dates_label)

    def _build_training(self) -> None:
        train = QFormLayout()
        self.custom_training = QCheckBox(tr("Training period"))
        self.custom_training.setToolTip(tr("Unticked: the year before the first map date"))
        self.train_start = QDateEdit()
        self.train_end = QDateEdit()
        for w in (self.train_start, self.train_end):
            w.setCalendarPopup(True)
            w.setDisplayFormat("yyyy-MM-dd")
            w.setEnabled(False)
        self.train_end.setDate(QDate.currentDate())
        self.train_start.setDate(QDate.currentDate().addYears(-1))
        self.custom_training.toggled.connect(self.train_start.setEnabled)
        self.custom_training.toggled.connect(self.train_end.setEnabled)
        self.lay.addWidget(self.custom_training)
        train.addRow(tr("From"), self.train_start)
        train.addRow(tr("To"), self.train_end)
        self.lay.addLayout(train)

    # ------------------------------------------------------------------ finding dates
    def find_dates(self) -> EngineTask | None:
        """List the Sentinel-1 acquisitions within ``SEARCH_DAYS`` of the picked date (a task)."""
        from ....core.inputs.sources import get_source

        aoi = self.current_aoi()
        if aoi is None:
            self.dates_label.setText(tr("Choose an area of interest first."))
            error_style(self.dates_label, True)
            return None
        centre = pydate(self.date_edit.date())
        start = centre - dt.timedelta(days=SEARCH_DAYS)
        end = centre + dt.timedelta(days=SEARCH_DAYS)
        source_name = self.current_source()
        window = aoi.window9()
        self.find_dates_button.setEnabled(False)
        self.dates_label.setText(
            tr("Searching Sentinel-1 acquisitions from {start} to {end}…").format(
                start=start, end=end
            )
        )
        error_style(self.dates_label, False)
        task = EngineTask(
            tr("Finding Sentinel-1 dates"),
            lambda progress: get_source(source_name).list_acquisitions(
                window, start, end, progress
            ),
            self.show_acquisitions,
            self.show_failure,
        )
        return self.start_task(task)

    def show_acquisitions(self, acquisitions: list[Any]) -> None:
        """List ``acquisitions`` (Sentinel-1 scenes), none ticked."""
        self.find_dates_button.setEnabled(True)
        self.acquisitions = list(acquisitions)
        self.dates_tree.clear()
        for acq in self.acquisitions:
            item = QTreeWidgetItem(
                [
                    acq.date.isoformat(),
                    acq.orbit_pass.title(),
                    str(acq.relative_orbit),
                    f"{acq.coverage:.0f} %",
                ]
            )
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(0, Qt.CheckState.Unchecked)
            item.setData(0, Qt.ItemDataRole.UserRole, acq.date.isoformat())
            self.dates_tree.addTopLevelItem(item)
        for col in range(4):
            self.dates_tree.resizeColumnToContents(col)
        if self.acquisitions:
            self.dates_label.setText(
                tr("{n} acquisitions. Tick the dates to map.").format(n=len(self.acquisitions))
            )
        else:
            self.dates_label.setText(
                tr("No Sentinel-1 acquisition in that period; try another date.")
            )

    def show_failure(self, message: str, _cancelled: bool = False) -> None:
        """Say why the acquisitions could not be listed."""
        self.find_dates_button.setEnabled(True)
        self.dates_label.setText(message)
        error_style(self.dates_label, True)

    def _map_date_changed(self) -> None:
        """A new map date: the listed acquisitions belonged to the old one."""
        if self.dates_tree.topLevelItemCount() and not self._picking_date:
            self.dates_tree.clear()
            self.acquisitions = []
            self.dates_label.setText(
                tr("The map date changed: click Find Sentinel-1 dates to list its acquisitions.")
            )

    def _acquisition_picked(self, item: QTreeWidgetItem, _column: int) -> None:
        self._picking_date = True  # a date from the list keeps the list
        try:
            self.date_edit.setDate(
                qdate(dt.date.fromisoformat(item.data(0, Qt.ItemDataRole.UserRole)))
            )
        finally:
            self._picking_date = False

    def move_into_demo_period(self, dates: list[dt.date]) -> None:
        """Move the map date into the demo scene's ``dates`` when it is outside them, and say so."""
        # the demo scene only has data in its own period: move the date there, and say so
        if not dates[0] <= pydate(self.date_edit.date()) <= dates[-1]:
            middle = dates[len(dates) // 2]
            self.date_edit.setDate(qdate(middle))
            self.dates_label.setText(
                tr("Map date moved to {date}: the demo scene covers {first} to {last}.").format(
                    date=middle, first=dates[0], last=dates[-1]
                )
            )

    # ------------------------------------------------------------------ the run's dates
    def map_dates(self) -> tuple[dt.date, ...]:
        """Return the ticked acquisition dates, or else the date picker's date."""
        ticked = []
        for i in range(self.dates_tree.topLevelItemCount()):
            item = self.dates_tree.topLevelItem(i)
            if item.checkState(0) == Qt.CheckState.Checked:
                ticked.append(dt.date.fromisoformat(item.data(0, Qt.ItemDataRole.UserRole)))
        return tuple(sorted(set(ticked))) or (pydate(self.date_edit.date()),)

    def training_period(self) -> tuple[dt.date | None, dt.date | None]:
        """The custom training period (start, end), or (None, None) when it is not ticked."""
        if not self.custom_training.isChecked():
            return None, None
        return pydate(self.train_start.date()), pydate(self.train_end.date())
