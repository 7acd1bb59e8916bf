"""A map tool to draw the area of interest: a rectangle (drag) or a polygon (clicks).

Rectangle: press, drag, release. Polygon: left-click each vertex, right-click (or double-click)
to finish, Backspace removes the last vertex, Escape abandons. While drawing, the tool emits
``geometryChanged`` so the dock can show the area live; when done it emits ``aoiDrawn``.
Geometries are in the canvas CRS (``canvas.mapSettings().destinationCrs()``).
"""

from __future__ import annotations

from typing import Any

from qgis.core import QgsGeometry, QgsPointXY, QgsRectangle
from qgis.gui import QgsMapCanvas, QgsMapMouseEvent, QgsMapToolEmitPoint, QgsRubberBand
from qgis.PyQt.QtCore import Qt, pyqtSignal
from qgis.PyQt.QtGui import QColor

from ..compat import GEOMETRY_POLYGON

MODES = ("rectangle", "polygon")


def make_rubber_band(
    canvas: QgsMapCanvas, colour: str = "#2166ac", fill: bool = True
) -> QgsRubberBand:
    """Return a polygon rubber band: a translucent fill while drawing, or an outline only.

    The area of a run is shown as an outline: a fill would tint the soil moisture map below.
    """
    band = QgsRubberBand(canvas, GEOMETRY_POLYGON)
    stroke = QColor(colour)
    fill_colour = QColor(colour)
    fill_colour.setAlpha(50 if fill else 0)
    band.setStrokeColor(stroke)
    band.setFillColor(fill_colour)
    band.setWidth(2)
    return band


class AoiMapTool(QgsMapToolEmitPoint):
    """Draw a rectangle or polygon AOI on the canvas.

    Signals:
        geometryChanged(QgsGeometry): the shape being drawn (for live area display).
        aoiDrawn(QgsGeometry): the finished polygon, in the canvas CRS.
    """

    geometryChanged = pyqtSignal(QgsGeometry)  # noqa: N815 (Qt naming)
    aoiDrawn = pyqtSignal(QgsGeometry)  # noqa: N815 (Qt naming)

    def __init__(self, canvas: QgsMapCanvas, mode: str = "rectangle") -> None:
        super().__init__(canvas)
        self.canvas_ = canvas
        self.rubber_band = make_rubber_band(canvas)
        self.mode = "rectangle"
        self.set_mode(mode)
        self._start: QgsPointXY | None = None
        self._vertices: list[QgsPointXY] = []

    # -- state ------------------------------------------------------------------------------
    def set_mode(self, mode: str) -> None:
        """Switch between ``"rectangle"`` and ``"polygon"`` (drops any shape being drawn)."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        self.mode = mode
        self.reset()

    def reset(self) -> None:
        """Forget the shape being drawn."""
        self._start = None
        self._vertices = []
        self.rubber_band.reset(GEOMETRY_POLYGON)

    def remove_rubber_band(self) -> None:
        """Take the rubber band off the canvas (on unload)."""
        self.reset()
        scene = self.canvas_.scene()
        if scene is not None and self.rubber_band.scene() is scene:
            scene.removeItem(self.rubber_band)

    def _show(self, geometry: QgsGeometry) -> None:
        self.rubber_band.setToGeometry(geometry, None)
        self.geometryChanged.emit(geometry)

    def _finish(self, geometry: QgsGeometry) -> None:
        self.reset()
        if geometry is not None and not geometry.isEmpty() and geometry.area() > 0:
            self.aoiDrawn.emit(geometry)

    @staticmethod
    def _rectangle(a: QgsPointXY, b: QgsPointXY) -> QgsGeometry:
        return QgsGeometry.fromRect(QgsRectangle(a, b))

    def _polygon(self, extra: QgsPointXY | None = None) -> QgsGeometry:
        points = list(self._vertices) + ([extra] if extra is not None else [])
        if len(points) < 3:
            return QgsGeometry.fromPolylineXY(points) if len(points) == 2 else QgsGeometry()
        return QgsGeometry.fromPolygonXY([points + [points[0]]])

    # -- events -----------------------------------------------------------------------------
    def canvasPressEvent(self, event: QgsMapMouseEvent) -> None:  # noqa: N802 (Qt API)
        """Start a rectangle, or add a polygon vertex / finish the polygon."""
        point = self.toMapCoordinates(event.pos())
        if self.mode == "rectangle":
            if event.button() == Qt.MouseButton.LeftButton:
                self._start = point
            return
        if event.button() == Qt.MouseButton.RightButton:
            self._finish(self._polygon() if len(self._vertices) >= 3 else QgsGeometry())
            return
        if event.button() == Qt.MouseButton.LeftButton:
            self._vertices.append(point)
            self._show(self._polygon())

    def canvasMoveEvent(self, event: QgsMapMouseEvent) -> None:  # noqa: N802 (Qt API)
        """Follow the mouse with the rectangle or the polygon's next vertex."""
        point = self.toMapCoordinates(event.pos())
        if self.mode == "rectangle" and self._start is not None:
            self._show(self._rectangle(self._start, point))
        elif self.mode == "polygon" and self._vertices:
            geometry = self._polygon(point)
            if not geometry.isEmpty():
                self._show(geometry)

    def canvasReleaseEvent(self, event: QgsMapMouseEvent) -> None:  # noqa: N802 (Qt API)
        """Finish the rectangle."""
        if self.mode != "rectangle" or self._start is None:
            return
        if event.button() != Qt.MouseButton.LeftButton:
            return
        geometry = self._rectangle(self._start, self.toMapCoordinates(event.pos()))
        self._finish(geometry)

    def canvasDoubleClickEvent(self, event: QgsMapMouseEvent) -> None:  # noqa: N802 (Qt API)
        """Finish the polygon."""
        if self.mode == "polygon" and len(self._vertices) >= 3:
            self._finish(self._polygon())

    def keyPressEvent(self, event: Any) -> None:  # noqa: N802 (Qt API)
        """Escape abandons the shape; Backspace removes the last polygon vertex."""
        if event.key() == Qt.Key.Key_Escape:
            self.reset()
            event.accept()
        elif event.key() in (Qt.Key.Key_Backspace, Qt.Key.Key_Delete) and self._vertices:
            self._vertices.pop()
            self._show(self._polygon())
            event.accept()
        else:
            event.ignore()

    def deactivate(self) -> None:
        """Drop the shape being drawn when another tool takes over."""
        self.reset()
        super().deactivate()
