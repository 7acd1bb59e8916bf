"""The dock at laptop size: narrow, run controls always visible, inputs that do not change alone."""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from qgis.PyQt.QtCore import QPoint, QPointF, Qt
from qgis.PyQt.QtGui import QWheelEvent
from qgis.PyQt.QtWidgets import QApplication, QPushButton

from .conftest import module

LAPTOP_DOCK_WIDTH = 300
"""What QGIS gives a right-hand dock at 1280 x 800 next to the layers panel and the map."""


@pytest.fixture()
def dock(plugin_package: ModuleType, qgis_iface: Any, clean_project: None) -> Iterator[Any]:
    plugin = plugin_package.classFactory(qgis_iface)
    plugin.initGui()
    dock = plugin.show_dock()
    dock.resize(LAPTOP_DOCK_WIDTH, 760)
    dock.show()
    QApplication.processEvents()
    yield dock
    plugin.unload()


def test_everything_fits_the_width_of_a_laptop_dock(dock: Any) -> None:
    needed = dock.body.minimumSizeHint().width()
    available = dock.scroll.viewport().width()
    assert needed <= available, (needed, available)
    assert dock.scroll.horizontalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff
    for button in dock.body.findChildren(QPushButton):
        if button.isVisible():
            right = button.mapTo(dock.body, QPoint(button.width(), 0)).x()
            assert right <= available + 1, button.text()


def test_run_controls_stay_visible_whatever_is_scrolled(dock: Any) -> None:
    assert not dock.scroll.isAncestorOf(dock.run_button)
    assert not dock.scroll.isAncestorOf(dock.cancel_button)
    assert not dock.scroll.isAncestorOf(dock.progress_bar)
    dock.scroll.verticalScrollBar().setValue(dock.scroll.verticalScrollBar().maximum())
    QApplication.processEvents()
    assert dock.run_button.isVisible() and dock.progress_bar.isVisible()
    assert dock.run_button.visibleRegion().boundingRect().height() == dock.run_button.height()


def wheel(widget: Any, steps: int = -3) -> None:
    center = QPointF(widget.width() / 2, widget.height() / 2)
    event = QWheelEvent(
        center,
        QPointF(widget.mapToGlobal(center.toPoint())),
        QPoint(0, 0),
        QPoint(0, 120 * steps),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


def test_wheel_scrolls_the_dock_not_an_unfocused_spin_box(dock: Any) -> None:
    dock.epochs_spin.setValue(50)
    dock.epochs_spin.clearFocus()
    bar = dock.scroll.verticalScrollBar()
    bar.setValue(0)
    wheel(dock.epochs_spin)
    assert dock.epochs_spin.value() == 50
    assert bar.value() > 0  # the dock scrolled instead
    method = dock.method_combo.currentIndex()
    wheel(dock.method_combo)
    assert dock.method_combo.currentIndex() == method


def test_results_are_named_in_plain_words(plugin_package: ModuleType) -> None:
    results = module("soilmoisture_plugin.gui.results")
    metrics = {
        "held_out": {"adapted_cv": "msda", "random_forest": "random_forest", "xgboost": "xgboost"},
        "methods": {
            "adapted_cv": {"pooled": {"n": 90, "r": 0.7, "rmse": 0.052}},
            "random_forest": {"pooled": {"n": 90, "r": 0.8, "rmse": 0.041}},
            "xgboost": {"pooled": {"n": 90, "r": 0.78, "rmse": 0.044}},
            "smap_9km": {"pooled": {"n": 90, "r": 0.5, "rmse": 0.071}},
            "adapted_in_sample": {"pooled": {"n": 90, "r": 0.9, "rmse": 0.021}},
        },
    }
    text = results.plain_summary(metrics, "msda")
    assert text.startswith(
        "At stations left out of training, the most accurate is the random forest (RMSE 0.041"
    )
    assert (
        "The adapted map (0.052) is less accurate than random forest (0.041), XGBoost (0.044)"
        in text
    )
    assert "it beats SMAP 9 km (0.071)" in text
    assert "0.021" not in text  # the in-sample fit is no held-out score
    metrics["methods"]["adapted_cv"]["pooled"]["rmse"] = 0.030
    text = results.plain_summary(metrics, "msda")
    assert "most accurate is the adapted map (MSDA) (RMSE 0.030" in text
    assert "beats random forest (0.041), XGBoost (0.044), SMAP 9 km (0.071)" in text
    rows = module("soilmoisture_plugin.gui.dock").metric_rows(metrics, "msda")
    labels = [r[0] for r in rows]
    assert labels[0] == "adapted map (MSDA) (held out)"
    assert "SMAP 9 km" in labels and not any("_" in label for label in labels)
    no_cv = {"methods": {"adapted_in_sample": {"pooled": {"rmse": 0.021}}}, "held_out": {}}
    assert results.plain_summary(no_cv).startswith("No held-out check was run")


def test_map_legend_has_the_unit_and_no_band_name(
    plugin_package: ModuleType, tmp_path: Any, clean_project: None
) -> None:
    import numpy as np
    from osgeo import gdal
    from qgis.core import QgsLayerTreeModel, QgsProject

    path = str(tmp_path / "sm.tif")
    ds = gdal.GetDriverByName("GTiff").Create(path, 4, 4, 2, gdal.GDT_Float32)
    ds.SetGeoTransform((0, 0.001, 0, 0, 0, -0.001))
    ds.GetRasterBand(1).WriteArray(np.full((4, 4), 0.25, dtype=np.float32))
    ds.GetRasterBand(2).WriteArray(np.full((4, 4), 0.02, dtype=np.float32))
    ds = None
    styling = module("soilmoisture_plugin.styling")
    layers = styling.soil_moisture_layers(path, "Soil moisture 2023-05-01")
    assert len(layers) == 2
    project = QgsProject.instance()
    for layer in layers:
        project.addMapLayer(layer)
    model = QgsLayerTreeModel(project.layerTreeRoot())
    texts = []
    for layer in layers:
        node = project.layerTreeRoot().findLayer(layer.id())
        texts.append([n.data(Qt.ItemDataRole.DisplayRole) for n in model.layerLegendNodes(node)])
    assert texts[0][0] == "Soil moisture (m³/m³)" and texts[0][1:] == [
        "0.00",
        "0.10",
        "0.20",
        "0.30",
        "0.40",
        "0.50",
    ]
    assert texts[1][0] == "Spread of the 25 models (m³/m³)"
    assert not any("Gray" in t or "Band" in t for t in texts[0] + texts[1])
