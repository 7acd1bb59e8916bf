"""Training a new 9 km ensemble from scratch against SMAP labels (the published recipe)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..errors import InputError
from ..model.ensemble import Ensemble, resolve_device
from ..progress import Progress
from .checks import check_inputs, check_labels
from .schedule import _adam, _fine_batches, _SnapshotAverage

if TYPE_CHECKING:
    import pandas as pd
    import torch


@dataclass(frozen=True)
class PretrainConfig:
    """Settings of a 9 km pretraining (method.md section 2: the published weights' recipe)."""

    epochs: int = 100
    lr: float = 0.01
    batch_size: int = 128
    snapshot_epochs: int = 10
    val_fraction: float = 0.1
    seed: int = 0
    device: str = "cpu"

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise InputError(f"epochs must be at least 1, got {self.epochs}")
        if self.snapshot_epochs < 1:
            raise InputError(f"snapshot_epochs must be at least 1, got {self.snapshot_epochs}")
        if not (self.lr > 0):
            raise InputError(f"learning rate must be positive, got {self.lr}")
        if self.batch_size < 2:
            raise InputError(f"batch size must be at least 2, got {self.batch_size}")
        if not (0.0 <= self.val_fraction < 1.0):
            raise InputError(f"val_fraction must be in [0, 1), got {self.val_fraction}")


@dataclass
class PretrainResult:
    """Outcome of :func:`pretrain`."""

    ensemble: Ensemble
    history: pd.DataFrame
    """Per epoch: training RMSE and validation RMSE (mean over members)."""
    val_rmse: dict[str, float]
    """Validation RMSE of each member's final (snapshot-averaged) weights."""
    config: PretrainConfig


def pretrain(
    coarse_x: npt.ArrayLike,
    coarse_y: npt.ArrayLike,
    config: PretrainConfig | None = None,
    specs: list[tuple[int, int]] | None = None,
    progress: Progress | None = None,
) -> PretrainResult:
    """Train a new 9 km ensemble from scratch against SMAP labels.

    Random 90/10 split, RMSE loss, Adam (lr 0.01), batch 128, 100 epochs, no early stopping, and
    the average of the last 10 epochs' weights, as for the published weights.
    """
    import pandas as pd
    import torch

    from ..model import kernels

    config = config or PretrainConfig()
    progress = progress or Progress()
    device = resolve_device(config.device)
    x = check_inputs(coarse_x, "coarse (9 km labelled)")
    if len(x) < 4:
        raise InputError(f"pretraining needs at least 4 labelled 9 km samples, got {len(x)}")
    y = check_labels(coarse_y, len(x), "coarse (9 km labelled)")
    rng = np.random.default_rng(config.seed)
    order = rng.permutation(len(x))
    n_val = int(round(config.val_fraction * len(x)))
    val, train = order[:n_val], order[n_val:]
    model = Ensemble.fresh(specs, seed=config.seed, device=config.device)
    net = model.net
    torch_state = torch.random.get_rng_state()
    torch.manual_seed(config.seed)
    try:
        xt = torch.from_numpy(x).to(device)
        yt = torch.from_numpy(y).to(device)
        kernels.prepare_for(device, kernels.TRAINING, progress.message)
        opt = _adam(net, config.lr)
        steps_epoch = math.ceil(len(train) / config.batch_size)
        total = steps_epoch * config.epochs
        snapshots = _SnapshotAverage(config.epochs, config.snapshot_epochs)
        rows = []
        step = 0
        for epoch in range(config.epochs):
            train_rmse, step = _train_epoch(
                net, opt, xt, yt, train, config, rng, step, total, progress
            )
            val_rmse = float(_val_rmse(net, xt, yt, val).mean()) if n_val else float("nan")
            rows.append({"epoch": epoch + 1, "train_rmse": train_rmse, "val_rmse": val_rmse})
            progress.message(
                f"pretraining: epoch {epoch + 1}/{config.epochs}, val RMSE {val_rmse:.4f}"
            )
            snapshots.epoch_end(epoch, net)
        snapshots.load_into(net)
        final: dict[str, float] = {}
        if n_val:
            per = _val_rmse(net, xt, yt, val)
            final = {name: float(v) for name, v in zip(model.member_names, per, strict=True)}
    finally:
        torch.random.set_rng_state(torch_state)
    model.name = "pretrained-9km"
    return PretrainResult(ensemble=model, history=pd.DataFrame(rows), val_rmse=final, config=config)


def _train_epoch(
    net: Any,
    opt: Any,
    xt: torch.Tensor,
    yt: torch.Tensor,
    train: npt.NDArray[np.int64],
    config: PretrainConfig,
    rng: np.random.Generator,
    step: int,
    total: int,
    progress: Progress,
) -> tuple[float, int]:
    """One epoch over the training rows (RMSE loss); returns its mean RMSE and the step count."""
    import torch

    net.train()
    losses = []
    for b in _fine_batches(len(train), config.batch_size, rng):
        if len(b) < 2:
            continue
        idx = torch.from_numpy(train[b]).to(xt.device)
        out, _ = net(xt[idx])
        loss = ((out - yt[idx].unsqueeze(0)) ** 2).mean(dim=1).clamp_min(1e-12).sqrt()
        opt.zero_grad(set_to_none=True)
        loss.sum().backward()
        opt.step()
        net.count_batch()
        losses.append(float(loss.detach().mean()))
        step += 1
        progress.fraction(step / total)
        progress.check()
    return (float(np.mean(losses)) if losses else float("nan")), step


def _val_rmse(
    net: Any, xt: torch.Tensor, yt: torch.Tensor, val: npt.NDArray[np.int64]
) -> npt.NDArray[np.float32]:
    """RMSE of every member on the validation rows, in eval mode."""
    import torch

    net.eval()
    with torch.no_grad():
        out, _ = net(xt[torch.from_numpy(val).to(xt.device)])
        per = ((out - yt[val].unsqueeze(0)) ** 2).mean(dim=1).sqrt()
    return per.cpu().numpy()
