"""The validation report of a run: charts (PNG), a self-contained HTML page and a JSON file.

Layout written by :func:`write_report` into ``out_dir``::

    report.html          self-contained (charts embedded as base64 PNG)
    report.json          the same numbers, machine-readable
    report_files/*.png   the charts as separate files

Everything is rendered into a hidden staging folder first and published only when complete;
``report.html`` is renamed into place last, so its presence means the report is whole. A failure
or a cancel midway leaves the folder as it was (no new ``report.html``, no half-written file).

Charts use matplotlib's object API (``matplotlib.figure.Figure`` with the Agg canvas), never
pyplot's global state, so they are safe inside QGIS and in threads. matplotlib and pandas are
imported inside the functions that need them.
"""

from __future__ import annotations

import base64
import html
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

from ..atomic import atomic_path, write_text
from ..errors import InputError
from . import metrics as m

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = [
    "DRY_TO_WET",
    "FILES_DIR",
    "TIMESERIES_SERIES",
    "ReportPaths",
    "map_png",
    "scatter_density_png",
    "timeseries_png",
    "write_report",
]

#: Sub-folder of the report folder that holds the chart files.
FILES_DIR = "report_files"

#: Columns of a time series table that are drawn, with their legend labels and colours.
TIMESERIES_SERIES: tuple[tuple[str, str, str], ...] = (
    ("obs", "in-situ", "black"),
    ("smap_9km", "SMAP 9 km", "#9e9e9e"),
    ("pretrained", "pretrained", "#e08214"),
    ("adapted", "adapted", "#2166ac"),
)

#: Colours of the soil moisture ramp, from dry (brown) to wet (dark blue).
DRY_TO_WET: tuple[str, ...] = (
    "#8c510a",
    "#d8b365",
    "#f6e8c3",
    "#c7eae5",
    "#5ab4ac",
    "#2c7fb8",
    "#253494",
)

_UNIT = "m³/m³"
_AXIS_MAX = m.VALID_RANGE[1]
_MAP_MAX = 0.5
_MAX_MAP_PIXELS = 1500


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


# ------------------------------------------------------------------------------------ charts
def _new_figure(width: float, height: float) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: str | os.PathLike[str]) -> Path:
    target = Path(path)
    with atomic_path(target) as tmp:
        fig.savefig(tmp, format="png")
    return target


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    try:
        v = float(value)
    except (TypeError, ValueError):
        return html.escape(str(value))
    if not math.isfinite(v):
        return "–"
    return f"{v:.{digits}f}"


