"""The report's HTML page: summary, input checks, metric tables and embedded charts.

Everything here only renders strings; :mod:`.writer` decides what is drawn and publishes the
files. Values are escaped, NaN shows as a dash and intervals follow their value in grey.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

from .. import metrics as m
from .text import _UNIT, _fmt

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
