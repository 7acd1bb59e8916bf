"""Transfer of the 9 km ensemble to 50 m: finetune, MS, DA and MSDA (Zhu et al. 2024, 2025).

Every member starts from its own pretrained weights and is trained on the joint loss

    L = alpha * MSE_50m + (1 - alpha) * MSE_9km + beta * sqrt(CORAL)

where CORAL = ||C_s - C_t||_F^2 / (4 d^2) compares the covariance of the 32-d bottleneck
features of the labelled 50 m batch (source) and of an equal-size unlabelled 50 m batch
(target), d = 32. The square root follows the authors' code. The methods switch terms on or off
(see :data:`METHODS`).

Choices made here (method.md section 3 leaves them open):

* One epoch is one pass over the labelled 50 m samples in shuffled batches of 128 (the last
  batch may be smaller), or ``min_epoch_steps`` steps when that pass is shorter: a few stations
  over one year give one or two batches, so the epoch then draws the labelled samples again
  from a shuffled stream. The 9 km and unlabelled batches come from their own shuffled streams,
  reshuffled each time a stream is used up (the authors' code cycles fixed batches; the paper
  draws without replacement until all are used; this does both). The Adapt & Map run uses two
  steps at least (``core.run.config.DEFAULT_EPOCH_STEPS``, chosen by measurement; see the README).
* The unlabelled set only feeds a 32 x 32 covariance, so at most ``epochs * steps * batch``
  cells are ever needed: a random subset of that size is drawn once from larger sets. A
  million-cell AOI therefore costs no more than a hundred-thousand-cell one.
* The three batches go through the network together, as in the authors' code, so training-mode
  BatchNorm statistics are those of the joint batch.
* beta "auto" (early balance) is computed per member before training with the pretrained
  member in eval mode: ``beta = alpha * MSE_50m / mean(sqrt(CORAL))`` over 50 random target
  subsets of the labelled set's size.
* The final weights are the average of the weights after each of the last ``snapshot_epochs``
  (10) epochs, BatchNorm running statistics included (snapshot ensemble); with fewer epochs,
  of all of them.
* ``batchnorm="pretrained"`` keeps the pretrained normalisation: BatchNorm runs on the
  pretrained running statistics in training too, so those stay as they were (see
  :attr:`AdaptConfig.batchnorm`).
* ``consistency`` > 0 adds the 9 km consistency term: the mean of the 50 m predictions of a
  (date, 9 km cell) group is drawn toward the cell's SMAP value (see
  :mod:`core.adaptation.consistency`); its cells join the joint batch.
* All members see the same batches; each member's loss only reaches its own weights, so this is
  training 25 models, just batched.
"""

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
from .consistency import ConsistencySet, _GroupStream, consistency_loss
from .losses import coral, early_balance_beta, estimation_loss
from .methods import AdaptConfig, AdaptResult, Method, get_method
from .schedule import _adam, _fine_batches, _SnapshotAverage, _Stream

if TYPE_CHECKING:
    import torch

F32 = npt.NDArray[np.float32]


