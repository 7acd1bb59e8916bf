"""Test helpers: the Earth Engine client driven offline, and synthetic fetchers.

- :class:`FakeEarthEngine` is a fake *service* under the real ``earthengine-api`` client: an
  HTTP transport that answers discovery, the algorithm list, token refreshes, ``value:compute``
  and ``image:computePixels`` from a catalogue, evaluating the expression graphs the client
  serialised and refusing what the real service refuses (see its docstring).
  :func:`ee_session` signs the product in through it (``session.initialize``).
- :func:`offline_ee` initialises ``ee`` offline with the product's own offline session.
- :class:`FakeFetcher` answers pixel requests at the fetcher seam (tiling and time logic tests)
  and can be scripted to fail; :class:`FakeValues` answers the metadata requests there.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from core.inputs.grid import GridWindow
from core.inputs.sources.ee.requests import PixelRequest
from core.progress import Progress


@contextlib.contextmanager
def offline_ee() -> Iterator[Any]:
    """Initialise ee offline (the product's offline session); reset the library afterwards."""
    import ee

    from core.inputs.sources.ee import session as ee_login
    from core.inputs.sources.ee.grid_form import forget_grid_form

    ee.Reset()
    ee_login.reset_session()
    ee_login.initialize_offline(project="test")
    try:
        yield ee
    finally:
        ee.Reset()
        ee_login.reset_session()
        forget_grid_form()


def band_base(band: str) -> float:
    """A stable per-band offset (0..999) derived from the band id."""
    return float(int(hashlib.sha256(band.encode()).hexdigest()[:6], 16) % 1000)


def synthetic(band: str, grid: GridWindow) -> np.ndarray:
    """Value = band offset + (global row % 1000) + (global col % 1000) / 1000 (float64)."""
    r, c = grid.cell_rowcol()
    return band_base(band) + (r % 1000) + (c % 1000) / 1000.0


@dataclass
class Failure:
    """A scripted failure: raise ``exc`` for requests matching ``when``, ``times`` times."""

    when: Callable[[PixelRequest], bool]
    exc: Exception
    times: int = 1_000_000


@dataclass
class FakeFetcher:
    """A pixel fetcher answering from the request grid and band ids."""

    values: Callable[[str, GridWindow], np.ndarray] = synthetic
    failures: list[Failure] = field(default_factory=list)
    calls: list[PixelRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def fetch(
        self, request: PixelRequest, progress: Progress | None = None
    ) -> dict[str, np.ndarray]:
        with self._lock:
            self.calls.append(request)
            for f in self.failures:
                if f.times > 0 and f.when(request):
                    f.times -= 1
                    raise f.exc
        return {
            b: np.asarray(self.values(b, request.grid)).astype(request.dtype) for b in request.bands
        }


# -- a synthetic Earth Engine for the scene tests ---------------------------------------------

SCENE_VALUES = {
    "vv": -12.0,
    "vh": -18.0,
    "angle": 38.0,
    "sand": 400.0,
    "clay": 200.0,
    "bdod": 130.0,
    "elevation": 100.0,
    "slope": 2.0,
    "aspect": 180.0,
    "ndvi": 5000.0,
    "t": 280.0,
    "p": 0.002,
    "am": 0.25,
    "pm": 0.20,
    "qam": 0.0,
    "qpm": 0.0,
}


def scene_values(band: str, grid: GridWindow) -> np.ndarray:
    """Plausible constant values per band family (prefix before the first underscore)."""
    family = band.split("_", 1)[0]
    return np.full(grid.shape, SCENE_VALUES[family])


def footprint(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    """A GeoJSON polygon geometry."""
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


@dataclass
class FakeValues:
    """Answers the two metadata requests (by their ``params``) like Earth Engine would.

    Attributes:
        scenes: ``{date: [(pass, orbit, fraction of the window width covered), ...]}``; each
            entry becomes two same-day slices (north and south halves).
        ndvi_gap_after: composites dated after this are "not yet published".
        era5_last: last published ERA5-Land day.
    """

    scenes: dict[Any, list[tuple[str, int, float]]] = field(default_factory=dict)
    ndvi_gap_after: Any = None
    era5_last: Any = None
    calls: list[Any] = field(default_factory=list)

    def compute(self, request: Any, progress: Progress | None = None) -> Any:
        from core.inputs.sources.ee.expressions import lonlat_bounds

        self.calls.append(request)
        p = request.params
        epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

        def ms(d: dt.date) -> int:
            return int(
                (dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC) - epoch).total_seconds() * 1000
            )

        if p["kind"] == "s1":
            w, s, e, n = lonlat_bounds(p["window9"])
            feats = []
            for d, accs in sorted(self.scenes.items()):
                if not p["start"] <= d <= p["end"]:
                    continue
                for orbit_pass, orbit, frac in accs:
                    east = w + (e - w) * frac
                    mid = (s + n) / 2
                    for lo, hi in ((s - 1, mid), (mid, n + 1)):
                        feats.append(
                            {
                                "type": "Feature",
                                "geometry": footprint(w - 1, lo, east, hi),
                                "properties": {
                                    "t": ms(d) + 3600_000,
                                    "pass": orbit_pass,
                                    "orbit": orbit,
                                    "platform": "A",
                                },
                            }
                        )
            return {"type": "FeatureCollection", "features": feats}
        assert p["kind"] == "scene"
        date = p["date"]

        def listing(days: list[dt.date], fmt: str) -> dict[str, list[Any]]:
            return {"index": [d.strftime(fmt) for d in days], "t": [ms(d) for d in days]}

        lo = date - dt.timedelta(days=366)
        mod, myd = [], []
        for y in range(lo.year, date.year + 1):
            mod += [dt.date(y, 1, 1) + dt.timedelta(days=k) for k in range(0, 365, 16)]
            myd += [dt.date(y, 1, 9) + dt.timedelta(days=k) for k in range(0, 357, 16)]
        last = self.ndvi_gap_after or date
        mod = [d for d in mod if lo <= d < date and d <= last]
        myd = [d for d in myd if lo <= d < date and d <= last]
        era5_end = self.era5_last or date + dt.timedelta(days=400)
        era5 = [lo + dt.timedelta(days=k) for k in range(366 + 368)]
        era5 = [d for d in era5 if d <= era5_end]
        smap = [date + dt.timedelta(days=k) for k in range(-30, 31)]
        switch = dt.date(2023, 12, 4)
        return {
            "mod": listing(mod, "%Y_%m_%d"),
            "myd": listing(myd, "%Y_%m_%d"),
            "era5": listing(era5, "%Y%m%d"),
            "smap005": listing([d for d in smap if d < switch], "%Y%m%d"),
            "smap006": listing([d for d in smap if d >= switch], "%Y%m%d"),
        }


# -- a fake Earth Engine service under the real client ------------------------------------------
#
# FakeEarthEngine is an ``httplib2.Http``-like transport: pass it to ``ee.Initialize(...,
# http_transport=...)`` and every request of the real ``earthengine-api`` client (discovery,
# algorithm list, token refresh, value:compute, image:computePixels) reaches it as bytes on the
# wire. It evaluates the expression graphs the client serialised (the subset of functions the
# product uses; anything else is refused loudly), checks dataset ids and band names against a
# catalogue, checks the grid (scale, lattice, projection form) and the service's limits, and
# answers as the service does: NPY bytes of a structured array, JSON values, or the service's
# error bodies.

DISCOVERY_MARK = "$discovery/rest"
TOKEN_URI = "https://oauth2.googleapis.com/token"
MAX_REQUEST_BYTES_SERVICE = 50_331_648
MAX_SIDE_SERVICE = 32_768
MAX_BANDS_SERVICE = 1_024
LISTING_LIMIT = 5_000
CLIENT_PROJECT = "517222506229"
"""The project of the client library's OAuth client (what it falls back to without one)."""


class ServiceError(Exception):
    """An error the fake service answers with (HTTP status, message)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


def _ms(d: dt.date) -> int:
    return int(dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC).timestamp() * 1000)


def _parse_date(value: Any) -> int:
    if isinstance(value, (int, float)):
        return int(value)
    return _ms(dt.date.fromisoformat(str(value)[:10]))


@dataclass
class FakeImage:
    """A catalogue image: id, properties (with ``system:index`` and ``system:time_start``)."""

    id: str
    props: dict[str, Any]
    bbox: tuple[float, float, float, float] = (-180.0, -90.0, 180.0, 90.0)


@dataclass
class FakeAsset:
    """A catalogue entry: an image or a collection with its bands and images."""

    id: str
    bands: tuple[str, ...]
    kind: str = "ImageCollection"
    images: list[FakeImage] = field(default_factory=list)
    dtype: str = "<f4"


@dataclass(frozen=True)
class Band:
    """One band of an image under evaluation, with where its values come from."""

    name: str
    asset: str
    source: str
    dtype: str = "<f4"


@dataclass
class Img:
    """An image under evaluation: ordered bands plus the element properties and footprint."""

    bands: list[Band]
    props: dict[str, Any] = field(default_factory=dict)
    bbox: tuple[float, float, float, float] = (-180.0, -90.0, 180.0, 90.0)

    def with_bands(self, bands: list[Band]) -> Img:
        return Img(bands, self.props, self.bbox)


@dataclass
class Coll:
    """A collection under evaluation."""

    elements: list[Any]


def _bbox_polygon(b: tuple[float, float, float, float]) -> dict[str, Any]:
    w, s, e, n = b
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


def _overlaps(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


class Evaluator:
    """Evaluates the Cloud API expression graphs the product sends (a deliberate subset)."""

    def __init__(self, service: FakeEarthEngine, graph: dict[str, Any]) -> None:
        self.service = service
        self.values = graph["values"]
        self.result = graph["result"]

    def run(self) -> Any:
        return self.node(self.values[self.result], {})

    def node(self, n: dict[str, Any], env: dict[str, Any]) -> Any:
        if "constantValue" in n:
            return n["constantValue"]
        if "valueReference" in n:
            return self.node(self.values[n["valueReference"]], env)
        if "argumentReference" in n:
            return env[n["argumentReference"]]
        if "arrayValue" in n:
            return [self.node(v, env) for v in n["arrayValue"]["values"]]
        if "dictionaryValue" in n:
            return {k: self.node(v, env) for k, v in n["dictionaryValue"]["values"].items()}
        if "functionDefinitionValue" in n:
            fd = n["functionDefinitionValue"]

            def call(*args: Any) -> Any:
                inner = dict(env)
                inner.update(zip(fd["argumentNames"], args, strict=True))
                return self.node(self.values[fd["body"]], inner)

            return call
        if "functionInvocationValue" in n:
            fi = n["functionInvocationValue"]
            name = fi["functionName"]
            args = {k: self.node(v, env) for k, v in fi.get("arguments", {}).items()}
            handler = getattr(self, "f_" + name.replace(".", "_"), None)
            if handler is None:
                raise ServiceError(400, f"fake service: function {name} is not supported")
            return handler(**args)
        raise ServiceError(400, f"fake service: cannot evaluate {sorted(n)}")

    # -- loading ---------------------------------------------------------------------------
    def f_ImageCollection_load(self, id: str, **_: Any) -> Coll:
        asset = self.service.catalogue.get(id)
        if asset is None or asset.kind != "ImageCollection":
            raise ServiceError(
                400,
                f"ImageCollection.load: ImageCollection asset '{id}' not found (does not "
                "exist or caller does not have access).",
            )
        self.service.loaded.add(id)
        return Coll([self._image(asset, im) for im in asset.images])

    def _image(self, asset: FakeAsset, im: FakeImage) -> Img:
        return Img([Band(b, im.id, b, asset.dtype) for b in asset.bands], dict(im.props), im.bbox)

    def f_Image_load(self, id: str, **_: Any) -> Img:
        asset = self.service.catalogue.get(id)
        if asset is not None and asset.kind == "Image":
            self.service.loaded.add(id)
            return Img([Band(b, id, b, asset.dtype) for b in asset.bands], {"system:id": id})
        parent, _, index = id.rpartition("/")
        coll = self.service.catalogue.get(parent)
        if coll is not None:
            for im in coll.images:
                if im.id == id:
                    self.service.loaded.add(id)
                    return self._image(coll, im)
        raise ServiceError(
            400,
            f"Image.load: Image asset '{id}' not found (does not exist or caller does not "
            "have access).",
        )

    # -- collections -----------------------------------------------------------------------
    def _elements(self, coll: Coll) -> list[Any]:
        if len(coll.elements) > LISTING_LIMIT:
            raise ServiceError(
                400, f"Collection query aborted after accumulating over {LISTING_LIMIT} elements."
            )
        return coll.elements

    def f_Collection_filter(self, collection: Coll, filter: Callable[[Any], bool]) -> Coll:
        return Coll([e for e in collection.elements if filter(e)])

    def f_Collection_map(
        self, collection: Coll, baseAlgorithm: Callable[..., Any], **_: Any
    ) -> Coll:
        return Coll([baseAlgorithm(e) for e in self._elements(collection)])

    def f_Collection_first(self, collection: Coll) -> Img | None:
        return collection.elements[0] if collection.elements else None

    def f_AggregateFeatureCollection_array(self, collection: Coll, property: str) -> list[Any]:
        return [e.props.get(property) for e in self._elements(collection)]

    def f_ImageCollection_fromImages(self, images: list[Img]) -> Coll:
        return Coll(list(images))

    def f_ImageCollection_toBands(self, collection: Coll) -> Img:
        bands = []
        for i, im in enumerate(self._elements(collection)):
            index = im.props.get("system:index", str(i))
            bands += [replace(b, name=f"{index}_{b.name}") for b in im.bands]
        return Img(bands)

    def f_ImageCollection_mosaic(self, collection: Coll) -> Img:
        if not collection.elements:
            return Img([])
        first = collection.elements[0]
        return Img(list(first.bands))

    # -- filters ---------------------------------------------------------------------------
    def f_DateRange(self, start: Any, end: Any = None, **_: Any) -> tuple[int, int]:
        return _parse_date(start), _parse_date(end)

    def f_Filter_dateRangeContains(
        self, leftValue: tuple[int, int], rightField: str, **_: Any
    ) -> Callable[[Any], bool]:
        lo, hi = leftValue
        return lambda e: lo <= int(e.props.get(rightField, -1)) < hi

    def f_Filter_equals(self, leftField: str, rightValue: Any, **_: Any) -> Callable[[Any], bool]:
        return lambda e: e.props.get(leftField) == rightValue

    def f_Filter_listContains(
        self, leftField: str, rightValue: Any, **_: Any
    ) -> Callable[[Any], bool]:
        return lambda e: rightValue in (e.props.get(leftField) or [])

    def f_Filter_intersects(
        self, leftField: str, rightValue: Any, **_: Any
    ) -> Callable[[Any], bool]:
        assert leftField == ".all"
        box = rightValue["geometry"]
        return lambda e: _overlaps(e.bbox, box)

    # -- geometry and features -------------------------------------------------------------
    def f_Projection(self, crs: str, **_: Any) -> str:
        return crs

    def f_GeometryConstructors_Rectangle(
        self, coordinates: list[float], crs: str = "EPSG:4326", geodesic: bool = True, **_: Any
    ) -> tuple[float, ...]:
        if crs != "EPSG:4326" or len(coordinates) != 4:
            raise ServiceError(400, "fake service: rectangles are lon/lat [W, S, E, N]")
        return tuple(coordinates)

    def f_Feature(self, geometry: Any, metadata: dict[str, Any] | None = None) -> Any:
        return {"geometry": geometry, "properties": metadata or {}}

    def f_Image_geometry(self, feature: Img, **_: Any) -> tuple[float, ...]:
        return feature.bbox

    def f_Element_get(self, object: Img, property: str) -> Any:
        return object.props.get(property)

    # -- images ----------------------------------------------------------------------------
    def _need(self, image: Img | None, fn: str) -> Img:
        if image is None:
            raise ServiceError(400, f"{fn}: Parameter 'input' is required.")
        return image

    def f_Image_select(
        self, input: Img | None, bandSelectors: list[str], newNames: list[str] | None = None
    ) -> Img:
        image = self._need(input, "Image.select")
        names = [b.name for b in image.bands]
        out = []
        for sel in bandSelectors:
            if sel not in names:
                raise ServiceError(
                    400,
                    f"Image.select: Pattern '{sel}' did not match any bands. Available "
                    f"bands: [{', '.join(names)}]",
                )
            out.append(image.bands[names.index(sel)])
        if newNames:
            out = [replace(b, name=n) for b, n in zip(out, newNames, strict=True)]
        return image.with_bands(out)

    def f_Image_rename(self, input: Img, names: list[str]) -> Img:
        if len(names) != len(input.bands):
            raise ServiceError(
                400,
                f"Image.rename: The number of names ({len(names)}) must match the number "
                f"of bands ({len(input.bands)}).",
            )
        return input.with_bands(
            [replace(b, name=n) for b, n in zip(input.bands, names, strict=True)]
        )

    def f_Image_toFloat(self, value: Img) -> Img:
        return value.with_bands([replace(b, dtype="<f4") for b in value.bands])

    def f_Image_addBands(self, dstImg: Img, srcImg: Img, **_: Any) -> Img:
        return dstImg.with_bands(list(dstImg.bands) + list(srcImg.bands))

    def f_Image_constant(self, value: Any) -> Img:
        return Img([Band("constant", "constant", repr(value), "<f4")])

    def _same(self, image: Img | None = None, input: Img | None = None, **kw: Any) -> Img:
        return self._need(image if image is not None else input, "Image")

    f_Image_unmask = f_Image_updateMask = f_Image_reduceResolution = _same
    f_Image_setDefaultProjection = f_Image_resample = _same

    def _binary(self, image1: Img, image2: Img) -> Img:
        return image1

    f_Image_gte = f_Image_lte = f_Image_and = _binary

    def f_Image_projection(self, image: Img) -> str:
        return "native"

    def f_Reducer_mean(self) -> str:
        return "mean"

    def f_Terrain_products(self, input: Img) -> Img:
        base = input.bands[0]
        extra = [Band(n, base.asset, n, "<f4") for n in ("slope", "aspect", "hillshade")]
        return input.with_bands(list(input.bands) + extra)


def _to_json(value: Any) -> Any:
    if isinstance(value, Coll):
        return {
            "type": "FeatureCollection",
            "columns": {},
            "features": [_to_json(e) for e in value.elements],
        }
    if isinstance(value, dict) and set(value) == {"geometry", "properties"}:
        geometry = value["geometry"]
        if isinstance(geometry, tuple):
            geometry = _bbox_polygon(geometry)
        return {
            "type": "Feature",
            "geometry": geometry,
            "properties": _to_json(value["properties"]),
        }
    if isinstance(value, dict):
        return {k: _to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_json(v) for v in value]
    return value


def _window_from_grid(grid: dict[str, Any]) -> GridWindow:
    """The EASE-2 window a request's grid describes (ServiceError when it is off the lattice)."""
    from core.inputs.grid import LEVELS, X0, Y0, cell_size

    t = grid["affineTransform"]
    scale = float(t["scaleX"])
    level = next((lv for lv in LEVELS if abs(cell_size(lv) - scale) < 1e-9 * scale), None)
    if level is None or float(t["scaleY"]) != -scale or t.get("shearX") or t.get("shearY"):
        raise ServiceError(400, f"fake service: scale {scale} is not an EASE-2 level")
    col = (float(t["translateX"]) - X0) / scale
    row = (Y0 - float(t["translateY"])) / scale
    if abs(col - round(col)) > 1e-6 or abs(row - round(row)) > 1e-6:
        raise ServiceError(400, f"fake service: grid origin off the EASE-2 lattice ({row}, {col})")
    dims = grid["dimensions"]
    return GridWindow(level, round(row), round(col), int(dims["height"]), int(dims["width"]))


ValuesFn = Callable[[Band, GridWindow], np.ndarray]


def default_values(band: Band, window: GridWindow) -> np.ndarray:
    """Values derived from the band's provenance and the cells (stable, distinct per band)."""
    if band.asset == "constant":
        return np.full(window.shape, float(band.source))
    return synthetic(f"{band.asset}:{band.source}", window)


@dataclass
class Exchange:
    """One request the fake service answered."""

    kind: str
    project: str | None
    body: dict[str, Any] | None = None
    window: GridWindow | None = None
    bands: tuple[str, ...] = ()
    status: int = 200
    nbytes: int = 0
    header_bytes: int = 0


class FakeEarthEngine:
    """A fake Earth Engine service answering the real client's HTTP requests.

    Args:
        catalogue: the datasets it knows (:func:`default_catalogue` by default).
        values: ``(band, window) -> array`` serving the pixels of a band (its ``asset`` and
            ``source`` name the dataset image and band).
        accept_forms: grid forms it parses (``wkt``, ``wkt-plain``, ``code``).
        projects: Cloud projects registered for Earth Engine.
        refresh_token: the refresh token the token endpoint accepts.
        fail: ``(exchange) -> (status, message) | None``, to answer an error instead.
        hold: ``(exchange) -> threading.Event | None``: answer only once the event is set.

    """

    def __init__(
        self,
        catalogue: dict[str, FakeAsset] | None = None,
        values: ValuesFn = default_values,
        accept_forms: tuple[str, ...] = ("wkt", "wkt-plain", "code"),
        projects: tuple[str, ...] = ("test-project",),
        refresh_token: str = "refresh-token",
        fail: Callable[[Exchange], tuple[int, str] | None] | None = None,
        hold: Callable[[Exchange], threading.Event | None] | None = None,
    ) -> None:
        self.catalogue = catalogue if catalogue is not None else default_catalogue()
        self.values = values
        self.accept_forms = accept_forms
        self.projects = projects
        self.refresh_token = refresh_token
        self.fail = fail
        self.hold = hold
        self.log: list[Exchange] = []
        self.loaded: set[str] = set()
        self.tokens_issued = 0
        self._lock = threading.Lock()
        # what httplib2.Http exposes and google_auth_httplib2 forwards
        self.timeout: float | None = None
        self.connections: dict[str, Any] = {}
        self.follow_redirects = True
        self.redirect_codes: set[int] = set()

    # -- plumbing --------------------------------------------------------------------------
    def close(self) -> None:
        pass

    def add_certificate(self, *args: Any, **kw: Any) -> None:
        pass

    def exchanges(self, kind: str) -> list[Exchange]:
        with self._lock:
            return [e for e in self.log if e.kind == kind]

    @staticmethod
    def _response(status: int, content: bytes, ctype: str) -> tuple[Any, bytes]:
        import httplib2

        return httplib2.Response({"status": str(status), "content-type": ctype}), content

    def _error(self, exchange: Exchange, status: int, message: str) -> tuple[Any, bytes]:
        exchange.status = status
        body = {
            "error": {
                "code": status,
                "message": message,
                "status": STATUS_NAMES.get(status, "UNKNOWN"),
            }
        }
        return self._response(status, json.dumps(body).encode(), "application/json")

    def request(
        self, uri: str, method: str = "GET", body: Any = None, headers: Any = None, **_: Any
    ) -> tuple[Any, bytes]:
        """Answer one HTTP request as the service would."""
        import urllib.parse

        from core.inputs.sources.ee import session as ee_login

        if DISCOVERY_MARK in uri:
            data = ee_login._wheel_file("cloud_api_discovery_document.json").read_bytes()
            return self._response(200, data, "application/json")
        if uri.startswith(TOKEN_URI):
            form = urllib.parse.parse_qs(body.decode() if isinstance(body, bytes) else body)
            if form.get("refresh_token", [""])[0] != self.refresh_token:
                data = {"error": "invalid_grant", "error_description": "Bad Request"}
                return self._response(400, json.dumps(data).encode(), "application/json")
            self.tokens_issued += 1
            data = {"access_token": "ya29.fake", "expires_in": 3600, "token_type": "Bearer"}
            return self._response(200, json.dumps(data).encode(), "application/json")
        path = urllib.parse.urlparse(uri).path
        parts = path.strip("/").split("/")
        project = parts[2] if len(parts) > 2 and parts[1] == "projects" else None
        kind = parts[-1].split(":")[-1] if ":" in parts[-1] else parts[-1]
        payload = json.loads(body) if body else None
        exchange = Exchange(kind, project, payload)
        if payload and "bandIds" in payload:
            exchange.bands = tuple(payload["bandIds"])
        with self._lock:
            self.log.append(exchange)
        if project == CLIENT_PROJECT:  # the client library's own OAuth project
            return self._error(
                exchange,
                403,
                f"Caller does not have required permission to use project "
                f"{CLIENT_PROJECT}. Grant the caller the roles/serviceusage.serviceUsageConsumer "
                "role, or a custom role with the serviceusage.services.use permission",
            )
        if project not in self.projects:
            return self._error(
                exchange,
                403,
                "Not signed up for Earth Engine or project is not registered. "
                "Visit https://developers.google.com/earth-engine/guides/access",
            )
        if self.hold is not None:
            event = self.hold(exchange)
            if event is not None:
                event.wait(30)
        try:
            if kind == "algorithms":
                data = ee_login._wheel_file("algorithms.json").read_bytes()
                return self._response(200, data, "application/json")
            if self.fail is not None:
                scripted = self.fail(exchange)
                if scripted is not None:
                    return self._error(exchange, *scripted)
            if kind == "compute":
                value = Evaluator(self, payload["expression"]).run()
                data = json.dumps({"result": _to_json(value)}).encode()
                return self._response(200, data, "application/json")
            if kind == "computePixels":
                return self._compute_pixels(exchange, payload)
        except ServiceError as exc:
            return self._error(exchange, exc.status, exc.message)
        return self._error(exchange, 404, f"fake service: no such method {path}")

    # -- computePixels ---------------------------------------------------------------------
    def _grid_form(self, grid: dict[str, Any]) -> str:
        from core.inputs.grid import EASE2_WKT
        from core.inputs.sources.ee.grid_form import ee_grid

        if "crsCode" in grid:
            if grid["crsCode"] != "EPSG:6933":
                raise ServiceError(400, f"fake service: unexpected crsCode {grid['crsCode']}")
            form = "code"
        elif grid.get("crsWkt") == EASE2_WKT:
            form = "wkt"
        elif grid.get("crsWkt") == ee_grid(GridWindow("9km", 0, 0, 1, 1), "wkt-plain")["crsWkt"]:
            form = "wkt-plain"
        else:
            raise ServiceError(400, "fake service: the grid's projection is not EASE-2")
        if form not in self.accept_forms:
            raise ServiceError(400, "The CRS of a map projection could not be parsed.")
        return form

    def _compute_pixels(self, exchange: Exchange, payload: dict[str, Any]) -> tuple[Any, bytes]:
        if payload.get("fileFormat") != "NPY":
            raise ServiceError(400, f"fake service: fileFormat {payload.get('fileFormat')}")
        grid = payload["grid"]
        exchange.bands = tuple(payload.get("bandIds") or ())
        self._grid_form(grid)
        window = _window_from_grid(grid)
        exchange.window = window
        h, w = window.shape
        if h > MAX_SIDE_SERVICE or w > MAX_SIDE_SERVICE:
            raise ServiceError(
                400,
                f"Grid dimensions ({w}x{h}) exceed the maximum of {MAX_SIDE_SERVICE} pixels "
                "per side.",
            )
        image = Evaluator(self, payload["expression"]).run()
        if not isinstance(image, Img):
            raise ServiceError(400, "fake service: the expression is not an image")
        by_name = {b.name: b for b in image.bands}
        wanted = payload.get("bandIds") or [b.name for b in image.bands]
        exchange.bands = tuple(wanted)
        for name in wanted:
            if name not in by_name:
                raise ServiceError(
                    400,
                    f"Image.select: Pattern '{name}' did not match any bands. Available "
                    f"bands: [{', '.join(by_name)}]",
                )
        if len(wanted) > MAX_BANDS_SERVICE:
            raise ServiceError(
                400, f"Too many bands: {len(wanted)} requested, the limit is {MAX_BANDS_SERVICE}."
            )
        dtype = np.dtype([(n, by_name[n].dtype) for n in wanted])
        size = h * w * dtype.itemsize
        exchange.nbytes = size
        if size > MAX_REQUEST_BYTES_SERVICE:
            raise ServiceError(
                400,
                f"Total request size ({size} bytes) must be less than or equal to "
                f"{MAX_REQUEST_BYTES_SERVICE} bytes.",
            )
        out = np.zeros((h, w), dtype=dtype)
        for name in wanted:
            out[name] = self.values(by_name[name], window)
        buf = io.BytesIO()
        np.save(buf, out, allow_pickle=False)
        data = buf.getvalue()
        exchange.header_bytes = int.from_bytes(data[8:10], "little")
        return self._response(200, data, "application/octet-stream")


# -- the catalogue the fake service knows ---------------------------------------------------------

S1_BANDS = ("HH", "HV", "VV", "VH", "angle")
SOIL_DEPTHS = ("0-5cm", "5-15cm", "15-30cm", "30-60cm", "60-100cm", "100-200cm")
MODIS_BANDS = (
    "NDVI",
    "EVI",
    "DetailedQA",
    "sur_refl_b01",
    "sur_refl_b02",
    "sur_refl_b03",
    "sur_refl_b07",
    "ViewZenith",
    "SolarZenith",
    "RelativeAzimuth",
    "DayOfYear",
    "SummaryQA",
)
ERA5_BANDS = (
    "dewpoint_temperature_2m",
    "temperature_2m",
    "skin_temperature",
    "total_precipitation_sum",
    "surface_pressure",
    "volumetric_soil_water_layer_1",
)
SMAP_BANDS = (
    "soil_moisture_am",
    "tb_h_corrected_am",
    "retrieval_qual_flag_am",
    "soil_moisture_pm",
    "tb_h_corrected_pm",
    "retrieval_qual_flag_pm",
)


def _days(start: dt.date, end: dt.date, step: int = 1) -> list[dt.date]:
    return [start + dt.timedelta(days=k) for k in range(0, (end - start).days + 1, step)]


def _dated(asset: str, days: list[dt.date], fmt: str) -> list[FakeImage]:
    return [
        FakeImage(
            f"{asset}/{d.strftime(fmt)}",
            {"system:index": d.strftime(fmt), "system:time_start": _ms(d)},
        )
        for d in days
    ]


def default_catalogue(
    first: dt.date = dt.date(2019, 1, 1),
    last: dt.date = dt.date(2022, 12, 31),
    s1: dict[dt.date, list[tuple[str, int]]] | None = None,
    s1_bbox: tuple[float, float, float, float] = (-180.0, -90.0, 180.0, 90.0),
    era5_last: dt.date | None = None,
) -> dict[str, FakeAsset]:
    """The datasets the product uses, with images from ``first`` to ``last``.

    Dataset ids and band names are the public catalogue's (bands beyond those the product uses
    are included so that a wrong selection is caught). ``s1`` maps dates to ``(pass, relative
    orbit)`` acquisitions; each becomes two same-day slices (south and north halves of
    ``s1_bbox``). The deprecated ``COPERNICUS/DEM/GLO30`` and ``MODIS/006`` ids are absent.
    """
    cat: dict[str, FakeAsset] = {}
    images = []
    w, s, e, n = s1_bbox
    mid = (s + n) / 2
    for d, accs in sorted((s1 or {}).items()):
        for orbit_pass, orbit in accs:
            for k, (lo, hi) in enumerate(((s, mid), (mid, n))):
                index = f"S1A_IW_GRDH_1SDV_{d:%Y%m%d}T05{k}000_{orbit:03d}"
                images.append(
                    FakeImage(
                        f"COPERNICUS/S1_GRD/{index}",
                        {
                            "system:index": index,
                            "system:time_start": _ms(d) + 3_600_000 + k * 25_000,
                            "instrumentMode": "IW",
                            "transmitterReceiverPolarisation": ["VV", "VH"],
                            "orbitProperties_pass": orbit_pass,
                            "relativeOrbitNumber_start": orbit,
                            "platform_number": "A",
                        },
                        (w, lo, e, hi),
                    )
                )
    cat["COPERNICUS/S1_GRD"] = FakeAsset("COPERNICUS/S1_GRD", S1_BANDS, images=images)
    for var in ("sand", "clay", "bdod"):
        aid = f"projects/soilgrids-isric/{var}_mean"
        cat[aid] = FakeAsset(
            aid, tuple(f"{var}_{d}_mean" for d in SOIL_DEPTHS), kind="Image", dtype="<i2"
        )
    cat["USGS/SRTMGL1_003"] = FakeAsset(
        "USGS/SRTMGL1_003", ("elevation",), kind="Image", dtype="<i2"
    )
    glo = "COPERNICUS/DEM/GLO30_2024_1"
    cat[glo] = FakeAsset(
        glo,
        ("DEM", "EDM", "FLM", "HEM", "WBM"),
        images=[
            FakeImage(
                f"{glo}/Copernicus_DSM_10_N{lat:02d}_00_E005_00",
                {
                    "system:index": f"Copernicus_DSM_10_N{lat:02d}_00_E005_00",
                    "system:time_start": 0,
                },
            )
            for lat in range(80, 85)
        ],
    )
    years = range(first.year, last.year + 1)
    for aid, offset in (("MODIS/061/MOD13Q1", 0), ("MODIS/061/MYD13Q1", 8)):
        days = [
            dt.date(y, 1, 1) + dt.timedelta(days=offset + 16 * k) for y in years for k in range(23)
        ]
        days = [
            d for d in days if first <= d <= last and d.year == (d - dt.timedelta(days=offset)).year
        ]
        cat[aid] = FakeAsset(aid, MODIS_BANDS, images=_dated(aid, days, "%Y_%m_%d"), dtype="<i2")
    era5 = "ECMWF/ERA5_LAND/DAILY_AGGR"
    cat[era5] = FakeAsset(
        era5, ERA5_BANDS, images=_dated(era5, _days(first, min(last, era5_last or last)), "%Y%m%d")
    )
    switch = dt.date(2023, 12, 4)
    for version, lo, hi in (
        ("005", first, min(last, switch - dt.timedelta(days=1))),
        ("006", max(first, switch), last),
    ):
        aid = f"NASA/SMAP/SPL3SMP_E/{version}"
        days = _days(lo, hi) if lo <= hi else []
        cat[aid] = FakeAsset(aid, SMAP_BANDS, images=_dated(aid, days, "%Y%m%d"))
    return cat


EE_ENVIRONMENT = (
    "SOILMOISTURE_EE_PROJECT",
    "EARTHENGINE_PROJECT",
    "GOOGLE_CLOUD_PROJECT",
    "SOILMOISTURE_EE_KEY_FILE",
)
"""Environment variables that would let a user's own Earth Engine set-up leak into a test."""


def isolate_home(monkeypatch: Any, home: Path) -> None:
    """Point HOME and the product's folders at ``home``; drop the Earth Engine variables."""
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("SOILMOISTURE_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("SOILMOISTURE_CACHE_DIR", str(home / "cache"))
    for name in EE_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)


@contextlib.contextmanager
def ee_session(
    service: FakeEarthEngine,
    home: Path,
    project: str | None = "test-project",
    max_retries: int = 0,
) -> Iterator[Any]:
    """Sign the product in through ``service`` (``session.initialize`` with a credentials file).

    ``home`` must be the test's ``HOME`` (the credentials file is written under it). The
    client's own retries are set to ``max_retries`` (its back-off sleeps are real). The data
    catalogue fetch of ``ee.Initialize`` (a plain URL read outside the transport) is skipped
    and restored afterwards; everything else runs as in a real session.
    """
    import ee

    from core.inputs.sources.ee import session as ee_login
    from core.inputs.sources.ee.grid_form import forget_grid_form

    creds = home / ".config" / "earthengine" / "credentials"
    creds.parent.mkdir(parents=True, exist_ok=True)
    if not creds.exists():
        creds.write_text(json.dumps({"refresh_token": service.refresh_token}))
    ee.Reset()
    ee_login.reset_session()
    forget_grid_form()
    saved = ee.deprecation._FetchDataCatalogStac
    ee.deprecation._FetchDataCatalogStac = lambda: {}
    try:
        ee_login.initialize(project=project, force=True, http_transport=service)
        ee.data.setMaxRetries(max_retries)
        yield ee
    finally:
        ee.deprecation._FetchDataCatalogStac = saved
        ee.Reset()
        ee_login.reset_session()
        forget_grid_form()
