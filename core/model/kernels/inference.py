"""Inference's fused kernel: the whole temporal branch, member by member, BatchNorm folded.

:func:`temporal_branch` keeps a member's activations for a chunk of 256 series (~1 MB) in the
core's L2 cache. Layer 1 runs straight from the series (15-term products of the 3 series x 5
taps window, then ReLU and pool 2, two output rows per pass); layers 2 and 3 sum their 5 taps
and input channels in a scratch row in the L1 cache, four output channels at two steps per
input value loaded. The kernels run on one thread and release the GIL: inference runs them on
its lanes, each on its own chunk of series (:mod:`core.model.lanes`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..densesm import N_SERIES
from . import policy
from .policy import _np, numba

if numba is not None:
    from numba import njit

    try:

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
        policy.unavailable = f"numba could not set up the kernels: {exc}"


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


def _warm_inference() -> None:
    z = torch.zeros
    temporal_branch(z(3, 8, 2), z(1, 15), z(1), z(1, 1, 1, 5), z(1, 1), z(1, 1, 1, 5), z(1, 1))
