"""Processing algorithm: read station files into a point layer."""

from __future__ import annotations

from typing import Any

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsFeatureSink,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingOutputNumber,
    QgsProcessingParameterFeatureSink,
)

from ..adapters import station_feature, station_fields, station_rows
from ..compat import TYPE_VECTOR_POINT, WKB_POINT
from ..i18n import tr
from .base import SoilMoistureAlgorithm


class LoadStationsAlgorithm(SoilMoistureAlgorithm):
    """ISMN files, folders, zips or station CSVs to a point layer (one point per sensor)."""

    OUTPUT = "OUTPUT"
    STATION_COUNT = "STATION_COUNT"

    def name(self) -> str:
        """Algorithm id."""
        return "loadstations"

    def displayName(self) -> str:  # noqa: N802 (QGIS API)
        """Name in the toolbox."""
        return tr("Load soil moisture stations")

    def shortHelpString(self) -> str:  # noqa: N802 (QGIS API)
        """Help shown beside the dialog."""
        return tr(
            "Reads ISMN downloads (.stm files, folders or the ISMN .zip) and station CSVs "
            "(columns station, lat, lon, timestamp, sm) and writes one point per surface "
            "(0-5 cm) sensor with its station name, network, number of daily samples and "
            "period. With an area of interest, only the stations inside it are kept."
        )

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:  # noqa: N802
        """Declare the parameters."""
        self.add_stations_parameter()
        self.add_aoi_parameters()
        self.addParameter(
            QgsProcessingParameterFeatureSink(self.OUTPUT, tr("Stations"), TYPE_VECTOR_POINT)
        )
        self.addOutput(QgsProcessingOutputNumber(self.STATION_COUNT, tr("Number of sensors")))

    def processAlgorithm(  # noqa: N802 (QGIS API)
        self,
        parameters: dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
    ) -> dict[str, Any]:
        """Read the files with the engine and write the points."""
        from ...core.inputs.stations import read_station_files

        paths = self.read_station_paths(parameters, context)
        aoi = None
        if parameters.get(self.AOI) or parameters.get(self.EXTENT):
            aoi = self.read_aoi(parameters, context)
        data = self.engine(
            lambda: read_station_files(paths, aoi=aoi, progress=self.progress(feedback))
        )
        for warning in data.warnings:
            feedback.pushWarning(warning)
        rows = station_rows(data)
        fields = station_fields()
        sink, dest_id = self.parameterAsSink(
            parameters,
            self.OUTPUT,
            context,
            fields,
            WKB_POINT,
            QgsCoordinateReferenceSystem("EPSG:4326"),
        )
        for row in rows:
            if feedback.isCanceled():
                break
            sink.addFeature(station_feature(row, fields), QgsFeatureSink.Flag.FastInsert)
        feedback.pushInfo(
            tr("{n} sensors at {s} stations").format(
                n=len(rows), s=len({(r["network"], r["station"]) for r in rows})
            )
        )
        return {self.OUTPUT: dest_id, self.STATION_COUNT: len(rows)}
