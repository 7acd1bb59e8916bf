"""The dock flow on the demo scene (qtbot): draw an AOI, load stations, find dates, run, cancel."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsPointXY,
    QgsProject,
    QgsRasterLayer,
    QgsRectangle,
)
from qgis.gui import QgsMapMouseEvent
from qgis.PyQt.QtCore import QEvent, QPoint, Qt

from .conftest import module
from .test_processing import demo_date, has_pipeline

TIMEOUT_MS = 120_000
RUN_TIMEOUT_MS = 900_000
"""A demo run takes one to three minutes on two busy cores; the limit only catches hangs."""


@pytest.fixture()
def plugin(
    plugin_package: ModuleType, qgis_iface: Any, tmp_path: Path, qgis_new_project: None
) -> Iterator[Any]:
    """The plugin started as QGIS does, its dock shown, the canvas on the demo area."""
    from qgis.core import QgsSettings

    QgsSettings().setValue("soilmoisture/last_output_dir", str(tmp_path / "out"))
    canvas = qgis_iface.mapCanvas()
    canvas.resize(600, 600)
    canvas.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:4326"))
    xmin, ymin, xmax, ymax = module("core.inputs.sources.demo").DEMO_AOI_BBOX
    canvas.setExtent(QgsRectangle(xmin - 0.05, ymin - 0.05, xmax + 0.05, ymax + 0.05))
    instance = plugin_package.classFactory(qgis_iface)
    instance.initGui()
    instance.show_dock()
    yield instance
    instance.unload()
    QgsProject.instance().removeAllMapLayers()


def wait_task(qtbot: Any, task: Any, timeout_ms: int = TIMEOUT_MS) -> None:
    assert task is not None
    qtbot.waitUntil(lambda: task.done, timeout=timeout_ms)


def mouse(
    canvas: Any, kind: QEvent.Type, x: float, y: float, button: Any = Qt.MouseButton.LeftButton
) -> Any:
    pixel = canvas.getCoordinateTransform().transform(QgsPointXY(x, y))
    pos = QPoint(round(pixel.x()), round(pixel.y()))
    buttons = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseButtonRelease else button
    return QgsMapMouseEvent(canvas, kind, pos, button, buttons)


def draw_rectangle(dock: Any, bbox: tuple[float, float, float, float]) -> None:
    canvas, tool = dock.canvas, dock.map_tool
    xmin, ymin, xmax, ymax = bbox
    tool.canvasPressEvent(mouse(canvas, QEvent.Type.MouseButtonPress, xmin, ymax))
    tool.canvasMoveEvent(mouse(canvas, QEvent.Type.MouseMove, (xmin + xmax) / 2, (ymin + ymax) / 2))
    tool.canvasReleaseEvent(mouse(canvas, QEvent.Type.MouseButtonRelease, xmax, ymin))


def test_draw_rectangle_sets_the_aoi_with_area_and_cells(plugin: Any) -> None:
    dock = plugin.dock
    dock.start_draw("rectangle")
    assert dock.canvas.mapTool() is dock.map_tool
    canvas, tool = dock.canvas, dock.map_tool
    tool.canvasPressEvent(mouse(canvas, QEvent.Type.MouseButtonPress, -97.50, 36.68))
    tool.canvasMoveEvent(mouse(canvas, QEvent.Type.MouseMove, -97.45, 36.62))
    live = dock.area_label.text()
    assert "km" in live and "50 m" in live  # live area while dragging
    tool.canvasReleaseEvent(mouse(canvas, QEvent.Type.MouseButtonRelease, -97.43, 36.60))
    assert dock.aoi is not None
    assert 50 < dock.aoi.area_km2 < 100
    assert f"{dock.aoi.n_cells50:,}" in dock.area_label.text()
    assert dock.canvas.mapTool() is not dock.map_tool  # the tool hands back after drawing


def test_draw_polygon_with_clicks(plugin: Any) -> None:
    dock = plugin.dock
    dock.start_draw("polygon")
    canvas, tool = dock.canvas, dock.map_tool
    for x, y in ((-97.50, 36.60), (-97.43, 36.60), (-97.46, 36.68)):
        tool.canvasPressEvent(mouse(canvas, QEvent.Type.MouseButtonPress, x, y))
    tool.canvasPressEvent(
        mouse(canvas, QEvent.Type.MouseButtonPress, -97.46, 36.68, Qt.MouseButton.RightButton)
    )
    assert dock.aoi is not None
    assert 10 < dock.aoi.area_km2 < 40


def test_too_large_extent_is_refused_with_the_reason(plugin: Any) -> None:
    dock = plugin.dock
    dock.extent_edit.setText("-100, 30, -98, 32 [EPSG:4326]")
    dock.use_typed_extent()
    assert dock.aoi is None
    assert "too large" in dock.area_label.text()
    assert not dock.run_button.isEnabled()


def test_demo_area_stations_and_dates(plugin: Any, qtbot: Any) -> None:
    dock = plugin.dock
    dock.use_demo_area()
    assert dock.aoi is not None and dock.source_combo.currentData() == "demo"
    wait_task(qtbot, dock.load_demo_stations())
    qtbot.waitUntil(lambda: dock.station_list.count() > 0, timeout=TIMEOUT_MS)
    layer = QgsProject.instance().mapLayer(dock.stations_layer_id)
    assert layer is not None and layer.featureCount() == dock.station_list.count()
    assert {"station", "network", "samples", "first", "last"} <= set(layer.fields().names())
    assert all(
        dock.station_list.item(i).checkState() == Qt.CheckState.Checked
        for i in range(dock.station_list.count())
    )

    wait_task(qtbot, dock.find_dates())
    assert dock.dates_tree.topLevelItemCount() >= 4
    assert dock.dates_tree.topLevelItem(0).text(1) in ("Ascending", "Descending")
    first = dock.dates_tree.topLevelItem(0)
    first.setCheckState(0, Qt.CheckState.Checked)
    assert dock.map_dates() == (dt.date.fromisoformat(first.text(0)),)

    # untick a station: the run gets a CSV of the ticked ones only
    dock.station_list.item(0).setCheckState(Qt.CheckState.Unchecked)
    run_dir = Path(dock.output_widget.filePath()) / "probe"
    inputs = dock._station_inputs(run_dir)
    assert inputs == (run_dir / "selected_stations.csv",)
    data = module("core.inputs.stations").read_station_files(list(inputs))
    assert len({m.station for m in data.stations}) == len(dock.checked_stations())


def test_settings_persist(plugin: Any) -> None:
    dock = plugin.dock
    dock._select(dock.method_combo, "da")
    dock._select(dock.source_combo, "demo")
    dock.save_settings()
    settings = module("soilmoisture_plugin.settings").PluginSettings()
    assert settings.get("method") == "da" and settings.get("source") == "demo"


def _prepare_demo(plugin: Any, qtbot: Any) -> Any:
    dock = plugin.dock
    dock.use_demo_area()
    wait_task(qtbot, dock.load_demo_stations())
    dock.date_edit.setDate(module("soilmoisture_plugin.gui.sections.common").qdate(demo_date()))
    return dock


def _config(dock: Any, pretrained_dir: Path, epochs: int) -> Any:
    import dataclasses

    config = dock.build_config()
    return dataclasses.replace(
        config, models=str(pretrained_dir), epochs=epochs, cross_validate=False, baselines=False
    )


def test_build_config_takes_the_batchnorm_and_consistency_choices(plugin: Any, qtbot: Any) -> None:
    dock = _prepare_demo(plugin, qtbot)
    common = module("soilmoisture_plugin.gui.sections.common")
    default = module("core.run.config").DEFAULT_CONSISTENCY
    for mode in ("pretrained", "batch"):
        common.select_data(dock.batchnorm_combo, mode)
        assert dock.build_config().batchnorm == mode
    for on, weight in ((False, 0.0), (True, default)):
        dock.consistency_check.setChecked(on)
        assert dock.build_config().consistency == weight


def test_run_adds_styled_layers_and_results(plugin: Any, qtbot: Any, pretrained_dir: Path) -> None:
    if not has_pipeline():
        pytest.skip("the engine's pipeline is not complete in this checkout")
    dock = _prepare_demo(plugin, qtbot)
    config = _config(dock, pretrained_dir, epochs=1)
    task = dock.start_run(config)
    assert task is not None and not dock.run_button.isEnabled() and dock.cancel_button.isEnabled()
    wait_task(qtbot, task, RUN_TIMEOUT_MS)
    assert dock.result is not None, dock.status_label.text()
    layers = [QgsProject.instance().mapLayer(i) for i in dock.result_layer_ids]
    assert len(layers) == 2 and all(isinstance(layer, QgsRasterLayer) for layer in layers)
    mean, spread = layers
    renderer = mean.renderer()
    assert renderer.type() == "singlebandpseudocolor"
    assert renderer.classificationMin() == 0.0 and renderer.classificationMax() == 0.5
    items = renderer.shader().rasterShaderFunction().colorRampItemList()
    assert items[0].label.endswith("m³/m³")
    assert spread.renderer().band() == 2
    # the map as a hydrologist expects it: one group per run named with date and method,
    # the stations above the rasters, the area as an outline, the view on the area
    root = QgsProject.instance().layerTreeRoot()
    group = root.findLayer(mean.id()).parent()
    assert group.name().startswith(
        f"Soil moisture {demo_date().isoformat()} {config.method.upper()} ("
    )
    assert root.children()[0].layerId() == dock.stations_layer_id
    assert dock.aoi_band.fillColor().alpha() == 0
    extent = plugin.iface.mapCanvas().extent()
    area = QgsRectangle(*module("core.inputs.sources.demo").DEMO_AOI_BBOX)
    assert extent.contains(area)
    # zoomed to the area with a margin (the canvas's shape sets the other side)
    assert min(extent.width() / area.width(), extent.height() / area.height()) < 1.5
    assert dock.progress_bar.value() == 100
    assert dock.open_report_button.isEnabled() == bool(dock.result.report_html)
    assert dock.run_button.isEnabled()
    assert dock.metrics_table.rowCount() >= 2  # pretrained and adapted at the stations
    labels = [dock.metrics_table.item(r, 0).text() for r in range(dock.metrics_table.rowCount())]
    assert not any("_" in label for label in labels), labels  # words, not column names
    assert dock.results_summary.text().startswith("No held-out check was run")  # CV was off
    assert dock.charts_box.findChildren(type(dock.results_summary), "chart")


def test_metric_rows_say_which_results_are_held_out(plugin_package: ModuleType) -> None:
    """Cross-validated columns are labelled held out, whatever their order in the run's
    metrics; the in-sample fit is never shown as held out."""
    pooled = {"n": 80, "r": 0.5, "rmse": 0.1, "ubrmse": 0.08, "bias": -0.02}
    metrics = {
        "methods": {
            name: {"pooled": dict(pooled), "label": name}
            for name in ("adapted_cv", "pretrained", "random_forest", "adapted_in_sample")
        },
        "held_out": {"adapted_cv": "msda", "random_forest": "random_forest"},
    }
    rows = module("soilmoisture_plugin.gui.sections.results").metric_rows(metrics, "msda")
    assert [r[0] for r in rows] == [
        "MSDA map, held out",
        "random forest, held out",
        "pretrained",  # never saw the stations: not a fit
        "MSDA fit, in sample",
    ]
    assert rows[0][1:] == ["80", "0.50", "0.100", "0.080", "-0.020"]


def test_earth_engine_sign_in_can_be_cancelled(
    plugin: Any, qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The browser sign-in waits for the redirect; the button cancels the wait at once."""
    dock = plugin.dock
    if not dock.dependencies.earthengine:
        pytest.skip("earthengine-api is not installed")
    import webbrowser

    release = threading.Event()
    urls: list[str] = []
    monkeypatch.setattr(webbrowser, "open", urls.append)
    try:
        dock.ee_sign_in_button.click()
        task = dock._sign_in_task
        assert task is not None
        assert dock.ee_sign_in_button.text() == "Cancel sign-in"
        qtbot.waitUntil(lambda: task.status() == task.Running, timeout=TIMEOUT_MS)
        dock.ee_sign_in_button.click()
        wait_task(qtbot, task, 10_000)  # long before the fake browser wait ends
        assert dock.ee_state.text() == "Sign-in cancelled."
        assert dock.ee_sign_in_button.text() == "Sign in…"
        assert dock._sign_in_task is None
        assert urls and "redirect_uri=http" in urls[0]
    finally:
        release.set()