def scatter_density_png(
    obs: ArrayLike,
    pred: ArrayLike,
    path: str | os.PathLike[str],
    title: str,
) -> Path:
    """Draw measured vs predicted soil moisture, coloured by point density.

    Points are coloured by how many pairs fall into their cell of a 60 x 60 grid over the axes
    (dense clouds stand out; the densest points are drawn last). The 1:1 line, the least-squares
    fitted line and the metrics (n, bias, RMSE, ubRMSE, R) are shown; both axes span 0-0.6 m3/m3
    (values outside are drawn on the border).

    Args:
        obs: In-situ soil moisture (m3/m3).
        pred: Predicted soil moisture (m3/m3), aligned with ``obs``; NaN pairs are dropped.
        path: The PNG file to write (atomically).
        title: Chart title (e.g. the method name).

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    """
    o = np.asarray(obs, dtype=np.float64).ravel()
    p = np.asarray(pred, dtype=np.float64).ravel()
    if o.shape != p.shape:
        raise InputError(f"Scatter plot: {o.size} observed but {p.size} predicted values.")
    keep = np.isfinite(o) & np.isfinite(p)
    o, p = o[keep], p[keep]

    fig = _new_figure(5.6, 5.0)
    ax = fig.add_subplot()
    lim = (0.0, _AXIS_MAX)
    ax.plot(lim, lim, color="0.3", linestyle="--", linewidth=1.0, label="1:1")
    if o.size:
        oc, pc = np.clip(o, *lim), np.clip(p, *lim)
        edges = np.linspace(lim[0], lim[1], 61)
        counts, _, _ = np.histogram2d(oc, pc, bins=60, range=[lim, lim])
        io = np.clip(np.searchsorted(edges, oc, side="right") - 1, 0, 59)
        ip = np.clip(np.searchsorted(edges, pc, side="right") - 1, 0, 59)
        density = counts[io, ip]
        order = np.argsort(density, kind="stable")
        sc = ax.scatter(
            oc[order], pc[order], c=density[order], s=9, cmap="viridis", edgecolors="none", vmin=1
        )
        fig.colorbar(sc, ax=ax, label="pairs per cell (density)", shrink=0.8)
        if o.size >= 2 and np.ptp(o) > 0:
            slope, intercept = np.polyfit(o, p, 1)
            ax.plot(
                lim,
                [intercept + slope * lim[0], intercept + slope * lim[1]],
                color="#d6604d",
                linewidth=1.4,
                label=f"fit: y = {slope:.2f} x + {intercept:.3f}",
            )
    text = "\n".join(
        [
            f"n = {o.size}",
            f"bias = {_fmt(m.bias(o, p))}",
            f"RMSE = {_fmt(m.rmse(o, p))}",
            f"ubRMSE = {_fmt(m.ubrmse(o, p))}",
            f"R = {_fmt(m.pearson_r(o, p), 2)}",
        ]
    )
    ax.text(
        0.03,
        0.97,
        text,
        transform=ax.transAxes,
        va="top",
        ha="left",
        fontsize=9,
        bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.85, "edgecolor": "0.7"},
    )
    ax.set_xlim(*lim)
    ax.set_ylim(*lim)
    ax.set_aspect("equal")
    ax.set_xlabel(f"in-situ soil moisture ({_UNIT})")
    ax.set_ylabel(f"predicted soil moisture ({_UNIT})")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(True, alpha=0.3)
    return _save(fig, path)


def timeseries_png(
    station_df: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    title: str = "Soil moisture time series per station",
    max_stations: int = 12,
) -> Path:
    """Draw, per station, in-situ, SMAP 9 km, pretrained and adapted soil moisture vs date.

    Args:
        station_df: Long table with a ``date`` column, a ``station`` column (optional: without
            it all rows are one panel) and any of the series columns of
            :data:`TIMESERIES_SERIES` (``obs``, ``smap_9km``, ``pretrained``, ``adapted``).
        path: The PNG file to write (atomically).
        title: Figure title.
        max_stations: At most this many stations (the first ones) get a panel.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        InputError: if the table has no ``date`` column or none of the series columns.

    """
    import pandas as pd

    if "date" not in station_df.columns:
        raise InputError("The time series table needs a 'date' column.")
    series = [s for s in TIMESERIES_SERIES if s[0] in station_df.columns]
    if not series:
        names = ", ".join(s[0] for s in TIMESERIES_SERIES)
        raise InputError(f"The time series table has none of the columns {names}.")
    df = station_df.copy()
    df["date"] = pd.to_datetime(df["date"])
    if "station" in df.columns:
        stations = list(pd.unique(df["station"]))
    else:
        df["station"] = ""
        stations = [""]
    shown = stations[:max_stations]

    fig = _new_figure(9.0, 1.0 + 2.0 * len(shown))
    axes = fig.subplots(len(shown), 1, sharex=True, squeeze=False)[:, 0]
    for ax, station in zip(axes, shown, strict=True):
        sub = df[df["station"] == station].sort_values("date")
        for col, label, colour in series:
            values = sub[col].to_numpy(dtype=np.float64)
            if col == "obs":
                ax.plot(
                    sub["date"],
                    values,
                    color=colour,
                    marker=".",
                    markersize=3,
                    linewidth=0.8,
                    label=label,
                )
            else:
                ax.plot(sub["date"], values, color=colour, linewidth=1.2, label=label)
        ax.set_ylim(0.0, _AXIS_MAX)
        ax.set_ylabel(_UNIT)
        ax.set_title(str(station) if station != "" else "all samples", fontsize=9, loc="left")
        ax.grid(True, alpha=0.3)
    axes[0].legend(loc="upper right", fontsize=8, ncol=len(series))
    heading = title
    if len(stations) > len(shown):
        heading += f" (first {len(shown)} of {len(stations)} stations)"
    fig.suptitle(heading)
    return _save(fig, path)


