"""Input sources: Earth Engine (with an on-disk cache) and the simulated demo scene."""

from .base import (
    InputSource,
    S1Acquisition,
    SceneInputs,
    StaticInputs,
    available_sources,
    get_source,
    register_source,
)

__all__ = [
    "InputSource",
    "S1Acquisition",
    "SceneInputs",
    "StaticInputs",
    "available_sources",
    "get_source",
    "register_source",
]
