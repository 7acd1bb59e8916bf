"""Training: dropout, and the fused forward and backward passes of the temporal branch.

PyTorch autograd functions that do in one pass what ReLU, dropout, pool, convolution and
BatchNorm would do in several, with the fused CPU kernels of :mod:`core.model.kernels`
where they run; the same values and gradients as the unfused operations.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from .. import kernels
from .layers import _BatchNormParams
from .ops import (
    BN_EPS,
    _conv_taps,
    _conv_taps_grad,
    _pool2,
    _tap_products,
    _tap_products_backward,
    _update_running_stats,
)

_BYTE_MASKS: dict[tuple[torch.device, float], Tensor] = {}


def _keep_mask(shape: torch.Size | tuple[int, ...], device: torch.device, kept: float) -> Tensor:
    """Dropout's decisions for p = 1/2: a float tensor of ``shape``, ``kept`` or 0 at random.

    On CPUs one Bernoulli variate per value (``torch.bernoulli``) cost a third of a training
    step. Here every bit of random 64-bit words decides one value: the same distribution from
    1/64 of the draws, expanded through a table of the 256 byte patterns. Other devices draw
    ``torch.rand``.
    """
    n = math.prod(shape)
    if device.type != "cpu":
        return (torch.rand(shape, device=device) < 0.5).to(torch.float32) * kept
    key = (device, kept)
    table = _BYTE_MASKS.get(key)
    if table is None:
        bits = (torch.arange(256).unsqueeze(1) >> torch.arange(8)) & 1
        table = _BYTE_MASKS.setdefault(key, (kept * bits).to(torch.float32))
    words = torch.randint(-(2**63), 2**63 - 1, ((n + 63) // 64,), dtype=torch.int64)
    return table.index_select(0, words.view(torch.uint8).long()).view(-1)[:n].view(shape)


def _dropout(x: Tensor) -> Tensor:
    """Dropout with p = 1/2 in training: each value kept (and doubled) or zeroed."""
    return x * _keep_mask(x.shape, x.device, 2.0).to(x.dtype)


class _ReluDropPool2(torch.autograd.Function):
    """ReLU, dropout (p = 1/2, or none) and pool 2, fused: ``(M, C, T, B) -> (M, C, T // 2, B)``.

    The pool is an average over pairs of steps (floor). The next convolution's replicate
    padding is not materialised: :func:`_conv_taps` reads the edge steps instead.

    The dropout's factor 2 and the pool's 1/2 cancel, so the output is the sum of each pair of
    kept positive values (times 1/2 without dropout). The kept values are saved, and their
    signs are the backward pass's mask. Fewer passes over the layer's activations than ReLU,
    dropout and pool with their separate backward passes, and only float operations: PyTorch's
    CPU kernels for boolean masks are several times slower. Where :func:`kernels.enabled`, one
    fused kernel does it all and keeps a byte per value for the backward pass.
    """

    @staticmethod
    def forward(ctx: Any, h: Tensor, dropout: bool) -> Tensor:  # noqa: D102
        scale = 1.0 if dropout else 0.5
        ctx.scale = scale
        ctx.fused = kernels.enabled(h)
        if ctx.fused:
            out, kept = kernels.relu_drop_pool2(h, dropout, scale)
            ctx.save_for_backward(kept)
            return out
        if dropout:
            y = h * _keep_mask(h.shape, h.device, 1.0).to(h.dtype)
            y.relu_()
        else:
            y = h.relu()
        out = _pool2(y)
        if scale != 1.0:
            out.mul_(scale)
        ctx.save_for_backward(y)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:  # noqa: D102
        if ctx.fused:
            (kept,) = ctx.saved_tensors
            return kernels.relu_drop_pool2_backward(grad, kept, ctx.scale), None
        (y,) = ctx.saved_tensors
        m, c, t, b = y.shape
        t2 = t // 2
        s = ctx.scale
        mask = torch.sign(y[:, :, : 2 * t2]).unflatten(2, (t2, 2))  # 1 where kept and > 0
        out = mask.mul_(grad.unsqueeze(3) if s == 1.0 else grad.unsqueeze(3) * s)
        out = out.view(m, c, 2 * t2, b)
        if t != 2 * t2:
            out = torch.cat((out, out.new_zeros((m, c, t - 2 * t2, b))), dim=2)
        return out, None


def _conv1_batchnorm(windows: Tensor, weight: Tensor, bias: Tensor, bn: _BatchNormParams) -> Tensor:
    """Training: layer 1 and its BatchNorm on batch statistics, as one matrix product.

    Layer 1 is linear in its 15 input rows (``windows``, ``(15, N)``), so the batch mean and
    variance of every output channel follow from the inputs' mean and 15 x 15 covariance:
    ``W xbar + b`` and ``diag(W S W^T)``. The normalisation then folds into the weights, and
    the ``(M * 32, N)`` activations are written once, already normalised, with no BatchNorm
    pass over them forward or backward. Same values and gradients as BatchNorm after the
    product; the running statistics are updated the same way.
    """
    n = windows.shape[1]
    with torch.no_grad():
        x64 = windows.double()
        xbar64 = x64.mean(dim=1)
        centred = x64 - xbar64.unsqueeze(1)
        cov = (centred @ centred.T / n).to(windows.dtype)
        xbar = xbar64.to(windows.dtype)
    w_xbar = weight @ xbar
    var = ((weight @ cov) * weight).sum(dim=1).clamp_min(0.0)
    _update_running_stats(bn.running_mean, bn.running_var, w_xbar + bias, var, n)
    scale = bn.weight * torch.rsqrt(var + BN_EPS)
    shift = bn.bias - w_xbar * scale
    # the shift as a 16th input row of ones: the weight gradient's product then has 16 columns,
    # which ran twice as fast as 15 plus a separate sum for the shift's gradient
    folded = torch.cat((weight * scale.unsqueeze(1), shift.unsqueeze(1)), dim=1)
    return torch.mm(folded, torch.cat((windows, windows.new_ones((1, n)))))


class _TapConv(torch.autograd.Function):
    """:func:`_conv_taps` with a backward pass that writes each tap's gradient once.

    Autograd through the shifted slices would zero-fill a full-size gradient per tap.
    """

    @staticmethod
    def forward(ctx: Any, w: Tensor, bias: Tensor, x: Tensor) -> Tensor:  # noqa: D102
        ctx.save_for_backward(w, x)
        return _conv_taps(w, bias, x)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, Tensor, Tensor]:  # noqa: D102
        w, x = ctx.saved_tensors
        grad_w, grad_x = _tap_products_backward(w, x, _conv_taps_grad(grad))
        return grad_w, grad.sum(dim=(2, 3), keepdim=True), grad_x


class _TapConvBatchNormPool2(torch.autograd.Function):
    """Training: tap convolution, BatchNorm, ReLU, dropout and pool 2, fused.

    ``(M, C_in, T, B) -> (M, C_out, T // 2, B)``. The product runs as in :class:`_TapConv`;
    the tap sum (edge taps clamped), the BatchNorm on batch statistics and the rest run in one
    pass per channel (:func:`kernels.conv_bn_relu_drop_pool2`), and the backward pass writes
    the products' gradient directly. The same values and gradients as :class:`_TapConv`,
    ``F.batch_norm`` and :class:`_ReluDropPool2` in sequence; the running statistics are
    updated the same way.
    """

    @staticmethod
    def forward(  # noqa: D102
        ctx: Any,
        w: Tensor,
        bias: Tensor,
        x: Tensor,
        gamma: Tensor,
        beta: Tensor,
        running_mean: Tensor,
        running_var: Tensor,
        dropout: bool,
    ) -> Tensor:
        scale = 1.0 if dropout else 0.5
        out, h, kept, mean, var = kernels.conv_bn_relu_drop_pool2(
            _tap_products(w, x), bias, gamma, beta, BN_EPS, dropout, scale
        )
        _update_running_stats(running_mean, running_var, mean, var, x.shape[2] * x.shape[3])
        ctx.save_for_backward(w, x, h, kept, mean, var, gamma)
        ctx.scale = scale
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:  # noqa: D102
        w, x, h, kept, mean, var, gamma = ctx.saved_tensors
        grad_y, grad_bias, grad_gamma, grad_beta = kernels.conv_bn_relu_drop_pool2_backward(
            grad, kept, h, mean, var, gamma, BN_EPS, ctx.scale
        )
        grad_w, grad_x = _tap_products_backward(w, x, grad_y)
        return grad_w, grad_bias, grad_x, grad_gamma, grad_beta, None, None, None
