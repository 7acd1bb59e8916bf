"""Checks of a sample table: its header, and tallies of bad values that become one clear message.

:func:`_check_columns` refuses a header without the 153 feature columns (or with the 156 model
inputs, or without a needed label); :class:`_Problems` counts NaN and out-of-range features and
labels block by block while reading, and :func:`_raise_problems` turns the tallies into the
first error a user should fix.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ...errors import InputError
from ..contract import LABEL_COLUMN, N_INPUTS, N_NORMALISED
from .table import F32

LABEL_RANGE = (0.0, 1.0)
"""Allowed label values, m3/m3."""
RANGE_TOLERANCE = 1e-5
"""Feature values this far outside [0, 1] (rounding in the writer) are clipped, not refused."""
_MAX_ROWS_SHOWN = 5


def _format_rows(rows: Sequence[int], total: int) -> str:
    shown = ", ".join(str(r) for r in rows[:_MAX_ROWS_SHOWN])
    return shown + (", ..." if total > len(rows[:_MAX_ROWS_SHOWN]) else "")


def _ranges(indices: Sequence[int]) -> str:
    """Format sorted integers as ``0..10, 12, 14..152``."""
    parts: list[str] = []
    start = prev = None
    for i in indices:
        if start is None:
            start = prev = i
        elif prev is not None and i == prev + 1:
            prev = i
        else:
            parts.append(f"{start}" if start == prev else f"{start}..{prev}")
            start = prev = i
    if start is not None:
        parts.append(f"{start}" if start == prev else f"{start}..{prev}")
    return ", ".join(parts)


def _check_columns(path: Path, names: Sequence[str], require_label: bool, role: str) -> None:
    """Check the header: all 153 feature columns, no 156-input layout, the label if needed."""
    seen: set[str] = set()
    dupes = sorted({n for n in names if n in seen or seen.add(n)})  # type: ignore[func-returns-value]
    if dupes:
        raise InputError(f"file {path} has duplicate columns: {', '.join(map(repr, dupes))}")
    present = [i for i in range(N_NORMALISED) if str(i) in seen]
    numeric_beyond = sorted(
        int(n) for n in names if re.fullmatch(r"\d+", n) and int(n) >= N_NORMALISED
    )
    contract = (
        f'the DenseSM input contract needs {N_NORMALISED} normalised columns "0".."'
        f'{N_NORMALISED - 1}" (see docs/input-contract.md)'
    )
    if len(present) < N_NORMALISED:
        if not present:
            found = ", ".join(repr(n) for n in list(names)[:8])
            found += ", ..." if len(names) > 8 else ""
            raise InputError(
                f"file {path} has no feature columns (found {found or 'no columns'}); {contract}"
            )
        missing = [i for i in range(N_NORMALISED) if str(i) not in seen]
        raise InputError(
            f"file {path} has feature columns {_ranges(present)}; {contract}. "
            f"Missing: {_ranges(missing)}."
        )
    if numeric_beyond:
        raise InputError(
            f'file {path} has numbered columns beyond "{N_NORMALISED - 1}" '
            f"({_ranges(numeric_beyond)}): it looks like a table of the {N_INPUTS} model inputs "
            f"(series means inserted), but sample tables hold the {N_NORMALISED} normalised "
            f'variables "0".."{N_NORMALISED - 1}" (see docs/input-contract.md)'
        )
    if require_label and LABEL_COLUMN not in seen:
        raise InputError(
            f'file {path} has no "{LABEL_COLUMN}" label column: the {role} set needs labels '
            "(soil moisture in m3/m3)"
        )


@dataclass
class _Problems:
    """Running tallies of bad rows over the blocks of one table."""

    nan_rows: int = 0
    nan_first: list[int] = field(default_factory=list)
    nan_cols: set[int] = field(default_factory=set)
    range_values: int = 0
    range_rows: int = 0
    range_first: list[int] = field(default_factory=list)
    range_example: tuple[int, int, float] | None = None
    range_cols: set[int] = field(default_factory=set)
    label_nan: int = 0
    label_nan_first: list[int] = field(default_factory=list)
    label_bad: int = 0
    label_bad_first: list[int] = field(default_factory=list)
    label_min: float = np.inf
    label_max: float = -np.inf

    def features(self, x: F32, offset: int) -> None:
        """Check an ``(b, 153)`` block of table rows ``offset..``; clip tiny overshoots."""
        nan = np.isnan(x)
        rows = np.flatnonzero(nan.any(axis=1))
        if rows.size:
            self.nan_rows += int(rows.size)
            self._first(self.nan_first, rows, offset)
            self.nan_cols.update(np.flatnonzero(nan.any(axis=0)).tolist())
        del nan
        lo, hi = -RANGE_TOLERANCE, 1.0 + RANGE_TOLERANCE
        out = (x < lo) | (x > hi)
        rows = np.flatnonzero(out.any(axis=1))
        if rows.size:
            self.range_values += int(out.sum())
            self.range_rows += int(rows.size)
            self._first(self.range_first, rows, offset)
            self.range_cols.update(np.flatnonzero(out.any(axis=0)).tolist())
            if self.range_example is None:
                r = int(rows[0])
                c = int(np.flatnonzero(out[r])[0])
                self.range_example = (r + offset + 1, c, float(x[r, c]))
        np.clip(x, 0.0, 1.0, out=x)  # NaN stays NaN; only tolerance-sized overshoots remain

    def labels(self, y: F32, offset: int) -> None:
        """Check labels of table rows ``offset..``."""
        nan = np.isnan(y)
        rows = np.flatnonzero(nan)
        if rows.size:
            self.label_nan += int(rows.size)
            self._first(self.label_nan_first, rows, offset)
        lo, hi = LABEL_RANGE
        bad = np.flatnonzero(~nan & ((y < lo) | (y > hi)))
        if bad.size:
            self.label_bad += int(bad.size)
            self._first(self.label_bad_first, bad, offset)
        if (~nan).any():
            self.label_min = min(self.label_min, float(np.nanmin(y)))
            self.label_max = max(self.label_max, float(np.nanmax(y)))

    @staticmethod
    def _first(store: list[int], rows: npt.NDArray[np.intp], offset: int) -> None:
        need = _MAX_ROWS_SHOWN + 1 - len(store)
        if need > 0:
            store.extend(int(r) + offset + 1 for r in rows[:need])


def _raise_problems(
    path: Path, role: str, n: int, p: _Problems, require_label: bool, has_label: bool
) -> None:
    if p.nan_rows:
        cols = _ranges(sorted(p.nan_cols))
        raise InputError(
            f"file {path}: {p.nan_rows} of {n} rows of the {role} set have missing (NaN) feature "
            f"values, first at data rows {_format_rows(p.nan_first, p.nan_rows)} (columns {cols}). "
            "Drop or fill these rows."
        )
    if p.range_values:
        assert p.range_example is not None
        row, col, value = p.range_example
        raise InputError(
            f"file {path}: {p.range_values} feature values in {p.range_rows} rows are outside "
            f'[0, 1] (columns {_ranges(sorted(p.range_cols))}; e.g. column "{col}" = {value:g} '
            f"in data row {row}; rows {_format_rows(p.range_first, p.range_rows)}): the table is "
            "not normalised. Normalise raw values with the ranges of docs/input-contract.md "
            "(core.features.contract.normalise)."
        )
    if not has_label:
        return
    if require_label and p.label_nan:
        raise InputError(
            f'file {path}: {p.label_nan} of {n} rows of the {role} set have no "{LABEL_COLUMN}" '
            f"label (NaN), first at data rows {_format_rows(p.label_nan_first, p.label_nan)}. "
            "Drop these rows or give their soil moisture."
        )
    if p.label_bad:
        lo, hi = LABEL_RANGE
        if p.label_max > hi and p.label_max <= 100.0 and p.label_min >= 0.0:
            hint = " % values? divide by 100."
        elif p.label_min < lo:
            hint = " Negative values (no-data flags such as -9999?) must be removed."
        else:
            hint = ""
        raise InputError(
            f'file {path}: {p.label_bad} "{LABEL_COLUMN}" labels of the {role} set are outside '
            f"{lo:g}-{hi:g} m3/m3 (range found {p.label_min:g} to {p.label_max:g}), first at data "
            f"rows {_format_rows(p.label_bad_first, p.label_bad)}; labels are volumetric soil "
            f"moisture in m3/m3.{hint}"
        )
