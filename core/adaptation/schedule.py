"""How training walks through its samples and ends: batches, the optimizer, snapshot averages."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import torch


class _Stream:
    """Batches from a set, reshuffled each time the set is used up."""

    def __init__(self, n: int, batch: int, rng: np.random.Generator) -> None:
        self.n = n
        self.batch = min(batch, n)
        self.rng = rng
        self._order = rng.permutation(n)
        self._pos = 0

    def next(self) -> npt.NDArray[np.int64]:
        if self._pos + self.batch > self.n:
            self._order = self.rng.permutation(self.n)
            self._pos = 0
        idx = self._order[self._pos : self._pos + self.batch]
        self._pos += self.batch
        return idx


def _adam(net: torch.nn.Module, lr: float) -> torch.optim.Adam:
    """Adam (default betas and eps) over every parameter, fused where PyTorch can (CPU, CUDA).

    The per-parameter loop cost ~20 ms per step for the 336 tensors of an ensemble on a 2-core
    CPU; the fused step ~5 ms.
    """
    import torch

    params = list(net.parameters())
    fused = all(p.device.type in ("cpu", "cuda") for p in params)
    return torch.optim.Adam(params, lr=lr, betas=(0.9, 0.999), eps=1e-8, fused=fused or None)


def _fine_batches(n: int, batch: int, rng: np.random.Generator) -> list[npt.NDArray[np.int64]]:
    order = rng.permutation(n)
    return [order[i : i + batch] for i in range(0, n, batch)]


class _SnapshotAverage:
    """Average of a network's states (weights and BatchNorm buffers) over its last epochs."""

    def __init__(self, epochs: int, snapshot_epochs: int) -> None:
        self.first = max(epochs - snapshot_epochs, 0)
        self.acc: dict[str, torch.Tensor] | None = None
        self.count = 0

    def epoch_end(self, epoch: int, net: torch.nn.Module) -> None:
        """Add the state after ``epoch`` (0-based) when it is one of the last epochs."""
        if epoch >= self.first:
            self.acc = _snapshot_add(self.acc, net)
            self.count += 1

    def load_into(self, net: torch.nn.Module) -> None:
        """Load the averaged state into ``net`` and put it in eval mode."""
        assert self.acc is not None, "no epoch was recorded"
        _snapshot_load(self.acc, self.count, net)
        net.eval()


def _snapshot_add(
    acc: dict[str, torch.Tensor] | None, net: torch.nn.Module
) -> dict[str, torch.Tensor]:
    state = net.state_dict()
    if acc is None:
        return {k: v.detach().clone().double() for k, v in state.items()}
    for k, v in state.items():
        acc[k] += v.detach().double()
    return acc


def _snapshot_load(acc: dict[str, torch.Tensor], count: int, net: torch.nn.Module) -> None:
    state = net.state_dict()
    net.load_state_dict({k: (acc[k] / count).to(state[k].dtype) for k in state})
