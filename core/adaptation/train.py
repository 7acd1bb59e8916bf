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
  steps at least (``core.run.pipeline.DEFAULT_EPOCH_STEPS``, chosen by measurement; see the README).
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
* All members see the same batches; each member's loss only reaches its own weights, so this is
  training 25 models, just batched.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..errors import InputError
from ..features.contract import N_INPUTS
from ..model.ensemble import Ensemble, resolve_device
from ..progress import Progress

if TYPE_CHECKING:
    import pandas as pd
    import torch

F32 = npt.NDArray[np.float32]

FEATURE_DIM = 32


@dataclass(frozen=True)
class Method:
    """A transfer method: which loss terms it uses."""

    name: str
    label: str
    uses_coarse: bool
    uses_domain: bool
    fixed_alpha: float | None
    description: str


METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method(
            "finetune",
            "Finetune",
            False,
            False,
            1.0,
            "labelled 50 m samples only (Zhu et al. 2024)",
        ),
        Method("ms", "MS (multi-scale)", True, False, None, "labelled 50 m and 9 km SMAP samples"),
        Method(
            "da",
            "DA (domain adaptation)",
            False,
            True,
            1.0,
            "labelled 50 m samples and CORAL alignment with the unlabelled target",
        ),
        Method(
            "msda",
            "MSDA (multi-scale domain adaptation)",
            True,
            True,
            None,
            "labelled 50 m, 9 km SMAP and CORAL alignment with the unlabelled target "
            "(Zhu et al. 2025)",
        ),
    )
}
"""Transfer methods by name (for the CLI and the GUI combo boxes)."""

LOSSES = ("mse", "mape")


def get_method(name: str) -> Method:
    """Look up a transfer method by name."""
    try:
        return METHODS[name]
    except KeyError:
        raise InputError(
            f"unknown transfer method {name!r}; allowed: {', '.join(METHODS)}"
        ) from None


@dataclass(frozen=True)
class AdaptConfig:
    """Settings of one adaptation run (defaults: the papers' MSDA settings)."""

    method: str = "msda"
    alpha: float = 0.7
    """Weight of the 50 m loss (1 - alpha weighs the 9 km loss); ignored by finetune and DA."""
    beta: float | str = "auto"
    """Weight of the domain loss, or ``"auto"`` for the early balance."""
    epochs: int = 50
    lr: float = 5e-4
    batch_size: int = 128
    snapshot_epochs: int = 10
    """Average the weights of this many last epochs."""
    min_epoch_steps: int = 1
    """Fewest optimizer steps of an epoch: with few labelled samples an epoch draws them again
    (reshuffled) until it has taken this many steps. 1 keeps one pass over the labelled samples
    per epoch. See :meth:`steps_per_epoch`."""
    seed: int = 0
    device: str = "cpu"
    loss: str = "mse"
    """Estimation loss: ``mse`` (the papers) or ``mape`` (the authors' example configuration)."""
    beta_draws: int = 50

    def __post_init__(self) -> None:
        get_method(self.method)
        if not (0.0 <= float(self.alpha) <= 1.0) or math.isnan(float(self.alpha)):
            raise InputError(f"alpha must be between 0 and 1, got {self.alpha}")
        if isinstance(self.beta, str):
            if self.beta != "auto":
                raise InputError(f"beta must be 'auto' or a number >= 0, got {self.beta!r}")
        elif not (float(self.beta) >= 0.0):
            raise InputError(f"beta must be 'auto' or a number >= 0, got {self.beta!r}")
        if self.epochs < 1:
            raise InputError(f"epochs must be at least 1, got {self.epochs}")
        if not (1 <= self.snapshot_epochs):
            raise InputError(f"snapshot_epochs must be at least 1, got {self.snapshot_epochs}")
        if self.min_epoch_steps < 1:
            raise InputError(f"min_epoch_steps must be at least 1, got {self.min_epoch_steps}")
        if not (self.lr > 0):
            raise InputError(f"learning rate must be positive, got {self.lr}")
        if self.batch_size < 2:
            raise InputError(f"batch size must be at least 2, got {self.batch_size}")
        if self.loss not in LOSSES:
            raise InputError(f"unknown loss {self.loss!r}; allowed: {', '.join(LOSSES)}")
        if self.beta_draws < 1:
            raise InputError(f"beta_draws must be at least 1, got {self.beta_draws}")

    def steps_per_epoch(self, n_fine: int) -> int:
        """Optimizer steps of one epoch with ``n_fine`` labelled 50 m samples.

        One pass over the labelled samples in batches of ``batch_size``, or
        ``min_epoch_steps`` steps when that pass is shorter.
        """
        return max(math.ceil(n_fine / self.batch_size), self.min_epoch_steps)

    @property
    def effective_alpha(self) -> float:
        """Alpha as the method uses it (1 for finetune and DA)."""
        fixed = get_method(self.method).fixed_alpha
        return float(self.alpha if fixed is None else fixed)


