"""The soil moisture Processing provider."""

from __future__ import annotations

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from ..deps import DependencyReport, check_dependencies
from ..i18n import tr
from .adapt_map import AdaptMapAlgorithm
from .install_models import InstallModelsAlgorithm
from .list_dates import ListDatesAlgorithm
from .load_stations import LoadStationsAlgorithm
from .map_ensemble import MapWithEnsembleAlgorithm
from .validate import ValidateRasterAlgorithm

ALGORITHMS = (
    AdaptMapAlgorithm,
    MapWithEnsembleAlgorithm,
    ListDatesAlgorithm,
    LoadStationsAlgorithm,
    ValidateRasterAlgorithm,
    InstallModelsAlgorithm,
)


class SoilMoistureProvider(QgsProcessingProvider):
    """Provider ``soilmoisture``: Adapt & Map and its companions."""

    def __init__(self, dependencies: DependencyReport | None = None) -> None:
        super().__init__()
        self.dependencies = dependencies or check_dependencies()

    def id(self) -> str:
        """Return provider id (prefix of the algorithm ids, e.g. ``soilmoisture:adaptmap``)."""
        return "soilmoisture"

    def name(self) -> str:
        """Name in the toolbox."""
        return tr("Soil moisture")

    def longName(self) -> str:  # noqa: N802 (QGIS API)
        """Longer name (with the version)."""
        from ... import core

        return tr("Soil moisture (DenseSM-E + MSDA) {version}").format(version=core.__version__)

    def icon(self) -> QIcon:
        """Return the plugin icon."""
        from ..plugin import plugin_icon

        return plugin_icon()

    def loadAlgorithms(self) -> None:  # noqa: N802 (QGIS API)
        """Register one instance of each algorithm."""
        for algorithm in ALGORITHMS:
            self.addAlgorithm(algorithm())

    def warningMessage(self) -> str:  # noqa: N802 (QGIS API)
        """Shown in the toolbox when an engine package is missing: what, and how to install."""
        if self.dependencies.ok:
            return ""
        from .base import missing_packages_message

        return missing_packages_message(self.dependencies)
