"""The "Area of interest" section: draw, pick a polygon layer, type an extent or use the demo.

The section turns what the user chose into an engine AOI, shows its size (or why it cannot be
used) and warns when it leaves the demo scene; it says so with signals. The map canvas (the
drawing tool, the outline, the zoom) belongs to the dock, which listens to those signals.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsGeometry,
    QgsProject,
    QgsRectangle,
    QgsVectorLayer,
)
from qgis.gui import QgsMapLayerComboBox
from qgis.PyQt.QtCore import pyqtSignal
from qgis.PyQt.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from ....core.errors import SoilMoistureError
from ...adapters import (
    aoi_from_geometry,
    aoi_from_layer,
    area_km2,
    describe_area,
    max_aoi_km2,
    parse_extent,
)
from ...compat import FILTER_POLYGON_LAYER
from ...i18n import tr
from .common import WGS84, Section, button_grid, error_style

if TYPE_CHECKING:  # needs shapely: imported by the adapters when an area is made
    from ....core.inputs.aoi import AOI


class AreaSection(Section):
    """Where to map: the AOI and the words that describe it.

    Signals:
        drawRequested(str): the user wants to draw a ``"rectangle"`` or a ``"polygon"``.
        demoAreaRequested(): the user asked for the demo area.
        aoiChanged(object): a new AOI, or None when the chosen one cannot be used.
        zoomRequested(object, object): show this rectangle (``QgsRectangle``, its CRS).
    """

    drawRequested = pyqtSignal(str)  # noqa: N815 (Qt naming)
    demoAreaRequested = pyqtSignal()  # noqa: N815 (Qt naming)
    aoiChanged = pyqtSignal(object)  # noqa: N815 (Qt naming)
    zoomRequested = pyqtSignal(object, object)  # noqa: N815 (Qt naming)

    WIDGETS = (
        "draw_rect_button",
        "draw_poly_button",
        "demo_area_button",
        "layer_combo",
        "selected_only",
        "use_layer_button",
        "extent_edit",
        "use_extent_button",
        "area_label",
        "area_warning",
    )
    """The widgets the dock shows as its own attributes (``dock.draw_rect_button``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(tr("Area of interest"), "aoi_group", parent)
        self.aoi: AOI | None = None
        self.current_source: Callable[[], Any] = lambda: None
        """The chosen data source (the dock's source list): the demo one has a small scene."""
        self._build_buttons()
        self._build_layer_and_extent()
        self.area_label = QLabel(tr("No area yet: draw one, pick a layer or type an extent."))
        self.area_label.setWordWrap(True)
        self.area_warning = QLabel("")
        self.area_warning.setWordWrap(True)
        self.area_warning.setStyleSheet("color: #b35806;")
        self.lay.addWidget(self.area_label)
        self.lay.addWidget(self.area_warning)

    def _build_buttons(self) -> None:
        self.hint(tr("Draw on the map, or use the demo area:"))
        self.draw_rect_button = QPushButton(tr("Rectangle"))
        self.draw_rect_button.setToolTip(tr("Drag a rectangle on the map"))
        self.draw_rect_button.clicked.connect(lambda: self.drawRequested.emit("rectangle"))
        self.draw_poly_button = QPushButton(tr("Polygon"))
        self.draw_poly_button.setToolTip(
            tr("Click the vertices on the map; right-click or double-click to finish")
        )
        self.draw_poly_button.clicked.connect(lambda: self.drawRequested.emit("polygon"))
        self.demo_area_button = QPushButton(tr("Demo area"))
        self.demo_area_button.setToolTip(tr("The simulated demo scene (no account needed)"))
        self.demo_area_button.clicked.connect(self.demoAreaRequested.emit)
        self.lay.addLayout(
            button_grid([self.draw_rect_button, self.draw_poly_button, self.demo_area_button])
        )

    def _build_layer_and_extent(self) -> None:
        self.layer_combo = QgsMapLayerComboBox()
        self.layer_combo.setFilters(FILTER_POLYGON_LAYER)
        self.layer_combo.setAllowEmptyLayer(True)
        self.selected_only = QCheckBox(tr("Selected features only"))
        self.use_layer_button = QPushButton(tr("Use layer"))
        self.use_layer_button.clicked.connect(self.use_layer)
        self.lay.addWidget(QLabel(tr("Polygon layer")))
        self.lay.addWidget(self.layer_combo)
        self.lay.addWidget(self.selected_only)
        self.lay.addWidget(self.use_layer_button)
        self.extent_edit = QLineEdit()
        self.extent_edit.setPlaceholderText(tr("xmin, ymin, xmax, ymax [EPSG:4326]"))
        self.extent_edit.returnPressed.connect(self.use_typed_extent)
        self.use_extent_button = QPushButton(tr("Use extent"))
        self.use_extent_button.clicked.connect(self.use_typed_extent)
        self.lay.addWidget(QLabel(tr("Extent")))
        extent_row = QHBoxLayout()
        extent_row.addWidget(self.extent_edit, 1)
        extent_row.addWidget(self.use_extent_button)
        self.lay.addLayout(extent_row)

    # ------------------------------------------------------------------ while drawing
    def show_drawing_hint(self, mode: str) -> None:
        """Say how to draw in ``mode`` (``"rectangle"`` or ``"polygon"``)."""
        self.area_label.setText(
            tr("Drag a rectangle on the map.")
            if mode == "rectangle"
            else tr("Click the vertices; right-click or double-click to finish.")
        )

    def show_live(self, geometry: QgsGeometry, crs: QgsCoordinateReferenceSystem) -> None:
        """Show the size of the area being drawn (``geometry`` in ``crs``)."""
        if geometry.isEmpty() or geometry.area() <= 0:
            return
        text, warning = describe_area(area_km2(geometry, crs))
        self.area_label.setText(text)
        self.area_warning.setText(warning or self.outside_demo(geometry, crs))

    def outside_demo(self, geometry: QgsGeometry, crs: QgsCoordinateReferenceSystem) -> str:
        """With the demo source, say (while drawing) when the area leaves the demo scene."""
        if self.current_source() != "demo":
            return ""
        from ....core.inputs.sources.demo import DEMO_AOI_BBOX

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

    # ------------------------------------------------------------------ the AOI
    def set_aoi_geometry(
        self, geometry: QgsGeometry, crs: QgsCoordinateReferenceSystem, name: str
    ) -> bool:
        """Make ``geometry`` (in ``crs``) the AOI; shows the area or why it cannot be used."""
        try:
            aoi = aoi_from_geometry(geometry, crs, name=name)
        except SoilMoistureError as exc:
            self.set_aoi(None, str(exc))
            return False
        self.set_aoi(aoi)
        return True

    def set_aoi(self, aoi: AOI | None, error: str = "") -> None:
        """Make ``aoi`` the current one, or none with ``error`` said; emits ``aoiChanged``."""
        self.aoi = aoi
        if aoi is None:
            self.area_label.setText(tr("The area cannot be used: {error}").format(error=error))
            error_style(self.area_label, True)
            self.area_warning.setText("")
        else:
            error_style(self.area_label, False)
            self.area_label.setText(
                tr("{area:,.1f} km², {cells:,} cells of 50 m").format(
                    area=aoi.area_km2, cells=aoi.n_cells50
                )
            )
            geometry = QgsGeometry.fromWkt(aoi.lonlat_geometry().wkt)
            self.area_warning.setText(
                describe_area(aoi.area_km2, max_aoi_km2())[1] or self.outside_demo(geometry, WGS84)
            )
            box = geometry.boundingBox()
            self.extent_edit.setText(
                f"{box.xMinimum():.5f}, {box.yMinimum():.5f}, {box.xMaximum():.5f}, "
                f"{box.yMaximum():.5f} [EPSG:4326]"
            )
        self.aoiChanged.emit(aoi)

    def use_layer(self) -> None:
        """Set the AOI from the chosen polygon layer (or its selected features)."""
        layer = self.layer_combo.currentLayer()
        if not isinstance(layer, QgsVectorLayer):
            self.set_aoi(None, tr("choose a polygon layer first"))
            return
        try:
            self.set_aoi(aoi_from_layer(layer, self.selected_only.isChecked()))
        except SoilMoistureError as exc:
            self.set_aoi(None, str(exc))

    def use_typed_extent(self) -> None:
        """Set the AOI from the typed extent ``xmin, ymin, xmax, ymax [CRS]``."""
        try:
            rect, crs = parse_extent(self.extent_edit.text())
        except SoilMoistureError as exc:
            self.set_aoi(None, str(exc))
            return
        if self.set_aoi_geometry(QgsGeometry.fromRect(rect), crs, tr("typed extent")):
            self.zoomRequested.emit(rect, crs)

    def use_demo_extent(self) -> None:
        """Type the demo scene's extent and use it."""
        from ....core.inputs.sources.demo import DEMO_AOI_BBOX

        xmin, ymin, xmax, ymax = DEMO_AOI_BBOX
        self.extent_edit.setText(f"{xmin}, {ymin}, {xmax}, {ymax} [EPSG:4326]")
        self.use_typed_extent()
