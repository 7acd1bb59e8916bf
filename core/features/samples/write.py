"""Writing ensemble predictions beside the samples' metadata (CSV or Parquet), atomically."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from ...atomic import atomic_path
from ...errors import InputError
from .table import F32, _table_format

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

PREDICTION_COLUMNS = ("sm_mean", "sm_spread")
MEMBER_PREFIX = "sm_"


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
