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
        "At stations left out of training, the most accurate is random forest (RMSE 0.041"
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
    rows = module("soilmoisture_plugin.gui.sections.results").metric_rows(metrics, "msda")
    labels = [r[0] for r in rows]
    assert labels[0] == "MSDA map, held out"
    assert "SMAP 9 km" in labels and not any("_" in label for label in labels)
    # the run recommends the map's SMAP blend: the summary speaks of it, not of the map alone
    metrics["methods"]["adapted_cv"]["pooled"]["rmse"] = 0.052
    metrics["methods"]["adapted_smap_blend"] = {"pooled": {"n": 90, "r": 0.8, "rmse": 0.043}}
    metrics["held_out"]["adapted_smap_blend"] = "adapted_smap_blend"
    metrics["smap_blend"] = {"map": {"weight": 0.4, "recommended": "blend"}}
    text = results.plain_summary(metrics, "msda")
    assert (
        "The adapted map blended with SMAP (0.043) is less accurate than random forest (0.041); "
        "it beats XGBoost (0.044), SMAP 9 km (0.071)." in text
    )
    assert "0.052" not in text
    rows = module("soilmoisture_plugin.gui.sections.results").metric_rows(metrics, "msda")
    assert "MSDA+SMAP, held out" in [r[0] for r in rows]
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


def test_inputs_change_only_when_the_user_changes_them(dock: Any) -> None:
    import datetime as dt

    from qgis.PyQt.QtCore import QDate
    from qgis.PyQt.QtWidgets import QTreeWidgetItem

    # a date inside the demo period survives "Demo area"; one outside is moved, and said so
    dates = module("core.inputs.sources.demo").acquisition_dates()
    inside = dates[1]
    dock.date_edit.setDate(QDate(inside.year, inside.month, inside.day))
    dock.use_demo_area()
    assert dock.date_edit.date().toPyDate() == inside
    dock.date_edit.setDate(QDate(1999, 1, 1))
    dock.use_demo_area()
    assert dates[0] <= dock.date_edit.date().toPyDate() <= dates[-1]
    assert "demo scene covers" in dock.dates_label.text()
    # the extent box follows the area; a typed extent becomes the area
    assert dock.extent_edit.text().endswith("[EPSG:4326]")
    dock.extent_edit.setText("10.0, 45.0, 10.1, 45.05")
    dock.use_typed_extent()
    assert dock.aoi is not None and abs(dock.aoi.area_km2 - 43.8) < 2
    assert dock.extent_edit.text().startswith("10.00000, 45.00000")
    # listed acquisitions belong to one date: changing the date clears them
    dock.dates_tree.addTopLevelItem(QTreeWidgetItem(["2020-01-01", "Ascending", "1", "100 %"]))
    dock.date_edit.setDate(dock.date_edit.date().addDays(3))
    assert dock.dates_tree.topLevelItemCount() == 0
    assert isinstance(dock.date_edit.date().toPyDate(), dt.date)


def test_stations_far_from_the_area_are_flagged_on_load(
    dock: Any, qtbot: Any, tmp_path: Any
) -> None:
    csv = tmp_path / "stations.csv"
    rows = ["station,lat,lon,timestamp,sm"]
    for day in range(1, 11):
        rows.append(f"NEAR,45.02,10.05,2023-05-{day:02d}T06:00:00Z,0.25")
        rows.append(f"PARIS,48.85,2.35,2023-05-{day:02d}T06:00:00Z,0.20")
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    dock.extent_edit.setText("10.0, 45.0, 10.1, 45.05")
    dock.use_typed_extent()
    task = dock.load_stations([csv])
    qtbot.waitUntil(lambda: task.done, timeout=60_000)
    text = dock.station_label.text()
    assert "2 stations (2 sensors) from 1 file." in text, text
    assert "1 station is far from the area (more than 50 km): PARIS (" in text, text
    assert "NEAR" not in text.split("far from the area")[1]
    from qgis.core import QgsProject

    layer = QgsProject.instance().mapLayer(dock.stations_layer_id)
    assert layer.customProperty("skipMemoryLayersCheck") == 1  # no "save?" question on quit
    # the view stays on the area (QGIS would zoom onto the first layer: the far stations)
    qtbot.wait(100)
    from qgis.core import QgsRectangle

    extent = dock.canvas.extent()
    assert extent.contains(QgsRectangle(10.0, 45.0, 10.1, 45.05)), extent.toString()
    assert not extent.contains(QgsRectangle(2.3, 48.8, 2.4, 48.9))


def test_an_area_outside_the_demo_scene_is_said_while_drawing(dock: Any) -> None:
    dock.use_demo_area()
    assert dock.area_warning.text() == ""
    xmin, ymin, xmax, ymax = module("core.inputs.sources.demo").DEMO_AOI_BBOX
    dock.extent_edit.setText(f"{xmax - 0.01}, {ymin}, {xmax + 0.05}, {ymax}")
    dock.use_typed_extent()
    assert dock.area_warning.text().startswith("The demo scene only covers longitudes")
    assert "EASE" not in dock.area_warning.text()


def test_a_cancel_is_not_reported_as_a_failed_task(
    plugin_package: ModuleType, qgis_app: Any, qtbot: Any
) -> None:
    from qgis.core import QgsApplication, QgsTask

    tasks = module("soilmoisture_plugin.tasks")
    errors = module("core.errors")
    seen: list[tuple[str, bool]] = []

    def work(progress: Any) -> None:
        raise errors.Cancelled("Cancelled; nothing half-written was kept.")

    task = tasks.EngineTask("cancel me", work, on_failure=lambda m, c: seen.append((m, c)))
    statuses: list[int] = []
    task.statusChanged.connect(statuses.append)
    QgsApplication.taskManager().addTask(task)
    qtbot.waitUntil(lambda: bool(seen), timeout=30_000)
    assert seen == [("Cancelled; nothing half-written was kept.", True)]
    assert QgsTask.Complete in statuses and QgsTask.Terminated not in statuses  # no "failed"


def test_input_checks_are_said_in_plain_words(plugin_package: ModuleType) -> None:
    results = module("soilmoisture_plugin.gui.results")
    assert results.checks_summary({}) == ""
    checks = {
        "smap_self_check": {"status": "ok", "rmse": 0.067, "reference_rmse": 0.04},
        "input_health": {"inputs": [{"label": "elevation", "status": "ok"}]},
    }
    text = results.checks_summary({"input_checks": checks})
    assert text.startswith("Input check passed") and "0.067" in text
    checks["smap_self_check"] = {"status": "bad", "rmse": 0.164, "reference_rmse": 0.04}
    checks["input_health"]["inputs"] += [{"label": "slope", "status": "bad"}]
    text = results.checks_summary({"input_checks": checks})
    assert "0.164" in text and "mis-prepared" in text
    assert text.endswith("Inputs far outside what the model saw: slope.")
