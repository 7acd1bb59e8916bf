"""Whether and where the fused kernels run, and their compilation ahead of the work.

numba is imported here (optional: without it, or with ``SOILMOISTURE_KERNELS=0``, or off the
CPU or float32, :mod:`core.model.grouped` runs its PyTorch operations). :func:`prepare` compiles
or loads each kind of kernel (:data:`TRAINING`, :data:`INFERENCE`) once per process; a compiler
failure switches the kernels off for the process. The helpers shared by the kernels' Python
faces live here too: NumPy views of tensors, the training kernels' launch lock and thread count,
and the dropout seed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch
from torch import Tensor

log = logging.getLogger(__name__)

numba: Any
unavailable: str | None = None
"""Why the kernels cannot run in this process (None: they can)."""
try:
    import numba
except ImportError:  # pragma: no cover - numba is a declared dependency; the fallback is torch
    numba = None
    unavailable = "numba is not installed"

ENV_SWITCH = "SOILMOISTURE_KERNELS"
"""Environment variable: ``0`` keeps the training step on PyTorch operations only."""

TRAINING = "training"
INFERENCE = "inference"

_ready: set[str] = set()
"""Which kernels (:data:`TRAINING`, :data:`INFERENCE`) :func:`prepare` has compiled or loaded
in this process."""

_LOCK = threading.Lock()
"""One training kernel at a time per process: numba's "workqueue" threading layer (used where
neither TBB nor OpenMP is found) aborts the process on concurrent launches of parallel kernels,
e.g. two trainings in one QGIS session. The inference kernels are serial (no threading layer)
and take no lock."""


def enabled(*tensors: Tensor) -> bool:
    """Whether the fused kernels can run on ``tensors`` (numba usable, float32 on the CPU)."""
    if unavailable is not None or os.environ.get(ENV_SWITCH, "1") == "0":
        return False
    return all(t.device.type == "cpu" and t.dtype == torch.float32 for t in tensors)


def _np(t: Tensor) -> np.ndarray:
    """A NumPy view of a contiguous CPU tensor (no copy, no autograd)."""
    return t.detach().numpy()


@contextlib.contextmanager
def _launch() -> Iterator[None]:
    """Around a training kernel's call: the process-wide lock, and PyTorch's thread count.

    numba would otherwise use every core, whatever ``torch.set_num_threads`` says. Its OpenMP
    threading layer also sets the calling thread's OpenMP thread count, which is PyTorch's:
    that is put back after the call.
    """
    assert numba is not None
    threads = torch.get_num_threads()
    with _LOCK:
        numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
        try:
            yield
        finally:
            if torch.get_num_threads() != threads:
                torch.set_num_threads(threads)


def _seed() -> int:
    """A dropout seed drawn from PyTorch's default generator (``torch.manual_seed`` fixes it)."""
    return int(torch.randint(0, 2**62, (1,)))


def prepare(kind: str = TRAINING) -> bool:
    """Compile the kernels of ``kind`` (first use) or load them from numba's cache.

    Training calls this before its first step, and prediction before a large table, so that
    the one-off compilation (on two cores about 20 s for training's, 7 s for inference's)
    happens under a progress message rather than inside a step. Tiny inputs are used: no
    random numbers are drawn. Returns whether the kernels are usable; if numba fails here, the
    kernels are switched off for the process (with a warning in the log) and the work runs on
    PyTorch operations.
    """
    global unavailable
    if not enabled(torch.zeros(())):
        return False
    if kind in _ready:
        return True
    from .inference import _warm_inference
    from .training import _warm_training

    try:
        {TRAINING: _warm_training, INFERENCE: _warm_inference}[kind]()
    except Exception as exc:  # a compiler or cache failure must not stop the work
        unavailable = f"numba failed to compile the kernels: {exc}"
        log.warning("fused CPU kernels switched off: %s", unavailable)
        return False
    _ready.add(kind)
    return True


_COMPILE_SECONDS = {TRAINING: 20, INFERENCE: 7}
"""About how long the first :func:`prepare` of each kind takes on a new machine (two cores)."""


def prepare_for(device: torch.device, kind: str, message: Callable[[str], None]) -> bool:
    """:func:`prepare` the kernels of ``kind`` for work on ``device`` (only the CPU has them).

    ``message`` is told first when the kernels still have to be compiled or loaded in this
    process. Returns whether they are usable.
    """
    if device.type != "cpu" or not enabled(torch.zeros(())):
        return False
    if kind not in _ready:
        message(
            f"preparing the CPU kernels (compiled on first use, about {_COMPILE_SECONDS[kind]} s)"
        )
    return prepare(kind)


def ready(kind: str = TRAINING) -> bool:
    """Whether the kernels of ``kind`` are compiled or loaded in this process (:func:`prepare`)."""
    return kind in _ready and unavailable is None
