"""The "Adapt & Map" run: stations + AOI + dates -> adapted DenseSM-E -> 50 m maps + report.

One call, :func:`run_adapt_map`, does what the CLI (``soilmoisture adapt-map``), the QGIS dock
and the batch runner ask for:

1. read the station files (:mod:`core.inputs.stations`) and keep the stations inside the AOI;
2. list the Sentinel-1 acquisitions of the training period (default: the 365 days before the
   first map date, that date included) and, for every acquisition date on which at least one
   station has a daily value, get the scene and build
   - the labelled 50 m samples: the station cells on that date (:func:`features.cell_inputs_50m`),
   - the labelled 9 km samples: SMAP over the AOI's 9 km cells (:func:`features.cell_inputs_9km`).
   Acquisition dates without any station reading are skipped (they would only add 9 km
   samples, at the cost of a full scene each);
3. the unlabelled target: a seeded random subset (at most ``max_target_cells``, spread evenly
   over the map dates) of the AOI's 50 m cells on the map dates. The target only feeds a 32 x 32
   feature covariance in the domain loss, so a large random subset carries the same signal as
   all cells while keeping memory bounded for AOIs of a million cells;
4. adapt the 25 pretrained members (:func:`core.adaptation.train.adapt`) once for all map dates,
   unless ``method == "pretrained"``;
5. map every date tile by tile (tiles of whole 9 km cells, :data:`DEFAULT_TILE_9KM` per side):
   :func:`features.map_inputs_50m` stores the 138 time-series values once per 250 m NDVI pixel
   (every 50 m cell under it shares them, and the pixel lies in one ERA5/9 km cell), and
   ``Ensemble.predict_shared`` runs the time-series branch once per such pixel. Each map is a
   cloud-optimised GeoTIFF (:mod:`core.outputs.raster_io`), written atomically;
6. save the adapted ensemble with a manifest (AOI, dates, stations, method, alpha, beta per
   member, seeds, software versions, SHA-256 of the station files and of the scene arrays);
7. validate honestly: leave-one-station-out cross validation of the chosen method (each
   station predicted by an ensemble adapted without it, and every fold adapted exactly as the
   final ensemble: the same schedule and snapshots, alpha chosen for the fold's own stations),
   next to the pretrained ensemble, SMAP's 9 km value and random forest and XGBoost trained on
   the same stations, inputs and SMAP values (:mod:`core.adaptation.baselines`); with one station,
   the
   report says plainly that no held-out accuracy can be computed. The maps are written before
   this step, so they are on disk while the validation runs. For simulated (demo) scenes, the
   map is also compared with the simulated truth, next to the pretrained map and SMAP's 9 km
   values laid on the 50 m grid;
8. write the report (HTML + JSON + PNG charts, :mod:`core.outputs.report`).

Nothing here prints or keeps global state: the QGIS plugin runs it in a background task, and
everything the user should see goes through the :class:`~core.progress.Progress` reporter.
Cancelling raises :class:`~core.errors.Cancelled` at the next check; every output file is
written atomically, so no half-written GeoTIFF is left behind.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import platform
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from .. import __version__
from ..adaptation.train import METHODS as ADAPTATION_METHODS
from ..atomic import check_output_dir, run_folder, write_text
from ..errors import InputError, NoDataError
from ..inputs.aoi import AOI
from ..inputs.grid import GridWindow
from ..inputs.sources.base import check_sentinel1_era
from ..outputs.metrics import PHYSICAL_RANGE, outside_physical_range, physical_range_note
from ..progress import NULL_PROGRESS, Progress

if TYPE_CHECKING:
    import pandas as pd

    from ..features.contract import InputLayout
    from ..inputs.sources.base import InputSource, SceneInputs

F32 = npt.NDArray[np.float32]

METHODS: tuple[str, ...] = (*ADAPTATION_METHODS, "pretrained")
"""Methods a run accepts: the transfer methods of :mod:`core.adaptation.train` by name, and
``pretrained`` (map with the 9 km weights as they are, no adaptation)."""
ALPHA_DEFAULT = 0.7
"""alpha of the joint loss by default (best overall in the 2025 MSDA paper)."""
ALPHA_FEW_STATIONS = 0.5
"""alpha with few stations (better with 1-5 stations in the 2025 MSDA paper)."""
FEW_STATIONS = 5
"""At most this many stations counts as "few"."""
TRAINING_DAYS = 365
"""Default length of the training period before the first map date, days."""
DEFAULT_TILE_9KM = 2
"""Side of a mapping tile in 9 km cells (2 -> 360 x 360 cells of 50 m)."""
DEFAULT_EPOCH_STEPS = 2
"""Fewest optimizer steps of an adaptation epoch (``AdaptConfig.min_epoch_steps``): with 1-5
stations and one year of dates one pass over the labelled samples is a single step, so 50
epochs would be 50 steps; two make at least 100. Chosen by measurement on held-out stations and
on map error against known truth (README, "Adaptation schedule and validation")."""
VALID_RANGE = (0.0, 0.6)
"""Physically valid soil moisture range, m3/m3 (for the share of predictions outside it)."""
NEAREST_SEARCH_DAYS = 30
"""Days searched on each side of a map date for the nearest Sentinel-1 dates in messages."""


# --------------------------------------------------------------------------------- config
def _as_date(value: Any, what: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InputError(f"{what} {value!r} is not a date; give it as YYYY-MM-DD")


@dataclass(frozen=True)
class AdaptMapConfig:
    """Everything one "Adapt & Map" run needs (validated on construction).

    Attributes:
        aoi: The area to map.
        stations: ISMN or CSV station files (see :mod:`core.inputs.stations`).
        dates: Map dates (Sentinel-1 acquisition dates); one adaptation serves all of them.
        out_dir: Output folder (maps, ensemble, manifest, report).
        source: Input source name (``"demo"``, ``"gee"``; see ``core.inputs.sources``).
        method: ``msda``, ``ms``, ``da``, ``finetune`` or ``pretrained`` (no adaptation).
        alpha: Weight of the 50 m loss; None chooses 0.7, or 0.5 with 5 stations or fewer.
        device: ``"cpu"`` or ``"cuda"`` / ``"cuda:N"``.
        train_start: First day of the training period (default: 365 days before train_end).
        train_end: Last day of the training period (default: the first map date).
        models: Pretrained model set (installed name or folder).
        seed: Seed of every random choice (adaptation, target subset, baselines, CV folds).
        epochs: Adaptation epochs (the final ensemble and every cross-validation fold).
        min_epoch_steps: Fewest optimizer steps of an epoch (``AdaptConfig.min_epoch_steps``).
        cv_folds: None = leave-one-station-out; k = k folds of whole stations (seeded).
        reproject_crs: Also write every map reprojected to this CRS (e.g. ``"EPSG:32633"``).
        cross_validate: Run the held-out validation of the chosen method.
        baselines: Also cross-validate random forest and XGBoost on the same folds.
        max_target_cells: Largest unlabelled target subset for the domain loss.
        tile_9km: Side of a mapping tile, in 9 km cells.

    """

    aoi: AOI
    stations: tuple[Path, ...]
    dates: tuple[dt.date, ...]
    out_dir: Path
    source: str = "demo"
    method: str = "msda"
    alpha: float | None = None
    device: str = "cpu"
    train_start: dt.date | None = None
    train_end: dt.date | None = None
    models: str = "densesm_9km"
    seed: int = 0
    epochs: int = 50
    min_epoch_steps: int = DEFAULT_EPOCH_STEPS
    cv_folds: int | None = None
    reproject_crs: str | None = None
    cross_validate: bool = True
    baselines: bool = True
    max_target_cells: int = 200_000
    tile_9km: int = DEFAULT_TILE_9KM

    def __post_init__(self) -> None:
        if not isinstance(self.aoi, AOI):
            raise InputError(
                f"aoi must be an AOI (see core.inputs.aoi.parse_aoi), got {type(self.aoi).__name__}"
            )
        stations = self.stations
        if isinstance(stations, (str, os.PathLike)):
            stations = (Path(stations),)
        paths = tuple(Path(p) for p in stations)
        if not paths:
            raise InputError("no station files given; give at least one ISMN or CSV station file")
        missing = [str(p) for p in paths if not p.exists()]
        if missing:
            raise InputError(f"station file {missing[0]!r} does not exist")
        object.__setattr__(self, "stations", paths)
        dates_in = self.dates
        if isinstance(dates_in, (dt.date, str)):
            dates_in = (dates_in,)
        dates = tuple(sorted({_as_date(d, "map date") for d in dates_in}))
        if not dates:
            raise InputError("no map date given; give at least one date (YYYY-MM-DD)")
        check_sentinel1_era(dates, "map date")
        object.__setattr__(self, "dates", dates)
        object.__setattr__(self, "out_dir", Path(self.out_dir))
        if self.method not in METHODS:
            raise InputError(f"unknown method {self.method!r}; allowed: {', '.join(METHODS)}")
        if self.alpha is not None:
            if not isinstance(self.alpha, (int, float)) or not 0.0 <= float(self.alpha) <= 1.0:
                raise InputError(f"alpha must be a number from 0 to 1, got {self.alpha!r}")
            object.__setattr__(self, "alpha", float(self.alpha))
        if not re.fullmatch(r"cpu|cuda(:\d+)?", str(self.device)):
            raise InputError(f"device must be 'cpu', 'cuda' or 'cuda:N', got {self.device!r}")
        for name in ("train_start", "train_end"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _as_date(value, name.replace("_", " ")))
        if self.train_start is not None and self.train_end is not None:
            if self.train_start > self.train_end:
                raise InputError(
                    f"train start {self.train_start} is after train end {self.train_end}"
                )
        for name, lo in (
            ("epochs", 1),
            ("min_epoch_steps", 1),
            ("max_target_cells", 1),
            ("tile_9km", 1),
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < lo:
                raise InputError(f"{name} must be a whole number of at least {lo}, got {value!r}")
        if self.cv_folds is not None and (not isinstance(self.cv_folds, int) or self.cv_folds < 2):
            raise InputError(
                "cv_folds must be at least 2 (or None for leave-one-station-out), got "
                f"{self.cv_folds!r}"
            )
        if not isinstance(self.seed, int):
            raise InputError(f"seed must be a whole number, got {self.seed!r}")
        if self.reproject_crs is not None:
            from pyproj import CRS
            from pyproj.exceptions import CRSError

            try:
                CRS.from_user_input(self.reproject_crs)
            except CRSError:
                raise InputError(
                    f"unknown coordinate reference system {self.reproject_crs!r} for the "
                    "reprojected copy; give e.g. 'EPSG:32633'"
                ) from None
        from ..inputs.sources.base import available_sources

        sources = available_sources()
        if self.source not in sources:
            raise InputError(f"unknown data source {self.source!r}; allowed: {', '.join(sources)}")

    @property
    def training_period(self) -> tuple[dt.date, dt.date]:
        """(first, last) day of the training period, defaults applied."""
        end = self.train_end or self.dates[0]
        start = self.train_start or end - dt.timedelta(days=TRAINING_DAYS)
        return start, end

    def steps_per_epoch(self, n_samples: int) -> int:
        """Optimizer steps of one adaptation epoch with ``n_samples`` labelled 50 m samples."""
        return max(math.ceil(n_samples / 128), self.min_epoch_steps)

    def schedule_text(self, n_samples: int) -> str:
        """The adaptation schedule in words, for the report."""
        steps = self.steps_per_epoch(n_samples)
        return (
            f"{self.epochs} epochs of {steps} optimizer step(s) ({self.epochs * steps} steps), "
            f"weights averaged over the last {min(10, self.epochs)} epochs"
        )


def choose_alpha(alpha: float | None, n_stations: int, method: str) -> tuple[float | None, str]:
    """Choose the alpha of a run and say why, in words for the report.

    Args:
        alpha: The user's alpha, or None for the default.
        n_stations: Stations inside the AOI with training samples.
        method: The adaptation method.

    Returns:
        ``(alpha, reason)``; alpha is None for ``pretrained`` (no adaptation).

    """
    if method == "pretrained":
        return None, "no adaptation (pretrained 9 km ensemble used as is), so alpha does not apply"
    if method in ("finetune", "da"):
        return 1.0, (
            f"method {method!r} trains on the 50 m loss only (no 9 km SMAP loss), i.e. alpha = 1 "
            "by definition"
        )
    if alpha is not None:
        return float(alpha), f"alpha = {alpha:g} set by the user"
    if n_stations <= FEW_STATIONS:
        return ALPHA_FEW_STATIONS, (
            f"default for few stations: {n_stations} station(s) (5 or fewer), where the 2025 MSDA "
            "study found alpha = 0.5 better than 0.7"
        )
    return ALPHA_DEFAULT, (
        f"default: alpha = 0.7 was best overall in the 2025 MSDA study ({n_stations} stations, "
        "more than 5)"
    )


# --------------------------------------------------------------------------------- results
@dataclass
class LabelledSamples:
    """The labelled 50 m samples (station cells on Sentinel-1 dates)."""

    x: F32
    """(N, 156) model inputs."""
    y: F32
    """(N,) in-situ soil moisture, m3/m3."""
    station: npt.NDArray[np.object_]
    """(N,) station key ``network/station``."""
    date: npt.NDArray[np.object_]
    """(N,) dates (``datetime.date``)."""
    smap9: F32
    """(N,) SMAP 9 km soil moisture of the station's 9 km cell on that date."""

    def __len__(self) -> int:
        return int(self.y.size)

    @property
    def stations(self) -> list[str]:
        """Distinct station keys in order of first appearance."""
        return list(dict.fromkeys(self.station.tolist()))


