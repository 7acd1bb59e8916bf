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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .errors import InputError

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
