"""CPU inference on lanes: one thread per CPU thread, each working single-threaded.

Inference splits its work into independent jobs (chunks of series for the temporal branch,
blocks of rows for the dense heads). Run with PyTorch's usual threading, every matrix product
and kernel is split over all threads and joined again, hundreds of times per chunk. On lanes,
each thread takes whole jobs and runs them on one core, with no fork and join per operation,
and each core keeps its own job's activations in its own cache. Measured on 2 cores (AMD EPYC,
AVX2; the 25 published members, 30,000 distinct rows, interleaved, medians of 8): 9,900
samples/s with both threads on every operation, 11,900 on two lanes.

PyTorch's thread count is a setting of each OS thread (OpenMP and MKL keep it per thread), which
a thread takes from a process-wide default when it first uses PyTorch; setting a count sets that
default too. Each lane is a new thread that sets its own count to 1. The calling thread keeps
its count: it only hands out progress and waits, and a short-lived thread puts the process
default back as soon as the lanes have set theirs. A thread whose first use of PyTorch falls in
that gap (a fraction of a millisecond per run) takes 1; PyTorch offers no way to close it. GPUs
get one lane.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import torch

T = TypeVar("T")

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
    try:  # the process default, as a thread that first uses PyTorch takes it
        default = _on_new_thread(torch.get_num_threads)
    except RuntimeError:  # no thread to be had
        _run_here(n_jobs, job, after_job)
        return
    board = _Board(n_jobs)
    cond, state, errors = board.cond, board.state, board.errors

    def work() -> None:
        _lane(board, job, grad, inference)

    started: list[threading.Thread] = []
    restored = False
    try:
        _start_lanes(lanes, work, started)
        if not started:
            restored = True  # no lane set anything
            _run_here(n_jobs, job, after_job)
            return
        with cond:
            cond.wait_for(lambda: state["ready"] + len(errors) >= len(started))
        # Between the first lane's count and here, a thread first using PyTorch takes 1.
        _on_new_thread(lambda: torch.set_num_threads(default))
        restored = True
        with cond:
            state["go"] = True
            cond.notify_all()
        _report(board, after_job)
    finally:
        _stop_and_join(cond, state, started)
        if not restored:
            with contextlib.suppress(RuntimeError):
                _on_new_thread(lambda: torch.set_num_threads(default))
    if errors:
        raise errors[0]


class _Board:
    """What the calling thread and its lanes share: the jobs' counters and the first errors.

    ``state``: the next job to hand out, how many are done, how many lanes are ready, and the
    go and stop signals; all read and written under ``cond``.
    """

    def __init__(self, n_jobs: int) -> None:
        self.n_jobs = n_jobs
        self.cond = threading.Condition()
        self.state: dict[str, Any] = {"next": 0, "done": 0, "ready": 0, "go": False, "stop": False}
        self.errors: list[BaseException] = []

    def take(self) -> int | None:
        """The next job for a lane, or None when there is none left or the lanes must stop."""
        with self.cond:
            i = self.state["next"]
            if self.state["stop"] or self.errors or i >= self.n_jobs:
                return None
            self.state["next"] = i + 1
            return i


def _lane(board: _Board, job: Callable[[int], None], grad: bool, inference: bool) -> None:
    """One lane's thread: set its thread count to 1, wait for the go, then take jobs."""
    cond, state = board.cond, board.state
    try:
        torch.get_num_threads()  # this thread takes the process default first ...
        torch.set_num_threads(1)  # ... then runs single-threaded (and sets the default)
        with cond:  # no job before the process default is back
            state["ready"] += 1
            cond.notify_all()
            cond.wait_for(lambda: state["go"] or state["stop"])
        with torch.inference_mode(inference), torch.set_grad_enabled(grad):
            while (i := board.take()) is not None:
                job(i)
                with cond:
                    state["done"] += 1
                    cond.notify_all()
    except BaseException as exc:  # handed to the calling thread
        with cond:
            board.errors.append(exc)
            cond.notify_all()


def _start_lanes(lanes: int, work: Callable[[], None], started: list[threading.Thread]) -> None:
    """Start up to ``lanes`` threads running ``work``, appending each to ``started``."""
    for k in range(lanes):
        t = threading.Thread(target=work, name=f"inference-lane-{k}", daemon=True)
        started.append(t)  # before start: joined even if a signal lands inside start()
        try:
            t.start()
        except RuntimeError:  # no more threads to be had: fewer lanes do the jobs
            started.pop()
            break


def _report(board: _Board, after_job: Callable[[int], None] | None) -> None:
    """On the calling thread: ``after_job(done)`` as jobs finish, until all are or one failed."""
    cond, state, errors = board.cond, board.state, board.errors
    reported = 0

    def news(seen: int) -> Callable[[], bool]:
        return lambda: state["done"] > seen or bool(errors)

    while reported < board.n_jobs:
        with cond:
            cond.wait_for(news(reported))
            if errors:
                break
            reported = state["done"]
        if after_job is not None:
            after_job(reported)


def run_blocks(
    total: int,
    size: int,
    block: Callable[[int, int], None],
    lanes: int,
    after_block: Callable[[float], None] | None = None,
) -> None:
    """:func:`run` over rows ``0 .. total`` in blocks of ``size``: ``block(start, stop)``.

    ``after_block(fraction)`` gets the fraction of blocks finished (see ``after_job``).
    """
    n_blocks = -(-total // size)

    def job(i: int) -> None:
        block(i * size, min((i + 1) * size, total))

    after = None if after_block is None else (lambda done: after_block(done / n_blocks))
    run(n_blocks, job, lanes, after)


def _stop_and_join(
    cond: threading.Condition, state: dict[str, Any], started: list[threading.Thread]
) -> None:
    """Tell the lanes to stop after their current job, and wait for them through interrupts."""
    while True:
        try:
            with cond:
                state["stop"] = True
                cond.notify_all()
            break
        except KeyboardInterrupt:
            continue
    for t in started:
        _join(t)


def _join(t: threading.Thread) -> None:
    while t.is_alive():
        try:
            t.join()
        except KeyboardInterrupt:  # a second signal: still wait for the thread
            continue


def _on_new_thread(fn: Callable[[], T]) -> T:
    """``fn()`` on a new short-lived thread: PyTorch's settings of the calling thread stay."""
    out: list[T] = []
    t = threading.Thread(target=lambda: out.append(fn()), name="inference-lanes-setup")
    t.start()
    _join(t)
    if not out:
        raise RuntimeError("the setup thread failed")
    return out[0]


def _run_here(
    n_jobs: int, job: Callable[[int], None], after_job: Callable[[int], None] | None
) -> None:
    for i in range(n_jobs):
        job(i)
        if after_job is not None:
            after_job(i + 1)
