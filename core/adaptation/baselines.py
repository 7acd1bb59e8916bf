"""Conventional machine-learning baselines and a leave-one-station-out (LOSO) driver.

The 2025 TGRS study (Zhu et al., IEEE TGRS 63:4501815) compares DenseSM-E transfer with
conventional regressors trained directly on the few in-situ samples of the area, with SMAP's
coarse soil moisture among their predictors. MSDA has to beat them in the same data-scarce
setting, so the report trains them on the same stations, the same 156 model inputs
(``core.features.contract``) plus SMAP's 9 km value at the sample (:func:`baseline_features`), and
validates them with the same held-out scheme. Without SMAP a tree model only sees the raw
inputs and is a weaker opponent than the one the study set up.

Baselines are looked up by name in :data:`BASELINES` (see :func:`list_baselines`):

``random_forest``
    ``sklearn.ensemble.RandomForestRegressor`` with 300 trees, ``max_features=1/3`` (a third
    of the 156 inputs per split, Breiman's regression default, which decorrelates the trees
    of many redundant inputs), ``min_samples_leaf=2`` (no single-sample leaves on tiny
    training sets), bootstrap resampling, unlimited depth, one thread.
``xgboost``
    ``xgboost.XGBRegressor`` with 300 rounds of shrinkage 0.05, ``max_depth=4``,
    ``subsample=0.8``, ``colsample_bytree=0.5``, ``min_child_weight=1``, L2 ``reg_lambda=1``,
    the ``hist`` tree method, squared error objective, one thread.

The hyper-parameters are fixed on purpose and were not tuned on any validation data: with a
handful of stations there is no data to tune on without leaking the held-out station into the
model, and these moderate, regularised settings are the usual robust choice for a few hundred
to a few thousand samples. Both accept NaN inputs (trees route missing values); the targets
must be finite.

:func:`leave_one_station_out` is the generic held-out driver, shared by the baselines and the
DenseSM adaptation methods: it holds out each station in turn, calls a ``fit_predict`` callback
with train and test indices, and assembles the held-out predictions aligned with the samples.
With a single station there is nothing to hold out; it then returns a :class:`LosoResult` whose
``predictions`` is ``None`` and whose ``message`` says so, instead of raising, because a run
with one station is legitimate (the map can be made, only its accuracy cannot be measured).

sklearn and xgboost are imported inside the functions that need them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import InputError

if TYPE_CHECKING:  # pragma: no cover - typing only
    from ..progress import Progress

__all__ = [
    "BASELINES",
    "baseline_features",
    "ONE_STATION_MESSAGE",
    "Baseline",
    "FitPredict",
    "LosoResult",
    "fit_baseline",
    "leave_one_station_out",
    "list_baselines",
    "loso_baseline",
    "make_fit_predict",
    "predict",
]

#: The message of a LOSO result that could not be computed because there is one station.
ONE_STATION_MESSAGE = (
    "With one station no held-out accuracy can be computed: leave-one-station-out validation "
    "needs at least two stations (one to train on, one to test on). The map is still made; add "
    "stations to measure its accuracy."
)

FitPredict = Callable[[NDArray[np.intp], NDArray[np.intp]], ArrayLike]
"""``fit_predict(train_idx, test_idx) -> predictions for test_idx`` (indices into the samples)."""


# ---------------------------------------------------------------------------------- registry
def _build_random_forest(seed: int) -> Any:
    from sklearn.ensemble import RandomForestRegressor

    return RandomForestRegressor(
        n_estimators=300,
        max_features=1.0 / 3.0,
        min_samples_leaf=2,
        max_depth=None,
        bootstrap=True,
        n_jobs=1,
        random_state=seed,
    )


def _build_xgboost(seed: int) -> Any:
    from xgboost import XGBRegressor

    return XGBRegressor(
        n_estimators=300,
        learning_rate=0.05,
        max_depth=4,
        subsample=0.8,
        colsample_bytree=0.5,
        min_child_weight=1.0,
        reg_lambda=1.0,
        objective="reg:squarederror",
        tree_method="hist",
        n_jobs=1,
        random_state=seed,
    )


@dataclass(frozen=True)
class Baseline:
    """A conventional regressor available as a baseline.

    Attributes:
        name: Registry key (``"random_forest"``, ``"xgboost"``).
        label: Name shown in reports and combo boxes.
        build: ``build(seed) -> unfitted estimator`` with the fixed hyper-parameters.
        package: The Python package it needs (for the error message when it is missing).

    """

    name: str
    label: str
    build: Callable[[int], Any]
    package: str


#: The baselines by name.
BASELINES: dict[str, Baseline] = {
    b.name: b
    for b in (
        Baseline("random_forest", "random forest", _build_random_forest, "scikit-learn"),
        Baseline("xgboost", "XGBoost", _build_xgboost, "xgboost"),
    )
}


def list_baselines() -> list[str]:
    """Return the registered baseline names, in display order.

    Returns:
        The names accepted by :func:`fit_baseline`.

    """
    return list(BASELINES)


# ----------------------------------------------------------------------------- fit / predict
def baseline_features(x: ArrayLike, smap_9km: ArrayLike) -> NDArray[np.float64]:
    """Return the baselines' features: the model inputs plus SMAP's 9 km value as a last column.

    Args:
        x: Model inputs, shape ``(n_samples, 156)``.
        smap_9km: SMAP soil moisture (m3/m3) of each sample's 9 km cell on its date, shape
            ``(n_samples,)``; NaN where SMAP has no value (the trees route missing values).

    Returns:
        ``(n_samples, 157)`` features.

    Raises:
        InputError: if the lengths differ.

    """
    xa = _as_x(x)
    sm = np.asarray(smap_9km, dtype=np.float64).ravel()
    if sm.size != xa.shape[0]:
        raise InputError(
            f"The inputs have {xa.shape[0]} samples but there are {sm.size} SMAP values; give "
            "one SMAP value per sample."
        )
    return np.column_stack([xa, sm])


def _as_x(x: ArrayLike) -> NDArray[np.float64]:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2:
        raise InputError(
            f"The model inputs must be a 2-D table (samples x features, e.g. n x 156), got an "
            f"array of shape {arr.shape}."
        )
    return arr


def fit_baseline(
    name: str,
    x: ArrayLike,
    y: ArrayLike,
    seed: int = 0,
    params: Mapping[str, Any] | None = None,
) -> Any:
    """Fit a baseline regressor on the samples ``x`` and targets ``y``.

    Args:
        name: A registered baseline (see :func:`list_baselines`).
        x: Model inputs, shape ``(n_samples, n_features)`` (the 156 DenseSM inputs).
        y: In-situ soil moisture in m3/m3, shape ``(n_samples,)``; must be finite.
        seed: Random seed of the estimator (same seed and data, same model).
        params: Expert overrides of the fixed hyper-parameters (estimator keyword names,
            e.g. ``{"n_estimators": 100}``); ``None`` keeps the documented defaults.

    Returns:
        The fitted estimator (use :func:`predict`).

    Raises:
        InputError: for an unknown name, mismatched shapes, non-finite targets, too few
            samples or an unknown hyper-parameter.
        ModuleNotFoundError: if the baseline's package is not installed (message names it).

    """
    try:
        spec = BASELINES[name]
    except KeyError:
        raise InputError(
            f"Unknown baseline {name!r}; choose one of {', '.join(BASELINES)}."
        ) from None
    xa = _as_x(x)
    ya = np.asarray(y, dtype=np.float64).ravel()
    if xa.shape[0] != ya.size:
        raise InputError(
            f"The inputs have {xa.shape[0]} samples but there are {ya.size} targets; they must "
            f"be paired one to one."
        )
    if ya.size < 2:
        raise InputError(f"A baseline needs at least 2 training samples, got {ya.size}.")
    if not np.all(np.isfinite(ya)):
        raise InputError(
            f"{int(np.sum(~np.isfinite(ya)))} training targets are missing (NaN); drop those "
            f"samples before training."
        )
    try:
        model = spec.build(int(seed))
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError(
            f"The {spec.label} baseline needs the '{spec.package}' package: "
            f"pip install {spec.package}"
        ) from exc
    if params:
        known = model.get_params()
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise InputError(
                f"Unknown {spec.label} hyper-parameter {unknown[0]!r}; valid ones include "
                f"{', '.join(sorted(known)[:12])}, ..."
            )
        model.set_params(**params)
    model.fit(xa, ya)
    return model


def predict(model: Any, x: ArrayLike) -> NDArray[np.float64]:
    """Predict soil moisture with a fitted baseline.

    Args:
        model: An estimator returned by :func:`fit_baseline`.
        x: Model inputs, shape ``(n_samples, n_features)``.

    Returns:
        Predictions in m3/m3, shape ``(n_samples,)``.

    """
    return np.asarray(model.predict(_as_x(x)), dtype=np.float64).ravel()


# ----------------------------------------------------------------------------------- LOSO CV
@dataclass(frozen=True)
class LosoResult:
    """Held-out predictions of a leave-one-station-out cross validation.

    Attributes:
        predictions: One held-out prediction per sample, aligned with ``y``; ``None`` when no
            held-out accuracy can be computed (a single station).
        stations: The distinct station ids, in order of first appearance (= fold order).
        message: Why ``predictions`` is ``None``; empty otherwise.

    """

    predictions: NDArray[np.float64] | None
    stations: tuple[Any, ...]
    message: str = ""

    @property
    def available(self) -> bool:
        """True when held-out predictions were computed."""
        return self.predictions is not None

    @property
    def n_folds(self) -> int:
        """Number of folds run (0 when not available)."""
        return len(self.stations) if self.available else 0


def leave_one_station_out(
    x: ArrayLike,
    y: ArrayLike,
    station_ids: ArrayLike,
    fit_predict: FitPredict,
    progress: Progress | None = None,
) -> LosoResult:
    """Run leave-one-station-out cross validation with any model.

    For each station in turn, ``fit_predict(train_idx, test_idx)`` is called with the indices
    of the samples of every *other* station (train) and of that station (test); it must train on
    ``train_idx`` only and return one prediction per ``test_idx``. The held-out predictions are
    assembled in sample order. The driver never passes a held-out station's index in
    ``train_idx``.

    Args:
        x: Model inputs, shape ``(n_samples, n_features)`` (only checked against ``y``; the
            callback indexes the data it needs itself).
        y: Targets, shape ``(n_samples,)``.
        station_ids: Station of each sample, shape ``(n_samples,)``. Any group id works: pass
            fold ids (stations grouped into k folds) for k-fold-by-station validation.
        fit_predict: The train-and-predict callback.
        progress: Optional progress reporter; cancellation is checked between folds.

    Returns:
        A :class:`LosoResult`; with a single station its ``predictions`` is ``None`` and its
        ``message`` is :data:`ONE_STATION_MESSAGE`.

    Raises:
        InputError: if the lengths of ``x``, ``y`` and ``station_ids`` differ or there are no
            samples.
        ValueError: if ``fit_predict`` returns the wrong number of predictions.
        Cancelled: if the user cancels between folds.

    """
    import pandas as pd

    n_x = int(np.shape(x)[0]) if np.ndim(x) else 0
    ya = np.asarray(y, dtype=np.float64).ravel()
    sa = np.asarray(station_ids).ravel()
    if not n_x == ya.size == sa.size:
        raise InputError(
            f"Inputs ({n_x}), targets ({ya.size}) and station ids ({sa.size}) must have one "
            f"entry per sample."
        )
    if ya.size == 0:
        raise InputError("No samples to validate: the station table matched no input cell.")
    stations = tuple(pd.unique(sa))
    if len(stations) < 2:
        return LosoResult(predictions=None, stations=stations, message=ONE_STATION_MESSAGE)

    out = np.full(ya.size, np.nan, dtype=np.float64)
    for k, station in enumerate(stations):
        if progress is not None:
            progress.check()
            progress.message(f"Leave-one-station-out: station {station} ({k + 1}/{len(stations)})")
        test = np.flatnonzero(sa == station)
        train = np.flatnonzero(sa != station)
        pred = np.asarray(fit_predict(train, test), dtype=np.float64).ravel()
        if pred.size != test.size:
            raise ValueError(
                f"fit_predict returned {pred.size} predictions for {test.size} held-out samples "
                f"of station {station!r}."
            )
        out[test] = pred
        if progress is not None:
            progress.fraction((k + 1) / len(stations))
    return LosoResult(predictions=out, stations=stations)


def make_fit_predict(
    name: str,
    x: ArrayLike,
    y: ArrayLike,
    seed: int = 0,
    params: Mapping[str, Any] | None = None,
) -> FitPredict:
    """Return a LOSO ``fit_predict`` callback that trains the baseline ``name`` per fold.

    Args:
        name: A registered baseline.
        x: Model inputs, shape ``(n_samples, n_features)``.
        y: Targets, shape ``(n_samples,)``.
        seed: Random seed of every fold's estimator.
        params: Hyper-parameter overrides (see :func:`fit_baseline`).

    Returns:
        ``fit_predict(train_idx, test_idx) -> predictions``.

    """
    xa = _as_x(x)
    ya = np.asarray(y, dtype=np.float64).ravel()

    def fit_predict(train: NDArray[np.intp], test: NDArray[np.intp]) -> NDArray[np.float64]:
        model = fit_baseline(name, xa[train], ya[train], seed=seed, params=params)
        return predict(model, xa[test])

    return fit_predict


def loso_baseline(
    name: str,
    x: ArrayLike,
    y: ArrayLike,
    station_ids: ArrayLike,
    seed: int = 0,
    progress: Progress | None = None,
    params: Mapping[str, Any] | None = None,
) -> LosoResult:
    """Leave-one-station-out predictions of a baseline (train on the others, predict one).

    Args:
        name: A registered baseline.
        x: Model inputs, shape ``(n_samples, n_features)``.
        y: Targets, shape ``(n_samples,)``.
        station_ids: Station of each sample.
        seed: Random seed of every fold's estimator.
        progress: Optional progress reporter (cancellation checked between folds).
        params: Hyper-parameter overrides (see :func:`fit_baseline`).

    Returns:
        The :class:`LosoResult`.

    Raises:
        InputError: for an unknown baseline or mismatched inputs.

    """
    if name not in BASELINES:
        raise InputError(f"Unknown baseline {name!r}; choose one of {', '.join(BASELINES)}.")
    return leave_one_station_out(
        x, y, station_ids, make_fit_predict(name, x, y, seed, params), progress=progress
    )
