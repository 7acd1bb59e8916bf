"""Running a batch: one job through Adapt & Map, and all jobs one after the other or on Dask.

:func:`run_job` never raises for a failed job (only for a cancel): its error becomes the job's
message. :func:`run_batch` runs the jobs locally in this process or hands them to
:mod:`.on_dask`, then writes the summary files.
"""

from __future__ import annotations

import datetime as dt
import os
import time
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ...errors import Cancelled, InputError, SoilMoistureError
from ...progress import NULL_PROGRESS, Progress
from .jobs import BatchJob, JobFunction, JobResult
from .on_dask import _run_dask
from .summary import write_summary


def _best_rmse(metrics: Mapping[str, Any]) -> tuple[float | None, str]:
    """The held-out RMSE of the job's recommended map (its SMAP blend when that did better)."""
    methods = metrics.get("methods") or {}
    blend = (metrics.get("smap_blend") or {}).get("map") or {}
    if blend.get("recommended") == "blend":
        rmse = (blend.get("held_out_rmse") or {}).get("blend")
        if rmse is not None:
            return float(rmse), "SMAP blend, held out"
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
    from ...inputs.aoi import parse_aoi
    from ..adapt_map import run_adapt_map
    from ..config import AdaptMapConfig
    from ..dates import acquisition_dates_between

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
            **_set_fields(job, "min_epoch_steps", "batchnorm", "consistency"),
            reproject_crs=job.reproject,
            cross_validate=job.cross_validate,
            baselines=job.baselines,
        )
        res = run_adapt_map(config, progress)
        result.status = "ok"
        result.maps = [str(p) for _, p in sorted(res.maps.items())]
        result.maps_smap_blend = [str(p) for _, p in sorted(res.blended.items())]
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


def _set_fields(job: BatchJob, *names: str) -> dict[str, Any]:
    """The job's fields among ``names`` that it sets (None leaves the run's default)."""
    return {n: getattr(job, n) for n in names if getattr(job, n) is not None}
