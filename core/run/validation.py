"""Station-level validation of a run: pretrained, in-sample fit, held-out CV and baselines.

Each station (or fold of whole stations) is predicted by an ensemble adapted without it,
adapted exactly as the final ensemble (the same schedule, alpha by the same rule applied to the
fold's own stations), next to the pretrained ensemble, SMAP's 9 km value, and random forest and
XGBoost held out the same way (:mod:`core.adaptation.baselines`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..progress import Progress
from .blend import smap_blend_record, why_no_blend
from .config import AdaptMapConfig, adapt_config, choose_alpha
from .maps import map_error, share_outside
from .samples import LabelledSamples, RunSamples
from .stages import Stages

if TYPE_CHECKING:
    import pandas as pd

F32 = npt.NDArray[np.float32]


def fold_ids(
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


def _station_pairs(
    config: AdaptMapConfig,
    samples: LabelledSamples,
    pretrained: Any,
    ensemble: Any,
    progress: Progress,
) -> pd.DataFrame:
    """Station readings with SMAP and the pretrained (and adapted, in-sample) predictions."""
    import pandas as pd

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
    return pairs


def _validation_steps(config: AdaptMapConfig, one_station: bool) -> list[str]:
    """The held-out steps this run takes: ``cv``, ``random_forest``, ``xgboost``."""
    steps = [s for s in ("cv", "random_forest", "xgboost") if not one_station]
    if not config.cross_validate or config.method == "pretrained":
        steps = [s for s in steps if s != "cv"]
    if not config.baselines or not config.cross_validate:
        steps = [s for s in steps if s == "cv"]
    return steps


def _step_bounds(
    config: AdaptMapConfig, steps: list[str], n_folds: int, n_samples: int
) -> dict[str, tuple[float, float]]:
    """The share of the validation's progress given to each held-out step, by its cost."""
    steps_per_epoch = config.steps_per_epoch(n_samples)
    weights = {
        "cv": n_folds * (Stages.BETA + Stages.STEP * steps_per_epoch * config.epochs),
        "random_forest": n_folds * Stages.BASELINE_FOLD,
        "xgboost": n_folds * Stages.BASELINE_FOLD,
    }
    total_w = sum(weights[s] for s in steps) or 1.0
    bounds: dict[str, tuple[float, float]] = {}
    acc = 0.1  # the first tenth: predictions of the pretrained and adapted ensembles
    for s_ in steps:
        bounds[s_] = (acc, acc + 0.9 * weights[s_] / total_w)
        acc = bounds[s_][1]
    return bounds


def _fold_adapter(
    config: AdaptMapConfig,
    run_samples: RunSamples,
    pretrained: Any,
    n_folds: int,
    fold_alphas: list[float | None],
    progress: Progress,
) -> Callable[[npt.NDArray[np.intp], npt.NDArray[np.intp]], F32]:
    """``fit_predict(train, test)`` of one fold: adapt as the final ensemble, predict the test."""
    from ..adaptation.train import adapt

    samples = run_samples.labelled
    fold_counter = {"i": 0}

    def fit_predict(train: npt.NDArray[np.intp], test: npt.NDArray[np.intp]) -> F32:
        i = fold_counter["i"]
        fold_counter["i"] += 1
        # the final ensemble's rule, applied to the stations this fold trains on
        fold_stations = len(set(samples.station[train].tolist()))
        fold_alpha, _ = choose_alpha(config.alpha, fold_stations, config.method)
        fold_alphas.append(fold_alpha)
        cfg = adapt_config(config, fold_alpha, config.epochs, config.seed)
        res = adapt(
            pretrained,
            samples.x[train],
            samples.y[train],
            *run_samples.coarse,
            run_samples.target_x,
            config=cfg,
            progress=progress.sub(i / n_folds, (i + 1) / n_folds),
            consistency=run_samples.consistency,
        )
        return np.asarray(res.ensemble.predict(samples.x[test]).mean, dtype=np.float32)

    return fit_predict


def _baselines(
    config: AdaptMapConfig,
    samples: LabelledSamples,
    folds: npt.NDArray[np.object_],
    steps: list[str],
    bounds: dict[str, tuple[float, float]],
    pairs: pd.DataFrame,
    held_out: dict[str, str],
    warnings: list[str],
    progress: Progress,
) -> None:
    """Random forest and XGBoost held out by station, as columns of ``pairs``."""
    from ..adaptation.baselines import baseline_features, loso_baseline

    for name in ("random_forest", "xgboost"):
        if name not in steps:
            continue
        progress.message(f"Validation: {name.replace('_', ' ')} held out by station")
        try:
            res = loso_baseline(
                name,
                baseline_features(samples.x, samples.smap9),
                samples.y,
                folds,
                seed=config.seed,
                progress=progress.sub(*bounds[name]),
            )
        except ModuleNotFoundError as exc:
            warnings.append(f"baseline {name} skipped: {exc}")
            continue
        if res.predictions is not None:
            pairs[name] = res.predictions
            held_out[name] = name