@dataclass
class AdaptMapResult:
    """What a run produced."""

    out_dir: Path
    maps: dict[dt.date, Path]
    """The EASE-2 GeoTIFF of each map date."""
    report_html: Path | None
    report_json: Path
    manifest: Path
    ensemble_dir: Path | None
    """The saved adapted ensemble (None for ``method="pretrained"``)."""
    metrics: dict[str, Any]
    """Validation metrics by method (``MetricsReport.to_dict()``), plus map-level errors."""
    alpha: float | None
    alpha_reason: str
    warnings: list[str] = field(default_factory=list)
    reprojected: dict[dt.date, Path] = field(default_factory=dict)
    simulated: bool = False
    n_samples: int = 0
    n_stations: int = 0


@dataclass
class MapResult:
    """Maps made with a saved ensemble (:func:`run_map_with_ensemble`)."""

    out_dir: Path
    maps: dict[dt.date, Path]
    reprojected: dict[dt.date, Path] = field(default_factory=dict)
    map_error: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    simulated: bool = False


@dataclass
class RasterValidation:
    """Validation of a soil-moisture GeoTIFF against stations (:func:`validate_raster`)."""

    metrics: Any
    """:class:`core.outputs.metrics.MetricsReport` (or None when no station matched)."""
    pairs: pd.DataFrame
    """One row per station with a reading on the raster's date: station, obs, pred, spread."""
    date: dt.date
    charts: dict[str, Path] = field(default_factory=dict)
    report_json: Path | None = None
    warnings: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------- helpers
def _lat_lon_text(lat: float, lon: float) -> str:
    """``36.6400 N, 97.4700 W``: hemispheres from the signs, never a negative east."""
    from ..inputs.grid import lat_text, lon_text

    return f"{lat_text(lat)}, {lon_text(lon)}"


def sha256_file(path: Path) -> str:
    """SHA-256 (hex) of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def input_record(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Identify an input for a manifest: a file (or zip) by its SHA-256, a folder by its files.

    A folder's ``sha256`` hashes the sorted relative names and SHA-256 of every file below it,
    so the same content gives the same value wherever the folder lies. An input that has
    vanished or cannot be read is recorded with the reason instead of failing the run.
    """
    p = Path(path)
    record: dict[str, Any] = {"path": str(p.resolve())}
    try:
        if p.is_dir():
            h = hashlib.sha256()
            files = sorted(f for f in p.rglob("*") if f.is_file())
            for f in files:
                h.update(f.relative_to(p).as_posix().encode("utf-8") + b"\0")
                h.update(sha256_file(f).encode("ascii") + b"\n")
            record.update({"kind": "folder", "files": len(files), "sha256": h.hexdigest()})
        else:
            kind = "zip" if p.suffix.lower() == ".zip" else "file"
            record.update({"kind": kind, "bytes": p.stat().st_size, "sha256": sha256_file(p)})
    except OSError as exc:
        record.update({"sha256": None, "error": exc.strerror or str(exc)})
    return record


def _existing_outputs(outputs: dict[str, Any], root: Path) -> dict[str, Any]:
    """The manifest's outputs with every entry whose file or folder is missing left out."""
    kept: dict[str, Any] = {}
    for key, value in outputs.items():
        if isinstance(value, dict):
            kept[key] = _existing_outputs(value, root)
        elif value is None or (root / str(value)).exists():
            kept[key] = value
    return kept


def scene_sha256(scene: SceneInputs) -> str:
    """SHA-256 over every input array of a scene (window, date and array bytes, in fixed order).

    Two runs that saw the same numbers get the same checksum, whatever the source or cache.
    """
    h = hashlib.sha256()
    w = scene.window9
    h.update(f"{w.level}:{w.row0}:{w.col0}:{w.nrows}:{w.ncols}:{scene.date.isoformat()}".encode())
    arrays: list[tuple[str, Any]] = [
        ("vv", scene.vv),
        ("vh", scene.vh),
        ("angle", scene.angle),
        ("ndvi", scene.ndvi),
        ("temperature", scene.temperature),
        ("precipitation", scene.precipitation),
        ("smap", scene.smap),
    ]
    for name in ("sand", "clay", "bdod", "elevation", "slope", "aspect"):
        arrays.append((name, getattr(scene.static, name)))
    for name, arr in arrays:
        a = np.ascontiguousarray(arr, dtype=np.float32)
        h.update(name.encode())
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def software_versions() -> dict[str, str]:
    """Versions of Python and of the packages that shape the numbers."""
    import importlib.metadata as md

    out = {"soilmoisture": __version__, "python": platform.python_version()}
    for dist in ("numpy", "torch", "pandas", "rasterio", "scikit-learn", "xgboost"):
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            try:
                module = __import__(dist.replace("scikit-learn", "sklearn"))
                out[dist] = str(getattr(module, "__version__", "unknown"))
            except ImportError:
                out[dist] = "not installed"
    try:
        import rasterio

        out["gdal"] = str(rasterio.__gdal_version__)
    except ImportError:  # pragma: no cover - rasterio is a dependency
        pass
    return out


def subscene(scene: SceneInputs, tile9: GridWindow) -> SceneInputs:
    """Cut the part of a scene covering a tile of whole 9 km cells (array views, no copies).

    Args:
        scene: The scene.
        tile9: A 9 km window inside ``scene.window9``.

    Returns:
        A :class:`SceneInputs` over ``tile9``.

    """
    from ..inputs.sources.base import SceneInputs, StaticInputs

    w = scene.window9
    r0, c0 = tile9.row0 - w.row0, tile9.col0 - w.col0
    if r0 < 0 or c0 < 0 or r0 + tile9.nrows > w.nrows or c0 + tile9.ncols > w.ncols:
        raise InputError(f"tile {tile9} lies outside the scene window {w}")
    h, wd = tile9.nrows, tile9.ncols
    s50 = (slice(r0 * 180, (r0 + h) * 180), slice(c0 * 180, (c0 + wd) * 180))
    s250 = (slice(None), slice(r0 * 36, (r0 + h) * 36), slice(c0 * 36, (c0 + wd) * 36))
    s9 = (slice(r0, r0 + h), slice(c0, c0 + wd))
    st = scene.static
    return SceneInputs(
        window9=tile9,
        date=scene.date,
        acquisition=scene.acquisition,
        vv=scene.vv[s50],
        vh=scene.vh[s50],
        angle=scene.angle[s50],
        static=StaticInputs(
            **{
                n: getattr(st, n)[s50]
                for n in ("sand", "clay", "bdod", "elevation", "slope", "aspect")
            }
        ),
        ndvi=scene.ndvi[s250],
        temperature=scene.temperature[(slice(None), *s9)],
        precipitation=scene.precipitation[(slice(None), *s9)],
        smap=scene.smap[s9],
        ndvi_padded_steps=scene.ndvi_padded_steps,
        simulated=scene.simulated,
        truth=None if scene.truth is None else scene.truth[s50],
        attributes=scene.attributes,
    )


def nearest_dates(available: Iterable[dt.date], date: dt.date, n: int = 2) -> list[dt.date]:
    """Return the ``n`` dates of ``available`` closest to ``date`` (sorted)."""
    uniq = sorted(set(available))
    return sorted(sorted(uniq, key=lambda d: (abs((d - date).days), d))[:n])


def _acquisition_dates(
    source: InputSource, window9: GridWindow, start: dt.date, end: dt.date, progress: Progress
) -> list[dt.date]:
    acqs = source.list_acquisitions(window9, start, end, progress=progress)
    return sorted({a.date for a in acqs})


