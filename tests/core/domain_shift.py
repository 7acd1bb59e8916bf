"""A controlled domain-shift problem with known truth, for the transfer-method tests.

The 50 m truth is ``T(x) = f0(x) + d(x)``: f0 the pretrained ensemble and
``d(x) = 0.05 + 0.25 (x3 - m3) + 0.3 (x0 - m0)`` a shift the 9 km training never saw (a
texture-dependent offset, input 3 being sand in the published layout, and a stronger radar
sensitivity, input 0 being VV). Labelled 50 m samples come from a few station sites (fixed static
inputs, varying dates) and carry a fixed offset per station (representativeness) plus sensor
noise. Labelled 9 km samples cover the region with smoother inputs (aggregates) and SMAP-like
labels whose error is *not* the 50 m shift: the truth plus a bias of +0.03, a radar sensitivity
of its own (``-0.2 (x0 - m0)``) and noise of 0.03. The 9 km term therefore helps with the shift
where the stations say little and pulls toward SMAP's own error; the domain term aligns the
features of the station cells with those of the whole area. Each term changes the result in its
own way, so the four methods can be told apart. The unlabelled target is the area's 50 m cells,
with the full range of inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.features.contract import N_MODEL_SNAPSHOT, to_model_inputs

STATIC = slice(3, 13)
"""Snapshot positions that stay fixed at a station (soil, terrain, position)."""
SMAP_BIAS = 0.03
SMAP_NOISE = 0.03
STATION_OFFSET = 0.015
SENSOR_NOISE = 0.01


def shift(x156: np.ndarray) -> np.ndarray:
    """The 50 m truth's departure from the pretrained ensemble."""
    return 0.05 + 0.25 * (x156[:, 3] - SNAPSHOT_MEAN[3]) + 0.3 * (x156[:, 0] - SNAPSHOT_MEAN[0])


def smap_error(x156: np.ndarray) -> np.ndarray:
    """The systematic part of the 9 km labels' error (not the 50 m shift)."""
    return SMAP_BIAS - 0.2 * (x156[:, 0] - SNAPSHOT_MEAN[0])


@dataclass
class Problem:
    fine_x: np.ndarray
    fine_y: np.ndarray
    fine_station: np.ndarray
    coarse_x: np.ndarray
    coarse_y: np.ndarray
    coarse_truth: np.ndarray
    target_x: np.ndarray
    target_y: np.ndarray


# Means and standard deviations of the 18 snapshot inputs as the published members saw them
# during pretraining (their `norm` BatchNorm running statistics, averaged over the 25 members).
# Drawing inputs like these keeps the problem inside the data distribution the weights know.
SNAPSHOT_MEAN = np.array(
    [
        0.516,
        0.443,
        0.542,
        0.436,
        0.203,
        0.28,
        0.244,
        0.204,
        0.5,
        0.517,
        0.18,
        0.743,
        0.498,
        0.451,
        0.451,
        0.495,
        0.442,
        0.069,
    ]
)
SNAPSHOT_STD = np.array(
    [
        0.067,
        0.098,
        0.248,
        0.188,
        0.087,
        0.182,
        0.223,
        0.159,
        0.062,
        0.065,
        0.077,
        0.319,
        0.298,
        0.338,
        0.338,
        0.13,
        0.132,
        0.038,
    ]
)


def _inputs(
    rng: np.random.Generator, n: int, static: np.ndarray | None, smooth: bool
) -> np.ndarray:
    scale = 0.6 if smooth else 1.0
    raw = np.empty((n, 153))
    raw[:, :15] = rng.normal(SNAPSHOT_MEAN[:15], SNAPSHOT_STD[:15] * scale, size=(n, 15))
    if static is not None:
        raw[:, STATIC] = static
    t = np.linspace(0, 2 * np.pi, 46)
    for k in range(3):
        mean = rng.normal(SNAPSHOT_MEAN[15 + k], SNAPSHOT_STD[15 + k] * scale, size=(n, 1))
        phase = rng.uniform(0, 2 * np.pi, size=(n, 1))
        amp = rng.uniform(0.02, 0.15, size=(n, 1))
        raw[:, 15 + 46 * k : 15 + 46 * (k + 1)] = mean + amp * np.sin(t + phase)
    return to_model_inputs(np.clip(raw, 0.0, 1.0).astype(np.float32))


def make_problem(truth_fn, n_stations: int = 5, dates: int = 40, seed: int = 0) -> Problem:
    """Build the problem; ``truth_fn(x156) -> f0`` is the pretrained ensemble mean."""
    rng = np.random.default_rng(seed)
    fine, station = [], []
    for s in range(n_stations):
        static = np.clip(rng.normal(SNAPSHOT_MEAN[STATIC], SNAPSHOT_STD[STATIC]), 0, 1)
        fine.append(_inputs(rng, dates, static, smooth=False))
        station += [f"site{s}"] * dates
    fine_x = np.concatenate(fine)
    coarse_x = _inputs(rng, 800, None, smooth=True)
    target_x = _inputs(rng, 4000, None, smooth=False)

    def truth(x: np.ndarray) -> np.ndarray:
        return np.clip(truth_fn(x) + shift(x), 0.02, 0.6).astype(np.float32)

    offsets = np.repeat(rng.normal(0.0, STATION_OFFSET, n_stations), dates)
    sensor = rng.normal(0.0, SENSOR_NOISE, len(fine_x))
    fine_y = np.clip(truth(fine_x) + offsets + sensor, 0.01, 0.99).astype(np.float32)
    coarse_truth = truth(coarse_x)
    smap = coarse_truth + smap_error(coarse_x) + rng.normal(0.0, SMAP_NOISE, len(coarse_x))
    coarse_y = np.clip(smap, 0.01, 0.99).astype(np.float32)
    return Problem(
        fine_x,
        fine_y,
        np.array(station),
        coarse_x,
        coarse_y,
        coarse_truth,
        target_x,
        truth(target_x),
    )


def rmse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(np.mean((a - b) ** 2)))


__all__ = ["N_MODEL_SNAPSHOT", "Problem", "make_problem", "rmse", "shift", "smap_error"]
