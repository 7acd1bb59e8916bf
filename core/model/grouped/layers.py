"""The grouped layers: BatchNorm and linear maps over many members, dense blocks, width groups.

A width group holds the members of one width, deepest first, so that dense layer ``i`` of
every member deeper than ``i`` is one batched product; its bottleneck inputs are zero-padded
to the group's largest depth. Each layer has its differentiable form and its inference form
with BatchNorm folded.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..densesm import (
    N_BOTTLENECK,
    N_STEM,
)
from .ops import BN_EPS, BN_MOMENTUM


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