def _method_labels(config: AdaptMapConfig, scheme: str) -> dict[str, str]:
    """The report's label of each prediction column."""
    method_label = config.method.upper() if config.method != "finetune" else "finetune"
    return {
        "adapted_cv": f"adapted {method_label} ({scheme})",
        "adapted_smap_blend": f"adapted {method_label} blended with SMAP 9 km ({scheme}, weight "
        "from the other folds)",
        "pretrained": "pretrained (no adaptation, never saw the stations)",
        "pretrained_smap_blend": "pretrained blended with SMAP 9 km (weight from the other folds)",
        "random_forest": f"random forest on the inputs and SMAP 9 km ({scheme})",
        "xgboost": f"XGBoost on the inputs and SMAP 9 km ({scheme})",
        "smap_9km": "SMAP 9 km (the station's 9 km cell)",
        "adapted_in_sample": f"adapted {method_label} (in-sample fit, NOT held out)",
    }


def _smap_blends(
    config: AdaptMapConfig,
    pairs: pd.DataFrame,
    folds: npt.NDArray[np.object_],
    held_out: dict[str, str],
) -> dict[str, Any]:
    """The SMAP blends of the held-out adapted and the pretrained predictions (:mod:`.blend`).

    Adds the held-out blended columns to ``pairs``; ``map`` is the record whose weight the run's
    blended maps use (the mapping ensemble's own blend), None when no weight could be fitted.
    """
    records: dict[str, Any] = {}
    for col, name in (
        ("adapted_cv", "adapted_smap_blend"),
        ("pretrained", "pretrained_smap_blend"),
    ):
        if col in pairs.columns:
            record, blended = smap_blend_record(pairs, col, folds)
            if record is not None:
                pairs[name] = blended
                held_out[name] = name
                records[name] = {**record, "column": name}
    mapping = "pretrained_smap_blend" if config.method == "pretrained" else "adapted_smap_blend"
    out: dict[str, Any] = {"map": records.get(mapping), **records}
    if out["map"] is None:
        source = "pretrained" if config.method == "pretrained" else "adapted_cv"
        out["why_not"] = why_no_blend(pairs, source if source in pairs.columns else None)
    return out


def _recommend(record: dict[str, Any] | None, methods: dict[str, Any]) -> None:
    """Say in the map's blend record whether the blend or the map did better held out."""
    if record is None:
        return
    rmse = {
        key: (methods.get(col) or {}).get("pooled", {}).get("rmse")
        for key, col in (("map", record["of"]), ("blend", record["column"]))
    }
    record["held_out_rmse"] = rmse
    record["recommended"] = (
        "blend"
        if rmse["blend"] is not None and rmse["map"] is not None and rmse["blend"] < rmse["map"]
        else "map"
    )


def _method_reports(
    pairs: pd.DataFrame, labels: dict[str, str], seed: int
) -> tuple[dict[str, Any], dict[str, str], dict[str, Any]]:
    """``(reports, pair_columns, methods)``: the metrics of every prediction column present."""
    from ..outputs.metrics import evaluate

    reports: dict[str, Any] = {}
    pair_columns: dict[str, str] = {}
    methods: dict[str, Any] = {}
    for col, label in labels.items():
        if col in pairs.columns:
            rep = evaluate(pairs, obs="obs", pred=col, station="station", seed=seed)
            reports[label] = rep
            pair_columns[label] = col
            d = rep.to_dict()
            d["label"] = label
            d["share_outside_0_0.6"] = share_outside(pairs[col])
            methods[col] = d
    return reports, pair_columns, methods


