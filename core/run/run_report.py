"""The report of an Adapt & Map run: its summary, notes and charts, and the files beside it.

:func:`write_run_report` turns a run's samples, validation and map statistics into the summary
lines, the notes a reader must see (simulated data, held-out or in-sample, warnings) and the
time series, and writes them with :func:`core.outputs.report.write_report`, next to
``run_metrics.json``, ``station_predictions.csv`` and ``adaptation_history.csv``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..atomic import write_text
from ..progress import Progress
from .config import AdaptMapConfig
from .provenance import to_json
from .samples import LabelledSamples

if TYPE_CHECKING:
    import pandas as pd

F32 = npt.NDArray[np.float32]


def _fmt_metric(d: dict[str, Any] | None, key: str = "rmse") -> str:
    if not d:
        return "n/a"
    v = d.get(key)
    return "n/a" if v is None or not math.isfinite(float(v)) else f"{float(v):.3f}"


def _beta_text(betas: dict[str, float]) -> str:
    """The per-member beta in words: median and range, or n/a without a domain loss."""
    finite_b = [b for b in betas.values() if math.isfinite(b)]
    return (
        "n/a (no domain loss)"
        if not finite_b
        else (
            "per member, computed before training (early balance): median "
            f"{np.median(finite_b):.4g}, "
            f"range {min(finite_b):.4g}..{max(finite_b):.4g} over {len(finite_b)} members"
        )
    )


def _summary(
    config: AdaptMapConfig,
    samples: LabelledSamples,
    cv: dict[str, Any],
    train_dates: Sequence[dt.date],
    n_coarse: int,
    n_target: int,
    alpha: float | None,
    alpha_reason: str,
    betas: dict[str, float],
    simulated: bool,
    checks: dict[str, Any] | None,
) -> dict[str, Any]:
    """The report's summary lines about the run's setup (maps and errors are added after)."""
    n_st = len(samples.stations)
    t0, t1 = config.training_period
    summary: dict[str, Any] = {
        "aoi": f"{config.aoi.name}: {config.aoi.area_km2:.1f} km2, lon/lat bounds "
        + ", ".join(f"{v:.4f}" for v in config.aoi.bounds_lonlat),
        "dates": ", ".join(d.isoformat() for d in config.dates),
        "source": config.source + (" (SIMULATED data)" if simulated else ""),
        "method": config.method,
        "alpha": "n/a" if alpha is None else f"{alpha:g}",
        "alpha_reason": alpha_reason,
        "beta": _beta_text(betas),
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
    return summary


def _map_summary(map_stats: dict[str, Any], mes: dict[str, Any] | None) -> dict[str, Any]:
    """The report's summary lines about each map and the map error against a simulated truth."""
    summary: dict[str, Any] = {}
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
        blended = st.get("smap_blend")
        if blended and "error_vs_truth" in blended:
            e = blended["error_vs_truth"]
            summary[f"map {day} blended with SMAP vs simulated truth"] = (
                f"RMSE {_fmt_metric(e)}, bias {_fmt_metric(e, 'bias')}, R {_fmt_metric(e, 'r')} "
                f"(weight {blended['weight']:.2f})"
            )
    if mes:
        summary["map error against the simulated truth (RMSE, bias)"] = (
            f"adapted {_fmt_metric(mes['adapted'])}, {_fmt_metric(mes['adapted'], 'bias')}; "
            f"pretrained {_fmt_metric(mes['pretrained'])}, "
            f"{_fmt_metric(mes['pretrained'], 'bias')}; SMAP 9 km on the 50 m grid "
            f"{_fmt_metric(mes.get('smap_9km'))}, {_fmt_metric(mes.get('smap_9km'), 'bias')} "
            f"(m3/m3, {mes['cells']} random AOI cells)"
        )
        blends = [
            f"{who} blended with SMAP {_fmt_metric(mes[key])}, {_fmt_metric(mes[key], 'bias')}"
            for key, who in (
                ("adapted_smap_blend", "adapted"),
                ("pretrained_smap_blend", "pretrained"),
            )
            if key in mes
        ]
        if blends:
            summary["map error of the SMAP blends (RMSE, bias)"] = "; ".join(blends)
    return summary


def _blend_summary(smap_blend: dict[str, Any] | None) -> dict[str, Any]:
    """The report's line about the SMAP blend of the maps (:mod:`.blend`)."""
    record = (smap_blend or {}).get("map")
    if record is None:
        why = (smap_blend or {}).get("why_not") or "no held-out predictions"
        return {"SMAP blend": f"not made: {why}"}
    folds = [w for w in record["fold_weights"].values() if w is not None]
    span = f"; fold weights {min(folds):.2f}-{max(folds):.2f}" if folds else ""
    held = record.get("held_out_rmse") or {}
    verdict = ""
    if held.get("blend") is not None and held.get("map") is not None:
        better = "blend" if record.get("recommended") == "blend" else "map itself"
        verdict = (
            f". Held out, the blend's RMSE is {held['blend']:.3f} against the map's "
            f"{held['map']:.3f}: use the {better}"
        )
    return {
        "SMAP blend": f"maps *_smap_blend.tif = SMAP 9 km + {record['weight']:.2f} x (map - "
        f"SMAP 9 km), the weight fitted on the held-out station predictions{span}{verdict}"
    }


