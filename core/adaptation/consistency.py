"""The 9 km consistency term: the 50 m predictions of a 9 km cell average to its SMAP value.

SMAP measures the mean soil moisture of a 9 km cell. The method's 9 km loss asks the network to
give SMAP's value for the cell's *aggregated inputs*; nothing asks the mean of its *50 m*
predictions over the same cell to agree. The two need not: with BatchNorm kept at the pretrained
statistics an adapted ensemble fitted SMAP at 9 km on the demo's map date (bias +0.002) while
its 50 m map of the same cells was 0.06 m3/m3 wetter (README, "9 km consistency").

This term closes that gap with the data every run already has: the 50 m cells of the 9 km cells
around the area on each training date, grouped by (date, 9 km cell), with the cell's SMAP value.
Each step draws :data:`GROUPS` groups and :data:`CELLS` cells of each, and adds

    gamma * (1 - alpha) * mean_g (mean of the 50 m predictions of group g - SMAP_g)^2

to the joint loss (``gamma`` = :attr:`~core.adaptation.methods.AdaptConfig.consistency`). The
groups are drawn without labels at 50 m, so held-out folds may use them as the final model does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from ..errors import InputError
from .checks import check_inputs

if TYPE_CHECKING:
    import torch

F32 = npt.NDArray[np.float32]

GROUPS = 8
"""(date, 9 km cell) groups drawn per optimizer step."""
CELLS = 16
"""50 m cells drawn per group and step (the group mean's sampling error is about a quarter of
the cells' spread, well under SMAP's own error)."""


@dataclass(frozen=True)
class ConsistencySet:
    """50 m cells grouped by (date, 9 km cell), and the SMAP value of each group.

    Attributes:
        x: ``(N, 156)`` model inputs of the 50 m cells.
        group: ``(N,)`` group index of each cell, 0 .. G-1.
        smap: ``(G,)`` SMAP soil moisture (m3/m3) of each group's 9 km cell on its date.
    """

    x: F32
    group: npt.NDArray[np.int64]
    smap: F32

    @property
    def n_groups(self) -> int:
        """Number of (date, 9 km cell) groups."""
        return int(len(self.smap))

    def checked(self) -> ConsistencySet:
        """The set with its inputs, groups and labels validated (InputError on the first fault)."""
        x = check_inputs(self.x, "9 km consistency (50 m cells)")
        group = np.asarray(self.group, dtype=np.int64).reshape(-1)
        smap = np.asarray(self.smap, dtype=np.float32).reshape(-1)
        if len(group) != len(x):
            raise InputError(
                f"the 9 km consistency set has {len(x)} cells but {len(group)} group indices"
            )
        if not len(smap):
            raise InputError("the 9 km consistency set has no (date, 9 km cell) group")
        if len(group) and (group.min() < 0 or group.max() >= len(smap)):
            raise InputError("the 9 km consistency set has group indices outside its groups")
        if not np.isfinite(smap).all() or (smap < 0).any() or (smap > 1).any():
            raise InputError("the 9 km consistency set needs SMAP values in 0-1 m3/m3")
        counts = np.bincount(group, minlength=len(smap))
        if (counts == 0).any():
            raise InputError("every group of the 9 km consistency set needs at least one cell")
        return ConsistencySet(x, group, smap)


class _GroupStream:
    """Per step: ``GROUPS`` groups (reshuffled cycles) and ``CELLS`` cells drawn in each."""

    def __init__(self, cset: ConsistencySet, rng: np.random.Generator) -> None:
        self.rng = rng
        order = np.argsort(cset.group, kind="stable")
        bounds = np.searchsorted(cset.group[order], np.arange(cset.n_groups + 1))
        self.members = [order[bounds[g] : bounds[g + 1]] for g in range(cset.n_groups)]
        self.n_groups = cset.n_groups
        self.per_step = min(GROUPS, self.n_groups)
        self._order = rng.permutation(self.n_groups)
        self._pos = 0

    def next(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """``(groups, rows)``: the groups drawn and ``CELLS`` rows of each, group after group."""
        if self._pos + self.per_step > self.n_groups:
            self._order = self.rng.permutation(self.n_groups)
            self._pos = 0
        groups = self._order[self._pos : self._pos + self.per_step]
        self._pos += self.per_step
        rows = [
            self.rng.choice(self.members[g], CELLS, replace=len(self.members[g]) < CELLS)
            for g in groups
        ]
        return groups, np.concatenate(rows)


def consistency_loss(pred: torch.Tensor, smap: torch.Tensor) -> torch.Tensor:
    """Per member: mean over groups of (group mean of the predictions - SMAP)^2.

    Args:
        pred: ``(M, G * CELLS)`` predictions, group after group.
        smap: ``(G,)`` SMAP value of each group.

    Returns:
        ``(M,)`` losses.
    """
    means = pred.reshape(pred.shape[0], smap.shape[0], -1).mean(dim=2)
    return ((means - smap.unsqueeze(0)) ** 2).mean(dim=1)
