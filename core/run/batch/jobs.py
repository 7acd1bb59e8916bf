"""One batch job and its outcome: :class:`BatchJob` (validated settings) and :class:`JobResult`.

A job is validated when it is made (name, AOI, stations, dates or one ``START:END`` range,
method, alpha, epochs); its cache key hashes its settings and the contents of its input files.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from ...errors import InputError

REQUIRED = ("name", "aoi", "stations", "dates")
"""Fields every job must have."""


def _split(value: Any) -> tuple[str, ...]:
    """Split a list field: a YAML list, or a string separated by ';' or '|'."""
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(str(v).strip() for v in value if str(v).strip())
    return tuple(v.strip() for v in re.split(r"[;|]", str(value)) if v.strip())


def _bool(value: Any, what: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "y", "on"):
        return True
    if text in ("0", "false", "no", "n", "off"):
        return False
    raise InputError(f"{what} must be true or false, got {value!r}")


def _slug(name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._")
    return slug or "job"


@dataclass(frozen=True)
class BatchJob:
    """One job of a batch (validated on construction; dates are resolved when it runs).

    Attributes:
        name: Unique label; outputs go to ``OUT/<slug of name>/``.
        aoi: AOI as text (file path, bbox or WKT), resolved against the batch file's folder.
        stations: Station file paths.
        dates: Map dates as ISO strings, or one ``"START:END"`` range.
        method: Adaptation method.
        alpha: alpha, or None for the default.
        source: Input source name.
        epochs: Adaptation epochs.
        min_epoch_steps: Fewest optimizer steps of an epoch (None: the default).
        batchnorm: BatchNorm in adaptation, ``pretrained`` or ``batch`` (None: the default).
        consistency: Weight of the 9 km consistency term (None: the default).
        seed: Random seed.
        device: ``cpu`` or ``cuda``.
        models: Pretrained model set.
        train_start: First training day (ISO) or None.
        train_end: Last training day (ISO) or None.
        reproject: CRS of an extra reprojected copy, or None.
        cross_validate: Run the held-out validation.
        baselines: Run the RF/XGBoost baselines.

    """

    name: str
    aoi: str
    stations: tuple[str, ...]
    dates: tuple[str, ...]
    method: str = "msda"
    alpha: float | None = None
    source: str = "gee"
    epochs: int = 50
    min_epoch_steps: int | None = None
    batchnorm: str | None = None
    consistency: float | None = None
    seed: int = 0
    device: str = "cpu"
    models: str = "densesm_9km"
    train_start: str | None = None
    train_end: str | None = None
    reproject: str | None = None
    cross_validate: bool = True
    baselines: bool = True

    def __post_init__(self) -> None:
        from ...adaptation.methods import check_batchnorm_mode, check_consistency_weight
        from ..config import METHODS

        if not str(self.name).strip():
            raise InputError("a batch job needs a name")
        if not str(self.aoi).strip():
            raise InputError(f"job {self.name!r}: no aoi given")
        if not self.stations:
            raise InputError(f"job {self.name!r}: no station file given")
        if not self.dates:
            raise InputError(f"job {self.name!r}: no date given")
        if self.method not in METHODS:
            raise InputError(
                f"job {self.name!r}: unknown method {self.method!r}; allowed: {', '.join(METHODS)}"
            )
        if self.batchnorm is not None:
            check_batchnorm_mode(self.batchnorm, f"job {self.name!r}: ")
        if self.consistency is not None:
            check_consistency_weight(self.consistency, f"job {self.name!r}: ")
        for d in self.dates:
            for part in d.split(":") if ":" in d else [d]:
                try:
                    dt.date.fromisoformat(part)
                except ValueError:
                    raise InputError(
                        f"job {self.name!r}: {d!r} is not a date (YYYY-MM-DD) or a range "
                        "(START:END)"
                    ) from None
        if any(":" in d for d in self.dates) and len(self.dates) > 1:
            raise InputError(f"job {self.name!r}: give either dates or one START:END range")
        if self.alpha is not None and not 0.0 <= self.alpha <= 1.0:
            raise InputError(f"job {self.name!r}: alpha must be from 0 to 1, got {self.alpha!r}")
        if self.epochs < 1:
            raise InputError(f"job {self.name!r}: epochs must be at least 1, got {self.epochs!r}")

    @property
    def slug(self) -> str:
        """File-system-safe name of the job's output folder."""
        return _slug(self.name)

    def cache_key(self) -> str:
        """Return a key unique to the job's settings and input files (the Dask task key).

        Returns:
            ``soilmoisture-<slug>-<first 16 hex digits of a SHA-256>``.

        """
        h = hashlib.sha256(json.dumps(asdict(self), sort_keys=True, default=str).encode())
        for path in (self.aoi, *self.stations):
            p = Path(path)
            if p.is_file():
                with open(p, "rb") as f:
                    for chunk in iter(lambda: f.read(1 << 20), b""):
                        h.update(chunk)
        return f"soilmoisture-{self.slug}-{h.hexdigest()[:16]}"


@dataclass
class JobResult:
    """Outcome of one job (a row of the summary table)."""

    name: str
    status: str
    """``"ok"`` or ``"failed"``."""
    out_dir: str
    maps: list[str] = field(default_factory=list)
    maps_smap_blend: list[str] = field(default_factory=list)
    """The maps' SMAP blends (none when the job could not fit a blend weight)."""
    rmse: float | None = None
    """Station RMSE, m3/m3 (held-out where computed; see ``rmse_kind``)."""
    rmse_kind: str = ""
    message: str = ""
    seconds: float = 0.0
    key: str = ""
    simulated: bool = False


JobFunction = Callable[..., JobResult]
"""``job_fn(job, out_dir, torch_threads=None) -> JobResult``; must be importable by workers."""


def with_defaults(job: BatchJob, **changes: Any) -> BatchJob:
    """Return a copy of a job with some fields changed (validated again)."""
    return replace(job, **changes)
