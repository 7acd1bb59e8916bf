"""The dock's sections: area, stations, dates, options, Earth Engine, run, results.

Each section is a collapsible group box that builds its own widgets, says what happened with
signals and can be built and tested alone; :class:`~soilmoisture_plugin.gui.dock.SoilMoistureDock`
composes them and wires the run.
"""

from .area import AreaSection
from .dates import SEARCH_DAYS, DatesSection
from .earth_engine import EarthEngineSection
from .method import MethodSection
from .results import DOCK_CHARTS, ResultsSection, chart_files, metric_rows
from .run import RunSection, blocked_reason
from .stations import FAR_KM, StationsSection, far_stations

__all__ = [
    "DOCK_CHARTS",
    "FAR_KM",
    "SEARCH_DAYS",
    "AreaSection",
    "DatesSection",
    "EarthEngineSection",
    "MethodSection",
    "ResultsSection",
    "RunSection",
    "StationsSection",
    "blocked_reason",
    "chart_files",
    "far_stations",
    "metric_rows",
]
