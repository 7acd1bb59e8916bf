"""Shared parameters and helpers of the soil moisture Processing algorithms.

Each algorithm lives in its own module and subclasses :class:`SoilMoistureAlgorithm`, which
declares the parameters several of them share (AOI layer or extent, station files, dates, data
source, method), reads them into engine types, and turns engine errors into
:class:`QgsProcessingException` with the engine's user-facing message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from qgis.core import (
    QgsMessageLog,
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingLayerPostProcessorInterface,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterExtent,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterString,
    QgsProject,
    QgsRasterLayer,
)
from qgis.PyQt.QtCore import QT_TRANSLATE_NOOP
from qgis.PyQt.QtGui import QIcon

from ...core.errors import OUT_OF_MEMORY, Cancelled, SoilMoistureError, describe_os_error
from ..adapters import (
    aoi_from_extent,
    aoi_from_geometry,
    expand_station_paths,
    parse_dates,
    union_geometry,
)
from ..compat import FLAG_ADVANCED, MSG_CRITICAL, TYPE_FILE, TYPE_VECTOR_POLYGON
from ..deps import DependencyReport, check_dependencies
from ..i18n import tr
from ..progress import FeedbackProgress
from ..styling import style_soil_moisture, style_spread

T = TypeVar("T")

SOURCES: tuple[tuple[str, str], ...] = (
    ("gee", QT_TRANSLATE_NOOP("@default", "Google Earth Engine")),
    ("demo", QT_TRANSLATE_NOOP("@default", "Demo (simulated scene, no account)")),
)
"""Engine source name and label, in the order of the SOURCE enum."""

METHODS: tuple[tuple[str, str], ...] = (
    ("msda", QT_TRANSLATE_NOOP("@default", "MSDA: multi-scale domain adaptation (recommended)")),
    ("ms", QT_TRANSLATE_NOOP("@default", "MS: multi-scale fine-tuning")),
    ("da", QT_TRANSLATE_NOOP("@default", "DA: domain adaptation")),
    ("finetune", QT_TRANSLATE_NOOP("@default", "Fine-tune on the stations")),
    ("pretrained", QT_TRANSLATE_NOOP("@default", "Pretrained only (no adaptation)")),
)
"""Engine method name and label, in the order of the METHOD enum."""

DEVICES: tuple[tuple[str, str], ...] = (
    ("cpu", "CPU"),
    ("cuda", QT_TRANSLATE_NOOP("@default", "CUDA (GPU)")),
)

BATCHNORM_CHOICES: tuple[tuple[str, str], ...] = (
    ("pretrained", QT_TRANSLATE_NOOP("@default", "Pretrained statistics (the default)")),
    ("batch", QT_TRANSLATE_NOOP("@default", "Batch statistics (the method as published)")),
)
"""``AdaptMapConfig.batchnorm`` values and their labels, in the order of the parameter (the
first is the engine's default)."""


def consistency_choice(on: bool) -> dict[str, float]:
    """``AdaptMapConfig`` keywords of the 9 km consistency choice.

    On: nothing (the engine's default weight); off: 0 (the method as published).
    """
    return {} if on else {"consistency": 0.0}


def missing_packages_message(report: DependencyReport) -> str:
    """Say which packages are missing and how to install them (Processing, qgis_process)."""
    return tr(
        "{summary} Install them from the Soil Moisture dock (Options > Python packages…) or "
        "with: {command}"
    ).format(summary=report.summary(), command=report.install_command())


def advanced(param: QgsProcessingParameterDefinition) -> QgsProcessingParameterDefinition:
    """Flag a parameter as advanced (shown under "Advanced Parameters")."""
    param.setFlags(param.flags() | FLAG_ADVANCED)
    return param


class StyleRasterPostProcessor(QgsProcessingLayerPostProcessorInterface):
    """Style a soil moisture output layer once Processing has loaded it."""

    def __init__(self, band: int = 1) -> None:
        super().__init__()
        self.band = band

    def postProcessLayer(  # noqa: N802 (QGIS API)
        self, layer: Any, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> None:
        """Apply the soil moisture (band 1) or spread (band 2) ramp."""
        if isinstance(layer, QgsRasterLayer) and layer.isValid():
            if self.band == 1:
                style_soil_moisture(layer, 1)
            else:
                style_spread(layer, 2)


_POST_PROCESSORS: list[StyleRasterPostProcessor] = []
"""Keeps post-processors alive until QGIS has used them (Processing holds raw pointers)."""


class SoilMoistureAlgorithm(QgsProcessingAlgorithm):
    """Base class: group, icon, shared parameters and engine error handling."""

    AOI = "AOI"
    EXTENT = "EXTENT"
    STATIONS = "STATIONS"
    DATES = "DATES"
    SOURCE = "SOURCE"
    METHOD = "METHOD"

    def group(self) -> str:
        """Group shown in the toolbox."""
        return tr("Soil moisture")

    def groupId(self) -> str:  # noqa: N802 (QGIS API)
        """Stable group id."""
        return "soilmoisture"

    def icon(self) -> QIcon:
        """Return the plugin icon."""
        from ..plugin import plugin_icon

        return plugin_icon()

    def createInstance(self) -> QgsProcessingAlgorithm:  # noqa: N802 (QGIS API)
        """Return a fresh instance of the same algorithm."""
        return type(self)()

    needs_packages = True
    """False for an algorithm that runs without the engine's Python packages."""

    def prepareAlgorithm(  # noqa: N802 (QGIS API)
        self,
        parameters: dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback | None,
    ) -> bool:
        """Refuse to start, with what to install, when the engine's packages are missing.

        Raises:
            QgsProcessingException: A package a run needs cannot be imported.

        """
        if self.needs_packages:
            report = check_dependencies()
            if not report.can_run:
                raise QgsProcessingException(missing_packages_message(report))
        return True

    # -- shared parameters --------------------------------------------------------------------
    def add_aoi_parameters(self) -> None:
        """AOI polygon layer (selected features honoured) or, instead, an extent."""
        self.addParameter(
            QgsProcessingParameterFeatureSource(
                self.AOI,
                tr("Area of interest (polygon layer)"),
                [TYPE_VECTOR_POLYGON],
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterExtent(
                self.EXTENT,
                tr("Area of interest (extent, used when no layer is given)"),
                optional=True,
            )
        )

    def add_stations_parameter(self, optional: bool = False) -> None:
        """Station files: ISMN .stm files, station CSVs or zip archives."""
        self.addParameter(
            QgsProcessingParameterMultipleLayers(
                self.STATIONS,
                tr("Station files (ISMN .stm, station CSV or .zip)"),
                TYPE_FILE,
                optional=optional,
            )
        )

    def add_dates_parameter(self) -> None:
        """One or more map dates, ``YYYY-MM-DD`` separated by commas."""
        self.addParameter(
            QgsProcessingParameterString(
                self.DATES, tr("Map date(s), YYYY-MM-DD, separated by commas")
            )
        )

    def add_source_parameter(self) -> None:
        """Return the input data source (Earth Engine or the demo scene)."""
        self.addParameter(
            QgsProcessingParameterEnum(
                self.SOURCE, tr("Data source"), [tr(label) for _, label in SOURCES], defaultValue=0
            )
        )

    def add_method_parameter(self) -> None:
        """Return the adaptation method (MSDA by default)."""
        self.addParameter(
            QgsProcessingParameterEnum(
                self.METHOD,
                tr("Adaptation method"),
                [tr(label) for _, label in METHODS],
                defaultValue=0,
            )
        )

    # -- reading parameters -------------------------------------------------------------------
    def read_aoi(self, parameters: dict[str, Any], context: QgsProcessingContext) -> Any:
        """Return the engine AOI from the layer (or its selection) or else the extent.

        Raises:
            QgsProcessingException: Neither given, or the AOI is unusable.

        """
        try:
            source = self.parameterAsSource(parameters, self.AOI, context)
            if source is not None:
                geometry = union_geometry(source.getFeatures())
                return aoi_from_geometry(geometry, source.sourceCrs(), name=tr("AOI"))
            extent = self.parameterAsExtent(parameters, self.EXTENT, context)
            if extent is not None and not extent.isEmpty():
                crs = self.parameterAsExtentCrs(parameters, self.EXTENT, context)
                if not crs.isValid():
                    crs = (
                        context.project().crs()
                        if context.project()
                        else QgsProject.instance().crs()
                    )
                return aoi_from_extent(extent, crs)
        except SoilMoistureError as exc:
            raise QgsProcessingException(str(exc)) from exc
        raise QgsProcessingException(tr("Give an area of interest: a polygon layer or an extent."))

    def read_station_paths(
        self, parameters: dict[str, Any], context: QgsProcessingContext
    ) -> list[Path]:
        """Return the station file paths."""
        values = parameters.get(self.STATIONS) or []
        if isinstance(values, str):
            values = [v for v in values.split(";") if v]
        paths = [Path(str(v)) for v in values]
        missing = [str(p) for p in paths if not p.exists()]
        if missing:
            raise QgsProcessingException(
                tr("Station file not found: {paths}").format(paths=", ".join(missing))
            )
        return expand_station_paths(paths)

    def read_dates(
        self, parameters: dict[str, Any], context: QgsProcessingContext
    ) -> tuple[dt.date, ...]:
        """Return the map dates."""
        return self.engine(
            lambda: parse_dates(self.parameterAsString(parameters, self.DATES, context))
        )

    def read_source(self, parameters: dict[str, Any], context: QgsProcessingContext) -> str:
        """Return the engine's source name."""
        return SOURCES[self.parameterAsEnum(parameters, self.SOURCE, context)][0]

    def read_method(self, parameters: dict[str, Any], context: QgsProcessingContext) -> str:
        """Return the engine's method name."""
        return METHODS[self.parameterAsEnum(parameters, self.METHOD, context)][0]

    # -- running the engine -------------------------------------------------------------------
    @staticmethod
    def progress(feedback: QgsProcessingFeedback | None) -> FeedbackProgress:
        """Return an engine progress reporting to ``feedback`` and honouring its cancel."""
        return FeedbackProgress(feedback)

    @staticmethod
    def engine(call: Callable[[], T]) -> T:
        """Run an engine call; its user-facing errors become :class:`QgsProcessingException`."""
        try:
            return call()
        except Cancelled as exc:
            raise QgsProcessingException(
                tr("Cancelled by the user; nothing half-written was kept.")
            ) from exc
        except SoilMoistureError as exc:
            raise QgsProcessingException(str(exc)) from exc
        except ImportError as exc:
            report = check_dependencies()
            if report.can_run:  # installed, but broken: say which import failed
                raise QgsProcessingException(
                    tr("A Python package could not be imported: {error}").format(error=exc)
                ) from exc
            raise QgsProcessingException(missing_packages_message(report)) from exc
        except MemoryError as exc:
            raise QgsProcessingException(OUT_OF_MEMORY) from exc
        except OSError as exc:
            raise QgsProcessingException(describe_os_error(exc)) from exc
        except Exception as exc:  # noqa: BLE001 - Processing must never show a traceback
            import traceback

            QgsMessageLog.logMessage(
                "".join(traceback.format_exception(exc)), "Soil Moisture", MSG_CRITICAL
            )
            raise QgsProcessingException(
                tr(
                    "Internal error {kind}: {error}. Nothing half-written was kept. This is a "
                    "defect of the plugin: please report it with the details from the Soil "
                    "Moisture tab of the Log Messages panel."
                ).format(kind=type(exc).__name__, error=exc)
            ) from exc

    @staticmethod
    def load_styled_rasters(
        paths: list[str], context: QgsProcessingContext, output_name: str, name_prefix: str
    ) -> None:
        """Ask Processing to load each map, styled dry-to-wet, when the algorithm ends.

        The spread (band 2) stays in the file; the dock adds it as a second styled layer.
        """
        for path in paths:
            details = QgsProcessingContext.LayerDetails(
                f"{name_prefix} {Path(path).stem}", context.project(), output_name
            )
            post = StyleRasterPostProcessor(1)
            _POST_PROCESSORS.append(post)
            details.setPostProcessor(post)
            context.addLayerToLoadOnCompletion(path, details)