def _dry_to_wet_cmap() -> Any:
    from matplotlib.colors import LinearSegmentedColormap

    cmap = LinearSegmentedColormap.from_list("dry_to_wet", list(DRY_TO_WET))
    return cmap.with_extremes(bad=(0, 0, 0, 0))


def map_png(
    array: ArrayLike,
    path: str | os.PathLike[str],
    *,
    title: str = "Soil moisture",
    kind: str = "mean",
    vmax: float | None = None,
) -> Path:
    """Draw a quick-look of a soil moisture map or of its ensemble spread.

    ``kind="mean"`` uses a dry-to-wet ramp (brown to blue) fixed to 0-0.5 m3/m3 so maps of
    different runs compare; ``kind="spread"`` (the standard deviation over the 25 members) uses
    a sequential ramp from 0 to ``vmax`` (default: the 98th percentile). NaN cells are left
    transparent. Maps larger than 1500 pixels on a side are decimated for the quick-look.

    Args:
        array: 2-D map in m3/m3 (row 0 at the top, north up).
        path: The PNG file to write (atomically).
        title: Chart title.
        kind: ``"mean"`` or ``"spread"``.
        vmax: Upper end of the colour scale (default 0.5 for the mean, see above for spread).

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        InputError: if the array is not 2-D or ``kind`` is unknown.

    """
    a = np.asarray(array, dtype=np.float64)
    if a.ndim != 2:
        raise InputError(f"A map quick-look needs a 2-D array, got shape {a.shape}.")
    if kind not in ("mean", "spread"):
        raise InputError(f"Unknown map kind {kind!r}; use 'mean' or 'spread'.")
    step = max(1, math.ceil(max(a.shape) / _MAX_MAP_PIXELS))
    a = a[::step, ::step]
    if kind == "mean":
        cmap = _dry_to_wet_cmap()
        top = _MAP_MAX if vmax is None else vmax
        label = f"soil moisture ({_UNIT})"
    else:
        from matplotlib import colormaps

        cmap = colormaps["magma_r"].with_extremes(bad=(0, 0, 0, 0))
        finite = a[np.isfinite(a)]
        top = (
            vmax if vmax is not None else (float(np.percentile(finite, 98)) if finite.size else 0.1)
        )
        top = top if top > 0 else 0.01
        label = f"ensemble spread, std. dev. ({_UNIT})"
    aspect = a.shape[1] / max(a.shape[0], 1)
    width = float(np.clip(3.0 + 4.0 * aspect, 4.0, 10.0))
    fig = _new_figure(width, 5.0)
    ax = fig.add_subplot()
    im = ax.imshow(a, cmap=cmap, vmin=0.0, vmax=top, interpolation="nearest")
    extend = "max" if np.nanmax(a, initial=-np.inf) > top else "neither"
    fig.colorbar(im, ax=ax, label=label, shrink=0.85, extend=extend)
    ax.set_title(title + (f" (every {step}th cell)" if step > 1 else ""))
    ax.set_xticks([])
    ax.set_yticks([])
    return _save(fig, path)


