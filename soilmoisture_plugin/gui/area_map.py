"""The area of interest on the map canvas: the drawing tool, the area's outline, the zoom.

:class:`AreaOnMap` connects the AOI map tool to the dock's area section (a drawn shape becomes
the area; its size shows while drawing), outlines the chosen area on the canvas and zooms the
canvas in the canvas's own CRS.
"""

from __future__ import annotations

from typing import Any

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsGeometry,
    QgsProject,
    QgsRectangle,
)

from ..i18n import tr
from .maptool import AoiMapTool, make_rubber_band
from .sections.area import AreaSection
from .sections.common import WGS84


class AreaOnMap:
    """The map side of the area section: drawing, outline and zoom on ``canvas``."""

    def __init__(self, canvas: Any, area: AreaSection) -> None:
        self.canvas = canvas
        self.area = area
        self.map_tool = AoiMapTool(canvas)
        self.map_tool.geometryChanged.connect(
            lambda geometry: area.show_live(geometry, self.canvas_crs())
        )
        self.map_tool.aoiDrawn.connect(self._drawn)
        self.aoi_band = make_rubber_band(canvas, "#b2182b", fill=False)
        self._previous_tool: Any = None

    def canvas_crs(self) -> QgsCoordinateReferenceSystem:
        """The canvas's CRS (WGS 84 when it has none)."""
        crs = self.canvas.mapSettings().destinationCrs()
        return crs if crs.isValid() else WGS84

    def start_draw(self, mode: str) -> None:
        """Activate the AOI map tool in ``mode`` (``"rectangle"`` or ``"polygon"``)."""
        self.map_tool.set_mode(mode)
        if self.canvas.mapTool() is not self.map_tool:
            self._previous_tool = self.canvas.mapTool()
            self.canvas.setMapTool(self.map_tool)
        self.area.show_drawing_hint(mode)

    def _drawn(self, geometry: QgsGeometry) -> None:
        """A shape was drawn: it becomes the area, and the previous map tool comes back."""
        self.area.set_aoi_geometry(geometry, self.canvas_crs(), tr("drawn area"))
        if self._previous_tool is not None and self._previous_tool is not self.map_tool:
            self.canvas.setMapTool(self._previous_tool)
        else:
            self.canvas.unsetMapTool(self.map_tool)
        self._previous_tool = None

    def outline(self, aoi: Any) -> None:
        """Outline ``aoi`` on the canvas (nothing when it is None)."""
        self.aoi_band.reset()
        if aoi is None:
            return
        geometry = QgsGeometry.fromWkt(aoi.lonlat_geometry().wkt)
        target = self.canvas_crs()
        if target != WGS84:
            geometry.transform(QgsCoordinateTransform(WGS84, target, QgsProject.instance()))
        self.aoi_band.setToGeometry(geometry, None)

    def zoom_to(self, rect: QgsRectangle, crs: QgsCoordinateReferenceSystem) -> None:
        """Show ``rect`` (in ``crs``) with a margin."""
        target = self.canvas_crs()
        if crs != target:
            rect = QgsCoordinateTransform(crs, target, QgsProject.instance()).transformBoundingBox(
                rect
            )
        rect.scale(1.2)
        self.canvas.setExtent(rect)
        self.canvas.refresh()

    def zoom_to_area(self, aoi: Any) -> None:
        """Show the whole of ``aoi``, with a margin."""
        self.zoom_to(QgsGeometry.fromWkt(aoi.lonlat_geometry().wkt).boundingBox(), WGS84)

    def zoom_to_work(self, stations: QgsRectangle) -> None:
        """Zoom to the area (or, without one, to the stations), with a margin."""
        if self.area.aoi is not None:
            self.zoom_to_area(self.area.aoi)
        elif not stations.isEmpty():
            self.zoom_to(QgsRectangle(stations), WGS84)

    def remove(self) -> None:
        """Take the map tool and the rubber bands off the canvas (plugin unload)."""
        if self.canvas.mapTool() is self.map_tool:
            self.canvas.unsetMapTool(self.map_tool)
        self.map_tool.remove_rubber_band()
        scene = self.canvas.scene()
        if scene is not None and self.aoi_band.scene() is scene:
            scene.removeItem(self.aoi_band)
