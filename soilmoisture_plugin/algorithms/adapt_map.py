"""Processing algorithm: Adapt & Map (adapt the ensemble to the stations, then map)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputFile,
    QgsProcessingOutputFolder,
    QgsProcessingOutputMultipleLayers,
    QgsProcessingOutputNumber,
    QgsProcessingOutputRasterLayer,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterCrs,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
)

from ..adapters import crs_text
from ..compat import NUMBER_DOUBLE, NUMBER_INTEGER
from ..i18n import tr
from .base import (
    BATCHNORM_CHOICES,
    DEVICES,
    SoilMoistureAlgorithm,
    advanced,
    consistency_choice,
)


class AdaptMapAlgorithm(SoilMoistureAlgorithm):
    """Adapt the DenseSM-E ensemble to station data and map soil moisture at 50 m."""

    ALPHA = "ALPHA"
    TRAIN_START = "TRAIN_START"
    TRAIN_END = "TRAIN_END"
    EPOCHS = "EPOCHS"
    BATCHNORM = "BATCHNORM"
    CONSISTENCY = "CONSISTENCY"
    SEED = "SEED"
    DEVICE = "DEVICE"
    MODELS = "MODELS"
    CROSS_VALIDATE = "CROSS_VALIDATE"
    REPROJECT_CRS = "REPROJECT_CRS"
    OUTPUT_FOLDER = "OUTPUT_FOLDER"
    OUTPUT = "OUTPUT"
    OUTPUT_RASTERS = "OUTPUT_RASTERS"
    OUTPUT_BLENDED = "OUTPUT_BLENDED"
    REPORT = "REPORT"
    ENSEMBLE = "ENSEMBLE"
    ALPHA_USED = "ALPHA_USED"

    def name(self) -> str:
        """Algorithm id."""
        return "adaptmap"

    def displayName(self) -> str:  # noqa: N802 (QGIS API)
        """Name in the toolbox."""
        return tr("Adapt & Map")

    def shortHelpString(self) -> str:  # noqa: N802 (QGIS API)
        """Help shown beside the dialog."""
        return tr(
            "Adapts the 25 pretrained DenseSM models to your soil moisture stations with "
            "multi-scale domain adaptation (MSDA, or another method) and maps surface soil "
            "moisture (0-5 cm, m3/m3) at 50 m over the area of interest on each Sentinel-1 "
            "date. Each GeoTIFF has two bands: the ensemble mean and its spread. The folder "
            "also receives the adapted ensemble (reuse it with Map with a saved ensemble), an "
            "HTML validation report with charts and a run manifest. Alpha (the weight of the "
            "50 m loss) is chosen automatically when left empty."
        )

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:  # noqa: N802
        """Declare the parameters."""
        self.add_aoi_parameters()
        self.add_stations_parameter()
        self.add_dates_parameter()
        self.add_source_parameter()
        self.add_method_parameter()
        self._add_adaptation_parameters()
        self._add_run_parameters()
        self._add_outputs()

    def _add_adaptation_parameters(self) -> None:
        """Alpha and the training period (advanced)."""
        self.addParameter(
            advanced(
                QgsProcessingParameterNumber(
                    self.ALPHA,
                    tr("Alpha, weight of the 50 m loss (empty: automatic)"),
                    NUMBER_DOUBLE,
                    optional=True,
                    minValue=0.0,
                    maxValue=1.0,
                )
            )
        )
        self.addParameter(
            advanced(
                QgsProcessingParameterString(
                    self.TRAIN_START,
                    tr("Training period start, YYYY-MM-DD (empty: one year before)"),
                    optional=True,
                )
            )
        )
        self.addParameter(
            advanced(
                QgsProcessingParameterString(
                    self.TRAIN_END,
                    tr("Training period end, YYYY-MM-DD (empty: the first map date)"),
                    optional=True,
                )
            )
        )

    def _add_run_parameters(self) -> None:
        """Epochs, seed, device, models, cross-validation and reprojection (advanced)."""
        self.addParameter(
            advanced(
                QgsProcessingParameterNumber(
                    self.EPOCHS,
                    tr("Adaptation epochs"),
                    NUMBER_INTEGER,
                    defaultValue=50,
                    minValue=1,
                )
            )
        )
        self.addParameter(
            advanced(
                QgsProcessingParameterEnum(
                    self.BATCHNORM,
                    tr("BatchNorm during adaptation"),
                    [tr(label) for _, label in BATCHNORM_CHOICES],
                    defaultValue=0,
                )
            )
        )
        self.addParameter(
            advanced(
                QgsProcessingParameterBoolean(
                    self.CONSISTENCY,
                    tr("Keep the 50 m map consistent with SMAP at 9 km"),
                    defaultValue=True,
                )
            )
        )
        self.addParameter(
            advanced(
                QgsProcessingParameterNumber(
                    self.SEED, tr("Random seed"), NUMBER_INTEGER, defaultValue=0
                )
            )
        )
        self.addParameter(
            advanced(
                QgsProcessingParameterEnum(
                    self.DEVICE, tr("Device"), [tr(label) for _, label in DEVICES], defaultValue=0
                )
            )
        )
        self.addParameter(
            advanced(
                QgsProcessingParameterString(
                    self.MODELS,
                    tr("Pretrained model set (installed name or folder)"),
                    defaultValue="densesm_9km",
                )
            )
        )
        self.addParameter(
            advanced(
                QgsProcessingParameterBoolean(
                    self.CROSS_VALIDATE,
                    tr("Cross-validate (leave one station out)"),
                    defaultValue=True,
                )
            )
        )
        self.addParameter(
            advanced(
                QgsProcessingParameterCrs(
                    self.REPROJECT_CRS, tr("Also write maps reprojected to this CRS"), optional=True
                )
            )
        )

    def _add_outputs(self) -> None:
        """The output folder, and what the algorithm returns."""
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
        self.addOutput(QgsProcessingOutputFile(self.REPORT, tr("Validation report (HTML)")))
        self.addOutput(QgsProcessingOutputFolder(self.ENSEMBLE, tr("Adapted ensemble")))
        self.addOutput(QgsProcessingOutputNumber(self.ALPHA_USED, tr("Alpha used")))

    def _optional_date(
        self, parameters: dict[str, Any], name: str, context: QgsProcessingContext
    ) -> dt.date | None:
        text = self.parameterAsString(parameters, name, context).strip()
        if not text:
            return None
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise QgsProcessingException(
                tr("{text!r} is not a date; use YYYY-MM-DD").format(text=text)
            ) from None

    def processAlgorithm(  # noqa: N802 (QGIS API)
        self,
        parameters: dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
    ) -> dict[str, Any]:
        """Build the engine configuration and run it."""
        from ...core.run.adapt_map import run_adapt_map
        from ...core.run.config import AdaptMapConfig

        aoi = self.read_aoi(parameters, context)
        alpha = None
        if parameters.get(self.ALPHA) not in (None, ""):
            alpha = self.parameterAsDouble(parameters, self.ALPHA, context)
        reproject = self.parameterAsCrs(parameters, self.REPROJECT_CRS, context)
        config = self.engine(
            lambda: AdaptMapConfig(
                aoi=aoi,
                stations=tuple(self.read_station_paths(parameters, context)),
                dates=self.read_dates(parameters, context),
                out_dir=self.parameterAsString(parameters, self.OUTPUT_FOLDER, context),
                source=self.read_source(parameters, context),
                method=self.read_method(parameters, context),
                alpha=alpha,
                device=DEVICES[self.parameterAsEnum(parameters, self.DEVICE, context)][0],
                train_start=self._optional_date(parameters, self.TRAIN_START, context),
                train_end=self._optional_date(parameters, self.TRAIN_END, context),
                models=self.parameterAsString(parameters, self.MODELS, context) or "densesm_9km",
                seed=self.parameterAsInt(parameters, self.SEED, context),
                epochs=self.parameterAsInt(parameters, self.EPOCHS, context),
                batchnorm=BATCHNORM_CHOICES[
                    self.parameterAsEnum(parameters, self.BATCHNORM, context)
                ][0],
                **consistency_choice(
                    self.parameterAsBoolean(parameters, self.CONSISTENCY, context)
                ),
                cross_validate=self.parameterAsBoolean(parameters, self.CROSS_VALIDATE, context),
                reproject_crs=crs_text(reproject) if reproject.isValid() else None,
            )
        )
        result = self.engine(lambda: run_adapt_map(config, self.progress(feedback)))
        for warning in result.warnings:
            feedback.pushWarning(warning)
        feedback.pushInfo(tr("Alpha: {reason}").format(reason=result.alpha_reason))
        maps = [str(result.maps[d]) for d in sorted(result.maps)]
        self.load_styled_rasters(maps, context, self.OUTPUT, tr("Soil moisture"))
        return {
            self.OUTPUT_FOLDER: str(result.out_dir),
            self.OUTPUT: maps[0],
            self.OUTPUT_RASTERS: maps,
            self.OUTPUT_BLENDED: [str(result.blended[d]) for d in sorted(result.blended)],
            self.REPORT: str(result.report_html or result.report_json),
            self.ENSEMBLE: str(result.ensemble_dir or ""),
            self.ALPHA_USED: result.alpha if result.alpha is not None else float("nan"),
        }