# ------------------------------------------------------------------------------------ report
_SUMMARY_LABELS: dict[str, str] = {
    "aoi": "Area of interest",
    "dates": "Dates",
    "date": "Date",
    "method": "Method",
    "alpha": "alpha (weight of the 50 m loss vs the 9 km loss)",
    "alpha_reason": "Why this alpha",
    "beta": "beta (weight of the domain loss)",
    "stations": "Stations",
    "n_stations": "Number of stations",
    "source": "Input source",
}

_METRIC_LABELS: dict[str, str] = {
    "bias": f"bias ({_UNIT})",
    "rmse": f"RMSE ({_UNIT})",
    "ubrmse": f"ubRMSE ({_UNIT})",
    "r": "R",
}


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


def _summary_value(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return html.escape(", ".join(str(v) for v in value))
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else "–"
    return html.escape(str(value))


def _with_ci(value: float, ci: tuple[float, float] | None, digits: int = 3) -> str:
    text = _fmt(value, digits)
    if ci is not None and all(math.isfinite(c) for c in ci):
        text += f' <span class="ci">[{_fmt(ci[0], digits)}, {_fmt(ci[1], digits)}]</span>'
    return text


def _comparison_tables(metrics: Mapping[str, m.MetricsReport]) -> str:
    pooled_rows = []
    median_rows = []
    for name, rep in metrics.items():
        cells = [f"<td>{html.escape(name)}</td>", f"<td>{int(rep.pooled.get('n', 0))}</td>"]
        for key in m.METRIC_NAMES:
            digits = 2 if key == "r" else 3
            cells.append(
                f"<td>{_with_ci(rep.pooled.get(key, math.nan), rep.pooled_ci.get(key), digits)}"
                "</td>"
            )
        cells.append(f"<td>{_fmt(100 * rep.pooled.get('inversion_rate', math.nan), 1)} %</td>")
        pooled_rows.append("<tr>" + "".join(cells) + "</tr>")
        if rep.station_median is not None:
            cells = [f"<td>{html.escape(name)}</td>", f"<td>{rep.n_stations}</td>"]
            ci = rep.station_median_ci or {}
            for key in m.METRIC_NAMES:
                digits = 2 if key == "r" else 3
                cells.append(f"<td>{_with_ci(rep.station_median[key], ci.get(key), digits)}</td>")
            median_rows.append("<tr>" + "".join(cells) + "</tr>")
    head = "".join(f"<th>{html.escape(_METRIC_LABELS[k])}</th>" for k in m.METRIC_NAMES)
    out = [
        "<h3>Pooled over all samples</h3>",
        '<p class="explain">All matched (station, day) pairs together as one sample. '
        "Differences between stations count as signal, so R is usually higher than per station. "
        "Intervals: t (bias), chi-square (RMSE, ubRMSE), Fisher z (R); they assume independent "
        "samples, and daily series are autocorrelated, so read them as optimistic.</p>",
        f"<table><tr><th>method</th><th>n pairs</th>{head}"
        f"<th>inside 0-0.6 {_UNIT} (inversion rate)</th></tr>",
        *pooled_rows,
        "</table>",
    ]
    if median_rows:
        out += [
            "<h3>Median over stations</h3>",
            '<p class="explain">Each metric computed per station, then the median over '
            "stations (each station counts once). Intervals: percentile bootstrap resampling "
            "stations.</p>",
            f"<table><tr><th>method</th><th>stations</th>{head}</tr>",
            *median_rows,
            "</table>",
        ]
    return "\n".join(out)


def _station_tables(metrics: Mapping[str, m.MetricsReport]) -> str:
    out = []
    first = True
    for name, rep in metrics.items():
        if rep.per_station is None:
            continue
        head = "".join(f"<th>{html.escape(_METRIC_LABELS[k])}</th>" for k in m.METRIC_NAMES)
        rows = []
        for station, row in rep.per_station.iterrows():
            cells = [f"<td>{html.escape(str(station))}</td>", f"<td>{int(row['n'])}</td>"]
            cells += [f"<td>{_fmt(row[k], 2 if k == 'r' else 3)}</td>" for k in m.METRIC_NAMES]
            rows.append("<tr>" + "".join(cells) + "</tr>")
        out.append(
            f"<details{' open' if first else ''}><summary>{html.escape(name)}</summary>"
            f"<table><tr><th>station</th><th>n</th>{head}</tr>{''.join(rows)}</table></details>"
        )
        first = False
    if not out:
        return "<p>No station column: per-station metrics were not computed.</p>"
    return "\n".join(out)


_CSS = """
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 2em auto;
       max-width: 1100px; color: #222; line-height: 1.4; padding: 0 1em; }
.banner { background: #b2182b; color: white; font-size: 1.6em; font-weight: bold;
          text-align: center; padding: 0.6em; margin-bottom: 1em; border-radius: 4px; }
table { border-collapse: collapse; margin: 0.5em 0 1.2em 0; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #f0f0f0; } td:first-child, th:first-child { text-align: left; }
.ci { color: #666; font-size: 0.85em; } .explain { color: #444; font-size: 0.9em; }
figure { display: inline-block; margin: 0.5em; vertical-align: top; }
figure img { max-width: 100%; border: 1px solid #ddd; }
.warn { color: #b2182b; font-weight: bold; }
.status-ok { background: #d9f0d3; } .status-caution { background: #fee8a6; }
.status-bad { background: #f4a582; font-weight: bold; } .status-unavailable { color: #666; }
"""


_STATUS_WORDS = {
    "ok": "OK",
    "caution": "unusual",
    "bad": "far outside",
    "unavailable": "n/a",
}


def _checks_html(checks: Mapping[str, Any] | None) -> str:
    """The "Checks of the inputs" section: the 9 km self-check and the input health table."""
    if not checks:
        return "<p>No input checks were made for this run.</p>"
    out = []
    sc = checks.get("smap_self_check")
    if sc:
        st = str(sc.get("status", "unavailable"))
        out.append(
            f'<p class="status-{st}" id="smap-self-check"><b>9 km self-check '
            f"({html.escape(_STATUS_WORDS.get(st, st))}):</b> {html.escape(str(sc['message']))}"
            + (
                f" &mdash; n {int(sc['n'])}, RMSE {_fmt(sc['rmse'])}, bias {_fmt(sc['bias'])}, "
                f"R {_fmt(sc['r'], 2)}"
                if sc.get("n")
                else ""
            )
            + "</p>"
        )
    health = checks.get("input_health")
    if health:
        st = str(health.get("status", "unavailable"))
        layout = checks.get("input_layout", {}).get("name", health.get("layout", ""))
        out.append(
            f'<p class="status-{st}" id="input-health"><b>Input health '
            f"({html.escape(_STATUS_WORDS.get(st, st))}):</b> each network input of this run "
            f"(layout <code>{html.escape(str(layout))}</code>) as a z-score against "
            f"{html.escape(str(health.get('statistics_of', 'the training inputs')))}. "
            "|z| &ge; 2 is unusual, |z| &ge; 3 far outside what the model saw.</p>"
        )
        rows = []
        for e in health.get("inputs", []):
            worst = max(e["z_by_date"].values(), key=abs) if e["z_by_date"] else math.nan
            unit = html.escape(str(e.get("unit", "")))
            rows.append(
                f'<tr class="status-{e["status"]}"><td>{html.escape(str(e["label"]))}</td>'
                f"<td>{_fmt(e['run_mean'], 4)} {unit}</td>"
                f"<td>{_fmt(e['training_mean'], 4)} {unit}</td>"
                f"<td>{_fmt(e['z'], 2)}</td><td>{_fmt(worst, 2)}</td>"
                f"<td>{html.escape(_STATUS_WORDS.get(e['status'], e['status']))}</td></tr>"
            )
        out.append(
            "<table><tr><th>input</th><th>this run (mean)</th><th>training (mean)</th>"
            "<th>z</th><th>z, worst date</th><th>status</th></tr>" + "".join(rows) + "</table>"
        )
        for w in health.get("warnings", []):
            out.append(f'<p class="warn">{html.escape(str(w))}</p>')
    return "\n".join(out)


def _render_html(
    *,
    title: str,
    generated: str,
    summary: Mapping[str, Any],
    metrics: Mapping[str, m.MetricsReport],
    charts: Mapping[str, tuple[str, bytes]],
    notes: Sequence[str],
    share_outside: float,
    simulated: bool,
    checks: Mapping[str, Any] | None = None,
) -> str:
    banner = ""
    if simulated:
        banner = (
            '<div class="banner" id="simulated">SIMULATED DATA &mdash; these numbers come from '
            "synthetic inputs, not from real satellite or in-situ measurements</div>"
        )
    summary_rows = "".join(
        f"<tr><td>{html.escape(_SUMMARY_LABELS.get(str(k), str(k)))}</td>"
        f"<td>{_summary_value(v)}</td></tr>"
        for k, v in summary.items()
    )
    figures = "".join(
        f'<figure><img alt="{html.escape(caption)}" '
        f'src="data:image/png;base64,{base64.b64encode(data).decode("ascii")}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        for caption, data in charts.values()
    )
    lo, hi = m.VALID_RANGE
    outside = "–" if not math.isfinite(share_outside) else f"{100 * share_outside:.2f} %"
    outside_cls = ' class="warn"' if math.isfinite(share_outside) and share_outside > 0.01 else ""
    notes_html = "".join(f"<li>{html.escape(str(n))}</li>" for n in notes) or "<li>none</li>"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(title)}</title>
