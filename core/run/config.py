"""The configuration of an "Adapt & Map" run: its constants, :class:`AdaptMapConfig` and alpha.

Every default a run starts from lives here (methods, alpha, training period, tile size, epoch
steps, the finetune station floor), next to the dataclass that validates a run's settings and
the rules that turn them into an adaptation configuration.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..adaptation.methods import METHODS as ADAPTATION_METHODS
from ..adaptation.methods import check_batchnorm_mode, check_consistency_weight
from ..errors import InputError
from ..inputs.aoi import AOI
from ..inputs.sources.base import check_sentinel1_era

METHODS: tuple[str, ...] = (*ADAPTATION_METHODS, "pretrained")
"""Methods a run accepts: the transfer methods of :mod:`core.adaptation.methods` by name, and
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
DEFAULT_EPOCHS = 50
"""Adaptation epochs of a run by default (the final ensemble and every cross-validation fold)."""
DEFAULT_BATCHNORM = "pretrained"
"""BatchNorm in a run's adaptation (``AdaptConfig.batchnorm``): the pretrained statistics. With
the statistics of each training batch (the method as published) the demo's held-out stations
lost to SMAP and to the pretrained ensemble (README, "BatchNorm during adaptation")."""
DEFAULT_CONSISTENCY = 16.0
"""Weight of the 9 km consistency term in a run (``AdaptConfig.consistency``), chosen by
measurement on the demo's held-out stations and map error against its truth (README, "9 km
consistency")."""
DEFAULT_CONSISTENCY_CELLS = 60_000
"""50 m cells drawn over all training dates for the 9 km consistency term (~37 MB)."""
"""Adaptation epochs of a run by default (the final ensemble and every cross-validation fold)."""
VALID_RANGE = (0.0, 0.6)
"""Physically valid soil moisture range, m3/m3 (for the share of predictions outside it)."""
NEAREST_SEARCH_DAYS = 30
"""Days searched on each side of a map date for the nearest Sentinel-1 dates in messages."""
FINETUNE_MIN_STATIONS = 3
"""Fewest stations finetune is run with: it trains on the station cells alone, so its BatchNorm
statistics come from those few places. On the demo scene one station gave a map of -21 to 327
m3/m3 (RMSE 143 against the truth) and two stations -1.3 to 2.3 (RMSE 0.47)."""


