"""The DenseSM input contract: raw physical values -> 153 normalised -> 156 model inputs.

This module is the single place where the preparation that the published weights expect is
written down (see ``docs/input-contract.md``, generated from :data:`VARIABLES`). A wrong order,
unit or range gives plausible-looking nonsense, so everything that builds model inputs (sample
tables, the demo scene, Earth Engine scenes) goes through these functions.

Layout of the 153 normalised variables (each min-max normalised, then clipped to [0, 1]):

* 0-14: the snapshot (SAR, season, soil, terrain, grid position),
* 15-60: NDVI, 61-106: 2 m temperature, 107-152: precipitation (46 eight-day steps each,
  oldest first).

The model takes 156 numbers: the 15 snapshot values, the means of the three *normalised*
series (NDVI, temperature, precipitation), then the 138 series values.

Choices recorded here (the authors' own, so that inputs match what the weights saw):

* Row of the 9 km EASE-2 cell (index 12) is counted from 1, as in the authors' grid code;
  columns (13, 14) from 0.
* Aspect (10, 11) is the sine and cosine of the cell-mean aspect, not the circular mean.

Input layouts. :data:`VARIABLES` is the *raw* order (the authors' published 50 m preprocessing
and their sample tables). What a model set was trained on is an :class:`InputLayout`: the order
in which the 15 snapshot values reach the network, their normalisation ranges and the scale of
the precipitation series. A model set declares its layout in its manifest; raw variables are
mapped to it by :meth:`InputLayout.normalise`. Two layouts are known (:data:`LAYOUTS`):

* ``densesm_9km``: what the published 9 km weights' own input statistics show (day-of-year pair
  last, row in 0..1, precipitation about ten times the daily totals); see
  ``docs/input-contract.md`` for the evidence. The published set declares it.
* ``authors_50m``: the contract of the authors' 50 m preprocessing and paper (the raw order and
  ranges of :data:`VARIABLES`), for reproducing the papers' 50 m experiments.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import InputError

FloatArray = npt.NDArray[np.floating]

N_STEPS = 46
"""Number of eight-day steps in each time series."""
N_SNAPSHOT = 15
"""Number of normalised snapshot variables."""
N_NORMALISED = N_SNAPSHOT + 3 * N_STEPS  # 153
"""Number of normalised variables (sample-table columns "0".."152")."""
N_INPUTS = N_NORMALISED + 3  # 156
"""Number of model inputs (snapshot, 3 series means, 138 series values)."""
N_MODEL_SNAPSHOT = N_SNAPSHOT + 3  # 18
"""Snapshot part of the model input: 15 normalised values and 3 series means."""

EASE2_9KM_ROWS = 1624
EASE2_9KM_COLS = 3856


@dataclass(frozen=True)
class Variable:
    """One normalised variable of the contract."""

    index: int
    name: str
    description: str
    unit: str
    min: float
    max: float


_SNAPSHOT_VARIABLES: tuple[tuple[str, str, str, float, float], ...] = (
    ("vv", "VV backscatter, mean of the dB values over the cell", "dB", -30.0, 5.0),
    ("vh", "VH backscatter, mean of the dB values over the cell", "dB", -35.0, 0.0),
    ("angle", "incidence angle (Sentinel-1 GRD angle band)", "degrees", 29.1, 46.0),
    ("doy_sin", "sin(2 pi doy / 365), doy = day of year of the SAR acquisition", "-", -1.0, 1.0),
    ("doy_cos", "cos(2 pi doy / 365)", "-", -1.0, 1.0),
    ("sand", "sand, SoilGrids 0-5 cm mean", "g/kg", 0.0, 1000.0),
    ("clay", "clay, SoilGrids 0-5 cm mean", "g/kg", 0.0, 1000.0),
    ("bdod", "bulk density, SoilGrids 0-5 cm mean", "cg/cm3", 100.0, 180.0),
    ("elevation", "elevation (SRTM 30 m, cell mean)", "m", 0.0, 5500.0),
    ("slope", "slope (from the 30 m DEM, cell mean)", "degrees", 0.0, 40.0),
    ("aspect_sin", "sin(cell-mean aspect)", "-", -1.0, 1.0),
    ("aspect_cos", "cos(cell-mean aspect)", "-", -1.0, 1.0),
    ("row9", "(row of the 9 km EASE-2 cell, counted from 1) / 1624", "-", -1.0, 1.0),
    ("col9_sin", "sin(2 pi col9 / 3856), col9 = column of the 9 km EASE-2 cell", "-", -1.0, 1.0),
    ("col9_cos", "cos(2 pi col9 / 3856)", "-", -1.0, 1.0),
)

_SERIES: tuple[tuple[str, str, str, float, float], ...] = (
    ("ndvi", "NDVI (MOD13Q1 + MYD13Q1)", "NDVI x 10000", -2000.0, 10000.0),
    ("t2m", "2 m air temperature, eight-day mean", "K", 263.15, 308.15),
    ("tp", "total precipitation, eight-day mean of daily sums", "m/day", 0.0, 0.3),
)
SERIES_NAMES: tuple[str, ...] = tuple(s[0] for s in _SERIES)


def _build_variables() -> tuple[Variable, ...]:
    out = [Variable(i, *spec) for i, spec in enumerate(_SNAPSHOT_VARIABLES)]
    for k, (name, desc, unit, lo, hi) in enumerate(_SERIES):
        for step in range(N_STEPS):
            index = N_SNAPSHOT + k * N_STEPS + step
            out.append(Variable(index, f"{name}_{step:02d}", f"{desc}, step {step}", unit, lo, hi))
    return tuple(out)


VARIABLES: tuple[Variable, ...] = _build_variables()
"""The 153 normalised variables, in table order."""

MINS = np.array([v.min for v in VARIABLES], dtype=np.float64)
MAXS = np.array([v.max for v in VARIABLES], dtype=np.float64)
SAMPLE_COLUMNS: tuple[str, ...] = tuple(str(i) for i in range(N_NORMALISED))
"""Column names of the normalised variables in the authors' sample tables."""
LABEL_COLUMN = "gt"
"""Column name of the label (m3/m3) in the authors' sample tables."""


