"""Checks of a run's inputs against what the model saw: input health and the 9 km self-check.

Two checks catch a mis-prepared input chain (a swapped order, a unit, a band) on real data, every
time a run is made:

* :func:`input_health`: each of the 18 snapshot inputs of the network (the 15 snapshot values and
  the three series means, in the model set's :class:`~core.features.contract.InputLayout`) as a
  z-score
  against the statistics of the inputs the members were trained on. Those statistics are the
  running mean and variance of each member's first BatchNorm layer (``norm``): for the published
  set the 9 km pretraining inputs, for an adapted set the data it was adapted on (BatchNorm keeps
  tracking them during adaptation). The members' statistics are pooled as a mixture.
* :func:`smap_self_check`: the ensemble's error against the run's own SMAP-labelled 9 km samples,
  next to the ~0.04 m3/m3 the published weights reach against SMAP in their training logs. A
  clearly worse value on real inputs means that the inputs probably are not what the weights
  expect.

Both return plain dictionaries (JSON-ready) with a ``status`` of ``"ok"``, ``"caution"``,
``"bad"`` or ``"unavailable"`` and messages written for the user.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from ..features.contract import N_MODEL_SNAPSHOT, InputLayout
from ..outputs import metrics

F32 = npt.NDArray[np.float32]

Z_CAUTION = 2.0
"""|z| from which an input is called unusual."""
Z_BAD = 3.0
"""|z| from which an input is called far outside what the model saw."""

MIN_CELLS_PER_DATE = 30
"""Cells a date needs for its own z-scores: a few station cells say little about a distribution
the model saw as 9 km means (one 50 m cell's aspect is routinely 7 sd from it)."""

SMAP_REFERENCE_RMSE = 0.04
"""RMSE (m3/m3) of the published members against SMAP at 9 km in their training logs."""
SMAP_CAUTION_RMSE = 0.08
"""Self-check RMSE above which the run is flagged: twice the reference (the reference is a random
split of the training sites; a new area is expected to be somewhat worse)."""
SMAP_BAD_RMSE = 0.12
"""Self-check RMSE above which the inputs are called probably mis-prepared: three times the
reference. On the demo scene the published set gives 0.067 with its declared layout and 0.16
with the day-of-year and soil inputs swapped."""

_LABELS: Mapping[str, tuple[str, str, str]] = {
    # name: (words, unit, what to check when it is far out)
    "vv": ("VV backscatter", "dB", "check the Sentinel-1 VV band (dB, not linear power)"),
    "vh": ("VH backscatter", "dB", "check the Sentinel-1 VH band (dB, not linear power)"),
    "angle": ("incidence angle", "deg", "check the Sentinel-1 angle band"),
    "doy_sin": ("season (day of year, sine)", "", "the pretraining saw few dates like this"),
    "doy_cos": ("season (day of year, cosine)", "", "the pretraining saw few dates like this"),
    "sand": ("sand content", "g/kg", "check the SoilGrids sand band (g/kg)"),
    "clay": ("clay content", "g/kg", "check the SoilGrids clay band (g/kg)"),
    "bdod": ("bulk density", "cg/cm3", "check the SoilGrids bulk density band (cg/cm3)"),
    "elevation": ("elevation", "m", "check the elevation model (metres)"),
    "slope": ("slope", "deg", "check the slope (degrees, from the 30 m DEM)"),
    "aspect_sin": ("aspect (sine)", "", "check the aspect (degrees)"),
    "aspect_cos": ("aspect (cosine)", "", "check the aspect (degrees)"),
    "row9": (
        "latitude (9 km grid row)",
        "",
        "the pretraining saw few areas at this latitude; expect less reliable values",
    ),
    "col9_sin": (
        "longitude (9 km grid column, sine)",
        "",
        "the pretraining saw few areas at this longitude; expect less reliable values",
    ),
    "col9_cos": (
        "longitude (9 km grid column, cosine)",
        "",
        "the pretraining saw few areas at this longitude; expect less reliable values",
    ),
    "ndvi_mean": ("NDVI, one-year mean", "NDVI x 10000", "check the MODIS NDVI band (x 10000)"),
    "t2m_mean": (
        "air temperature, one-year mean",
        "K",
        "check the ERA5-Land temperature band (kelvin)",
    ),
    "tp_mean": (
        "precipitation, one-year mean",
        "m/day",
        "check the ERA5-Land precipitation band (daily totals in m)",
    ),
}


def norm_statistics(state_dicts: Mapping[str, Mapping[str, Any]]) -> tuple[F32, F32]:
    """Mean and standard deviation of the 18 snapshot inputs the members were trained on.

    The members' ``norm`` running statistics are pooled as an equal-weight mixture: the mean of
    the means, and the mean of the variances plus the variance of the means.

    Args:
        state_dicts: ``{member: state_dict}`` of DenseSM members (tensors or arrays).

    Returns:
        ``(mean, sd)``, each ``(18,)`` float32.

    """
    means, variances = [], []
    for sd in state_dicts.values():
        means.append(np.asarray(sd["norm.running_mean"], dtype=np.float64)[:N_MODEL_SNAPSHOT])
        variances.append(np.asarray(sd["norm.running_var"], dtype=np.float64)[:N_MODEL_SNAPSHOT])
    mu = np.mean(means, axis=0)
    var = np.mean(variances, axis=0) + np.var(means, axis=0)
    return mu.astype(np.float32), np.sqrt(np.maximum(var, 1e-12)).astype(np.float32)


def _grade(z: float) -> str:
    if not math.isfinite(z):
        return "unavailable"
    return "bad" if abs(z) >= Z_BAD else "caution" if abs(z) >= Z_CAUTION else "ok"


def _worst(statuses: Sequence[str]) -> str:
    for s in ("bad", "caution", "ok"):
        if s in statuses:
            return s
    return "unavailable"


def _fmt_phys(value: float, unit: str) -> str:
    if not math.isfinite(value):
        return "n/a"
    mag = abs(value)
    text = f"{value:.4g}" if mag < 1000 else f"{value:.0f}"
    return f"{text} {unit}".strip()


def input_health(
    layout: InputLayout,
    train_mean: npt.ArrayLike,
    train_sd: npt.ArrayLike,
    inputs_by_date: Mapping[dt.date, npt.ArrayLike],
    *,
    statistics_of: str = "the inputs the model set was trained on",
    min_cells_per_date: int = MIN_CELLS_PER_DATE,
) -> dict[str, Any]:
    """Z-scores of a run's inputs against the training statistics, per input and per date.

    Args:
        layout: the model set's input layout (names and physical units of the 18 inputs).
        train_mean: ``(18,)`` mean of the normalised inputs the members saw
            (:func:`norm_statistics`).
        train_sd: ``(18,)`` their standard deviation.
        inputs_by_date: model inputs ``(N, >=18)`` of the run's 50 m cells, by date (station cells
            of the training dates, sampled AOI cells of the map dates).
        statistics_of: words for what ``train_mean``/``train_sd`` describe, for the report.
        min_cells_per_date: a date with fewer cells gets no z-scores of its own (its cells
            still count in the pooled ones).

    Returns:
        ``{"status", "layout", "statistics_of", "inputs": [...], "warnings": [...]}``. Each entry
        of ``inputs`` holds the input's ``name``, ``label``, ``z`` (of the run's mean over all its
        cells), ``z_by_date``, the run's and the training mean in physical units and a ``status``.

    """
    mu = np.asarray(train_mean, dtype=np.float64)
    sd = np.asarray(train_sd, dtype=np.float64)
    by_date = {
        d: np.asarray(x, dtype=np.float64)[:, :N_MODEL_SNAPSHOT]
        for d, x in sorted(inputs_by_date.items())
        if np.asarray(x).shape[0]
    }
    if not by_date:
        return {
            "status": "unavailable",
            "layout": layout.name,
            "statistics_of": statistics_of,
            "inputs": [],
            "warnings": ["input health: no 50 m cell of the run had every input"],
        }
    pooled = np.concatenate(list(by_date.values()))
    run_mean = pooled.mean(axis=0)
    z_all = (run_mean - mu) / sd
    z_dates = {
        d: (x.mean(axis=0) - mu) / sd
        for d, x in by_date.items()
        if x.shape[0] >= min_cells_per_date
    }
    entries: list[dict[str, Any]] = []
    warnings: list[str] = []
    for pos, name in enumerate(layout.input_names):
        entry, warning = _input_entry(layout, pos, name, z_all, z_dates, run_mean, mu)
        entries.append(entry)
        if warning is not None:
            warnings.append(warning)
    return {
        "status": _worst([e["status"] for e in entries]),
        "layout": layout.name,
        "statistics_of": statistics_of,
        "inputs": entries,
        "warnings": warnings,
    }


def _input_entry(
    layout: InputLayout,
    pos: int,
    name: str,
    z_all: npt.NDArray[np.float64],
    z_dates: Mapping[dt.date, npt.NDArray[np.float64]],
    run_mean: npt.NDArray[np.float64],
    mu: npt.NDArray[np.float64],
) -> tuple[dict[str, Any], str | None]:
    """The health entry of input ``pos`` and its warning (None when the input is ok)."""
    label, unit, hint = _LABELS[name]
    z = float(z_all[pos])
    per_date = {d.isoformat(): float(zd[pos]) for d, zd in z_dates.items()}
    worst_date = max(per_date.values(), key=abs) if per_date else z
    status = _worst([_grade(z), _grade(worst_date)])
    run_phys = layout.physical(pos, float(run_mean[pos]))
    train_phys = layout.physical(pos, float(mu[pos]))
    entry: dict[str, Any] = {
        "position": pos,
        "name": name,
        "label": label,
        "unit": unit,
        "z": z,
        "z_by_date": per_date,
        "run_mean": run_phys,
        "training_mean": train_phys,
        "status": status,
    }
    if status not in ("bad", "caution"):
        return entry, None
    zz = z if abs(z) >= abs(worst_date) else worst_date
    where = "on average" if zz == z else "on at least one date"
    how = "far outside what the model saw" if status == "bad" else "unusual for the model"
    warning = (
        f"{label} is {abs(zz):.1f} sd {'below' if zz < 0 else 'above'} the training mean "
        f"{where} ({_fmt_phys(run_phys, unit)} against {_fmt_phys(train_phys, unit)}), "
        f"{how}: {hint}"
    )
    return entry, warning


def smap_self_check(
    predicted: npt.ArrayLike, smap: npt.ArrayLike, *, model: str = "pretrained ensemble"
) -> dict[str, Any]:
    """Error of an ensemble against the run's SMAP-labelled 9 km samples.

    Args:
        predicted: the ensemble mean at the 9 km samples (m3/m3).
        smap: the SMAP labels of those samples (m3/m3).
        model: words for the ensemble that made ``predicted``.

    Returns:
        ``{"status", "n", "rmse", "bias", "ubrmse", "r", "reference_rmse", "message"}``.

    """
    p = np.asarray(predicted, dtype=np.float64).ravel()
    y = np.asarray(smap, dtype=np.float64).ravel()
    ok = np.isfinite(p) & np.isfinite(y)
    p, y = p[ok], y[ok]
    out: dict[str, Any] = {
        "model": model,
        "n": int(p.size),
        "reference_rmse": SMAP_REFERENCE_RMSE,
        "caution_rmse": SMAP_CAUTION_RMSE,
        "bad_rmse": SMAP_BAD_RMSE,
    }
    if p.size < 3:
        out.update(
            status="unavailable",
            rmse=math.nan,
            bias=math.nan,
            ubrmse=math.nan,
            r=math.nan,
            message="9 km self-check: fewer than 3 SMAP-labelled 9 km samples in this run",
        )
        return out
    rmse, bias = metrics.rmse(y, p), metrics.bias(y, p)
    ubrmse, r = metrics.ubrmse(y, p), metrics.pearson_r(y, p)
    status = "ok" if rmse <= SMAP_CAUTION_RMSE else "caution" if rmse <= SMAP_BAD_RMSE else "bad"
    ref = f"the published weights reach ~{SMAP_REFERENCE_RMSE:g} against SMAP in training"
    if status == "ok":
        message = f"9 km self-check: RMSE {rmse:.3f} m3/m3 against SMAP ({ref})"
    elif status == "caution":
        message = (
            f"9 km self-check: RMSE {rmse:.3f} m3/m3 (bias {bias:+.3f}) against SMAP, worse than "
            f"the ~{SMAP_REFERENCE_RMSE:g} of training; the area may be unlike the training "
            "areas, or an input may be mis-prepared (see the input health table)"
        )
    else:
        message = (
            f"9 km self-check: RMSE {rmse:.3f} m3/m3 (bias {bias:+.3f}) against SMAP, far worse "
            f"than the ~{SMAP_REFERENCE_RMSE:g} of training: the inputs are probably not prepared "
            "as the weights expect (see the input health table)"
        )
    out.update(status=status, rmse=rmse, bias=bias, ubrmse=ubrmse, r=r, message=message)
    return out