<style>{_CSS}</style></head>
<body>
{banner}
<h1>{html.escape(title)}</h1>
<p class="explain">Generated {html.escape(generated)}.</p>
<h2>Run summary</h2>
<table>{summary_rows}</table>
<h2>Checks of the inputs</h2>
{_checks_html(checks)}
<h2>Accuracy against in-situ soil moisture</h2>
{_comparison_tables(metrics)}
<h2>Per-station metrics</h2>
{_station_tables(metrics)}
<h2>Physical range</h2>
<p{outside_cls} id="share-outside">Share of mapped values outside {lo:g}-{hi:g} {_UNIT}:
{outside}</p>
<h2>Notes</h2>
<ul>{notes_html}</ul>
<h2>Charts</h2>
{figures or "<p>No charts.</p>"}
</body></html>
"""


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
                    scatter_density_png(pairs["obs"], pairs[col], staging / f"{key}.png", name),
                    f"Measured vs predicted: {name}",
                )
        if timeseries is not None and len(timeseries):
            staged["timeseries"] = (
                timeseries_png(timeseries, staging / "timeseries.png"),
                "Time series per station",
            )
        if map_mean is not None:
            staged["map_mean"] = (
                map_png(map_mean, staging / "map_mean.png", title="Soil moisture (ensemble mean)"),
                "Soil moisture map (ensemble mean)",
            )
        if map_spread is not None:
            staged["map_spread"] = (
                map_png(
                    map_spread,
                    staging / "map_spread.png",
                    kind="spread",
                    title="Ensemble spread (25 members)",
                ),
                "Ensemble spread map",
            )

        files_dir = out / FILES_DIR
        pngs = {key: files_dir / f"{key}.png" for key in staged}
        document = {
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

        # Publish: charts, then JSON, then the HTML last (its presence = a complete report).
        files_dir.mkdir(exist_ok=True)
        for key, (path, _) in staged.items():
            os.replace(path, pngs[key])
        write_text(out / "report.json", json_text)
        write_text(out / "report.html", html_text)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ReportPaths(html=out / "report.html", json=out / "report.json", pngs=pngs)


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
