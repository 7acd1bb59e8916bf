"""Conversions between QGIS objects and the engine's plain types.

QGIS geometries, extents, CRSs and layers become :class:`~core.inputs.aoi.AOI` objects (through WKT
and a CRS string pyproj understands); station tables become point memory layers; date text
becomes :class:`datetime.date` tuples. The engine never sees a QGIS object.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsFeature,
    QgsField,
    QgsFields,
    QgsGeometry,
    QgsPointXY,
    QgsProject,
    QgsRectangle,
    QgsVectorLayer,
)

from ..core.errors import InputError
from ..core.inputs.grid import cell_size
from .compat import GEOMETRY_POLYGON, field_type
from .i18n import tr

if TYPE_CHECKING:  # the engine's AOI needs shapely and pyproj: imported when first used
    from ..core.inputs.aoi import AOI

EASE2 = "EPSG:6933"
WARN_FRACTION = 0.8
"""Share of the AOI limit above which the dock warns before the limit is reached."""
CELL50_KM2 = cell_size("50m") ** 2 / 1e6


# -- CRS and AOI ------------------------------------------------------------------------------
def crs_text(crs: QgsCoordinateReferenceSystem) -> str:
    """Return a CRS string pyproj accepts: the authority id (``EPSG:32631``) or else the WKT."""
    if not crs.isValid():
        raise InputError(tr("the coordinate reference system is not valid; choose a CRS"))
    auth = crs.authid()
    if auth and auth.split(":")[0].upper() in ("EPSG", "ESRI", "IAU_2015"):
        return auth
    return crs.toWkt()


def aoi_from_geometry(
    geometry: QgsGeometry, crs: QgsCoordinateReferenceSystem, name: str = "AOI"
) -> AOI:
    """Return an engine AOI from a polygon geometry in ``crs``.

    Raises:
        InputError: Empty, non-polygon, invalid or too large geometry (the engine's message).

    """
    if geometry is None or geometry.isEmpty():
        raise InputError(tr("the area of interest is empty: draw or choose a polygon"))
    if geometry.type() != GEOMETRY_POLYGON:
        raise InputError(tr("the area of interest must be a polygon, not a point or a line"))
    from ..core.inputs.aoi import AOI

    return AOI.from_wkt(geometry.asWkt(), crs=crs_text(crs), name=name)


def aoi_from_extent(
    extent: QgsRectangle, crs: QgsCoordinateReferenceSystem, name: str = "extent"
) -> AOI:
    """Return an engine AOI from a rectangle in ``crs``."""
    if extent is None or extent.isEmpty():
        raise InputError(tr("the extent is empty: give xmin, ymin, xmax, ymax with xmin < xmax"))
    from ..core.inputs.aoi import AOI

    return AOI.from_bbox(
        extent.xMinimum(),
        extent.yMinimum(),
        extent.xMaximum(),
        extent.yMaximum(),
        crs=crs_text(crs),
        name=name,
    )


def union_geometry(features: Iterable[QgsFeature]) -> QgsGeometry:
    """Union of the features' geometries (empty geometry when there are none)."""
    geoms = [f.geometry() for f in features if f.hasGeometry()]
    if not geoms:
        return QgsGeometry()
    return QgsGeometry.unaryUnion(geoms)


def aoi_from_layer(layer: QgsVectorLayer, selected_only: bool = False) -> AOI:
    """Return an engine AOI from a polygon layer (all features, or the selected ones).

    Raises:
        InputError: No polygon features (or no selection when ``selected_only``).

    """
    if layer is None or not layer.isValid():
        raise InputError(tr("choose a valid polygon layer for the area of interest"))
    if layer.geometryType() != GEOMETRY_POLYGON:
        raise InputError(tr("layer {name} has no polygons").format(name=layer.name()))
    features = layer.getSelectedFeatures() if selected_only else layer.getFeatures()
    geometry = union_geometry(features)
    if geometry.isEmpty():
        what = (
            tr("no feature is selected in {name}")
            if selected_only
            else tr("{name} has no features")
        )
        raise InputError(what.format(name=layer.name()))
    return aoi_from_geometry(geometry, layer.crs(), name=layer.name())


def area_km2(geometry: QgsGeometry, crs: QgsCoordinateReferenceSystem) -> float:
    """Return the true area of a polygon in km2 (in the equal-area EASE-Grid 2.0 projection)."""
    if geometry is None or geometry.isEmpty():
        return 0.0
    g = QgsGeometry(geometry)
    target = QgsCoordinateReferenceSystem(EASE2)
    if crs != target:
        g.transform(QgsCoordinateTransform(crs, target, QgsProject.instance()))
    return g.area() / 1e6


def describe_area(area: float, limit_km2: float | None = None) -> tuple[str, str]:
    """Return the live area text and a warning (empty when far from the limit).

    Args:
        area: Area in km2.
        limit_km2: The largest area a run accepts (the engine's limit when None).

    Returns:
        ``("12.3 km2, about 4,920 cells of 50 m", warning)``.

    """
    if limit_km2 is None:
        limit_km2 = max_aoi_km2()
    cells = area / CELL50_KM2
    text = tr("{area:,.1f} km², about {cells:,.0f} cells of 50 m").format(area=area, cells=cells)
    if area > limit_km2:
        warning = tr("Too large: the limit is {limit:,.0f} km². Draw a smaller area.").format(
            limit=limit_km2
        )
    elif area > WARN_FRACTION * limit_km2:
        warning = tr("Close to the {limit:,.0f} km² limit: runs will be long.").format(
            limit=limit_km2
        )
    else:
        warning = ""
    return text, warning


def max_aoi_km2() -> float:
    """The engine's largest area of interest in km2 (imported on first use)."""
    from ..core.inputs.aoi import MAX_AOI_KM2

    return float(MAX_AOI_KM2)


def parse_extent(text: str) -> tuple[QgsRectangle, QgsCoordinateReferenceSystem]:
    """Parse ``"xmin, ymin, xmax, ymax [EPSG:4326]"`` (CRS optional, default WGS 84 lon/lat).

    Raises:
        InputError: Not four numbers, an inverted box or an unknown CRS.

    """
    m = re.match(r"^\s*([^,\[]+),([^,]+),([^,]+),([^,\[]+?)\s*(?:\[(.+)\])?\s*$", text or "")
    if not m:
        raise InputError(
            tr("type the extent as xmin, ymin, xmax, ymax [EPSG:4326], got {text!r}").format(
                text=text
            )
        )
    try:
        xmin, ymin, xmax, ymax = (float(m.group(i)) for i in range(1, 5))
    except ValueError:
        raise InputError(
            tr("the extent values must be numbers, got {text!r}").format(text=text)
        ) from None
    crs = QgsCoordinateReferenceSystem(m.group(5).strip() if m.group(5) else "EPSG:4326")
    if not crs.isValid():
        raise InputError(tr("unknown CRS {crs!r}; use e.g. EPSG:4326").format(crs=m.group(5)))
    if not (xmax > xmin and ymax > ymin):
        raise InputError(tr("empty or inverted extent: xmin < xmax and ymin < ymax are needed"))
    return QgsRectangle(xmin, ymin, xmax, ymax), crs


def aoi_geometry_wgs84(aoi: AOI) -> QgsGeometry:
    """Return the AOI polygon as a QGIS geometry in EPSG:4326 (for display)."""
    return QgsGeometry.fromWkt(aoi.lonlat_geometry().wkt)


# -- dates --------------------------------------------------------------------------------------
def parse_dates(text: str) -> tuple[dt.date, ...]:
    """Parse ``"2023-05-01, 2023-05-13"`` (commas, semicolons or spaces) into dates.

    Raises:
        InputError: An item is not an ISO date, or no date was given.

    """
    items = [t for t in re.split(r"[,;\s]+", text or "") if t]
    if not items:
        raise InputError(tr("give at least one date as YYYY-MM-DD"))
    dates = []
    for item in items:
        try:
            dates.append(dt.date.fromisoformat(item))
        except ValueError:
            raise InputError(
                tr("{item!r} is not a date; use YYYY-MM-DD").format(item=item)
            ) from None
    return tuple(sorted(set(dates)))


# -- stations -----------------------------------------------------------------------------------
def expand_station_paths(paths: Iterable[Path]) -> list[Path]:
    """Return the station files: files as given, folders replaced by the station files inside.

    Runs record each input file (with its checksum) in their manifest, so folders are expanded,
    by the engine's own rule (read-me and metadata side files left out).
    """
    from ..core.inputs.stations import folder_station_files

    files: list[Path] = []
    for path in paths:
        files.extend(folder_station_files(path)[0] if path.is_dir() else [path])
    return list(dict.fromkeys(files))


STATION_FIELDS = (
    ("station", "string"),
    ("network", "string"),
    ("sensor", "string"),
    ("depth", "string"),
    ("samples", "int"),
    ("first", "string"),
    ("last", "string"),
    ("mean_sm", "double"),
)
"""Fields of the station point layer: name, network, sensor, depth, daily samples, period."""


def station_fields() -> QgsFields:
    """Return the fields of a station point layer."""
    fields = QgsFields()
    for name, kind in STATION_FIELDS:
        fields.append(QgsField(name, field_type(kind)))
    return fields


def _day(value: Any) -> str:
    try:
        return value.strftime("%Y-%m-%d")
    except AttributeError:
        return str(value)[:10]


def station_rows(data: Any) -> list[dict[str, Any]]:
    """Return one dict per sensor (engine station summary): the layer's fields and lat/lon."""
    from ..core.inputs.stations import station_summary

    rows = []
    for rec in station_summary(data).to_dict("records"):
        rows.append(
            {
                "station": str(rec["station"]),
                "network": str(rec["network"]),
                "sensor": str(rec["sensor"]),
                "depth": str(rec["depth"]),
                "samples": int(rec["days"]),
                "first": _day(rec["first"]),
                "last": _day(rec["last"]),
                "mean_sm": float(rec["sm"]),
                "lat": float(rec["lat"]),
                "lon": float(rec["lon"]),
            }
        )
    return rows


def station_feature(row: dict[str, Any], fields: QgsFields) -> QgsFeature:
    """Return a point feature (EPSG:4326) for one :func:`station_rows` row."""
    feature = QgsFeature(fields)
    feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(row["lon"], row["lat"])))
    for name, _kind in STATION_FIELDS:
        feature[name] = row[name]
    return feature


def stations_layer(rows: list[dict[str, Any]], name: str | None = None) -> QgsVectorLayer:
    """Return a point memory layer (EPSG:4326) of the stations, one feature per sensor."""
    layer = QgsVectorLayer("Point?crs=EPSG:4326", name or tr("Soil moisture stations"), "memory")
    provider = layer.dataProvider()
    fields = station_fields()
    provider.addAttributes(fields.toList())
    layer.updateFields()
    provider.addFeatures([station_feature(r, layer.fields()) for r in rows])
    layer.updateExtents()
    return layer
