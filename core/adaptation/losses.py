"""The loss terms of adaptation: estimation loss, CORAL distance, and the early-balance beta."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import torch

    from ..model.ensemble import Ensemble

F32 = npt.NDArray[np.float32]

FEATURE_DIM = 32
"""Width of the bottleneck features CORAL compares."""


def coral(source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """CORAL distance per member: ``||C_s - C_t||_F^2 / (4 d^2)``.

    Args:
        source: ``(M, n_s, d)`` features; target: ``(M, n_t, d)``; n >= 2 each.

    Returns:
        ``(M,)`` distances (not square-rooted).
    """
    d = source.shape[-1]

    def cov(f: torch.Tensor) -> torch.Tensor:
        centred = f - f.mean(dim=1, keepdim=True)
        return centred.transpose(1, 2) @ centred / (f.shape[1] - 1)

    diff = cov(source) - cov(target)
    return (diff * diff).sum(dim=(1, 2)) / (4.0 * d * d)


def estimation_loss(kind: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """Per-member loss ``(M, n) x (n,) -> (M,)``."""

    def mse(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return ((pred - y.unsqueeze(0)) ** 2).mean(dim=1)

    def mape(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        # floor the denominator at 0.01 m3/m3 so bone-dry labels do not explode the loss
        return ((pred - y.unsqueeze(0)).abs() / y.clamp_min(0.01).unsqueeze(0)).mean(dim=1)

    return mse if kind == "mse" else mape


def early_balance_beta(
    ensemble: Ensemble,
    fine_x: F32,
    fine_y: F32,
    target_x: F32,
    alpha: float,
    *,
    draws: int = 50,
    rng: np.random.Generator,
    loss: str = "mse",
    max_target: int = 20_000,
) -> npt.NDArray[np.float64]:
    """Beta per member so that the domain term starts at the weight of the 50 m term.

    ``beta = alpha * L_50m(pretrained) / mean_k sqrt(CORAL(fine, target subset k))`` with the
    pretrained member in eval mode and ``draws`` random target subsets of the fine set's size.
    """
    import torch

    net = ensemble.net
    device = ensemble.device
    was_training = net.training
    net.eval()
    try:
        with torch.no_grad():
            out_f, feat_f = net(torch.from_numpy(fine_x).to(device))
            est = estimation_loss(loss)(out_f, torch.from_numpy(fine_y).to(device))
            nt = min(len(target_x), max_target)
            sub = (
                rng.choice(len(target_x), size=nt, replace=False)
                if nt < len(target_x)
                else np.arange(nt)
            )
            # in chunks: the dense blocks' buffers of 20,000 rows at once take ~0.5 GB
            xt = torch.from_numpy(target_x[sub]).to(device)
            feat_t = torch.cat([net(part)[1] for part in torch.split(xt, 4096)], dim=1)
            k = min(len(fine_x), nt)
            total = torch.zeros(ensemble.n_members, dtype=torch.float64, device=device)
            for _ in range(draws):
                pick = torch.from_numpy(rng.choice(nt, size=k, replace=False)).to(device)
                total += coral(feat_f[:, :k], feat_t[:, pick]).clamp_min(0).sqrt().double()
            dom = total / draws
    finally:
        net.train(was_training)
    beta = alpha * est.double() / dom.clamp_min(1e-12)
    return beta.cpu().numpy()
