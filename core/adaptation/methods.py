"""Transfer methods by name, the settings of an adaptation run, and its outcome.

The methods switch the terms of the joint loss on or off (see :mod:`core.adaptation.train`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import InputError

if TYPE_CHECKING:
    import pandas as pd

    from ..model.ensemble import Ensemble


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

BATCHNORM_MODES = ("batch", "pretrained")
"""How BatchNorm normalises during adaptation (:attr:`AdaptConfig.batchnorm`)."""


def check_batchnorm_mode(mode: str, prefix: str = "") -> None:
    """InputError (its message after ``prefix``) unless ``mode`` is one of BATCHNORM_MODES."""
    if mode not in BATCHNORM_MODES:
        raise InputError(
            f"{prefix}unknown BatchNorm mode {mode!r}; allowed: {', '.join(BATCHNORM_MODES)}"
        )


def check_consistency_weight(weight: object, prefix: str = "") -> None:
    """InputError (its message after ``prefix``) unless ``weight`` is a finite number >= 0."""
    ok = isinstance(weight, (int, float)) and not isinstance(weight, bool)
    if not ok or not (0.0 <= float(weight) < math.inf):  # type: ignore[arg-type]
        raise InputError(
            f"{prefix}the 9 km consistency weight must be a number >= 0 (0 turns it off), "
            f"got {weight!r}"
        )


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
    batchnorm: str = "batch"
    """``batch`` (the method's, as in the authors' code): training batches are normalised by
    their own statistics, and the running statistics move to those of the run's joint batches
    (stations, 9 km cells, the area's cells). ``pretrained``: the pretrained running statistics
    normalise in training and in prediction alike and are never changed; only weights learn
    (dropout still runs). See the README's "BatchNorm during adaptation"."""
    consistency: float = 0.0
    """Weight gamma of the 9 km consistency term (:mod:`core.adaptation.consistency`), relative to
    the 9 km loss: 0 is the method as published. It needs the 9 km loss (MS, MSDA, alpha < 1) and
    the grouped 50 m cells given to :func:`~core.adaptation.train.adapt`."""

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
        check_batchnorm_mode(self.batchnorm)
        check_consistency_weight(self.consistency)
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