def test_earth_engine_check_connection_reports_each_step(
    plugin: Any, qtbot: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Without credentials the check says so, and what to do, in the dock."""
    dock = plugin.dock
    if not dock.dependencies.earthengine:
        pytest.skip("earthengine-api is not installed")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("SOILMOISTURE_EE_KEY_FILE", raising=False)
    task = dock.ee_check()
    wait_task(qtbot, task, 10_000)
    text = dock.ee_state.text()
    assert "OK    client library" in text and "FAIL  credentials" in text
    assert "--sign-in" in text and text.splitlines()[0].startswith("1 Earth Engine check")


def test_cancel_run_leaves_no_tif(plugin: Any, qtbot: Any, pretrained_dir: Path) -> None:
    if not has_pipeline():
        pytest.skip("the engine's pipeline is not complete in this checkout")
    dock = _prepare_demo(plugin, qtbot)
    config = _config(dock, pretrained_dir, epochs=50)
    task = dock.start_run(config)
    qtbot.waitUntil(lambda: dock.progress_bar.value() > 0, timeout=TIMEOUT_MS)
    dock.cancel_run()
    wait_task(qtbot, task, RUN_TIMEOUT_MS)
    assert dock.result is None
    assert "Cancelled" in dock.status_label.text()
    assert not list(Path(config.out_dir).rglob("*.tif"))
    assert dock.run_button.isEnabled() and not dock.cancel_button.isEnabled()
