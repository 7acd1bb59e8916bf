"""The "Soil Moisture" dock: its sections composed on one panel, and the run wired through them.

Each part of the workflow is a section of its own (:mod:`soilmoisture_plugin.gui.sections`):
area, stations, dates, options, Earth Engine, run and results. The dock lays them out, owns
what they share (the map canvas, the drawing tool, the tasks, the settings) and runs
Adapt & Map. Everything slow (reading stations, listing Sentinel-1 dates, Earth Engine sign-in,
detecting a GPU, the run itself) runs in an :class:`~soilmoisture_plugin.tasks.EngineTask`;
the dock only reacts to the tasks' results on the main thread, so the GUI stays responsive.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qgis.core import (
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsGeometry,
)
from qgis.gui import QgsDockWidget
from qgis.PyQt.QtCore import QEvent, Qt, QTimer, pyqtSignal
from qgis.PyQt.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QFormLayout,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from ...core.errors import SoilMoistureError
from ..deps import DependencyReport
from ..i18n import tr
from ..settings import PluginSettings
from ..tasks import EngineTask
from .area_map import AreaOnMap
from .run_layers import add_run_group, expand_in_layers_panel, move_to_top, run_group_name
from .sections import (
    AreaSection,
    DatesSection,
    EarthEngineSection,
    MethodSection,
    ResultsSection,
    RunSection,
    StationsSection,
    blocked_reason,
)
from .sections.common import Section, plural, select_data
from .sections.method import detect_cuda

if TYPE_CHECKING:  # needs shapely: imported by the adapters when an area is made
    from ...core.inputs.aoi import AOI


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
        self.run_task: EngineTask | None = None
        self.run_dir: Path | None = None
        self.run_method = ""
        self.result: Any = None
        self.result_layer_ids: list[str] = []
        self._tasks: set[EngineTask] = set()
        self._device_checked = False
        self._build()
        self._wire()
        self._restore_settings()
        self._update_run_state()

    # =========================================================================== layout
    def _build(self) -> None:
        self.area_section = AreaSection()
        self.stations_section = StationsSection(self.settings, self._start_task)
        self.dates_section = DatesSection(self._start_task)
        self.method_section = MethodSection()
        self.ee_section = EarthEngineSection(
            self.settings, self._start_task, self.dependencies.earthengine
        )
        self.results_section = ResultsSection()
        self.run_section = RunSection()
        self.results_group = self.results_section
        self.area_map = AreaOnMap(self.canvas, self.area_section)
        self.map_tool, self.aoi_band = self.area_map.map_tool, self.area_map.aoi_band
        body = QWidget()
        body.setObjectName("dock_body")
        layout = QVBoxLayout(body)
        for section in (
            self.area_section,
            self.stations_section,
            self.dates_section,
            self.method_section,
            self.ee_section,
            self.results_section,
        ):
            layout.addWidget(section)
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
        outer.addWidget(self.run_section)
        self.setWidget(container)
        self.body = body
        self._fit_inputs(body)
        for section in body.findChildren(Section) + [self.run_section]:
            for name in section.WIDGETS:  # dock.run_button, dock.area_label, ...
                setattr(self, name, getattr(section, name))

    def _fit_inputs(self, body: QWidget) -> None:
        """Inputs that change only with focus, lists that shrink, forms that wrap (laptops)."""
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

    def _wire(self) -> None:
        """Connect the sections to each other and to the map, through the dock."""
        area, stations, dates = self.area_section, self.stations_section, self.dates_section
        area.current_source = self.method_section.source
        stations.current_aoi = dates.current_aoi = lambda: self.aoi
        dates.current_source = self.method_section.source
        area.drawRequested.connect(self.start_draw)
        area.demoAreaRequested.connect(self.use_demo_area)
        area.aoiChanged.connect(self._aoi_changed)
        area.zoomRequested.connect(self.area_map.zoom_to)
        stations.demoStationsRequested.connect(self.load_demo_stations)
        stations.stationsChanged.connect(self._update_run_state)
        # QGIS zooms onto the first layer of a project (stations on the edge): show the area
        stations.layerAdded.connect(
            lambda layer: QTimer.singleShot(0, lambda: self.area_map.zoom_to_work(layer.extent()))
        )
        self.method_section.sourceChanged.connect(self._source_changed)
        self.method_section.packagesRequested.connect(self.packagesRequested.emit)
        self.run_section.runRequested.connect(lambda: self.start_run())
        self.run_section.cancelRequested.connect(self.cancel_run)
        self.results_section.problem.connect(lambda text: self._show_status(text, error=True))

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

    # ========================================================================= state
    @property
    def aoi(self) -> AOI | None:
        """The area of interest (None until one is chosen)."""
        return self.area_section.aoi

    @property
    def station_data(self) -> Any:
        """The loaded stations (the engine's station data), or None."""
        return self.stations_section.station_data

    @property
    def station_files(self) -> list[Path]:
        """The station files loaded so far."""
        return self.stations_section.station_files

    @property
    def stations_layer_id(self) -> str | None:
        """The id of the stations' layer in the project, or None."""
        return self.stations_section.stations_layer_id

    @property
    def acquisitions(self) -> list[Any]:
        """The Sentinel-1 acquisitions listed in the dates section."""
        return self.dates_section.acquisitions

    @property
    def _sign_in_task(self) -> EngineTask | None:
        return self.ee_section.sign_in_task

    def set_dependencies(self, report: DependencyReport) -> None:
        """Use a new dependency report (after the packages were installed)."""
        self.dependencies = report
        if report.earthengine:
            self.ee_section.set_available()
        self._update_run_state()

    # ========================================================================= settings
    def _restore_settings(self) -> None:
        self.method_section.restore(self.settings)
        self.ee_section.restore(self.settings)

    def save_settings(self) -> None:
        """Persist the choices the user is likely to reuse."""
        self.method_section.save(self.settings)
        self.ee_section.save(self.settings)

    @staticmethod
    def _select(combo: QComboBox, data: Any) -> None:
        select_data(combo, data)

    def _output_root(self) -> Path:
        return self.method_section.output_root(self.settings.get("last_output_dir"))

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
                    detect_cuda,
                    self.method_section.add_devices,
                    lambda _msg, _c: None,
                    can_cancel=False,
                )
            )

    # ========================================================================= area and map
    def start_draw(self, mode: str) -> None:
        """Activate the AOI map tool in ``mode`` (``"rectangle"`` or ``"polygon"``)."""
        self.area_map.start_draw(mode)

    def set_aoi_geometry(
        self, geometry: QgsGeometry, crs: QgsCoordinateReferenceSystem, name: str
    ) -> bool:
        """Make ``geometry`` (in ``crs``) the AOI; shows the area or why it cannot be used."""
        return self.area_section.set_aoi_geometry(geometry, crs, name)

    def set_aoi(self, aoi: AOI) -> None:
        """Make an engine AOI the current one (demo area, tests)."""
        self.area_section.set_aoi(aoi)

    def _aoi_changed(self, aoi: AOI | None) -> None:
        """A new area (or none): its outline on the map, far stations flagged, run state."""
        if aoi is not None:
            if self.run_task is None:
                self._show_status("")
            self.stations_section.flag_far_stations()
        self.area_map.outline(aoi)
        self._update_run_state()

    def use_layer(self) -> None:
        """Set the AOI from the chosen polygon layer (or its selected features)."""
        self.area_section.use_layer()

    def use_typed_extent(self) -> None:
        """Set the AOI from the typed extent ``xmin, ymin, xmax, ymax [CRS]``."""
        self.area_section.use_typed_extent()

    def use_demo_area(self) -> None:
        """Use the demo scene's area, the demo source, and the map zoomed onto it."""
        from ...core.inputs.sources.demo import acquisition_dates

        self._select(self.source_combo, "demo")
        self.area_section.use_demo_extent()
        self.dates_section.move_into_demo_period(acquisition_dates())

    # ========================================================================= stations, dates
    def load_demo_stations(self) -> EngineTask | None:
        """Write the demo scene's stations under the output folder and load them (a task)."""
        from ...core.inputs.sources.demo import write_demo_stations

        folder = self._output_root() / "demo_stations"
        try:
            write_demo_stations(folder)
        except (OSError, SoilMoistureError) as exc:
            self.stations_section.show_error(str(exc))
            return None
        return self.load_stations([folder])

    def load_stations(self, paths: list[Path]) -> EngineTask:
        """Read station files in a task, then show them as a layer and a checkable list."""
        return self.stations_section.load(paths)

    def clear_stations(self) -> None:
        """Forget the loaded stations and remove their layer."""
        self.stations_section.clear()

    def checked_stations(self) -> set[tuple[str, str]]:
        """(network, station) of the ticked stations."""
        return self.stations_section.checked_stations()

    def _station_inputs(self, run_dir: Path) -> tuple[Path, ...]:
        return self.stations_section.station_inputs(run_dir)

    def find_dates(self) -> EngineTask | None:
        """List the Sentinel-1 acquisitions near the picked date (a task)."""
        return self.dates_section.find_dates()

    def map_dates(self) -> tuple[dt.date, ...]:
        """Return the ticked acquisition dates, or else the date picker's date."""
        return self.dates_section.map_dates()

    def _source_changed(self) -> None:
        if self.source_combo.currentData() == "gee" and not self.dependencies.earthengine:
            self.status_label.setText(
                tr(
                    "The Earth Engine source needs earthengine-api: install it with Options > "
                    "Python packages…"
                )
            )
        self._update_run_state()

    # ========================================================================= Earth Engine
    def ee_connect(self, force: bool = False) -> EngineTask:
        """Start an Earth Engine session with the saved credentials (a task)."""
        return self.ee_section.ee_connect(force)

    def ee_sign_in(self) -> EngineTask | None:
        """Sign in through the browser, then connect; a second call cancels the wait."""
        return self.ee_section.ee_sign_in()

    def ee_check(self) -> EngineTask:
        """Run the Earth Engine connection check (``soilmoisture ee-check``) as a task."""
        return self.ee_section.ee_check()

    # ========================================================================= run
    def _update_run_state(self) -> None:
        reason = blocked_reason(
            self.dependencies,
            self.source_combo.currentData(),
            self.aoi is not None,
            bool(self.checked_stations()),
        )
        self.run_section.set_state(self.run_task is not None, reason)

    def build_config(self) -> Any:
        """Return the engine configuration from the dock (validated by the engine).

        Raises:
            SoilMoistureError: A missing or invalid choice (the engine's message).

        """
        from ...core.errors import InputError
        from ...core.run.config import AdaptMapConfig

        if self.aoi is None:
            raise InputError(tr("Choose an area of interest first."))
        if not self.checked_stations():
            raise InputError(tr("Load stations and tick at least one."))
        run_dir = self._output_root() / dt.datetime.now().strftime("run-%Y%m%d-%H%M%S")
        stations = self._station_inputs(run_dir)
        train_start, train_end = self.dates_section.training_period()
        options = self.method_section
        return AdaptMapConfig(
            aoi=self.aoi,
            stations=stations,
            dates=self.map_dates(),
            out_dir=run_dir,
            source=options.source(),
            method=options.method(),
            alpha=options.alpha(),
            device=options.device(),
            train_start=train_start,
            train_end=train_end,
            epochs=options.epochs(),
            batchnorm=options.batchnorm(),
            **options.consistency(),
        )

    def start_run(self, config: Any = None) -> EngineTask | None:
        """Start "Adapt & Map" in a task (``config`` overrides the dock's choices, for tests)."""
        from ...core.run.adapt_map import run_adapt_map

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
            self.run_section.cancelling()
            self.run_task.cancel()

    def _show_status(self, text: str, error: bool = False) -> None:
        self.run_section.show_status(text, error)

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
        self.results_section.show_result(result, self.run_method)
        self.scroll.ensureWidgetVisible(self.results_summary, 0, 0)
        self._update_run_state()

    def run_group_name(self, result: Any) -> str:
        """Name of a run's layer group: its dates, its method and when it ran (unique)."""
        return run_group_name(result, self.run_method)

    def _add_result_layers(self, result: Any) -> None:
        """One group per run, stations above the rasters, the map zoomed to the area."""
        group, layer_ids = add_run_group(
            result, self.run_method, lambda text: self._show_status(text, True)
        )
        self.result_layer_ids.extend(layer_ids)
        move_to_top(self.stations_layer_id)
        group.setExpanded(True)  # the legend (in m³/m³) in view
        QTimer.singleShot(0, lambda: expand_in_layers_panel(self.iface, group))
        if self.aoi is not None:
            self.area_map.zoom_to_area(self.aoi)

    def open_report(self) -> bool:
        """Open the HTML report in the web browser; says where it is when none opens it."""
        return self.results_section.open_report()

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
        self.area_map.remove()
