"""The :class:`SampleTable` a read gives, and the file types a sample table may have.

CSV (``.csv``, ``.csv.gz``) or Parquet (``.parquet``, ``.pq``), chosen by the file's extension
for reading and writing alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from ...errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

F32 = npt.NDArray[np.float32]

CSV_SUFFIXES = (".csv", ".csv.gz")
PARQUET_SUFFIXES = (".parquet", ".pq")


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
