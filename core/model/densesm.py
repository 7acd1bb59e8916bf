"""DenseSM(d, w): one member of the DenseSM-E ensemble (Zhu et al. 2024, RSE 301:113944).

This is the readable, one-model reference of the architecture, with the parameter names of the
authors' published ``state_dict`` files (``coarse_{d}_{w}.pt``). The fast path used for
inference and training is :class:`core.model.grouped.GroupedEnsemble`, which packs all members
into grouped tensors and is tested to agree with this module.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

N_SNAPSHOT_IN = 18
"""Snapshot part of the 156 inputs (15 normalised values and 3 series means)."""
N_SERIES = 3
N_STEPS = 46
N_TEMPORAL = 12
"""Temporal features after the convolution block (4 channels x 3 steps)."""
N_STEM = N_SNAPSHOT_IN + N_TEMPORAL  # 30
N_BOTTLENECK = 32
CONV_CHANNELS = (32, 16, 4)
POOL_SIZES = (2, 2, 4)
DEPTHS = (1, 2, 3, 4, 5)
WIDTHS = (8, 16, 32, 64, 128)


def member_name(depth: int, width: int) -> str:
    """File stem of a member in the published set: ``coarse_{d}_{w}``."""
    return f"coarse_{depth}_{width}"


def parse_member_name(name: str) -> tuple[int, int]:
    """Inverse of :func:`member_name`: ``"coarse_2_16"`` -> ``(2, 16)``."""
    parts = name.split("_")
    if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit():
        raise ValueError(f"not a DenseSM member name: {name!r} (expected coarse_<depth>_<width>)")
    return int(parts[1]), int(parts[2])


class ConvBlock(nn.Module):
    """Temporal feature extractor on the (3, 46) series block -> 12 features."""

    def __init__(self) -> None:
        super().__init__()
        c1, c2, c3 = CONV_CHANNELS
        self.conv1 = nn.Conv1d(N_SERIES, c1, kernel_size=5, padding=2, padding_mode="replicate")
        self.bn1 = nn.BatchNorm1d(c1)
        self.conv2 = nn.Conv1d(c1, c2, kernel_size=5, padding=2, padding_mode="replicate")
        self.bn2 = nn.BatchNorm1d(c2)
        self.conv3 = nn.Conv1d(c2, c3, kernel_size=5, padding=2, padding_mode="replicate")
        self.bn3 = nn.BatchNorm1d(c3)
        self.dp1 = nn.Dropout(0.5)
        self.dp2 = nn.Dropout(0.5)
        self.dp3 = nn.Dropout(0.5)

    def forward(self, x: Tensor) -> Tensor:
        """Map ``(B, 3, 46)`` series to ``(B, 12)`` features (channel-major flatten)."""
        out = F.avg_pool1d(self.dp1(F.relu(self.bn1(self.conv1(x)))), POOL_SIZES[0])
        out = F.avg_pool1d(self.dp2(F.relu(self.bn2(self.conv2(out)))), POOL_SIZES[1])
        out = F.avg_pool1d(
            self.dp3(F.relu(self.bn3(self.conv3(out)))), POOL_SIZES[2], ceil_mode=True
        )
        return out.flatten(1)


class DenseBlock(nn.Module):
    """Three (Linear -> BatchNorm -> ReLU) of width ``w``; output = [new features, input]."""

    def __init__(self, in_features: int, width: int) -> None:
        super().__init__()
        self.linear1 = nn.Linear(in_features, width)
        self.linear2 = nn.Linear(width, width)
        self.linear3 = nn.Linear(width, width)
        self.bn1 = nn.BatchNorm1d(width)
        self.bn2 = nn.BatchNorm1d(width)
        self.bn3 = nn.BatchNorm1d(width)

    def forward(self, x: Tensor) -> Tensor:
        """``(B, in) -> (B, width + in)``."""
        out = F.relu(self.bn1(self.linear1(x)))
        out = F.relu(self.bn2(self.linear2(out)))
        out = F.relu(self.bn3(self.linear3(out)))
        return torch.cat((out, x), dim=1)


class Bottleneck(nn.Module):
    """Linear -> ReLU -> BatchNorm to the 32-d feature representation (note: BN after ReLU)."""

    def __init__(self, in_features: int) -> None:
        super().__init__()
        self.linear1 = nn.Linear(in_features, N_BOTTLENECK)
        self.bn1 = nn.BatchNorm1d(N_BOTTLENECK)

    def forward(self, x: Tensor) -> Tensor:
        """``(B, in) -> (B, 32)``."""
        return self.bn1(F.relu(self.linear1(x)))


class DenseSM(nn.Module):
    """DenseSM with ``depth`` dense blocks of width ``width``.

    Input: ``(B, 156)`` normalised model inputs (see ``core.features.contract``). Output: ``(B, 1)``
    soil moisture in m3/m3. :meth:`features` gives the 32-d bottleneck used by the domain loss.
    """

    def __init__(self, depth: int, width: int) -> None:
        super().__init__()
        if depth < 1 or width < 1:
            raise ValueError(f"depth and width must be positive, got {depth}, {width}")
        self.depth = depth
        self.width = width
        self.conv_block = ConvBlock()
        self.norm = nn.BatchNorm1d(N_STEM)
        self.dense_layers = nn.Sequential(
            *[DenseBlock(N_STEM + i * width, width) for i in range(depth)]
        )
        self.fc_layers = nn.Sequential(Bottleneck(N_STEM + depth * width))
        self.out = nn.Linear(N_BOTTLENECK, 1)

    def features(self, x: Tensor) -> Tensor:
        """The 32-d bottleneck features of ``(B, 156)`` inputs."""
        snapshot = x[:, :N_SNAPSHOT_IN]
        series = x[:, N_SNAPSHOT_IN : N_SNAPSHOT_IN + N_SERIES * N_STEPS].reshape(
            -1, N_SERIES, N_STEPS
        )
        out = torch.cat((snapshot, self.conv_block(series)), dim=1)
        out = self.norm(out)
        out = self.dense_layers(out)
        return self.fc_layers(out)

    def forward(self, x: Tensor) -> Tensor:
        """``(B, 156) -> (B, 1)`` soil moisture, m3/m3."""
        return self.out(self.features(x))
