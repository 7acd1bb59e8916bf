"""DenseSM-E: the ensemble of DenseSM members, its predictions and its persistence.

The ensemble mean is the prediction; the standard deviation across members (population form,
``ddof=0``) is a per-sample uncertainty signal, the "spread".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..errors import InputError
from ..features.contract import (
    AUTHORS_50M,
    N_INPUTS,
    N_MODEL_SNAPSHOT,
    PUBLISHED_LAYOUT,
    InputLayout,
    get_layout,
)
from ..progress import Progress

if TYPE_CHECKING:
    import torch

    from .grouped import GroupedEnsemble
    from .store import ModelSet

F32 = npt.NDArray[np.float32]

DEFAULT_BATCH = 2048
"""Samples per forward pass at inference: large enough to amortise per-op overhead, small
enough that the convolution activations (about 150 kB per sample) stay modest."""


@dataclass
class Prediction:
    """Ensemble output for N samples."""

    mean: F32
    """(N,) ensemble mean, m3/m3."""
    spread: F32
    """(N,) standard deviation across members, m3/m3."""
    members: F32
    """(M, N) each member's output, in :attr:`Ensemble.member_names` order."""


def resolve_device(device: str) -> torch.device:
    """Validate a device name (``cpu``, ``cuda``, ``cuda:N``) and return it.

    Raises:
        InputError: the device is unknown or CUDA is not available.
    """
    import torch

    if device == "cpu":
        return torch.device("cpu")
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise InputError(
                f"device {device!r} was asked for, but torch sees no CUDA GPU (torch "
                f"{torch.__version__}). Use --device cpu, or install a CUDA build of torch "
                "(see the README)."
            )
        return torch.device(device)
    raise InputError(f"unknown device {device!r}; allowed: cpu, cuda, cuda:N")


def unique_rows(a: npt.NDArray[Any]) -> tuple[npt.NDArray[Any], npt.NDArray[np.int64]]:
    """Unique rows of a 2-D array and, for every row, the index of its unique row.

    Rows are compared byte for byte. Float32 rows (model inputs) are first grouped by a 64-bit
    key (:func:`_row_keys`: a matrix-vector product and a sort of ``N`` integers, instead of a
    sort of ``N`` rows of bytes, 5x faster on 100,000 series), then every row that shares its
    key is checked against its group's first row; should two different rows share a key, the
    rows themselves are sorted.
    """
    a = np.ascontiguousarray(a)
    if a.dtype != np.float32 or a.ndim != 2 or a.shape[0] < 2 or a.shape[1] == 0:
        return _unique_rows_sorted(a)
    key = _row_keys(a)
    if key is None:
        return _unique_rows_sorted(a)
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    inverse = inverse.astype(np.int64).reshape(-1)
    shared = np.flatnonzero(np.bincount(inverse)[inverse] > 1)  # rows whose key is not unique
    bits = a.view(np.uint32)
    if not np.array_equal(bits[shared], bits[first[inverse[shared]]]):  # different rows, one key
        return _unique_rows_sorted(a)
    return a[first], inverse


def _row_keys(a: npt.NDArray[np.float32]) -> npt.NDArray[np.uint64] | None:
    """A 64-bit key per row: the bits of two fixed random projections (None if not finite)."""
    proj = np.random.default_rng(0x5EED).random((a.shape[1], 2), dtype=np.float32) + 0.5
    key = np.ascontiguousarray(a @ proj)
    if not np.isfinite(key).all():
        return None
    return key.view(np.uint64).ravel()


def _unique_rows_sorted(a: npt.NDArray[Any]) -> tuple[npt.NDArray[Any], npt.NDArray[np.int64]]:
    """:func:`unique_rows` by sorting the rows as byte strings."""
    view = a.view(np.dtype((np.void, a.dtype.itemsize * a.shape[1]))).ravel()
    _, first, inverse = np.unique(view, return_index=True, return_inverse=True)
    return a[first], inverse.astype(np.int64).reshape(-1)


PREPARE_KERNELS_FROM = 4_000
"""Distinct series from which a CPU prediction first compiles (or loads from numba's disk
cache) the fused inference kernels of :mod:`core.model.kernels`, if not yet done in the
process. Loading takes well under a second and the kernels save ~35 microseconds per series;
the one-off compilation on a new machine takes about 7 s on two cores. A map tile of 2 x 2
9 km cells has up to 5,184 series. Smaller predictions use the kernels once they are
prepared."""