def adapt(
    ensemble: Ensemble,
    fine_x: npt.ArrayLike,
    fine_y: npt.ArrayLike,
    coarse_x: npt.ArrayLike | None = None,
    coarse_y: npt.ArrayLike | None = None,
    target_x: npt.ArrayLike | None = None,
    config: AdaptConfig | None = None,
    progress: Progress | None = None,
    consistency: ConsistencySet | None = None,
) -> AdaptResult:
    """Adapt every member of ``ensemble`` to 50 m with the configured method.

    Args:
        ensemble: the pretrained ensemble (left untouched; a copy is trained).
        fine_x, fine_y: labelled 50 m samples ``(N, 156)`` and soil moisture (m3/m3).
        coarse_x, coarse_y: labelled 9 km samples (SMAP truth); needed by MS and MSDA.
        target_x: unlabelled 50 m samples (the cells to map); needed by DA and MSDA.
        config: method and hyper-parameters.
        progress: progress and cancel (checked at every step).
        consistency: 50 m cells grouped by (date, 9 km cell) with SMAP's value, for the 9 km
            consistency term; needed when ``config.consistency`` > 0 and the 9 km loss runs.

    Returns:
        The adapted ensemble, the betas and the loss history.

    Raises:
        InputError: bad or missing inputs, before any training starts.
        Cancelled: the user stopped the run.
    """
    import pandas as pd
    import torch

    from ..model import kernels

    config = config or AdaptConfig()
    method = get_method(config.method)
    progress = progress or Progress()
    device = resolve_device(config.device)
    alpha = config.effective_alpha
    sets = _checked_sets(method, alpha, fine_x, fine_y, coarse_x, coarse_y, target_x)
    sets.consistency = _checked_consistency(config, sets, consistency)

    rng = np.random.default_rng(config.seed)
    torch_state = torch.random.get_rng_state()
    torch.manual_seed(config.seed)
    notes: list[str] = []
    try:
        model = ensemble.copy()
        model.net.to(device)
        model.net.batch_statistics = config.batchnorm == "batch"
        total_steps = config.steps_per_epoch(len(sets.fx)) * config.epochs
        tx = _target_subset(sets.tx_all, total_steps * config.batch_size, rng, notes)
        betas = _betas(model, method, config, sets, tx, alpha, rng, progress)
        kernels.prepare_for(device, kernels.TRAINING, progress.message)
        loop = _TrainingLoop(model, method, config, sets, tx, alpha, betas, rng, device)
        rows = loop.run(progress)
    finally:
        torch.random.set_rng_state(torch_state)
        model.net.batch_statistics = True  # a later adaptation of this ensemble chooses again
    model.name = f"{ensemble.name or 'ensemble'}+{method.name}"
    return AdaptResult(
        ensemble=model,
        betas={name: float(b) for name, b in zip(model.member_names, betas, strict=True)},
        history=pd.DataFrame(rows),
        config=config,
        n_fine=len(sets.fx),
        n_coarse=0 if sets.cx is None else len(sets.cx),
        n_target=0 if sets.tx_all is None else len(sets.tx_all),
        n_target_used=0 if tx is None else len(tx),
        notes=notes,
    )


@dataclass
class _Sets:
    """The checked sample sets of one adaptation."""

    fx: F32
    fy: F32
    cx: F32 | None
    cy: F32 | None
    tx_all: F32 | None
    consistency: ConsistencySet | None = None


def _checked_sets(
    method: Method,
    alpha: float,
    fine_x: npt.ArrayLike,
    fine_y: npt.ArrayLike,
    coarse_x: npt.ArrayLike | None,
    coarse_y: npt.ArrayLike | None,
    target_x: npt.ArrayLike | None,
) -> _Sets:
    """Validate every set the method needs, before any training; InputError on the first fault."""
    fx = check_inputs(fine_x, "fine (50 m labelled)")
    if len(fx) == 0:
        raise InputError(
            "the fine (50 m) set is empty: at least one labelled station sample is needed"
        )
    fy = check_labels(fine_y, len(fx), "fine (50 m labelled)")
    cx: F32 | None = None
    cy: F32 | None = None
    if method.uses_coarse and alpha < 1.0:
        if coarse_x is None or coarse_y is None:
            raise InputError(f"method {method.name} needs the labelled 9 km (SMAP) samples")
        cx = check_inputs(coarse_x, "coarse (9 km labelled)")
        if len(cx) == 0:
            raise InputError(
                "the coarse (9 km) set is empty: SMAP samples over the area are needed"
            )
        cy = check_labels(coarse_y, len(cx), "coarse (9 km labelled)")
    tx_all: F32 | None = None
    if method.uses_domain:
        if target_x is None:
            raise InputError(
                f"method {method.name} needs the unlabelled target (50 m cells to map)"
            )
        if len(fx) < 2:
            raise InputError(
                f"method {method.name} aligns feature covariances and needs at least 2 labelled "
                "50 m samples; use more dates or stations, or method ms"
            )
        tx_all = check_inputs(target_x, "target (50 m unlabelled)")
        if len(tx_all) < 2:
            raise InputError("the target set needs at least 2 unlabelled 50 m cells")
    if not method.uses_coarse and not method.uses_domain and len(fx) < 2:
        raise InputError("finetuning needs at least 2 labelled 50 m samples (BatchNorm statistics)")
    return _Sets(fx, fy, cx, cy, tx_all)


