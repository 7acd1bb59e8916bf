"""Raster styles for soil moisture maps: a dry-to-wet ramp (0-0.5 m3/m3) and a spread ramp.

The engine's GeoTIFF has band 1 = ensemble mean and band 2 = ensemble spread (standard
deviation), both in m3/m3. The legend entries carry the unit.
"""

from __future__ import annotations

from qgis.core import (
    QgsColorRampShader,
    QgsLayerTreeLayer,
    QgsMapLayerLegend,
    QgsRasterLayer,
    QgsRasterShader,
    QgsRasterSymbolLegendNode,
    QgsSimpleLegendNode,
    QgsSingleBandPseudoColorRenderer,
)
from qgis.PyQt.QtGui import QColor

from .compat import SHADER_INTERPOLATED
from .i18n import tr

UNIT = "m\u00b3/m\u00b3"

SOIL_MOISTURE_STOPS: tuple[tuple[float, str], ...] = (
    (0.00, "#8c510a"),  # dry: brown
    (0.10, "#d8b365"),
    (0.20, "#f6e8c3"),
    (0.30, "#c7eae5"),
    (0.40, "#5ab4ac"),
    (0.50, "#01665e"),  # wet: blue-green
)
"""Soil moisture colour stops (m3/m3): brown (dry) to blue-green (wet)."""

SPREAD_STOPS: tuple[tuple[float, str], ...] = (
    (0.00, "#fcfbfd"),
    (0.02, "#dadaeb"),
    (0.04, "#9e9ac8"),
    (0.06, "#6a51a3"),
    (0.08, "#3f007d"),
)
"""Ensemble spread colour stops (m3/m3): white (models agree) to purple (they disagree)."""


def ramp_renderer(
    layer: QgsRasterLayer, band: int, stops: tuple[tuple[float, str], ...]
) -> QgsSingleBandPseudoColorRenderer:
    """Return a single-band pseudo-colour renderer, linearly interpolated between ``stops``."""
    items = [
        QgsColorRampShader.ColorRampItem(value, QColor(colour), f"{value:.2f} {UNIT}")
        for value, colour in stops
    ]
    ramp = QgsColorRampShader(stops[0][0], stops[-1][0])
    ramp.setColorRampType(SHADER_INTERPOLATED)
    ramp.setColorRampItemList(items)
    ramp.setClip(False)
    shader = QgsRasterShader()
    shader.setRasterShaderFunction(ramp)
    renderer = QgsSingleBandPseudoColorRenderer(layer.dataProvider(), band, shader)
    renderer.setClassificationMin(stops[0][0])
    renderer.setClassificationMax(stops[-1][0])
    return renderer


class RampLegend(QgsMapLayerLegend):
    """A legend titled with the quantity and its unit, then one entry per colour stop.

    QGIS's default raster legend starts with the band name ("Band 1 (Gray)") and has no unit.
    """

    def __init__(self, title: str, stops: tuple[tuple[float, str], ...]) -> None:
        super().__init__()
        self.title = title
        self.stops = stops

    def createLayerTreeModelLegendNodes(  # noqa: N802 (QGIS API)
        self, node_layer: QgsLayerTreeLayer
    ) -> list:
        """The title node, then the colour of each stop with its value."""
        from qgis.PyQt import sip

        nodes: list = [QgsSimpleLegendNode(node_layer, self.title)]
        for value, colour in self.stops:
            nodes.append(QgsRasterSymbolLegendNode(node_layer, QColor(colour), f"{value:.2f}"))
        for node in nodes:
            sip.transferto(node, None)  # the layer tree model owns and deletes them
        return nodes


def style_soil_moisture(layer: QgsRasterLayer, band: int = 1) -> None:
    """Style a soil moisture band dry (brown) to wet (blue-green), 0-0.5 m3/m3."""
    layer.setRenderer(ramp_renderer(layer, band, SOIL_MOISTURE_STOPS))
    layer.setLegend(RampLegend(tr("Soil moisture ({unit})").format(unit=UNIT), SOIL_MOISTURE_STOPS))
    layer.triggerRepaint()


def style_spread(layer: QgsRasterLayer, band: int = 2) -> None:
    """Style the ensemble spread band, 0-0.08 m3/m3, white to purple."""
    layer.setRenderer(ramp_renderer(layer, band, SPREAD_STOPS))
    layer.setLegend(
        RampLegend(tr("Spread of the 25 models ({unit})").format(unit=UNIT), SPREAD_STOPS)
    )
    layer.triggerRepaint()


def soil_moisture_layers(path: str, name: str) -> list[QgsRasterLayer]:
    """Return the styled mean layer and, when the file has a second band, the styled spread layer.

    The layers are not added to a project (the caller does, on the main thread).
    """
    mean = QgsRasterLayer(path, name, "gdal")
    if not mean.isValid():
        return []
    style_soil_moisture(mean, 1)
    layers = [mean]
    if mean.bandCount() >= 2:
        spread = QgsRasterLayer(path, f"{name} spread", "gdal")
        style_spread(spread, 2)
        layers.append(spread)
    return layers
