"""The SMAP blend: SMAP's 9 km value plus the share of a model's departure that stations confirm.

``blend = smap + w (model - smap)``, with ``w`` in 0..1 the least-squares slope (through the
origin) of the stations' departure from SMAP on the model's held-out departure from SMAP::

    w = sum((model - smap) (obs - smap)) / sum((model - smap)^2)

``w = 1`` keeps the model, ``w = 0`` keeps SMAP; where SMAP is missing the model is kept. The
weight is fitted on held-out predictions only (a station the model trained on would always ask
for ``w = 1``), and the blend's own held-out
numbers use, for each fold of stations, a weight fitted on the other folds' held-out predictions,
so no station helps choose the weight it is scored with.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

MIN_STATIONS = 2
"""Stations with held-out predictions needed to fit a weight."""

RULE = (
    "SMAP 9 km plus w x (model - SMAP), w in 0..1 fitted by least squares on the held-out "
    "station predictions; each fold's held-out blend uses a weight fitted on the other folds"
)


def _departures(
    pred: npt.ArrayLike, obs: npt.ArrayLike, smap: npt.ArrayLike, station: npt.ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], set[Any]]:
    """``(model - smap, obs - smap, stations)`` over the rows where all three are known."""
    p, o, s = (np.asarray(a, dtype=np.float64).ravel() for a in (pred, obs, smap))
    ok = np.isfinite(p) & np.isfinite(o) & np.isfinite(s)
    stations = set(np.asarray(station, dtype=object).ravel()[ok].tolist())
    return p[ok] - s[ok], o[ok] - s[ok], stations


def blend_weight(
    pred: npt.ArrayLike, obs: npt.ArrayLike, smap: npt.ArrayLike, station: npt.ArrayLike
) -> float | None:
    """The blend weight fitted on held-out predictions; None when it cannot be fitted.

    Rows with a missing value are left out; None with fewer than :data:`MIN_STATIONS` stations
    left or when the model never departs from SMAP.
    """
    dp, do, stations = _departures(pred, obs, smap, station)
    den = float(np.dot(dp, dp))
    if len(stations) < MIN_STATIONS or den <= 1e-12:
        return None
    return float(np.clip(np.dot(dp, do) / den, 0.0, 1.0))


def blend(pred: npt.ArrayLike, smap: npt.ArrayLike, weight: float) -> npt.NDArray[np.float64]:
    """``smap + weight (pred - smap)``; the prediction itself where SMAP is missing.

    So the blend and the prediction cover the same cells and rows, and are scored on the same.
    """
    p = np.asarray(pred, dtype=np.float64)
    s = np.asarray(smap, dtype=np.float64)
    return np.where(np.isfinite(s), s + weight * (p - s), p)


def held_out_blend(
    pred: npt.ArrayLike,
    obs: npt.ArrayLike,
    smap: npt.ArrayLike,
    station: npt.ArrayLike,
    folds: npt.ArrayLike,
) -> tuple[npt.NDArray[np.float64], dict[str, float | None]]:
    """The blend of each fold with a weight fitted on the other folds' held-out predictions.

    Returns:
        ``(blended, weights)``: the blended predictions (NaN in a fold whose weight could not be
        fitted) and each fold's weight.

    """
    p = np.asarray(pred, dtype=np.float64).ravel()
    s = np.asarray(smap, dtype=np.float64).ravel()
    f = np.asarray(folds, dtype=object).ravel()
    out = np.full(p.shape, np.nan)
    weights: dict[str, float | None] = {}
    for fold in dict.fromkeys(f.tolist()):
        test = f == fold
        w = blend_weight(p[~test], np.asarray(obs)[~test], s[~test], np.asarray(station)[~test])
        weights[str(fold)] = w
        if w is not None:
            out[test] = blend(p[test], s[test], w)
    return out, weights


def smap_blend_record(
    pairs: Any, column: str, folds: npt.ArrayLike
) -> tuple[dict[str, Any] | None, npt.NDArray[np.float64] | None]:
    """Fit the blend of a held-out prediction column of the station pairs.

    A blend is only made when it can be checked: every fold needs a weight fitted on the other
    folds (so 3 stations at least).

    Returns:
        ``(record, held_out)``: the record (the weight the maps use, each fold's weight, the
        rule) and the held-out blended predictions; ``(None, None)`` when a weight cannot be
        fitted or checked.

    """
    args = (pairs[column], pairs["obs"], pairs["smap_9km"], pairs["station"])
    weight = blend_weight(*args)
    if weight is None:
        return None, None
    held_out, fold_weights = held_out_blend(*args, folds)
    if any(w is None for w in fold_weights.values()):
        return None, None
    record = {"weight": weight, "fold_weights": fold_weights, "of": column, "rule": RULE}
    return record, held_out


def why_no_blend(pairs: Any, column: str | None) -> str:
    """Say in words why the blend of ``column`` was not made (:func:`smap_blend_record`)."""
    if column is None or column not in pairs.columns:
        return "there are no held-out predictions (one station, or cross-validation off)"
    d, _, stations = _departures(pairs[column], pairs["obs"], pairs["smap_9km"], pairs["station"])
    if len(stations) < MIN_STATIONS + 1:
        return (
            f"{len(stations)} station(s) have held-out predictions with SMAP at the station; "
            f"the blend needs {MIN_STATIONS + 1} or more"
        )
    if float(np.dot(d, d)) <= 1e-12:
        return "the predictions never depart from SMAP"
    return (
        f"some cross-validation fold leaves fewer than {MIN_STATIONS} other stations to fit its "
        "weight (use more stations or folds)"
    )
