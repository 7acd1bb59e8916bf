"""Processing algorithm: validate a soil moisture raster against station data."""

from __future__ import annotations

import math
from typing import Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputFile,
    QgsProcessingOutputMultipleLayers,
    QgsProcessingOutputNumber,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
)

from ..i18n import tr
from .base import SoilMoistureAlgorithm

METRICS = ("n", "r", "rmse", "ubrmse", "bias")
"""Metrics returned as outputs (names of the engine's MetricsReport)."""


def metric_value(metrics: Any, name: str) -> float:
    """Return a metric from the engine's report object or dict (NaN when absent)."""
    if metrics is None:
        return float("nan")
    pooled = (
        metrics.get("pooled") if isinstance(metrics, dict) else getattr(metrics, "pooled", None)
    )
    if isinstance(pooled, dict):  # the engine's MetricsReport (or its to_dict())
        metrics = pooled
    value = metrics.get(name) if isinstance(metrics, dict) else getattr(metrics, name, None)
    if isinstance(value, dict):  # {"value": x, "ci": [...]} forms
        value = value.get("value")
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


class ValidateRasterAlgorithm(SoilMoistureAlgorithm):
    """Compare a soil moisture GeoTIFF with station readings of its date: metrics and charts."""

    INPUT = "INPUT"
    DATE = "DATE"
    OUTPUT_FOLDER = "OUTPUT_FOLDER"
    REPORT = "REPORT"
    CHARTS = "CHARTS"

    def name(self) -> str:
        """Algorithm id."""
        return "validateraster"

    def displayName(self) -> str:  # noqa: N802 (QGIS API)
        """Name in the toolbox."""
        return tr("Validate a soil moisture raster against stations")

    def shortHelpString(self) -> str:  # noqa: N802 (QGIS API)
        """Help shown beside the dialog."""
        return tr(
            "Samples a soil moisture map (m3/m3) at the stations that have a reading on the "
            "map's date and reports the number of stations, correlation R, RMSE, unbiased "
            "RMSE and bias, with a scatter chart. The date is read from the raster's metadata "
            "unless given."
        )

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:  # noqa: N802
        """Declare the parameters."""
        self.addParameter(QgsProcessingParameterRasterLayer(self.INPUT, tr("Soil moisture raster")))
        self.add_stations_parameter()
        self.addParameter(
            QgsProcessingParameterString(
                self.DATE,
                tr("Date of the raster, YYYY-MM-DD (empty: from its metadata)"),
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterFolderDestination(self.OUTPUT_FOLDER, tr("Folder for the charts"))
        )
        self.addOutput(QgsProcessingOutputFile(self.REPORT, tr("Validation metrics (JSON)")))
        self.addOutput(QgsProcessingOutputMultipleLayers(self.CHARTS, tr("Charts (PNG)")))
        for name in METRICS:
            self.addOutput(QgsProcessingOutputNumber(name.upper(), name.upper()))

    def processAlgorithm(  # noqa: N802 (QGIS API)
        self,
        parameters: dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
    ) -> dict[str, Any]:
        """Run the engine's raster validation."""
        import inspect
        from pathlib import Path

        from ...core.run.raster_check import validate_raster

        layer = self.parameterAsRasterLayer(parameters, self.INPUT, context)
        if layer is None:
            raise QgsProcessingException(tr("Choose a soil moisture raster."))
        raster = Path(layer.source())
        stations = self.read_station_paths(parameters, context)
        out_dir = Path(self.parameterAsString(parameters, self.OUTPUT_FOLDER, context))
        date_text = self.parameterAsString(parameters, self.DATE, context).strip()
        kwargs: dict[str, Any] = {}
        accepted = inspect.signature(validate_raster).parameters
        if date_text:
            kwargs["date"] = self.read_dates({self.DATES: date_text}, context)[0]
        if "out_dir" in accepted:
            kwargs["out_dir"] = out_dir
        if "progress" in accepted:
            kwargs["progress"] = self.progress(feedback)
        result = self.engine(lambda: validate_raster(raster, stations, **kwargs))
        for warning in result.warnings:
            feedback.pushWarning(warning)
        outputs: dict[str, Any] = {
            self.OUTPUT_FOLDER: str(out_dir),
            self.REPORT: str(result.report_json or ""),
            self.CHARTS: [str(p) for p in result.charts.values()],
        }
        for name in METRICS:
            outputs[name.upper()] = metric_value(result.metrics, name)
        shown = ", ".join(
            f"{n.upper()} {outputs[n.upper()]:.3f}"
            for n in METRICS
            if not math.isnan(outputs[n.upper()])
        )
        feedback.pushInfo(
            tr("Validation on {date}: {metrics}").format(date=result.date, metrics=shown)
        )
        return outputs
