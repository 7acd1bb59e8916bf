"""The grouped ensemble module: every member of a DenseSM ensemble in grouped tensors.

:class:`GroupedEnsemble` holds the members' weights, runs the differentiable forward pass
(training) and the inference pass, and converts its weights from and to the published
per-member state dicts.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .. import kernels, lanes
from ..densesm import (
    CONV_CHANNELS,
    N_BOTTLENECK,
    N_SERIES,
    N_SNAPSHOT_IN,
    N_STEM,
    N_STEPS,
    N_TEMPORAL,
    member_name,
)
from .autograd import _conv1_batchnorm, _dropout, _ReluDropPool2, _TapConv, _TapConvBatchNormPool2
from .inference import TEMPORAL_CHUNK, _MemberHead, _tap_params, _temporal_chunk
from .layers import _batch_norm_cb, _BatchNormParams, _fold_conv_bn, _WidthGroup
from .ops import BN_EPS, BN_MOMENTUM, _layer1_weight, _pool4_ceil, _series_windows, _tap_weight


@dataclass(frozen=True)
class MemberSpec:
    """Architecture of one member: DenseSM-``depth``-``width``."""

    depth: int
    width: int

    @property
    def name(self) -> str:
        """Published file stem, ``coarse_{depth}_{width}``."""
        return member_name(self.depth, self.width)


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
        self.batch_statistics = True
        """In training mode, BatchNorm normalises each batch by its own statistics (and updates
        the running ones). False keeps the running statistics (the pretrained normalisation)
        fixed and uses them in training too; dropout still runs. See
        :class:`core.adaptation.methods.AdaptConfig` ``batchnorm``."""

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

    def train(self, mode: bool = True) -> GroupedEnsemble:
        """Training or eval mode; with :attr:`batch_statistics` off, BatchNorm stays in eval."""
        super().train(mode)
        if mode and not self.batch_statistics:
            for group in self._width_groups():
                group.train(False)
        return self

    @property
    def _bn_batch(self) -> bool:
        """Whether BatchNorm normalises by the batch's statistics (training, not frozen)."""
        return self.training and self.batch_statistics

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
        if self._bn_batch:
            h = _conv1_batchnorm(windows, _layer1_weight(weights[0]), biases[0], bns[0])
        else:
            w, bias = _fold_conv_bn(weights[0], biases[0], bns[0])
            h = torch.addmm(bias.unsqueeze(1), _layer1_weight(w), windows)
        dropout = self.training and self.dropout
        # layer 1's ReLU, dropout and pool (its padding is read at the edges by the taps)
        x = _ReluDropPool2.apply(h.view(m, CONV_CHANNELS[0], -1, b), dropout)
        fused = self._bn_batch and kernels.enabled(x)
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
                training=self._bn_batch,
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
        stem = _batch_norm_cb(stem, self.norm, self._bn_batch)
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
