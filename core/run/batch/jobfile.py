"""Reading a batch file (CSV or YAML) into validated :class:`~.jobs.BatchJob` objects.

Empty cells take the defaults (the caller's, then the file's own ``defaults:``), list fields are
split on ``;`` or ``|``, relative paths are resolved against the batch file's folder and every
error names the file and the line or job it comes from.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any

from ...errors import InputError
from .jobs import REQUIRED, BatchJob, _bool, _split

_FIELD_TYPES: dict[str, Callable[[Any, str], Any]] = {
    "alpha": lambda v, w: float(v),
    "consistency": lambda v, w: float(v),
    "epochs": lambda v, w: int(float(v)),
    "min_epoch_steps": lambda v, w: int(float(v)),
    "seed": lambda v, w: int(float(v)),
    "cross_validate": _bool,
    "baselines": _bool,
}
_FIELDS = {f.name for f in fields(BatchJob)}


def _resolve_path(text: str, base: Path) -> str:
    """Make a path relative to the batch file absolute if it exists there; else keep it."""
    p = Path(text).expanduser()
    if not p.is_absolute() and (base / p).exists():
        return str((base / p).resolve())
    return str(p) if p.exists() else text


def _job_from_mapping(row: Mapping[str, Any], base: Path, where: str) -> BatchJob:
    data: dict[str, Any] = {}
    unknown = [k for k in row if k is not None and str(k).strip() and str(k).strip() not in _FIELDS]
    if unknown:
        raise InputError(
            f"{where}: unknown field(s) {', '.join(map(repr, unknown))}; allowed: "
            f"{', '.join(sorted(_FIELDS))}"
        )
    for key, value in row.items():
        if key is None:
            continue
        k = str(key).strip()
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if isinstance(value, float) and math.isnan(value):
            continue
        if k in ("stations", "dates"):
            data[k] = _split(value)
        elif k in _FIELD_TYPES:
            try:
                data[k] = _FIELD_TYPES[k](value, f"{where}: {k}")
            except ValueError:
                raise InputError(f"{where}: {k} {value!r} is not a valid value") from None
        else:
            data[k] = str(value).strip() if not isinstance(value, (dt.date,)) else value.isoformat()
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise InputError(f"{where}: missing {', '.join(missing)} (required: {', '.join(REQUIRED)})")
    data["aoi"] = _resolve_path(data["aoi"], base)
    data["stations"] = tuple(_resolve_path(s, base) for s in data["stations"])
    data["dates"] = tuple(
        d.isoformat() if isinstance(d, dt.date) else str(d) for d in data["dates"]
    )
    try:
        return BatchJob(**data)
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from None


def read_jobs(
    path: str | os.PathLike[str], defaults: Mapping[str, Any] | None = None
) -> list[BatchJob]:
    """Read a CSV or YAML batch file.

    Args:
        path: ``.csv`` or ``.yaml``/``.yml`` file.
        defaults: Values for fields a job leaves empty (the file's own ``defaults`` win over
            these, a job's values over both).

    Returns:
        The jobs, in file order.

    Raises:
        InputError: unreadable file, unknown or missing fields, duplicate names, bad values.

    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"batch file {str(p)!r} does not exist")
    base = p.parent.resolve()
    text = p.read_text(encoding="utf-8-sig")
    merged_defaults = {k: v for k, v in dict(defaults or {}).items() if v is not None}
    rows: list[tuple[str, Mapping[str, Any]]] = []
    if p.suffix.lower() in (".yaml", ".yml"):
        import yaml

        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise InputError(f"batch file {str(p)!r} is not valid YAML: {exc}") from None
        if isinstance(doc, Mapping):
            merged_defaults.update(doc.get("defaults") or {})
            items = doc.get("jobs")
        else:
            items = doc
        if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
            raise InputError(
                f"batch file {str(p)!r}: expected a list of jobs (or 'jobs:' with a list), each a "
                "mapping with name, aoi, stations, dates"
            )
        rows = [(f"{p.name}: job {i + 1}", item) for i, item in enumerate(items)]
    elif p.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        rows = [(f"{p.name}: line {i + 2}", row) for i, row in enumerate(reader)]
    else:
        raise InputError(f"batch file {str(p)!r} must be .csv, .yaml or .yml")
    jobs = []
    for where, row in rows:
        if not any(str(v).strip() for v in row.values() if v is not None):
            continue
        values = {**merged_defaults, **{k: v for k, v in row.items() if v not in (None, "")}}
        jobs.append(_job_from_mapping(values, base, where))
    seen: dict[str, str] = {}
    for job in jobs:
        if job.slug in seen:
            raise InputError(
                f"batch file {str(p)!r}: two jobs write to the same folder {job.slug!r} "
                f"({seen[job.slug]!r} and {job.name!r}); give every job a unique name"
            )
        seen[job.slug] = job.name
    return jobs
