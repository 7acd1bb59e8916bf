"""Writing the report: charts staged in a hidden folder, the JSON and the HTML, then publishing.

:func:`write_report` draws every chart into a staging folder, builds the JSON document and the
HTML page from the same numbers and moves the files into place with ``report.html`` last, so
its presence means the report is whole (the layout is described on :mod:`core.outputs.report`).
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from ...atomic import write_text
from ...errors import InputError
from .. import metrics as m
from . import charts
from .page import _render_html

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd

#: Sub-folder of the report folder that holds the chart files.
FILES_DIR = "report_files"


@dataclass(frozen=True)
class ReportPaths:
    """Where the report files were written.

    Attributes:
        html: The self-contained HTML page.
        json: The JSON file with the same numbers.
        pngs: The chart files by key (e.g. ``"scatter_adapted_loso_cv"``, ``"timeseries"``).

    """

    html: Path
    json: Path
    pngs: dict[str, Path] = field(default_factory=dict)


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return slug or "method"


def _jsonable(value: Any) -> Any:
    """Convert numpy scalars, dates, paths and NaN to plain JSON values."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_jsonable(v) for v in value.tolist()]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(float(value)) else None
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if value is None or isinstance(value, str):
        return value
    return str(value)


def write_report(
    out_dir: str | os.PathLike[str],
    *,
    title: str,
    summary: Mapping[str, Any],
    metrics: Mapping[str, m.MetricsReport],
    pairs: pd.DataFrame | None,
    timeseries: pd.DataFrame | None,
    notes: Sequence[str],
    share_outside: float,
    simulated: bool,
    pair_columns: Mapping[str, str] | None = None,
    map_mean: ArrayLike | None = None,
    map_spread: ArrayLike | None = None,
    checks: Mapping[str, Any] | None = None,
) -> ReportPaths:
    """Write the validation report of a run (HTML + JSON + PNG charts) atomically.

    Args:
        out_dir: Folder to write into (created if needed; other files in it are kept).
        title: Report title.
        summary: Run summary shown in order as a table (e.g. ``aoi``, ``dates``, ``method``,
            ``alpha``, ``alpha_reason``, ``beta``, ``stations``); values must be printable.
        metrics: Evaluation of each method by display name, e.g. ``{"adapted (LOSO CV)": ...,
            "pretrained": ..., "random forest (LOSO CV)": ..., "XGBoost (LOSO CV)": ...}``.
        pairs: Matched pairs with ``obs`` and one prediction column per method (plus
            ``station`` and ``date``); a scatter chart is drawn for each method with a column.
            ``None`` draws no scatter.
        timeseries: Long table for :func:`timeseries_png` (``station``, ``date``, ``obs``,
            ``smap_9km``, ``pretrained``, ``adapted``); ``None`` or empty draws none.
        notes: Remarks shown to the reader (e.g. "With one station no held-out accuracy can be
            computed").
        share_outside: Share of mapped values outside 0-0.6 m3/m3 (see
            :func:`core.outputs.metrics.share_outside_range`).
        simulated: True when the inputs are synthetic: a prominent banner says so.
        pair_columns: Method name -> column of ``pairs`` holding its predictions. By default a
            method uses the first existing column among: its name; its name without the
            parenthesis and as a slug (``"random forest (LOSO CV)"`` -> ``random_forest``,
            ``"XGBoost (LOSO CV)"`` -> ``xgboost``); its first word (``"adapted"``); the slug of
            the full name. Methods without a column get no scatter chart.
        map_mean: Optional 2-D soil moisture map for a quick-look chart.
        map_spread: Optional 2-D ensemble spread map for a quick-look chart.
        checks: Optional input checks of the run (``input_layout``, ``input_health``,
            ``smap_self_check``, as made by :mod:`core.run.health`), shown after the summary.

    Returns:
        The :class:`ReportPaths` of the written files.

    Raises:
        InputError: if a table lacks a needed column or a chart input is malformed.

    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    staging = Path(tempfile.mkdtemp(prefix=".report-", dir=out))
    try:
        staged = _draw_charts(
            staging, metrics, pairs, timeseries, pair_columns, map_mean, map_spread
        )
        files_dir = out / FILES_DIR
        pngs = {key: files_dir / f"{key}.png" for key in staged}
        document = _report_document(
            title, generated, summary, metrics, notes, share_outside, simulated, pngs, checks
        )
        json_text = json.dumps(document, indent=2, allow_nan=False, ensure_ascii=False)
        html_text = _render_html(
            title=title,
            generated=generated,
            summary=summary,
            metrics=metrics,
            charts={key: (cap, path.read_bytes()) for key, (path, cap) in staged.items()},
            notes=notes,
            share_outside=float(share_outside),
            simulated=simulated,
            checks=checks,
        )

        _publish(out, staged, pngs, json_text, html_text)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ReportPaths(html=out / "report.html", json=out / "report.json", pngs=pngs)


def _report_document(
    title: str,
    generated: str,
    summary: Mapping[str, Any],
    metrics: Mapping[str, m.MetricsReport],
    notes: Sequence[str],
    share_outside: float,
    simulated: bool,
    pngs: Mapping[str, Path],
    checks: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The JSON document of the report: the same numbers as the HTML page, machine-readable."""
    return {
        "title": title,
        "generated": generated,
        "simulated": bool(simulated),
        "summary": _jsonable(summary),
        "valid_range": list(m.VALID_RANGE),
        "share_outside_valid_range": _jsonable(float(share_outside)),
        "notes": [str(n) for n in notes],
        "methods": {name: rep.to_dict() for name, rep in metrics.items()},
        "charts": {key: f"{FILES_DIR}/{p.name}" for key, p in pngs.items()},
        "input_checks": _jsonable({k: v for k, v in (checks or {}).items() if k != "warnings"})
        or None,
    }


