"""The training step's fused kernels: ReLU, dropout and pool 2, alone or after a tap convolution.

* :func:`relu_drop_pool2` / :func:`relu_drop_pool2_backward`: ReLU, dropout (p = 1/2) and
  pool 2. The backward pass needs one byte per value (the kept and positive mask) instead of
  the float activations.
* :func:`conv_bn_relu_drop_pool2` / :func:`conv_bn_relu_drop_pool2_backward`: the same after a
  tap convolution's shifted tap sum and a BatchNorm on batch statistics; the backward pass writes
  the tap products' gradient directly.

They split their rows over numba's threads, one launch at a time per process
(:func:`.policy._launch`). Dropout draws its bits from SplitMix64 of a seed and the position of
each 32-value word.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from . import policy
from .policy import _launch, _np, _seed, numba

if numba is not None:
    from numba import njit, prange

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

    except Exception as exc:  # pragma: no cover - e.g. no writable cache folder
        policy.unavailable = f"numba could not set up the kernels: {exc}"


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


def _warm_training() -> None:
    h = torch.zeros(1, 1, 4, 2)
    out, mask = relu_drop_pool2(h, False, 0.5)
    relu_drop_pool2_backward(out, mask, 0.5)
    zero, one = torch.zeros(1), torch.ones(1)
    out, pre, mask, mean, var = conv_bn_relu_drop_pool2(
        torch.zeros(1, 5, 1, 4, 2), zero, one, zero, 1e-5, False, 0.5
    )
    conv_bn_relu_drop_pool2_backward(out, mask, pre, mean, var, one, 1e-5, 0.5)
