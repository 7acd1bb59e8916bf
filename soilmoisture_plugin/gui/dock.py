"""The "Soil Moisture" dock: area, stations, dates, options, Earth Engine, Adapt & Map, results.

Everything slow (reading stations, listing Sentinel-1 dates, Earth Engine sign-in, detecting a
GPU, the run itself) runs in an :class:`~soilmoisture_plugin.tasks.EngineTask`; the dock only
reacts to the tasks' results on the main thread, so the GUI stays responsive throughout.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qgis.core import (
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsGeometry,
    QgsPointXY,
    QgsProject,
    QgsRectangle,
    QgsVectorLayer,
)
from qgis.gui import QgsCollapsibleGroupBox, QgsDockWidget, QgsFileWidget, QgsMapLayerComboBox
from qgis.PyQt.QtCore import QDate, QEvent, Qt, QTimer, QUrl, pyqtSignal
from qgis.PyQt.QtGui import QDesktopServices
from qgis.PyQt.QtWidgets import (
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core.errors import SoilMoistureError
from ..adapters import (
    aoi_from_geometry,
    aoi_from_layer,
    area_km2,
    describe_area,
    expand_station_paths,
    max_aoi_km2,
    parse_extent,
    station_rows,
    stations_layer,
)
from ..algorithms.base import METHODS, SOURCES
from ..compat import FILTER_POLYGON_LAYER
from ..deps import DependencyReport
from ..i18n import tr
from ..settings import PluginSettings
from ..styling import soil_moisture_layers
from ..tasks import EngineTask
from .maptool import AoiMapTool, make_rubber_band
from .results import ChartLabel, checks_summary, plain_summary, short_name

if TYPE_CHECKING:  # needs shapely: imported by the adapters when an area is made
    from ...core.inputs.aoi import AOI

WGS84 = QgsCoordinateReferenceSystem("EPSG:4326")
DOCK_CHARTS = 3
"""Charts shown in the dock (the held-out check first); the report has them all."""
FAR_KM = 50
"""A station further than this from the area is flagged when the stations are loaded."""


def plural(n: int, one: str, many: str) -> str:
    """Return ``one`` for 1, else ``many`` with ``{n}`` filled in (``1 map``, ``3 maps``)."""
    return one if n == 1 else many.format(n=f"{n:,}")


SEARCH_DAYS = 30
"""The Sentinel-1 search covers this many days either side of the picked date."""


def qdate(value: dt.date) -> QDate:
    """Return a QDate from a ``datetime.date``."""
    return QDate(value.year, value.month, value.day)


def pydate(value: QDate) -> dt.date:
    """Return a ``datetime.date`` from a QDate."""
    return dt.date(value.year(), value.month(), value.day())


def _error_style(label: QLabel, error: bool) -> None:
    label.setStyleSheet("color: #b2182b;" if error else "")


class SoilMoistureDock(QgsDockWidget):
    """The plugin's dock: the whole Adapt & Map workflow on one panel.

    Signals:
        packagesRequested(): the user asked for the Python packages dialog.
    """

    packagesRequested = pyqtSignal()  # noqa: N815 (Qt naming)

    def __init__(
        self, iface: Any, dependencies: DependencyReport, parent: QWidget | None = None
    ) -> None:
        super().__init__(tr("Soil Moisture"), parent)
        self.iface = iface
        self.canvas = iface.mapCanvas()
        self.dependencies = dependencies
        self.settings = PluginSettings()
        self.aoi: AOI | None = None
        self.station_data: Any = None
        self.station_files: list[Path] = []
        self.stations_layer_id: str | None = None
        self.acquisitions: list[Any] = []
        self.run_task: EngineTask | None = None
        self.run_dir: Path | None = None
        self.run_method = ""
        self.result: Any = None
        self.result_layer_ids: list[str] = []
        self._tasks: set[EngineTask] = set()
        self._sign_in_task: EngineTask | None = None
        self._previous_tool: Any = None
        self._device_checked = False
        self._picking_date = False
        self._station_rows: list[dict[str, Any]] = []
        self._station_text = ""

        self.map_tool = AoiMapTool(self.canvas)
        self.map_tool.geometryChanged.connect(self._live_area)
        self.map_tool.aoiDrawn.connect(self._aoi_drawn)
        self.aoi_band = make_rubber_band(self.canvas, "#b2182b", fill=False)

        self._build()
        self._restore_settings()
        self._update_run_state()

    # =========================================================================== layout
    def _build(self) -> None:
        body = QWidget()
        body.setObjectName("dock_body")
        layout = QVBoxLayout(body)
        layout.addWidget(self._build_aoi())
        layout.addWidget(self._build_stations())
        layout.addWidget(self._build_dates())
        layout.addWidget(self._build_options())
        layout.addWidget(self._build_earth_engine())
        self.results_group = self._build_results()
        layout.addWidget(self.results_group)
        layout.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setWidget(body)
        # the run controls stay below the scrolled part: always visible, never scrolled away
        container = QWidget()
        outer = QVBoxLayout(container)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(2)
        outer.addWidget(self.scroll, 1)
        outer.addWidget(self._build_run())
        self.setWidget(container)
        self.body = body
        for widget in body.findChildren(QAbstractSpinBox) + body.findChildren(QComboBox):
            widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            widget.installEventFilter(self)
        for combo in body.findChildren(QComboBox):
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(8)
        for form in body.findChildren(QFormLayout):
            form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)

    def eventFilter(self, watched: Any, event: Any) -> bool:  # noqa: N802 (Qt API)
        """A wheel over a spin box or list that has no focus scrolls the dock, not the value."""
        if (
            event.type() == QEvent.Type.Wheel
            and isinstance(watched, QAbstractSpinBox | QComboBox)
            and not watched.hasFocus()
        ):
            QApplication.sendEvent(self.scroll.viewport(), event)
            return True
        return super().eventFilter(watched, event)

    @staticmethod
    def _button_grid(buttons: list[QPushButton], columns: int = 2) -> QGridLayout:
        """Buttons in rows of ``columns``: the dock stays narrow enough for a laptop."""
        grid = QGridLayout()
        grid.setHorizontalSpacing(4)
        for i, button in enumerate(buttons):
            last_alone = i == len(buttons) - 1 and i % columns == 0
            grid.addWidget(button, i // columns, i % columns, 1, columns if last_alone else 1)
        return grid

    def _group(self, title: str, name: str) -> tuple[QgsCollapsibleGroupBox, QVBoxLayout]:
        box = QgsCollapsibleGroupBox(title)
        box.setObjectName(name)
        return box, QVBoxLayout(box)

    def _build_aoi(self) -> QWidget:
        box, lay = self._group(tr("Area of interest"), "aoi_group")
        hint = QLabel(tr("Draw on the map, or use the demo area:"))
        hint.setWordWrap(True)
        lay.addWidget(hint)
        self.draw_rect_button = QPushButton(tr("Rectangle"))
        self.draw_rect_button.setToolTip(tr("Drag a rectangle on the map"))
        self.draw_rect_button.clicked.connect(lambda: self.start_draw("rectangle"))
        self.draw_poly_button = QPushButton(tr("Polygon"))
        self.draw_poly_button.setToolTip(
            tr("Click the vertices on the map; right-click or double-click to finish")
        )
        self.draw_poly_button.clicked.connect(lambda: self.start_draw("polygon"))
        self.demo_area_button = QPushButton(tr("Demo area"))
        self.demo_area_button.setToolTip(tr("The simulated demo scene (no account needed)"))
        self.demo_area_button.clicked.connect(self.use_demo_area)
        lay.addLayout(
            self._button_grid([self.draw_rect_button, self.draw_poly_button, self.demo_area_button])
        )

        self.layer_combo = QgsMapLayerComboBox()
        self.layer_combo.setFilters(FILTER_POLYGON_LAYER)
        self.layer_combo.setAllowEmptyLayer(True)
        self.selected_only = QCheckBox(tr("Selected features only"))
        self.use_layer_button = QPushButton(tr("Use layer"))
        self.use_layer_button.clicked.connect(self.use_layer)
        lay.addWidget(QLabel(tr("Polygon layer")))
        lay.addWidget(self.layer_combo)
        lay.addWidget(self.selected_only)
        lay.addWidget(self.use_layer_button)
        self.extent_edit = QLineEdit()
        self.extent_edit.setPlaceholderText(tr("xmin, ymin, xmax, ymax [EPSG:4326]"))
        self.extent_edit.returnPressed.connect(self.use_typed_extent)
        self.use_extent_button = QPushButton(tr("Use extent"))
        self.use_extent_button.clicked.connect(self.use_typed_extent)
        lay.addWidget(QLabel(tr("Extent")))
        extent_row = QHBoxLayout()
        extent_row.addWidget(self.extent_edit, 1)
        extent_row.addWidget(self.use_extent_button)
        lay.addLayout(extent_row)

        self.area_label = QLabel(tr("No area yet: draw one, pick a layer or type an extent."))
        self.area_label.setWordWrap(True)
        self.area_warning = QLabel("")
        self.area_warning.setWordWrap(True)
        self.area_warning.setStyleSheet("color: #b35806;")
        lay.addWidget(self.area_label)
        lay.addWidget(self.area_warning)
        return box

    def _build_stations(self) -> QWidget:
        box, lay = self._group(tr("Stations"), "stations_group")
        hint = QLabel(tr("Add ISMN or CSV station files:"))
        hint.setWordWrap(True)
        lay.addWidget(hint)
        self.add_files_button = QPushButton(tr("Files…"))
        self.add_files_button.setToolTip(tr("ISMN .stm files, ISMN .zip downloads or station CSVs"))
        self.add_files_button.clicked.connect(self._choose_station_files)
        self.add_folder_button = QPushButton(tr("Folder…"))
        self.add_folder_button.clicked.connect(self._choose_station_folder)
        self.demo_stations_button = QPushButton(tr("Demo"))
        self.demo_stations_button.setToolTip(tr("The demo scene's simulated stations"))
        self.demo_stations_button.clicked.connect(self.load_demo_stations)
        self.clear_stations_button = QPushButton(tr("Clear"))
        self.clear_stations_button.clicked.connect(self.clear_stations)
        lay.addLayout(
            self._button_grid(
                [
                    self.add_files_button,
                    self.add_folder_button,
                    self.demo_stations_button,
                    self.clear_stations_button,
                ]
            )
        )
        self.station_list = QListWidget()
        self.station_list.setObjectName("station_list")
        self.station_list.setMinimumHeight(90)
        self.station_list.setWordWrap(True)  # long station names wrap, no sideways scrolling
        self.station_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.station_list.itemChanged.connect(lambda _item: self._update_run_state())
        lay.addWidget(self.station_list)
        self.station_label = QLabel(tr("No stations loaded."))
        self.station_label.setWordWrap(True)
        lay.addWidget(self.station_label)
        return box

    def _build_dates(self) -> QWidget:
        box, lay = self._group(tr("Dates"), "dates_group")
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
        lay.addLayout(form)
        lay.addWidget(self.find_dates_button)
        self.dates_tree = QTreeWidget()
        self.dates_tree.setObjectName("dates_tree")
        self.dates_tree.setHeaderLabels([tr("Date"), tr("Pass"), tr("Orbit"), tr("Coverage")])
        self.dates_tree.setRootIsDecorated(False)
        self.dates_tree.setMinimumHeight(80)
        self.dates_tree.setToolTip(
            tr("Tick the dates to map; double-click a date to put it in the date picker")
        )
        self.dates_tree.itemDoubleClicked.connect(self._acquisition_picked)
        lay.addWidget(self.dates_tree)
        self.dates_label = QLabel(tr("Ticked dates are mapped; with none ticked, the map date is."))
        self.dates_label.setWordWrap(True)
        lay.addWidget(self.dates_label)

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
        lay.addWidget(self.custom_training)
        train.addRow(tr("From"), self.train_start)
        train.addRow(tr("To"), self.train_end)
        lay.addLayout(train)
        return box

    def _build_options(self) -> QWidget:
        box, lay = self._group(tr("Options"), "options_group")
        form = QFormLayout()
        self.source_combo = QComboBox()
        for name, label in SOURCES:
            self.source_combo.addItem(tr(label), name)
        self.source_combo.currentIndexChanged.connect(self._source_changed)
        form.addRow(tr("Data source"), self.source_combo)
        self.method_combo = QComboBox()
        for name, label in METHODS:
            self.method_combo.addItem(tr(label), name)
        form.addRow(tr("Method"), self.method_combo)
        alpha_row = QHBoxLayout()
        self.alpha_auto = QCheckBox(tr("Automatic"))
        self.alpha_auto.setChecked(True)
        self.alpha_spin = QDoubleSpinBox()
        self.alpha_spin.setRange(0.0, 1.0)
        self.alpha_spin.setSingleStep(0.05)
        self.alpha_spin.setValue(0.7)
        self.alpha_spin.setEnabled(False)
        self.alpha_auto.toggled.connect(lambda on: self.alpha_spin.setEnabled(not on))
        alpha_row.addWidget(self.alpha_auto)
        alpha_row.addWidget(self.alpha_spin)
        form.addRow(tr("Alpha (50 m loss weight)"), alpha_row)
        self.device_combo = QComboBox()
        self.device_combo.addItem(tr("CPU"), "cpu")
        self.device_combo.setToolTip(tr("CUDA appears when torch finds a GPU"))
        form.addRow(tr("Device"), self.device_combo)
        self.epochs_spin = QSpinBox()
        self.epochs_spin.setRange(1, 1000)
        self.epochs_spin.setValue(50)
        form.addRow(tr("Epochs"), self.epochs_spin)
        self.output_widget = QgsFileWidget()
        self.output_widget.setStorageMode(QgsFileWidget.StorageMode.GetDirectory)
        self.output_widget.setDialogTitle(tr("Output folder"))
        form.addRow(tr("Output folder"), self.output_widget)
        self.packages_button = QPushButton(tr("Python packages…"))
        self.packages_button.setObjectName("packages_button")
        self.packages_button.setToolTip(
            tr("Install or remove the Python packages the plugin needs (torch, shapely, …)")
        )
        self.packages_button.clicked.connect(self.packagesRequested.emit)
        form.addRow(tr("Packages"), self.packages_button)
        lay.addLayout(form)
        return box

    def set_dependencies(self, report: DependencyReport) -> None:
        """Use a new dependency report (after the packages were installed)."""
        self.dependencies = report
        if report.earthengine:
            for w in (self.ee_sign_in_button, self.ee_connect_button, self.ee_project_edit):
                w.setEnabled(True)
            self.ee_state.setText(tr("Not signed in to Earth Engine."))
            _error_style(self.ee_state, False)
        self._update_run_state()

    def _build_earth_engine(self) -> QWidget:
        box, lay = self._group(tr("Earth Engine"), "ee_group")
        form = QFormLayout()
        self.ee_project_edit = QLineEdit()
        self.ee_project_edit.setPlaceholderText(tr("Google Cloud project id, e.g. my-ee-project"))
        form.addRow(tr("Cloud project"), self.ee_project_edit)
        lay.addLayout(form)
        self.ee_sign_in_button = QPushButton(tr("Sign in…"))
        self.ee_sign_in_button.setToolTip(
            tr("Opens your browser to sign in to Google Earth Engine")
        )
        self.ee_sign_in_button.clicked.connect(self.ee_sign_in)
        self.ee_connect_button = QPushButton(tr("Connect"))
        self.ee_connect_button.setToolTip(
            tr("Start an Earth Engine session with the saved credentials")
        )
        self.ee_connect_button.clicked.connect(self.ee_connect)
        self.ee_check_button = QPushButton(tr("Check connection"))
        self.ee_check_button.setToolTip(
            tr("One tiny request per dataset: says what works and what to do about the rest")
        )
        self.ee_check_button.clicked.connect(self.ee_check)
        lay.addLayout(  # two per row: the dock stays narrow enough for a laptop
            self._button_grid(
                [self.ee_sign_in_button, self.ee_connect_button, self.ee_check_button]
            )
        )
        self.ee_state = QLabel(tr("Not signed in to Earth Engine."))
        self.ee_state.setObjectName("ee_state")
        self.ee_state.setWordWrap(True)
        lay.addWidget(self.ee_state)
        if not self.dependencies.earthengine:
            for w in (self.ee_sign_in_button, self.ee_connect_button, self.ee_project_edit):
                w.setEnabled(False)
            self.ee_state.setText(
                tr("earthengine-api is not installed: install it with Options > Python packages…")
            )
            _error_style(self.ee_state, True)
        return box

    def _build_run(self) -> QWidget:
        box, lay = self._group(tr("Run"), "run_group")
        row = QHBoxLayout()
        self.run_button = QPushButton(tr("Adapt && Map"))
        self.run_button.setObjectName("run_button")
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(self.start_run)
        self.cancel_button = QPushButton(tr("Cancel"))
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_run)
        row.addWidget(self.run_button, 2)
        row.addWidget(self.cancel_button, 1)
        lay.addLayout(row)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 100)
        self.progress_bar.setValue(0)
        lay.addWidget(self.progress_bar)
        self.status_label = QLabel("")
        self.status_label.setObjectName("status_label")
        self.status_label.setWordWrap(True)
        lay.addWidget(self.status_label)
        return box

    def _build_results(self) -> QWidget:
        box, lay = self._group(tr("Results"), "results_group")
        self.results_summary = QLabel(tr("No results yet."))
        self.results_summary.setObjectName("results_summary")
        self.results_summary.setWordWrap(True)
        self.results_summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.results_summary)
        self.open_report_button = QPushButton(tr("Open the full report"))
        self.open_report_button.setEnabled(False)
        self.open_report_button.clicked.connect(self.open_report)
        lay.addWidget(self.open_report_button)
        self.report_path_label = QLabel("")
        self.report_path_label.setObjectName("report_path")
        self.report_path_label.setWordWrap(True)
        self.report_path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.report_path_label)
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
        lay.addWidget(self.metrics_table)
        self.charts_box = QWidget()
        self.charts_layout = QVBoxLayout(self.charts_box)
        self.charts_layout.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.charts_box)
        return box

    # ========================================================================= settings
    def _restore_settings(self) -> None:
        self._select(self.source_combo, self.settings.get("source"))
        self._select(self.method_combo, self.settings.get("method"))
        self.output_widget.setFilePath(self.settings.get("last_output_dir"))
        self.ee_project_edit.setText(self.settings.get("ee_project"))
        self.epochs_spin.setValue(self.settings.get("epochs"))
        self._wanted_device = self.settings.get("device")

    def save_settings(self) -> None:
        """Persist the choices the user is likely to reuse."""
        self.settings.set("source", self.source_combo.currentData())
        self.settings.set("method", self.method_combo.currentData())
        self.settings.set("device", self.device_combo.currentData())
        self.settings.set("epochs", self.epochs_spin.value())
        if self.output_widget.filePath():
            self.settings.set("last_output_dir", self.output_widget.filePath())
        self.settings.set("ee_project", self.ee_project_edit.text().strip())

    @staticmethod
    def _select(combo: QComboBox, data: Any) -> None:
        index = combo.findData(data)
        if index >= 0:
            combo.setCurrentIndex(index)

    # ========================================================================= tasks
    def _start_task(self, task: EngineTask) -> EngineTask:
        """Keep a reference (Python would collect it) and hand it to the task manager."""
        self._tasks.add(task)
        task.taskCompleted.connect(lambda: self._tasks.discard(task))
        task.taskTerminated.connect(lambda: self._tasks.discard(task))
        QgsApplication.taskManager().addTask(task)
        return task

    def showEvent(self, event: Any) -> None:  # noqa: N802 (Qt API)
        """Detect a GPU the first time the dock is shown (in a task: torch loads slowly)."""
        super().showEvent(event)
        if not self._device_checked and self.dependencies.torch:
            self._device_checked = True
            self._start_task(
                EngineTask(
                    tr("Detecting a GPU"),
                    _detect_cuda,
                    self._devices_found,
                    lambda _msg, _c: None,
                    can_cancel=False,
                )
            )

    def _devices_found(self, devices: list[tuple[str, str]]) -> None:
        for name, label in devices:
            if self.device_combo.findData(name) < 0:
                self.device_combo.addItem(tr("CUDA ({gpu})").format(gpu=label), name)
        self._select(self.device_combo, self._wanted_device)

    # ========================================================================= AOI
    def start_draw(self, mode: str) -> None:
        """Activate the AOI map tool in ``mode`` (``"rectangle"`` or ``"polygon"``)."""
        self.map_tool.set_mode(mode)
        if self.canvas.mapTool() is not self.map_tool:
            self._previous_tool = self.canvas.mapTool()
            self.canvas.setMapTool(self.map_tool)
        self.area_label.setText(
            tr("Drag a rectangle on the map.")
            if mode == "rectangle"
            else tr("Click the vertices; right-click or double-click to finish.")
        )

    def _canvas_crs(self) -> QgsCoordinateReferenceSystem:
        crs = self.canvas.mapSettings().destinationCrs()
        return crs if crs.isValid() else WGS84

    def _live_area(self, geometry: QgsGeometry) -> None:
        if geometry.isEmpty() or geometry.area() <= 0:
            return
        text, warning = describe_area(area_km2(geometry, self._canvas_crs()))
        self.area_label.setText(text)
        self.area_warning.setText(warning or self._outside_demo(geometry, self._canvas_crs()))

    def _outside_demo(self, geometry: QgsGeometry, crs: QgsCoordinateReferenceSystem) -> str:
        """With the demo source, say (while drawing) when the area leaves the demo scene."""
        if self.source_combo.currentData() != "demo":
            return ""
        from ...core.inputs.sources.demo import DEMO_AOI_BBOX

        g = QgsGeometry(geometry)
        if crs != WGS84:
            g.transform(QgsCoordinateTransform(crs, WGS84, QgsProject.instance()))
        lon0, lat0, lon1, lat1 = DEMO_AOI_BBOX
        scene = QgsRectangle(lon0, lat0, lon1, lat1)
        scene.grow(1e-4)  # about 10 m: the demo area itself, after reprojection, is inside
        if scene.contains(g.boundingBox()):
            return ""
        return tr(
            "The demo scene only covers longitudes {lon0} to {lon1} and latitudes {lat0} to "
            "{lat1}: draw inside it (Demo area), or use Earth Engine for other places."
        ).format(lon0=lon0, lon1=lon1, lat0=lat0, lat1=lat1)

    def _aoi_drawn(self, geometry: QgsGeometry) -> None:
        self.set_aoi_geometry(geometry, self._canvas_crs(), tr("drawn area"))
        if self._previous_tool is not None and self._previous_tool is not self.map_tool:
            self.canvas.setMapTool(self._previous_tool)
        else:
            self.canvas.unsetMapTool(self.map_tool)
        self._previous_tool = None

    def set_aoi_geometry(
        self, geometry: QgsGeometry, crs: QgsCoordinateReferenceSystem, name: str
    ) -> bool:
        """Make ``geometry`` (in ``crs``) the AOI; shows the area or why it cannot be used."""
        try:
            aoi = aoi_from_geometry(geometry, crs, name=name)
        except SoilMoistureError as exc:
            self._set_aoi(None, str(exc))
            return False
        self._set_aoi(aoi)
        return True

    def set_aoi(self, aoi: AOI) -> None:
        """Make an engine AOI the current one (demo area, tests)."""
        self._set_aoi(aoi)

    def _set_aoi(self, aoi: AOI | None, error: str = "") -> None:
        self.aoi = aoi
        self.aoi_band.reset()
        if aoi is None:
            self.area_label.setText(tr("The area cannot be used: {error}").format(error=error))
            _error_style(self.area_label, True)
            self.area_warning.setText("")
        else:
            _error_style(self.area_label, False)
            self.area_label.setText(
                tr("{area:,.1f} km², {cells:,} cells of 50 m").format(
                    area=aoi.area_km2, cells=aoi.n_cells50
                )
            )
            geometry = QgsGeometry.fromWkt(aoi.lonlat_geometry().wkt)
            self.area_warning.setText(
                describe_area(aoi.area_km2, max_aoi_km2())[1] or self._outside_demo(geometry, WGS84)
            )
            box = geometry.boundingBox()
            self.extent_edit.setText(
                f"{box.xMinimum():.5f}, {box.yMinimum():.5f}, {box.xMaximum():.5f}, "
                f"{box.yMaximum():.5f} [EPSG:4326]"
            )
            if self.run_task is None:
                self._show_status("")
            self._flag_far_stations()
            target = self._canvas_crs()
            if target != WGS84:
                geometry.transform(QgsCoordinateTransform(WGS84, target, QgsProject.instance()))
            self.aoi_band.setToGeometry(geometry, None)
        self._update_run_state()

    def use_layer(self) -> None:
        """Set the AOI from the chosen polygon layer (or its selected features)."""
        layer = self.layer_combo.currentLayer()
        if not isinstance(layer, QgsVectorLayer):
            self._set_aoi(None, tr("choose a polygon layer first"))
            return
        try:
            self._set_aoi(aoi_from_layer(layer, self.selected_only.isChecked()))
        except SoilMoistureError as exc:
            self._set_aoi(None, str(exc))

    def use_typed_extent(self) -> None:
        """Set the AOI from the typed extent ``xmin, ymin, xmax, ymax [CRS]``."""
        try:
            rect, crs = parse_extent(self.extent_edit.text())
        except SoilMoistureError as exc:
            self._set_aoi(None, str(exc))
            return
        if self.set_aoi_geometry(QgsGeometry.fromRect(rect), crs, tr("typed extent")):
            self._zoom_to(rect, crs)

    def use_demo_area(self) -> None:
        """Use the demo scene's area, the demo source, and the map zoomed onto it."""
        from ...core.inputs.sources.demo import DEMO_AOI_BBOX, acquisition_dates

        xmin, ymin, xmax, ymax = DEMO_AOI_BBOX
        self.extent_edit.setText(f"{xmin}, {ymin}, {xmax}, {ymax} [EPSG:4326]")
        self._select(self.source_combo, "demo")
        self.use_typed_extent()
        dates = acquisition_dates()
        if not dates[0] <= pydate(self.date_edit.date()) <= dates[-1]:
            # the demo scene only has data in its own period: move the date there, and say so
            self.date_edit.setDate(qdate(dates[len(dates) // 2]))
            self.dates_label.setText(
                tr("Map date moved to {date}: the demo scene covers {first} to {last}.").format(
                    date=dates[len(dates) // 2], first=dates[0], last=dates[-1]
                )
            )

    def _zoom_to(self, rect: QgsRectangle, crs: QgsCoordinateReferenceSystem) -> None:
        target = self._canvas_crs()
        if crs != target:
            rect = QgsCoordinateTransform(crs, target, QgsProject.instance()).transformBoundingBox(
                rect
            )
        rect.scale(1.2)
        self.canvas.setExtent(rect)
        self.canvas.refresh()

    # ========================================================================= stations
    def _choose_station_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self,
            tr("Station files"),
            self.settings.get("last_station_dir"),
            tr("Station files (*.stm *.csv *.txt *.zip);;All files (*)"),
        )
        if files:
            self.settings.set("last_station_dir", str(Path(files[0]).parent))
            self.load_stations([Path(f) for f in files])

    def _choose_station_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, tr("Folder of station files"), self.settings.get("last_station_dir")
        )
        if folder:
            self.settings.set("last_station_dir", folder)
            self.load_stations([Path(folder)])

    def load_demo_stations(self) -> EngineTask | None:
        """Write the demo scene's stations under the output folder and load them (a task)."""
        from ...core.inputs.sources.demo import write_demo_stations

        folder = self._output_root() / "demo_stations"
        try:
            write_demo_stations(folder)
        except (OSError, SoilMoistureError) as exc:
            self._station_error(str(exc))
            return None
        return self.load_stations([folder])

    def load_stations(self, paths: list[Path]) -> EngineTask:
        """Read station files in a task, then show them as a layer and a checkable list."""
        from ...core.inputs.stations import read_station_files

        files = self.station_files + [p for p in paths if p not in self.station_files]
        self.station_label.setText(tr("Reading station files…"))
        _error_style(self.station_label, False)
        task = EngineTask(
            tr("Reading station files"),
            lambda progress: read_station_files(files, progress=progress),
            lambda data: self._stations_loaded(files, data),
            lambda message, _cancelled: self._station_error(message),
        )
        return self._start_task(task)

    def _station_error(self, message: str) -> None:
        self.station_label.setText(message)
        _error_style(self.station_label, True)

    def _stations_loaded(self, files: list[Path], data: Any) -> None:
        self.station_files = files
        self.station_data = data
        rows = station_rows(data)
        self._remove_stations_layer()
        layer = stations_layer(rows)
        # rebuilt from the station files at any time: QGIS need not ask to save it on quit
        layer.setCustomProperty("skipMemoryLayersCheck", 1)
        QgsProject.instance().addMapLayer(layer)
        self.stations_layer_id = layer.id()
        self._station_rows = rows
        # QGIS zooms onto the first layer of a project (stations on the edge): show the area
        QTimer.singleShot(0, lambda: self._zoom_to_work(layer.extent()))
        self.station_list.blockSignals(True)
        self.station_list.clear()
        for row in rows:
            text = tr("{station} ({network}): {samples} days, {first} to {last}").format(**row)
            item = QListWidgetItem(text)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            item.setData(Qt.ItemDataRole.UserRole, (row["network"], row["station"]))
            self.station_list.addItem(item)
        self.station_list.blockSignals(False)
        n_stations = len({(r["network"], r["station"]) for r in rows})
        text = tr("{stations} ({sensors}) from {inputs}.").format(
            stations=plural(n_stations, tr("1 station"), tr("{n} stations")),
            sensors=plural(len(rows), tr("1 sensor"), tr("{n} sensors")),
            inputs=plural(len(files), tr("1 file"), tr("{n} files")),
        )
        if data.warnings:
            text += " " + tr("{n} warnings: {first}").format(
                n=len(data.warnings), first=data.warnings[0]
            )
        self._station_text = text
        self.station_label.setText(text)
        _error_style(self.station_label, False)
        self._flag_far_stations()
        self._update_run_state()

    def _flag_far_stations(self) -> list[tuple[str, float]]:
        """Say which loaded stations lie far from the area (a wrong file, or a wrong area).

        Returns:
            (station, distance in km) of the stations more than :data:`FAR_KM` away.
        """
        rows = self._station_rows
        if not rows or self.aoi is None:
            return []
        ease = QgsCoordinateReferenceSystem("EPSG:6933")
        to_ease = QgsCoordinateTransform(WGS84, ease, QgsProject.instance())
        area = QgsGeometry.fromWkt(self.aoi.lonlat_geometry().wkt)
        area.transform(to_ease)
        far: dict[str, float] = {}
        for row in rows:
            point = QgsGeometry.fromPointXY(QgsPointXY(row["lon"], row["lat"]))
            point.transform(to_ease)
            km = area.distance(point) / 1000.0
            if km > FAR_KM:
                far[row["station"]] = max(km, far.get(row["station"], 0.0))
        text = self._station_text
        if far:
            worst = sorted(far.items(), key=lambda kv: -kv[1])
            names = ", ".join(f"{name} ({km:,.0f} km)" for name, km in worst[:3])
            text += " " + tr(
                "{count} far from the area (more than {limit} km): {names}. Stations outside "
                "the area are not used; check the files or the area."
            ).format(
                count=plural(len(far), tr("1 station is"), tr("{n} stations are")),
                limit=FAR_KM,
                names=names,
            )
        self.station_label.setText(text)
        _error_style(self.station_label, bool(far))
        return sorted(far.items(), key=lambda kv: -kv[1])

    def _remove_stations_layer(self) -> None:
        if self.stations_layer_id and QgsProject.instance().mapLayer(self.stations_layer_id):
            QgsProject.instance().removeMapLayer(self.stations_layer_id)
        self.stations_layer_id = None

    def clear_stations(self) -> None:
        """Forget the loaded stations and remove their layer."""
        self.station_files = []
        self.station_data = None
        self._station_rows = []
        self._station_text = ""
        self.station_list.clear()
        self._remove_stations_layer()
        self.station_label.setText(tr("No stations loaded."))
        _error_style(self.station_label, False)
        self._update_run_state()

    def checked_stations(self) -> set[tuple[str, str]]:
        """(network, station) of the ticked stations."""
        keys = set()
        for i in range(self.station_list.count()):
            item = self.station_list.item(i)
            if item.checkState() == Qt.CheckState.Checked:
                keys.add(tuple(item.data(Qt.ItemDataRole.UserRole)))
        return keys

    def _station_inputs(self, run_dir: Path) -> tuple[Path, ...]:
        """Return the run's station files: the originals, or a CSV of the ticked stations only."""
        keys = self.checked_stations()
        all_keys = {
            tuple(self.station_list.item(i).data(Qt.ItemDataRole.UserRole))
            for i in range(self.station_list.count())
        }
        if keys == all_keys:
            return tuple(expand_station_paths(self.station_files))
        readings = self.station_data.readings
        mask = [
            (n, s) in keys for n, s in zip(readings["network"], readings["station"], strict=True)
        ]
        kept = readings[mask]
        table = kept.rename(columns={"time": "timestamp"})
        table = table.assign(
            timestamp=table["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"), unit="m3/m3"
        )
        table["depth"] = table["depth_to"]
        path = run_dir / "selected_stations.csv"
        run_dir.mkdir(parents=True, exist_ok=True)
        table[
            [
                "network",
                "station",
                "lat",
                "lon",
                "depth",
                "sensor",
                "timestamp",
                "sm",
                "flag",
                "unit",
            ]
        ].to_csv(path, index=False)
        return (path,)

    # ========================================================================= dates
    def find_dates(self) -> EngineTask | None:
        """List the Sentinel-1 acquisitions within ``SEARCH_DAYS`` of the picked date (a task)."""
        from ...core.inputs.sources import get_source

        if self.aoi is None:
            self.dates_label.setText(tr("Choose an area of interest first."))
            _error_style(self.dates_label, True)
            return None
        centre = pydate(self.date_edit.date())
        start = centre - dt.timedelta(days=SEARCH_DAYS)
        end = centre + dt.timedelta(days=SEARCH_DAYS)
        source_name = self.source_combo.currentData()
        window = self.aoi.window9()
        self.find_dates_button.setEnabled(False)
        self.dates_label.setText(
            tr("Searching Sentinel-1 acquisitions from {start} to {end}…").format(
                start=start, end=end
            )
        )
        _error_style(self.dates_label, False)
        task = EngineTask(
            tr("Finding Sentinel-1 dates"),
            lambda progress: get_source(source_name).list_acquisitions(
                window, start, end, progress
            ),
            self._dates_found,
            self._dates_failed,
        )
        return self._start_task(task)

    def _dates_found(self, acquisitions: list[Any]) -> None:
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

    def _dates_failed(self, message: str, _cancelled: bool) -> None:
        self.find_dates_button.setEnabled(True)
        self.dates_label.setText(message)
        _error_style(self.dates_label, True)

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

    def map_dates(self) -> tuple[dt.date, ...]:
        """Return the ticked acquisition dates, or else the date picker's date."""
        ticked = []
        for i in range(self.dates_tree.topLevelItemCount()):
            item = self.dates_tree.topLevelItem(i)
            if item.checkState(0) == Qt.CheckState.Checked:
                ticked.append(dt.date.fromisoformat(item.data(0, Qt.ItemDataRole.UserRole)))
        return tuple(sorted(set(ticked))) or (pydate(self.date_edit.date()),)

    # ========================================================================= options
    def _source_changed(self) -> None:
        if self.source_combo.currentData() == "gee" and not self.dependencies.earthengine:
            self.status_label.setText(
                tr(
                    "The Earth Engine source needs earthengine-api: install it with Options > "
                    "Python packages…"
                )
            )
        self._update_run_state()

    def _output_root(self) -> Path:
        text = self.output_widget.filePath().strip()
        return Path(text).expanduser() if text else Path(self.settings.get("last_output_dir"))

    # ========================================================================= Earth Engine
    def ee_connect(self, force: bool = False) -> EngineTask:
        """Start an Earth Engine session with the saved credentials (a task)."""
        from ...core.inputs.sources import ee_auth

        project = self.ee_project_edit.text().strip() or None
        self.settings.set("ee_project", project or "")
        self.ee_state.setText(tr("Connecting to Earth Engine…"))
        _error_style(self.ee_state, False)
        task = EngineTask(
            tr("Connecting to Earth Engine"),
            lambda _progress: ee_auth.initialize(project=project, force=force),
            self._ee_connected,
            self._ee_failed,
            can_cancel=False,
        )
        return self._start_task(task)

    def ee_sign_in(self) -> EngineTask | None:
        """Sign in through the browser, then connect (a task; the GUI stays responsive).

        While the browser sign-in is pending the button reads "Cancel sign-in"; clicking it
        again cancels the wait (returns None).
        """
        from ...core.inputs.sources import ee_auth

        if self._sign_in_task is not None:
            self._sign_in_task.cancel()
            return None
        project = self.ee_project_edit.text().strip() or None
        self.settings.set("ee_project", project or "")
        self.ee_state.setText(tr("Waiting for the sign-in in your browser…"))
        _error_style(self.ee_state, False)

        def finished_ok(description: str) -> None:
            self._sign_in_finished()
            self._ee_connected(description)

        def finished_failed(message: str, cancelled: bool) -> None:
            self._sign_in_finished()
            if cancelled:
                self.ee_state.setText(tr("Sign-in cancelled."))
                _error_style(self.ee_state, False)
            else:
                self._ee_failed(message, cancelled)

        task = EngineTask(
            tr("Signing in to Earth Engine"),
            lambda progress: ee_auth.sign_in(project, progress),
            finished_ok,
            finished_failed,
        )
        self._sign_in_task = task
        self.ee_sign_in_button.setText(tr("Cancel sign-in"))
        return self._start_task(task)

    def ee_check(self) -> EngineTask:
        """Run the Earth Engine connection check (``soilmoisture ee-check``) as a task."""
        from ...core.inputs.sources.ee_check import check_connection, summary

        project = self.ee_project_edit.text().strip() or None
        self.ee_state.setText(tr("Checking Earth Engine: one tiny request per dataset…"))
        _error_style(self.ee_state, False)

        def done(checks: list[Any]) -> None:
            self.ee_state.setText("\n".join([summary(checks)] + [c.line() for c in checks]))
            _error_style(self.ee_state, not all(c.ok for c in checks))

        task = EngineTask(
            tr("Checking the Earth Engine connection"),
            lambda progress: check_connection(project=project, progress=progress),
            done,
            self._ee_failed,
        )
        return self._start_task(task)

    def _sign_in_finished(self) -> None:
        self._sign_in_task = None
        self.ee_sign_in_button.setText(tr("Sign in…"))

    def _ee_connected(self, description: str) -> None:
        self.ee_state.setText(tr("Earth Engine: {state}").format(state=description))
        _error_style(self.ee_state, False)

    def _ee_failed(self, message: str, _cancelled: bool) -> None:
        self.ee_state.setText(message)
        _error_style(self.ee_state, True)

    # ========================================================================= run
    def _update_run_state(self) -> None:
        running = self.run_task is not None
        reason = ""
        if not self.dependencies.can_run:
            reason = tr("{summary} Install them with Options > Python packages…").format(
                summary=self.dependencies.summary()
            )
        elif self.source_combo.currentData() == "gee" and not self.dependencies.earthengine:
            reason = tr(
                "The Earth Engine source needs earthengine-api: install it with Options > "
                "Python packages…"
            )
        elif self.aoi is None:
            reason = tr("Choose an area of interest first.")
        elif not self.checked_stations():
            reason = tr("Load stations and tick at least one.")
        self.run_button.setEnabled(not running and not reason)
        self.run_button.setToolTip(reason or tr("Adapt the models to the stations and map"))
        self.cancel_button.setEnabled(running)

    def build_config(self) -> Any:
        """Return the engine configuration from the dock (validated by the engine).

        Raises:
            SoilMoistureError: A missing or invalid choice (the engine's message).

        """
        from ...core.errors import InputError
        from ...core.run.pipeline import AdaptMapConfig

        if self.aoi is None:
            raise InputError(tr("Choose an area of interest first."))
        if not self.checked_stations():
            raise InputError(tr("Load stations and tick at least one."))
        run_dir = self._output_root() / dt.datetime.now().strftime("run-%Y%m%d-%H%M%S")
        stations = self._station_inputs(run_dir)
        train_start = train_end = None
        if self.custom_training.isChecked():
            train_start, train_end = pydate(self.train_start.date()), pydate(self.train_end.date())
        return AdaptMapConfig(
            aoi=self.aoi,
            stations=stations,
            dates=self.map_dates(),
            out_dir=run_dir,
            source=self.source_combo.currentData(),
            method=self.method_combo.currentData(),
            alpha=None if self.alpha_auto.isChecked() else float(self.alpha_spin.value()),
            device=self.device_combo.currentData(),
            train_start=train_start,
            train_end=train_end,
            epochs=int(self.epochs_spin.value()),
        )

    def start_run(self, config: Any = None) -> EngineTask | None:
        """Start "Adapt & Map" in a task (``config`` overrides the dock's choices, for tests)."""
        from ...core.run.pipeline import run_adapt_map

        if self.run_task is not None:
            return None
        self.save_settings()
        try:
            config = config or self.build_config()
        except SoilMoistureError as exc:
            self._show_status(str(exc), error=True)
            return None
        self.run_dir = Path(config.out_dir)
        self.run_method = str(getattr(config, "method", "") or "")
        self.progress_bar.setValue(0)
        self._show_status(tr("Starting…"))
        task = EngineTask(
            tr("Soil moisture: Adapt & Map"),
            lambda progress: run_adapt_map(config, progress),
            self._run_done,
            self._run_failed,
        )
        task.progressChanged.connect(lambda value: self.progress_bar.setValue(int(value)))
        task.messageChanged.connect(self._show_status)
        self.run_task = task
        self._update_run_state()
        return self._start_task(task)

    def cancel_run(self) -> None:
        """Ask the running task to stop (the engine checks between epochs, members and tiles)."""
        if self.run_task is not None:
            self._show_status(tr("Cancelling…"))
            self.cancel_button.setEnabled(False)
            self.run_task.cancel()

    def _show_status(self, text: str, error: bool = False) -> None:
        self.status_label.setText(text)
        _error_style(self.status_label, error)

    def _run_failed(self, message: str, cancelled: bool) -> None:
        self.run_task = None
        self.progress_bar.setValue(0)
        if cancelled:
            self._show_status(tr("Cancelled; nothing half-written was kept."))
        else:
            self._show_status(message, error=True)
        self._update_run_state()

    def _run_done(self, result: Any) -> None:
        self.run_task = None
        self.result = result
        self.progress_bar.setValue(100)
        self._show_status(
            tr("Done: {maps} in {folder}").format(
                maps=plural(len(result.maps), tr("1 map"), tr("{n} maps")), folder=result.out_dir
            )
        )
        self._add_result_layers(result)
        self._show_results(result)
        self._update_run_state()

    def run_group_name(self, result: Any) -> str:
        """Name of a run's layer group: its dates, its method and when it ran (unique)."""
        dates = sorted(result.maps)
        when = dates[0].isoformat() if len(dates) == 1 else f"{dates[0]} – {dates[-1]}"
        method = self.run_method.upper()
        base = tr("Soil moisture {dates} {method}").format(dates=when, method=method).strip()
        stamp = dt.datetime.now().strftime("%H:%M")
        root = QgsProject.instance().layerTreeRoot()
        names = {g.name() for g in root.findGroups()}
        name = f"{base} ({stamp})"
        n = 2
        while name in names:
            name = f"{base} ({stamp}, {n})"
            n += 1
        return name

    def _add_result_layers(self, result: Any) -> None:
        """One group per run, stations above the rasters, the map zoomed to the area."""
        project = QgsProject.instance()
        root = project.layerTreeRoot()
        group = root.insertGroup(0, self.run_group_name(result))
        for date in sorted(result.maps):
            name = tr("Soil moisture {date}").format(date=date.isoformat())
            layers = soil_moisture_layers(str(result.maps[date]), name)
            if not layers:
                self._show_status(
                    tr("The map {path} could not be opened.").format(path=result.maps[date]), True
                )
                continue
            for layer in layers:
                project.addMapLayer(layer, False)
                group.addLayer(layer)
                self.result_layer_ids.append(layer.id())
            if len(layers) > 1:
                group.findLayer(layers[1].id()).setItemVisibilityChecked(False)
        self._stations_on_top()
        group.setExpanded(True)  # the legend (in m³/m³) in view
        QTimer.singleShot(0, lambda: self._expand_in_layers_panel(group))
        if self.aoi is not None:
            self._zoom_to(QgsGeometry.fromWkt(self.aoi.lonlat_geometry().wkt).boundingBox(), WGS84)

    def _zoom_to_work(self, stations: QgsRectangle) -> None:
        """Zoom to the area (or, without one, to the stations), with a margin."""
        if self.aoi is not None:
            area = QgsGeometry.fromWkt(self.aoi.lonlat_geometry().wkt).boundingBox()
            self._zoom_to(area, WGS84)
        elif not stations.isEmpty():
            self._zoom_to(QgsRectangle(stations), WGS84)

    def _expand_in_layers_panel(self, group: Any) -> None:
        """Open the run's group in the Layers panel: its legend says m³/m³."""
        view = getattr(self.iface, "layerTreeView", lambda: None)()
        if view is None:
            return
        try:
            # the view's own node2index: QGIS >= 3.18 puts a proxy model between view and tree
            index_of = getattr(view, "node2index", None) or view.layerTreeModel().node2index
            view.expand(index_of(group))
            for child in group.children():
                view.expand(index_of(child))
        except (AttributeError, RuntimeError):  # the group was removed meanwhile
            return

    def _stations_on_top(self) -> None:
        """Move the stations layer to the top of the layer tree (points drawn over rasters)."""
        if not self.stations_layer_id:
            return
        root = QgsProject.instance().layerTreeRoot()
        node = root.findLayer(self.stations_layer_id)
        if node is None:
            return
        parent = node.parent()
        clone = node.clone()
        root.insertChildNode(0, clone)
        parent.removeChildNode(node)

    def _show_results(self, result: Any) -> None:
        method = self.run_method
        summary = [plain_summary(result.metrics, method), checks_summary(result.metrics)]
        if getattr(result, "simulated", False):
            summary.append(tr("Simulated demo data: not a real measurement."))
        summary.append(
            tr("Weight of the 50 m stations: {reason}").format(reason=result.alpha_reason)
        )
        summary.extend(result.warnings[:3])
        self.results_summary.setText("\n\n".join(p for p in summary if p))
        rows = metric_rows(result.metrics, method)
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
        while self.charts_layout.count():
            widget = self.charts_layout.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        for png in chart_files(result)[:DOCK_CHARTS]:
            chart = ChartLabel(png)
            if chart.is_valid():
                self.charts_layout.addWidget(chart)
        self.open_report_button.setEnabled(bool(result.report_html))
        self.report_path_label.setText(
            tr("Report: {path}").format(path=result.report_html) if result.report_html else ""
        )
        self.scroll.ensureWidgetVisible(self.results_summary, 0, 0)

    def open_report(self) -> bool:
        """Open the HTML report in the web browser; says where it is when none opens it."""
        if self.result is None or not self.result.report_html:
            return False
        path = str(self.result.report_html)
        opened = QDesktopServices.openUrl(QUrl.fromLocalFile(path))
        if not opened:
            self._show_status(
                tr("No web browser opened the report. Open this file in one: {path}").format(
                    path=path
                ),
                error=True,
            )
        return bool(opened)

    # ========================================================================= unload
    def shutdown(self) -> None:
        """Stop tasks and remove the map tool and rubber bands (plugin unload)."""
        self.save_settings()
        for task in list(self._tasks):
            task.detach()
            try:
                task.cancel()
            except RuntimeError:  # already deleted by the task manager
                pass
        if self.canvas.mapTool() is self.map_tool:
            self.canvas.unsetMapTool(self.map_tool)
        self.map_tool.remove_rubber_band()
        scene = self.canvas.scene()
        if scene is not None and self.aoi_band.scene() is scene:
            scene.removeItem(self.aoi_band)


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


def _detect_cuda(_progress: Any) -> list[tuple[str, str]]:
    """CUDA devices torch can use, as (device, name) (imports torch: run it in a task)."""
    import torch

    if not torch.cuda.is_available():
        return []
    return [
        (f"cuda:{i}" if i else "cuda", torch.cuda.get_device_name(i))
        for i in range(torch.cuda.device_count())
    ]
