"""Each section of the dock built alone (offscreen): its values, its messages, what it enables."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest
from qgis.PyQt.QtCore import QDate, Qt
from qgis.PyQt.QtWidgets import QPushButton

from .conftest import module


@pytest.fixture()
def sections(plugin_package: ModuleType) -> ModuleType:
    return module("soilmoisture_plugin.gui.sections")


@pytest.fixture()
def common(plugin_package: ModuleType) -> ModuleType:
    return module("soilmoisture_plugin.gui.sections.common")


@pytest.fixture()
def settings(plugin_package: ModuleType, tmp_path: Path) -> Any:
    """Plugin settings in a file of their own (the user's settings stay as they are)."""
    from qgis.core import QgsSettings
    from qgis.PyQt.QtCore import QSettings

    qsettings = QgsSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    return module("soilmoisture_plugin.settings").PluginSettings(qsettings)


class Starter:
    """A task starter that only records the tasks (the sections' work is not run)."""

    def __init__(self) -> None:
        self.tasks: list[Any] = []

    def __call__(self, task: Any) -> Any:
        self.tasks.append(task)
        return task


def recorder(signal: Any) -> list[tuple[Any, ...]]:
    seen: list[tuple[Any, ...]] = []
    signal.connect(lambda *args: seen.append(args))
    return seen


# ----------------------------------------------------------------------------- common
def test_common_helpers(common: ModuleType, qgis_app: Any) -> None:
    assert common.plural(1, "1 map", "{n} maps") == "1 map"
    assert common.plural(1234, "1 map", "{n} maps") == "1,234 maps"
    assert common.pydate(common.qdate(dt.date(2023, 5, 17))) == dt.date(2023, 5, 17)
    buttons = [QPushButton(str(i)) for i in range(3)]
    grid = common.button_grid(buttons)
    assert grid.getItemPosition(grid.indexOf(buttons[1])) == (0, 1, 1, 1)
    assert grid.getItemPosition(grid.indexOf(buttons[2])) == (1, 0, 1, 2)  # the last spans


# ----------------------------------------------------------------------------- area
@pytest.fixture()
def area(sections: ModuleType, clean_project: None) -> Iterator[Any]:
    section = sections.AreaSection()
    yield section
    section.deleteLater()


def test_area_from_a_typed_extent(area: Any) -> None:
    changed, zooms = recorder(area.aoiChanged), recorder(area.zoomRequested)
    assert area.objectName() == "aoi_group" and area.aoi is None
    area.extent_edit.setText("10.0, 45.0, 10.1, 45.05")
    area.use_extent_button.click()
    assert area.aoi is not None and abs(area.aoi.area_km2 - 43.8) < 2
    assert changed == [(area.aoi,)] and len(zooms) == 1
    assert "km²" in area.area_label.text() and "cells of 50 m" in area.area_label.text()
    assert area.extent_edit.text() == "10.00000, 45.00000, 10.10000, 45.05000 [EPSG:4326]"
    assert area.area_warning.text() == ""  # no demo source: no word about the demo scene


def test_area_refused_says_why(area: Any, common: ModuleType) -> None:
    changed = recorder(area.aoiChanged)
    area.extent_edit.setText("-100, 30, -98, 32 [EPSG:4326]")
    area.use_typed_extent()
    assert area.aoi is None and changed == [(None,)]
    assert area.area_label.text().startswith("The area cannot be used:")
    assert "too large" in area.area_label.text()
    assert common.is_error_styled(area.area_label)
    area.extent_edit.setText("not an extent")
    area.use_typed_extent()
    assert area.aoi is None and common.is_error_styled(area.area_label)
    area.use_layer()  # no polygon layer in the project
    assert area.area_label.text() == "The area cannot be used: choose a polygon layer first"


def test_area_outside_the_demo_scene_is_said_with_the_demo_source(area: Any) -> None:
    xmin, ymin, xmax, ymax = module("core.inputs.sources.demo").DEMO_AOI_BBOX
    area.current_source = lambda: "demo"
    area.use_demo_extent()
    assert area.aoi is not None and area.area_warning.text() == ""
    area.extent_edit.setText(f"{xmax - 0.01}, {ymin}, {xmax + 0.05}, {ymax}")
    area.use_typed_extent()
    assert area.area_warning.text().startswith("The demo scene only covers longitudes")
    area.current_source = lambda: "gee"
    area.use_typed_extent()
    assert area.area_warning.text() == ""


def test_area_buttons_ask_the_dock(area: Any) -> None:
    draws, demos = recorder(area.drawRequested), recorder(area.demoAreaRequested)
    area.draw_rect_button.click()
    area.draw_poly_button.click()
    area.demo_area_button.click()
    assert draws == [("rectangle",), ("polygon",)] and demos == [()]
    area.show_drawing_hint("polygon")
    assert area.area_label.text().startswith("Click the vertices")


# ----------------------------------------------------------------------------- stations
@pytest.fixture()
def stations(sections: ModuleType, settings: Any, clean_project: None) -> Iterator[Any]:
    section = sections.StationsSection(settings, Starter())
    yield section
    section.deleteLater()


def test_stations_loaded_listed_ticked_and_cleared(
    stations: Any, demo_stations: Path, tmp_path: Path
) -> None:
    from qgis.core import QgsProject

    data = module("core.inputs.stations").read_station_files([demo_stations])
    changed, layers = recorder(stations.stationsChanged), recorder(stations.layerAdded)
    task = stations.load([demo_stations])
    assert stations.start_task.tasks == [task]
    assert stations.station_label.text() == "Reading station files…"
    stations.show_loaded([demo_stations], data)
    n = stations.station_list.count()
    keys = {(r["network"], r["station"]) for r in stations.rows}
    assert n == len(stations.rows) > 0 and stations.checked_stations() == keys
    assert "from 1 file." in stations.station_label.text()
    layer_id = stations.stations_layer_id
    layer = QgsProject.instance().mapLayer(layer_id)
    assert layer is not None and layers == [(layer,)] and changed == [()]
    originals = module("soilmoisture_plugin.adapters").expand_station_paths([demo_stations])
    assert stations.station_inputs(tmp_path / "run") == tuple(originals)  # all ticked
    stations.station_list.item(0).setCheckState(Qt.CheckState.Unchecked)
    assert len(changed) == 2
    assert stations.station_inputs(tmp_path / "run") == (tmp_path / "run/selected_stations.csv",)
    stations.clear()
    assert stations.station_list.count() == 0 and stations.stations_layer_id is None
    assert QgsProject.instance().mapLayer(layer_id) is None
    assert stations.station_label.text() == "No stations loaded."


def test_stations_far_from_the_area_are_named(
    stations: Any, sections: ModuleType, tmp_path: Path, common: ModuleType
) -> None:
    csv = tmp_path / "stations.csv"
    rows = ["station,lat,lon,timestamp,sm"]
    for day in range(1, 11):
        rows.append(f"NEAR,45.02,10.05,2023-05-{day:02d}T06:00:00Z,0.25")
        rows.append(f"PARIS,48.85,2.35,2023-05-{day:02d}T06:00:00Z,0.20")
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    data = module("core.inputs.stations").read_station_files([csv])
    stations.show_loaded([csv], data)
    assert not common.is_error_styled(stations.station_label)  # no area: nothing is far
    area = sections.AreaSection()
    area.extent_edit.setText("10.0, 45.0, 10.1, 45.05")
    area.use_typed_extent()
    stations.current_aoi = lambda: area.aoi
    far = stations.flag_far_stations()
    assert [name for name, _km in far] == ["PARIS"] and far[0][1] > 500
    assert "1 station is far from the area (more than 50 km): PARIS (" in (
        stations.station_label.text()
    )
    assert common.is_error_styled(stations.station_label)


def test_stations_error_is_said(stations: Any, common: ModuleType) -> None:
    stations.show_error("no station file in that folder")
    assert stations.station_label.text() == "no station file in that folder"
    assert common.is_error_styled(stations.station_label)


# ----------------------------------------------------------------------------- dates
@pytest.fixture()
def dates(sections: ModuleType) -> Iterator[Any]:
    section = sections.DatesSection(Starter())
    yield section
    section.deleteLater()


def acquisition(day: str) -> Any:
    return SimpleNamespace(
        date=dt.date.fromisoformat(day), orbit_pass="ascending", relative_orbit=34, coverage=97.4
    )


def test_dates_need_an_area(dates: Any, common: ModuleType) -> None:
    assert dates.objectName() == "dates_group"
    assert dates.find_dates() is None and dates.start_task.tasks == []
    assert dates.dates_label.text() == "Choose an area of interest first."
    assert common.is_error_styled(dates.dates_label)


def test_dates_listed_ticked_and_cleared_by_a_new_date(dates: Any) -> None:
    dates.date_edit.setDate(QDate(2023, 5, 10))
    assert dates.map_dates() == (dt.date(2023, 5, 10),)  # nothing ticked: the picker's date
    dates.show_acquisitions([acquisition("2023-05-04"), acquisition("2023-05-16")])
    assert dates.dates_tree.topLevelItemCount() == 2
    assert [dates.dates_tree.topLevelItem(0).text(c) for c in range(4)] == [
        "2023-05-04",
        "Ascending",
        "34",
        "97 %",
    ]
    assert dates.dates_label.text() == "2 acquisitions. Tick the dates to map."
    dates.dates_tree.topLevelItem(1).setCheckState(0, Qt.CheckState.Checked)
    assert dates.map_dates() == (dt.date(2023, 5, 16),)
    dates._acquisition_picked(dates.dates_tree.topLevelItem(0), 0)  # keeps the list
    assert dates.date_edit.date() == QDate(2023, 5, 4)
    assert dates.dates_tree.topLevelItemCount() == 2
    dates.date_edit.setDate(QDate(2023, 6, 1))  # another date: the list belonged to the old one
    assert dates.dates_tree.topLevelItemCount() == 0 and dates.acquisitions == []
    assert dates.dates_label.text().startswith("The map date changed")
    dates.show_acquisitions([])
    assert dates.dates_label.text().startswith("No Sentinel-1 acquisition in that period")


def test_dates_training_period_and_demo_period(dates: Any) -> None:
    assert dates.training_period() == (None, None)
    assert not dates.train_start.isEnabled()
    dates.custom_training.setChecked(True)
    assert dates.train_start.isEnabled() and dates.train_end.isEnabled()
    dates.train_start.setDate(QDate(2022, 1, 1))
    dates.train_end.setDate(QDate(2022, 12, 31))
    assert dates.training_period() == (dt.date(2022, 1, 1), dt.date(2022, 12, 31))
    period = [dt.date(2020, 1, 1), dt.date(2020, 1, 13), dt.date(2020, 1, 25)]
    dates.date_edit.setDate(QDate(2020, 1, 20))
    dates.move_into_demo_period(period)
    assert dates.date_edit.date() == QDate(2020, 1, 20)  # inside: left alone
    dates.date_edit.setDate(QDate(1999, 1, 1))
    dates.move_into_demo_period(period)
    assert dates.date_edit.date() == QDate(2020, 1, 13)
    assert "demo scene covers 2020-01-01 to 2020-01-25" in dates.dates_label.text()


def test_dates_failure_is_said_and_the_button_comes_back(dates: Any, common: ModuleType) -> None:
    dates.find_dates_button.setEnabled(False)
    dates.show_failure("Earth Engine is not connected", False)
    assert dates.find_dates_button.isEnabled()
    assert common.is_error_styled(dates.dates_label)


# ----------------------------------------------------------------------------- options
@pytest.fixture()
def options(sections: ModuleType) -> Iterator[Any]:
    section = sections.MethodSection()
    yield section
    section.deleteLater()


def test_options_values(options: Any, common: ModuleType, tmp_path: Path) -> None:
    assert options.objectName() == "options_group"
    assert options.alpha() is None and not options.alpha_spin.isEnabled()
    options.alpha_auto.setChecked(False)
    assert options.alpha_spin.isEnabled()
    options.alpha_spin.setValue(0.35)
    assert options.alpha() == pytest.approx(0.35)
    changed = recorder(options.sourceChanged)
    common.select_data(options.source_combo, "demo")
    assert options.source() == "demo" and len(changed) == 1
    common.select_data(options.source_combo, "no such source")
    assert options.source() == "demo" and len(changed) == 1
    options.epochs_spin.setValue(7)
    assert options.epochs() == 7 and options.device() == "cpu"
    assert options.batchnorm() == "pretrained"  # the engine's default comes first
    assert options.consistency_check.isChecked() and options.consistency() == {}
    options.consistency_check.setChecked(False)
    assert options.consistency() == {"consistency": 0.0}
    options.output_widget.setFilePath("")
    assert options.output_root(str(tmp_path)) == tmp_path
    options.output_widget.setFilePath(str(tmp_path / "runs"))
    assert options.output_root("elsewhere") == tmp_path / "runs"
    packages = recorder(options.packagesRequested)
    options.packages_button.click()
    assert packages == [()]


def test_options_devices_and_settings(options: Any, settings: Any, tmp_path: Path) -> None:
    settings.set("device", "cuda:1")
    settings.set("epochs", 12)
    settings.set("method", "da")
    settings.set("batchnorm_mode", "batch")
    settings.set("consistency", False)
    options.restore(settings)
    assert options.epochs() == 12 and options.method() == "da"
    assert options.batchnorm() == "batch"
    assert not options.consistency_check.isChecked()
    options.add_devices([("cuda", "A100"), ("cuda:1", "H100")])
    assert options.device_combo.count() == 3 and options.device() == "cuda:1"
    assert options.device_combo.currentText() == "CUDA (H100)"
    options.add_devices([("cuda", "A100")])  # found again: not listed twice
    assert options.device_combo.count() == 3
    options.epochs_spin.setValue(30)
    options.output_widget.setFilePath(str(tmp_path))
    options.save(settings)
    assert settings.get("epochs") == 30 and settings.get("last_output_dir") == str(tmp_path)
    assert settings.get("batchnorm_mode") == "batch" and settings.get("consistency") is False
    options.consistency_check.setChecked(True)
    options.save(settings)
    assert settings.get("consistency") is True


# ----------------------------------------------------------------------------- Earth Engine
def test_earth_engine_without_the_client_library(
    sections: ModuleType, settings: Any, common: ModuleType
) -> None:
    section = sections.EarthEngineSection(settings, Starter(), available=False)
    assert section.objectName() == "ee_group"
    assert not section.ee_sign_in_button.isEnabled() and not section.ee_connect_button.isEnabled()
    assert not section.ee_project_edit.isEnabled()
    assert section.ee_state.text().startswith("earthengine-api is not installed")
    assert common.is_error_styled(section.ee_state)
    section.set_available()
    assert section.ee_sign_in_button.isEnabled() and section.ee_project_edit.isEnabled()
    assert section.ee_state.text() == "Not signed in to Earth Engine."
    assert not common.is_error_styled(section.ee_state)


def test_earth_engine_project_and_tasks(sections: ModuleType, settings: Any) -> None:
    section = sections.EarthEngineSection(settings, Starter(), available=True)
    section.ee_project_edit.setText("  my-ee-project ")
    assert section.project() == "my-ee-project"
    task = section.ee_connect()
    assert section.start_task.tasks == [task]
    assert section.ee_state.text() == "Connecting to Earth Engine…"
    assert settings.get("ee_project") == "my-ee-project"
    section._connected("connected (project my-ee-project)")
    assert section.ee_state.text() == "Earth Engine: connected (project my-ee-project)"
    sign_in = section.ee_sign_in()
    assert sign_in is not None and section.sign_in_task is sign_in
    assert section.ee_sign_in_button.text() == "Cancel sign-in"
    section._sign_in_finished()
    assert section.sign_in_task is None and section.ee_sign_in_button.text() == "Sign in…"
    section.ee_project_edit.setText("")
    section.save(settings)
    assert settings.get("ee_project") == ""


# ----------------------------------------------------------------------------- run
def deps(can_run: bool = True, earthengine: bool = True) -> Any:
    return SimpleNamespace(
        can_run=can_run, earthengine=earthengine, summary=lambda: "torch is missing."
    )


def test_run_blocked_reason_in_order(sections: ModuleType) -> None:
    blocked = sections.blocked_reason
    assert blocked(deps(can_run=False), "demo", False, False) == (
        "torch is missing. Install them with Options > Python packages…"
    )
    assert "needs earthengine-api" in blocked(deps(earthengine=False), "gee", True, True)
    assert blocked(deps(earthengine=False), "demo", True, True) == ""
    assert blocked(deps(), "gee", False, True) == "Choose an area of interest first."
    assert blocked(deps(), "gee", True, False) == "Load stations and tick at least one."
    assert blocked(deps(), "gee", True, True) == ""


def test_run_buttons_follow_the_state(sections: ModuleType, common: ModuleType) -> None:
    run = sections.RunSection()
    assert run.objectName() == "run_group" and run.run_button.objectName() == "run_button"
    run.set_state(False, "Choose an area of interest first.")
    assert not run.run_button.isEnabled() and not run.cancel_button.isEnabled()
    assert run.run_button.toolTip() == "Choose an area of interest first."
    run.set_state(False, "")
    assert run.run_button.isEnabled()
    assert run.run_button.toolTip() == "Adapt the models to the stations and map"
    run.set_state(True, "")
    assert not run.run_button.isEnabled() and run.cancel_button.isEnabled()
    asked = recorder(run.cancelRequested)
    run.cancel_button.click()
    assert asked == [()]
    run.cancelling()
    assert run.status_label.text() == "Cancelling…" and not run.cancel_button.isEnabled()
    run.show_status("pip failed", error=True)
    assert common.is_error_styled(run.status_label)
    run.set_state(False, "")
    started = recorder(run.runRequested)
    run.run_button.click()
    assert started == [()]


# ----------------------------------------------------------------------------- results
def test_results_shown_without_a_report(sections: ModuleType) -> None:
    results = sections.ResultsSection()
    assert results.objectName() == "results_group"
    assert not results.open_report() and not results.open_report_button.isEnabled()
    assert results.metrics_table.isHidden()
    pooled = {"n": 80, "r": 0.5, "rmse": 0.1, "ubrmse": 0.08, "bias": -0.02}
    result = SimpleNamespace(
        metrics={
            "methods": {"adapted_in_sample": {"pooled": pooled}, "pretrained": {"pooled": pooled}},
            "held_out": {},
        },
        simulated=True,
        alpha_reason="0.7 (automatic)",
        warnings=["one", "two", "three", "four"],
        report_html=None,
        charts={},
    )
    results.show_result(result, "msda")
    text = results.results_summary.text()
    assert text.startswith("No held-out check was run")
    assert "Simulated demo data" in text and "Weight of the 50 m stations: 0.7 (automatic)" in text
    assert "three" in text and "four" not in text  # three warnings at most
    assert results.metrics_table.rowCount() == 2 and not results.metrics_table.isHidden()
    assert results.metrics_table.item(0, 2).text() == "0.50"
    assert not results.open_report_button.isEnabled() and results.report_path_label.text() == ""
    assert not results.open_report()


def test_chart_files_put_the_held_out_check_first(sections: ModuleType, tmp_path: Path) -> None:
    names = [
        "scatter_adapted_in_sample",
        "map_2023-05-01",
        "other",
        "timeseries",
        "scatter_adapted",
    ]
    result = SimpleNamespace(charts={n: tmp_path / f"{n}.png" for n in names}, report_html=None)
    assert [p.stem for p in sections.chart_files(result)] == [
        "scatter_adapted",
        "timeseries",
        "map_2023-05-01",
        "other",
        "scatter_adapted_in_sample",
    ]


def test_run_group_adds_each_maps_smap_blend_hidden_under_it(
    plugin_package: ModuleType, tmp_path: Path
) -> None:
    import numpy as np
    from qgis.core import QgsProject

    from core.inputs.grid import GridWindow
    from core.outputs.raster_io import write_sm_geotiff

    window = GridWindow("50m", 1000, 2000, 4, 5)
    day = dt.date(2020, 8, 31)
    paths = {}
    for name in ("map", "blend"):
        values = np.full((4, 5), 0.2 if name == "map" else 0.25, dtype=np.float32)
        paths[name] = write_sm_geotiff(
            tmp_path / f"{name}.tif", values, values / 10, window, date=day
        )
    result = SimpleNamespace(maps={day: paths["map"]}, blended={day: paths["blend"]})
    unreadable: list[str] = []
    run_layers = module("soilmoisture_plugin.gui.run_layers")
    group, ids = run_layers.add_run_group(result, "msda", unreadable.append)
    try:
        layers = [QgsProject.instance().mapLayer(i) for i in ids]
        assert [layer.source() for layer in layers] == [str(paths["map"])] * 2 + [
            str(paths["blend"])
        ] * 2
        assert layers[2].name() == "Soil moisture 2020-08-31, SMAP blend"
        shown = [group.findLayer(i).isVisible() for i in ids]
        assert shown == [True, False, False, False]  # the map's mean only (no recommendation)
        assert not unreadable
        # the blend did better at held-out stations: it is the one shown
        metrics = {"smap_blend": {"map": {"weight": 0.4, "recommended": "blend"}}}
        better = SimpleNamespace(maps=result.maps, blended=result.blended, metrics=metrics)
        group2, ids2 = run_layers.add_run_group(better, "msda", unreadable.append)
        ids += ids2
        assert [group2.findLayer(i).isVisible() for i in ids2] == [False, False, True, False]
        # a run without a blend (one station, no cross-validation) adds the map alone
        _, alone = run_layers.add_run_group(
            SimpleNamespace(maps={day: paths["map"]}, blended={}), "msda", unreadable.append
        )
        ids += alone
        assert len(alone) == 2
    finally:
        QgsProject.instance().removeMapLayers(ids)
        QgsProject.instance().layerTreeRoot().removeAllChildren()