def as_date(value: Any, what: str) -> dt.date:
    """A date from a date, datetime or ``YYYY-MM-DD`` text; InputError naming ``what`` if not."""
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
        batchnorm: ``"pretrained"`` (the default) or ``"batch"`` (the method as published)
            normalisation in adaptation (``AdaptConfig.batchnorm``).
        consistency: Weight of the 9 km consistency term (``AdaptConfig.consistency``); 0 is
            the method as published. Used by the methods with a 9 km loss (MS, MSDA).
        consistency_cells: 50 m cells drawn in all over the training dates for that term.
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
    epochs: int = DEFAULT_EPOCHS
    min_epoch_steps: int = DEFAULT_EPOCH_STEPS
    batchnorm: str = DEFAULT_BATCHNORM
    consistency: float = DEFAULT_CONSISTENCY
    consistency_cells: int = DEFAULT_CONSISTENCY_CELLS
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
        self._normalise_stations()
        self._normalise_dates()
        object.__setattr__(self, "out_dir", Path(self.out_dir))
        self._check_method_and_device()
        self._normalise_training_period()
        self._check_numbers()
        self._check_reproject_crs()
        from ..inputs.sources.base import available_sources

        sources = available_sources()
        if self.source not in sources:
            raise InputError(f"unknown data source {self.source!r}; allowed: {', '.join(sources)}")

    def _normalise_stations(self) -> None:
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

    def _normalise_dates(self) -> None:
        dates_in = self.dates
        if isinstance(dates_in, (dt.date, str)):
            dates_in = (dates_in,)
        dates = tuple(sorted({as_date(d, "map date") for d in dates_in}))
        if not dates:
            raise InputError("no map date given; give at least one date (YYYY-MM-DD)")
        check_sentinel1_era(dates, "map date")
        object.__setattr__(self, "dates", dates)

    def _check_method_and_device(self) -> None:
        if self.method not in METHODS:
            raise InputError(f"unknown method {self.method!r}; allowed: {', '.join(METHODS)}")
        if self.alpha is not None:
            if not isinstance(self.alpha, (int, float)) or not 0.0 <= float(self.alpha) <= 1.0:
                raise InputError(f"alpha must be a number from 0 to 1, got {self.alpha!r}")
            object.__setattr__(self, "alpha", float(self.alpha))
        check_batchnorm_mode(self.batchnorm)
        check_consistency_weight(self.consistency)
        object.__setattr__(self, "consistency", float(self.consistency))
        if not re.fullmatch(r"cpu|cuda(:\d+)?", str(self.device)):
            raise InputError(f"device must be 'cpu', 'cuda' or 'cuda:N', got {self.device!r}")

    def _normalise_training_period(self) -> None:
        for name in ("train_start", "train_end"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, as_date(value, name.replace("_", " ")))
        if self.train_start is not None and self.train_end is not None:
            if self.train_start > self.train_end:
                raise InputError(
                    f"train start {self.train_start} is after train end {self.train_end}"
                )

    def _check_numbers(self) -> None:
        for name, lo in (
            ("epochs", 1),
            ("min_epoch_steps", 1),
            ("max_target_cells", 1),
            ("consistency_cells", 1),
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

    def _check_reproject_crs(self) -> None:
        if self.reproject_crs is None:
            return
        from pyproj import CRS
        from pyproj.exceptions import CRSError

        try:
            CRS.from_user_input(self.reproject_crs)
        except CRSError:
            raise InputError(
                f"unknown coordinate reference system {self.reproject_crs!r} for the "
                "reprojected copy; give e.g. 'EPSG:32633'"
            ) from None

    @property
    def training_period(self) -> tuple[dt.date, dt.date]:
        """(first, last) day of the training period, defaults applied."""
        end = self.train_end or self.dates[0]
        start = self.train_start or end - dt.timedelta(days=TRAINING_DAYS)
        return start, end

    def steps_per_epoch(self, n_samples: int) -> int:
        """Optimizer steps of one adaptation epoch with ``n_samples`` labelled 50 m samples."""
        return max(math.ceil(n_samples / 128), self.min_epoch_steps)

    @property
    def uses_consistency(self) -> bool:
        """Whether the run adds the 9 km consistency term (a weight > 0 and a 9 km loss)."""
        method = ADAPTATION_METHODS.get(self.method)  # None for "pretrained"
        return (
            self.consistency > 0
            and method is not None
            and method.uses_coarse
            and (self.alpha != 1.0)
        )

    def schedule_text(self, n_samples: int) -> str:
        """The adaptation schedule in words, for the report."""
        steps = self.steps_per_epoch(n_samples)
        return (
            f"{self.epochs} epochs of {steps} optimizer step(s) ({self.epochs * steps} steps), "
            f"weights averaged over the last {min(10, self.epochs)} epochs"
            + (
                ", BatchNorm statistics of each training batch (the method as published)"
                if self.batchnorm == "batch"
                else ", BatchNorm kept at the pretrained statistics"
            )
            + (
                f", 9 km consistency of the 50 m predictions (weight {self.consistency:g})"
                if self.uses_consistency
                else ""
            )
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


def check_finetune_stations(method: str, n_stations: int) -> None:
    """Refuse finetune with fewer stations than :data:`FINETUNE_MIN_STATIONS`."""
    if method == "finetune" and n_stations < FINETUNE_MIN_STATIONS:
        raise InputError(
            f"method finetune trains on the stations alone and needs at least "
            f"{FINETUNE_MIN_STATIONS} stations inside the AOI (this run has {n_stations}): with "
            "fewer, its statistics come from one or two places and the map goes far outside "
            "any physical range. Use msda or ms, which also learn from SMAP and the area's own "
            "cells, or add stations."
        )


def adapt_config(config: AdaptMapConfig, alpha: float | None, epochs: int, seed: int) -> Any:
    """The :class:`core.adaptation.train.AdaptConfig` of a run (or a fold) with this alpha."""
    from ..adaptation.methods import AdaptConfig

    return AdaptConfig(
        method=config.method,
        alpha=ALPHA_DEFAULT if alpha is None else alpha,
        epochs=epochs,
        min_epoch_steps=config.min_epoch_steps,
        batchnorm=config.batchnorm,
        consistency=config.consistency if config.uses_consistency else 0.0,
        seed=seed,
        device=config.device,
    )