def _checked_consistency(
    config: AdaptConfig, sets: _Sets, cset: ConsistencySet | None
) -> ConsistencySet | None:
    """The consistency set the run uses: None when the term is off or has no 9 km loss to join."""
    if config.consistency <= 0 or sets.cx is None:
        return None
    if cset is None:
        raise InputError(
            "the 9 km consistency term needs the 50 m cells of each 9 km cell with its SMAP "
            "value; give them, or set the consistency weight to 0"
        )
    return cset.checked()


def _target_subset(
    tx_all: F32 | None, needed: int, rng: np.random.Generator, notes: list[str]
) -> F32 | None:
    """The unlabelled cells the domain loss can use: all of them, or ``needed`` drawn at random."""
    if tx_all is None:
        return None
    cap = max(needed, 2)
    if len(tx_all) <= cap:
        return tx_all
    pick = np.sort(rng.choice(len(tx_all), size=cap, replace=False))
    notes.append(
        f"unlabelled target: {cap:,} of {len(tx_all):,} cells drawn at random "
        "(all the domain loss can use in this many steps)"
    )
    return tx_all[pick]


def _betas(
    model: Ensemble,
    method: Method,
    config: AdaptConfig,
    sets: _Sets,
    tx: F32 | None,
    alpha: float,
    rng: np.random.Generator,
    progress: Progress,
) -> npt.NDArray[np.float64]:
    """Weight of the domain term per member: early balance, the configured number, or 0."""
    if not method.uses_domain:
        return np.zeros(model.n_members)
    if config.beta != "auto":
        return np.full(model.n_members, float(config.beta))
    assert tx is not None
    progress.message("computing early-balance beta")
    return early_balance_beta(
        model, sets.fx, sets.fy, tx, alpha, draws=config.beta_draws, rng=rng, loss=config.loss
    )


