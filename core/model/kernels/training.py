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

from .densesm import N_SERIES

log = logging.getLogger(__name__)

numba: Any
unavailable: str | None = None
"""Why the kernels cannot run in this process (None: they can)."""
try:
    import numba
    from numba import njit, prange
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


if numba is not None:
    try:

        @njit(inline="always", cache=True)
        def _mix(z: Any) -> Any:
            """SplitMix64's output function of ``z`` plus the golden-ratio increment."""
            z = z + np.uint64(0x9E3779B97F4A7C15)
            z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            return z ^ (z >> np.uint64(31))

        @njit(inline="always", cache=True)
        def _affine_relu_drop_pool_row(
            x: Any,
            mu: Any,
            a: Any,
            d: Any,
            seed: Any,
            row: Any,
            dropout: Any,
            scale: Any,
            out: Any,
            mask: Any,
        ) -> None:
            """One channel row: ``relu((x - mu) * a + d)``, dropout and pool 2.

            ``x`` and ``mask`` are ``(T, B)``, ``out`` is ``(T // 2, B)``. Pairs of steps are
            summed, times ``scale``; ``mask`` is 1 where a value was kept and positive.
            """
            t_len, b_len = x.shape
            t2 = t_len // 2
            nw = (b_len + 31) // 32
            for p in range(t2):
                for q in range(nw):
                    b0 = q * 32
                    n = min(32, b_len - b0)
                    if dropout:
                        z = _mix(np.uint64(seed) + np.uint64((row * t2 + p) * nw + q))
                        w0 = np.uint32(z & np.uint64(0xFFFFFFFF))
                        w1 = np.uint32(z >> np.uint64(32))
                    else:
                        w0 = np.uint32(0xFFFFFFFF)
                        w1 = w0
                    for j in range(n):
                        v0 = (x[2 * p, b0 + j] - mu) * a + d
                        v1 = (x[2 * p + 1, b0 + j] - mu) * a + d
                        k0 = np.int32((w0 >> np.uint32(j)) & np.uint32(1)) & np.int32(v0 > 0)
                        k1 = np.int32((w1 >> np.uint32(j)) & np.uint32(1)) & np.int32(v1 > 0)
                        mask[2 * p, b0 + j] = k0
                        mask[2 * p + 1, b0 + j] = k1
                        out[p, b0 + j] = (
                            (v0 if k0 else np.float32(0.0)) + (v1 if k1 else np.float32(0.0))
                        ) * scale
            if t_len != 2 * t2:
                for b in range(b_len):
                    mask[t_len - 1, b] = 0

        @njit(inline="always", cache=True)
        def _pool_grad_row(g: Any, mask: Any, scale: Any, gx: Any) -> None:
            """Backward of :func:`_affine_relu_drop_pool_row` up to its affine map, one row.

            ``g`` is the gradient of the pooled row ``(T // 2, B)``; writes ``gx`` ``(T, B)``,
            the gradient of ``(x - mu) * a + d``.
            """
            t_len, b_len = gx.shape
            t2 = t_len // 2
            for p in range(t2):
                for b in range(b_len):
                    v = g[p, b] * scale
                    gx[2 * p, b] = np.float32(mask[2 * p, b]) * v
                    gx[2 * p + 1, b] = np.float32(mask[2 * p + 1, b]) * v
            if t_len != 2 * t2:
                for b in range(b_len):
                    gx[t_len - 1, b] = 0

        @njit(parallel=True, cache=True)
        def _relu_drop_pool2_rows(
            h: Any, seed: Any, dropout: Any, scale: Any, out: Any, mask: Any
        ) -> None:  # pragma: no cover - compiled
            one = np.float32(1.0)
            zero = np.float32(0.0)
            for r in prange(h.shape[0]):
                _affine_relu_drop_pool_row(
                    h[r], zero, one, zero, seed, r, dropout, scale, out[r], mask[r]
                )

        @njit(parallel=True, cache=True)
        def _relu_drop_pool2_rows_backward(
            g: Any, mask: Any, scale: Any, gh: Any
        ) -> None:  # pragma: no cover - compiled
            for r in prange(gh.shape[0]):
                _pool_grad_row(g[r], mask[r], scale, gh[r])

        @njit(inline="always", cache=True)
        def _tap_sum(y: Any, c: Any, bias: Any, t: Any, out: Any) -> None:
            """``out = bias + sum_k y[k, c, clamp(t + k - 2)]``; ``y`` is ``(5, C, T, B)``."""
            last = y.shape[2] - 1
            y0 = y[0, c, max(t - 2, 0)]
            y1 = y[1, c, max(t - 1, 0)]
            y2 = y[2, c, t]
            y3 = y[3, c, min(t + 1, last)]
            y4 = y[4, c, min(t + 2, last)]
            for b in range(out.shape[0]):
                out[b] = bias + y0[b] + y1[b] + y2[b] + y3[b] + y4[b]

        @njit(parallel=True, cache=True, fastmath={"reassoc"})
        def _conv_bn_rows(
            y: Any,
            bias: Any,
            gamma: Any,
            beta: Any,
            eps: Any,
            seed: Any,
            dropout: Any,
            scale: Any,
            h: Any,
            out: Any,
            mask: Any,
            mean: Any,
            var: Any,
        ) -> None:  # pragma: no cover - compiled
            m_len, _, c_len, t_len, b_len = y.shape
            n = t_len * b_len
            for r in prange(m_len * c_len):
                m = r // c_len
                c = r % c_len
                hr = h[m, c]
                s = 0.0
                for t in range(t_len):
                    _tap_sum(y[m], c, bias[r], t, hr[t])
                    for b in range(b_len):
                        s += hr[t, b]
                mu = s / n
                ss = 0.0
                for t in range(t_len):
                    for b in range(b_len):
                        d = hr[t, b] - mu
                        ss += d * d
                v_b = ss / n
                mean[r] = mu
                var[r] = v_b
                a = np.float32(gamma[r] / np.sqrt(v_b + eps))
                _affine_relu_drop_pool_row(
                    hr,
                    np.float32(mu),
                    a,
                    beta[r],
                    seed,
                    r,
                    dropout,
                    scale,
                    out[m, c],
                    mask[m, c],
                )

        @njit(parallel=True, cache=True, fastmath={"reassoc"})
        def _conv_bn_rows_backward(
            g: Any,
            mask: Any,
            h: Any,
            mean: Any,
            var: Any,
            gamma: Any,
            eps: Any,
            scale: Any,
            grad_y: Any,
            grad_gamma: Any,
            grad_beta: Any,
            grad_bias: Any,
        ) -> None:  # pragma: no cover - compiled
            m_len, _, c_len, t_len, b_len = grad_y.shape
            n = t_len * b_len
            for r in prange(m_len * c_len):
                m = r // c_len
                c = r % c_len
                hr = h[m, c]
                gx = np.empty((t_len, b_len), dtype=np.float32)
                _pool_grad_row(g[m, c], mask[m, c], scale, gx)
                mu = mean[r]
                inv = 1.0 / np.sqrt(var[r] + eps)
                s_g = 0.0
                s_gx = 0.0
                for t in range(t_len):
                    for b in range(b_len):
                        v = gx[t, b]
                        s_g += v
                        s_gx += v * ((hr[t, b] - mu) * inv)
                grad_gamma[r] = s_gx
                grad_beta[r] = s_g
                k = np.float32(gamma[r] * inv)
                a = np.float32(s_g / n)
                bb = np.float32(s_gx / n)
                mu32 = np.float32(mu)
                inv32 = np.float32(inv)
                s_h = 0.0
                for t in range(t_len):
                    for b in range(b_len):
                        v = k * (gx[t, b] - a - (hr[t, b] - mu32) * inv32 * bb)
                        s_h += v
                        gx[t, b] = v
                grad_bias[r] = s_h
                # tap k at step i received the convolution's steps t with clamp(t + k - 2) = i
                for tap in range(5):
                    for i in range(t_len):
                        t = i - tap + 2
                        if 0 <= t < t_len:
                            for b in range(b_len):
                                grad_y[m, tap, c, i, b] = gx[t, b]
                        else:
                            for b in range(b_len):
                                grad_y[m, tap, c, i, b] = 0
                    # the padding's copies of the first and last steps
                    for t in range(0, 2 - tap):
                        for b in range(b_len):
                            grad_y[m, tap, c, 0, b] += gx[t, b]
                    for t in range(max(t_len + 2 - tap, 0), t_len):
                        for b in range(b_len):
                            grad_y[m, tap, c, t_len - 1, b] += gx[t, b]

        @njit(inline="always", cache=True)
        def _row15(w: Any, r: Any) -> Any:
            """Row ``r`` of ``(R, 15)`` weights as a tuple (held in registers)."""
            return (
                w[r, 0], w[r, 1], w[r, 2], w[r, 3], w[r, 4], w[r, 5], w[r, 6], w[r, 7],
                w[r, 8], w[r, 9], w[r, 10], w[r, 11], w[r, 12], w[r, 13], w[r, 14],
            )  # fmt: skip

        @njit(inline="always", cache=True, fastmath={"reassoc", "contract"})
        def _window(c: Any, a: Any, s0: Any, s1: Any, s2: Any, s3: Any, s4: Any) -> Any:
            """``c`` plus the product of 15 weights and a window of 5 steps.

            ``a``: the weights, 3 series per tap, tap-major; ``s0 .. s4``: the steps, each a
            tuple of the 3 series' values.
            """
            return (
                c
                + a[0] * s0[0] + a[1] * s0[1] + a[2] * s0[2]
                + a[3] * s1[0] + a[4] * s1[1] + a[5] * s1[2]
                + a[6] * s2[0] + a[7] * s2[1] + a[8] * s2[2]
                + a[9] * s3[0] + a[10] * s3[1] + a[11] * s3[2]
                + a[12] * s4[0] + a[13] * s4[1] + a[14] * s4[2]
            )  # fmt: skip

        @njit(nogil=True, cache=True, fastmath={"reassoc", "contract"})
        def _series_conv_rows(p: Any, w: Any, bias: Any, out: Any) -> None:  # pragma: no cover
            # p: (3, T + 4, B) replicate-padded series; w: (R, 15), column 3 * tap + series;
            # out: (R, T // 2, B), the pairs of ReLU'd steps summed. Two rows at a time, so that
            # each series value loaded serves both (an odd last row is computed twice).
            z = np.float32(0.0)
            x0, x1, x2 = p[0], p[1], p[2]
            r_len = w.shape[0]
            for rr in range((r_len + 1) // 2):
                r = 2 * rr
                q = min(r + 1, r_len - 1)
                wr, wq = _row15(w, r), _row15(w, q)
                br, bq = bias[r], bias[q]
                outr, outq = out[r], out[q]
                for t in range(outr.shape[0]):
                    s = 2 * t
                    for b in range(p.shape[2]):
                        # steps s .. s + 5 of the three series
                        y0 = (x0[s, b], x1[s, b], x2[s, b])
                        y1 = (x0[s + 1, b], x1[s + 1, b], x2[s + 1, b])
                        y2 = (x0[s + 2, b], x1[s + 2, b], x2[s + 2, b])
                        y3 = (x0[s + 3, b], x1[s + 3, b], x2[s + 3, b])
                        y4 = (x0[s + 4, b], x1[s + 4, b], x2[s + 4, b])
                        y5 = (x0[s + 5, b], x1[s + 5, b], x2[s + 5, b])
                        ur = _window(br, wr, y0, y1, y2, y3, y4)
                        vr = _window(br, wr, y1, y2, y3, y4, y5)
                        uq = _window(bq, wq, y0, y1, y2, y3, y4)
                        vq = _window(bq, wq, y1, y2, y3, y4, y5)
                        outr[t, b] = max(ur, z) + max(vr, z)
                        outq[t, b] = max(uq, z) + max(vq, z)

        @njit(inline="always", cache=True)  # inlined: compiled with its callers' fastmath
        def _conv_pair(h: Any, w: Any, bias: Any, o0: Any, s: Any, acc: Any) -> None:
            """A kernel-5 convolution of 4 output rows at steps ``s`` and ``s + 1``.

            ``h``: ``(C, T, B)`` input; ``w``: ``(O, C, 5)``; ``bias``: ``(O,)``. Rows ``o0 ..
            o0 + 3`` (clamped to the last, so that a short last block repeats it); steps read
            clamped to ``0 .. T - 1`` (replicate padding; a step ``s + 1`` past the end repeats
            the last). ``acc`` ``(8, B)`` gets row ``i`` at step ``s`` in ``2 i``, at ``s + 1``
            in ``2 i + 1``. Four rows by two steps share every input value loaded: 40 products
            per 6 values.
            """
            c_len, t_len, b_len = h.shape
            last_o, last_t = w.shape[0] - 1, t_len - 1
            wa, wb = w[min(o0, last_o)], w[min(o0 + 1, last_o)]
            wc, wd = w[min(o0 + 2, last_o)], w[min(o0 + 3, last_o)]
            ba, bb = bias[min(o0, last_o)], bias[min(o0 + 1, last_o)]
            bc, bd = bias[min(o0 + 2, last_o)], bias[min(o0 + 3, last_o)]
            for b in range(b_len):
                acc[0, b] = ba
                acc[1, b] = ba
                acc[2, b] = bb
                acc[3, b] = bb
                acc[4, b] = bc
                acc[5, b] = bc
                acc[6, b] = bd
                acc[7, b] = bd
            i0, i1 = max(s - 2, 0), max(s - 1, 0)
            i2, i3 = min(s, last_t), min(s + 1, last_t)
            i4, i5 = min(s + 2, last_t), min(s + 3, last_t)
            for c in range(c_len):
                r0, r1, r2, r3, r4, r5 = h[c, i0], h[c, i1], h[c, i2], h[c, i3], h[c, i4], h[c, i5]
                a0, a1, a2, a3, a4 = wa[c, 0], wa[c, 1], wa[c, 2], wa[c, 3], wa[c, 4]
                b0, b1, b2, b3, b4 = wb[c, 0], wb[c, 1], wb[c, 2], wb[c, 3], wb[c, 4]
                c0, c1, c2, c3, c4 = wc[c, 0], wc[c, 1], wc[c, 2], wc[c, 3], wc[c, 4]
                d0, d1, d2, d3, d4 = wd[c, 0], wd[c, 1], wd[c, 2], wd[c, 3], wd[c, 4]
                for b in range(b_len):
                    x0, x1, x2, x3, x4, x5 = r0[b], r1[b], r2[b], r3[b], r4[b], r5[b]
                    acc[0, b] += a0 * x0 + a1 * x1 + a2 * x2 + a3 * x3 + a4 * x4
                    acc[1, b] += a0 * x1 + a1 * x2 + a2 * x3 + a3 * x4 + a4 * x5
                    acc[2, b] += b0 * x0 + b1 * x1 + b2 * x2 + b3 * x3 + b4 * x4
                    acc[3, b] += b0 * x1 + b1 * x2 + b2 * x3 + b3 * x4 + b4 * x5
                    acc[4, b] += c0 * x0 + c1 * x1 + c2 * x2 + c3 * x3 + c4 * x4
                    acc[5, b] += c0 * x1 + c1 * x2 + c2 * x3 + c3 * x4 + c4 * x5
                    acc[6, b] += d0 * x0 + d1 * x1 + d2 * x2 + d3 * x3 + d4 * x4
                    acc[7, b] += d0 * x1 + d1 * x2 + d2 * x3 + d3 * x4 + d4 * x5

        @njit(nogil=True, cache=True, fastmath={"reassoc", "contract"})
        def _conv_relu_pool2_rows(h: Any, w: Any, bias: Any, out: Any) -> None:  # pragma: no cover
            # h: (M, C, T, B); w: (M, O, C, 5); bias: (M, O); out: (M, O, T // 2, B), pairs of
            # ReLU'd steps summed
            m_len, _, t_len, b_len = h.shape
            o_len = w.shape[1]
            z = np.float32(0.0)
            acc = np.empty((8, b_len), dtype=np.float32)
            for m in range(m_len):
                for o0 in range(0, o_len, 4):
                    for p in range(t_len // 2):
                        _conv_pair(h[m], w[m], bias[m], o0, 2 * p, acc)
                        for i in range(min(4, o_len - o0)):
                            o = out[m, o0 + i, p]
                            for b in range(b_len):
                                o[b] = max(acc[2 * i, b], z) + max(acc[2 * i + 1, b], z)

        @njit(nogil=True, cache=True, fastmath={"reassoc", "contract"})
        def _conv_relu_pool4_rows(h: Any, w: Any, bias: Any, out: Any) -> None:  # pragma: no cover
            # h: (M, C, T, B); out: (M, B, O * ceil(T / 4)), means of windows of 4 ReLU'd steps
            m_len, _, t_len, b_len = h.shape
            o_len = w.shape[1]
            n_out = (t_len + 3) // 4
            z = np.float32(0.0)
            acc = np.empty((8, b_len), dtype=np.float32)
            win = np.empty((4, b_len), dtype=np.float32)
            for m in range(m_len):
                for o0 in range(0, o_len, 4):
                    for p in range(n_out):
                        lo, hi = 4 * p, min(4 * p + 4, t_len)
                        win[:] = 0
                        for s in range(lo, hi, 2):
                            _conv_pair(h[m], w[m], bias[m], o0, s, acc)
                            both = s + 1 < hi
                            for i in range(4):
                                for b in range(b_len):
                                    win[i, b] += max(acc[2 * i, b], z)
                                if both:
                                    for b in range(b_len):
                                        win[i, b] += max(acc[2 * i + 1, b], z)
                        scale = np.float32(1.0 / (hi - lo))
                        for i in range(min(4, o_len - o0)):
                            col = (o0 + i) * n_out + p
                            for b in range(b_len):
                                out[m, b, col] = win[i, b] * scale

        @njit(nogil=True, cache=True)
        def _temporal_rows(
            p: Any, w1: Any, b1: Any, w2: Any, b2: Any, w3: Any, b3: Any, out: Any
        ) -> None:  # pragma: no cover
            # p: (3, T + 4, B); w1: (M * C1, 15), b1: (M * C1,); w2: (M, C2, C1, 5), b2: (M, C2);
            # w3: (M, C3, C2, 5), b3: (M, C3); out: (M, B, C3 * ceil(T // 4 / 4)). One member
            # at a time: its activations (~1 MB for 256 series) stay in the core's L2 cache.
            m_len, c2, c1, _ = w2.shape
            t2, b_len = (p.shape[1] - 4) // 2, p.shape[2]
            h1 = np.empty((1, c1, t2, b_len), dtype=np.float32)
            h2 = np.empty((1, c2, t2 // 2, b_len), dtype=np.float32)
            for m in range(m_len):
                rows = slice(m * c1, (m + 1) * c1)
                _series_conv_rows(p, w1[rows], b1[rows], h1[0])
                _conv_relu_pool2_rows(h1, w2[m : m + 1], b2[m : m + 1], h2)
                _conv_relu_pool4_rows(h2, w3[m : m + 1], b3[m : m + 1], out[m : m + 1])

    except Exception as exc:  # pragma: no cover - e.g. no writable cache folder
        unavailable = f"numba could not set up the kernels: {exc}"


def relu_drop_pool2(h: Tensor, dropout: bool, scale: float) -> tuple[Tensor, Tensor]:
    """ReLU, dropout and pool 2 (pairs summed, times ``scale``) of ``(..., T, B)``.

    Returns the ``(..., T // 2, B)`` output and the ``uint8`` mask ``(..., T, B)`` of kept
    positive values that :func:`relu_drop_pool2_backward` takes.
    """
    *lead, t, b = h.shape
    if t < 2:
        raise ValueError(f"pool 2 needs at least 2 steps, got {t}")
    h3 = h.detach().contiguous().view(-1, t, b)
    out = h.new_empty((*lead, t // 2, b))
    mask = torch.empty(h.shape, dtype=torch.uint8)
    with _launch():
        _relu_drop_pool2_rows(
            _np(h3),
            _seed() if dropout else 0,
            dropout,
            np.float32(scale),
            _np(out.view(-1, t // 2, b)),
            _np(mask.view(-1, t, b)),
        )
    return out, mask


def relu_drop_pool2_backward(grad: Tensor, mask: Tensor, scale: float) -> Tensor:
    """Gradient of :func:`relu_drop_pool2`'s input from its output's gradient ``grad``."""
    *lead, t, b = mask.shape
    gh = grad.new_empty(mask.shape)
    with _launch():
        _relu_drop_pool2_rows_backward(
            _np(grad.contiguous().view(-1, t // 2, b)),
            _np(mask.view(-1, t, b)),
            np.float32(scale),
            _np(gh.view(-1, t, b)),
        )
    return gh


def conv_bn_relu_drop_pool2(
    y: Tensor,
    bias: Tensor,
    gamma: Tensor,
    beta: Tensor,
    eps: float,
    dropout: bool,
    scale: float,
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """Tap sum, bias, BatchNorm on batch statistics, then :func:`relu_drop_pool2`.

    ``y`` is ``(M, 5, C, T, B)``: tap ``k`` of a kernel-5 convolution applied at each of the
    ``T`` input steps. The convolution over the replicate-padded input at step ``t`` is the sum
    of tap ``k`` at step ``clamp(t + k - 2, 0, T - 1)``: the padding's copies of the first and
    last steps give the same products as those steps, so they are never computed. ``bias``,
    ``gamma`` and ``beta`` are ``(M * C,)``.

    Returns the pooled output ``(M, C, T // 2, B)``, the convolution before the
    BatchNorm ``(M, C, T, B)``, the mask, and the batch mean and (biased) variance per channel
    (float64), which the backward pass and the running statistics use.
    """
    m, _, c, t, b = y.shape
    if t < 2:
        raise ValueError(f"pool 2 needs at least 2 steps, got {t}")
    h = y.new_empty((m, c, t, b))
    out = y.new_empty((m, c, t // 2, b))
    mask = torch.empty((m, c, t, b), dtype=torch.uint8)
    mean = torch.empty(m * c, dtype=torch.float64)
    var = torch.empty(m * c, dtype=torch.float64)
    with _launch():
        _conv_bn_rows(
            _np(y.contiguous()),
            _np(bias),
            _np(gamma),
            _np(beta),
            float(eps),
            _seed() if dropout else 0,
            dropout,
            np.float32(scale),
            _np(h),
            _np(out),
            _np(mask),
            _np(mean),
            _np(var),
        )
    return out, h, mask, mean, var


def conv_bn_relu_drop_pool2_backward(
    grad: Tensor,
    mask: Tensor,
    h: Tensor,
    mean: Tensor,
    var: Tensor,
    gamma: Tensor,
    eps: float,
    scale: float,
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Gradients of :func:`conv_bn_relu_drop_pool2`.

    Returns the gradient of the tap products ``(M, 5, C, T, B)`` and those of ``bias``,
    ``gamma`` and ``beta``.
    """
    m, c, t, b = h.shape
    grad_y = h.new_empty((m, 5, c, t, b))
    grad_gamma = torch.empty(m * c, dtype=torch.float64)
    grad_beta = torch.empty(m * c, dtype=torch.float64)
    grad_bias = torch.empty(m * c, dtype=torch.float64)
    with _launch():
        _conv_bn_rows_backward(
            _np(grad.contiguous()),
            _np(mask),
            _np(h),
            _np(mean),
            _np(var),
            _np(gamma),
            float(eps),
            np.float32(scale),
            _np(grad_y),
            _np(grad_gamma),
            _np(grad_beta),
            _np(grad_bias),
        )
    f32 = torch.float32
    return grad_y, grad_bias.to(f32), grad_gamma.to(f32), grad_beta.to(f32)


def temporal_branch(
    padded: Tensor,
    w1: Tensor,
    b1: Tensor,
    w2: Tensor,
    b2: Tensor,
    w3: Tensor,
    b3: Tensor,
) -> Tensor:
    """Inference: the temporal branch of every member, ``(3, T + 4, B)`` -> ``(M, B, 12)``.

    ``padded`` holds the 3 series replicate-padded by 2 steps on each side, time-major. Layer 1:
    ``w1`` ``(M * C1, 15)`` (column ``3 * tap + series``) and ``b1`` ``(M * C1,)``; layers 2
    and 3: ``w2`` ``(M, C2, C1, 5)``, ``b2`` ``(M, C2)``, ``w3`` ``(M, C3, C2, 5)``, ``b3``
    ``(M, C3)``; BatchNorm folded, the 1/2 of the pools after layers 1 and 2 folded into the
    next layer's weights (the pools here sum their pairs). Each layer is a kernel-5
    convolution with replicate padding, then ReLU; pools of 2 after layers 1 and 2, an average
    pool of 4 with ceil mode after layer 3. Returns ``(M, B, C3 * ceil((T // 4) / 4))``,
    channel-major (the flattening of the temporal features).
    """
    t, b = padded.shape[1] - 4, padded.shape[2]
    if padded.dim() != 3 or padded.shape[0] != N_SERIES or t < 4:
        raise ValueError(
            f"padded series must be ({N_SERIES}, T + 4, B) with T >= 4, got {tuple(padded.shape)}"
        )
    m, c2, c1, _ = w2.shape
    c3 = w3.shape[1]
    expected = {
        "w1": (m * c1, 5 * N_SERIES),  # 5 taps x 3 series
        "b1": (m * c1,),
        "w2": (m, c2, c1, 5),
        "b2": (m, c2),
        "w3": (m, c3, c2, 5),
        "b3": (m, c3),
    }
    given = {"w1": w1, "b1": b1, "w2": w2, "b2": b2, "w3": w3, "b3": b3}
    for name, shape in expected.items():
        if tuple(given[name].shape) != shape:
            raise ValueError(f"{name} must be {shape}, got {tuple(given[name].shape)}")
    a = {name: _np(x.contiguous()) for name, x in given.items()}
    out = padded.new_empty((m, b, c3 * ((t // 4 + 3) // 4)))
    _temporal_rows(
        _np(padded.contiguous()), a["w1"], a["b1"], a["w2"], a["b2"], a["w3"], a["b3"], _np(out)
    )
    return out


def _warm_training() -> None:
    h = torch.zeros(1, 1, 4, 2)
    out, mask = relu_drop_pool2(h, False, 0.5)
    relu_drop_pool2_backward(out, mask, 0.5)
    zero, one = torch.zeros(1), torch.ones(1)
    out, pre, mask, mean, var = conv_bn_relu_drop_pool2(
        torch.zeros(1, 5, 1, 4, 2), zero, one, zero, 1e-5, False, 0.5
    )
    conv_bn_relu_drop_pool2_backward(out, mask, pre, mean, var, one, 1e-5, 0.5)


def _warm_inference() -> None:
    z = torch.zeros
    temporal_branch(z(3, 8, 2), z(1, 15), z(1), z(1, 1, 1, 5), z(1, 1), z(1, 1, 1, 5), z(1, 1))


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
