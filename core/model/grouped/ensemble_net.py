"""All members of a DenseSM ensemble packed into grouped tensors, for speed.

The 25 members share the shapes of their temporal blocks and read the same input, so the three
convolutions of all members run as matrix products: conv1 as one product over the input's
windows (3 series x 5 taps -> M*32 channels), conv2 and conv3 as one batched product over the
members each. The dense parts differ per member; members of equal width ``w`` form a
group, sorted by depth (deepest first), so dense layer ``i`` of every member deeper than ``i`` is
one batched matrix product. The bottleneck inputs (``30 + d*w`` features, new features first) are
left-padded with zeros to the group's largest depth, with the weights padded to match: a zero
mask keeps the padding exactly zero during training. Inference on CPUs runs each member's dense
head on its own instead (:class:`_MemberHead`: single matrix products run faster there than
batched ones), and splits its work over lanes, one per CPU thread (:mod:`core.model.lanes`).

Training this module is exactly training each member on its own (the losses add up, and Adam and
BatchNorm act per element or per channel), with the same batches shown to every member.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from . import kernels, lanes
from .densesm import (
    CONV_CHANNELS,
    N_BOTTLENECK,
    N_SERIES,
    N_SNAPSHOT_IN,
    N_STEM,
    N_STEPS,
    N_TEMPORAL,
    member_name,
)

BN_EPS = 1e-5
BN_MOMENTUM = 0.1


@dataclass(frozen=True)
class MemberSpec:
    """Architecture of one member: DenseSM-``depth``-``width``."""

    depth: int
    width: int

    @property
    def name(self) -> str:
        """Published file stem, ``coarse_{depth}_{width}``."""
        return member_name(self.depth, self.width)


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


TEMPORAL_CHUNK = 256
"""Series per chunk in :meth:`GroupedEnsemble._temporal_inference` on CPUs, with or without
the fused kernels (which keep one member's activations for a chunk, ~1 MB at 256, in the core's
L2 cache). Predictions of 40,000 rows on two lanes, with the kernels (2-core AMD EPYC, medians
of 4): 19,427, 20,526, 20,139 and 19,494 samples/s at 64, 128, 256 and 512 series per chunk."""


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


def _temporal_chunk(series: Tensor, params: tuple[Tensor, ...], m: int, fused: bool) -> Tensor:
    """Inference: the temporal branch of all members, ``(B, 138)`` -> ``(M, B, 12)``.

    ``params``: the BatchNorm-folded weights of :meth:`GroupedEnsemble._conv_inference_weights`,
    with layers 2 and 3 as :func:`_tap_params` lays them out unless ``fused``. Activations are
    ``(member, channel, time, series)``. ``fused``: with the CPU kernels of
    :mod:`core.model.kernels` (the same values up to float rounding), which run the branch
    member by member, each layer with its ReLU and pool in one pass.
    """
    w1, b1, w2, b2, w3, b3 = params
    b = series.shape[0]
    if fused:
        return kernels.temporal_branch(_padded_series(series), w1, b1.view(-1), w2, b2, w3, b3)
    h = torch.addmm(b1, w1, _series_windows(series)).relu_().view(m, CONV_CHANNELS[0], -1, b)
    # pools of 2 (their 1/2 is in w2 and w3); the taps read the padding at the edge steps
    h = _conv_taps(w2, b2, _pool2(h)).relu_()  # (M, 16, 23, B)
    h = _conv_taps(w3, b3, _pool2(h)).relu_()  # (M, 4, 11, B)
    return _pool4_ceil(h).permute(0, 3, 1, 2).reshape(m, b, N_TEMPORAL)


def _tap_params(params: tuple[Tensor, ...], m: int) -> tuple[Tensor, ...]:
    """Inference ``params`` with layers 2 and 3 laid out for :func:`_conv_taps`.

    Tap-major weights ``(M, 5 * C_out, C_in)`` and biases ``(M, C_out, 1, 1)``.
    """
    w1, b1, w2, b2, w3, b3 = params
    w2, w3 = (_tap_weight(w.flatten(0, 1), m) for w in (w2, w3))
    return (w1, b1, w2, b2.view(m, -1, 1, 1), w3, b3.view(m, -1, 1, 1))


class _BatchNormParams(nn.Module):
    """Affine parameters and running statistics for ``shape`` channels, e.g. ``(k, C)``.

    Stored flat, in the order of ``shape``, which is what PyTorch's BatchNorm kernel takes
    (:func:`_batch_norm_cb`): no view of a parameter, and no autograd node for one, per step.
    """

    running_mean: Tensor
    running_var: Tensor

    def __init__(self, *shape: int) -> None:
        super().__init__()
        self.shape = shape
        n = math.prod(shape)
        self.weight = nn.Parameter(torch.ones(n))
        self.bias = nn.Parameter(torch.zeros(n))
        self.register_buffer("running_mean", torch.zeros(n))
        self.register_buffer("running_var", torch.ones(n))

    def row(self, attr: str, j: int) -> Tensor:
        """Member ``j``'s values of ``attr`` (a view: writing to it writes the parameter)."""
        values: Tensor = getattr(self, attr)
        return values.view(self.shape)[j]

    def folded(self) -> tuple[Tensor, Tensor]:
        """Eval mode as ``x * scale + shift``, both shaped ``shape``."""
        scale = self.weight * torch.rsqrt(self.running_var + BN_EPS)
        shift = self.bias - self.running_mean * scale
        return scale.view(self.shape), shift.view(self.shape)

    def forward(self, x: Tensor, folded: tuple[Tensor, Tensor] | None = None) -> Tensor:
        """Inference: normalise ``(k, B, C)`` with the running statistics.

        ``folded``: :meth:`folded`, if computed already. Training and autograd use
        :func:`_batch_norm_cb` on the ``(k, C, B)`` layout.
        """
        scale, shift = self.folded() if folded is None else folded
        return torch.addcmul(shift.unsqueeze(1), x, scale.unsqueeze(1))


