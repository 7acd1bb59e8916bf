"""Processing algorithm: install the published pretrained DenseSM models."""

from __future__ import annotations

from typing import Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputFolder,
    QgsProcessingOutputString,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFile,
    QgsProcessingParameterString,
)

from ..compat import FILE_BEHAVIOR_FILE, FILE_BEHAVIOR_FOLDER
from ..i18n import tr
from .base import SoilMoistureAlgorithm, advanced


class InstallModelsAlgorithm(SoilMoistureAlgorithm):
    """Install the authors' 25 pretrained models from their zip or a folder (or a URL)."""

    ARCHIVE = "ARCHIVE"
    FOLDER = "FOLDER"
    NAME = "NAME"
    REPLACE = "REPLACE"
    MODEL_SET = "MODEL_SET"
    MODEL_NAME = "MODEL_NAME"

    def name(self) -> str:
        """Algorithm id."""
        return "installmodels"

    def displayName(self) -> str:  # noqa: N802 (QGIS API)
        """Name in the toolbox."""
        return tr("Install pretrained models")

    def shortHelpString(self) -> str:  # noqa: N802 (QGIS API)
        """Help shown beside the dialog."""
        return tr(
            "Installs the published DenseSM 9 km ensemble (25 models) into your model store, "
            "from the authors' DenseSM_9km.zip, a folder of coarse_*.pt files or an http(s) "
            "address of the zip. Checksums are verified; a cancelled or failed install leaves "
            "nothing behind."
        )

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:  # noqa: N802
        """Declare the parameters."""
        self.addParameter(
            QgsProcessingParameterFile(
                self.ARCHIVE,
                tr("Model archive (DenseSM_9km.zip) or its address"),
                FILE_BEHAVIOR_FILE,
                fileFilter=tr("Zip archives (*.zip)"),
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterFile(
                self.FOLDER, tr("Or a folder of model files"), FILE_BEHAVIOR_FOLDER, optional=True
            )
        )
        self.addParameter(
            advanced(
                QgsProcessingParameterString(
                    self.NAME, tr("Name of the installed set"), defaultValue="densesm_9km"
                )
            )
        )
        self.addParameter(
            advanced(
                QgsProcessingParameterBoolean(
                    self.REPLACE, tr("Replace an installed set of that name"), defaultValue=False
                )
            )
        )
        self.addOutput(QgsProcessingOutputFolder(self.MODEL_SET, tr("Installed model set")))
        self.addOutput(QgsProcessingOutputString(self.MODEL_NAME, tr("Model set name")))

    def processAlgorithm(  # noqa: N802 (QGIS API)
        self,
        parameters: dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
    ) -> dict[str, Any]:
        """Install with the engine's model store."""
        from ...core.model.store import install

        source = self.parameterAsString(
            parameters, self.ARCHIVE, context
        ) or self.parameterAsString(parameters, self.FOLDER, context)
        if not source:
            raise QgsProcessingException(tr("Give the model archive, its address or a folder."))
        name = self.parameterAsString(parameters, self.NAME, context) or None
        replace = self.parameterAsBoolean(parameters, self.REPLACE, context)
        model_set = self.engine(
            lambda: install(source, name=name, progress=self.progress(feedback), replace=replace)
        )
        feedback.pushInfo(
            tr("Installed {n} models as {name} in {path}").format(
                n=len(model_set.members), name=model_set.name, path=model_set.path
            )
        )
        return {self.MODEL_SET: str(model_set.path), self.MODEL_NAME: model_set.name}