def _notes(
    config: AdaptMapConfig,
    samples: LabelledSamples,
    cv: dict[str, Any],
    pairs: pd.DataFrame,
    simulated: bool,
    warnings: Sequence[str],
) -> list[str]:
    """The notes a reader must see: simulated data, what is held out and what is not, warnings."""
    notes: list[str] = []
    if simulated:
        notes.append(
            "SIMULATED: every input and station reading of this run is synthetic (demo source). "
            "The numbers show how the method behaves, not the accuracy at a real site."
        )
    if cv["message"]:
        notes.append(cv["message"])
    if len(samples.stations) >= 2 and config.cross_validate and config.method != "pretrained":
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
    if any(c.endswith("_smap_blend") for c in pairs.columns):
        notes.append(
            "The SMAP blends are SMAP's 9 km value plus a share w (0..1) of the model's departure "
            "from it, w fitted by least squares on held-out station predictions: w near 1 says "
            "the stations confirm the model's 50 m detail, near 0 that SMAP alone does as well. "
            "Each station's blended held-out number uses a w fitted without that station's "
            "fold. The *_smap_blend.tif maps use the w of all stations."
        )
    notes.append(
        "The 'adapted' line of the time-series chart is the held-out (cross-validated) "
        "prediction where one exists, else the in-sample fit"
        + (
            "; 'adapted + SMAP blend' is its held-out SMAP blend."
            if "adapted_smap_blend" in pairs.columns
            else "."
        )
        if "adapted_cv" in pairs.columns
        else "The 'adapted' line of the time-series chart is the in-sample fit."
    )
    notes.extend(str(w) for w in warnings)
    return notes


def _timeseries(pairs: pd.DataFrame) -> pd.DataFrame:
    """The time-series chart's table: held-out predictions where they exist, else in-sample.

    The held-out SMAP blend of the adapted predictions is drawn too when the run made one.
    """
    ts = pairs[["station", "date", "obs", "smap_9km", "pretrained"]].copy()
    if "adapted_cv" in pairs.columns:
        ts["adapted"] = pairs["adapted_cv"]
    elif "adapted_in_sample" in pairs.columns:
        ts["adapted"] = pairs["adapted_in_sample"]
    if "adapted_smap_blend" in pairs.columns:
        ts["adapted_smap_blend"] = pairs["adapted_smap_blend"]
    return ts


def _share_outside_maps(map_stats: dict[str, Any]) -> float:
    """Share of mapped cells outside 0-0.6 m3/m3 over all maps (weighted by cells mapped)."""
    shares = [
        (st["share_outside_0_0.6"], st["cells_mapped"])
        for st in map_stats.values()
        if st["cells_mapped"]
        and st["share_outside_0_0.6"] is not None
        and math.isfinite(st["share_outside_0_0.6"])
    ]
    total = sum(n for _, n in shares)
    return sum(v * n for v, n in shares) / total if total else math.nan


def _write_side_files(
    out: Path,
    details: dict[str, Any],
    pairs: pd.DataFrame,
    history: pd.DataFrame | None,
) -> None:
    """``run_metrics.json``, ``station_predictions.csv`` and the adaptation history."""
    write_text(out / "run_metrics.json", to_json(details))
    pairs_out = pairs.copy()
    pairs_out["date"] = [d.isoformat() for d in pairs_out["date"]]
    write_text(out / "station_predictions.csv", pairs_out.to_csv(index=False))
    if history is not None and len(history):
        write_text(out / "adaptation_history.csv", history.to_csv(index=False))


def write_run_report(
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
    mes = validation.get("map_error_sample")
    summary = _summary(
        config,
        samples,
        cv,
        train_dates,
        n_coarse,
        n_target,
        alpha,
        alpha_reason,
        betas,
        simulated,
        checks,
    )
    summary.update(_map_summary(map_stats, mes))
    summary.update(_blend_summary(validation.get("smap_blend")))
    share_outside = _share_outside_maps(map_stats)
    title = f"Soil moisture {config.method.upper()} run: {config.aoi.name}"
    if simulated:
        title += " (SIMULATED demo data)"
    paths = write_report(
        out,
        title=title,
        summary=summary,
        metrics=validation["reports"],
        pairs=pairs,
        timeseries=_timeseries(pairs),
        notes=_notes(config, samples, cv, pairs, simulated, warnings),
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
        "smap_blend": validation.get("smap_blend"),
        "alpha": alpha,
        "alpha_reason": alpha_reason,
        "beta": betas or None,
        "share_outside_0_0.6_maps": share_outside,
        "simulated": simulated,
    }
    _write_side_files(out, details, pairs, history)
    progress.fraction(1.0)
    return paths.html, paths.json
