"""The validation report of a run: charts (PNG), a self-contained HTML page and a JSON file.

Layout written by :func:`write_report` into ``out_dir``::

    report.html          self-contained (charts embedded as base64 PNG)
    report.json          the same numbers, machine-readable
    report_files/*.png   the charts as separate files

Everything is rendered into a hidden staging folder first and published only when complete;
``report.html`` is renamed into place last, so its presence means the report is whole. A failure
or a cancel midway leaves the folder as it was (no new ``report.html``, no half-written file).

Charts use matplotlib's object API (``matplotlib.figure.Figure`` with the Agg canvas), never
pyplot's global state, so they are safe inside QGIS and in threads. matplotlib and pandas are
imported inside the functions that need them.
"""

from .charts import DRY_TO_WET, TIMESERIES_SERIES, map_png, scatter_density_png, timeseries_png
from .writer import FILES_DIR, ReportPaths, write_report

__all__ = [
    "DRY_TO_WET",
    "FILES_DIR",
    "TIMESERIES_SERIES",
    "ReportPaths",
    "map_png",
    "scatter_density_png",
    "timeseries_png",
    "write_report",
]
