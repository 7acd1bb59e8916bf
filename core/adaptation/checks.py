"""Checks of the sample arrays an adaptation or pretraining is given, before any training."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from ..errors import InputError
from ..features.contract import N_INPUTS

F32 = npt.NDArray[np.float32]


def _rows_where(
    arr: F32, test: Callable[[F32], npt.NDArray[np.bool_]], block: int = 65_536
) -> npt.NDArray[np.int64]:
    """Rows of ``arr`` where ``test`` is true for any value, checked in blocks of rows.

    A million-cell target is 0.6 GB; whole-array masks would add a quarter of that per mask.
    """
    found = [
        np.flatnonzero(test(arr[start : start + block]).any(axis=1)) + start
        for start in range(0, len(arr), block)
    ]
    return np.concatenate(found) if found else np.empty(0, dtype=np.int64)


def check_inputs(x: npt.ArrayLike, name: str) -> F32:
    """Validate ``(N, 156)`` normalised model inputs; returns a float32 array."""
    arr = np.asarray(x, dtype=np.float32)
    if arr.ndim != 2 or arr.shape[1] != N_INPUTS:
        cols = arr.shape[1] if arr.ndim == 2 else "?"
        raise InputError(
            f"the {name} set has {cols} model inputs per sample; DenseSM needs {N_INPUTS} "
            "(153 normalised variables plus 3 series means, see docs/input-contract.md)"
        )
    rows = _rows_where(arr, lambda block: ~np.isfinite(block))
    if len(rows):
        raise InputError(
            f"the {name} set has {len(rows)} samples with NaN or infinite inputs "
            f"(first rows: {', '.join(map(str, rows[:5]))}); remove or fill them"
        )
    tol = 1e-4
    rows = _rows_where(arr, lambda block: (block < -tol) | (block > 1 + tol))
    if len(rows):
        raise InputError(
            f"the {name} set has {len(rows)} samples with inputs outside [0, 1] "
            f"(first rows: {', '.join(map(str, rows[:5]))}); inputs must be normalised with the "
            "input contract"
        )
    return arr


def check_labels(y: npt.ArrayLike, n: int, name: str) -> F32:
    """Validate soil moisture labels in m3/m3 for ``n`` samples."""
    arr = np.asarray(y, dtype=np.float32).reshape(-1)
    if arr.shape[0] != n:
        raise InputError(f"the {name} set has {n} samples but {arr.shape[0]} labels")
    bad = ~np.isfinite(arr)
    if bad.any():
        rows = np.flatnonzero(bad)
        raise InputError(
            f"the {name} set has {len(rows)} missing labels "
            f"(first rows: {', '.join(map(str, rows[:5]))})"
        )
    out = (arr < 0) | (arr > 1)
    if out.any():
        rows = np.flatnonzero(out)
        raise InputError(
            f"the {name} set has {len(rows)} labels outside 0-1 m3/m3 (first rows: "
            f"{', '.join(map(str, rows[:5]))}, e.g. {arr[rows[0]]:g}); are they in %? divide by 100"
        )
    return arr