def _publish(
    out: Path,
    staged: Mapping[str, tuple[Path, str]],
    pngs: Mapping[str, Path],
    json_text: str,
    html_text: str,
) -> None:
    """Move the staged charts into place, then write the JSON, then the HTML last.

    The presence of ``report.html`` means a complete report.
    """
    (out / FILES_DIR).mkdir(exist_ok=True)
    for key, (path, _) in staged.items():
        os.replace(path, pngs[key])
    write_text(out / "report.json", json_text)
    write_text(out / "report.html", html_text)


def _draw_charts(
    staging: Path,
    metrics: Mapping[str, m.MetricsReport],
    pairs: pd.DataFrame | None,
    timeseries: pd.DataFrame | None,
    pair_columns: Mapping[str, str] | None,
    map_mean: ArrayLike | None,
    map_spread: ArrayLike | None,
) -> dict[str, tuple[Path, str]]:
    """Draw every chart of the report into ``staging``: key -> (staged file, caption).

    The scatters come first (one per method with a prediction column), then the time series,
    then the map quick-looks.
    """
    staged: dict[str, tuple[Path, str]] = {}  # key -> (staged file, caption)

    if pairs is not None and len(pairs):
        if "obs" not in pairs.columns:
            raise InputError(
                "The pairs table needs an 'obs' column with the in-situ soil moisture; its "
                f"columns are {', '.join(map(str, pairs.columns))}."
            )
        for name in metrics:
            col = _pair_column(name, pairs.columns, pair_columns)
            if col is None:
                continue
            key = f"scatter_{_slug(name)}"
            staged[key] = (
                charts.scatter_density_png(pairs["obs"], pairs[col], staging / f"{key}.png", name),
                f"Measured vs predicted: {name}",
            )
    if timeseries is not None and len(timeseries):
        staged["timeseries"] = (
            charts.timeseries_png(timeseries, staging / "timeseries.png"),
            "Time series per station",
        )
    if map_mean is not None:
        staged["map_mean"] = (
            charts.map_png(
                map_mean, staging / "map_mean.png", title="Soil moisture (ensemble mean)"
            ),
            "Soil moisture map (ensemble mean)",
        )
    if map_spread is not None:
        staged["map_spread"] = (
            charts.map_png(
                map_spread,
                staging / "map_spread.png",
                kind="spread",
                title="Ensemble spread (25 members)",
            ),
            "Ensemble spread map",
        )
    return staged


def _pair_column(name: str, columns: Any, pair_columns: Mapping[str, str] | None) -> str | None:
    """Find the column of ``pairs`` that holds the predictions of method ``name``."""
    cols = [str(c) for c in columns]
    if pair_columns is not None and name in pair_columns:
        col = pair_columns[name]
        if col not in cols:
            raise InputError(
                f"The pairs table has no column {col!r} for method {name!r}; its columns are "
                f"{', '.join(cols)}."
            )
        return col
    base = name.split("(")[0].strip()
    first_word = base.split(" ")[0].lower() if base else ""
    for candidate in (name, base, _slug(base), first_word, _slug(name)):
        if candidate and candidate in cols and candidate not in ("obs", "station", "date"):
            return candidate
    return None
