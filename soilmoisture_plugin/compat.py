"""Small shims for QGIS and Qt enums that moved between QGIS 3.22 and the current releases.

QGIS 3.22 (the minimum version) only has the old enum forms (``QgsProcessing.TypeVectorPolygon``,
``QgsWkbTypes.PolygonGeometry``, ...). Newer 3.x releases add scoped enums on :class:`Qgis`
(``Qgis.ProcessingSourceType.VectorPolygon``) and QGIS 4 (Qt 6) drops the old forms. Every enum
the plugin uses whose location changed is resolved here once, preferring the new location, so
the rest of the code never tests versions.
"""

from __future__ import annotations

from typing import Any

from qgis.core import (
    Qgis,
    QgsColorRampShader,
    QgsMapLayerProxyModel,
    QgsMapLayerType,
    QgsProcessing,
    QgsProcessingParameterDateTime,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
    QgsTask,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QVariant


def _pick(new_owner: Any, new_path: str, old_owner: Any, old_name: str) -> Any:
    """Return ``new_owner.<new_path>`` when it exists, else ``old_owner.<old_name>``."""
    obj = new_owner
    for part in new_path.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return getattr(old_owner, old_name)
    return obj


# -- Processing -------------------------------------------------------------------------------
TYPE_VECTOR_POLYGON = _pick(
    Qgis, "ProcessingSourceType.VectorPolygon", QgsProcessing, "TypeVectorPolygon"
)
TYPE_VECTOR_POINT = _pick(
    Qgis, "ProcessingSourceType.VectorPoint", QgsProcessing, "TypeVectorPoint"
)
TYPE_VECTOR = _pick(Qgis, "ProcessingSourceType.Vector", QgsProcessing, "TypeVector")
TYPE_FILE = _pick(Qgis, "ProcessingSourceType.File", QgsProcessing, "TypeFile")
NUMBER_DOUBLE = _pick(
    Qgis, "ProcessingNumberParameterType.Double", QgsProcessingParameterNumber, "Double"
)
NUMBER_INTEGER = _pick(
    Qgis, "ProcessingNumberParameterType.Integer", QgsProcessingParameterNumber, "Integer"
)
FILE_BEHAVIOR_FILE = _pick(
    Qgis, "ProcessingFileParameterBehavior.File", QgsProcessingParameterFile, "File"
)
FILE_BEHAVIOR_FOLDER = _pick(
    Qgis, "ProcessingFileParameterBehavior.Folder", QgsProcessingParameterFile, "Folder"
)
FLAG_ADVANCED = _pick(
    Qgis, "ProcessingParameterFlag.Advanced", QgsProcessingParameterDefinition, "FlagAdvanced"
)
FLAG_OPTIONAL = _pick(
    Qgis, "ProcessingParameterFlag.Optional", QgsProcessingParameterDefinition, "FlagOptional"
)
DATETIME_DATE = _pick(
    Qgis, "ProcessingDateTimeParameterDataType.Date", QgsProcessingParameterDateTime, "Date"
)

# -- Geometry and layers ----------------------------------------------------------------------
GEOMETRY_POLYGON = _pick(Qgis, "GeometryType.Polygon", QgsWkbTypes, "PolygonGeometry")
GEOMETRY_LINE = _pick(Qgis, "GeometryType.Line", QgsWkbTypes, "LineGeometry")
WKB_POINT = _pick(Qgis, "WkbType.Point", QgsWkbTypes, "Point")
WKB_NO_GEOMETRY = _pick(Qgis, "WkbType.NoGeometry", QgsWkbTypes, "NoGeometry")
LAYER_VECTOR = _pick(Qgis, "LayerType.Vector", QgsMapLayerType, "VectorLayer")
LAYER_RASTER = _pick(Qgis, "LayerType.Raster", QgsMapLayerType, "RasterLayer")
FILTER_POLYGON_LAYER = _pick(
    Qgis, "LayerFilter.PolygonLayer", QgsMapLayerProxyModel, "PolygonLayer"
)

# -- Rendering, tasks, messages ---------------------------------------------------------------
SHADER_INTERPOLATED = _pick(
    Qgis, "ShaderInterpolationMethod.Linear", QgsColorRampShader, "Interpolated"
)
TASK_CAN_CANCEL = _pick(Qgis, "TaskFlag.CanCancel", QgsTask, "CanCancel")
MSG_INFO = _pick(Qgis, "MessageLevel.Info", Qgis, "Info")
MSG_WARNING = _pick(Qgis, "MessageLevel.Warning", Qgis, "Warning")
MSG_CRITICAL = _pick(Qgis, "MessageLevel.Critical", Qgis, "Critical")
MSG_SUCCESS = _pick(Qgis, "MessageLevel.Success", Qgis, "Success")


def field_type(name: str) -> Any:
    """Return the type value :class:`QgsField` expects for ``"string"``, ``"int"`` or ``"double"``.

    QGIS >= 3.38 takes ``QMetaType.Type`` (and Qt 6 has no ``QVariant.Type``); older releases
    take ``QVariant.Type``.
    """
    old = {"string": "String", "int": "Int", "double": "Double"}[name]
    if Qgis.versionInt() >= 33800:
        from qgis.PyQt.QtCore import QMetaType

        new = {"string": "QString", "int": "Int", "double": "Double"}[name]
        return getattr(QMetaType.Type, new)
    return getattr(QVariant, old)


def exec_dialog(dialog: Any) -> int:
    """Run a modal dialog with ``exec()`` (Qt 6) or ``exec_()`` (Qt 5)."""
    runner = getattr(dialog, "exec", None) or getattr(dialog, "exec_")  # noqa: B009
    return int(runner())