def _batch_norm_cb(x: Tensor, bn: _BatchNormParams, training: bool, relu: bool = False) -> Tensor:
    """BatchNorm of ``(k, C, B)`` features with per-member parameters ``(k, C)``, then ReLU.

    The ``k * C`` channels are one ``(1, k * C, B)`` tensor for PyTorch's own kernel: one
    pass forward and one backward, where the ``(k, B, C)`` layout took a dozen operations.
    The ReLU runs in place on that tensor, not on the ``(k, C, B)`` view: in place on a view,
    autograd would copy the gradient through the view's base.
    """
    k, c, b = x.shape
    out = F.batch_norm(
        x.reshape(1, k * c, b),
        bn.running_mean,
        bn.running_var,
        bn.weight,
        bn.bias,
        training=training,
        momentum=BN_MOMENTUM,
        eps=BN_EPS,
    )
    if relu:
        out = out.relu_()
    return out.view(k, c, b)


class _GroupedLinear(nn.Module):
    """``k`` independent linear maps ``in -> out`` on features laid out ``(k, in, B)``.

    Weights are ``(k, out, in)`` as in PyTorch's ``Linear``, biases ``(k, out, 1)``.
    """

    def __init__(self, k: int, in_features: int, out_features: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(k, out_features, in_features))
        self.bias = nn.Parameter(torch.zeros(k, out_features, 1))

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        """``(k, in, B) -> (k, out, B)``; ``mask`` (broadcast to the weights) zeroes inputs."""
        w = self.weight if mask is None else self.weight * mask
        return torch.baddbmm(self.bias, w, x)

    def for_rows(self, mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Weights ``(k, in, out)`` and biases ``(k, 1, out)`` for features ``(k, B, in)``."""
        w = self.weight if mask is None else self.weight * mask
        return w.transpose(1, 2), self.bias.transpose(1, 2)


def _fold_linear_bn(lin: _GroupedLinear, bn: _BatchNormParams) -> tuple[Tensor, Tensor]:
    """Eval-mode Linear then BatchNorm as one affine map for features ``(k, B, in)``.

    Returns weights ``(k, in, out)`` and biases ``(k, 1, out)``.
    """
    scale, shift = bn.folded()  # (k, out)
    w = lin.weight * scale.unsqueeze(2)
    b = lin.bias.squeeze(2) * scale + shift
    return w.transpose(1, 2), b.unsqueeze(1)


def _fold_conv_bn(weight: Tensor, bias: Tensor, bn: _BatchNormParams) -> tuple[Tensor, Tensor]:
    """Eval-mode convolution followed by BatchNorm as one convolution."""
    scale = bn.weight * torch.rsqrt(bn.running_var + BN_EPS)
    return weight * scale[:, None, None], (bias - bn.running_mean) * scale + bn.bias


class _DenseLayer(nn.Module):
    """Dense block ``i`` for the ``k`` members of a width group deeper than ``i``."""

    def __init__(self, k: int, in_features: int, width: int) -> None:
        super().__init__()
        self.linear1 = _GroupedLinear(k, in_features, width)
        self.linear2 = _GroupedLinear(k, width, width)
        self.linear3 = _GroupedLinear(k, width, width)
        self.bn1 = _BatchNormParams(k, width)
        self.bn2 = _BatchNormParams(k, width)
        self.bn3 = _BatchNormParams(k, width)

    def _layers(self) -> tuple[tuple[_GroupedLinear, _BatchNormParams], ...]:
        """The block's three (Linear, BatchNorm) pairs, in order."""
        return ((self.linear1, self.bn1), (self.linear2, self.bn2), (self.linear3, self.bn3))

    def inference_weights(self) -> list[tuple[Tensor, Tensor]]:
        """The three layers' folded weights ``(k, in, out)`` and biases ``(k, 1, out)``."""
        return [_fold_linear_bn(lin, bn) for lin, bn in self._layers()]

    def new_features(
        self,
        x: Tensor,
        weights: list[tuple[Tensor, Tensor]] | None = None,
        out: Tensor | None = None,
    ) -> Tensor:
        """Inference: ``(k, B, in) -> (k, B, width)``, written to ``out`` if given.

        ``weights``: :meth:`inference_weights`, if computed already. ``out`` may be a strided
        view (a slot of the features buffer): the last product writes straight into it.
        """
        weights = self.inference_weights() if weights is None else weights
        (w1, b1), (w2, b2), (w3, b3) = weights
        h = torch.baddbmm(b1, x, w1).relu_()
        h = torch.baddbmm(b2, h, w2).relu_()
        return torch.baddbmm(b3, h, w3, out=out).relu_()

    def forward(self, x: Tensor) -> Tensor:
        """With autograd, features laid out ``(k, in, B) -> (k, width + in, B)``, new first."""
        out = x
        for lin, bn in self._layers():
            out = _batch_norm_cb(lin(out), bn, self.training, relu=True)
        return torch.cat((out, x), dim=1)


class _WidthGroup(nn.Module):
    """The members of one width, deepest first."""

    fc_mask: Tensor

    def __init__(self, width: int, depths: Sequence[int]) -> None:
        super().__init__()
        self.width = width
        self.depths = tuple(depths)  # descending
        self.max_depth = self.depths[0]
        n = len(self.depths)
        layers = []
        for i in range(self.max_depth):
            k = self._deeper_than(i)
            layers.append(_DenseLayer(k, N_STEM + i * width, width))
        self.layers = nn.ModuleList(layers)
        in_fc = N_STEM + self.max_depth * width
        self.fc = _GroupedLinear(n, in_fc, N_BOTTLENECK)
        mask = torch.zeros(n, 1, in_fc)
        for j, d in enumerate(self.depths):
            mask[j, :, (self.max_depth - d) * width :] = 1.0
        self.register_buffer("fc_mask", mask)
        self.fc_bn = _BatchNormParams(n, N_BOTTLENECK)

    def _deeper_than(self, i: int) -> int:
        """Number of members with more than ``i`` dense blocks (the first ones: deepest first)."""
        return sum(1 for d in self.depths if d > i)

    def forward(self, stem: Tensor) -> Tensor:
        """With autograd: normalised stem ``(n, 30, B)`` -> bottleneck features ``(n, 32, B)``.

        Features are laid out ``(member, feature, sample)``, so every BatchNorm is one kernel
        call (:func:`_batch_norm_cb`). Without autograd, see :meth:`_forward_inference`.
        """
        n = len(self.depths)
        finals: list[Tensor | None] = [None] * n
        x = stem
        for i, layer in enumerate(self.layers):
            k = self._deeper_than(i)
            x = layer(x[:k])
            for j in range(k):
                if self.depths[j] == i + 1:
                    finals[j] = x[j]
        padded = []
        for j, d in enumerate(self.depths):
            f = finals[j]
            assert f is not None
            pad = (self.max_depth - d) * self.width
            padded.append(F.pad(f, (0, 0, pad, 0)) if pad else f)
        z = self.fc(torch.stack(padded, dim=0), self.fc_mask).relu_()
        return _batch_norm_cb(z, self.fc_bn, self.training)

    def inference_weights(self) -> dict[str, Any]:
        """BatchNorm-folded weights of :meth:`_forward_inference`."""
        return {
            "layers": [layer.inference_weights() for layer in self._dense_layers()],
            "fc": self.fc.for_rows(self.fc_mask),
            "fc_bn": self.fc_bn.folded(),
        }

    def _dense_layers(self) -> list[_DenseLayer]:
        return [layer for layer in self.layers if isinstance(layer, _DenseLayer)]

    def _forward_inference(self, stem: Tensor, weights: dict[str, Any] | None = None) -> Tensor:
        """Inference form of :meth:`forward`: no concatenation copies.

        The features of every member live in one buffer ``(n, B, 30 + max_depth * w)`` with the
        stem at the right end; dense block ``i`` reads everything right of its slot and writes
        its ``w`` new features just left of it, which is the DenseNet order (new features
        first). The slots a shallower member never fills are zero, matching the zero-padded
        bottleneck weights. ``weights``: :meth:`inference_weights`, if computed already.
        """
        weights = self.inference_weights() if weights is None else weights
        n, b, _ = stem.shape
        w = self.width
        start = self.max_depth * w
        buf = stem.new_empty((n, b, start + N_STEM))
        buf[:, :, start:] = stem
        for i, layer in enumerate(self._dense_layers()):
            k = self._deeper_than(i)
            layer.new_features(
                buf[:k, :, start:], weights["layers"][i], buf[:k, :, start - w : start]
            )
            buf[k:, :, start - w : start] = 0.0
            start -= w
        w_fc, b_fc = weights["fc"]
        z = torch.baddbmm(b_fc, buf, w_fc).relu_()
        return self.fc_bn(z, weights["fc_bn"])


@dataclass(frozen=True)
class _MemberHead:
    """One member's dense head for CPU inference, every BatchNorm folded.

    On CPUs a member's single matrix products beat the group's batched ones: PyTorch's
    batched product of ``(5, 2048, 128) x (5, 128, 128)`` ran at ~50 GMAC/s where one
    ``(2048, 128) x (128, 128)`` product ran at ~70 on two AVX2 cores. The bottleneck layer also
    reads only the member's own ``30 + depth * width`` features, not its group's zero padding.
    """

    width: int
    norm: tuple[Tensor, Tensor]
    """Scale and shift ``(30,)`` of the stem."""
    blocks: tuple[tuple[tuple[Tensor, Tensor], ...], ...]
    """Per dense block, its three layers' weights ``(in, width)`` and biases ``(width,)``."""
    fc: tuple[Tensor, Tensor]
    """Bottleneck weights ``(30 + depth * width, 32)`` and bias ``(32,)``."""
    fc_bn: tuple[Tensor, Tensor]
    """Scale and shift ``(32,)`` of the bottleneck's BatchNorm (after its ReLU)."""
    out: tuple[Tensor, Tensor]
    """Output weights ``(32, 1)`` and bias ``(1,)``."""

    def forward(self, snapshot: Tensor, temporal: Tensor, features: Tensor, out: Tensor) -> None:
        """Snapshot and temporal features -> bottleneck features and soil moisture.

        Inputs ``(B, 18)`` and ``(B, 12)``; ``features`` ``(B, 32)`` and ``out`` ``(B,)`` are
        written in place. The features live in one buffer ``(B, 30 + depth * width)`` with the
        stem at the right end; each dense block reads everything right of its slot and writes
        its new features just left of it (the DenseNet order, new features first), so nothing
        is concatenated.
        """
        b = snapshot.shape[0]
        w = self.width
        start = len(self.blocks) * w
        buf = snapshot.new_empty((b, start + N_STEM))
        scale, shift = self.norm
        n = snapshot.shape[1]
        torch.addcmul(shift[:n], snapshot, scale[:n], out=buf[:, start : start + n])
        torch.addcmul(shift[n:], temporal, scale[n:], out=buf[:, start + n :])
        for (w1, b1), (w2, b2), (w3, b3) in self.blocks:
            h = torch.addmm(b1, buf[:, start:], w1).relu_()
            h = torch.addmm(b2, h, w2).relu_()
            torch.addmm(b3, h, w3, out=buf[:, start - w : start]).relu_()
            start -= w
        w_fc, b_fc = self.fc
        z = torch.addmm(b_fc, buf, w_fc).relu_()
        torch.addcmul(self.fc_bn[1], z, self.fc_bn[0], out=features)
        w_out, b_out = self.out
        torch.addmm(b_out, features, w_out, out=out.unsqueeze(1))


PER_MEMBER_HEADS_ON = ("cpu",)
"""Device types whose inference runs the dense heads member by member (:class:`_MemberHead`);
elsewhere (GPUs) they run as one batched product per width group and layer."""


class GroupedEnsemble(nn.Module):
    """All members of a DenseSM ensemble in grouped tensors.

    Member order (``self.specs``) is by width ascending, then depth descending; use
    :attr:`names` to label outputs.
    """

    num_batches_tracked: Tensor

    def __init__(self, specs: Sequence[MemberSpec]) -> None:
        super().__init__()
        if not specs:
            raise ValueError("an ensemble needs at least one member")
        widths = sorted({s.width for s in specs})
        ordered: list[MemberSpec] = []
        groups = []
        for w in widths:
            depths = sorted((s.depth for s in specs if s.width == w), reverse=True)
            if len(set(depths)) != len(depths):
                raise ValueError(f"duplicate member of width {w}: depths {depths}")
            ordered.extend(MemberSpec(d, w) for d in depths)
            groups.append(_WidthGroup(w, depths))
        self.specs: tuple[MemberSpec, ...] = tuple(ordered)
        self._frozen: dict[str, Any] | None = None  # see frozen()
        self.groups = nn.ModuleList(groups)
        m = len(self.specs)
        c1, c2, c3 = CONV_CHANNELS
        self.conv1_weight = nn.Parameter(torch.zeros(m * c1, N_SERIES, 5))
        self.conv1_bias = nn.Parameter(torch.zeros(m * c1))
        self.conv2_weight = nn.Parameter(torch.zeros(m * c2, c1, 5))
        self.conv2_bias = nn.Parameter(torch.zeros(m * c2))
        self.conv3_weight = nn.Parameter(torch.zeros(m * c3, c2, 5))
        self.conv3_bias = nn.Parameter(torch.zeros(m * c3))
        self.conv_bn1 = _BatchNormParams(m * c1)
        self.conv_bn2 = _BatchNormParams(m * c2)
        self.conv_bn3 = _BatchNormParams(m * c3)
        self.norm = _BatchNormParams(m, N_STEM)
        self.out_weight = nn.Parameter(torch.zeros(m, N_BOTTLENECK, 1))
        self.out_bias = nn.Parameter(torch.zeros(m, 1, 1))
        self.register_buffer("num_batches_tracked", torch.zeros(m))
        self.dropout = True
        """Dropout in training mode (the method's); off only to compare with other code."""

    @property
    def names(self) -> list[str]:
        """Member names in output order."""
        return [s.name for s in self.specs]

    @property
    def n_members(self) -> int:
        """Number of members."""
        return len(self.specs)

    # -- forward pieces -----------------------------------------------------------------------
    def _conv_params(
        self,
    ) -> tuple[tuple[Tensor, ...], tuple[Tensor, ...], tuple[_BatchNormParams, ...]]:
        """Weights, biases and BatchNorms of the three convolutions."""
        return (
            (self.conv1_weight, self.conv2_weight, self.conv3_weight),
            (self.conv1_bias, self.conv2_bias, self.conv3_bias),
            (self.conv_bn1, self.conv_bn2, self.conv_bn3),
        )

    def _autograd(self) -> bool:
        """Whether a forward pass runs the differentiable path (training, or gradients on)."""
        return self.training or torch.is_grad_enabled()

    def temporal(self, series: Tensor) -> Tensor:
        """Temporal features of every member: ``(B, 138) -> (M, B, 12)``."""
        if not self._autograd():
            return self._temporal_inference(series)
        return self._temporal_autograd(series).transpose(1, 2)

    def _temporal_autograd(self, series: Tensor) -> Tensor:
        """Differentiable temporal branch: ``(B, 138) -> (M, 12, B)``.

        The convolutions run as the matrix products of :meth:`_temporal_inference`, unfolded.
        In training, layer 1's BatchNorm folds into its product (:func:`_conv1_batchnorm`),
        ReLU, dropout and pool 2 run fused (:class:`_ReluDropPool2`), and layers 2 and 3 use
        BatchNorm on batch statistics over one ``(1, M * C, time * series)`` view. Where the
        fused CPU kernels run (:mod:`.kernels`), ReLU, dropout and pool run as one kernel, and
        layer 2's convolution, BatchNorm, ReLU, dropout and pool as one product and one kernel
        (:class:`_TapConvBatchNormPool2`).
        """
        m = self.n_members
        b = series.shape[0]
        weights, biases, bns = self._conv_params()
        windows = _series_windows(series)
        if self.training:
            h = _conv1_batchnorm(windows, _layer1_weight(weights[0]), biases[0], bns[0])
        else:
            w, bias = _fold_conv_bn(weights[0], biases[0], bns[0])
            h = torch.addmm(bias.unsqueeze(1), _layer1_weight(w), windows)
        dropout = self.training and self.dropout
        # layer 1's ReLU, dropout and pool (its padding is read at the edges by the taps)
        x = _ReluDropPool2.apply(h.view(m, CONV_CHANNELS[0], -1, b), dropout)
        fused = self.training and kernels.enabled(x)
        if fused:  # layer 2 up to the input of layer 3
            bn = bns[1]
            x = _TapConvBatchNormPool2.apply(
                _tap_weight(weights[1], m),
                biases[1],
                x,
                bn.weight,
                bn.bias,
                bn.running_mean,
                bn.running_var,
                dropout,
            )
        for layer in (2,) if fused else (1, 2):
            bn = bns[layer]
            h = _TapConv.apply(_tap_weight(weights[layer], m), biases[layer].view(m, -1, 1, 1), x)
            h = F.batch_norm(
                h.reshape(1, m * CONV_CHANNELS[layer], -1),
                bn.running_mean,
                bn.running_var,
                bn.weight,
                bn.bias,
                training=self.training,
                momentum=BN_MOMENTUM,
                eps=BN_EPS,
            )
            if layer == 1:
                x = _ReluDropPool2.apply(h.view(m, CONV_CHANNELS[1], -1, b), dropout)
        h = F.relu(h)
        if dropout:
            h = _dropout(h)
        return _pool4_ceil(h.view(m, CONV_CHANNELS[2], -1, b)).reshape(m, N_TEMPORAL, b)

    def _temporal_inference(self, series: Tensor) -> Tensor:
        """Inference form of :meth:`temporal` (no autograd): fused kernels or matrix products.

        BatchNorm is folded into the convolutions and the factors of the average pools into
        the next layer's weights. On CPUs with the fused kernels, :func:`kernels.temporal_branch`
        runs the branch member by member. Otherwise each convolution runs as one matrix product
        over windows of the input (im2col): layer 1 as a single product for all members (they
        read the same series), layers 2 and 3 as one batched product over members; the
        activations are kept member-major and time-last, so the windows, the replicate padding
        and the pooling are cheap strided copies. Series are processed in chunks small enough
        for their activations to stay in the CPU caches: that, not the arithmetic, sets the
        speed on CPUs.
        """
        m = self.n_members
        b = series.shape[0]
        params = self._frozen["conv"] if self._frozen else self._conv_inference_weights()
        out = series.new_empty((m, b, N_TEMPORAL))
        fused = kernels.ready(kernels.INFERENCE) and kernels.enabled(series)
        if not fused:
            params = _tap_params(params, m)
        chunk = TEMPORAL_CHUNK if series.device.type == "cpu" else max(b, 1)

        def block(start: int, stop: int) -> None:
            out[:, start:stop] = _temporal_chunk(series[start:stop], params, m, fused)

        lanes.run_blocks(b, chunk, block, lanes.for_device(series.device))
        return out

    def _conv_inference_weights(self) -> tuple[Tensor, ...]:
        """The convolutions' weights and biases for :func:`_temporal_chunk`, BatchNorm folded."""
        m = self.n_members
        weights, biases, bns = self._conv_params()
        folded = [_fold_conv_bn(weights[i], biases[i], bns[i]) for i in range(3)]
        w1 = _layer1_weight(folded[0][0])
        b1 = folded[0][1].unsqueeze(1)
        # (M, C_out, C_in, 5) and (M, C_out); the 1/2 of the preceding pool folded in
        w2, w3 = (0.5 * folded[i][0].view(m, -1, *folded[i][0].shape[1:]) for i in (1, 2))
        b2, b3 = (folded[i][1].view(m, -1) for i in (1, 2))
        return (w1, b1, w2, b2, w3, b3)

    @contextlib.contextmanager
    def frozen(self) -> Iterator[None]:
        """Inference inside reuses the BatchNorm-folded weights computed on entry.

        For many batches with unchanged weights (a prediction): folding them took ~4 us per
        sample at 2,048 samples per batch. The weights must not change inside.
        """
        previous = self._frozen
        with torch.no_grad():
            frozen: dict[str, Any] = {"conv": self._conv_inference_weights()}
            if self._per_member_heads():
                frozen["members"] = self._member_heads()
            else:
                frozen["norm"] = self.norm.folded()
                frozen["groups"] = [g.inference_weights() for g in self._width_groups()]
            self._frozen = frozen
        try:
            yield
        finally:
            self._frozen = previous

    def head(self, snapshot: Tensor, temporal: Tensor) -> tuple[Tensor, Tensor]:
        """Snapshot ``(B, 18)`` and temporal features ``(M, B, 12)`` -> (outputs, features).

        Returns:
            ``(M, B)`` soil moisture and ``(M, B, 32)`` bottleneck features.
        """
        if self._autograd():
            return self._head_autograd(snapshot, temporal.transpose(1, 2))
        if self._per_member_heads():
            return self._head_members(snapshot, temporal)
        m = self.n_members
        frozen = self._frozen
        stem = torch.cat((snapshot.unsqueeze(0).expand(m, -1, -1), temporal), dim=2)
        stem = self.norm(stem, frozen["norm"] if frozen else None)
        feats = []
        start = 0
        for g, group in enumerate(self._width_groups()):
            n = len(group.depths)
            weights = frozen["groups"][g] if frozen else None
            feats.append(group._forward_inference(stem[start : start + n], weights))
            start += n
        features = torch.cat(feats, dim=0)
        out = torch.baddbmm(self.out_bias, features, self.out_weight).squeeze(2)
        return out, features

    def _per_member_heads(self) -> bool:
        """Whether inference runs the heads member by member (see :data:`PER_MEMBER_HEADS_ON`)."""
        return self.out_weight.device.type in PER_MEMBER_HEADS_ON

    def _member_heads(self) -> list[_MemberHead]:
        """Every member's BatchNorm-folded head, in member order."""
        scale, shift = self.norm.folded()
        heads = []
        m = 0
        for group in self._width_groups():
            layers = [layer.inference_weights() for layer in group._dense_layers()]
            w_fc, b_fc = group.fc.for_rows()
            bn_scale, bn_shift = group.fc_bn.folded()
            for j, depth in enumerate(group.depths):
                # member j is among the first k members of every dense layer it has
                blocks = tuple(
                    tuple((w[j].contiguous(), b[j, 0].contiguous()) for w, b in layers[i])
                    for i in range(depth)
                )
                own = (group.max_depth - depth) * group.width  # its bottleneck inputs start here
                heads.append(
                    _MemberHead(
                        width=group.width,
                        norm=(scale[m].contiguous(), shift[m].contiguous()),
                        blocks=blocks,
                        fc=(w_fc[j, own:].contiguous(), b_fc[j, 0].contiguous()),
                        fc_bn=(bn_scale[j].contiguous(), bn_shift[j].contiguous()),
                        out=(self.out_weight[m].contiguous(), self.out_bias[m, 0].contiguous()),
                    )
                )
                m += 1
        return heads

    def _head_members(self, snapshot: Tensor, temporal: Tensor) -> tuple[Tensor, Tensor]:
        """Inference :meth:`head`, one member at a time (:class:`_MemberHead`)."""
        heads = self._frozen["members"] if self._frozen else self._member_heads()
        b = snapshot.shape[0]
        features = snapshot.new_empty((len(heads), b, N_BOTTLENECK))
        out = snapshot.new_empty((len(heads), b))
        n_lanes = lanes.for_device(snapshot.device)
        parts = max(1, min(n_lanes, b // lanes.MIN_JOB_ROWS))

        def block(start: int, stop: int) -> None:  # a block of rows, every member
            rows = slice(start, stop)
            for j, member in enumerate(heads):
                member.forward(snapshot[rows], temporal[j, rows], features[j, rows], out[j, rows])

        lanes.run_blocks(b, max(-(-b // parts), 1), block, n_lanes)
        return out, features

    def _head_autograd(self, snapshot: Tensor, temporal: Tensor) -> tuple[Tensor, Tensor]:
        """Differentiable :meth:`head` on temporal features ``(M, 12, B)``.

        Features are laid out ``(member, feature, sample)`` throughout (see
        :meth:`_WidthGroup.forward`); the returned features are a ``(M, B, 32)`` view.
        """
        m = self.n_members
        stem = torch.cat((snapshot.T.unsqueeze(0).expand(m, -1, -1), temporal), dim=1)
        stem = _batch_norm_cb(stem, self.norm, self.training)
        feats = []
        start = 0
        for group in self._width_groups():
            n = len(group.depths)
            feats.append(group(stem[start : start + n]))
            start += n
        features = torch.cat(feats, dim=0).transpose(1, 2)
        out = torch.baddbmm(self.out_bias, features, self.out_weight).squeeze(2)
        return out, features

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """``(B, 156)`` inputs -> ``(M, B)`` soil moisture and ``(M, B, 32)`` features."""
        snapshot = x[:, :N_SNAPSHOT_IN]
        series = x[:, N_SNAPSHOT_IN : N_SNAPSHOT_IN + N_SERIES * N_STEPS]
        if self._autograd():
            return self._head_autograd(snapshot, self._temporal_autograd(series))
        return self.head(snapshot, self._temporal_inference(series))

    # -- conversion from / to the published per-member state dicts --------------------------
    def _width_groups(self) -> list[_WidthGroup]:
        return [g for g in self.groups if isinstance(g, _WidthGroup)]

    def _slots(self) -> list[tuple[int, int, int, _WidthGroup]]:
        """(member index, group index, position in group, group) for every member."""
        out = []
        m = 0
        for gi, group in enumerate(self._width_groups()):
            for j in range(len(group.depths)):
                out.append((m, gi, j, group))
                m += 1
        return out

    @torch.no_grad()
    def load_member_state_dicts(self, states: dict[str, dict[str, Tensor]]) -> None:
        """Load the published per-member ``state_dict``s (keys of ``DenseSM``)."""
        missing = [s.name for s in self.specs if s.name not in states]
        if missing:
            raise KeyError(f"missing member weights: {', '.join(missing)}")
        c1, c2, c3 = CONV_CHANNELS
        for (m, _gi, j, group), spec in zip(self._slots(), self.specs, strict=True):
            sd = {k: v.detach().to("cpu", torch.float32) for k, v in states[spec.name].items()}
            for layer, c in ((1, c1), (2, c2), (3, c3)):
                sl = slice(m * c, (m + 1) * c)
                getattr(self, f"conv{layer}_weight")[sl] = sd[f"conv_block.conv{layer}.weight"]
                getattr(self, f"conv{layer}_bias")[sl] = sd[f"conv_block.conv{layer}.bias"]
                bn = getattr(self, f"conv_bn{layer}")
                for attr in ("weight", "bias", "running_mean", "running_var"):
                    getattr(bn, attr)[sl] = sd[f"conv_block.bn{layer}.{attr}"]
            for attr in ("weight", "bias", "running_mean", "running_var"):
                self.norm.row(attr, m)[:] = sd[f"norm.{attr}"]
            for i in range(spec.depth):
                dense = group.layers[i]
                for name in ("linear1", "linear2", "linear3"):
                    lin = getattr(dense, name)
                    lin.weight[j] = sd[f"dense_layers.{i}.{name}.weight"]
                    lin.bias[j, :, 0] = sd[f"dense_layers.{i}.{name}.bias"]
                for name in ("bn1", "bn2", "bn3"):
                    bn = getattr(dense, name)
                    for attr in ("weight", "bias", "running_mean", "running_var"):
                        bn.row(attr, j)[:] = sd[f"dense_layers.{i}.{name}.{attr}"]
            pad = (group.max_depth - spec.depth) * group.width
            group.fc.weight[j].zero_()
            group.fc.weight[j, :, pad:] = sd["fc_layers.0.linear1.weight"]
            group.fc.bias[j, :, 0] = sd["fc_layers.0.linear1.bias"]
            for attr in ("weight", "bias", "running_mean", "running_var"):
                group.fc_bn.row(attr, j)[:] = sd[f"fc_layers.0.bn1.{attr}"]
            self.out_weight[m, :, 0] = sd["out.weight"][0]
            self.out_bias[m, 0, 0] = sd["out.bias"][0]
            nbt = sd.get("conv_block.bn1.num_batches_tracked")
            self.num_batches_tracked[m] = float(nbt) if nbt is not None else 0.0

    @torch.no_grad()
    def member_state_dicts(self) -> dict[str, dict[str, Tensor]]:
        """Export per-member ``state_dict``s in the published layout (float32, CPU)."""
        c1, c2, c3 = CONV_CHANNELS
        out: dict[str, dict[str, Tensor]] = {}
        for (m, _gi, j, group), spec in zip(self._slots(), self.specs, strict=True):
            sd: dict[str, Tensor] = {}
            nbt = self.num_batches_tracked[m].detach().cpu().clone()

            def put(key: str, value: Tensor, sd: dict[str, Tensor] = sd) -> None:
                sd[key] = value.detach().to("cpu", torch.float32).clone().contiguous()

            for layer, c in ((1, c1), (2, c2), (3, c3)):
                sl = slice(m * c, (m + 1) * c)
                put(f"conv_block.conv{layer}.weight", getattr(self, f"conv{layer}_weight")[sl])
                put(f"conv_block.conv{layer}.bias", getattr(self, f"conv{layer}_bias")[sl])
                bn = getattr(self, f"conv_bn{layer}")
                for attr in ("weight", "bias", "running_mean", "running_var"):
                    put(f"conv_block.bn{layer}.{attr}", getattr(bn, attr)[sl])
                sd[f"conv_block.bn{layer}.num_batches_tracked"] = nbt.clone()
            for attr in ("weight", "bias", "running_mean", "running_var"):
                put(f"norm.{attr}", self.norm.row(attr, m))
            sd["norm.num_batches_tracked"] = nbt.clone()
            for i in range(spec.depth):
                dense = group.layers[i]
                for name in ("linear1", "linear2", "linear3"):
                    lin = getattr(dense, name)
                    put(f"dense_layers.{i}.{name}.weight", lin.weight[j])
                    put(f"dense_layers.{i}.{name}.bias", lin.bias[j, :, 0])
                for name in ("bn1", "bn2", "bn3"):
                    bn = getattr(dense, name)
                    for attr in ("weight", "bias", "running_mean", "running_var"):
                        put(f"dense_layers.{i}.{name}.{attr}", bn.row(attr, j))
                    sd[f"dense_layers.{i}.{name}.num_batches_tracked"] = nbt.clone()
            pad = (group.max_depth - spec.depth) * group.width
            put("fc_layers.0.linear1.weight", group.fc.weight[j, :, pad:])
            put("fc_layers.0.linear1.bias", group.fc.bias[j, :, 0])
            for attr in ("weight", "bias", "running_mean", "running_var"):
                put(f"fc_layers.0.bn1.{attr}", group.fc_bn.row(attr, j))
            sd["fc_layers.0.bn1.num_batches_tracked"] = nbt.clone()
            put("out.weight", self.out_weight[m, :, 0].unsqueeze(0))
            put("out.bias", self.out_bias[m, 0, 0].reshape(1))
            out[spec.name] = sd
        return out

    def count_batch(self) -> None:
        """Advance every member's BatchNorm batch counter (called once per training step)."""
        with torch.no_grad():
            self.num_batches_tracked.add_(1.0)
