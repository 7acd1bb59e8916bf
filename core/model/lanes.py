"""CPU inference on lanes: one thread per CPU thread, each working single-threaded.

Inference splits its work into independent jobs (chunks of series for the temporal branch,
blocks of rows for the dense heads). Run with PyTorch's usual threading, every matrix product
and kernel is split over all threads and joined again, hundreds of times per chunk. On lanes,
each thread takes whole jobs and runs them on one core, with no fork and join per operation,
and each core keeps its own job's activations in its own cache. Measured on 2 cores (AMD EPYC,
AVX2; the 25 published members, 30,000 distinct rows, interleaved, medians of 8): 9,900
samples/s with both threads on every operation, 11,900 on two lanes.

PyTorch's thread count is a setting of each OS thread (OpenMP and MKL keep it per thread), which
a thread takes from a process-wide default when it first uses PyTorch. Each lane is a new thread
that sets its own count to 1; the calling thread only hands out progress and waits, and puts the
process-wide default back as soon as the lanes have set theirs, so other threads keep their
counts. GPUs get one lane.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import torch

MAX_LANES = 16
"""At most this many lanes (each holds its job's activations, ~25-40 MB). Measured on 2 cores
only."""

MIN_JOB_ROWS = 256
"""Smallest job of rows (or of distinct series) worth handing to a lane: each job costs some
Python for every member, which this many rows keep small next to the products."""


def for_device(device: torch.device) -> int:
    """How many lanes inference on ``device`` runs.

    On the CPU, this thread's PyTorch thread count (at most :data:`MAX_LANES`; 1 inside a
    lane); elsewhere 1.
    """
    if device.type != "cpu":
        return 1
    return max(1, min(torch.get_num_threads(), MAX_LANES))


def run(
    n_jobs: int,
    job: Callable[[int], None],
    lanes: int,
    after_job: Callable[[int], None] | None = None,
) -> None:
    """Run ``job(0) .. job(n_jobs - 1)`` on ``lanes`` new threads, each single-threaded.

    Jobs must be independent (e.g. write disjoint parts of an output). A lane takes the next job
    as it finishes one; the calling thread's grad and inference modes hold in every lane. The
    calling thread calls ``after_job(done)`` as jobs finish, with the number finished so far
    (progress, and a cancel check that may raise). With one lane, or no thread to be had, the
    jobs run in order on the calling thread.

    The first exception of a job, or of ``after_job``, or a signal in the calling thread, stops
    the lanes after their current job; it is raised here once every lane has stopped.
    """
    lanes = min(lanes, n_jobs)
    if lanes <= 1:
        _run_here(n_jobs, job, after_job)
        return
    grad = torch.is_grad_enabled()
    inference = torch.is_inference_mode_enabled()
    default = torch.get_num_threads()
    cond = threading.Condition()
    state = {"next": 0, "done": 0, "ready": 0, "go": False, "stop": False}
    errors: list[BaseException] = []

    def take() -> int | None:
        with cond:
            i = state["next"]
            if state["stop"] or errors or i >= n_jobs:
                return None
            state["next"] = i + 1
            return i

    def work() -> None:
        try:
            torch.get_num_threads()  # this thread takes the process default first ...
            torch.set_num_threads(1)  # ... then runs single-threaded
            with cond:  # no job before the calling thread has put the default back
                state["ready"] += 1
                cond.notify_all()
                cond.wait_for(lambda: state["go"] or state["stop"])
            with torch.inference_mode(inference), torch.set_grad_enabled(grad):
                while (i := take()) is not None:
                    job(i)
                    with cond:
                        state["done"] += 1
                        cond.notify_all()
        except BaseException as exc:  # handed to the calling thread
            with cond:
                errors.append(exc)
                cond.notify_all()

    started: list[threading.Thread] = []
    try:
        for k in range(lanes):
            t = threading.Thread(target=work, name=f"inference-lane-{k}", daemon=True)
            try:
                t.start()
            except RuntimeError:  # no more threads to be had: fewer lanes do the jobs
                break
            started.append(t)
        if not started:
            _run_here(n_jobs, job, after_job)
            return
        with cond:
            cond.wait_for(lambda: state["ready"] + len(errors) >= len(started))
        torch.set_num_threads(default)  # the process default, for threads yet to use PyTorch
        with cond:
            state["go"] = True
            cond.notify_all()
        reported = 0

        def news(seen: int) -> Callable[[], bool]:
            return lambda: state["done"] > seen or bool(errors)

        while reported < n_jobs:
            with cond:
                cond.wait_for(news(reported))
                if errors:
                    break
                reported = state["done"]
            if after_job is not None:
                after_job(reported)
    finally:
        with cond:
            state["stop"] = True
            cond.notify_all()
        for t in started:
            while t.is_alive():
                try:
                    t.join()
                except KeyboardInterrupt:  # a second signal: still wait for the lane
                    continue
        torch.set_num_threads(default)
    if errors:
        raise errors[0]


def _run_here(
    n_jobs: int, job: Callable[[int], None], after_job: Callable[[int], None] | None
) -> None:
    for i in range(n_jobs):
        job(i)
        if after_job is not None:
            after_job(i + 1)
