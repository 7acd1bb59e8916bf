"""The QGIS face of the soil moisture engine: a dock ("Adapt & Map") and a Processing provider.

Inside QGIS this package is ``soilmoisture.soilmoisture_plugin`` and reaches the engine
relatively (``from ..core import ...``), so no generic top-level module leaks into QGIS's
Python. Nothing heavy (torch, earthengine-api) is imported at load time.
"""
