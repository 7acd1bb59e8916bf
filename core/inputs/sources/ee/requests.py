"""The pixel-fetcher seam: pixel and value requests, their cache keys, and the fetcher protocols.

A :class:`PixelRequest` is (expression, grid, bands) in, ``{band: (H, W) array}`` out; a
:class:`ValueRequest` is a small metadata request answered with JSON. Both have a stable SHA-256
key of what they ask for, under which :mod:`.caching` stores the answer.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ....errors import InputError
from ....progress import Progress
from ...grid import GridWindow

NODATA = -9999.0
"""Value expressions are unmasked to; turned into NaN on arrival."""


Arrays = dict[str, np.ndarray]


def _serialize(expression: Any) -> str:
    """An Earth Engine expression (or its already serialised JSON) as deterministic JSON."""
    if isinstance(expression, str):
        return expression
    return str(expression.serialize())


@dataclass(frozen=True, eq=False)
class PixelRequest:
    """One pixel request: an image expression sampled on a grid window, some bands.

    Attributes:
        expression: an ``ee.Image`` (or any object with ``serialize()``), or its serialised
            JSON string.
        grid: the pixel grid (an EASE-2 window; sent as ``GridWindow.ee_grid()``).
        bands: band ids to return, in order.
        dtype: NumPy dtype of the returned arrays.
        nodata: value that marks missing pixels in the response (becomes NaN for floats).
        label: short human name for progress messages (not part of the key).

    """

    expression: Any
    grid: GridWindow
    bands: tuple[str, ...]
    dtype: str = "float32"
    nodata: float | None = NODATA
    label: str = ""

    def __post_init__(self) -> None:
        if not self.bands:
            raise InputError("a pixel request needs at least one band")
        if len(set(self.bands)) != len(self.bands):
            raise InputError(f"duplicate band ids in a pixel request: {list(self.bands)}")
        np.dtype(self.dtype)

    @cached_property
    def serialized(self) -> str:
        """The expression as serialised JSON (deterministic)."""
        return _serialize(self.expression)

    def key(self) -> str:
        """Stable SHA-256 of the serialised expression, the grid, the bands, dtype and nodata."""
        payload = json.dumps(
            {
                "expression": self.serialized,
                "grid": self.grid.ee_grid(),
                "bands": list(self.bands),
                "dtype": np.dtype(self.dtype).str,
                "nodata": self.nodata,
            },
            sort_keys=True,
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    @property
    def nbytes(self) -> int:
        """Uncompressed response size (H x W x bytes per band x bands)."""
        return self.grid.nrows * self.grid.ncols * np.dtype(self.dtype).itemsize * len(self.bands)

    def with_grid(self, grid: GridWindow) -> PixelRequest:
        """Return the same request on another window (keeps the serialised expression)."""
        new = replace(self, grid=grid)
        new.__dict__["serialized"] = self.serialized
        return new

    def with_bands(self, bands: Sequence[str]) -> PixelRequest:
        """Return the same request for a subset of bands."""
        new = replace(self, bands=tuple(bands))
        new.__dict__["serialized"] = self.serialized
        return new


@runtime_checkable
class PixelFetcher(Protocol):
    """Anything that answers pixel requests with one 2-D array per band."""

    def fetch(self, request: PixelRequest, progress: Progress | None = None) -> Arrays:
        """Return ``{band: (H, W) array}`` for every band of the request, row 0 north."""
        ...


@dataclass(frozen=True, eq=False)
class ValueRequest:
    """A small metadata request answered by ``ee.data.computeValue`` (JSON result).

    Attributes:
        expression: an ee object (or its serialised JSON).
        label: what it is (``"s1-acquisitions"``, ``"scene-metadata"``); not part of the key.
        params: the plain parameters it was built from (for logs and synthetic fetchers);
            not part of the key.
        cacheable: False when the answer may still change (recent dates): never cached.

    """

    expression: Any
    label: str
    params: dict[str, Any] = field(default_factory=dict)
    cacheable: bool = True

    @cached_property
    def serialized(self) -> str:
        """The expression as serialised JSON."""
        return _serialize(self.expression)

    def key(self) -> str:
        """SHA-256 of the serialised expression."""
        payload = json.dumps({"value": self.serialized}, sort_keys=True)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@runtime_checkable
class ValueFetcher(Protocol):
    """Anything that answers metadata requests with a JSON-like value."""

    def compute(self, request: ValueRequest, progress: Progress | None = None) -> Any:
        """Return the value of the request's expression (``progress`` may cancel it)."""
        ...
