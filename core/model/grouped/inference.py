"""Inference without autograd: the temporal branch in chunks, and one member's folded head.

The temporal branch runs on chunks of series (with the fused kernels, or as matrix products
over windows of the input), and on CPUs each member's dense head runs on its own
(:class:`_MemberHead`), BatchNorm folded everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .. import kernels
from ..densesm import (
    CONV_CHANNELS,
    N_STEM,
    N_TEMPORAL,
)
from .ops import _conv_taps, _padded_series, _pool2, _pool4_ceil, _series_windows, _tap_weight

TEMPORAL_CHUNK = 256
"""Series per chunk in :meth:`GroupedEnsemble._temporal_inference` on CPUs, with or without
the fused kernels (which keep one member's activations for a chunk, ~1 MB at 256, in the core's
L2 cache). Predictions of 40,000 rows on two lanes, with the kernels (2-core AMD EPYC, medians
of 4): 19,427, 20,526, 20,139 and 19,494 samples/s at 64, 128, 256 and 512 series per chunk."""


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