def _minmax(values: npt.ArrayLike, lo: npt.ArrayLike, hi: npt.ArrayLike) -> npt.NDArray[np.float32]:
    """``(x - lo) / (hi - lo)`` clipped to [0, 1], computed in float64, returned as float32."""
    lo_, hi_ = np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)
    out = (np.asarray(values, dtype=np.float64) - lo_) / (hi_ - lo_)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def normalise(raw: FloatArray) -> npt.NDArray[np.float32]:
    """Min-max normalise raw physical values to [0, 1] and clip.

    Args:
        raw: array of shape ``(..., 153)`` in the units of :data:`VARIABLES`. NaN stays NaN.

    Returns:
        float32 array of the same shape.
    """
    raw = np.asarray(raw, dtype=np.float64)
    if raw.shape[-1] != N_NORMALISED:
        raise InputError(
            f"expected {N_NORMALISED} raw variables in the last axis, got {raw.shape[-1]}"
        )
    return _minmax(raw, MINS, MAXS)


def denormalise(norm: FloatArray) -> npt.NDArray[np.float64]:
    """Invert :func:`normalise` (exact inside the ranges; clipped values map to the bounds)."""
    norm = np.asarray(norm, dtype=np.float64)
    return norm * (MAXS - MINS) + MINS


def normalise_series(values: FloatArray, name: str) -> npt.NDArray[np.float32]:
    """Normalise one time series (any shape) with the range of series ``name``."""
    k = SERIES_NAMES.index(name)
    lo, hi = _SERIES[k][3], _SERIES[k][4]
    return _minmax(values, lo, hi)


def normalise_snapshot(raw: FloatArray) -> npt.NDArray[np.float32]:
    """Normalise raw snapshot values of shape ``(..., 15)``."""
    raw = np.asarray(raw, dtype=np.float64)
    if raw.shape[-1] != N_SNAPSHOT:
        raise InputError(f"expected {N_SNAPSHOT} snapshot variables, got {raw.shape[-1]}")
    return _minmax(raw, MINS[:N_SNAPSHOT], MAXS[:N_SNAPSHOT])


def to_model_inputs(norm153: FloatArray) -> npt.NDArray[np.float32]:
    """Turn 153 normalised variables into the 156 numbers the network takes.

    Inserts, after index 14, the means over the 46 steps of the normalised NDVI, temperature
    and precipitation series, in that order.

    Args:
        norm153: array of shape ``(N, 153)``.

    Returns:
        float32 array of shape ``(N, 156)``.
    """
    x = np.asarray(norm153, dtype=np.float32)
    if x.ndim != 2 or x.shape[1] != N_NORMALISED:
        raise InputError(
            f"expected an (N, {N_NORMALISED}) array of normalised variables, got {x.shape}"
        )
    series = x[:, N_SNAPSHOT:].reshape(-1, 3, N_STEPS)
    means = series.mean(axis=2, dtype=np.float64).astype(np.float32)
    return np.concatenate([x[:, :N_SNAPSHOT], means, x[:, N_SNAPSHOT:]], axis=1)


