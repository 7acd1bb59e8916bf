"""Run each Processing algorithm through processing.run (the demo scene, no network)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from qgis.core import (
    QgsFeature,
    QgsGeometry,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProject,
    QgsRasterLayer,
    QgsVectorLayer,
)

from .conftest import module

pytestmark = pytest.mark.usefixtures("registered_provider", "clean_project")


def demo_extent() -> str:
    xmin, ymin, xmax, ymax = module("core.inputs.sources.demo").DEMO_AOI_BBOX
    return f"{xmin},{xmax},{ymin},{ymax} [EPSG:4326]"


def demo_date() -> dt.date:
    dates = module("core.inputs.sources.demo").acquisition_dates()
    return dates[len(dates) // 2]


def has_pipeline() -> bool:
    try:
        module("core.run.adapt_map")
        module("core.model.ensemble")
        module("core.adaptation.train")
    except ImportError:
        return False
    return True


def polygon_layer(bbox: tuple[float, float, float, float]) -> QgsVectorLayer:
    layer = QgsVectorLayer("Polygon?crs=EPSG:4326", "aoi", "memory")
    feature = QgsFeature()
    xmin, ymin, xmax, ymax = bbox
    wkt = f"POLYGON(({xmin} {ymin},{xmax} {ymin},{xmax} {ymax},{xmin} {ymax},{xmin} {ymin}))"
    feature.setGeometry(QgsGeometry.fromWkt(wkt))
    layer.dataProvider().addFeatures([feature])
    QgsProject.instance().addMapLayer(layer)
    return layer


def test_station_folders_expand_without_side_files(demo_stations: Path) -> None:
    """Folders become the station files inside, by the engine's rule: the demo folder's
    README.txt is not handed to the station reader (it used to warn "unknown format")."""
    assert (demo_stations / "README.txt").exists()
    files = module("soilmoisture_plugin.adapters").expand_station_paths([demo_stations])
    assert files and all(p.suffix == ".stm" for p in files)


def test_load_stations_to_points(demo_stations: Path) -> None:
    import processing

    result = processing.run(
        "soilmoisture:loadstations", {"STATIONS": [str(demo_stations)], "OUTPUT": "memory:"}
    )
    layer = result["OUTPUT"]
    assert isinstance(layer, QgsVectorLayer)
    assert layer.featureCount() == result["STATION_COUNT"] > 0
    names = layer.fields().names()
    for field in ("station", "network", "samples", "first", "last"):
        assert field in names
    feature = next(layer.getFeatures())
    assert feature["network"] == "DEMO-SIMULATED"
    assert feature["samples"] > 100
    assert feature.geometry().asPoint().y() == pytest.approx(36.64, abs=0.1)


def test_load_stations_outside_aoi_is_a_clear_error(demo_stations: Path) -> None:
    import processing

    with pytest.raises(QgsProcessingException):
        processing.run(
            "soilmoisture:loadstations",
            {
                "STATIONS": [str(demo_stations)],
                "EXTENT": "2.0,2.1,48.0,48.1 [EPSG:4326]",
                "OUTPUT": "memory:",
            },
        )


def test_list_sentinel1_dates_on_the_demo_scene() -> None:
    import processing

    layer = polygon_layer(module("core.inputs.sources.demo").DEMO_AOI_BBOX)
    day = demo_date()
    result = processing.run(
        "soilmoisture:listsentinel1dates",
        {
            "AOI": layer,
            "SOURCE": 1,
            "START": (day - dt.timedelta(days=30)).isoformat(),
            "END": (day + dt.timedelta(days=30)).isoformat(),
            "OUTPUT": "memory:",
        },
    )
    table = result["OUTPUT"]
    dates = result["DATES_OUT"].split(",")
    assert day.isoformat() in dates
    assert table.featureCount() == len(dates) >= 4
    row = next(table.getFeatures())
    assert row["pass"] in ("ASCENDING", "DESCENDING") and 0 < row["coverage"] <= 100


def test_list_dates_needs_an_area() -> None:
    import processing

    with pytest.raises(QgsProcessingException):
        processing.run(
            "soilmoisture:listsentinel1dates",
            {"SOURCE": 1, "START": "2020-01-01", "END": "2020-02-01", "OUTPUT": "memory:"},
        )


def test_install_models_from_folder(pretrained_dir: Path, tmp_path: Path) -> None:
    import processing

    result = processing.run(
        "soilmoisture:installmodels", {"FOLDER": str(pretrained_dir), "NAME": "test_set"}
    )
    folder = Path(result["MODEL_SET"])
    assert result["MODEL_NAME"] == "test_set"
    assert folder.is_dir() and len(list(folder.glob("*.pt"))) == 25
    with pytest.raises(QgsProcessingException, match="already installed"):
        processing.run(
            "soilmoisture:installmodels", {"FOLDER": str(pretrained_dir), "NAME": "test_set"}
        )


class CancelAfter(QgsProcessingFeedback):
    """Feedback that asks to cancel once progress passed a threshold."""

    def __init__(self, threshold: float) -> None:
        super().__init__()
        self.threshold = threshold
        self.progressChanged.connect(self._check)

    def _check(self, value: float) -> None:
        if value >= self.threshold:
            self.cancel()


@pytest.fixture()
def adapted(demo_stations: Path, pretrained_dir: Path, tmp_path: Path) -> dict[str, Any]:
    """One quick Adapt & Map run on the demo scene through processing.run."""
    if not has_pipeline():
        pytest.skip("the engine's pipeline is not complete in this checkout")
    import processing

    out = tmp_path / "adapt"
    result = processing.run(
        "soilmoisture:adaptmap",
        {
            "EXTENT": demo_extent(),
            "STATIONS": [str(demo_stations)],
            "DATES": demo_date().isoformat(),
            "SOURCE": 1,
            "METHOD": 0,
            "EPOCHS": 1,
            "BATCHNORM": 1,
            "CONSISTENCY": False,
            "CROSS_VALIDATE": False,
            "MODELS": str(pretrained_dir),
            "OUTPUT_FOLDER": str(out),
        },
    )
    return result


def test_adapt_map_writes_styled_maps_and_a_report(adapted: dict[str, Any]) -> None:
    raster = QgsRasterLayer(adapted["OUTPUT"], "sm")
    assert raster.isValid() and raster.bandCount() == 2
    assert adapted["OUTPUT_RASTERS"] == [adapted["OUTPUT"]]
    assert adapted["OUTPUT_BLENDED"] == []  # no cross-validation: no blend weight
    assert Path(adapted["REPORT"]).is_file()
    assert Path(adapted["ENSEMBLE"]).is_dir()
    assert 0.0 <= adapted["ALPHA_USED"] <= 1.0
    manifest = json.loads((Path(adapted["OUTPUT_FOLDER"]) / "manifest.json").read_text())
    # the advanced parameters reached the run (both away from their defaults)
    assert manifest["batchnorm"] == "batch" and manifest["consistency"] == 0.0


def test_map_with_saved_ensemble(adapted: dict[str, Any], tmp_path: Path) -> None:
    import processing

    dates = module("core.inputs.sources.demo").acquisition_dates()
    later = dates[len(dates) // 2 + 1]
    result = processing.run(
        "soilmoisture:mapwithensemble",
        {
            "ENSEMBLE": adapted["ENSEMBLE"],
            "EXTENT": demo_extent(),
            "DATES": later.isoformat(),
            "SOURCE": 1,
            "OUTPUT_FOLDER": str(tmp_path / "remap"),
        },
    )
    assert len(result["OUTPUT_RASTERS"]) == 1
    assert result["OUTPUT_BLENDED"] == []  # the ensemble's run had no blend weight
    assert QgsRasterLayer(result["OUTPUT"], "m").isValid()


def test_validate_raster(adapted: dict[str, Any], demo_stations: Path, tmp_path: Path) -> None:
    import processing

    result = processing.run(
        "soilmoisture:validateraster",
        {
            "INPUT": adapted["OUTPUT"],
            "STATIONS": [str(demo_stations)],
            "OUTPUT_FOLDER": str(tmp_path / "val"),
        },
    )
    assert result["N"] >= 3
    assert 0.0 <= result["RMSE"] < 0.2
    assert result["CHARTS"] and all(Path(p).is_file() for p in result["CHARTS"])


def test_adapt_map_cancel_leaves_no_map(
    demo_stations: Path, pretrained_dir: Path, tmp_path: Path
) -> None:
    if not has_pipeline():
        pytest.skip("the engine's pipeline is not complete in this checkout")
    import processing

    out = tmp_path / "cancelled"
    feedback = CancelAfter(5.0)
    with pytest.raises(QgsProcessingException):
        processing.run(
            "soilmoisture:adaptmap",
            {
                "EXTENT": demo_extent(),
                "STATIONS": [str(demo_stations)],
                "DATES": demo_date().isoformat(),
                "SOURCE": 1,
                "EPOCHS": 3,
                "CROSS_VALIDATE": False,
                "MODELS": str(pretrained_dir),
                "OUTPUT_FOLDER": str(out),
            },
            feedback=feedback,
        )
    assert not list(out.rglob("*.tif"))


def test_parameters_follow_conventions(
    registered_provider: Any, plugin_package: ModuleType
) -> None:
    for alg in registered_provider.algorithms():
        for param in alg.parameterDefinitions():
            assert param.name() == param.name().upper(), (alg.id(), param.name())
        for out in alg.outputDefinitions():
            assert out.name() == out.name().upper(), (alg.id(), out.name())
        assert alg.shortHelpString()
    adapt = registered_provider.algorithm("adaptmap")
    advanced = {
        p.name()
        for p in adapt.parameterDefinitions()
        if p.flags() & module("soilmoisture_plugin.compat").FLAG_ADVANCED
    }
    assert {"ALPHA", "EPOCHS", "BATCHNORM", "CONSISTENCY", "SEED", "DEVICE"} <= advanced
    choices = [v for v, _ in module("soilmoisture_plugin.algorithms.base").BATCHNORM_CHOICES]
    assert sorted(choices) == sorted(module("core.adaptation.methods").BATCHNORM_MODES)
    assert choices[0] == module("core.run.config").DEFAULT_BATCHNORM  # index 0 is the default
    assert "STATIONS" not in advanced and "DATES" not in advanced
