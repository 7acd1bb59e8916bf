"""AOIs: constructors in several CRSs, validation messages, snapping and the 50 m mask."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pyproj import Transformer
from shapely.geometry import Point, Polygon, box

from core.errors import InputError
from core.inputs import grid
from core.inputs.aoi import AOI, MAX_AOI_KM2, parse_aoi

CELL50_KM2 = (grid.CELL_9KM / 180) ** 2 / 1e6


def _utm31_box(x0: float = 600000, y0: float = 5700000, size: float = 10000) -> Polygon:
    return box(x0, y0, x0 + size, y0 + size)


def test_bbox_lonlat() -> None:
    aoi = AOI.from_bbox(5.0, 52.0, 5.1, 52.1)
    assert aoi.source_crs == "EPSG:4326"
    assert 40 < aoi.area_km2 < 90
    w, s, e, n = aoi.bounds_lonlat
    assert (w, s, e, n) == pytest.approx((5.0, 52.0, 5.1, 52.1), abs=1e-6)
    win = aoi.window9()
    assert win.level == "9km"
    assert (win.row0, win.col0) == (169, 1981)  # 52.1 N reaches into row 169
    xmin, ymin, xmax, ymax = win.bounds
    axmin, aymin, axmax, aymax = aoi.bounds
    assert xmin <= axmin and ymin <= aymin and xmax >= axmax and ymax >= aymax


def test_bbox_in_utm_matches_area_and_location() -> None:
    aoi = AOI.from_bbox(600000, 5700000, 610000, 5710000, crs="EPSG:32631")
    assert aoi.source_crs == "EPSG:32631"
    # 10 x 10 km in UTM, whose scale factor near 4.4 E is ~0.9996-0.9997: about 100 km2.
    assert aoi.area_km2 == pytest.approx(100.0, rel=2e-3)
    lon, lat = Transformer.from_crs(32631, 4326, always_xy=True).transform(605000, 5705000)
    cx, cy = aoi.geometry.centroid.x, aoi.geometry.centroid.y
    ex, ey = grid.lonlat_to_xy(lon, lat)
    assert cx == pytest.approx(float(ex), abs=5) and cy == pytest.approx(float(ey), abs=5)


def test_coordinates_and_wkt_in_other_crs() -> None:
    ring = list(_utm31_box().exterior.coords)[:-1]
    a = AOI.from_coordinates(ring, crs="EPSG:32631")
    b = AOI.from_wkt(_utm31_box().wkt, crs="EPSG:32631")
    assert a.area_km2 == pytest.approx(b.area_km2, rel=1e-9)
    assert a.geometry.symmetric_difference(b.geometry).area < 1.0
    with pytest.raises(InputError, match="3 distinct vertices"):
        AOI.from_coordinates([(0, 0), (1, 1), (0, 0)])


def test_mask50_count_matches_area() -> None:
    aoi = AOI.from_bbox(600000, 5700000, 620000, 5715000, crs="EPSG:32631")
    mask = aoi.mask50(aoi.window9())
    assert mask.shape == (aoi.window9().nrows * 180, aoi.window9().ncols * 180)
    assert mask.dtype == bool
    assert aoi.n_cells50 == int(mask.sum())
    assert mask.sum() * CELL50_KM2 == pytest.approx(aoi.area_km2, rel=0.01)
    # a random sample of cells, checked one by one against the polygon
    w50 = aoi.window9().to_level("50m")
    rng = np.random.default_rng(1)
    rows = rng.integers(0, w50.nrows, 300)
    cols = rng.integers(0, w50.ncols, 300)
    x, y = grid.cell_center(rows + w50.row0, cols + w50.col0, "50m")
    expected = [aoi.geometry.contains(Point(a, b)) for a, b in zip(x, y, strict=True)]
    assert mask[rows, cols].tolist() == expected
    assert 0 < sum(expected) < 300


def test_mask50_on_large_window() -> None:
    """1000 x 1000 cells (a 50 km square window) is masked in one vectorised pass."""
    aoi = AOI.from_bbox(5.0, 52.0, 5.3, 52.2)
    r, c = grid.lonlat_to_rowcol(5.0, 52.2, "50m")
    win = grid.GridWindow("50m", int(r) - 10, int(c) - 10, 1000, 1000)
    mask = aoi.mask50(win)
    assert mask.shape == (1000, 1000)
    assert mask.sum() * CELL50_KM2 == pytest.approx(aoi.area_km2, rel=0.01)
    assert not mask[0, :].any() and not mask[:, 0].any()


def test_mask50_window_away_from_aoi_is_empty() -> None:
    aoi = AOI.from_bbox(5.0, 52.0, 5.1, 52.1)
    assert not aoi.mask50(grid.GridWindow("9km", 100, 100, 1, 1)).any()


def test_geojson_round_trip() -> None:
    aoi = AOI.from_bbox(600000, 5700000, 610000, 5710000, crs="EPSG:32631", name="field")
    gj = aoi.to_geojson()
    assert gj["type"] == "Feature" and gj["properties"]["name"] == "field"
    lon, lat = np.array(gj["geometry"]["coordinates"][0]).T
    assert 4.0 < lon.min() < lon.max() < 5.0 and 51.0 < lat.min() < lat.max() < 52.0
    back = AOI.from_geojson(json.dumps(gj))
    assert back.name == "field"
    assert back.area_km2 == pytest.approx(aoi.area_km2, rel=1e-6)


def test_from_file_geojson_and_feature_ids(tmp_path: Path) -> None:
    fc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"id": 0},
                "geometry": json.loads(json.dumps(box(5.0, 52.0, 5.05, 52.05).__geo_interface__)),
            },
            {
                "type": "Feature",
                "properties": {"id": 1},
                "geometry": json.loads(json.dumps(box(5.1, 52.0, 5.15, 52.05).__geo_interface__)),
            },
        ],
    }
    path = tmp_path / "fields.geojson"
    path.write_text(json.dumps(fc))
    both = AOI.from_file(path)
    assert both.name == "fields" and both.geometry.geom_type == "MultiPolygon"
    one = AOI.from_file(path, feature_ids=[0])
    assert one.area_km2 == pytest.approx(both.area_km2 / 2, rel=0.01)
    with pytest.raises(InputError, match="no feature with id 7"):
        AOI.from_file(path, feature_ids=[7])
    assert parse_aoi(str(path)).area_km2 == pytest.approx(both.area_km2)


def _write_ogr(path: Path, driver: str, epsg: int | None, wkts: list[str]) -> None:
    from osgeo import ogr, osr

    ogr.UseExceptions()
    ds = ogr.GetDriverByName(driver).CreateDataSource(str(path))
    srs = None
    if epsg is not None:
        srs = osr.SpatialReference()
        srs.ImportFromEPSG(epsg)
    layer = ds.CreateLayer(
        "aoi", srs, ogr.wkbUnknown if driver != "ESRI Shapefile" else ogr.wkbPolygon
    )
    for wkt in wkts:
        feat = ogr.Feature(layer.GetLayerDefn())
        feat.SetGeometry(ogr.CreateGeometryFromWkt(wkt))
        layer.CreateFeature(feat)
    ds = None


def test_from_file_gpkg_in_utm(tmp_path: Path) -> None:
    path = tmp_path / "utm.gpkg"
    _write_ogr(path, "GPKG", 32631, [_utm31_box().wkt])
    aoi = AOI.from_file(path)
    ref = AOI.from_bbox(600000, 5700000, 610000, 5710000, crs="EPSG:32631")
    assert aoi.area_km2 == pytest.approx(ref.area_km2, rel=1e-6)
    assert aoi.source_crs == "EPSG:32631"


def test_from_file_shapefile_and_missing_prj(tmp_path: Path) -> None:
    path = tmp_path / "field.shp"
    _write_ogr(path, "ESRI Shapefile", 32631, [_utm31_box().wkt])
    assert AOI.from_file(path).area_km2 == pytest.approx(100.0, rel=2e-3)
    bare = tmp_path / "bare.shp"
    _write_ogr(bare, "ESRI Shapefile", None, [_utm31_box().wkt])
    with pytest.raises(InputError, match="no coordinate reference system"):
        AOI.from_file(bare)


def test_from_file_points_refused(tmp_path: Path) -> None:
    path = tmp_path / "pts.gpkg"
    _write_ogr(path, "GPKG", 4326, ["POINT (5 52)"])
    with pytest.raises(InputError, match="not a polygon"):
        AOI.from_file(path)


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.geojson"
    path.write_text("this is not geojson")
    with pytest.raises(InputError, match="cannot read AOI file"):
        AOI.from_file(path)


def test_too_large_message() -> None:
    with pytest.raises(InputError) as exc:
        AOI.from_bbox(5.0, 52.0, 6.0, 53.0)
    msg = str(exc.value)
    assert "too large" in msg and "2,500 km2" in msg and "Split" in msg and "--max-area-km2" in msg
    # a long thin strip is under the area limit but over the side limit
    with pytest.raises(InputError, match="too large"):
        AOI.from_bbox(5.0, 52.0, 6.5, 52.05)
    # raising the limit lets it through
    big = AOI.from_bbox(5.0, 52.0, 5.5, 52.3, limit_km2=MAX_AOI_KM2)
    assert big.area_km2 < MAX_AOI_KM2
    with pytest.raises(InputError, match="the limit is 500 km2"):
        AOI.from_bbox(5.0, 52.0, 5.5, 52.3, limit_km2=500)
    # a raised area limit raises the side limit with it (square side + one 9 km cell)
    wide = AOI.from_bbox(5.0, 52.0, 6.0, 53.0, limit_km2=20_000)
    assert wide.max_side_km == pytest.approx(20_000**0.5 + 9.008055210146)
    assert AOI.from_bbox(5.0, 52.0, 5.5, 52.3).max_side_km == pytest.approx(59.008055210146)


def test_empty_and_degenerate() -> None:
    with pytest.raises(InputError, match="empty"):
        AOI.from_wkt("POLYGON EMPTY")
    with pytest.raises(InputError, match="inverted"):
        AOI.from_bbox(5.1, 52.0, 5.0, 52.1)
    with pytest.raises(InputError, match="not a polygon"):
        AOI.from_wkt("LINESTRING (5 52, 5.1 52.1)")


def test_bow_tie_refused_not_repaired() -> None:
    bow_tie = [(5.0, 52.0), (5.1, 52.1), (5.1, 52.0), (5.0, 52.1)]
    with pytest.raises(InputError) as exc:
        AOI.from_coordinates(bow_tie)
    assert "Self-intersection" in str(exc.value) and "not repaired" in str(exc.value)


def test_bad_crs() -> None:
    with pytest.raises(InputError, match="EPSG:4326"):
        AOI.from_bbox(0, 0, 1, 1, crs="EPSG:999999")
    with pytest.raises(InputError, match="coordinate reference system"):
        AOI.from_bbox(0, 0, 1, 1, crs="not a crs")
    # lon/lat swapped or out of range: latitude 91 cannot be transformed
    with pytest.raises(InputError, match="cannot be transformed"):
        AOI.from_bbox(52.0, 91.0, 52.1, 91.1)


def test_outside_grid_latitudes() -> None:
    with pytest.raises(InputError, match="85.04"):
        AOI.from_bbox(10.0, 85.5, 10.2, 85.6)


def test_parse_aoi_forms() -> None:
    a = parse_aoi("5.0,52.0,5.1,52.1")
    assert a.bounds_lonlat == pytest.approx((5.0, 52.0, 5.1, 52.1), abs=1e-6)
    b = parse_aoi("600000,5700000,610000,5710000@EPSG:32631")
    assert b.source_crs == "EPSG:32631"
    c = parse_aoi(" 600000, 5700000, 610000, 5710000 @ EPSG:32631 ")
    assert c.area_km2 == pytest.approx(b.area_km2)
    d = parse_aoi("POLYGON ((5 52, 5.1 52, 5.1 52.1, 5 52.1, 5 52))")
    assert d.area_km2 == pytest.approx(a.area_km2, rel=1e-3)
    with pytest.raises(InputError, match="neither an existing file nor a bounding box"):
        parse_aoi("somewhere.geojson")
    with pytest.raises(InputError, match="coordinate reference system"):
        parse_aoi("0,0,1,1@EPSG:nope")


def test_aoi_is_frozen_and_validated_directly() -> None:
    aoi = AOI.from_bbox(5.0, 52.0, 5.1, 52.1)
    with pytest.raises(AttributeError):
        aoi.name = "x"  # type: ignore[misc]
    with pytest.raises(InputError, match="not a valid polygon"):
        AOI(Polygon([(0, 0), (1000, 1000), (1000, 0), (0, 1000)]))


def test_memory_is_checked_before_allocation(monkeypatch: pytest.MonkeyPatch) -> None:
    from core.errors import InputError
    from core.inputs import aoi as aoi_module
    from core.inputs.aoi import area as aoi_area

    monkeypatch.setattr(aoi_area, "available_memory_bytes", lambda: 1024**3)
    with pytest.raises(InputError, match="needs about .* GB of memory"):
        aoi_module.parse_aoi("-100,30,-90,39", limit_km2=2_000_000)
    small = aoi_module.parse_aoi("-97.52,36.59,-97.42,36.69")  # 9 x 11 km: ~0.2 GB
    assert small.memory_estimate_bytes < 1024**3


def test_wkt_longer_than_a_file_name_is_an_aoi() -> None:
    from core.inputs.aoi import parse_aoi

    ring = ", ".join(f"{-97.5 + 0.0001 * k} 36.6" for k in range(300))
    wkt = f"POLYGON (({ring}, -97.45 36.65, -97.5 36.6))"
    assert len(wkt) > 4096
    assert parse_aoi(wkt).area_km2 > 0
