"""The geometries of an AOI as given: GeoJSON text or objects, and vector files read with OGR.

These readers only collect the source geometries (and their CRS); :class:`~.area.AOI` checks,
unions and reprojects them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from ...errors import InputError


def geojson_geometries(data: str | dict[str, Any]) -> tuple[list[BaseGeometry], dict[str, Any]]:
    """The geometries of GeoJSON text or a parsed Geometry, Feature or FeatureCollection.

    Returns:
        ``(geometries, properties)``: the properties are those of the (first) feature.

    Raises:
        InputError: Unparseable GeoJSON, a malformed geometry or none at all.

    """
    if isinstance(data, str):
        try:
            obj = json.loads(data)
        except json.JSONDecodeError as exc:
            raise InputError(f"the AOI is not valid GeoJSON: {exc}") from None
    else:
        obj = data
    if not isinstance(obj, dict) or "type" not in obj:
        raise InputError("the AOI GeoJSON must be an object with a 'type' member")
    kind = obj["type"]
    props: dict[str, Any] = {}
    try:
        if kind == "FeatureCollection":
            feats = obj.get("features") or []
            geoms = [shape(f["geometry"]) for f in feats if f.get("geometry")]
            if feats:
                props = feats[0].get("properties") or {}
        elif kind == "Feature":
            geoms = [shape(obj["geometry"])] if obj.get("geometry") else []
            props = obj.get("properties") or {}
        else:
            geoms = [shape(obj)]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(f"the AOI GeoJSON has a malformed geometry: {exc}") from None
    if not geoms:
        raise InputError("the AOI GeoJSON holds no geometry; it must contain a polygon.")
    return geoms, props


def read_vector_file(
    path: Path, layer: str | int | None, feature_ids: Sequence[int] | None
) -> tuple[list[BaseGeometry], str]:
    """The geometries of a vector file's layer (2D) and the layer's CRS as WKT.

    Raises:
        InputError: Unreadable file, unknown layer or feature, missing CRS, or no geometry.

    """
    from osgeo import ogr

    if not path.exists():
        raise InputError(f"AOI file {str(path)!r} does not exist")
    prev = ogr.GetUseExceptions()
    ogr.UseExceptions()
    try:
        ds = _open(path)
        lyr = _pick_layer(ds, path, layer)
        crs_wkt = _layer_crs_wkt(lyr, path)
        geoms = _layer_geometries(lyr, path, feature_ids)
    finally:
        if not prev:
            ogr.DontUseExceptions()
    return geoms, crs_wkt


def _open(path: Path) -> Any:
    """Open the file with OGR (exceptions on), or raise an InputError saying what is accepted."""
    from osgeo import ogr

    try:
        ds = ogr.Open(str(path))
    except RuntimeError as exc:
        ds = None
        detail = str(exc)
    else:
        detail = "unknown format"
    if ds is None:
        raise InputError(
            f"cannot read AOI file {str(path)!r} ({detail}); use a GeoJSON, GeoPackage "
            "or Shapefile polygon layer."
        )
    return ds


def _pick_layer(ds: Any, path: Path, layer: str | int | None) -> Any:
    """The layer to use: the only one, or the one named or numbered by ``layer``."""
    names = [ds.GetLayerByIndex(i).GetName() for i in range(ds.GetLayerCount())]
    if layer is None:
        if len(names) != 1:
            raise InputError(
                f"AOI file {str(path)!r} has {len(names)} layers ({', '.join(names)}); "
                "name the layer to use."
            )
        lyr = ds.GetLayerByIndex(0)
    elif isinstance(layer, int):
        lyr = ds.GetLayerByIndex(layer) if 0 <= layer < len(names) else None
    else:
        lyr = ds.GetLayerByName(layer)
    if lyr is None:
        raise InputError(
            f"AOI file {str(path)!r} has no layer {layer!r}; layers: {', '.join(names)}"
        )
    return lyr


def _layer_crs_wkt(lyr: Any, path: Path) -> str:
    """The layer's CRS as WKT (x/y in lon/lat order); a layer without one is refused."""
    from osgeo import osr

    srs = lyr.GetSpatialRef()
    if srs is None:
        raise InputError(
            f"AOI file {str(path)!r} has no coordinate reference system (for a "
            "Shapefile, the .prj file is missing); save it with a CRS."
        )
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return str(srs.ExportToWkt())


def _layer_geometries(
    lyr: Any, path: Path, feature_ids: Sequence[int] | None
) -> list[BaseGeometry]:
    """The 2D geometries of the layer's features (those of ``feature_ids``, or all)."""
    wanted = None if feature_ids is None else {int(f) for f in feature_ids}
    geoms: list[BaseGeometry] = []
    seen: set[int] = set()
    lyr.ResetReading()
    for feat in lyr:
        fid = feat.GetFID()
        if wanted is not None and fid not in wanted:
            continue
        seen.add(fid)
        g = feat.GetGeometryRef()
        if g is None:
            continue
        g = g.Clone()
        g.FlattenTo2D()
        geoms.append(shapely.from_wkb(bytes(g.ExportToIsoWkb())))
    if wanted is not None and wanted - seen:
        raise InputError(
            f"AOI file {str(path)!r} has no feature with id "
            f"{', '.join(str(f) for f in sorted(wanted - seen))}"
        )
    if not geoms:
        raise InputError(f"AOI file {str(path)!r} holds no geometry (empty layer)")
    return geoms