class _TrainingLoop:
    """The epochs of one adaptation: joint batches, the loss terms, steps and snapshots."""

    def __init__(
        self,
        model: Ensemble,
        method: Method,
        config: AdaptConfig,
        sets: _Sets,
        tx: F32 | None,
        alpha: float,
        betas: npt.NDArray[np.float64],
        rng: np.random.Generator,
        device: Any,
    ) -> None:
        import torch

        self.net = model.net
        self.method = method
        self.config = config
        self.alpha = alpha
        self.rng = rng
        self.n_fine = len(sets.fx)
        self.steps_epoch = config.steps_per_epoch(self.n_fine)
        self.one_pass = self.steps_epoch == math.ceil(self.n_fine / config.batch_size)
        self.total_steps = self.steps_epoch * config.epochs
        self.beta = torch.tensor(betas, dtype=torch.float32, device=device)
        self.est_loss = estimation_loss(config.loss)
        self.opt = _adam(self.net, config.lr)

        def on(a: F32 | None) -> torch.Tensor | None:
            return None if a is None else torch.from_numpy(a).to(device)

        self.fx, self.fy = on(sets.fx), on(sets.fy)
        self.tx, self.cx, self.cy = on(tx), on(sets.cx), on(sets.cy)
        batch = config.batch_size
        self.t_stream = _Stream(len(tx), batch, rng) if tx is not None else None
        self.c_stream = _Stream(len(sets.cx), batch, rng) if sets.cx is not None else None
        self.f_stream = None if self.one_pass else _Stream(self.n_fine, batch, rng)
        self.use_coarse = sets.cx is not None and alpha < 1.0
        cset = sets.consistency if self.use_coarse else None
        self.g_stream = _GroupStream(cset, rng) if cset is not None else None
        self.gx = on(cset.x) if cset is not None else None
        self.gy = on(cset.smap) if cset is not None else None
        self.gamma = float(config.consistency)
        self.step = 0

    def run(self, progress: Progress) -> list[dict[str, float]]:
        """Train every epoch, load the snapshot average; returns the loss history per epoch."""
        config = self.config
        snapshots = _SnapshotAverage(config.epochs, config.snapshot_epochs)
        rows = []
        for epoch in range(config.epochs):
            self.net.train()
            sums = np.zeros(5)
            for fb in self._fine_batches():
                terms = self._step(fb)
                if terms is None:
                    continue
                sums += terms
                self.step += 1
                progress.fraction(self.step / self.total_steps)
                progress.check()
            mean = sums / self.steps_epoch
            rows.append(
                {
                    "epoch": epoch + 1,
                    "loss": mean[0],
                    "loss_50m": mean[1],
                    "loss_9km": mean[2],
                    "domain": mean[3],
                    "consistency": mean[4],
                }
            )
            progress.message(
                f"{self.method.label}: epoch {epoch + 1}/{config.epochs}, loss {mean[0]:.5f}"
            )
            snapshots.epoch_end(epoch, self.net)
        snapshots.load_into(self.net)
        return rows

    def _fine_batches(self) -> list[npt.NDArray[np.int64]]:
        if self.f_stream is None:
            return _fine_batches(self.n_fine, self.config.batch_size, self.rng)
        return [self.f_stream.next() for _ in range(self.steps_epoch)]

    def _step(self, fb: npt.NDArray[np.int64]) -> npt.NDArray[np.float64] | None:
        """One optimizer step on a joint batch; its mean loss terms, or None when skipped."""
        import torch

        assert self.fx is not None and self.fy is not None
        parts = [self.fx[fb]]
        ns = len(fb)
        nt = 0
        if self.t_stream is not None and self.tx is not None:
            tb = self.t_stream.next()
            parts.append(self.tx[tb])
            nt = len(tb)
        nc = 0
        if self.use_coarse and self.c_stream is not None and self.cx is not None:
            cb = self.c_stream.next()
            parts.append(self.cx[cb])
            nc = len(cb)
        if self.g_stream is not None and self.gx is not None:
            groups, g_rows = self.g_stream.next()
            parts.append(self.gx[g_rows])
        if sum(p.shape[0] for p in parts) < 2:
            # BatchNorm needs two samples; only a 1-sample finetune tail lands here
            return None
        out, feats = self.net(torch.cat(parts, dim=0))
        l_fine = self.est_loss(out[:, :ns], self.fy[fb])
        loss = self.alpha * l_fine
        l_coarse = torch.zeros_like(l_fine)
        l_dom = torch.zeros_like(l_fine)
        l_cons = torch.zeros_like(l_fine)
        if self.use_coarse and self.cy is not None:
            l_coarse = self.est_loss(out[:, ns + nt : ns + nt + nc], self.cy[cb])
            loss = loss + (1.0 - self.alpha) * l_coarse
        if self.g_stream is not None and self.gy is not None:
            l_cons = consistency_loss(out[:, ns + nt + nc :], self.gy[groups])
            loss = loss + self.gamma * (1.0 - self.alpha) * l_cons
        k = min(ns, nt)
        if self.method.uses_domain and k >= 2:
            l_dom = coral(feats[:, :k], feats[:, ns : ns + k]).clamp_min(1e-20).sqrt()
            loss = loss + self.beta * l_dom
        self.opt.zero_grad(set_to_none=True)
        loss.sum().backward()
        self.opt.step()
        self.net.count_batch()
        with torch.no_grad():
            return np.array(
                [
                    float(loss.mean()),
                    float(l_fine.mean()),
                    float(l_coarse.mean()),
                    float(l_dom.mean()),
                    float(l_cons.mean()),
                ]
            )
