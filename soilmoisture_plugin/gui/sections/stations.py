"""The "Stations" section: station files read in a task, shown as a layer and a ticked list.

The section reads ISMN or CSV station files (in a task, through the dock's task starter), adds
them to the project as a point layer, lists each sensor with a tick box, says which stations
lie far from the area, and writes a CSV of the ticked stations for a run.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsGeometry,
    QgsPointXY,
    QgsProject,
)
from qgis.PyQt.QtCore import Qt, pyqtSignal
from qgis.PyQt.QtWidgets import QFileDialog, QLabel, QListWidget, QListWidgetItem, QPushButton

from ...adapters import expand_station_paths, station_rows, stations_layer
from ...i18n import tr
from ...settings import PluginSettings
from ...tasks import EngineTask
from .common import WGS84, Section, TaskStarter, button_grid, error_style, plural

FAR_KM = 50
"""A station further than this from the area is flagged when the stations are loaded."""
CSV_COLUMNS = [
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
"""Columns of the CSV of the ticked stations handed to a run."""


class StationsSection(Section):
    """The stations to adapt to: loaded files, their layer, and which ones are ticked.

    Signals:
        demoStationsRequested(): the user asked for the demo scene's stations.
        stationsChanged(): stations were loaded, cleared, ticked or unticked.
        layerAdded(object): the stations' new layer (``QgsVectorLayer``) is in the project.
    """

    demoStationsRequested = pyqtSignal()  # noqa: N815 (Qt naming)
    stationsChanged = pyqtSignal()  # noqa: N815 (Qt naming)
    layerAdded = pyqtSignal(object)  # noqa: N815 (Qt naming)

    WIDGETS = (
        "add_files_button",
        "add_folder_button",
        "demo_stations_button",
        "clear_stations_button",
        "station_list",
        "station_label",
    )
    """The widgets the dock shows as its own attributes (``dock.add_files_button``)."""

    def __init__(self, settings: PluginSettings, start_task: TaskStarter) -> None:
        super().__init__(tr("Stations"), "stations_group")
        self.settings = settings
        self.start_task = start_task
        self.current_aoi: Callable[[], Any] = lambda: None
        """The dock's area of interest (far stations are flagged against it)."""
        self.station_data: Any = None
        self.station_files: list[Path] = []
        self.stations_layer_id: str | None = None
        self.rows: list[dict[str, Any]] = []
        self._text = ""
        self._build_buttons()
        self.station_list = QListWidget()
        self.station_list.setObjectName("station_list")
        self.station_list.setMinimumHeight(90)
        self.station_list.setWordWrap(True)  # long station names wrap, no sideways scrolling
        self.station_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.station_list.itemChanged.connect(lambda _item: self.stationsChanged.emit())
        self.lay.addWidget(self.station_list)
        self.station_label = QLabel(tr("No stations loaded."))
        self.station_label.setWordWrap(True)
        self.lay.addWidget(self.station_label)

    def _build_buttons(self) -> None:
        self.hint(tr("Add ISMN or CSV station files:"))
        self.add_files_button = QPushButton(tr("Files…"))
        self.add_files_button.setToolTip(tr("ISMN .stm files, ISMN .zip downloads or station CSVs"))
        self.add_files_button.clicked.connect(self._choose_station_files)
        self.add_folder_button = QPushButton(tr("Folder…"))
        self.add_folder_button.clicked.connect(self._choose_station_folder)
        self.demo_stations_button = QPushButton(tr("Demo"))
        self.demo_stations_button.setToolTip(tr("The demo scene's simulated stations"))
        self.demo_stations_button.clicked.connect(self.demoStationsRequested.emit)
        self.clear_stations_button = QPushButton(tr("Clear"))
        self.clear_stations_button.clicked.connect(self.clear)
        self.lay.addLayout(
            button_grid(
                [
                    self.add_files_button,
                    self.add_folder_button,
                    self.demo_stations_button,
                    self.clear_stations_button,
                ]
            )
        )

    def _choose_station_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self,
            tr("Station files"),
            self.settings.get("last_station_dir"),
            tr("Station files (*.stm *.csv *.txt *.zip);;All files (*)"),
        )
        if files:
            self.settings.set("last_station_dir", str(Path(files[0]).parent))
            self.load([Path(f) for f in files])

    def _choose_station_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, tr("Folder of station files"), self.settings.get("last_station_dir")
        )
        if folder:
            self.settings.set("last_station_dir", folder)
            self.load([Path(folder)])

    # ------------------------------------------------------------------ loading
    def load(self, paths: list[Path]) -> EngineTask:
        """Read station files in a task, then show them as a layer and a checkable list."""
        from ....core.inputs.stations import read_station_files

        files = self.station_files + [p for p in paths if p not in self.station_files]
        self.station_label.setText(tr("Reading station files…"))
        error_style(self.station_label, False)
        task = EngineTask(
            tr("Reading station files"),
            lambda progress: read_station_files(files, progress=progress),
            lambda data: self.show_loaded(files, data),
            lambda message, _cancelled: self.show_error(message),
        )
        return self.start_task(task)

    def show_error(self, message: str) -> None:
        """Say why the stations could not be read."""
        self.station_label.setText(message)
        error_style(self.station_label, True)

    def show_loaded(self, files: list[Path], data: Any) -> None:
        """Show stations read from ``files``: a layer, the ticked list and what was read."""
        self.station_files = files
        self.station_data = data
        rows = station_rows(data)
        self._replace_layer(rows)
        self.rows = rows
        self._fill_list(rows)
        self._text = self._loaded_text(files, rows, data.warnings)
        self.station_label.setText(self._text)
        error_style(self.station_label, False)
        self.flag_far_stations()
        self.stationsChanged.emit()

    def _replace_layer(self, rows: list[dict[str, Any]]) -> None:
        self._remove_layer()
        layer = stations_layer(rows)
        # rebuilt from the station files at any time: QGIS need not ask to save it on quit
        layer.setCustomProperty("skipMemoryLayersCheck", 1)
        QgsProject.instance().addMapLayer(layer)
        self.stations_layer_id = layer.id()
        self.layerAdded.emit(layer)

    def _fill_list(self, rows: list[dict[str, Any]]) -> None:
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

    @staticmethod
    def _loaded_text(files: list[Path], rows: list[dict[str, Any]], warnings: list[str]) -> str:
        n_stations = len({(r["network"], r["station"]) for r in rows})
        text = tr("{stations} ({sensors}) from {inputs}.").format(
            stations=plural(n_stations, tr("1 station"), tr("{n} stations")),
            sensors=plural(len(rows), tr("1 sensor"), tr("{n} sensors")),
            inputs=plural(len(files), tr("1 file"), tr("{n} files")),
        )
        if warnings:
            text += " " + tr("{n} warnings: {first}").format(n=len(warnings), first=warnings[0])
        return text

    def flag_far_stations(self) -> list[tuple[str, float]]:
        """Say which loaded stations lie far from the area (a wrong file, or a wrong area).

        Returns:
            (station, distance in km) of the stations more than :data:`FAR_KM` away.
        """
        aoi = self.current_aoi()
        if not self.rows or aoi is None:
            return []
        far = far_stations(self.rows, aoi)
        text = self._text
        if far:
            names = ", ".join(f"{name} ({km:,.0f} km)" for name, km in far[:3])
            text += " " + tr(
                "{count} far from the area (more than {limit} km): {names}. Stations outside "
                "the area are not used; check the files or the area."
            ).format(
                count=plural(len(far), tr("1 station is"), tr("{n} stations are")),
                limit=FAR_KM,
                names=names,
            )
        self.station_label.setText(text)
        error_style(self.station_label, bool(far))
        return far

    def _remove_layer(self) -> None:
        if self.stations_layer_id and QgsProject.instance().mapLayer(self.stations_layer_id):
            QgsProject.instance().removeMapLayer(self.stations_layer_id)
        self.stations_layer_id = None

    def clear(self) -> None:
        """Forget the loaded stations and remove their layer."""
        self.station_files = []
        self.station_data = None
        self.rows = []
        self._text = ""
        self.station_list.clear()
        self._remove_layer()
        self.station_label.setText(tr("No stations loaded."))
        error_style(self.station_label, False)
        self.stationsChanged.emit()

    # ------------------------------------------------------------------ the run's stations
    def checked_stations(self) -> set[tuple[str, str]]:
        """(network, station) of the ticked stations."""
        keys = set()
        for i in range(self.station_list.count()):
            item = self.station_list.item(i)
            if item.checkState() == Qt.CheckState.Checked:
                keys.add(tuple(item.data(Qt.ItemDataRole.UserRole)))
        return keys

    def station_inputs(self, run_dir: Path) -> tuple[Path, ...]:
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
        table[CSV_COLUMNS].to_csv(path, index=False)
        return (path,)


def far_stations(rows: list[dict[str, Any]], aoi: Any) -> list[tuple[str, float]]:
    """(station, km) of the stations more than :data:`FAR_KM` from ``aoi``, furthest first."""
    ease = QgsCoordinateReferenceSystem("EPSG:6933")
    to_ease = QgsCoordinateTransform(WGS84, ease, QgsProject.instance())
    area = QgsGeometry.fromWkt(aoi.lonlat_geometry().wkt)
    area.transform(to_ease)
    far: dict[str, float] = {}
    for row in rows:
        point = QgsGeometry.fromPointXY(QgsPointXY(row["lon"], row["lat"]))
        point.transform(to_ease)
        km = area.distance(point) / 1000.0
        if km > FAR_KM:
            far[row["station"]] = max(km, far.get(row["station"], 0.0))
    return sorted(far.items(), key=lambda kv: -kv[1])
