"""The DenseSM-d-w architecture a member's state dict must have: keys, shapes, finite values.

Also where a member file's bytes are loaded as a state dict (``weights_only=True``).
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ...errors import ModelStoreError
from .layout import BOTTLENECK, N_SNAPSHOT_FEATURES

if TYPE_CHECKING:  # pragma: no cover
    import torch


def expected_shapes(depth: int, width: int) -> dict[str, tuple[int, ...]]:
    """Keys and tensor shapes of a DenseSM-``depth``-``width`` state dict (see method.md, 1).

    Args:
        depth: number of dense blocks (>= 1).
        width: width of the dense blocks (>= 1).

    Returns:
        ``{state-dict key: shape}`` in the order of the published files.

    """
    shapes: dict[str, tuple[int, ...]] = {}

    def bn(prefix: str, n: int) -> None:
        for suffix in ("weight", "bias", "running_mean", "running_var"):
            shapes[f"{prefix}.{suffix}"] = (n,)
        shapes[f"{prefix}.num_batches_tracked"] = ()

    for k, (cin, cout) in enumerate(((3, 32), (32, 16), (16, 4)), start=1):
        shapes[f"conv_block.conv{k}.weight"] = (cout, cin, 5)
        shapes[f"conv_block.conv{k}.bias"] = (cout,)
        bn(f"conv_block.bn{k}", cout)
    bn("norm", N_SNAPSHOT_FEATURES)
    for i in range(depth):
        prefix = f"dense_layers.{i}"
        n_in = N_SNAPSHOT_FEATURES + i * width
        for k in (1, 2, 3):
            shapes[f"{prefix}.linear{k}.weight"] = (width, n_in if k == 1 else width)
            shapes[f"{prefix}.linear{k}.bias"] = (width,)
        for k in (1, 2, 3):
            bn(f"{prefix}.bn{k}", width)
    shapes["fc_layers.0.linear1.weight"] = (BOTTLENECK, N_SNAPSHOT_FEATURES + depth * width)
    shapes["fc_layers.0.linear1.bias"] = (BOTTLENECK,)
    bn("fc_layers.0.bn1", BOTTLENECK)
    shapes["out.weight"] = (1, BOTTLENECK)
    shapes["out.bias"] = (1,)
    return shapes


def infer_architecture(state_dict: Mapping[str, Any], label: str = "state dict") -> tuple[int, int]:
    """Read depth and width off a DenseSM state dict.

    Args:
        state_dict: the member's weights.
        label: what to call it in error messages.

    Returns:
        ``(depth, width)``.

    Raises:
        ModelStoreError: the dict has no dense blocks or is not a DenseSM state dict.

    """
    blocks = set()
    for key in state_dict:
        m = re.match(r"^dense_layers\.(\d+)\.", key)
        if m:
            blocks.add(int(m.group(1)))
    first = state_dict.get("dense_layers.0.linear1.weight")
    if not blocks or first is None or len(tuple(first.shape)) != 2:
        raise ModelStoreError(
            f"{label} is not a DenseSM state dict (no dense_layers.0.linear1.weight found)"
        )
    return max(blocks) + 1, int(first.shape[0])


def _check_state_dict(sd: Any, depth: int, width: int, label: str) -> None:
    """Check keys, shapes and finiteness of one member against DenseSM-``depth``-``width``."""
    import torch

    if not isinstance(sd, Mapping):
        raise ModelStoreError(f"{label} does not hold a state dict (found {type(sd).__name__})")
    expected = expected_shapes(depth, width)
    missing = [k for k in expected if k not in sd]
    unexpected = [k for k in sd if k not in expected]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing keys {_few(missing)}")
        if unexpected:
            parts.append(f"unexpected keys {_few(unexpected)}")
        raise ModelStoreError(
            f"{label} is not a DenseSM-{depth}-{width} state dict: {'; '.join(parts)}"
        )
    for key, shape in expected.items():
        tensor = sd[key]
        if not isinstance(tensor, torch.Tensor):
            raise ModelStoreError(f"{label}: {key} is not a tensor")
        if tuple(tensor.shape) != shape:
            raise ModelStoreError(
                f"{label} is not a DenseSM-{depth}-{width} state dict: {key} has shape "
                f"{tuple(tensor.shape)}, expected {shape}"
            )
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise ModelStoreError(f"{label}: {key} holds NaN or infinite values")


def _few(items: list[str], n: int = 5) -> str:
    shown = ", ".join(items[:n])
    return shown + (f" and {len(items) - n} more" if len(items) > n else "")


def _load_state_dict_bytes(data: bytes, label: str) -> dict[str, torch.Tensor]:
    import torch

    try:
        sd = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - torch raises many types on bad files
        raise ModelStoreError(
            f"{label} cannot be loaded as a PyTorch state dict (weights only): {exc}"
        ) from exc
    if not isinstance(sd, Mapping):
        raise ModelStoreError(f"{label} does not hold a state dict (found {type(sd).__name__})")
    return dict(sd)
