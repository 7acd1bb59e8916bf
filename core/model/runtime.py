"""Process settings that let PyTorch run at full speed on CPUs.

glibc serves every allocation above its mmap threshold (128 kB at start; it rises only after
such a block is freed, and never above 32 MB) with fresh pages from the kernel and hands them
back on free. A forward pass of the ensemble allocates activations of a few MB to a few tens of
MB per chunk, and a training step buffers of up to ~85 MB, so with the default settings every
chunk and step page-faults its memory anew. Measured on 2 cores, that cost half of the inference
throughput and ~10 % of a training step (at thresholds of 64/256 MB, the step's largest buffers
still faulted). Raising the mmap threshold above those sizes, and the trim threshold above what
one training step frees, keeps the blocks in the heap and reuses them; the price is that up to
:data:`TRIM_THRESHOLD` of freed memory stays with the process.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys

log = logging.getLogger(__name__)

MMAP_THRESHOLD = 256 << 20
"""Allocations below this size come from the heap (bytes)."""
TRIM_THRESHOLD = 512 << 20
"""Free memory at the top of the heap beyond this is returned to the system (bytes)."""

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

_state: dict[str, bool] = {}


def tune_allocator() -> bool:
    """Raise glibc's mmap and trim thresholds once per process (Linux with glibc only).

    Left alone when the user set ``MALLOC_MMAP_THRESHOLD_`` or ``MALLOC_TRIM_THRESHOLD_``
    (glibc's own tunables), or ``SOILMOISTURE_KEEP_MALLOC=1``.

    Returns:
        Whether the thresholds are set (now or by an earlier call).
    """
    if "done" in _state:
        return _state["done"]
    done = False
    user_set = any(
        os.environ.get(name)
        for name in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "SOILMOISTURE_KEEP_MALLOC")
    )
    if sys.platform.startswith("linux") and not user_set:
        try:
            mallopt = ctypes.CDLL(None).mallopt
        except (OSError, AttributeError):  # not glibc (e.g. musl)
            mallopt = None
        if mallopt is not None:
            mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
            mallopt.restype = ctypes.c_int
            done = (
                mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
                and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
            )
            if not done:
                log.debug("mallopt refused the thresholds; keeping glibc's defaults")
    _state["done"] = done
    return done