def declared_layout(model_set: ModelSet) -> str:
    """Name of the input layout a model set expects.

    The layout its manifest declares (``provenance.input_layout``). Sets written before layouts
    were declared: the published weights (kind ``pretrained`` with the published checksums) take
    :data:`~core.features.contract.PUBLISHED_LAYOUT`; any other set was trained or adapted on
    inputs in the
    raw order of the authors' 50 m contract, so it takes ``authors_50m``.
    """
    from .store import PUBLISHED_SHA256

    declared = (model_set.provenance or {}).get("input_layout")
    if declared:
        return get_layout(str(declared)).name
    published = model_set.kind == "pretrained" and all(
        PUBLISHED_SHA256.get(m.path.name) == m.sha256 for m in model_set.members
    )
    return PUBLISHED_LAYOUT.name if published else AUTHORS_50M.name


class Ensemble:
    """A DenseSM ensemble ready to predict or to be adapted.

    Build it with :meth:`load` (an installed model set or a folder), :meth:`from_state_dicts`
    or :meth:`fresh` (random initialisation, for pretraining).
    """

    def __init__(
        self, net: GroupedEnsemble, *, name: str = "", provenance: Mapping[str, Any] | None = None
    ) -> None:
        from .runtime import tune_allocator

        tune_allocator()
        self.net = net
        self.name = name
        self.provenance: dict[str, Any] = dict(provenance or {})

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def from_state_dicts(
        cls,
        states: Mapping[str, Mapping[str, torch.Tensor]],
        *,
        name: str = "",
        device: str = "cpu",
        provenance: Mapping[str, Any] | None = None,
    ) -> Ensemble:
        """Build from per-member state dicts keyed ``coarse_{d}_{w}``."""
        from .densesm import parse_member_name
        from .grouped import GroupedEnsemble, MemberSpec

        specs = []
        for key in states:
            try:
                specs.append(MemberSpec(*parse_member_name(key)))
            except ValueError as exc:
                raise InputError(str(exc)) from None
        net = GroupedEnsemble(specs)
        net.load_member_state_dicts({k: dict(v) for k, v in states.items()})
        net.to(resolve_device(device))
        net.eval()
        return cls(net, name=name, provenance=provenance)

    @classmethod
    def load(cls, name_or_path: str | Path, device: str = "cpu") -> Ensemble:
        """Load an installed model set by name, or a model-set folder, verifying checksums."""
        from .store import load_model_set

        model_set = load_model_set(name_or_path)
        return cls.from_model_set(model_set, device=device)

    @classmethod
    def from_model_set(cls, model_set: ModelSet, device: str = "cpu") -> Ensemble:
        """Build from a :class:`core.model.store.ModelSet`."""
        provenance = {
            "model_set": model_set.name,
            "kind": model_set.kind,
            "source": model_set.source,
            "input_layout": declared_layout(model_set),
        }
        return cls.from_state_dicts(
            model_set.state_dicts(), name=model_set.name, device=device, provenance=provenance
        )

    @classmethod
    def fresh(
        cls, specs: list[tuple[int, int]] | None = None, seed: int = 0, device: str = "cpu"
    ) -> Ensemble:
        """A randomly initialised ensemble (PyTorch default initialisation, seeded).

        Args:
            specs: (depth, width) of each member; default the published 5 x 5 grid.
            seed: seed of the initialisation.
            device: ``cpu`` or ``cuda``.
        """
        import torch

        from .densesm import DEPTHS, WIDTHS, DenseSM, member_name

        specs = specs or [(d, w) for d in DEPTHS for w in WIDTHS]
        gen_state = torch.random.get_rng_state()
        torch.manual_seed(seed)
        try:
            states = {member_name(d, w): DenseSM(d, w).state_dict() for d, w in specs}
        finally:
            torch.random.set_rng_state(gen_state)
        return cls.from_state_dicts(states, name="untrained", device=device)

    # -- properties ---------------------------------------------------------------------------
    @property
    def input_layout(self) -> InputLayout:
        """The input layout the members expect; carried into adapted sets."""
        return get_layout(self.provenance.get("input_layout"))

    @property
    def member_names(self) -> list[str]:
        """Member names, in output order."""
        return self.net.names

    @property
    def n_members(self) -> int:
        """Number of members."""
        return self.net.n_members

    @property
    def device(self) -> torch.device:
        """Device the weights live on."""
        return next(self.net.parameters()).device

    def state_dicts(self) -> dict[str, dict[str, torch.Tensor]]:
        """Per-member state dicts in the published layout."""
        return self.net.member_state_dicts()

    def copy(self) -> Ensemble:
        """A deep copy (same device)."""
        import copy

        return Ensemble(copy.deepcopy(self.net), name=self.name, provenance=self.provenance)

    def save(
        self,
        folder: str | Path,
        *,
        kind: str = "adapted",
        provenance: Mapping[str, Any] | None = None,
        name: str | None = None,
    ) -> ModelSet:
        """Save as a model set folder (member ``.pt`` files, ``SHA256SUMS``, ``manifest.json``)."""
        from .store import save_model_set

        prov = dict(self.provenance)
        prov.update(provenance or {})
        return save_model_set(
            folder, self.state_dicts(), kind=kind, provenance=prov, name=name or Path(folder).name
        )

    # -- prediction ---------------------------------------------------------------------------
    def predict(
        self,
        x156: npt.ArrayLike,
        *,
        batch_size: int = DEFAULT_BATCH,
        progress: Progress | None = None,
    ) -> Prediction:
        """Predict soil moisture for ``(N, 156)`` model inputs.

        Rows that share their 138 time-series values (same 250 m pixel and weather cell in the
        same eight-day window) share the temporal branch: it runs once per distinct series.
        """
        x = np.asarray(x156, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != N_INPUTS:
            raise InputError(f"expected (N, {N_INPUTS}) model inputs, got shape {x.shape}")
        if not np.isfinite(x).all():
            raise InputError("model inputs contain NaN or infinite values")
        series, index = unique_rows(x[:, N_MODEL_SNAPSHOT:])
        return self.predict_shared(
            x[:, :N_MODEL_SNAPSHOT], series, index, batch_size=batch_size, progress=progress
        )

    def predict_shared(
        self,
        snapshot: npt.ArrayLike,
        series: npt.ArrayLike,
        series_index: npt.ArrayLike,
        *,
        batch_size: int = DEFAULT_BATCH,
        progress: Progress | None = None,
    ) -> Prediction:
        """Predict when many samples share a time series.

        Args:
            snapshot: ``(N, 18)`` snapshot inputs (15 normalised values and 3 series means).
            series: ``(U, 138)`` distinct normalised series.
            series_index: ``(N,)`` row of ``series`` for every sample.
            batch_size: samples per forward pass.
            progress: progress and cancel.

        Returns:
            The ensemble mean, spread and member outputs.
        """
        import torch

        snap = np.asarray(snapshot, dtype=np.float32)
        ser = np.asarray(series, dtype=np.float32)
        idx = np.asarray(series_index, dtype=np.int64)
        n = snap.shape[0]
        if snap.ndim != 2 or snap.shape[1] != N_MODEL_SNAPSHOT:
            raise InputError(f"expected (N, {N_MODEL_SNAPSHOT}) snapshot inputs, got {snap.shape}")
        if ser.ndim != 2 or ser.shape[1] != N_INPUTS - N_MODEL_SNAPSHOT:
            raise InputError(f"expected (U, {N_INPUTS - N_MODEL_SNAPSHOT}) series, got {ser.shape}")
        if idx.shape != (n,) or (n and (idx.min() < 0 or idx.max() >= ser.shape[0])):
            raise InputError("series_index must give, for every sample, a row of series")
        from . import lanes

        progress = progress or Progress()
        device = self.device
        net = self.net
        if ser.shape[0] >= PREPARE_KERNELS_FROM:
            from . import kernels

            kernels.prepare_for(device, kernels.INFERENCE, progress.message)
        was_training = net.training
        net.eval()
        m = self.n_members
        u = ser.shape[0]
        members = np.empty((m, n), dtype=np.float32)
        n_lanes = lanes.for_device(device)
        series_job, rows_job = batch_size, batch_size
        if n_lanes > 1:  # jobs small enough to share out evenly, large enough to be worth it
            series_job = min(batch_size, max(-(-u // (4 * n_lanes)), lanes.MIN_JOB_ROWS))
            rows_job = min(batch_size, max(-(-n // (4 * n_lanes)), lanes.MIN_JOB_ROWS))
        temporal = torch.empty((m, u, 12), dtype=torch.float32, device=device)

        def temporal_block(start: int, stop: int) -> None:  # features of distinct series
            temporal[:, start:stop] = net.temporal(torch.from_numpy(ser[start:stop]).to(device))

        def head_block(start: int, stop: int) -> None:
            sel = torch.from_numpy(idx[start:stop]).to(device)
            out, _ = net.head(torch.from_numpy(snap[start:stop]).to(device), temporal[:, sel])
            members[:, start:stop] = out.cpu().numpy()

        def rows_done(fraction: float) -> None:
            progress.fraction(fraction)
            progress.check()

        try:
            with torch.inference_mode(), net.frozen():
                lanes.run_blocks(u, series_job, temporal_block, n_lanes, lambda _: progress.check())
                lanes.run_blocks(n, rows_job, head_block, n_lanes, rows_done)
        finally:
            net.train(was_training)
        return Prediction(
            mean=members.mean(axis=0, dtype=np.float64).astype(np.float32),
            spread=members.std(axis=0, dtype=np.float64).astype(np.float32),
            members=members,
        )
