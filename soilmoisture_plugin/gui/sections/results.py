"""The "Results" section: the run's summary in words, a metrics table, charts and the report.

What the words say lives in :mod:`soilmoisture_plugin.gui.results`; this section lays them
out, fills the table (:func:`metric_rows`), shows the first charts (:func:`chart_files`) and
opens the HTML report in the web browser.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qgis.PyQt.QtCore import Qt, QUrl, pyqtSignal
from qgis.PyQt.QtGui import QDesktopServices
from qgis.PyQt.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...i18n import tr
from ..results import ChartLabel, checks_summary, plain_summary, short_name
from .common import Section

DOCK_CHARTS = 3
"""Charts shown in the dock (the held-out check first); the report has them all."""


class ResultsSection(Section):
    """What the last run found.

    Signals:
        problem(str): something the user should know went wrong (no browser opened the report).
    """

    problem = pyqtSignal(str)

    WIDGETS = (
        "results_summary",
        "open_report_button",
        "report_path_label",
        "metrics_table",
        "charts_box",
        "charts_layout",
    )
    """The widgets the dock shows as its own attributes (``dock.results_summary``)."""

    def __init__(self) -> None:
        super().__init__(tr("Results"), "results_group")
        self.result: Any = None
        self.results_summary = QLabel(tr("No results yet."))
        self.results_summary.setObjectName("results_summary")
        self.results_summary.setWordWrap(True)
        self.results_summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.lay.addWidget(self.results_summary)
        self.open_report_button = QPushButton(tr("Open the full report"))
        self.open_report_button.setEnabled(False)
        self.open_report_button.clicked.connect(self.open_report)
        self.lay.addWidget(self.open_report_button)
        self.report_path_label = QLabel("")
        self.report_path_label.setObjectName("report_path")
        self.report_path_label.setWordWrap(True)
        self.report_path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.lay.addWidget(self.report_path_label)
        self._build_table()
        self.charts_box = QWidget()
        self.charts_layout = QVBoxLayout(self.charts_box)
        self.charts_layout.setContentsMargins(0, 0, 0, 0)
        self.lay.addWidget(self.charts_box)

    def _build_table(self) -> None:
        self.metrics_table = QTableWidget(0, 6)
        self.metrics_table.setObjectName("metrics_table")
        self.metrics_table.setHorizontalHeaderLabels(
            [tr("Method"), "N", "R", tr("RMSE"), tr("ubRMSE"), tr("Bias")]
        )
        self.metrics_table.setToolTip(
            tr("Errors in m³/m³. Held out: predicted without the station's own data.")
        )
        self.metrics_table.verticalHeader().setVisible(False)
        header = self.metrics_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.metrics_table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.metrics_table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.metrics_table.setWordWrap(False)
        for column in (1, 4):  # N and ubRMSE: in the report; the dock keeps R, RMSE, bias
            self.metrics_table.setColumnHidden(column, True)
        self.metrics_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.metrics_table.setVisible(False)
        self.lay.addWidget(self.metrics_table)

    def show_result(self, result: Any, method: str) -> None:
        """Show a finished run's ``result`` (adapted with ``method``)."""
        self.result = result
        summary = [plain_summary(result.metrics, method), checks_summary(result.metrics)]
        if getattr(result, "simulated", False):
            summary.append(tr("Simulated demo data: not a real measurement."))
        summary.append(
            tr("Weight of the 50 m stations: {reason}").format(reason=result.alpha_reason)
        )
        summary.extend(result.warnings[:3])
        self.results_summary.setText("\n\n".join(p for p in summary if p))
        self._fill_table(metric_rows(result.metrics, method))
        self._show_charts(chart_files(result)[:DOCK_CHARTS])
        self.open_report_button.setEnabled(bool(result.report_html))
        self.report_path_label.setText(
            tr("Report: {path}").format(path=result.report_html) if result.report_html else ""
        )

    def _fill_table(self, rows: list[list[str]]) -> None:
        self.metrics_table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                item = QTableWidgetItem(value)
                item.setToolTip(value)
                self.metrics_table.setItem(r, c, item)
        header = self.metrics_table.horizontalHeader().height()
        rows_height = sum(self.metrics_table.rowHeight(r) for r in range(len(rows)))
        self.metrics_table.setFixedHeight(header + rows_height + 4)
        self.metrics_table.setVisible(bool(rows))

    def _show_charts(self, pngs: list[Path]) -> None:
        while self.charts_layout.count():
            widget = self.charts_layout.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        for png in pngs:
            chart = ChartLabel(png)
            if chart.is_valid():
                self.charts_layout.addWidget(chart)

    def open_report(self) -> bool:
        """Open the HTML report in the web browser; says where it is when none opens it."""
        if self.result is None or not self.result.report_html:
            return False
        path = str(self.result.report_html)
        opened = QDesktopServices.openUrl(QUrl.fromLocalFile(path))
        if not opened:
            self.problem.emit(
                tr("No web browser opened the report. Open this file in one: {path}").format(
                    path=path
                )
            )
        return bool(opened)


def metric_rows(metrics: dict[str, Any], method: str = "") -> list[list[str]]:
    """Return table rows (comparison, N, R, RMSE, ubRMSE, bias) from the run's metrics.

    Held-out (cross-validation) results come first, then SMAP and the in-sample comparisons,
    each from its pooled metrics, named in plain words. ``metrics["methods"]`` holds every
    column's report; ``metrics["held_out"]`` names the columns predicted without their own
    station.
    """
    rows = []
    reports = (metrics or {}).get("methods") or {}
    held = set((metrics or {}).get("held_out") or {})
    ordered = [n for n in reports if n in held] + [n for n in reports if n not in held]
    for name in ordered:
        report = reports[name]
        pooled = report.get("pooled") if isinstance(report, dict) else None
        if not isinstance(pooled, dict):
            continue

        def fmt(field: str, digits: int = 3, values: dict[str, Any] = pooled) -> str:
            value = values.get(field)
            if value is None:
                return "–"
            return str(int(value)) if field == "n" else f"{float(value):.{digits}f}"

        label = short_name(name, name in held, method)
        rows.append([label, fmt("n"), fmt("r", 2), fmt("rmse"), fmt("ubrmse"), fmt("bias")])
    return rows


def chart_files(result: Any) -> list[Path]:
    """Return the report's PNG charts, the held-out check of the adapted map first.

    Then the time series and the maps; the in-sample fit, which flatters the map, comes last.
    """
    pngs: list[Path] = []
    charts = getattr(result, "charts", None)
    if isinstance(charts, dict):
        pngs = [Path(p) for p in charts.values()]
    elif result.report_html:
        pngs = sorted(Path(result.report_html).parent.rglob("*.png"))

    def order(path: Path) -> tuple[int, str]:
        name = path.stem
        if name.startswith("scatter_adapted") and "in_sample" not in name:
            return (0, name)
        if name == "timeseries":
            return (1, name)
        if name.startswith("map_"):
            return (2, name)
        if "in_sample" in name:
            return (4, name)
        return (3, name)

    return sorted(pngs, key=order)
