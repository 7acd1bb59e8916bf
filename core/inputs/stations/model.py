"""The station readers' data model: the rules' constants, sensors, series and the read's result.

Everything the readers pass between each other lives here: :class:`StationMeta` (one sensor),
:class:`Series` (a parser's output), :class:`ParseResult`, :class:`ReadOptions` and the final
:class:`StationData`, with the column lists of the readings and daily tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from ...errors import InputError

SURFACE_DEPTH_M = 0.051
"""Deepest ``depth_to`` (m) of a surface (0-5 cm) sensor; 0.0508 m (2 inches) is kept."""
ACCEPTED_FLAGS: tuple[str, ...] = ("G",)
"""ISMN quality flags kept by default (exactly ``G``; ``"D01,D03"`` is not ``G``)."""
MIN_YEAR = 1950
"""Readings dated before this year are taken as typing errors."""

READING_COLUMNS = [
    "network",
    "station",
    "lat",
    "lon",
    "depth_from",
    "depth_to",
    "sensor",
    "time",
    "sm",
    "flag",
    "source",
]
DAILY_COLUMNS = [
    "network",
    "station",
    "lat",
    "lon",
    "row9",
    "col9",
    "row50",
    "col50",
    "date",
    "sm",
    "n",
]

_SENSOR_FIELDS = ("network", "station", "lat", "lon", "depth_from", "depth_to", "sensor")
"""What identifies one sensor (its readings at one place and depth)."""


@dataclass(frozen=True)
class StationMeta:
    """One sensor of one station, as read from a file.

    Attributes:
        network: Network name (e.g. ``"SCAN"``).
        station: Station name.
        lat: Latitude, WGS 84 degrees.
        lon: Longitude, WGS 84 degrees.
        elevation: Elevation, m (None where unknown).
        depth_from: Top of the measured layer, m below the surface.
        depth_to: Bottom of the measured layer, m below the surface.
        sensor: Sensor name.
        source: The file it came from (``archive.zip:member`` inside archives).

    """

    network: str
    station: str
    lat: float
    lon: float
    elevation: float | None
    depth_from: float
    depth_to: float
    sensor: str
    source: str

    def __post_init__(self) -> None:
        if not (-90.0 <= self.lat <= 90.0 and -180.0 <= self.lon <= 180.0):
            raise InputError(
                f"{self.source}: station {self.station!r} has lat={self.lat}, lon={self.lon}; "
                "latitude must be within -90..90 and longitude within -180..180 degrees."
            )

    @property
    def label(self) -> str:
        """``network station (sensor depth_from-depth_to m)`` for messages."""
        return (
            f"{self.network} {self.station} ({self.sensor} "
            f"{self.depth_from:.4g}-{self.depth_to:.4g} m)"
        )


@dataclass
class StationData:
    """The result of :func:`~core.inputs.stations.read_station_files`.

    Attributes:
        readings: Raw readings kept, columns :data:`READING_COLUMNS` (``time`` in UTC).
        daily: Daily table, one row per 50 m cell and UTC day, columns :data:`DAILY_COLUMNS`.
        stations: The sensors that contributed kept readings.
        warnings: One line per partial problem, with counts.

    """

    readings: pd.DataFrame
    daily: pd.DataFrame
    stations: list[StationMeta]
    warnings: list[str] = field(default_factory=list)


@dataclass
class Series:
    """Readings of one sensor from one file, before filtering (parser output)."""

    meta: StationMeta
    time: pd.DatetimeIndex
    sm: npt.NDArray[np.float64]
    flag: npt.NDArray[np.object_]
    line: npt.NDArray[np.int64]


def _unit_kind(unit: str) -> str | None:
    """``"fraction"`` for m3/m3, ``"percent"`` for % (vol), None if unknown."""
    u = unit.strip().lower().replace(" ", "").replace("^", "").replace("³", "3")
    if u in ("", "m3/m3", "m3m-3", "m3*m-3", "cm3/cm3", "cm3cm-3", "fraction", "vol"):
        return "fraction"
    if u in ("%", "%vol", "vol%", "percent", "%(vol)", "vol.%", "%v/v"):
        return "percent"
    return None


@dataclass(frozen=True)
class ReadOptions:
    """Options of a read that parsers need.

    Attributes:
        unit: Unit of CSV soil moisture values without a ``unit`` column: ``"m3/m3"`` or ``"%"``.

    """

    unit: str = "m3/m3"

    def __post_init__(self) -> None:
        if _unit_kind(self.unit) is None:
            raise InputError(f"unknown soil moisture unit {self.unit!r}; allowed: m3/m3 or %")


@dataclass
class ParseResult:
    """What a format parser returns: series and per-file warnings."""

    series: list[Series]
    warnings: list[str] = field(default_factory=list)


def _utc_index(ns: npt.NDArray[np.int64]) -> pd.DatetimeIndex:
    """UTC timestamps from nanoseconds since 1970, without the copies of ``pd.to_datetime``."""
    return pd.DatetimeIndex(np.ascontiguousarray(ns).view("M8[ns]")).tz_localize("UTC")
