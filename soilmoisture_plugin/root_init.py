"""Source of the plugin folder's ``__init__.py`` (``soilmoisture/__init__.py`` in QGIS).

``scripts/package.py`` copies this file as the plugin root's ``__init__.py`` when it stages the
plugin (the release zip, or a development folder of links). It is not kept as ``__init__.py``
at the repository root, because pytest would then treat the whole checkout as a package and
rename every test module (``main.tests...``) and change ``sys.path``.

QGIS calls :func:`classFactory` once; the plugin class is imported inside it, so loading the
package costs nothing until QGIS starts the plugin.
"""


def classFactory(iface):  # noqa: ANN001, ANN201, N802 (QGIS API)
    """Return the plugin instance QGIS asks for."""
    from .soilmoisture_plugin.plugin import SoilMoisturePlugin

    return SoilMoisturePlugin(iface)