def acquisition_dates_between(
    source: str, aoi: AOI, start: dt.date, end: dt.date, progress: Progress | None = None
) -> list[dt.date]:
    """Sentinel-1 acquisition dates over the AOI from ``start`` to ``end`` (for date ranges).

    Args:
        source: Input source name.
        aoi: The AOI.
        start: First day.
        end: Last day (inclusive).
        progress: Progress reporter.

    Returns:
        The sorted distinct dates.

    Raises:
        InputError: ``start`` after ``end``.
        NoDataError: no acquisition in the range.

    """
    from ..inputs.sources.base import get_source

    if start > end:
        raise InputError(f"date range start {start} is after its end {end}")
    dates = _acquisition_dates(
        get_source(source), aoi.window9(), start, end, progress or NULL_PROGRESS
    )
    if not dates:
        raise NoDataError(
            f"no Sentinel-1 acquisition covers the AOI from {start} to {end}; widen the range"
        )
    return dates


def _check_map_dates(
    source: InputSource,
    window9: GridWindow,
    dates: Sequence[dt.date],
    known: set[dt.date],
    progress: Progress,
) -> None:
    """Raise NoDataError naming the nearest acquisition dates for a map date without one."""
    for d in dates:
        if d in known:
            continue
        around = _acquisition_dates(
            source,
            window9,
            d - dt.timedelta(days=NEAREST_SEARCH_DAYS),
            d + dt.timedelta(days=NEAREST_SEARCH_DAYS),
            progress,
        )
        if d in around:
            known.add(d)
            continue
        near = nearest_dates(around, d)
        if near:
            raise NoDataError(
                f"no Sentinel-1 acquisition covers the AOI on {d.isoformat()}; the nearest dates "
                f"with one are {', '.join(x.isoformat() for x in near)}. Map one of those dates "
                "instead."
            )
        raise NoDataError(
            f"no Sentinel-1 acquisition covers the AOI on {d.isoformat()}, nor on any day within "
            f"{NEAREST_SEARCH_DAYS} days of it (Sentinel-1 may not have covered this area then). "
            "List the dates it did cover with `soilmoisture s1-dates` (or Find Sentinel-1 dates "
            "in the dock) and map one of those."
        )


def _fold_ids(
    stations: npt.NDArray[np.object_], folds: int | None, seed: int
) -> npt.NDArray[np.object_]:
    """Group stations into CV folds: each station its own (LOSO) or k seeded groups."""
    if folds is None:
        return stations
    uniq = list(dict.fromkeys(stations.tolist()))
    if len(uniq) <= folds:
        return stations
    order = np.random.default_rng(seed).permutation(len(uniq))
    fold_of = {uniq[i]: f"fold {k % folds + 1}" for k, i in enumerate(order)}
    return np.array([fold_of[s] for s in stations.tolist()], dtype=object)


def _map_error(pred: npt.ArrayLike, truth: npt.ArrayLike) -> dict[str, float]:
    """Map-level error of predictions against the simulated truth."""
    from ..outputs import metrics

    p = np.asarray(pred, dtype=np.float64).ravel()
    t = np.asarray(truth, dtype=np.float64).ravel()
    ok = np.isfinite(p) & np.isfinite(t)
    p, t = p[ok], t[ok]
    return {
        "n": float(p.size),
        "rmse": metrics.rmse(t, p),
        "bias": metrics.bias(t, p),
        "ubrmse": metrics.ubrmse(t, p),
        "r": metrics.pearson_r(t, p),
    }


def _share_outside(values: npt.ArrayLike) -> float:
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    if not v.size:
        return math.nan
    return float(np.mean((v < VALID_RANGE[0]) | (v > VALID_RANGE[1])))


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (dt.date, dt.datetime)):
        return obj.isoformat()
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        f = float(obj)
        return f if math.isfinite(f) else None
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON-serialisable: {type(obj).__name__}")


