"""Processing algorithm: list the Sentinel-1 acquisitions over an area."""

from __future__ import annotations

import datetime as dt
from typing import Any

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsFeature,
    QgsFeatureSink,
    QgsField,
    QgsFields,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputString,
    QgsProcessingParameterDateTime,
    QgsProcessingParameterFeatureSink,
)
from qgis.PyQt.QtCore import QDate

from ..compat import DATETIME_DATE, TYPE_VECTOR, WKB_NO_GEOMETRY, field_type
from ..i18n import tr
from .base import SoilMoistureAlgorithm


def _to_date(value: Any) -> dt.date:
    """Return a ``datetime.date`` from what ``parameterAsDateTime`` returns."""
    qdate = value.date() if hasattr(value, "date") else value
    if isinstance(qdate, QDate):
        return dt.date(qdate.year(), qdate.month(), qdate.day())
    return qdate


class ListDatesAlgorithm(SoilMoistureAlgorithm):
    """Sentinel-1 dates over the AOI between two dates, as a table and a list of dates."""

    START = "START"
    END = "END"
    OUTPUT = "OUTPUT"
    DATES_OUT = "DATES_OUT"

    def name(self) -> str:
        """Algorithm id."""
        return "listsentinel1dates"

    def displayName(self) -> str:  # noqa: N802 (QGIS API)
        """Name in the toolbox."""
        return tr("List Sentinel-1 dates")

    def shortHelpString(self) -> str:  # noqa: N802 (QGIS API)
        """Help shown beside the dialog."""
        return tr(
            "Lists the Sentinel-1 acquisitions over the area of interest between two dates: "
            "date, orbit pass, relative orbit and the share of the area covered. The dates "
            "output can feed the Map date(s) of Adapt & Map in a model."
        )

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:  # noqa: N802
        """Declare the parameters."""
        self.add_aoi_parameters()
        self.add_source_parameter()
        today = QDate.currentDate()
        self.addParameter(
            QgsProcessingParameterDateTime(
                self.START, tr("From"), DATETIME_DATE, defaultValue=today.addDays(-60)
            )
        )
        self.addParameter(
            QgsProcessingParameterDateTime(self.END, tr("To"), DATETIME_DATE, defaultValue=today)
        )
        self.addParameter(
            QgsProcessingParameterFeatureSink(
                self.OUTPUT, tr("Sentinel-1 acquisitions"), TYPE_VECTOR
            )
        )
        self.addOutput(QgsProcessingOutputString(self.DATES_OUT, tr("Dates (comma separated)")))

    def processAlgorithm(  # noqa: N802 (QGIS API)
        self,
        parameters: dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
    ) -> dict[str, Any]:
        """Ask the source for the acquisitions and write the table."""
        from ...core.inputs.sources import get_source

        aoi = self.read_aoi(parameters, context)
        start = _to_date(self.parameterAsDateTime(parameters, self.START, context))
        end = _to_date(self.parameterAsDateTime(parameters, self.END, context))
        if end < start:
            raise QgsProcessingException(tr("The end date is before the start date."))
        source_name = self.read_source(parameters, context)
        feedback.pushInfo(
            tr("Searching Sentinel-1 acquisitions from {start} to {end}").format(
                start=start, end=end
            )
        )
        acquisitions = self.engine(
            lambda: get_source(source_name).list_acquisitions(
                aoi.window9(), start, end, self.progress(feedback)
            )
        )
        fields = QgsFields()
        fields.append(QgsField("date", field_type("string")))
        fields.append(QgsField("pass", field_type("string")))
        fields.append(QgsField("orbit", field_type("int")))
        fields.append(QgsField("coverage", field_type("double")))
        sink, dest_id = self.parameterAsSink(
            parameters,
            self.OUTPUT,
            context,
            fields,
            WKB_NO_GEOMETRY,
            QgsCoordinateReferenceSystem(),
        )
        for acq in acquisitions:
            feature = QgsFeature(fields)
            feature.setAttributes(
                [acq.date.isoformat(), acq.orbit_pass, int(acq.relative_orbit), float(acq.coverage)]
            )
            sink.addFeature(feature, QgsFeatureSink.Flag.FastInsert)
        dates = ",".join(sorted({a.date.isoformat() for a in acquisitions}))
        feedback.pushInfo(tr("{n} acquisitions").format(n=len(acquisitions)))
        return {self.OUTPUT: dest_id, self.DATES_OUT: dates}
