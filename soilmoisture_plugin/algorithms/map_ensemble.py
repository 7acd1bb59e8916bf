"""Processing algorithm: map with a saved adapted ensemble (no retraining)."""

from __future__ import annotations

from typing import Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingOutputMultipleLayers,
    QgsProcessingOutputRasterLayer,
    QgsProcessingParameterFile,
    QgsProcessingParameterFolderDestination,
)

from ..compat import FILE_BEHAVIOR_FOLDER
from ..i18n import tr
from .base import SoilMoistureAlgorithm


class MapWithEnsembleAlgorithm(SoilMoistureAlgorithm):
    """Map soil moisture with an ensemble saved by an earlier Adapt & Map run."""

    ENSEMBLE = "ENSEMBLE"
    OUTPUT_FOLDER = "OUTPUT_FOLDER"
    OUTPUT = "OUTPUT"
    OUTPUT_RASTERS = "OUTPUT_RASTERS"
    OUTPUT_BLENDED = "OUTPUT_BLENDED"

    def name(self) -> str:
        """Algorithm id."""
        return "mapwithensemble"

    def displayName(self) -> str:  # noqa: N802 (QGIS API)
        """Name in the toolbox."""
        return tr("Map with a saved adapted ensemble")

    def shortHelpString(self) -> str:  # noqa: N802 (QGIS API)
        """Help shown beside the dialog."""
        return tr(
            "Maps soil moisture at 50 m on new dates (or a new area) with the adapted ensemble "
            "an Adapt & Map run saved in its output folder (the 'ensemble' sub-folder). No "
            "station data and no retraining are needed."
        )

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:  # noqa: N802
        """Declare the parameters."""
        self.addParameter(
            QgsProcessingParameterFile(
                self.ENSEMBLE, tr("Adapted ensemble folder"), FILE_BEHAVIOR_FOLDER
            )
        )
        self.add_aoi_parameters()
        self.add_dates_parameter()
        self.add_source_parameter()
        self.addParameter(
            QgsProcessingParameterFolderDestination(self.OUTPUT_FOLDER, tr("Output folder"))
        )
        self.addOutput(
            QgsProcessingOutputRasterLayer(self.OUTPUT, tr("Soil moisture map (first date)"))
        )
        self.addOutput(
            QgsProcessingOutputMultipleLayers(self.OUTPUT_RASTERS, tr("Soil moisture maps"))
        )
        self.addOutput(
            QgsProcessingOutputMultipleLayers(
                self.OUTPUT_BLENDED, tr("Soil moisture maps blended with SMAP")
            )
        )

    def processAlgorithm(  # noqa: N802 (QGIS API)
        self,
        parameters: dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
    ) -> dict[str, Any]:
        """Run the engine's mapping with the saved ensemble."""
        from pathlib import Path

        from ...core.run.map_ensemble import run_map_with_ensemble

        ensemble = Path(self.parameterAsFile(parameters, self.ENSEMBLE, context))
        aoi = self.read_aoi(parameters, context)
        dates = self.read_dates(parameters, context)
        out_dir = Path(self.parameterAsString(parameters, self.OUTPUT_FOLDER, context))
        source = self.read_source(parameters, context)
        result = self.engine(
            lambda: run_map_with_ensemble(
                ensemble, aoi, dates, out_dir, source, self.progress(feedback)
            )
        )
        for warning in result.warnings:
            feedback.pushWarning(warning)
        maps = [str(result.maps[d]) for d in sorted(result.maps)]
        self.load_styled_rasters(maps, context, self.OUTPUT, tr("Soil moisture"))
        return {
            self.OUTPUT_FOLDER: str(result.out_dir),
            self.OUTPUT: maps[0],
            self.OUTPUT_RASTERS: maps,
            self.OUTPUT_BLENDED: [str(result.blended[d]) for d in sorted(result.blended)],
        }
