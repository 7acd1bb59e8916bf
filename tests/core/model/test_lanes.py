"""Inference lanes: every job once, errors and cancel handed back, PyTorch's state restored."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from core.model import lanes
from core.model.ensemble import Ensemble


@pytest.fixture
def two_threads():
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(previous)


def test_every_job_runs_once_on_several_threads(two_threads):
    seen: list[tuple[int, str]] = []
    lock = threading.Lock()
    inside = []

    def job(i: int) -> None:
        inside.append(torch.get_num_threads())
        with lock:
            seen.append((i, threading.current_thread().name))
        threading.Event().wait(0.002)  # long enough for the other lane to take jobs

    lanes.run(40, job, 2)
    assert sorted(i for i, _ in seen) == list(range(40))
    assert len({name for _, name in seen}) == 2
    assert threading.current_thread().name not in {name for _, name in seen}
    assert set(inside) == {1}  # PyTorch single-threaded in every lane
    assert torch.get_num_threads() == 2  # and restored


def test_one_lane_runs_in_order_on_the_calling_thread():
    order = []
    lanes.run(5, order.append, 1)
    assert order == [0, 1, 2, 3, 4]
    lanes.run(0, order.append, 4)  # no jobs: nothing runs
    assert order == [0, 1, 2, 3, 4]


def test_blocks_cover_every_row_once_and_report_fractions(two_threads):
    covered = np.zeros(1003, dtype=int)
    fractions: list[float] = []

    def block(start: int, stop: int) -> None:
        assert stop - start <= 100
        covered[start:stop] += 1

    lanes.run_blocks(1003, 100, block, 2, fractions.append)
    assert covered.tolist() == [1] * 1003  # 11 blocks, the last of 3 rows
    # Reports may skip counts when both lanes finish at once; they rise to 1 in elevenths.
    assert fractions == sorted(set(fractions)) and fractions[-1] == 1.0
    assert all(round(f * 11, 9).is_integer() for f in fractions)
    reports = len(fractions)
    lanes.run_blocks(0, 100, block, 2, fractions.append)  # no rows: no block, no report
    assert len(fractions) == reports


def test_a_failing_job_stops_the_lanes_and_its_error_is_raised(two_threads):
    ran = []

    def job(i: int) -> None:
        if i == 3:
            raise MemoryError("job 3")
        threading.Event().wait(0.002)
        ran.append(i)

    with pytest.raises(MemoryError, match="job 3"):
        lanes.run(200, job, 2)
    assert len(ran) < 199  # the lanes stopped, they did not run the remaining jobs
    assert torch.get_num_threads() == 2


def test_after_job_runs_on_the_calling_thread_and_may_cancel(two_threads):
    calls: list[tuple[int, str]] = []

    def after(done: int) -> None:
        calls.append((done, threading.current_thread().name))
        if done >= 6:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        lanes.run(100, lambda i: threading.Event().wait(0.002), 2, after)
    assert {name for _, name in calls} == {threading.current_thread().name}
    counts = [d for d, _ in calls]
    assert counts == sorted(counts) and counts[-1] < 100
    assert torch.get_num_threads() == 2
    assert not _lanes_alive()  # every lane stopped before the interrupt was raised


def _lanes_alive() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("inference-lane")]


def test_other_threads_keep_their_thread_counts(two_threads):
    """PyTorch's count is per OS thread: lanes set theirs, nobody else's."""
    during: dict[str, int] = {}
    started, lanes_busy, release = threading.Event(), threading.Event(), threading.Event()

    def running() -> None:  # a thread that used PyTorch before the lanes
        torch.get_num_threads()
        started.set()
        lanes_busy.wait()
        during["running"] = torch.get_num_threads()
        release.wait()

    def newcomer() -> None:  # a thread whose first use of PyTorch falls inside the lanes
        lanes_busy.wait()
        during["newcomer"] = torch.get_num_threads()
        release.wait()

    others = [threading.Thread(target=running), threading.Thread(target=newcomer)]
    for t in others:
        t.start()
    started.wait()
    inside = []

    def job(i: int) -> None:
        inside.append(torch.get_num_threads())
        if i == 0:
            lanes_busy.set()
            while len(during) < 2:
                threading.Event().wait(0.01)

    lanes.run(4, job, 2)
    release.set()
    for t in others:
        t.join()
    assert set(inside) == {1}
    assert during == {"running": 2, "newcomer": 2}
    assert torch.get_num_threads() == 2


def test_the_process_default_is_put_back_not_the_callers_count(two_threads):
    """A caller whose own count (2) differs from the process default (1) keeps its count, and
    threads that start using PyTorch afterwards still take the default."""
    result: dict[str, int] = {}
    ready, go = threading.Event(), threading.Event()

    def caller() -> None:
        torch.get_num_threads()  # takes the default of the moment, 2
        ready.set()
        go.wait()
        lanes.run(4, lambda i: None, 2)
        result["caller"] = torch.get_num_threads()

    def fresh() -> None:
        result["fresh"] = torch.get_num_threads()

    t = threading.Thread(target=caller)
    t.start()
    ready.wait()
    torch.set_num_threads(1)  # this thread's count and the process default
    go.set()
    t.join()
    t = threading.Thread(target=fresh)
    t.start()
    t.join()
    assert result == {"caller": 2, "fresh": 1}


def test_inference_kernels_run_serially_without_the_gil():
    """Lanes call them side by side without a lock: they must never use numba's threading
    layer (whose "workqueue" flavour aborts on concurrent launches)."""
    from core.model import kernels

    if kernels.numba is None:
        pytest.skip("numba is not installed")
    for f in (
        kernels.inference._series_conv_rows,
        kernels.inference._conv_relu_pool2_rows,
        kernels.inference._conv_relu_pool4_rows,
        kernels.inference._temporal_rows,
    ):
        assert f.targetoptions.get("nogil") and not f.targetoptions.get("parallel"), f


def test_a_prediction_runs_on_several_lanes(published, two_threads, monkeypatch):
    ens = Ensemble.from_state_dicts({k: published[k] for k in ("coarse_1_8", "coarse_3_32")})
    names = set()
    head = ens.net.head

    def recording_head(*args):
        names.add(threading.current_thread().name)
        return head(*args)

    monkeypatch.setattr(ens.net, "head", recording_head)
    # 100 chunks: a lane that starts late on a busy machine still finds work (12 were too few)
    x = np.random.default_rng(8).random((25_600, 156)).astype(np.float32)
    ens.predict(x, batch_size=256)
    assert len(names) == 2 and all(n.startswith("inference-lane") for n in names)


def test_lanes_keep_the_callers_inference_mode(two_threads):
    with torch.inference_mode():
        out = torch.zeros(8)  # an inference tensor: writable only in inference mode

        def job(i: int) -> None:
            assert torch.is_inference_mode_enabled() and not torch.is_grad_enabled()
            out[i] = i

        lanes.run(8, job, 2)
    assert out.tolist() == list(range(8))


def test_prediction_on_lanes_equals_one_thread(published, two_threads):
    ens = Ensemble.from_state_dicts(published)
    x = np.random.default_rng(5).random((700, 156)).astype(np.float32)
    x[350:, 18:] = x[:350, 18:]  # half the rows share their series
    on_lanes = ens.predict(x, batch_size=64)
    torch.set_num_threads(1)
    single = ens.predict(x, batch_size=64)
    torch.set_num_threads(2)
    np.testing.assert_allclose(on_lanes.members, single.members, atol=1e-6, rtol=0)
    assert torch.get_num_threads() == 2


def test_cancel_mid_prediction_stops_the_lanes(published, two_threads):
    from core.errors import Cancelled
    from core.progress import CallbackProgress

    ens = Ensemble.from_state_dicts({k: published[k] for k in ("coarse_1_8", "coarse_3_32")})
    x = np.random.default_rng(6).random((4000, 156)).astype(np.float32)
    fractions: list[float] = []
    progress = CallbackProgress(on_fraction=fractions.append, is_cancelled=lambda: bool(fractions))
    with pytest.raises(Cancelled):
        ens.predict(x, batch_size=64, progress=progress)
    assert len(fractions) == 1 and fractions[0] < 1.0  # stopped after the first block of rows
    assert torch.get_num_threads() == 2
    assert not _lanes_alive()
    # the ensemble still predicts afterwards
    assert np.isfinite(ens.predict(x[:10]).mean).all()
