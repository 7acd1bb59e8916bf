"""The report's charts: measured vs predicted scatter, station time series and map quick-looks.

Charts use matplotlib's object API (``matplotlib.figure.Figure`` with the Agg canvas), never
pyplot's global state, so they are safe inside QGIS and in threads; matplotlib and pandas are
imported inside the functions that need them. Every chart is written atomically as a PNG.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ...atomic import atomic_path
from ...errors import InputError
from .. import metrics as m
from .text import _UNIT, _fmt

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd
    from matplotlib.figure import Figure

#: Columns of a time series table that are drawn, with their legend labels and colours.
TIMESERIES_SERIES: tuple[tuple[str, str, str], ...] = (
    ("obs", "in-situ", "black"),
    ("smap_9km", "SMAP 9 km", "#9e9e9e"),
    ("pretrained", "pretrained", "#e08214"),
    ("adapted", "adapted", "#2166ac"),
    ("adapted_smap_blend", "adapted + SMAP blend", "#1b7837"),
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

_AXIS_MAX = m.VALID_RANGE[1]
_MAP_MAX = 0.5
_MAX_MAP_PIXELS = 1500


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
        _density_points(fig, ax, o, p, lim)
    _metrics_box(ax, o, p)
    ax.set_xlim(*lim)
    ax.set_ylim(*lim)
    ax.set_aspect("equal")
    ax.set_xlabel(f"in-situ soil moisture ({_UNIT})")
    ax.set_ylabel(f"predicted soil moisture ({_UNIT})")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(True, alpha=0.3)
    return _save(fig, path)


def _density_points(
    fig: Figure, ax: Any, o: NDArray[np.float64], p: NDArray[np.float64], lim: tuple[float, float]
) -> None:
    """Scatter the pairs coloured by density (densest last) and the least-squares line."""
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


def _metrics_box(ax: Any, o: NDArray[np.float64], p: NDArray[np.float64]) -> None:
    """Write n, bias, RMSE, ubRMSE and R in a box at the top left of the scatter."""
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
            :data:`TIMESERIES_SERIES` (``obs``, ``smap_9km``, ``pretrained``, ``adapted``,
            ``adapted_smap_blend``).
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
