"""Step 5, SMAP-like values: the retrieval error, the overpass gaps, and the value on a date.

The simulated 9 km values are block means of the truth plus a bias and a retrieval error sized
like SMAP's against dense in-situ networks (Colliander et al. 2017, Chan et al. 2018), present on
about two days in three, and interpolated linearly to a scene's date.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np

from .area import DEMO_COLS, DEMO_ROWS, F32, F64

SMAP_BIAS = 0.02
"""Mean bias of the simulated SMAP values against the truth block means, m3/m3."""
SMAP_CELL_BIAS = 0.015
"""Standard deviation of each 9 km cell's own fixed SMAP offset around the mean bias, m3/m3."""
SMAP_NOISE = 0.04
"""Standard deviation of the simulated SMAP retrieval error (its unbiased RMSE), m3/m3."""
SMAP_PERSISTENT = 0.55
"""Share of the retrieval error variance in the persistent (AR(1)) part."""
SMAP_AR1 = 0.8
"""Lag-one-day correlation of the persistent part of the SMAP error."""


def smap_error(rng: np.random.Generator, n_days: int) -> F64:
    """Simulated SMAP retrieval error of the demo area's 9 km cells, ``(n_days, rows, cols)``.

    The mean bias :data:`SMAP_BIAS`, a fixed offset per cell (sd :data:`SMAP_CELL_BIAS`), and an
    unbiased error of sd :data:`SMAP_NOISE`: a stationary AR(1) part (lag-one-day correlation
    :data:`SMAP_AR1`, :data:`SMAP_PERSISTENT` of the variance) plus independent daily noise.
    """
    shape = (DEMO_ROWS, DEMO_COLS)
    offset = SMAP_BIAS + rng.normal(0.0, SMAP_CELL_BIAS, size=shape)
    sd_ar = SMAP_NOISE * math.sqrt(SMAP_PERSISTENT)
    sd_white = SMAP_NOISE * math.sqrt(1.0 - SMAP_PERSISTENT)
    innovations = rng.normal(0.0, sd_ar * math.sqrt(1.0 - SMAP_AR1**2), size=(n_days, *shape))
    ar = np.empty((n_days, *shape))
    ar[0] = rng.normal(0.0, sd_ar, size=shape)
    for i in range(1, n_days):
        ar[i] = SMAP_AR1 * ar[i - 1] + innovations[i]
    return offset + ar + rng.normal(0.0, sd_white, size=(n_days, *shape))


def _smap_series(rng: np.random.Generator, truth9: F64) -> F64:
    """Daily SMAP-like values from the truth block means ``(T, 2, 2)``; NaN without an overpass."""
    n = truth9.shape[0]
    overpass = rng.random((n, DEMO_ROWS, DEMO_COLS)) < 0.7
    return np.where(overpass, np.clip(truth9 + smap_error(rng, n), 0.02, 0.6), np.nan)


def _smap_on(days: list[dt.date], smap9: F64, date: dt.date) -> F32:
    """The daily series with gaps, interpolated linearly to ``date``: ``(2, 2)`` float32."""
    ords = np.array([d.toordinal() for d in days], dtype=np.float64)
    smap = np.empty((DEMO_ROWS, DEMO_COLS), dtype=np.float32)
    for i in range(DEMO_ROWS):
        for j in range(DEMO_COLS):
            ok = np.isfinite(smap9[:, i, j])
            smap[i, j] = np.interp(date.toordinal(), ords[ok], smap9[ok, i, j])
    return smap