def _clean(obj: Any) -> Any:
    """Turn NaN/inf into None recursively (JSON has no NaN)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def to_json(obj: Any) -> str:
    """JSON text with dates, paths and numpy numbers converted and NaN as null."""
    return json.dumps(_clean(obj), indent=2, default=_json_default, sort_keys=False)


# --------------------------------------------------------------------------------- the run
class _Stages:
    """Share of the whole run given to each stage, from a rough cost model.

    Costs are in "seconds on two CPU cores" for the demo scene; only the ratios matter (they
    make the progress bar's time-left estimate sensible): a scene, an adaptation step of the 25
    members, the early-balance beta, a cross-validation fold, a baseline fold, and mapping
    throughput. Step and mapping figures follow ``scripts/bench.py`` (0.22-0.26 s per full
    step, a little more per row for the demo's smaller batches, and 15,000-20,000 cells/s).
    """

    SCENE = 0.6
    STEP = 0.3
    BETA = 1.5
    BASELINE_FOLD = 6.0
    CELLS_PER_S = 15_000.0

    def __init__(
        self, config: AdaptMapConfig, n_train_dates: int, n_station_days: int, n_stations: int
    ) -> None:
        steps = config.steps_per_epoch(max(1, n_station_days))
        adapting = config.method != "pretrained"
        folds = 0 if n_stations < 2 or not config.cross_validate else n_stations
        if config.cv_folds is not None:
            folds = min(folds, config.cv_folds)
        cells = config.aoi.area_km2 * 400.0 * len(config.dates)
        costs = {
            "STATIONS": 1.0,
            "SCENES": self.SCENE * n_train_dates,
            "TARGET": self.SCENE * len(config.dates),
            "ADAPT": (self.BETA + self.STEP * steps * config.epochs) if adapting else 0.0,
            "MAP": cells / self.CELLS_PER_S + 2.0,
            "VALIDATE": 2.0
            + (folds * (self.BETA + self.STEP * steps * config.epochs) if adapting else 0.0)
            + (2 * folds * self.BASELINE_FOLD if config.baselines else 0.0),
            "REPORT": 3.0,
        }
        total = sum(costs.values())
        start = 0.0
        self.spans: dict[str, tuple[float, float]] = {}
        for name, cost in costs.items():
            self.spans[name] = (start, start + cost / total)
            start += cost / total

    def __getattr__(self, name: str) -> tuple[float, float]:
        try:
            return self.__dict__["spans"][name]
        except KeyError:
            raise AttributeError(name) from None


class _SceneCache:
    """Keeps the last scene, so a map date that is also a training date is fetched once."""

    def __init__(self, source: InputSource, window9: GridWindow) -> None:
        self.source = source
        self.window9 = window9
        self._date: dt.date | None = None
        self._scene: SceneInputs | None = None
        self.checksums: dict[dt.date, dict[str, Any]] = {}

    def get(self, date: dt.date, progress: Progress) -> SceneInputs:
        if self._date == date and self._scene is not None:
            return self._scene
        scene = self.source.scene(self.window9, date, progress=progress)
        if date not in self.checksums:
            acq = scene.acquisition
            self.checksums[date] = {
                "sha256": scene_sha256(scene),
                "acquisition": None
                if acq is None
                else {
                    "date": acq.date.isoformat(),
                    "orbit_pass": acq.orbit_pass,
                    "relative_orbit": acq.relative_orbit,
                    "coverage": acq.coverage,
                    "platform": acq.platform,
                },
                "ndvi_padded_steps": int(scene.ndvi_padded_steps),
                "simulated": bool(scene.simulated),
            }
        self._date, self._scene = date, scene
        return scene


def _station_table(daily: pd.DataFrame) -> pd.DataFrame:
    """Add the ``key`` column (network/station) used throughout the run."""
    df = daily.copy()
    if "network" in df.columns:
        df["key"] = df["network"].astype(str) + "/" + df["station"].astype(str)
    else:
        df["key"] = df["station"].astype(str)
    df["date"] = [d.date() if isinstance(d, dt.datetime) else d for d in _to_dates(df["date"])]
    return df


def _to_dates(values: Any) -> list[dt.date]:
    import pandas as pd

    out = []
    for v in values:
        if isinstance(v, pd.Timestamp):
            out.append(v.date())
        elif isinstance(v, dt.datetime):
            out.append(v.date())
        elif isinstance(v, dt.date):
            out.append(v)
        else:
            out.append(pd.Timestamp(v).date())
    return out


def _stations_inside(daily: pd.DataFrame, aoi: AOI, window50: GridWindow) -> pd.DataFrame:
    """Rows of stations whose 50 m cell centre lies inside the AOI."""
    r = daily["row50"].to_numpy(dtype=np.int64) - window50.row0
    c = daily["col50"].to_numpy(dtype=np.int64) - window50.col0
    in_window = (r >= 0) & (r < window50.nrows) & (c >= 0) & (c < window50.ncols)
    mask = aoi.mask50(window50)
    inside = np.zeros(len(daily), dtype=bool)
    inside[in_window] = mask[r[in_window], c[in_window]]
    return daily[inside]


def read_stations_in_aoi(
    paths: Sequence[Path], aoi: AOI, progress: Progress | None = None
) -> tuple[pd.DataFrame, list[str]]:
    """Read station files and keep the daily values of the stations inside the AOI.

    Args:
        paths: Station files.
        aoi: The AOI.
        progress: Optional progress reporter.

    Returns:
        ``(daily, warnings)``: the daily table with a ``key`` column (``network/station``) and
        dates as ``datetime.date``, and the reader's warnings.

    Raises:
        InputError: no station lies inside the AOI (the message lists where they are).

    """
    from ..inputs.stations import read_station_files

    progress = progress or NULL_PROGRESS
    data = read_station_files(list(paths), aoi=None, progress=progress)
    warnings = [str(w) for w in getattr(data, "warnings", [])]
    daily = _station_table(data.daily)
    window50 = aoi.window9().to_level("50m")
    inside = _stations_inside(daily, aoi, window50)
    if inside.empty:
        where = daily.groupby("key")[["lat", "lon"]].first().head(5) if not daily.empty else None
        listed = (
            "; ".join(f"{k} at {_lat_lon_text(row.lat, row.lon)}" for k, row in where.iterrows())
            if where is not None and len(where)
            else "the files hold no usable 0-5 cm readings"
        )
        w, s, e, n = aoi.bounds_lonlat
        raise InputError(
            f"no station lies inside the AOI {aoi.name!r} (lon {w:.4f}..{e:.4f}, lat "
            f"{s:.4f}..{n:.4f}); stations read: {listed}. Give station files of this area or "
            "draw the AOI around the stations."
        )
    outside = sorted(set(daily["key"]) - set(inside["key"]))
    if outside:
        warnings.append(
            f"{len(outside)} station(s) outside the AOI were left out: {', '.join(outside[:5])}"
            + (" ..." if len(outside) > 5 else "")
        )
    return inside.reset_index(drop=True), warnings


def _labelled_samples(
    daily: pd.DataFrame,
    cache: _SceneCache,
    train_dates: Sequence[dt.date],
    progress: Progress,
    layout: InputLayout | None = None,
) -> tuple[LabelledSamples, F32, F32, list[str]]:
    """Assemble the labelled 50 m and 9 km samples of the training dates (in ``layout``)."""
    from ..features.build import cell_inputs_9km, cell_inputs_50m

    window9 = cache.window9
    window50 = window9.to_level("50m")
    xs: list[F32] = []
    ys: list[F32] = []
    keys: list[npt.NDArray[np.object_]] = []
    dates: list[npt.NDArray[np.object_]] = []
    smaps: list[F32] = []
    cx: list[F32] = []
    cy: list[F32] = []
    warnings: list[str] = []
    n_missing = 0
    by_date = {d: g for d, g in daily.groupby("date")}
    for i, d in enumerate(train_dates):
        progress.check()
        progress.message(f"Training inputs: scene {i + 1}/{len(train_dates)} ({d.isoformat()})")
        scene = cache.get(d, progress.sub(i / len(train_dates), (i + 1) / len(train_dates)))
        g = by_date[d]
        r = g["row50"].to_numpy(dtype=np.int64) - window50.row0
        c = g["col50"].to_numpy(dtype=np.int64) - window50.col0
        x = cell_inputs_50m(scene, r, c, layout)
        ok = np.isfinite(x).all(axis=1) & np.isfinite(g["sm"].to_numpy(dtype=np.float64))
        n_missing += int((~ok).sum())
        if ok.any():
            xs.append(x[ok])
            ys.append(g["sm"].to_numpy(dtype=np.float32)[ok])
            keys.append(g["key"].to_numpy(dtype=object)[ok])
            dates.append(np.array([d] * int(ok.sum()), dtype=object))
            smaps.append(np.asarray(scene.smap, dtype=np.float32)[r[ok] // 180, c[ok] // 180])
        x9, y9, _, _ = cell_inputs_9km(scene, layout)
        if len(y9):
            cx.append(x9)
            cy.append(y9)
        progress.fraction((i + 1) / len(train_dates))
    if n_missing:
        warnings.append(
            f"{n_missing} station-day(s) were left out because an input was missing at the "
            "station's 50 m cell on that date (e.g. no Sentinel-1 coverage)"
        )
    if not xs:
        raise NoDataError(
            "no labelled 50 m sample could be made: on every Sentinel-1 date of the training "
            "period the inputs at the station cells are missing. Choose another training period."
        )
    samples = LabelledSamples(
        x=np.concatenate(xs).astype(np.float32),
        y=np.concatenate(ys).astype(np.float32),
        station=np.concatenate(keys),
        date=np.concatenate(dates),
        smap9=np.concatenate(smaps).astype(np.float32),
    )
    coarse_x = np.concatenate(cx).astype(np.float32) if cx else np.zeros((0, 156), np.float32)
    coarse_y = np.concatenate(cy).astype(np.float32) if cy else np.zeros((0,), np.float32)
    return samples, coarse_x, coarse_y, warnings


FINETUNE_MIN_STATIONS = 3
"""Fewest stations finetune is run with: it trains on the station cells alone, so its BatchNorm
statistics come from those few places. On the demo scene one station gave a map of -21 to 327
m3/m3 (RMSE 143 against the truth) and two stations -1.3 to 2.3 (RMSE 0.47)."""


def _check_finetune_stations(method: str, n_stations: int) -> None:
    """Refuse finetune with fewer stations than :data:`FINETUNE_MIN_STATIONS`."""
    if method == "finetune" and n_stations < FINETUNE_MIN_STATIONS:
        raise InputError(
            f"method finetune trains on the stations alone and needs at least "
            f"{FINETUNE_MIN_STATIONS} stations inside the AOI (this run has {n_stations}): with "
            "fewer, its statistics come from one or two places and the map goes far outside "
            "any physical range. Use msda or ms, which also learn from SMAP and the area's own "
            "cells, or add stations."
        )


def _input_checks(
    pretrained: Any,
    samples: LabelledSamples,
    coarse_x: F32,
    coarse_y: F32,
    target_x: F32,
    target_counts: dict[dt.date, int],
) -> dict[str, Any]:
    """Input health of the run's 50 m inputs and the pretrained ensemble's 9 km self-check.

    The 50 m inputs are the station cells of the training dates and the sampled AOI cells of
    the map dates, compared with the statistics of what the pretrained set was trained on.
    """
    from .health import input_health, norm_statistics, smap_self_check

    layout = pretrained.input_layout
    by_date: dict[dt.date, list[F32]] = {}
    for d in sorted(set(samples.date)):
        by_date.setdefault(d, []).append(samples.x[samples.date == d])
    for d, x in _split_by_date(target_x, target_counts).items():
        by_date.setdefault(d, []).append(x)
    mean, sd = norm_statistics(pretrained.state_dicts())
    health = input_health(
        layout,
        mean,
        sd,
        {d: np.concatenate(xs) for d, xs in by_date.items()},
        statistics_of=f"the inputs the pretrained set {pretrained.name!r} was trained on",
    )
    if len(coarse_y):
        pred9 = pretrained.predict(coarse_x).mean
        self_check = smap_self_check(pred9, coarse_y, model=f"pretrained {pretrained.name!r}")
    else:
        self_check = smap_self_check([], [], model=f"pretrained {pretrained.name!r}")
    warnings = list(health["warnings"])
    if self_check["status"] in ("caution", "bad"):
        warnings.append(self_check["message"])
    return {
        "input_layout": layout.to_dict(),
        "input_health": health,
        "smap_self_check": self_check,
        "warnings": warnings,
    }


def _target_samples(
    aoi: AOI,
    cache: _SceneCache,
    dates: Sequence[dt.date],
    max_cells: int,
    seed: int,
    progress: Progress,
    layout: InputLayout | None = None,
) -> tuple[F32, F32 | None, F32, dict[dt.date, int]]:
    """Draw a seeded random subset of the AOI's 50 m cells on the map dates (the target).

    Returns:
        ``(x, truth, smap, n_per_date)``: inputs ``(M, 156)``, the simulated truth at those
        cells (None for real scenes), SMAP's 9 km value of each cell's 9 km cell on its date
        (SMAP laid on the 50 m grid, the map a user has without this tool) and the number of
        cells taken per date.

    """
    from ..features.build import cell_inputs_50m

    window50 = cache.window9.to_level("50m")
    mask = aoi.mask50(window50)
    flat = np.flatnonzero(mask.ravel())
    if not flat.size:
        raise InputError(f"the AOI {aoi.name!r} covers no 50 m cell centre; draw a larger AOI")
    rng = np.random.default_rng(seed)
    per_date = max(1, max_cells // len(dates))
    xs: list[F32] = []
    truths: list[F32] = []
    smaps: list[F32] = []
    has_truth = True
    counts: dict[dt.date, int] = {}
    for i, d in enumerate(dates):
        progress.check()
        progress.message(f"Target cells: map date {d.isoformat()} ({i + 1}/{len(dates)})")
        scene = cache.get(d, progress.sub(i / len(dates), (i + 0.9) / len(dates)))
        take = flat if flat.size <= per_date else np.sort(rng.choice(flat, per_date, replace=False))
        r, c = np.divmod(take, window50.ncols)
        x = cell_inputs_50m(scene, r, c, layout)
        ok = np.isfinite(x).all(axis=1)
        xs.append(x[ok])
        counts[d] = int(ok.sum())
        smaps.append(np.asarray(scene.smap, dtype=np.float32)[r[ok] // 180, c[ok] // 180])
        if scene.truth is None:
            has_truth = False
        else:
            truths.append(np.asarray(scene.truth, dtype=np.float32)[r[ok], c[ok]])
        progress.fraction((i + 1) / len(dates))
    x_all = np.concatenate(xs).astype(np.float32)
    if not x_all.shape[0]:
        raise NoDataError(
            "no 50 m cell of the AOI has all inputs on the map date(s) (e.g. no Sentinel-1 "
            "coverage of the AOI); choose another date"
        )
    truth = np.concatenate(truths).astype(np.float32) if has_truth and truths else None
    return x_all, truth, np.concatenate(smaps).astype(np.float32), counts


def predict_map(
    ensemble: Any,
    scene: SceneInputs,
    mask: npt.NDArray[np.bool_],
    tile_9km: int = DEFAULT_TILE_9KM,
    progress: Progress | None = None,
) -> tuple[F32, F32, dict[str, int]]:
    """Predict a whole map tile by tile with bounded memory.

    Tiles are whole 9 km cells (``tile_9km`` per side); in each, the inputs keep the time-series
    block once per 250 m NDVI pixel and ``ensemble.predict_shared`` runs the time-series branch
    once per pixel.

    Args:
        ensemble: A loaded ``core.model.ensemble.Ensemble``.
        scene: The map date's scene.
        mask: ``(H50, W50)`` True for the cells to map (the AOI).
        tile_9km: Tile side in 9 km cells.
        progress: Optional progress reporter (one step per tile, cancellable).

    Returns:
        ``(mean, spread, counts)``: ``(H50, W50)`` float32 arrays, NaN outside the mask and where
        an input is missing; counts of requested, mapped and excluded cells.

    """
    from ..features.build import map_inputs_50m

    progress = progress or NULL_PROGRESS
    window9 = scene.window9
    h50, w50 = window9.nrows * 180, window9.ncols * 180
    if mask.shape != (h50, w50):
        raise InputError(f"mask has shape {mask.shape}, expected {(h50, w50)}")
    mean = np.full((h50, w50), np.nan, dtype=np.float32)
    spread = np.full((h50, w50), np.nan, dtype=np.float32)
    tiles = window9.split(tile_9km, tile_9km)
    counts = {"requested": 0, "mapped": 0, "excluded": 0}
    layout = getattr(ensemble, "input_layout", None)
    for k, tile in enumerate(tiles):
        progress.check()
        progress.message(f"Mapping {scene.date.isoformat()}: tile {k + 1}/{len(tiles)}")
        r0 = (tile.row0 - window9.row0) * 180
        c0 = (tile.col0 - window9.col0) * 180
        sl = (slice(r0, r0 + tile.nrows * 180), slice(c0, c0 + tile.ncols * 180))
        tile_mask = mask[sl]
        if tile_mask.any():
            shared = map_inputs_50m(subscene(scene, tile), tile_mask, layout)
            counts["requested"] += shared.n_requested
            counts["excluded"] += shared.n_excluded
            if len(shared):
                pred = ensemble.predict_shared(shared.snapshot, shared.series, shared.series_index)
                mean[shared.rows + r0, shared.cols + c0] = np.asarray(pred.mean, dtype=np.float32)
                spread[shared.rows + r0, shared.cols + c0] = np.asarray(
                    pred.spread, dtype=np.float32
                )
                counts["mapped"] += len(shared)
            del shared
        progress.fraction((k + 1) / len(tiles))
    return mean, spread, counts


def _map_tags(
    method: str,
    alpha: float | None,
    betas: dict[str, float],
    models: str,
    simulated: bool,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    finite = [b for b in betas.values() if b is not None and math.isfinite(b)]
    tags: dict[str, Any] = {
        "method": method,
        "alpha": "n/a" if alpha is None else alpha,
        "beta": "n/a"
        if not betas
        else (f"per member, median {float(np.median(finite)):.4g}" if finite else "n/a"),
        "beta_per_member": betas if betas else "n/a",
        "model_version": models,
        "simulated": simulated,
        "software": f"soilmoisture {__version__}",
        "spread": "standard deviation across ensemble members",
    }
    if simulated:
        tags["warning"] = "SIMULATED demo data: not a real soil moisture map"
    tags.update(extra or {})
    return tags


def _write_maps(
    ensemble: Any,
    aoi: AOI,
    cache: _SceneCache,
    dates: Sequence[dt.date],
    out_dir: Path,
    tags: dict[str, Any],
    tile_9km: int,
    reproject_crs: str | None,
    progress: Progress,
) -> tuple[
    dict[dt.date, Path], dict[dt.date, Path], dict[str, Any], list[str], tuple[F32, F32] | None
]:
    """Map every date and write the GeoTIFFs.

    Returns:
        ``(maps, reprojected, stats, warnings, quicklook)``; quicklook is the first date's
        (mean, spread) cropped to the AOI's bounding box.

    """
    from ..outputs.raster_io import reproject_geotiff, write_sm_geotiff

    window50 = cache.window9.to_level("50m")
    mask = aoi.mask50(window50)
    maps: dict[dt.date, Path] = {}
    reproj: dict[dt.date, Path] = {}
    stats: dict[str, Any] = {}
    warnings: list[str] = []
    quicklook: tuple[F32, F32] | None = None
    rows_in = np.flatnonzero(mask.any(axis=1))
    cols_in = np.flatnonzero(mask.any(axis=0))
    crop = (
        (slice(rows_in[0], rows_in[-1] + 1), slice(cols_in[0], cols_in[-1] + 1))
        if rows_in.size
        else (slice(None), slice(None))
    )
    for i, d in enumerate(dates):
        sub = progress.sub(i / len(dates), (i + 1) / len(dates))
        scene = cache.get(d, sub.sub(0.0, 0.2))
        mean, spread, counts = predict_map(ensemble, scene, mask, tile_9km, sub.sub(0.2, 0.9))
        sub.check()
        path = out_dir / "maps" / f"soil_moisture_{d.isoformat()}.tif"
        implausible = int(outside_physical_range(mean).sum())
        lo, hi = PHYSICAL_RANGE
        date_tags = {
            **tags,
            "cells_outside_physical_range": implausible,
            "physical_range_m3m3": f"{lo:g}..{hi:g}",
        }
        write_sm_geotiff(path, mean, spread, window50, date=d, tags=date_tags)
        maps[d] = path
        if reproject_crs:
            code = re.sub(r"[^A-Za-z0-9]+", "", reproject_crs)[:24]
            reproj[d] = reproject_geotiff(
                path, path.with_name(f"{path.stem}_{code}.tif"), reproject_crs
            )
        values = mean[np.isfinite(mean)]
        entry: dict[str, Any] = {
            "cells_in_aoi": counts["requested"],
            "cells_mapped": counts["mapped"],
            "cells_without_inputs": counts["excluded"],
            "mean": float(values.mean()) if values.size else None,
            "share_outside_0_0.6": _share_outside(values),
            "spread_median": float(np.nanmedian(spread)) if values.size else None,
        }
        entry["cells_outside_physical_range"] = implausible
        note = physical_range_note(mean, f"map {d.isoformat()}")
        if note:
            warnings.append(note)
        if counts["excluded"]:
            warnings.append(
                f"{d.isoformat()}: {counts['excluded']} of {counts['requested']} AOI cells have "
                "no value (an input was missing there); they are nodata in the map"
            )
        if scene.truth is not None:
            entry["error_vs_truth"] = _map_error(mean[mask], np.asarray(scene.truth)[mask])
        stats[d.isoformat()] = entry
        if quicklook is None:
            quicklook = (mean[crop].copy(), spread[crop].copy())
        del mean, spread
        sub.fraction(1.0)
    return maps, reproj, stats, warnings, quicklook


def _adapt_config(config: AdaptMapConfig, alpha: float | None, epochs: int, seed: int) -> Any:
    from ..adaptation.train import AdaptConfig

    return AdaptConfig(
        method=config.method,
        alpha=ALPHA_DEFAULT if alpha is None else alpha,
        epochs=epochs,
        min_epoch_steps=config.min_epoch_steps,
        seed=seed,
        device=config.device,
    )


def run_adapt_map(config: AdaptMapConfig, progress: Progress | None = None) -> AdaptMapResult:
    """Run "Adapt & Map": adapt DenseSM-E to the AOI, map every date, validate, report.

    The output folder is checked before any work, locked for the run, cleaned of a killed
    run's temporary files, and its manifest (written last) lists only outputs that exist.

    Args:
        config: The run's configuration.
        progress: Progress and cancel reporter (stages, members, epochs, tiles).

    Returns:
        The :class:`AdaptMapResult`.

    Raises:
        InputError: bad inputs (no station inside the AOI, unreadable files, ...).
        NoDataError: a map date without Sentinel-1 (the message names the nearest dates), or
            no usable sample.
        Cancelled: the user cancelled; no half-written output is left behind.

    """
    from ..model.store import load_model_set

    check_output_dir(config.out_dir, "output folder", subfolders=("maps", "report", "ensemble"))
    load_model_set(config.models, verify=False)  # an unknown set fails now, not after the work
    with run_folder(config.out_dir):
        return _run_adapt_map(config, progress or NULL_PROGRESS)


def _run_adapt_map(config: AdaptMapConfig, progress: Progress) -> AdaptMapResult:
    from ..inputs.sources.base import get_source

    out_dir = config.out_dir
    warnings: list[str] = []

    # 1. stations
    progress.message("Reading station files")
    daily, w = read_stations_in_aoi(config.stations, config.aoi, progress.sub(0.0, 0.01))
    warnings += w
    _check_finetune_stations(config.method, int(daily["key"].nunique()))
    progress.check()

    # 2. acquisitions and training dates
    source = get_source(config.source)
    window9 = config.aoi.window9()
    train_start, train_end = config.training_period
    progress.message("Listing Sentinel-1 acquisitions")
    acq_dates = _acquisition_dates(source, window9, train_start, train_end, progress)
    _check_map_dates(source, window9, config.dates, set(acq_dates), progress)
    station_dates = set(daily["date"])
    train_dates = [d for d in acq_dates if d in station_dates]
    if not train_dates:
        first, last = min(station_dates), max(station_dates)
        raise NoDataError(
            f"no Sentinel-1 acquisition of the training period {train_start}..{train_end} falls "
            f"on a day with station readings (stations report {first}..{last}); set "
            "--train-start/--train-end to a period the stations cover."
        )
    stages = _Stages(
        config,
        len(train_dates),
        int(daily["date"].isin(set(train_dates)).sum()),
        int(daily["key"].nunique()),
    )
    from ..model.ensemble import Ensemble
    from ..model.store import load_model_set

    progress.message(f"Loading the pretrained ensemble {config.models!r}")
    model_set = load_model_set(config.models)  # verified once: origin and weights
    pretrained = Ensemble.from_model_set(model_set, device=config.device)
    models_origin = _models_origin(model_set, warnings)
    layout = pretrained.input_layout
    cache = _SceneCache(source, window9)
    samples, coarse_x, coarse_y, w = _labelled_samples(
        daily, cache, train_dates, progress.sub(*stages.SCENES), layout
    )
    warnings += w
    n_stations = len(samples.stations)
    alpha, alpha_reason = choose_alpha(config.alpha, n_stations, config.method)

    # 3. target cells
    target_x, target_truth, target_smap, target_counts = _target_samples(
        config.aoi,
        cache,
        config.dates,
        config.max_target_cells,
        config.seed,
        progress.sub(*stages.TARGET),
        layout,
    )
    simulated = bool(source.simulated) or any(v["simulated"] for v in cache.checksums.values())

    # 4. checks of the inputs, then adapt
    checks = _input_checks(pretrained, samples, coarse_x, coarse_y, target_x, target_counts)
    warnings += checks["warnings"]
    betas: dict[str, float] = {}
    adaptation_record: dict[str, Any] | None = None
    history: pd.DataFrame | None = None
    if config.method == "pretrained":
        ensemble = pretrained
    else:
        from ..adaptation.train import adapt

        progress.message(
            f"Adapting {len(pretrained.member_names)} members ({config.method}, "
            f"{config.epochs} epochs, {len(samples)} station samples)"
        )
        result = adapt(
            pretrained,
            samples.x,
            samples.y,
            coarse_x if len(coarse_y) else None,
            coarse_y if len(coarse_y) else None,
            target_x,
            config=_adapt_config(config, alpha, config.epochs, config.seed),
            progress=progress.sub(*stages.ADAPT),
        )
        ensemble = result.ensemble
        betas = {k: float(v) for k, v in (result.betas or {}).items()}
        adaptation_record = result.provenance()
        history = result.history
    progress.check()

    # 5. maps
    tags = _map_tags(config.method, alpha, betas, config.models, simulated)
    maps, reproj, map_stats, w, quicklook = _write_maps(
        ensemble,
        config.aoi,
        cache,
        config.dates,
        out_dir,
        tags,
        config.tile_9km,
        config.reproject_crs,
        progress.sub(*stages.MAP),
    )
    warnings += w

    # 6. validation
    vprog = progress.sub(*stages.VALIDATE)
    validation = _validate(
        config, samples, coarse_x, coarse_y, target_x, pretrained, ensemble, alpha, vprog
    )
    warnings += validation.pop("warnings", [])
    if target_truth is not None and config.method != "pretrained":
        # the same random cells for both ensembles: the map-level effect of adaptation
        pre_t = pretrained.predict(target_x).mean
        ada_t = ensemble.predict(target_x).mean
        validation["map_error_sample"] = {
            "cells": int(target_truth.size),
            "what": "random AOI cells of the map date(s) (the unlabelled target subset) "
            "against the simulated truth",
            "pretrained": _map_error(pre_t, target_truth),
            "adapted": _map_error(ada_t, target_truth),
            "smap_9km": _map_error(target_smap, target_truth),
        }

    # 7. manifest and ensemble
    manifest_dict = _manifest(
        config,
        daily,
        samples,
        coarse_y,
        target_counts,
        train_dates,
        cache,
        alpha,
        alpha_reason,
        betas,
        maps,
        reproj,
        simulated,
    )
    manifest_dict["adaptation"] = adaptation_record
    manifest_dict["models_origin"] = models_origin
    manifest_dict["input_layout"] = layout.name
    manifest_dict["input_checks"] = {k: v for k, v in checks.items() if k != "warnings"}
    ensemble_dir: Path | None = None
    if config.method != "pretrained":
        progress.message("Saving the adapted ensemble")
        ensemble_dir = out_dir / "ensemble"
        _save_ensemble(ensemble, ensemble_dir, manifest_dict)
        manifest_dict["outputs"]["ensemble"] = "ensemble"

    # 8. report
    progress.message("Writing the report")
    report_html, report_json = _write_report(
        out_dir / "report",
        config=config,
        samples=samples,
        validation=validation,
        map_stats=map_stats,
        quicklook=quicklook,
        train_dates=train_dates,
        n_coarse=int(len(coarse_y)),
        n_target=int(target_x.shape[0]),
        alpha=alpha,
        alpha_reason=alpha_reason,
        betas=betas,
        simulated=simulated,
        warnings=warnings,
        history=history,
        progress=progress.sub(*stages.REPORT),
        checks=checks,
    )
    # 9. the manifest, last: it lists only what exists
    manifest_dict["outputs"]["report"] = {
        "html": str(report_html.relative_to(out_dir)) if report_html is not None else None,
        "json": str(report_json.relative_to(out_dir)),
    }
    manifest_dict["outputs"] = _existing_outputs(manifest_dict["outputs"], out_dir)
    manifest_path = out_dir / "manifest.json"
    write_text(manifest_path, to_json(manifest_dict))
    progress.fraction(1.0)
    progress.message(f"Done: {len(maps)} map(s) in {out_dir}")
    metrics = {k: v for k, v in validation.items() if k not in ("pairs", "reports", "pair_columns")}
    metrics["maps"] = map_stats
    metrics["input_checks"] = manifest_dict["input_checks"]
    return AdaptMapResult(
        out_dir=out_dir,
        maps=maps,
        report_html=report_html,
        report_json=report_json,
        manifest=manifest_path,
        ensemble_dir=ensemble_dir,
        metrics=metrics,
        alpha=alpha,
        alpha_reason=alpha_reason,
        warnings=warnings,
        reprojected=reproj,
        simulated=simulated,
        n_samples=len(samples),
        n_stations=n_stations,
    )


def _models_origin(model_set: Any, warnings: list[str]) -> str:
    """Whether the pretrained set is the published one; a modified set is a run warning."""
    from ..model.store import ORIGIN_LABELS

    origin = str(model_set.origin)
    if origin == "modified":
        warnings.append(
            f"the model set {model_set.name!r} is {ORIGIN_LABELS[origin]}: these maps are "
            "not those of the published DenseSM-E; reinstall it from DenseSM_9km.zip"
        )
    return origin


def _save_ensemble(ensemble: Any, folder: Path, manifest: dict[str, Any]) -> None:
    """Save the adapted members with the run manifest as provenance (replacing atomically)."""
    from ..model.store import save_model_set

    provenance = dict(getattr(ensemble, "provenance", {}) or {})
    provenance.update(json.loads(to_json(manifest)))
    save_model_set(
        folder,
        ensemble.state_dicts(),
        kind="adapted",
        provenance=provenance,
        name=folder.name,
        source=f"soilmoisture adapt-map ({manifest.get('method')})",
        replace=True,
    )


def _validate(
    config: AdaptMapConfig,
    samples: LabelledSamples,
    coarse_x: F32,
    coarse_y: F32,
    target_x: F32,
    pretrained: Any,
    ensemble: Any,
    alpha: float | None,
    progress: Progress,
) -> dict[str, Any]:
    """Station-level validation: pretrained, in-sample fit, held-out CV, baselines."""
    import pandas as pd

    from ..adaptation.baselines import (
        ONE_STATION_MESSAGE,
        baseline_features,
        leave_one_station_out,
        loso_baseline,
    )
    from ..outputs.metrics import evaluate

    out: dict[str, Any] = {"warnings": []}
    pairs = pd.DataFrame(
        {
            "station": samples.station,
            "date": samples.date,
            "obs": samples.y.astype(np.float64),
            "smap_9km": samples.smap9.astype(np.float64),
        }
    )
    progress.message("Validation: pretrained ensemble at the stations")
    pairs["pretrained"] = np.asarray(pretrained.predict(samples.x).mean, dtype=np.float64)
    if config.method != "pretrained":
        pairs["adapted_in_sample"] = np.asarray(ensemble.predict(samples.x).mean, dtype=np.float64)
    fold_ids = _fold_ids(samples.station, config.cv_folds, config.seed)
    n_folds = len(set(fold_ids.tolist()))
    held_out: dict[str, str] = {}
    fold_alphas: list[float | None] = []
    one_station = len(samples.stations) < 2
    cv_message = ""
    if one_station:
        cv_message = ONE_STATION_MESSAGE
    elif not config.cross_validate:
        cv_message = "cross validation was switched off for this run (--no-cv)"

    steps = [s for s in ("cv", "random_forest", "xgboost") if not one_station]
    if not config.cross_validate or config.method == "pretrained":
        steps = [s for s in steps if s != "cv"]
    if not config.baselines or not config.cross_validate:
        steps = [s for s in steps if s == "cv"]
    steps_per_epoch = config.steps_per_epoch(len(samples))
    weights = {
        "cv": n_folds * (_Stages.BETA + _Stages.STEP * steps_per_epoch * config.epochs),
        "random_forest": n_folds * _Stages.BASELINE_FOLD,
        "xgboost": n_folds * _Stages.BASELINE_FOLD,
    }
    total_w = sum(weights[s] for s in steps) or 1.0
    bounds: dict[str, tuple[float, float]] = {}
    acc = 0.1  # the first tenth: predictions of the pretrained and adapted ensembles
    for s_ in steps:
        bounds[s_] = (acc, acc + 0.9 * weights[s_] / total_w)
        acc = bounds[s_][1]

    if "cv" in steps:
        sub = progress.sub(*bounds["cv"])
        fold_counter = {"i": 0}
        from ..adaptation.train import adapt

        def fit_predict(train: npt.NDArray[np.intp], test: npt.NDArray[np.intp]) -> F32:
            i = fold_counter["i"]
            fold_counter["i"] += 1
            # the final ensemble's rule, applied to the stations this fold trains on
            fold_stations = len(set(samples.station[train].tolist()))
            fold_alpha, _ = choose_alpha(config.alpha, fold_stations, config.method)
            fold_alphas.append(fold_alpha)
            cfg = _adapt_config(config, fold_alpha, config.epochs, config.seed)
            res = adapt(
                pretrained,
                samples.x[train],
                samples.y[train],
                coarse_x if len(coarse_y) else None,
                coarse_y if len(coarse_y) else None,
                target_x,
                config=cfg,
                progress=sub.sub(i / n_folds, (i + 1) / n_folds),
            )
            return np.asarray(res.ensemble.predict(samples.x[test]).mean, dtype=np.float32)

        progress.message(
            f"Validation: {config.method} held out by station ({n_folds} folds, each adapted "
            "as the final ensemble)"
        )
        loso = leave_one_station_out(samples.x, samples.y, fold_ids, fit_predict, progress=sub)
        if loso.predictions is not None:
            pairs["adapted_cv"] = loso.predictions
            held_out["adapted_cv"] = config.method
    for name in ("random_forest", "xgboost"):
        if name not in steps:
            continue
        progress.message(f"Validation: {name.replace('_', ' ')} held out by station")
        try:
            res = loso_baseline(
                name,
                baseline_features(samples.x, samples.smap9),
                samples.y,
                fold_ids,
                seed=config.seed,
                progress=progress.sub(*bounds[name]),
            )
        except ModuleNotFoundError as exc:
            out["warnings"].append(f"baseline {name} skipped: {exc}")
            continue
        if res.predictions is not None:
            pairs[name] = res.predictions
            held_out[name] = name

    method_label = config.method.upper() if config.method != "finetune" else "finetune"
    scheme = (
        "LOSO CV"
        if config.cv_folds is None or n_folds == len(samples.stations)
        else f"{n_folds}-fold station CV"
    )
    labels = {
        "adapted_cv": f"adapted {method_label} ({scheme})",
        "pretrained": "pretrained (no adaptation, never saw the stations)",
        "random_forest": f"random forest on the inputs and SMAP 9 km ({scheme})",
        "xgboost": f"XGBoost on the inputs and SMAP 9 km ({scheme})",
        "smap_9km": "SMAP 9 km (the station's 9 km cell)",
        "adapted_in_sample": f"adapted {method_label} (in-sample fit, NOT held out)",
    }
    reports: dict[str, Any] = {}
    pair_columns: dict[str, str] = {}
    methods: dict[str, Any] = {}
    for col, label in labels.items():
        if col in pairs.columns:
            rep = evaluate(pairs, obs="obs", pred=col, station="station", seed=config.seed)
            reports[label] = rep
            pair_columns[label] = col
            d = rep.to_dict()
            d["label"] = label
            d["share_outside_0_0.6"] = _share_outside(pairs[col])
            methods[col] = d
    if config.method == "pretrained":
        held_out["pretrained"] = "pretrained"
    out.update(
        {
            "pairs": pairs,
            "reports": reports,
            "pair_columns": pair_columns,
            "methods": methods,
            "held_out": held_out,
            "cv": {
                "scheme": (
                    "leave-one-station-out"
                    if config.cv_folds is None or n_folds == len(samples.stations)
                    else f"{n_folds}-fold by station"
                ),
                "folds": 0 if one_station else n_folds,
                "schedule": config.schedule_text(len(samples)),
                "fold_alphas": fold_alphas,
                "epochs_per_fold": config.epochs,
                "epochs_final": config.epochs,
                "message": cv_message,
                "note": (
                    "Held-out numbers come from models that never saw the station they predict. "
                    "The pretrained ensemble never saw any station, so its numbers are held out "
                    "too. 'adapted_in_sample' is the fit on the training stations: not an "
                    "accuracy estimate. Every fold is adapted exactly as the final ensemble ("
                    f"{config.schedule_text(len(samples))}; alpha by the same rule, applied to "
                    "the fold's own number of stations), so the held-out rows measure the model "
                    "that makes the map."
                ),
            },
        }
    )
    return out


def _manifest(
    config: AdaptMapConfig,
    daily: pd.DataFrame,
    samples: LabelledSamples,
    coarse_y: F32,
    target_counts: dict[dt.date, int],
    train_dates: Sequence[dt.date],
    cache: _SceneCache,
    alpha: float | None,
    alpha_reason: str,
    betas: dict[str, float],
    maps: dict[dt.date, Path],
    reproj: dict[dt.date, Path],
    simulated: bool,
) -> dict[str, Any]:
    import pandas as pd

    counts = pd.Series(samples.station).value_counts()
    first = daily.groupby("key").first()
    stations = [
        {
            "id": key,
            "network": str(first.loc[key].get("network", "")),
            "station": str(first.loc[key]["station"]),
            "lat": float(first.loc[key]["lat"]),
            "lon": float(first.loc[key]["lon"]),
            "row50": int(first.loc[key]["row50"]),
            "col50": int(first.loc[key]["col50"]),
            "training_samples": int(counts.get(key, 0)),
        }
        for key in first.index
    ]
    w9 = cache.window9
    return {
        "format": 1,
        "kind": "soilmoisture adapt-map run",
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "software": software_versions(),
        "aoi": config.aoi.to_geojson(),
        "aoi_area_km2": config.aoi.area_km2,
        "window9": asdict(w9),
        "dates": [d.isoformat() for d in config.dates],
        "training_period": [d.isoformat() for d in config.training_period],
        "training_dates": [d.isoformat() for d in train_dates],
        "source": {"name": config.source, "simulated": simulated},
        "scenes": {d.isoformat(): v for d, v in sorted(cache.checksums.items())},
        "station_files": [input_record(p) for p in config.stations],
        "stations": stations,
        "method": config.method,
        "alpha": alpha,
        "alpha_reason": alpha_reason,
        "beta": betas or None,
        "models": config.models,
        "seeds": {
            "adaptation": config.seed,
            "target_subset": config.seed,
            "baselines": config.seed,
            "cv_folds": config.seed,
        },
        "epochs": config.epochs,
        "min_epoch_steps": config.min_epoch_steps,
        "device": config.device,
        "samples": {
            "labelled_50m": len(samples),
            "labelled_9km": int(len(coarse_y)),
            "target_50m": {d.isoformat(): n for d, n in target_counts.items()},
        },
        "outputs": {
            "maps": {d.isoformat(): str(p.relative_to(config.out_dir)) for d, p in maps.items()},
            "reprojected": {
                d.isoformat(): str(p.relative_to(config.out_dir)) for d, p in reproj.items()
            },
        },
    }


def _fmt_metric(d: dict[str, Any] | None, key: str = "rmse") -> str:
    if not d:
        return "n/a"
    v = d.get(key)
    return "n/a" if v is None or not math.isfinite(float(v)) else f"{float(v):.3f}"


def _write_report(
    out: Path,
    *,
    config: AdaptMapConfig,
    samples: LabelledSamples,
    validation: dict[str, Any],
    map_stats: dict[str, Any],
    quicklook: tuple[F32, F32] | None,
    train_dates: Sequence[dt.date],
    n_coarse: int,
    n_target: int,
    alpha: float | None,
    alpha_reason: str,
    betas: dict[str, float],
    simulated: bool,
    warnings: Sequence[str],
    progress: Progress,
    history: pd.DataFrame | None = None,
    checks: dict[str, Any] | None = None,
) -> tuple[Path, Path]:
    """Assemble the report's tables, notes and charts and write it with core.outputs.report."""
    from ..outputs.report import write_report

    progress.check()
    pairs: pd.DataFrame = validation["pairs"]
    cv = validation["cv"]
    n_st = len(samples.stations)
    finite_b = [b for b in betas.values() if math.isfinite(b)]
    beta_text = (
        "n/a (no domain loss)"
        if not finite_b
        else (
            "per member, computed before training (early balance): median "
            f"{np.median(finite_b):.4g}, "
            f"range {min(finite_b):.4g}..{max(finite_b):.4g} over {len(finite_b)} members"
        )
    )
    t0, t1 = config.training_period
    summary: dict[str, Any] = {
        "aoi": f"{config.aoi.name}: {config.aoi.area_km2:.1f} km2, lon/lat bounds "
        + ", ".join(f"{v:.4f}" for v in config.aoi.bounds_lonlat),
        "dates": ", ".join(d.isoformat() for d in config.dates),
        "source": config.source + (" (SIMULATED data)" if simulated else ""),
        "method": config.method,
        "alpha": "n/a" if alpha is None else f"{alpha:g}",
        "alpha_reason": alpha_reason,
        "beta": beta_text,
        "stations": f"{n_st} inside the AOI: "
        + ", ".join(samples.stations[:12])
        + (" ..." if n_st > 12 else ""),
        "training period": f"{t0.isoformat()} .. {t1.isoformat()} ({len(train_dates)} Sentinel-1 "
        "dates with station readings)",
        "samples": f"{len(samples)} labelled 50 m (station-days), {n_coarse} labelled 9 km (SMAP), "
        f"{n_target} unlabelled 50 m target cells",
        "schedule": config.schedule_text(len(samples))
        + " (the final ensemble and every cross-validation fold)",
        "validation": (cv["message"] if cv["message"] else f"{cv['scheme']}, {cv['folds']} folds"),
        "models": config.models,
        "seed": config.seed,
    }
    if checks:
        health, self_check = checks["input_health"], checks["smap_self_check"]
        summary["input checks"] = (
            f"input health: {health['status']} (layout {health['layout']}); 9 km self-check: "
            f"{self_check['status']}"
            + (f" (RMSE {self_check['rmse']:.3f} m3/m3 against SMAP)" if self_check["n"] else "")
        )
    for day, st in map_stats.items():
        summary[f"map {day}"] = (
            f"{st['cells_mapped']} of {st['cells_in_aoi']} AOI cells mapped, mean "
            f"{_fmt_metric(st, 'mean')} m3/m3, median spread {_fmt_metric(st, 'spread_median')}"
        )
        if "error_vs_truth" in st:
            e = st["error_vs_truth"]
            summary[f"map {day} vs simulated truth"] = (
                f"RMSE {_fmt_metric(e)}, bias {_fmt_metric(e, 'bias')}, R {_fmt_metric(e, 'r')} "
                f"over {int(e['n'])} cells"
            )
    mes = validation.get("map_error_sample")
    if mes:
        summary["map error against the simulated truth (RMSE, bias)"] = (
            f"adapted {_fmt_metric(mes['adapted'])}, {_fmt_metric(mes['adapted'], 'bias')}; "
            f"pretrained {_fmt_metric(mes['pretrained'])}, "
            f"{_fmt_metric(mes['pretrained'], 'bias')}; SMAP 9 km on the 50 m grid "
            f"{_fmt_metric(mes.get('smap_9km'))}, {_fmt_metric(mes.get('smap_9km'), 'bias')} "
            f"(m3/m3, {mes['cells']} random AOI cells)"
        )

    notes: list[str] = []
    if simulated:
        notes.append(
            "SIMULATED: every input and station reading of this run is synthetic (demo source). "
            "The numbers show how the method behaves, not the accuracy at a real site."
        )
    if cv["message"]:
        notes.append(cv["message"])
    if n_st >= 2 and config.cross_validate and config.method != "pretrained":
        alphas = sorted({f"{a:g}" for a in cv.get("fold_alphas", []) if a is not None})
        notes.append(
            f"Held-out accuracy of {config.method.upper()}: each station (or fold of stations) is "
            "predicted by an ensemble adapted without it, trained exactly as the final map's "
            f"ensemble ({config.schedule_text(len(samples))}"
            + (f"; fold alpha {', '.join(alphas)}" if alphas else "")
            + "). The maps were written before this validation started."
        )
    if config.method == "pretrained":
        notes.append(
            "Method 'pretrained': the 9 km ensemble was used as is; it never saw these stations, "
            "so its station metrics are held-out numbers."
        )
    notes.append(
        "The 'in-sample fit' row uses the stations the final ensemble was adapted on: it is not "
        "an accuracy estimate. Quote the held-out rows."
    )
    if "random_forest" in pairs.columns:
        notes.append(
            "Random forest and XGBoost are trained on the same stations, dates and 156 inputs, "
            "plus SMAP's 9 km value of the station's cell on the date as a 157th feature, and "
            "held out the same way (the conventional baselines of the 2025 TGRS study, which "
            "also gave them SMAP)."
        )
    notes.append(
        "The 'adapted' line of the time-series chart is the held-out (cross-validated) "
        "prediction where one exists, else the in-sample fit."
        if "adapted_cv" in pairs.columns
        else "The 'adapted' line of the time-series chart is the in-sample fit."
    )
    notes.extend(str(w) for w in warnings)

    ts = pairs[["station", "date", "obs", "smap_9km", "pretrained"]].copy()
    if "adapted_cv" in pairs.columns:
        ts["adapted"] = pairs["adapted_cv"]
    elif "adapted_in_sample" in pairs.columns:
        ts["adapted"] = pairs["adapted_in_sample"]

    shares = [
        (st["share_outside_0_0.6"], st["cells_mapped"])
        for st in map_stats.values()
        if st["cells_mapped"]
        and st["share_outside_0_0.6"] is not None
        and math.isfinite(st["share_outside_0_0.6"])
    ]
    total = sum(n for _, n in shares)
    share_outside = sum(v * n for v, n in shares) / total if total else math.nan
    title = f"Soil moisture {config.method.upper()} run: {config.aoi.name}"
    if simulated:
        title += " (SIMULATED demo data)"
    paths = write_report(
        out,
        title=title,
        summary=summary,
        metrics=validation["reports"],
        pairs=pairs,
        timeseries=ts,
        notes=notes,
        share_outside=share_outside,
        simulated=simulated,
        pair_columns=validation["pair_columns"],
        map_mean=None if quicklook is None else quicklook[0],
        map_spread=None if quicklook is None else quicklook[1],
        checks=checks,
    )
    details = {
        "held_out": validation["held_out"],
        "cv": cv,
        "methods": validation["methods"],
        "maps": map_stats,
        "map_error_sample": mes,
        "alpha": alpha,
        "alpha_reason": alpha_reason,
        "beta": betas or None,
        "share_outside_0_0.6_maps": share_outside,
        "simulated": simulated,
    }
    write_text(out / "run_metrics.json", to_json(details))
    pairs_out = pairs.copy()
    pairs_out["date"] = [d.isoformat() for d in pairs_out["date"]]
    write_text(out / "station_predictions.csv", pairs_out.to_csv(index=False))
    if history is not None and len(history):
        write_text(out / "adaptation_history.csv", history.to_csv(index=False))
    progress.fraction(1.0)
    return paths.html, paths.json


# ------------------------------------------------------------------------- saved ensembles
def run_map_with_ensemble(
    ensemble_dir: str | os.PathLike[str],
    aoi: AOI,
    dates: Sequence[dt.date],
    out_dir: str | os.PathLike[str],
    source: str = "demo",
    progress: Progress | None = None,
    *,
    device: str = "cpu",
    reproject_crs: str | None = None,
    tile_9km: int = DEFAULT_TILE_9KM,
) -> MapResult:
    """Map new dates (or a new AOI) with a saved adapted ensemble, without retraining.

    Args:
        ensemble_dir: Folder written by :func:`run_adapt_map` (``out/ensemble``) or any model set.
        aoi: The area to map.
        dates: Map dates.
        out_dir: Output folder (``maps/`` and ``manifest.json``).
        source: Input source name.
        progress: Progress and cancel reporter.
        device: ``"cpu"`` or ``"cuda"``.
        reproject_crs: Also write reprojected copies.
        tile_9km: Tile side in 9 km cells.

    Returns:
        The :class:`MapResult`.

    Raises:
        ModelStoreError: the ensemble folder is missing or corrupt.
        NoDataError: a date without Sentinel-1 (naming the nearest dates).
        Cancelled: the user cancelled.

    """
    progress = progress or NULL_PROGRESS
    out = check_output_dir(out_dir, "output folder", subfolders=("maps",))
    date_list = sorted({_as_date(d, "map date") for d in dates})
    if not date_list:
        raise InputError("no map date given; give at least one date (YYYY-MM-DD)")
    check_sentinel1_era(date_list, "map date")
    with run_folder(out):
        return _map_with_ensemble(
            ensemble_dir, aoi, date_list, out, source, progress, device, reproject_crs, tile_9km
        )


def _map_with_ensemble(
    ensemble_dir: str | os.PathLike[str],
    aoi: AOI,
    date_list: list[dt.date],
    out: Path,
    source: str,
    progress: Progress,
    device: str,
    reproject_crs: str | None,
    tile_9km: int,
) -> MapResult:
    from ..inputs.sources.base import get_source
    from ..model.ensemble import Ensemble
    from ..model.store import load_model_set

    progress.message(f"Loading the ensemble {os.fspath(ensemble_dir)}")
    model_set = load_model_set(ensemble_dir)
    prov = dict(model_set.provenance or {})
    ensemble = Ensemble.from_model_set(model_set, device=device)
    src = get_source(source)
    window9 = aoi.window9()
    _check_map_dates(src, window9, date_list, set(), progress.sub(0.0, 0.05))
    cache = _SceneCache(src, window9)
    method = str(prov.get("method", model_set.kind))
    alpha = prov.get("alpha")
    betas = prov.get("beta") or {}
    tags = _map_tags(
        method,
        alpha,
        betas,
        str(prov.get("models", model_set.name)),
        bool(src.simulated),
        extra={"ensemble": str(Path(ensemble_dir).resolve()), "ensemble_name": model_set.name},
    )
    # the health cells first, in reverse date order: the scene cache keeps the last scene,
    # which is then the first date the maps need
    checks = _map_input_health(
        ensemble, model_set.kind, aoi, cache, date_list, progress.sub(0.05, 0.1)
    )
    maps, reproj, stats, warnings, _ = _write_maps(
        ensemble,
        aoi,
        cache,
        date_list,
        out,
        tags,
        tile_9km,
        reproject_crs,
        progress.sub(0.1, 0.98),
    )
    simulated = bool(src.simulated) or any(v["simulated"] for v in cache.checksums.values())
    warnings = list(warnings) + checks["input_health"]["warnings"]
    manifest = {
        "format": 1,
        "kind": "soilmoisture map run (saved ensemble, no retraining)",
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "software": software_versions(),
        "ensemble": {
            "path": str(Path(ensemble_dir).resolve()),
            "name": model_set.name,
            "members": {m.name: m.sha256 for m in model_set.members},
        },
        "ensemble_provenance": prov,
        "aoi": aoi.to_geojson(),
        "dates": [d.isoformat() for d in date_list],
        "source": {"name": source, "simulated": simulated},
        "scenes": {d.isoformat(): v for d, v in sorted(cache.checksums.items())},
        "maps": stats,
        "input_layout": ensemble.input_layout.name,
        "input_checks": checks,
        "outputs": _existing_outputs(
            {"maps": {d.isoformat(): str(p.relative_to(out)) for d, p in maps.items()}}, out
        ),
    }
    write_text(out / "manifest.json", to_json(manifest))
    progress.fraction(1.0)
    return MapResult(
        out_dir=out,
        maps=maps,
        reprojected=reproj,
        map_error=stats,
        warnings=warnings,
        simulated=simulated,
    )


def _split_by_date(x: F32, counts: dict[dt.date, int]) -> dict[dt.date, F32]:
    """Rows of ``x`` by date, for rows stacked date after date with ``counts`` rows each."""
    out, start = {}, 0
    for d, n in counts.items():
        out[d] = x[start : start + n]
        start += n
    return out


def _map_input_health(
    ensemble: Any,
    kind: str,
    aoi: AOI,
    cache: _SceneCache,
    dates: Sequence[dt.date],
    progress: Progress,
) -> dict[str, Any]:
    """Input health of sampled AOI cells of the map dates against the ensemble's own statistics.

    For an adapted set those are the statistics of the data it was adapted on (its BatchNorm
    kept tracking them), so a new area or season unlike the adaptation's shows up here.
    """
    from .health import input_health, norm_statistics

    x, _, _, counts = _target_samples(
        aoi, cache, list(reversed(dates)), 3000, 0, progress, ensemble.input_layout
    )
    by_date = _split_by_date(x, counts)
    mean, sd = norm_statistics(ensemble.state_dicts())
    what = "adapted on" if kind == "adapted" else "trained on"
    health = input_health(
        ensemble.input_layout,
        mean,
        sd,
        by_date,
        statistics_of=f"the data the ensemble {ensemble.name!r} was {what}",
    )
    return {"input_layout": ensemble.input_layout.to_dict(), "input_health": health}


# ---------------------------------------------------------------------- raster validation
def validate_raster(
    raster_path: str | os.PathLike[str],
    station_paths: Sequence[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str] | None = None,
    *,
    date: dt.date | None = None,
    progress: Progress | None = None,
) -> RasterValidation:
    """Validate any soil-moisture GeoTIFF against station files.

    The raster's date comes from its ``date`` tag (ours carry one) or from ``date``. Each
    station with a daily 0-5 cm reading on that date gives one pair (in-situ, raster value at
    the station's location, in any CRS).

    Args:
        raster_path: The GeoTIFF (band 1 soil moisture in m3/m3; band 2, if any, the spread).
        station_paths: ISMN or CSV station files.
        out_dir: Where to write ``validation.json`` and the scatter chart (optional).
        date: The raster's date when it has no ``date`` tag.
        progress: Progress reporter.

    Returns:
        The :class:`RasterValidation`.

    Raises:
        InputError: unreadable raster or station files, no date, or no station on the raster
            with a reading on its date.

    """
    import pandas as pd

    from ..inputs.stations import read_station_files
    from ..outputs.metrics import evaluate
    from ..outputs.raster_io import read_sm_geotiff, sample_raster

    progress = progress or NULL_PROGRESS
    if out_dir is not None:
        check_output_dir(out_dir, "output folder")
    raster = read_sm_geotiff(raster_path)
    tag_date = raster.tags.get("date")
    if date is None:
        if not tag_date:
            raise InputError(
                f"raster {os.fspath(raster_path)!r} has no 'date' tag; give its date (--date)"
            )
        date = _as_date(tag_date, "raster date tag")
    progress.message("Reading station files")
    data = read_station_files(
        [Path(p) for p in station_paths], aoi=None, progress=progress.sub(0, 0.5)
    )
    warnings = [str(w) for w in getattr(data, "warnings", [])]
    daily = _station_table(data.daily)
    day = daily[daily["date"] == date]
    if day.empty:
        raise InputError(
            f"no station has a reading on the raster's date {date.isoformat()}; the stations "
            f"report {_date_span(daily)}"
        )
    mean, spread = sample_raster(raster, day["lon"].to_numpy(), day["lat"].to_numpy())
    pairs = pd.DataFrame(
        {
            "station": day["key"].to_numpy(),
            "lat": day["lat"].to_numpy(),
            "lon": day["lon"].to_numpy(),
            "obs": day["sm"].to_numpy(dtype=np.float64),
            "pred": mean.astype(np.float64),
            "spread": np.nan if spread is None else spread.astype(np.float64),
        }
    )
    pairs = pairs[np.isfinite(pairs["pred"])].reset_index(drop=True)
    if pairs.empty:
        raise InputError(
            f"none of the {day['key'].nunique()} station(s) with a reading on {date.isoformat()} "
            "lies on a valid cell of the raster"
        )
    metrics = evaluate(pairs, obs="obs", pred="pred", station="station")
    if len(pairs) < 3:
        warnings.append(
            f"only {len(pairs)} station(s) on the raster with a reading on {date.isoformat()}: "
            "the metrics rest on very few pairs"
        )
    result = RasterValidation(metrics=metrics, pairs=pairs, date=date, warnings=warnings)
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        result.charts = _raster_charts(out, pairs, date)
        payload = {
            "raster": str(Path(raster_path).resolve()),
            "date": date.isoformat(),
            "raster_tags": raster.tags,
            "station_files": [input_record(p) for p in station_paths],
            "metrics": metrics.to_dict(),
            "share_outside_0_0.6": _share_outside(pairs["pred"]),
            "pairs": pairs.to_dict(orient="records"),
            "warnings": warnings,
        }
        result.report_json = out / "validation.json"
        write_text(result.report_json, to_json(payload))
    progress.fraction(1.0)
    return result


def _date_span(daily: pd.DataFrame) -> str:
    if not len(daily):
        return "no readings"
    return f"{min(daily['date'])}..{max(daily['date'])}"


def _raster_charts(out: Path, pairs: pd.DataFrame, date: dt.date) -> dict[str, Path]:
    """Scatter chart of a raster validation."""
    from ..outputs.report import scatter_density_png

    return {
        "scatter": scatter_density_png(
            pairs["obs"],
            pairs["pred"],
            out / "validation_scatter.png",
            f"Raster vs stations, {date.isoformat()}",
        )
    }


__all__ = [
    "AdaptMapConfig",
    "AdaptMapResult",
    "LabelledSamples",
    "MapResult",
    "METHODS",
    "RasterValidation",
    "choose_alpha",
    "predict_map",
    "acquisition_dates_between",
    "read_stations_in_aoi",
    "run_adapt_map",
    "run_map_with_ensemble",
    "scene_sha256",
    "software_versions",
    "subscene",
    "validate_raster",
]
