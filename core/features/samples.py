"""Sample tables in the authors' layout (CSV or Parquet), read, validated and written.

A sample table holds the 153 normalised variables of the DenseSM input contract in columns
``"0"`` ... ``"152"`` (see ``docs/input-contract.md``), the label in ``"gt"`` (m3/m3: in-situ daily
mean at 50 m, or SMAP at 9 km) and any number of metadata columns (``network``, ``station``,
``r``, ``c``, a date, ...). :func:`read_samples` turns one into model inputs ``(N, 156)`` and
labels, refusing tables that would silently give nonsense (missing or extra feature columns, NaNs,
values that are not normalised, labels in percent). :func:`write_predictions` writes ensemble
predictions beside the metadata.

Reading is streamed: Parquet row groups and CSV blocks are converted batch by batch straight to
float32, so a table of a million rows needs about the size of its float32 inputs (~0.6 GB) plus
its metadata. pyarrow does the reading; pandas is the fallback for CSV where pyarrow is missing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..atomic import atomic_path
from ..errors import InputError
from ..progress import NULL_PROGRESS, Progress
from .contract import (
    LABEL_COLUMN,
    N_INPUTS,
    N_NORMALISED,
    N_SNAPSHOT,
    SAMPLE_COLUMNS,
    to_model_inputs,
)

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

F32 = npt.NDArray[np.float32]

CSV_SUFFIXES = (".csv", ".csv.gz")
PARQUET_SUFFIXES = (".parquet", ".pq")
LABEL_RANGE = (0.0, 1.0)
"""Allowed label values, m3/m3."""
RANGE_TOLERANCE = 1e-5
"""Feature values this far outside [0, 1] (rounding in the writer) are clipped, not refused."""
PREDICTION_COLUMNS = ("sm_mean", "sm_spread")
MEMBER_PREFIX = "sm_"
_MAX_ROWS_SHOWN = 5
_BATCH_ROWS = 65_536
_CSV_BLOCK_BYTES = 4 * 1024**2  # larger blocks raise the peak (parser buffers) for no speed gain


@dataclass
class SampleTable:
    """A validated sample table.

    Attributes:
        x156: model inputs, float32 ``(N, 156)`` (see
        :func:`core.features.contract.to_model_inputs`).
        y: labels in m3/m3, float32 ``(N,)``; None when the table has no ``"gt"`` column.
            When labels were not required, missing labels are NaN.
        meta: the other columns (metadata), one row per sample, index ``0..N-1``.
        path: the file read.
        role: what the table is for, as used in messages (e.g. ``"fine (50 m)"``).

    """

    x156: F32
    y: F32 | None
    meta: pd.DataFrame
    path: Path
    role: str = ""

    def __len__(self) -> int:
        """Return the number of samples."""
        return int(self.x156.shape[0])


# -- file types --------------------------------------------------------------------------------


def _table_format(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(CSV_SUFFIXES):
        return "csv"
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    allowed = ", ".join(CSV_SUFFIXES + PARQUET_SUFFIXES)
    raise InputError(
        f"file {path} has an unknown type ({path.suffix or 'no extension'}): sample tables are "
        f"CSV or Parquet ({allowed})"
    )


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


# -- readers ------------------------------------------------------------------------------------
#
# A reader yields *parts*: (rows, feature getter, labels or None, metadata part). The getter
# returns one feature column ("0".."152") of the part as a 1-D array. Features are written
# straight into one preallocated (N, 156) float32 array (N known for Parquet, an upper bound from
# the line count for CSV, so untouched rows cost no memory), then turned into model inputs block
# by block with contract.to_model_inputs. No per-batch copies are kept, which keeps the peak
# near the size of the result.

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


# -- reading -----------------------------------------------------------------------------------

_DEST = np.array([i if i < N_SNAPSHOT else i + 3 for i in range(N_NORMALISED)])
"""Position of table column i ("0".."152") in the 156 model inputs (series means inserted)."""


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
                reader = _parquet_reader(path, require_label, role)
            else:
                reader = _csv_reader(path, require_label, role, text_columns)
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


# -- writing -----------------------------------------------------------------------------------


def write_predictions(
    path: str | Path,
    meta: pd.DataFrame | None,
    mean: npt.ArrayLike,
    spread: npt.ArrayLike,
    members: Mapping[str, npt.ArrayLike] | None = None,
) -> Path:
    """Write ensemble predictions beside the samples' metadata, atomically.

    Columns: the metadata columns, ``sm_mean``, ``sm_spread``, then one ``sm_{member}`` column
    per member (e.g. ``sm_coarse_1_8``), in the order given. CSV (``.csv``, ``.csv.gz``) or
    Parquet (``.parquet``, ``.pq``) by the file's extension.

    Args:
        path: output file.
        meta: metadata, one row per sample (e.g. :attr:`SampleTable.meta`), or None.
        mean: ensemble mean, m3/m3, shape ``(N,)``.
        spread: ensemble standard deviation, m3/m3, shape ``(N,)``.
        members: ``{member name: predictions (N,)}``; may be empty.

    Returns:
        The written path.

    Raises:
        InputError: unknown extension, mismatched lengths, or a metadata column clashing with
            a prediction column.

    """
    import pandas as pd

    path = Path(path).expanduser()
    fmt = _table_format(path)
    mean_a = np.asarray(mean, dtype=np.float32).reshape(-1)
    n = mean_a.shape[0]
    columns: dict[str, F32] = {"sm_mean": mean_a}
    columns["sm_spread"] = np.asarray(spread, dtype=np.float32).reshape(-1)
    for name, values in (members or {}).items():
        columns[f"{MEMBER_PREFIX}{name}"] = np.asarray(values, dtype=np.float32).reshape(-1)
    for name, values in columns.items():
        if values.shape[0] != n:
            raise InputError(f"{name} has {values.shape[0]} values, sm_mean has {n}")
    if meta is None:
        frame = pd.DataFrame(index=pd.RangeIndex(n))
    else:
        if len(meta) != n:
            raise InputError(f"metadata has {len(meta)} rows but there are {n} predictions")
        frame = pd.DataFrame(meta).reset_index(drop=True)
        clash = [str(c) for c in frame.columns if str(c) in columns]
        if clash:
            raise InputError(
                f"metadata columns {', '.join(clash)} clash with prediction columns; rename or "
                "drop them"
            )
        frame = frame.copy(deep=False)
        frame.columns = [str(c) for c in frame.columns]
    for name, values in columns.items():
        frame[name] = values
    gz = path.name.lower().endswith(".gz")
    with atomic_path(path) as tmp:
        if fmt == "parquet":
            frame.to_parquet(tmp, index=False, engine="pyarrow")
        else:
            _write_csv(frame, tmp, gz)
    return path


def _write_csv(frame: pd.DataFrame, tmp: Path, gz: bool) -> None:
    try:
        import pyarrow as pa
        import pyarrow.csv as pacsv

        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (ImportError, Exception):  # noqa: BLE001 - mixed object columns: let pandas write
        frame.to_csv(tmp, index=False, compression="gzip" if gz else None)
        return
    if gz:
        with pa.CompressedOutputStream(str(tmp), "gzip") as out:
            pacsv.write_csv(table, out)
    else:
        pacsv.write_csv(table, str(tmp))