@dataclass
class AdaptResult:
    """Outcome of :func:`adapt`."""

    ensemble: Ensemble
    betas: dict[str, float]
    history: pd.DataFrame
    config: AdaptConfig
    n_fine: int
    n_coarse: int
    n_target: int
    """Unlabelled cells given."""
    n_target_used: int
    """Unlabelled cells drawn into the training stream (bounded)."""
    notes: list[str] = field(default_factory=list)

    def provenance(self) -> dict[str, Any]:
        """JSON-serialisable record of the run, for manifests."""
        return {
            "method": self.config.method,
            "config": asdict(self.config),
            "alpha": self.config.effective_alpha,
            "betas": self.betas,
            "n_fine": self.n_fine,
            "n_coarse": self.n_coarse,
            "n_target": self.n_target,
            "n_target_used": self.n_target_used,
            "notes": list(self.notes),
        }


# -- input checks ----------------------------------------------------------------------------
def _rows_where(
    arr: F32, test: Callable[[F32], npt.NDArray[np.bool_]], block: int = 65_536
) -> npt.NDArray[np.int64]:
    """Rows of ``arr`` where ``test`` is true for any value, checked in blocks of rows.

    A million-cell target is 0.6 GB; whole-array masks would add a quarter of that per mask.
    """
    found = [
        np.flatnonzero(test(arr[start : start + block]).any(axis=1)) + start
        for start in range(0, len(arr), block)
    ]
    return np.concatenate(found) if found else np.empty(0, dtype=np.int64)


def check_inputs(x: npt.ArrayLike, name: str) -> F32:
    """Validate ``(N, 156)`` normalised model inputs; returns a float32 array."""
    arr = np.asarray(x, dtype=np.float32)
    if arr.ndim != 2 or arr.shape[1] != N_INPUTS:
        cols = arr.shape[1] if arr.ndim == 2 else "?"
        raise InputError(
            f"the {name} set has {cols} model inputs per sample; DenseSM needs {N_INPUTS} "
            "(153 normalised variables plus 3 series means, see docs/input-contract.md)"
        )
    rows = _rows_where(arr, lambda block: ~np.isfinite(block))
    if len(rows):
        raise InputError(
            f"the {name} set has {len(rows)} samples with NaN or infinite inputs "
            f"(first rows: {', '.join(map(str, rows[:5]))}); remove or fill them"
        )
    tol = 1e-4
    rows = _rows_where(arr, lambda block: (block < -tol) | (block > 1 + tol))
    if len(rows):
        raise InputError(
            f"the {name} set has {len(rows)} samples with inputs outside [0, 1] "
            f"(first rows: {', '.join(map(str, rows[:5]))}); inputs must be normalised with the "
            "input contract"
        )
    return arr


def check_labels(y: npt.ArrayLike, n: int, name: str) -> F32:
    """Validate soil moisture labels in m3/m3 for ``n`` samples."""
    arr = np.asarray(y, dtype=np.float32).reshape(-1)
    if arr.shape[0] != n:
        raise InputError(f"the {name} set has {n} samples but {arr.shape[0]} labels")
    bad = ~np.isfinite(arr)
    if bad.any():
        rows = np.flatnonzero(bad)
        raise InputError(
            f"the {name} set has {len(rows)} missing labels "
            f"(first rows: {', '.join(map(str, rows[:5]))})"
        )
    out = (arr < 0) | (arr > 1)
    if out.any():
        rows = np.flatnonzero(out)
        raise InputError(
            f"the {name} set has {len(rows)} labels outside 0-1 m3/m3 (first rows: "
            f"{', '.join(map(str, rows[:5]))}, e.g. {arr[rows[0]]:g}); are they in %? divide by 100"
        )
    return arr


# -- losses ----------------------------------------------------------------------------------
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