def _cv_record(
    config: AdaptMapConfig,
    loso: bool,
    n_folds: int,
    one_station: bool,
    n_samples: int,
    fold_alphas: list[float | None],
    cv_message: str,
) -> dict[str, Any]:
    """How the held-out validation was done, for the report and ``run_metrics.json``."""
    return {
        "scheme": ("leave-one-station-out" if loso else f"{n_folds}-fold by station"),
        "folds": 0 if one_station else n_folds,
        "schedule": config.schedule_text(n_samples),
        "fold_alphas": fold_alphas,
        "epochs_per_fold": config.epochs,
        "epochs_final": config.epochs,
        "message": cv_message,
        "note": (
            "Held-out numbers come from models that never saw the station they predict. "
            "The pretrained ensemble never saw any station, so its numbers are held out "
            "too. 'adapted_in_sample' is the fit on the training stations: not an "
            "accuracy estimate. Every fold is adapted exactly as the final ensemble ("
            f"{config.schedule_text(n_samples)}; alpha by the same rule, applied to "
            "the fold's own number of stations), so the held-out rows measure the model "
            "that makes the map."
        ),
    }


def validate_stations(
    config: AdaptMapConfig,
    run_samples: RunSamples,
    pretrained: Any,
    ensemble: Any,
    alpha: float | None,
    progress: Progress,
) -> dict[str, Any]:
    """Station-level validation: pretrained, in-sample fit, held-out CV, baselines."""
    from ..adaptation.baselines import ONE_STATION_MESSAGE, leave_one_station_out

    samples = run_samples.labelled
    out: dict[str, Any] = {"warnings": []}
    pairs = _station_pairs(config, samples, pretrained, ensemble, progress)
    folds = fold_ids(samples.station, config.cv_folds, config.seed)
    n_folds = len(set(folds.tolist()))
    held_out: dict[str, str] = {}
    fold_alphas: list[float | None] = []
    one_station = len(samples.stations) < 2
    cv_message = ""
    if one_station:
        cv_message = ONE_STATION_MESSAGE
    elif not config.cross_validate:
        cv_message = "cross validation was switched off for this run (--no-cv)"
    steps = _validation_steps(config, one_station)
    bounds = _step_bounds(config, steps, n_folds, len(samples))
    if "cv" in steps:
        sub = progress.sub(*bounds["cv"])
        fit_predict = _fold_adapter(config, run_samples, pretrained, n_folds, fold_alphas, sub)
        progress.message(
            f"Validation: {config.method} held out by station ({n_folds} folds, each adapted "
            "as the final ensemble)"
        )
        loso = leave_one_station_out(samples.x, samples.y, folds, fit_predict, progress=sub)
        if loso.predictions is not None:
            pairs["adapted_cv"] = loso.predictions
            held_out["adapted_cv"] = config.method
    _baselines(config, samples, folds, steps, bounds, pairs, held_out, out["warnings"], progress)
    smap_blend: dict[str, Any] = (
        _smap_blends(config, pairs, folds, held_out)
        if not one_station
        else {"map": None, "why_not": "one station: no held-out prediction to fit a weight on"}
    )
    is_loso = config.cv_folds is None or n_folds == len(samples.stations)
    scheme = "LOSO CV" if is_loso else f"{n_folds}-fold station CV"
    reports, pair_columns, methods = _method_reports(
        pairs, _method_labels(config, scheme), config.seed
    )
    _recommend(smap_blend["map"], methods)
    if config.method == "pretrained":
        held_out["pretrained"] = "pretrained"
    cv = _cv_record(config, is_loso, n_folds, one_station, len(samples), fold_alphas, cv_message)
    out.update(
        {
            "pairs": pairs,
            "reports": reports,
            "pair_columns": pair_columns,
            "methods": methods,
            "held_out": held_out,
            "cv": cv,
            "smap_blend": smap_blend,
        }
    )
    return out


def map_error_sample(
    pretrained: Any,
    ensemble: Any,
    target_x: F32,
    truth: F32,
    smap: F32,
    smap_blend: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Map error on the target cells of a simulated scene: pretrained, adapted and SMAP 9 km.

    With the run's SMAP blend records (:func:`validate_stations`' ``smap_blend``), also the
    error of each blend (``adapted_smap_blend``, ``pretrained_smap_blend``).
    """
    from .blend import blend

    # the same random cells for both ensembles: the map-level effect of adaptation
    pre_t = pretrained.predict(target_x).mean
    ada_t = ensemble.predict(target_x).mean
    out = {
        "cells": int(truth.size),
        "what": "random AOI cells of the map date(s) (the unlabelled target subset) "
        "against the simulated truth",
        "pretrained": map_error(pre_t, truth),
        "adapted": map_error(ada_t, truth),
        "smap_9km": map_error(smap, truth),
    }
    for name, pred in (("adapted_smap_blend", ada_t), ("pretrained_smap_blend", pre_t)):
        record = (smap_blend or {}).get(name)
        if record is not None:
            out[name] = map_error(blend(pred, smap, record["weight"]), truth)
    return out
