"""Fused CPU kernels for the temporal branch, in training and inference (numba; optional).

A training step spends much of its time in passes over the temporal branch's activations:
layer 1's output alone is ``25 x 32 x 46 x 384`` values (56 MB) per step, and ReLU, dropout,
pool, padding and BatchNorm each read and write it again, forward and backward. The kernels here
do each chain in one pass per channel row, with the row in cache:

* :func:`relu_drop_pool2` / :func:`relu_drop_pool2_backward`: ReLU, dropout (p = 1/2) and
  pool 2. The backward pass needs one byte per value (the kept and positive mask) instead of
  the float activations.
* :func:`conv_bn_relu_drop_pool2` / :func:`conv_bn_relu_drop_pool2_backward`: the same after a
  tap convolution's shifted tap sum and a BatchNorm on batch statistics; the backward pass writes
  the tap products' gradient directly. As everywhere in :mod:`core.model.grouped`, the
  convolutions' replicate padding is never materialised: the edge taps read the edge steps.

Inference (BatchNorm folded into the convolutions, no dropout) has one more:

* :func:`temporal_branch`: the whole branch, member by member, so that a member's activations
  for a chunk of 256 series (~1 MB) stay in the core's L2 cache (layer by layer for all 25
  members, they spilled to memory: 1.3x slower on two lanes). Per member:

  - layer 1 straight from the series: each output is a 15-term product of the 3 series x 5
    taps window, then ReLU and pool 2, two output rows per pass over the series values, so the
    unpooled activations are never written;
  - layers 2 and 3: each output summed over its 5 taps and input channels in a scratch row
    that stays in the L1 cache, then ReLU and the pool (4 with ceil mode and its mean for
    layer 3, written in the ``(M, B, 12)`` layout of the temporal features). Four output
    channels at two steps share each input value loaded, and no tap products are written (the
    matrix-product form wrote 5 per output and read them back: 1.4x slower end to end).

The inference kernels run on one thread and release the GIL: inference runs them on its lanes,
one per CPU thread, each on its own chunk of series (:mod:`core.model.lanes`). The training
kernels split their rows over numba's threads, one launch at a time per process.

Dropout draws its bits from a counter-based generator (SplitMix64 of a seed and the position of
each 32-value word), seeded from PyTorch's generator: seeded runs repeat exactly, whatever the
number of threads. Rows (channels) are independent, so the results do not depend on how rows are
split over threads either.

The kernels run where numba is installed and the tensors are float32 on the CPU; otherwise
:mod:`core.model.grouped` uses its PyTorch operations, with the same results up to float
rounding (dropout draws differ). ``SOILMOISTURE_KERNELS=0`` switches them off. They are
compiled on first use and cached on disk by numba (``NUMBA_CACHE_DIR`` moves the cache).

The package: :mod:`.policy` (whether they run, :func:`prepare`), :mod:`.training` and
:mod:`.inference` (the kernels and their Python faces). The switch :data:`policy.unavailable`
and the set of prepared kinds live in :mod:`.policy`: read and patch them there.
"""

from __future__ import annotations

from .inference import temporal_branch
from .policy import (
    ENV_SWITCH,
    INFERENCE,
    TRAINING,
    enabled,
    numba,
    prepare,
    prepare_for,
    ready,
)
from .training import (
    conv_bn_relu_drop_pool2,
    conv_bn_relu_drop_pool2_backward,
    relu_drop_pool2,
    relu_drop_pool2_backward,
)

__all__ = [
    "ENV_SWITCH",
    "INFERENCE",
    "TRAINING",
    "conv_bn_relu_drop_pool2",
    "conv_bn_relu_drop_pool2_backward",
    "enabled",
    "numba",
    "prepare",
    "prepare_for",
    "ready",
    "relu_drop_pool2",
    "relu_drop_pool2_backward",
    "temporal_branch",
]