def _estimation_loss(kind: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """Per-member loss ``(M, n) x (n,) -> (M,)``."""

    def mse(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return ((pred - y.unsqueeze(0)) ** 2).mean(dim=1)

    def mape(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        # floor the denominator at 0.01 m3/m3 so bone-dry labels do not explode the loss
        return ((pred - y.unsqueeze(0)).abs() / y.clamp_min(0.01).unsqueeze(0)).mean(dim=1)

    return mse if kind == "mse" else mape


# -- sampling --------------------------------------------------------------------------------
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


# -- beta ------------------------------------------------------------------------------------
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
            est = _estimation_loss(loss)(out_f, torch.from_numpy(fine_y).to(device))
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


# -- training --------------------------------------------------------------------------------
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


def adapt(
    ensemble: Ensemble,
    fine_x: npt.ArrayLike,
    fine_y: npt.ArrayLike,
    coarse_x: npt.ArrayLike | None = None,
    coarse_y: npt.ArrayLike | None = None,
    target_x: npt.ArrayLike | None = None,
    config: AdaptConfig | None = None,
    progress: Progress | None = None,
) -> AdaptResult:
    """Adapt every member of ``ensemble`` to 50 m with the configured method.

    Args:
        ensemble: the pretrained ensemble (left untouched; a copy is trained).
        fine_x, fine_y: labelled 50 m samples ``(N, 156)`` and soil moisture (m3/m3).
        coarse_x, coarse_y: labelled 9 km samples (SMAP truth); needed by MS and MSDA.
        target_x: unlabelled 50 m samples (the cells to map); needed by DA and MSDA.
        config: method and hyper-parameters.
        progress: progress and cancel (checked at every step).

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

    # ---- validate everything before any training ----
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
    else:
        tx_all = None
    if not method.uses_coarse and not method.uses_domain and len(fx) < 2:
        raise InputError("finetuning needs at least 2 labelled 50 m samples (BatchNorm statistics)")

    rng = np.random.default_rng(config.seed)
    torch_state = torch.random.get_rng_state()
    torch.manual_seed(config.seed)
    notes: list[str] = []
    try:
        model = ensemble.copy()
        model.net.to(device)
        net = model.net
        n_steps_epoch = config.steps_per_epoch(len(fx))
        one_pass = n_steps_epoch == math.ceil(len(fx) / config.batch_size)
        total_steps = n_steps_epoch * config.epochs

        # bounded unlabelled stream
        tx: F32 | None = None
        n_target = 0 if tx_all is None else len(tx_all)
        if tx_all is not None:
            cap = max(total_steps * config.batch_size, 2)
            if len(tx_all) > cap:
                pick = np.sort(rng.choice(len(tx_all), size=cap, replace=False))
                tx = tx_all[pick]
                notes.append(
                    f"unlabelled target: {cap:,} of {len(tx_all):,} cells drawn at random "
                    "(all the domain loss can use in this many steps)"
                )
            else:
                tx = tx_all

        # beta
        m = model.n_members
        if method.uses_domain:
            if config.beta == "auto":
                assert tx is not None
                progress.message("computing early-balance beta")
                betas = early_balance_beta(
                    model, fx, fy, tx, alpha, draws=config.beta_draws, rng=rng, loss=config.loss
                )
            else:
                betas = np.full(m, float(config.beta))
        else:
            betas = np.zeros(m)
        beta_t = torch.tensor(betas, dtype=torch.float32, device=device)

        est_loss = _estimation_loss(config.loss)
        kernels.prepare_for(device, kernels.TRAINING, progress.message)
        opt = _adam(net, config.lr)
        fx_t = torch.from_numpy(fx).to(device)
        fy_t = torch.from_numpy(fy).to(device)
        tx_t = torch.from_numpy(tx).to(device) if tx is not None else None
        cx_t = torch.from_numpy(cx).to(device) if cx is not None else None
        cy_t = torch.from_numpy(cy).to(device) if cy is not None else None
        t_stream = _Stream(len(tx), config.batch_size, rng) if tx is not None else None
        c_stream = _Stream(len(cx), config.batch_size, rng) if cx is not None else None
        f_stream = None if one_pass else _Stream(len(fx), config.batch_size, rng)
        use_coarse = cx is not None and alpha < 1.0

        snapshots = _SnapshotAverage(config.epochs, config.snapshot_epochs)
        rows = []
        step = 0
        for epoch in range(config.epochs):
            net.train()
            sums = np.zeros(4)
            batches = (
                _fine_batches(len(fx), config.batch_size, rng)
                if f_stream is None
                else [f_stream.next() for _ in range(n_steps_epoch)]
            )
            for fb in batches:
                parts = [fx_t[fb]]
                ns = len(fb)
                nt = 0
                if t_stream is not None and tx_t is not None:
                    tb = t_stream.next()
                    parts.append(tx_t[tb])
                    nt = len(tb)
                if use_coarse and c_stream is not None and cx_t is not None:
                    cb = c_stream.next()
                    parts.append(cx_t[cb])
                if sum(p.shape[0] for p in parts) < 2:
                    # BatchNorm needs two samples; only a 1-sample finetune tail lands here
                    continue
                xb = torch.cat(parts, dim=0)
                out, feats = net(xb)
                l_fine = est_loss(out[:, :ns], fy_t[fb])
                loss = alpha * l_fine
                l_coarse = torch.zeros_like(l_fine)
                l_dom = torch.zeros_like(l_fine)
                if use_coarse and cy_t is not None:
                    l_coarse = est_loss(out[:, ns + nt :], cy_t[cb])
                    loss = loss + (1.0 - alpha) * l_coarse
                k = min(ns, nt)
                if method.uses_domain and k >= 2:
                    l_dom = coral(feats[:, :k], feats[:, ns : ns + k]).clamp_min(1e-20).sqrt()
                    loss = loss + beta_t * l_dom
                opt.zero_grad(set_to_none=True)
                loss.sum().backward()
                opt.step()
                net.count_batch()
                with torch.no_grad():
                    sums += [
                        float(loss.mean()),
                        float(l_fine.mean()),
                        float(l_coarse.mean()),
                        float(l_dom.mean()),
                    ]
                step += 1
                progress.fraction(step / total_steps)
                progress.check()
            rows.append(
                {
                    "epoch": epoch + 1,
                    "loss": sums[0] / n_steps_epoch,
                    "loss_50m": sums[1] / n_steps_epoch,
                    "loss_9km": sums[2] / n_steps_epoch,
                    "domain": sums[3] / n_steps_epoch,
                }
            )
            progress.message(
                f"{method.label}: epoch {epoch + 1}/{config.epochs}, loss {rows[-1]['loss']:.5f}"
            )
            snapshots.epoch_end(epoch, net)
        snapshots.load_into(net)
    finally:
        torch.random.set_rng_state(torch_state)
    model.name = f"{ensemble.name or 'ensemble'}+{method.name}"
    return AdaptResult(
        ensemble=model,
        betas={name: float(b) for name, b in zip(model.member_names, betas, strict=True)},
        history=pd.DataFrame(rows),
        config=config,
        n_fine=len(fx),
        n_coarse=0 if cx is None else len(cx),
        n_target=n_target,
        n_target_used=0 if tx is None else len(tx),
        notes=notes,
    )


# -- pretraining at 9 km ---------------------------------------------------------------------
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
            net.train()
            losses = []
            for b in _fine_batches(len(train), config.batch_size, rng):
                if len(b) < 2:
                    continue
                idx = torch.from_numpy(train[b]).to(device)
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
            val_rmse = float("nan")
            if n_val:
                net.eval()
                with torch.no_grad():
                    out, _ = net(xt[torch.from_numpy(val).to(device)])
                    val_rmse = float(((out - yt[val].unsqueeze(0)) ** 2).mean(dim=1).sqrt().mean())
            rows.append(
                {
                    "epoch": epoch + 1,
                    "train_rmse": float(np.mean(losses)) if losses else float("nan"),
                    "val_rmse": val_rmse,
                }
            )
            progress.message(
                f"pretraining: epoch {epoch + 1}/{config.epochs}, val RMSE {val_rmse:.4f}"
            )
            snapshots.epoch_end(epoch, net)
        snapshots.load_into(net)
        final: dict[str, float] = {}
        if n_val:
            with torch.no_grad():
                out, _ = net(xt[torch.from_numpy(val).to(device)])
                per = ((out - yt[val].unsqueeze(0)) ** 2).mean(dim=1).sqrt().cpu().numpy()
            final = {name: float(v) for name, v in zip(model.member_names, per, strict=True)}
    finally:
        torch.random.set_rng_state(torch_state)
    model.name = "pretrained-9km"
    return PretrainResult(ensemble=model, history=pd.DataFrame(rows), val_rmse=final, config=config)
