"""Tensor operations of the grouped convolutions, shared by training and inference.

Time-major layouts ``(member, channel, time, series)``: the series' windows and replicate
padding, the tap products of kernel-5 convolutions and their shifted sums (the padding is
never materialised), the pools, and BatchNorm's running statistics.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..densesm import (
    N_SERIES,
    N_STEPS,
)

BN_EPS = 1e-5
BN_MOMENTUM = 0.1


def _pool2(h: Tensor) -> Tensor:
    """Sum pairs of steps of ``(..., T, B)`` (a pool of 2, floor, without its 1/2)."""
    t = h.shape[-2] // 2
    return h[..., 0 : 2 * t : 2, :] + h[..., 1 : 2 * t : 2, :]


def _tap_products(w: Tensor, x: Tensor) -> Tensor:
    """Every tap of a kernel-5 convolution at every step: ``(M, 5, C_out, T, B)``.

    One batched product of ``w`` ``(M, 5 * C_out, C_in)`` (tap-major rows) and the input
    ``(M, C_in, T, B)``.
    """
    m, c_in, t, b = x.shape
    return torch.bmm(w, x.reshape(m, c_in, t * b)).view(m, 5, -1, t, b)


def _tap_products_backward(w: Tensor, x: Tensor, grad_y: Tensor) -> tuple[Tensor, Tensor]:
    """Gradients of :func:`_tap_products`' weights and input from its output's gradient."""
    m, c_in, t, b = x.shape
    gy = grad_y.reshape(m, -1, t * b)
    grad_w = torch.bmm(gy, x.reshape(m, c_in, t * b).transpose(1, 2))
    grad_x = torch.bmm(w.transpose(1, 2), gy).view(m, c_in, t, b)
    return grad_w, grad_x


def _update_running_stats(
    running_mean: Tensor, running_var: Tensor, mean: Tensor, var: Tensor, n: int
) -> None:
    """BatchNorm's running statistics after a batch of ``n`` with ``mean`` and biased ``var``.

    As ``F.batch_norm`` updates them: momentum 0.1, the variance made unbiased.
    """
    with torch.no_grad():
        running_mean.mul_(1 - BN_MOMENTUM).add_(mean.to(running_mean.dtype), alpha=BN_MOMENTUM)
        unbiased = (var * (n / max(n - 1, 1))).to(running_var.dtype)
        running_var.mul_(1 - BN_MOMENTUM).add_(unbiased, alpha=BN_MOMENTUM)


def _conv_taps(w: Tensor, bias: Tensor, x: Tensor) -> Tensor:
    """Per-member convolution, kernel 5, replicate padding 2, of ``(M, C_in, T, B)``.

    ``w`` is ``(M, 5 * C_out, C_in)`` (tap-major rows). One batched product gives every tap's
    contribution at every input step; the output at step ``t`` is the sum of tap ``k`` at step
    ``clamp(t + k - 2, 0, T - 1)``. The padding is never materialised: its steps are copies of
    the edge steps, and so are their products (4 fewer steps per tap to multiply than on a
    padded input). Time-major layout keeps each shifted operand a run of contiguous values.
    Returns ``(M, C_out, T, B)`` after the bias.
    """
    t = x.shape[2]
    y = _tap_products(w, x)
    out = y[:, 2] + bias
    for k in (0, 1, 3, 4):
        shift = k - 2  # output step s reads input step s + shift, clamped
        if shift < 0:
            out[:, :, -shift:] += y[:, k, :, : t + shift]
            out[:, :, :-shift] += y[:, k, :, :1]
        else:
            out[:, :, : t - shift] += y[:, k, :, shift:]
            out[:, :, t - shift :] += y[:, k, :, t - 1 :]
    return out


def _conv_taps_grad(grad: Tensor) -> Tensor:
    """Backward of :func:`_conv_taps`' tap sum: ``(M, C_out, T, B) -> (M, 5, C_out, T, B)``.

    Tap ``k`` at input step ``i`` receives the gradient of every output step that read it:
    ``i - k + 2``, and at the edges also the steps whose read was clamped to ``i``.
    """
    m, c_out, t, b = grad.shape
    grad_y = grad.new_empty((m, 5, c_out, t, b))
    grad_y[:, 2] = grad
    for k in (0, 1, 3, 4):
        shift = k - 2
        if shift < 0:
            grad_y[:, k, :, : t + shift] = grad[:, :, -shift:]
            grad_y[:, k, :, t + shift :].zero_()
            grad_y[:, k, :, :1] += grad[:, :, :-shift].sum(dim=2, keepdim=True)
        else:
            grad_y[:, k, :, shift:] = grad[:, :, : t - shift]
            grad_y[:, k, :, :shift].zero_()
            grad_y[:, k, :, t - 1 :] += grad[:, :, t - shift :].sum(dim=2, keepdim=True)
    return grad_y


def _padded_series(series: Tensor) -> Tensor:
    """``(B, 138)`` series -> ``(3, 50, B)``: time-major, replicate-padded by 2 steps."""
    return _pad2(series.reshape(series.shape[0], N_SERIES, N_STEPS).permute(1, 2, 0))


def _series_windows(series: Tensor) -> Tensor:
    """Layer 1's input columns: ``(B, 138)`` series -> ``(15, 46 * B)``.

    The 5 taps x 3 series of every step, replicate-padded, time-major.
    """
    x = _padded_series(series)
    return torch.stack([x[:, k : k + N_STEPS] for k in range(5)]).reshape(5 * N_SERIES, -1)


def _pad2(x: Tensor) -> Tensor:
    """Replicate-pad the time axis (second to last) of ``(..., T, B)`` by 2 on each side."""
    first, last = x[..., :1, :], x[..., -1:, :]
    return torch.cat((first, first, x, last, last), dim=-2)


def _layer1_weight(w: Tensor) -> Tensor:
    """Conv1 weights ``(M * 32, 3, 5)`` -> ``(M * 32, 15)``.

    Columns in the row order of :func:`_series_windows`.
    """
    return w.permute(0, 2, 1).reshape(w.shape[0], -1)


def _tap_weight(w: Tensor, m: int) -> Tensor:
    """Grouped conv weights ``(M * C_out, C_in, 5)`` -> ``(M, 5 * C_out, C_in)`` (tap-major)."""
    c_out, c_in = w.shape[0] // m, w.shape[1]
    return w.reshape(m, c_out, c_in, 5).permute(0, 3, 1, 2).reshape(m, 5 * c_out, c_in)


def _pool4_ceil(h: Tensor) -> Tensor:
    """Average pool 4 with ceil mode over 11 steps: ``(M, C, 11, B)`` -> ``(M, C, 3, B)``.

    The windows are [0, 4), [4, 8) and [8, 11).
    """
    return torch.stack((h[:, :, 0:4].mean(2), h[:, :, 4:8].mean(2), h[:, :, 8:].mean(2)), 2)
