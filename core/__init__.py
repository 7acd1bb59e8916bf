"""Soil moisture engine: DenseSM-E, multi-scale domain adaptation and everything around it.

This package never imports QGIS or Qt. Modules inside it import each other relatively, so the
same files work as the top-level ``core`` package (CLI, tests) and as a sub-package of the QGIS
plugin (``soilmoisture.core``), where no generic top-level name leaks into QGIS's Python.
"""

__version__ = "0.1.0"
