"""Reading a sample table: the streamed load into model inputs, labels and metadata.

:func:`read_samples` picks the reader by file type, fills one preallocated ``(N, 156)`` array
part by part (checking every block on the way), retries a CSV whose metadata column changes type,
and raises the first problem found in words a user can act on.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ...errors import InputError
from ...progress import NULL_PROGRESS, Progress
from ..contract import N_INPUTS, N_NORMALISED, N_SNAPSHOT, SAMPLE_COLUMNS, to_model_inputs
from . import readers
from .checks import _Problems, _raise_problems
from .readers import _BATCH_ROWS, _MetaTypeChanged, _Reader
from .table import F32, SampleTable, _table_format

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

_DEST = np.array([i if i < N_SNAPSHOT else i + 3 for i in range(N_NORMALISED)])
"""Position of table column i ("0".."152") in the 156 model inputs (series means inserted)."""


def read_samples(
    path: str | Path,
    require_label: bool,
    role: str,
    progress: Progress | None = None,
) -> SampleTable:
    """Read and validate a sample table (CSV or Parquet) in the authors' layout.

    Args:
        path: a ``.csv``, ``.csv.gz``, ``.parquet`` or ``.pq`` file with columns ``"0"``..
            ``"152"`` (normalised variables), optionally ``"gt"`` (m3/m3) and metadata columns.
        require_label: the ``"gt"`` column must be present and complete (training sets).
        role: what the table is for, used in messages, e.g. ``"fine (50 m)"``,
            ``"coarse (9 km)"``, ``"target"``.
        progress: optional progress reporter (a message per batch, cancellable).

    Returns:
        The validated :class:`SampleTable`. Row numbers in error messages count data rows
        from 1 (the header is not counted).

    Raises:
        InputError: unknown file type, unreadable file, missing or extra feature columns,
            non-numeric, NaN or out-of-range feature values, missing or invalid labels, or an
            empty table.
        Cancelled: the user cancelled.

    """
    progress = progress or NULL_PROGRESS
    path = Path(path).expanduser()
    fmt = _table_format(path)
    if not path.exists():
        raise InputError(f"file {path} does not exist")
    if not path.is_file():
        raise InputError(f"{path} is not a file (expected a CSV or Parquet sample table)")

    # A CSV metadata column typed from the first block (e.g. numeric station ids) may meet a
    # value of another type later: read again with that column as text.
    text_columns: frozenset[str] = frozenset()
    while True:
        try:
            if fmt == "parquet":
                reader = readers._parquet_reader(path, require_label, role)
            else:
                reader = readers._csv_reader(path, require_label, role, text_columns)
            x156, ys, meta_parts, problems = _load(path, reader, progress)
            break
        except _MetaTypeChanged as exc:
            if exc.column in text_columns:
                raise InputError(f"file {path} cannot be read as CSV: {exc}") from exc
            text_columns = text_columns | {exc.column}

    n = int(x156.shape[0])
    if n == 0:
        need = (
            "at least one labelled station sample is needed"
            if require_label
            else ("at least one sample is needed")
        )
        raise InputError(f"the {role} set is empty ({path} has no data rows): {need}")
    _raise_problems(path, role, n, problems, require_label, reader.has_label)
    y = None
    if reader.has_label:
        y = np.concatenate(ys).astype(np.float32, copy=False) if ys else np.empty(0, np.float32)
    meta = _combine_meta(reader, meta_parts, n)
    return SampleTable(x156=x156, y=y, meta=meta, path=path, role=role)


def _load(
    path: Path, reader: _Reader, progress: Progress
) -> tuple[F32, list[F32], list[Any], _Problems]:
    out = np.empty((reader.capacity, N_INPUTS), dtype=np.float32)
    ys: list[F32] = []
    meta_parts: list[Any] = []
    problems = _Problems()
    offset = 0
    for rows, column, y, meta in reader.parts:
        progress.check()
        if offset + rows > out.shape[0]:  # more rows than lines counted: grow (rare)
            grown = np.empty((max(out.shape[0] * 3 // 2, offset + rows), N_INPUTS), np.float32)
            grown[:offset] = out[:offset]
            out = grown
        for j, name in enumerate(SAMPLE_COLUMNS):
            if j % 32 == 0:
                progress.check()
            out[offset : offset + rows, _DEST[j]] = column(name)
        for a in range(offset, offset + rows, _BATCH_ROWS):
            b = min(offset + rows, a + _BATCH_ROWS)
            progress.check()
            block = out[a:b, _DEST]  # (b - a, 153) copy, in table order
            problems.features(block, a)
            out[a:b] = to_model_inputs(block)
            del block
        if y is not None:
            problems.labels(y, offset)
            ys.append(y)
        meta_parts.append(meta)
        offset += rows
        if reader.capacity and reader.meta_kind == "arrow":
            progress.fraction(min(offset / reader.capacity, 1.0))
        progress.message(f"read {offset:,} samples from {path.name}")
    return out[:offset], ys, meta_parts, problems


def _combine_meta(reader: _Reader, parts: list[Any], n: int) -> pd.DataFrame:
    import pandas as pd

    parts = [p for p in parts if p is not None]
    if not reader.meta_cols or not parts:
        return pd.DataFrame(index=pd.RangeIndex(n))
    if reader.meta_kind == "pandas":
        return pd.concat(parts, ignore_index=True)
    import pyarrow as pa

    tables = [pa.Table.from_batches([p]) if isinstance(p, pa.RecordBatch) else p for p in parts]
    table = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
    return table.to_pandas().reset_index(drop=True)
