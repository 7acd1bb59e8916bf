"""What every input source delivers, and the registry of sources by name.

A source turns (a window of whole 9 km EASE-2 cells, a date) into raw physical arrays on the
EASE-2 grids: Sentinel-1, soil and terrain on the 50 m grid, the NDVI series on the 250 m grid,
the weather series and SMAP on the 9 km grid. Model inputs are built from these by
``core.features.build`` with ``core.features.contract``; sources never normalise anything.

Sources: ``gee`` (Google Earth Engine, through the on-disk cache) and ``demo`` (a seeded,
simulated scene that needs no account).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from ...errors import InputError
from ...progress import Progress
from ..grid import GridWindow

SENTINEL1_FIRST_DATE = dt.date(2014, 4, 3)
"""First Sentinel-1 acquisition: map and training dates before it cannot have inputs."""


def check_sentinel1_era(days: Any, what: str = "date") -> None:
    """Every date lies in the Sentinel-1 record (its first acquisition to today).

    Raises:
        InputError: naming the first date outside.

    """
    today = dt.date.today()
    for d in days:
        if d < SENTINEL1_FIRST_DATE or d > today:
            raise InputError(
                f"{what} {d.isoformat()} is outside the Sentinel-1 record "
                f"({SENTINEL1_FIRST_DATE.isoformat()} to today); give a date in it"
            )


F32 = npt.NDArray[np.float32]


@dataclass(frozen=True)
class S1Acquisition:
    """One Sentinel-1 acquisition over an AOI (same-day slices of one orbit mosaicked)."""

    date: dt.date
    orbit_pass: str
    """``"ASCENDING"`` or ``"DESCENDING"``."""
    relative_orbit: int
    coverage: float
    """Share of the AOI covered, percent (0-100)."""
    platform: str = "Sentinel-1"

    def __post_init__(self) -> None:
        if self.orbit_pass not in ("ASCENDING", "DESCENDING"):
            raise InputError(f"orbit pass must be ASCENDING or DESCENDING, got {self.orbit_pass!r}")


@dataclass
class StaticInputs:
    """Inputs that do not change with the date, on the 50 m grid, shape ``(H50, W50)``.

    NaN marks missing values.
    """

    sand: F32
    """g/kg, SoilGrids 0-5 cm mean."""
    clay: F32
    """g/kg, SoilGrids 0-5 cm mean."""
    bdod: F32
    """cg/cm3, SoilGrids 0-5 cm mean."""
    elevation: F32
    """m, cell mean of SRTM 30 m."""
    slope: F32
    """degrees, cell mean of the 30 m slope."""
    aspect: F32
    """degrees, cell mean of the 30 m aspect."""


@dataclass
class SceneInputs:
    """Everything the contract needs for one AOI window and one map date, in physical units.

    Shapes: 50 m arrays ``(H50, W50)`` = window9 x 180; 250 m arrays ``(46, H250, W250)`` =
    window9 x 36; 9 km arrays ``(H9, W9)`` or ``(46, H9, W9)``. Row 0 is north. NaN = missing.
    """

    window9: GridWindow
    date: dt.date
    acquisition: S1Acquisition | None
    vv: F32
    """dB, mean of the dB values over the 50 m cell."""
    vh: F32
    """dB."""
    angle: F32
    """degrees."""
    static: StaticInputs
    ndvi: F32
    """(46, H250, W250), MODIS raw NDVI x 10000, oldest first."""
    temperature: F32
    """(46, H9, W9), 2 m temperature eight-day means, K."""
    precipitation: F32
    """(46, H9, W9), eight-day means of daily totals, m/day."""
    smap: F32
    """(H9, W9), SMAP soil moisture interpolated to the date, m3/m3."""
    ndvi_padded_steps: int = 0
    """How many of the oldest NDVI steps were padded by repeating the oldest composite."""
    simulated: bool = False
    """True for the demo scene: every output made from it says so."""
    truth: F32 | None = None
    """(H50, W50) soil moisture truth, m3/m3, known only for simulated scenes."""
    attributes: dict[str, Any] = field(default_factory=dict)
    """Provenance (dataset ids, versions, request hashes) for the run manifest."""

    def __post_init__(self) -> None:
        if self.window9.level != "9km":
            raise InputError("a scene window must be on the 9 km grid")
        h9, w9 = self.window9.shape
        expect = {
            "vv": (h9 * 180, w9 * 180),
            "vh": (h9 * 180, w9 * 180),
            "angle": (h9 * 180, w9 * 180),
            "ndvi": (46, h9 * 36, w9 * 36),
            "temperature": (46, h9, w9),
            "precipitation": (46, h9, w9),
            "smap": (h9, w9),
        }
        for name, shp in expect.items():
            got = getattr(self, name).shape
            if got != shp:
                raise InputError(f"scene array {name} has shape {got}, expected {shp}")
        for name in ("sand", "clay", "bdod", "elevation", "slope", "aspect"):
            got = getattr(self.static, name).shape
            if got != (h9 * 180, w9 * 180):
                raise InputError(
                    f"static array {name} has shape {got}, expected {(h9 * 180, w9 * 180)}"
                )


@runtime_checkable
class InputSource(Protocol):
    """The interface every input source implements."""

    name: str
    simulated: bool

    def list_acquisitions(
        self, window9: GridWindow, start: dt.date, end: dt.date, progress: Progress | None = None
    ) -> list[S1Acquisition]:
        """Sentinel-1 acquisitions over the window between ``start`` and ``end`` (inclusive)."""
        ...

    def scene(
        self, window9: GridWindow, date: dt.date, progress: Progress | None = None
    ) -> SceneInputs:
        """All inputs for the window on a Sentinel-1 date.

        Raises ``NoDataError`` naming the nearest dates with a scene when ``date`` has none.
        """
        ...


_SOURCES: dict[str, Callable[..., InputSource]] = {}


def register_source(
    name: str,
) -> Callable[[Callable[..., InputSource]], Callable[..., InputSource]]:
    """Class decorator registering a source factory under ``name``."""

    def deco(factory: Callable[..., InputSource]) -> Callable[..., InputSource]:
        _SOURCES[name] = factory
        return factory

    return deco


def available_sources() -> list[str]:
    """Names of the registered sources (for the GUI combo boxes and the CLI)."""
    _load_builtin()
    return sorted(_SOURCES)


def get_source(name: str, **options: Any) -> InputSource:
    """Build the source registered under ``name``."""
    _load_builtin()
    try:
        factory = _SOURCES[name]
    except KeyError:
        raise InputError(
            f"unknown data source {name!r}; allowed: {', '.join(sorted(_SOURCES))}"
        ) from None
    return factory(**options)


def _load_builtin() -> None:
    # Imported lazily so that importing the registry stays cheap; the modules themselves
    # import their optional packages (earthengine-api) only when used.
    import importlib

    for module in (".demo", ".earthengine"):
        importlib.import_module(module, __package__)
