"""Batch runs: many "Adapt & Map" jobs from one CSV or YAML file, locally or on Dask.

A batch file lists jobs, one per CSV row or YAML list item, with these fields:

``name`` (required, unique)
    Label of the job; its outputs go to ``OUT/<name>/``.
``aoi`` (required)
    Vector file, ``xmin,ymin,xmax,ymax`` in lon/lat (``...@EPSG:xxxx`` for another CRS) or WKT.
``stations`` (required)
    Station files; in CSV separated by ``;`` (or ``|``), in YAML a list or a ``;``-string.
``dates`` (required)
    Map dates: ``2020-06-01;2020-06-13`` (YAML: a list), or a range ``2020-06-01:2020-07-01``
    (every Sentinel-1 date in it).
``method``, ``alpha``, ``source``, ``epochs``, ``min_epoch_steps``, ``seed``, ``device``,
``models``, ``train_start``, ``train_end``, ``reproject``, ``cross_validate``, ``baselines``
(optional)
    As for ``soilmoisture adapt-map``; empty cells take the defaults.

A YAML file is either a list of jobs or ``{defaults: {...}, jobs: [...]}``. Relative paths
(AOI files, station files) are taken relative to the batch file's folder.

Jobs are independent: each has its own output folder and a cache key (a SHA-256 over its
settings and the contents of its input files), and a failed job is reported in the summary and
does not stop the others. :func:`run_batch` hands the jobs to Dask distributed: an existing
scheduler (``scheduler="tcp://host:8786"``) or, by default, a local cluster of worker processes
(one thread each; every job's torch gets an equal share of the cores). The cache key is the Dask
task key, so a job submitted twice to the same cluster with identical inputs runs once.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import logging
import math
import os
import re
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from ..atomic import write_text
from ..errors import Cancelled, InputError, SoilMoistureError
from ..progress import NULL_PROGRESS, Progress

REQUIRED = ("name", "aoi", "stations", "dates")
"""Fields every job must have."""
_POLL_S = 0.5
"""How often the Dask runner checks for a cancel while waiting, seconds."""


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
    seed: int = 0
    device: str = "cpu"
    models: str = "densesm_9km"
    train_start: str | None = None
    train_end: str | None = None
    reproject: str | None = None
    cross_validate: bool = True
    baselines: bool = True

    def __post_init__(self) -> None:
        from .pipeline import METHODS

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
    rmse: float | None = None
    """Station RMSE, m3/m3 (held-out where computed; see ``rmse_kind``)."""
    rmse_kind: str = ""
    message: str = ""
    seconds: float = 0.0
    key: str = ""
    simulated: bool = False


# --------------------------------------------------------------------------------- reading
_FIELD_TYPES: dict[str, Callable[[Any, str], Any]] = {
    "alpha": lambda v, w: float(v),
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


# --------------------------------------------------------------------------------- running
def _best_rmse(metrics: Mapping[str, Any]) -> tuple[float | None, str]:
    methods = metrics.get("methods") or {}
    for key, kind in (
        ("adapted_cv", "held out"),
        ("pretrained", "pretrained, held out"),
        ("adapted_in_sample", "in-sample"),
    ):
        entry = methods.get(key)
        if entry and entry.get("pooled", {}).get("rmse") is not None:
            return float(entry["pooled"]["rmse"]), kind
    return None, ""


def run_job(
    job: BatchJob,
    out_dir: str | os.PathLike[str],
    progress: Progress | None = None,
    torch_threads: int | None = None,
) -> JobResult:
    """Run one job and report its outcome; never raises for a failed job (except a cancel).

    Args:
        job: The job.
        out_dir: The batch's output folder (the job writes to ``out_dir/<job slug>``).
        progress: Progress reporter.
        torch_threads: Threads torch may use in this process (for a fair share on a cluster).

    Returns:
        The :class:`JobResult` (status ``"failed"`` with the error message on failure).

    Raises:
        Cancelled: the user cancelled (a cancel is not a job failure).

    """
    from ..inputs.aoi import parse_aoi
    from .pipeline import AdaptMapConfig, acquisition_dates_between, run_adapt_map

    progress = progress or NULL_PROGRESS
    start = time.monotonic()
    job_dir = Path(out_dir) / job.slug
    result = JobResult(name=job.name, status="failed", out_dir=str(job_dir), key=job.cache_key())
    try:
        if torch_threads:
            import torch

            torch.set_num_threads(int(torch_threads))
        aoi = parse_aoi(job.aoi)
        if len(job.dates) == 1 and ":" in job.dates[0]:
            a, b = (dt.date.fromisoformat(x) for x in job.dates[0].split(":"))
            dates = acquisition_dates_between(job.source, aoi, a, b, progress)
        else:
            dates = [dt.date.fromisoformat(d) for d in job.dates]
        config = AdaptMapConfig(
            aoi=aoi,
            stations=tuple(Path(s) for s in job.stations),
            dates=tuple(dates),
            out_dir=job_dir,
            source=job.source,
            method=job.method,
            alpha=job.alpha,
            device=job.device,
            train_start=dt.date.fromisoformat(job.train_start) if job.train_start else None,
            train_end=dt.date.fromisoformat(job.train_end) if job.train_end else None,
            models=job.models,
            seed=job.seed,
            epochs=job.epochs,
            **({} if job.min_epoch_steps is None else {"min_epoch_steps": job.min_epoch_steps}),
            reproject_crs=job.reproject,
            cross_validate=job.cross_validate,
            baselines=job.baselines,
        )
        res = run_adapt_map(config, progress)
        result.status = "ok"
        result.maps = [str(p) for _, p in sorted(res.maps.items())]
        result.rmse, result.rmse_kind = _best_rmse(res.metrics)
        result.simulated = res.simulated
        result.message = "; ".join(res.warnings[:3])
    except Cancelled:
        raise
    except SoilMoistureError as exc:
        result.message = str(exc)
    except MemoryError:
        result.message = "out of memory; use a smaller AOI or fewer target cells"
    except Exception as exc:  # noqa: BLE001 - one broken job must not stop the batch
        last = traceback.extract_tb(exc.__traceback__)[-1:]
        where = f" at {last[0].filename}:{last[0].lineno}" if last else ""
        result.message = f"internal error {type(exc).__name__}: {exc}{where}"
    result.seconds = time.monotonic() - start
    return result


JobFunction = Callable[..., JobResult]
"""``job_fn(job, out_dir, torch_threads=None) -> JobResult``; must be importable by workers."""


def run_batch(
    jobs: Sequence[BatchJob],
    out_dir: str | os.PathLike[str],
    *,
    scheduler: str | None = None,
    n_workers: int | None = None,
    local: bool = False,
    progress: Progress | None = None,
    job_fn: JobFunction = run_job,
) -> list[JobResult]:
    """Run jobs and write the summary (``batch_summary.csv`` and ``.json``) into ``out_dir``.

    Args:
        jobs: The jobs (see :func:`read_jobs`).
        out_dir: Output folder; each job writes to its own sub-folder.
        scheduler: Address of a running Dask scheduler; None starts a local cluster.
        n_workers: Worker processes of the local cluster (default: CPU cores, at most the jobs).
        local: Run the jobs one after the other in this process, without Dask.
        progress: Progress reporter; a cancel stops the batch (running tasks are cancelled).
        job_fn: The function run per job (a module-level function, so workers can import it).

    Returns:
        One :class:`JobResult` per job, in the jobs' order.

    Raises:
        InputError: two jobs with the same output folder.
        Cancelled: the user cancelled.

    """
    progress = progress or NULL_PROGRESS
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    slugs = [j.slug for j in jobs]
    if len(set(slugs)) != len(slugs):
        raise InputError("two jobs of the batch share a name; give every job a unique name")
    if not jobs:
        return []
    if local:
        results = _run_serial(jobs, out, progress, job_fn)
    else:
        results = _run_dask(jobs, out, scheduler, n_workers, progress, job_fn)
    write_summary(results, out)
    return results


def _run_serial(
    jobs: Sequence[BatchJob], out: Path, progress: Progress, job_fn: JobFunction
) -> list[JobResult]:
    results = []
    for i, job in enumerate(jobs):
        progress.check()
        progress.message(f"Job {i + 1}/{len(jobs)}: {job.name}")
        sub = progress.sub(i / len(jobs), (i + 1) / len(jobs))
        if job_fn is run_job:
            results.append(run_job(job, out, sub))
        else:
            results.append(job_fn(job, str(out)))
        progress.fraction((i + 1) / len(jobs))
    return results


def _quiet_dask_logs() -> None:
    """Keep Dask's INFO chatter (workers starting, closing, ...) off the user's terminal.

    Importing ``distributed`` sets its loggers to INFO from Dask's configuration; unless debug
    logging was asked for (``-v``), only warnings and errors are shown.
    """
    if logging.getLogger().isEnabledFor(logging.DEBUG):
        return
    for name in ("distributed", "tornado", "bokeh"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _run_dask(
    jobs: Sequence[BatchJob],
    out: Path,
    scheduler: str | None,
    n_workers: int | None,
    progress: Progress,
    job_fn: JobFunction,
) -> list[JobResult]:
    from distributed import Client, LocalCluster

    _quiet_dask_logs()
    cores = os.cpu_count() or 1
    cluster = None
    if scheduler:
        progress.message(f"Connecting to the Dask scheduler {scheduler}")
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise InputError(
                f"cannot reach the Dask scheduler {scheduler!r}: {exc}. Start it (dask scheduler) "
                "or leave --scheduler out to use a local cluster."
            ) from None
        torch_threads = None
    else:
        workers = max(1, min(n_workers or cores, len(jobs)))
        progress.message(f"Starting a local Dask cluster of {workers} worker process(es)")
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        )
        client = Client(cluster)
        torch_threads = max(1, cores // workers)
    try:
        futures = {
            client.submit(
                job_fn, job, str(out), torch_threads=torch_threads, key=job.cache_key(), pure=False
            ): i
            for i, job in enumerate(jobs)
        }
        results: list[JobResult | None] = [None] * len(jobs)
        pending = set(futures)
        progress.message(f"Running {len(jobs)} job(s) on Dask")
        try:
            while pending:
                progress.check()
                done = {f for f in pending if f.done()}
                if not done:
                    time.sleep(_POLL_S)  # distributed.wait raises on a timeout: poll instead
                    continue
                pending -= done
                for fut in done:
                    i = futures[fut]
                    job = jobs[i]
                    try:
                        results[i] = fut.result()
                    except Cancelled:
                        raise
                    except Exception as exc:  # noqa: BLE001 - a dead worker fails one job only
                        results[i] = JobResult(
                            name=job.name,
                            status="failed",
                            out_dir=str(out / job.slug),
                            message=f"the worker running the job failed: {type(exc).__name__}: "
                            f"{exc}",
                            key=job.cache_key(),
                        )
                    progress.message(f"Job {job.name}: {results[i].status}")  # type: ignore[union-attr]
                done_n = sum(r is not None for r in results)
                progress.fraction(done_n / len(jobs))
        except BaseException:
            client.cancel(list(futures))
            raise
        return [r for r in results if r is not None]
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# --------------------------------------------------------------------------------- summary
def format_summary(results: Sequence[JobResult]) -> str:
    """Format the summary table as text (name, status, maps, RMSE or error message).

    Args:
        results: Outcomes of :func:`run_batch`.

    Returns:
        A fixed-width table followed by a count line.

    """
    header = ("name", "status", "maps", "RMSE m3/m3", "time", "details")
    rows = []
    for r in results:
        rmse = "" if r.rmse is None else f"{r.rmse:.3f} ({r.rmse_kind})"
        details = r.message if r.status != "ok" else (r.message or r.out_dir)
        if r.simulated:
            details = "SIMULATED; " + details
        rows.append((r.name, r.status, str(len(r.maps)), rmse, f"{r.seconds:.0f}s", details))
    widths = [
        max(len(h), *(len(row[i]) for row in rows)) if rows else len(h)
        for i, h in enumerate(header)
    ]
    widths[-1] = len(header[-1])

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells[:-1], widths[:-1], strict=True)) + (
            "  " + cells[-1]
        )

    ok = sum(r.status == "ok" for r in results)
    out = [line(header), line(["-" * w for w in widths[:-1]] + ["-" * 7])]
    out += [line(row) for row in rows]
    out.append(f"{ok} of {len(results)} job(s) succeeded, {len(results) - ok} failed")
    return "\n".join(out)


def write_summary(results: Sequence[JobResult], out_dir: str | os.PathLike[str]) -> Path:
    """Write ``batch_summary.csv`` and ``batch_summary.json`` atomically; returns the CSV path."""
    out = Path(out_dir)
    buf = io.StringIO()
    cols = ["name", "status", "maps", "rmse", "rmse_kind", "seconds", "out_dir", "key", "message"]
    writer = csv.DictWriter(buf, fieldnames=cols)
    writer.writeheader()
    for r in results:
        row = asdict(r)
        row["maps"] = ";".join(r.maps)
        writer.writerow({c: row[c] for c in cols})
    write_text(out / "batch_summary.csv", buf.getvalue())
    write_text(out / "batch_summary.json", json.dumps([asdict(r) for r in results], indent=2))
    return out / "batch_summary.csv"


def with_defaults(job: BatchJob, **changes: Any) -> BatchJob:
    """Return a copy of a job with some fields changed (validated again)."""
    return replace(job, **changes)


__all__ = [
    "BatchJob",
    "JobResult",
    "format_summary",
    "read_jobs",
    "run_batch",
    "run_job",
    "with_defaults",
    "write_summary",
]
