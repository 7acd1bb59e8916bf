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

from .checks import LABEL_RANGE, RANGE_TOLERANCE
from .read import read_samples
from .table import CSV_SUFFIXES, PARQUET_SUFFIXES, SampleTable
from .write import MEMBER_PREFIX, PREDICTION_COLUMNS, write_predictions

__all__ = [
    "CSV_SUFFIXES",
    "LABEL_RANGE",
    "MEMBER_PREFIX",
    "PARQUET_SUFFIXES",
    "PREDICTION_COLUMNS",
    "RANGE_TOLERANCE",
    "SampleTable",
    "read_samples",
    "write_predictions",
]