def split_model_inputs(
    x156: FloatArray,
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Split model inputs ``(N, 156)`` into the snapshot ``(N, 18)`` and series ``(N, 138)``."""
    x = np.asarray(x156, dtype=np.float32)
    return x[:, :N_MODEL_SNAPSHOT], x[:, N_MODEL_SNAPSHOT:]


def series_means(series138: FloatArray) -> npt.NDArray[np.float32]:
    """Means of the three normalised series: ``(N, 138) -> (N, 3)``."""
    s = np.asarray(series138, dtype=np.float32).reshape(-1, 3, N_STEPS)
    return s.mean(axis=2, dtype=np.float64).astype(np.float32)


def season_terms(doy: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Raw values of variables 3 and 4 from the day of year of the SAR acquisition."""
    angle = 2.0 * np.pi * np.asarray(doy, dtype=np.float64) / 365.0
    return np.sin(angle), np.cos(angle)


def aspect_terms(aspect_deg: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Raw values of variables 10 and 11 from the cell-mean aspect in degrees."""
    a = np.deg2rad(np.asarray(aspect_deg, dtype=np.float64))
    return np.sin(a), np.cos(a)


def grid_terms(row9: FloatArray, col9: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Raw values of variables 12-14 from the 0-based row and column of the 9 km EASE-2 cell."""
    row = (np.asarray(row9, dtype=np.float64) + 1.0) / EASE2_9KM_ROWS
    angle = 2.0 * np.pi * np.asarray(col9, dtype=np.float64) / EASE2_9KM_COLS
    return row, np.sin(angle), np.cos(angle)


def raw_snapshot(
    *,
    vv: FloatArray,
    vh: FloatArray,
    angle: FloatArray,
    doy: FloatArray,
    sand: FloatArray,
    clay: FloatArray,
    bdod: FloatArray,
    elevation: FloatArray,
    slope: FloatArray,
    aspect: FloatArray,
    row9: FloatArray,
    col9: FloatArray,
) -> npt.NDArray[np.float64]:
    """Assemble the 15 raw snapshot values from physical inputs (broadcast together).

    Args:
        vv, vh: backscatter in dB (mean of dB values over the cell).
        angle: incidence angle in degrees.
        doy: day of year of the SAR acquisition (1-366).
        sand, clay: g/kg; bdod: cg/cm3.
        elevation: m; slope: degrees; aspect: degrees (cell mean).
        row9, col9: 0-based row and column of the parent 9 km EASE-2 cell.

    Returns:
        array of shape ``broadcast_shape + (15,)``.
    """
    ds, dc = season_terms(doy)
    as_, ac = aspect_terms(aspect)
    r, cs, cc = grid_terms(row9, col9)
    parts = [vv, vh, angle, ds, dc, sand, clay, bdod, elevation, slope, as_, ac, r, cs, cc]
    arrays = np.broadcast_arrays(*[np.asarray(p, dtype=np.float64) for p in parts])
    return np.stack(arrays, axis=-1)


SNAPSHOT_NAMES: tuple[str, ...] = tuple(v[0] for v in _SNAPSHOT_VARIABLES)
"""Names of the 15 raw snapshot variables, in the raw (sample-table) order."""
SERIES_MEAN_NAMES: tuple[str, ...] = tuple(f"{name}_mean" for name in SERIES_NAMES)
"""Names of the three series means the network takes after the snapshot values."""


@dataclass(frozen=True)
class InputLayout:
    """How a model set's network takes its inputs: order, ranges, precipitation scale.

    Attributes:
        name: registry name, stored in a model set's manifest (``input_layout``).
        title: one line for people.
        snapshot: the 15 raw snapshot names (:data:`SNAPSHOT_NAMES`) in the order the network
            takes them.
        ranges: ``(min, max)`` of each entry of ``snapshot``, in the same order.
        precipitation_scale: factor applied to real daily precipitation totals (m/day) before
            normalisation, so that the series looks like what the weights were trained on.
        circular_aspect: aspect of a 9 km sample as the means of the sine and cosine of its
            cells' aspects (True), or as the sine and cosine of the mean aspect in degrees.
        evidence: where the layout comes from (shown in ``docs/input-contract.md``).

    """

    name: str
    title: str
    snapshot: tuple[str, ...]
    ranges: tuple[tuple[float, float], ...]
    precipitation_scale: float = 1.0
    circular_aspect: bool = False
    evidence: str = ""

    def __post_init__(self) -> None:
        if sorted(self.snapshot) != sorted(SNAPSHOT_NAMES):
            raise ValueError(
                f"layout {self.name!r}: snapshot must order exactly {SNAPSHOT_NAMES}, got "
                f"{self.snapshot}"
            )
        if len(self.ranges) != N_SNAPSHOT or any(hi <= lo for lo, hi in self.ranges):
            raise ValueError(f"layout {self.name!r}: needs 15 (min, max) ranges with max > min")
        if not self.precipitation_scale > 0:
            raise ValueError(f"layout {self.name!r}: precipitation_scale must be > 0")

    @property
    def order(self) -> npt.NDArray[np.int64]:
        """Raw snapshot index of each network position (``raw15[..., order]``)."""
        return np.array([SNAPSHOT_NAMES.index(n) for n in self.snapshot], dtype=np.int64)

    @property
    def input_names(self) -> tuple[str, ...]:
        """Names of the 18 snapshot inputs of the network, in its order."""
        return self.snapshot + SERIES_MEAN_NAMES

    def _bounds(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        lo = np.array([r[0] for r in self.ranges], dtype=np.float64)
        hi = np.array([r[1] for r in self.ranges], dtype=np.float64)
        return lo, hi

    def normalise_snapshot(self, raw15: FloatArray) -> npt.NDArray[np.float32]:
        """Raw snapshot values ``(..., 15)`` in the raw order -> normalised, in this layout."""
        raw = np.asarray(raw15, dtype=np.float64)
        if raw.shape[-1] != N_SNAPSHOT:
            raise InputError(f"expected {N_SNAPSHOT} snapshot variables, got {raw.shape[-1]}")
        lo, hi = self._bounds()
        return _minmax(raw[..., self.order], lo, hi)

    def normalise_series(self, values: FloatArray, name: str) -> npt.NDArray[np.float32]:
        """Normalise one raw series (any shape) for this layout (precipitation scaled)."""
        k = SERIES_NAMES.index(name)
        lo, hi = _SERIES[k][3], _SERIES[k][4]
        scale = self.precipitation_scale if name == "tp" else 1.0
        v = np.asarray(values, dtype=np.float64)
        return _minmax(v * scale if scale != 1.0 else v, lo, hi)

    def normalise(self, raw153: FloatArray) -> npt.NDArray[np.float32]:
        """Raw variables ``(..., 153)`` in the raw order -> 153 normalised, in this layout.

        The 15 snapshot values are reordered and normalised with this layout's ranges; the
        series keep their places (NDVI, temperature, precipitation) and precipitation is scaled
        by :attr:`precipitation_scale`. NaN stays NaN.
        """
        raw = np.asarray(raw153, dtype=np.float64)
        if raw.shape[-1] != N_NORMALISED:
            raise InputError(
                f"expected {N_NORMALISED} raw variables in the last axis, got {raw.shape[-1]}"
            )
        out = np.empty(raw.shape, dtype=np.float32)
        out[..., :N_SNAPSHOT] = self.normalise_snapshot(raw[..., :N_SNAPSHOT])
        for k, name in enumerate(SERIES_NAMES):
            sl = slice(N_SNAPSHOT + k * N_STEPS, N_SNAPSHOT + (k + 1) * N_STEPS)
            out[..., sl] = self.normalise_series(raw[..., sl], name)
        return out

    def model_inputs(self, raw153: FloatArray) -> npt.NDArray[np.float32]:
        """Raw variables ``(N, 153)`` -> the 156 network inputs of this layout."""
        return to_model_inputs(self.normalise(raw153))

    def physical(self, position: int, value: float) -> float:
        """The raw value a normalised snapshot input (``position`` 0..17) stands for.

        Series means (positions 15-17) come back in the series' units, precipitation divided
        by :attr:`precipitation_scale` (so in real m/day).
        """
        if position < N_SNAPSHOT:
            lo, hi = self.ranges[position]
            return float(value * (hi - lo) + lo)
        k = position - N_SNAPSHOT
        lo, hi = _SERIES[k][3], _SERIES[k][4]
        out = float(value * (hi - lo) + lo)
        return out / self.precipitation_scale if SERIES_NAMES[k] == "tp" else out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (stored in manifests and run reports)."""
        return {
            "name": self.name,
            "snapshot": list(self.snapshot),
            "ranges": [list(r) for r in self.ranges],
            "precipitation_scale": self.precipitation_scale,
            "circular_aspect": self.circular_aspect,
        }


_RAW_RANGES = {v.name: (v.min, v.max) for v in VARIABLES[:N_SNAPSHOT]}

AUTHORS_50M = InputLayout(
    name="authors_50m",
    title="the authors' 50 m preprocessing and paper table (raw order and ranges)",
    snapshot=SNAPSHOT_NAMES,
    ranges=tuple(_RAW_RANGES[n] for n in SNAPSHOT_NAMES),
    precipitation_scale=1.0,
    evidence="the authors' published 50 m preprocessing code and the 2024 paper's Table 2",
)

_NINE_KM_ORDER = (
    "vv", "vh", "angle", "sand", "clay", "bdod", "elevation", "slope",
    "aspect_sin", "aspect_cos", "row9", "col9_sin", "col9_cos", "doy_sin", "doy_cos",
)  # fmt: skip

DENSESM_9KM = InputLayout(
    name="densesm_9km",
    title="the published 9 km weights' own input statistics (day of year last, row in 0..1)",
    snapshot=_NINE_KM_ORDER,
    ranges=tuple((0.0, 1.0) if n == "row9" else _RAW_RANGES[n] for n in _NINE_KM_ORDER),
    precipitation_scale=10.0,
    circular_aspect=True,
    evidence="the BatchNorm statistics of the 25 published members (docs/input-contract.md)",
)

LAYOUTS: Mapping[str, InputLayout] = {lay.name: lay for lay in (DENSESM_9KM, AUTHORS_50M)}
"""Known input layouts by name."""
PUBLISHED_LAYOUT = DENSESM_9KM
"""The layout the published 9 km set is trained on (and the default of sets that name none)."""


def get_layout(name: str | InputLayout | None) -> InputLayout:
    """Look up an input layout by name (None: :data:`PUBLISHED_LAYOUT`).

    Raises:
        InputError: the name is not a known layout.
    """
    if name is None:
        return PUBLISHED_LAYOUT
    if isinstance(name, InputLayout):
        return name
    try:
        return LAYOUTS[str(name)]
    except KeyError:
        raise InputError(
            f"unknown input layout {name!r}; known layouts: {', '.join(LAYOUTS)}"
        ) from None


def layout_markdown() -> str:
    """The snapshot order and ranges of every layout, as a Markdown table.

    ``docs/input-contract.md`` embeds this table; a test keeps the two identical.
    """
    names = list(LAYOUTS)
    head = "| network input | " + " | ".join(f"`{n}`" for n in names) + " |"
    lines = [head, "|---|" + "---|" * len(names)]
    for pos in range(N_SNAPSHOT):
        cells = []
        for n in names:
            lay = LAYOUTS[n]
            lo, hi = lay.ranges[pos]
            cells.append(f"{lay.snapshot[pos]} ({lo:g}..{hi:g})")
        lines.append(f"| {pos} | " + " | ".join(cells) + " |")
    for k, mean_name in enumerate(SERIES_MEAN_NAMES):
        lines.append(f"| {N_SNAPSHOT + k} | " + " | ".join([mean_name] * len(names)) + " |")
    scales = " | ".join(f"x {LAYOUTS[n].precipitation_scale:g}" for n in names)
    lines.append(f"| precipitation scale | {scales} |")
    aspect = " | ".join(
        "mean of sin, cos" if LAYOUTS[n].circular_aspect else "sin, cos of mean" for n in names
    )
    lines.append(f"| aspect of a 9 km sample | {aspect} |")
    return "\n".join(lines) + "\n"


def markdown_table() -> str:
    """Render the variable table (series collapsed to one row each) as Markdown.

    ``docs/input-contract.md`` embeds this table; a test keeps the two identical.
    """
    lines = ["| index | name | variable | unit | min | max |", "|---|---|---|---|---|---|"]
    for v in VARIABLES[:N_SNAPSHOT]:
        lines.append(
            f"| {v.index} | {v.name} | {v.description} | {v.unit} | {v.min:g} | {v.max:g} |"
        )
    for k, (name, desc, unit, lo, hi) in enumerate(_SERIES):
        first = N_SNAPSHOT + k * N_STEPS
        lines.append(
            f"| {first}-{first + N_STEPS - 1} | {name}_00..{name}_45 "
            f"| {desc}, 46 steps, oldest first "
            f"| {unit} | {lo:g} | {hi:g} |"
        )
    return "\n".join(lines) + "\n"
