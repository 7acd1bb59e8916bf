"""Running the jobs of a batch on Dask distributed: an existing scheduler or a local cluster.

A local cluster has one single-threaded worker process per job (at most one per core), and each
job's torch gets an equal share of the cores; the job's cache key is the Dask task key. The
runner polls for a cancel while it waits and cancels the running tasks when one comes.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ...errors import Cancelled, InputError
from ...progress import Progress
from .jobs import BatchJob, JobFunction, JobResult

_POLL_S = 0.5
"""How often the Dask runner checks for a cancel while waiting, seconds."""


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
    """Run the jobs on Dask and return their results in the jobs' order."""
    _quiet_dask_logs()
    client, cluster, torch_threads = _dask_client(scheduler, n_workers, len(jobs), progress)
    try:
        futures = {
            client.submit(
                job_fn, job, str(out), torch_threads=torch_threads, key=job.cache_key(), pure=False
            ): i
            for i, job in enumerate(jobs)
        }
        try:
            results = _collect(futures, jobs, out, progress)
        except BaseException:
            client.cancel(list(futures))
            raise
        return [r for r in results if r is not None]
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _dask_client(
    scheduler: str | None, n_workers: int | None, n_jobs: int, progress: Progress
) -> tuple[Any, Any, int | None]:
    """Connect to ``scheduler`` or start a local cluster: (client, cluster or None, torch threads).

    On an existing scheduler the workers keep their own torch threads (None); a local cluster
    gets one single-threaded worker process per job (at most ``n_workers`` or the cores) and
    each job an equal share of the cores.
    """
    from distributed import Client, LocalCluster

    cores = os.cpu_count() or 1
    if scheduler:
        progress.message(f"Connecting to the Dask scheduler {scheduler}")
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise InputError(
                f"cannot reach the Dask scheduler {scheduler!r}: {exc}. Start it (dask scheduler) "
                "or leave --scheduler out to use a local cluster."
            ) from None
        return client, None, None
    workers = max(1, min(n_workers or cores, n_jobs))
    progress.message(f"Starting a local Dask cluster of {workers} worker process(es)")
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
    )
    client = Client(cluster)
    return client, cluster, max(1, cores // workers)


def _collect(
    futures: Mapping[Any, int], jobs: Sequence[BatchJob], out: Path, progress: Progress
) -> list[JobResult | None]:
    """Wait for the futures (checking for a cancel), each result at its job's index.

    A worker that dies fails its job only: the job gets a failed :class:`JobResult`.
    """
    results: list[JobResult | None] = [None] * len(jobs)
    pending = set(futures)
    progress.message(f"Running {len(jobs)} job(s) on Dask")
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
                    message=f"the worker running the job failed: {type(exc).__name__}: {exc}",
                    key=job.cache_key(),
                )
            progress.message(f"Job {job.name}: {results[i].status}")  # type: ignore[union-attr]
        done_n = sum(r is not None for r in results)
        progress.fraction(done_n / len(jobs))
    return results
