"""Readers of sample table files: Parquet, CSV with pyarrow, and CSV with pandas as the fallback.

A reader yields *parts*: (rows, feature getter, labels or None, metadata part). The getter
returns one feature column ("0".."152") of the part as a 1-D array. Features are written
straight into one preallocated (N, 156) float32 array (N known for Parquet, an upper bound from
the line count for CSV, so untouched rows cost no memory), then turned into model inputs block
by block with contract.to_model_inputs. No per-batch copies are kept, which keeps the peak
near the size of the result.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ...errors import InputError
from ..contract import LABEL_COLUMN, SAMPLE_COLUMNS
from .checks import _check_columns
from .table import F32

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

_BATCH_ROWS = 65_536
_CSV_BLOCK_BYTES = 4 * 1024**2  # larger blocks raise the peak (parser buffers) for no speed gain

_Part = tuple[int, Callable[[str], Any], "F32 | None", Any]


@dataclass
class _Reader:
    capacity: int
    parts: Iterator[_Part]
    has_label: bool
    meta_kind: str  # "arrow" or "pandas"
    meta_cols: list[str]


def _float_types(pa: Any, names: Sequence[str]) -> dict[str, Any]:
    wanted = set(SAMPLE_COLUMNS) | {LABEL_COLUMN}
    return {n: pa.float32() for n in names if n in wanted}


def _parquet_reader(path: Path, require_label: bool, role: str) -> _Reader:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:  # pragma: no cover - pyarrow is a requirement
        raise InputError(f"reading Parquet file {path} needs the pyarrow package") from exc
    try:
        pf = pq.ParquetFile(path)
        names = list(pf.schema_arrow.names)
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"file {path} cannot be read as Parquet: {exc}") from exc
    _check_columns(path, names, require_label, role)
    has_label = LABEL_COLUMN in names
    feature_set = set(SAMPLE_COLUMNS) | {LABEL_COLUMN}
    meta_cols = [n for n in names if n not in feature_set]
    for name in list(SAMPLE_COLUMNS) + ([LABEL_COLUMN] if has_label else []):
        typ = pf.schema_arrow.field(name).type
        if not (pa.types.is_floating(typ) or pa.types.is_integer(typ) or pa.types.is_null(typ)):
            raise InputError(
                f'file {path}: column "{name}" holds {typ} values; feature and label columns '
                "must be numeric"
            )
    n_rows = int(pf.metadata.num_rows)

    def column(name: str) -> Any:
        # One column at a time: Parquet is columnar, so this never holds more than one
        # decoded column besides the result.
        try:
            col = pf.read(columns=[name]).column(0)
        except (OSError, pa.ArrowException) as exc:
            raise InputError(f"file {path} cannot be read as Parquet: {exc}") from exc
        return col.to_numpy().astype(np.float32, copy=False)

    def parts() -> Iterator[_Part]:
        y = column(LABEL_COLUMN) if has_label else None
        try:
            meta = pf.read(columns=meta_cols) if meta_cols else None
        except (OSError, pa.ArrowException) as exc:
            raise InputError(f"file {path} cannot be read as Parquet: {exc}") from exc
        yield n_rows, column, y, meta

    return _Reader(n_rows, parts(), has_label, "arrow", meta_cols)


def _count_lines(path: Path) -> int:
    """Count newlines (+1): an upper bound of the data rows of a CSV file."""
    import gzip

    opener: Any = gzip.open if path.name.lower().endswith(".gz") else open
    count = 1
    try:
        with opener(path, "rb") as f:
            while chunk := f.read(16 * 1024**2):
                count += chunk.count(b"\n")
    except (OSError, EOFError) as exc:
        raise InputError(f"file {path} cannot be read as CSV: {exc}") from exc
    return count


def _csv_reader(
    path: Path, require_label: bool, role: str, text_columns: frozenset[str] = frozenset()
) -> _Reader:
    try:
        import pyarrow as pa
        import pyarrow.csv as pacsv
    except ImportError:  # pragma: no cover - fallback for environments without pyarrow
        return _pandas_csv_reader(path, require_label, role)
    header = _csv_header(path)
    _check_columns(path, header, require_label, role)
    has_label = LABEL_COLUMN in header
    feature_set = set(SAMPLE_COLUMNS) | {LABEL_COLUMN}
    meta_cols = [n for n in header if n not in feature_set]
    types = _float_types(pa, header)
    types.update({n: pa.string() for n in meta_cols if n in text_columns})
    capacity = _count_lines(path)
    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(block_size=_CSV_BLOCK_BYTES),
            convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=False),
        )
    except (OSError, pa.ArrowException) as exc:
        raise _csv_error(path, header, exc) from exc

    def parts() -> Iterator[_Part]:
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                return
            except (OSError, pa.ArrowException) as exc:
                raise _csv_error(path, header, exc) from exc

            def column(name: str, batch: Any = batch) -> Any:
                return batch.column(name).to_numpy(zero_copy_only=False)

            y = column(LABEL_COLUMN).astype(np.float32) if has_label else None
            yield batch.num_rows, column, y, batch.select(meta_cols)

    return _Reader(capacity, parts(), has_label, "arrow", meta_cols)


class _MetaTypeChanged(InputError):
    """A metadata column's inferred type did not hold for later rows (retry it as text)."""

    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column


def _csv_error(path: Path, header: Sequence[str], exc: Exception) -> InputError:
    text = str(exc)
    m = re.search(r"column #(\d+)", text)
    if m and int(m.group(1)) < len(header):
        name = header[int(m.group(1))]
        if name in SAMPLE_COLUMNS or name == LABEL_COLUMN:
            return InputError(
                f'file {path}: column "{name}" holds a non-numeric value ({text}); feature and '
                "label columns must be numbers"
            )
        return _MetaTypeChanged(name, text)
    return InputError(f"file {path} cannot be read as CSV: {text}")


def _csv_header(path: Path) -> list[str]:
    """Read the header line of a CSV file (plain or gzip)."""
    import csv
    import gzip

    opener: Any = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="") as f:
            header = next(csv.reader(f), None)
    except (OSError, UnicodeDecodeError, csv.Error, EOFError) as exc:
        raise InputError(f"file {path} cannot be read as CSV: {exc}") from exc
    if not header:
        raise InputError(f"file {path} is empty (no header line); expected a CSV sample table")
    return header


def _pandas_csv_reader(path: Path, require_label: bool, role: str) -> _Reader:
    import pandas as pd

    header = _csv_header(path)
    _check_columns(path, header, require_label, role)
    has_label = LABEL_COLUMN in header
    dtypes = {n: np.float32 for n in header if n in set(SAMPLE_COLUMNS) | {LABEL_COLUMN}}
    meta_cols = [n for n in header if n not in dtypes]
    capacity = _count_lines(path)

    def parts() -> Iterator[_Part]:
        try:
            chunks = pd.read_csv(path, dtype=dtypes, chunksize=_BATCH_ROWS)  # type: ignore[arg-type]
            for chunk in chunks:

                def column(name: str, chunk: pd.DataFrame = chunk) -> Any:
                    return chunk[name].to_numpy(dtype=np.float32)

                y = chunk[LABEL_COLUMN].to_numpy(dtype=np.float32) if has_label else None
                yield len(chunk), column, y, chunk[meta_cols].reset_index(drop=True)
        except (ValueError, pd.errors.ParserError) as exc:
            raise InputError(f"file {path} cannot be read as CSV: {exc}") from exc

    return _Reader(capacity, parts(), has_label, "pandas", meta_cols)
