"""Scenes during a run: the one-scene cache (with each scene's checksum) and tile cut-outs.

:class:`SceneCache` keeps the last scene, so a map date that is also a training date is fetched
once, and records the SHA-256 and acquisition of every scene the run saw, for the manifest.
:func:`subscene` cuts the part of a scene under a tile of whole 9 km cells, for mapping.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from ..errors import InputError
from ..inputs.grid import GridWindow
from ..progress import Progress
from .provenance import scene_sha256

if TYPE_CHECKING:
    from ..inputs.sources.base import InputSource, SceneInputs


class SceneCache:
    """Keeps the last scene, so a map date that is also a training date is fetched once."""

    def __init__(self, source: InputSource, window9: GridWindow) -> None:
        self.source = source
        self.window9 = window9
        self._date: dt.date | None = None
        self._scene: SceneInputs | None = None
        self.checksums: dict[dt.date, dict[str, Any]] = {}

    def get(self, date: dt.date, progress: Progress) -> SceneInputs:
        """The scene of ``date`` (the cached one when it is the last asked for)."""
        if self._date == date and self._scene is not None:
            return self._scene
        scene = self.source.scene(self.window9, date, progress=progress)
        if date not in self.checksums:
            acq = scene.acquisition
            self.checksums[date] = {
                "sha256": scene_sha256(scene),
                "acquisition": None
                if acq is None
                else {
                    "date": acq.date.isoformat(),
                    "orbit_pass": acq.orbit_pass,
                    "relative_orbit": acq.relative_orbit,
                    "coverage": acq.coverage,
                    "platform": acq.platform,
                },
                "ndvi_padded_steps": int(scene.ndvi_padded_steps),
                "simulated": bool(scene.simulated),
            }
        self._date, self._scene = date, scene
        return scene

    @property
    def simulated(self) -> bool:
        """Whether any scene seen so far is simulated."""
        return any(v["simulated"] for v in self.checksums.values())


def subscene(scene: SceneInputs, tile9: GridWindow) -> SceneInputs:
    """Cut the part of a scene covering a tile of whole 9 km cells (array views, no copies).

    Args:
        scene: The scene.
        tile9: A 9 km window inside ``scene.window9``.

    Returns:
        A :class:`SceneInputs` over ``tile9``.

    """
    from ..inputs.sources.base import SceneInputs, StaticInputs

    w = scene.window9
    r0, c0 = tile9.row0 - w.row0, tile9.col0 - w.col0
    if r0 < 0 or c0 < 0 or r0 + tile9.nrows > w.nrows or c0 + tile9.ncols > w.ncols:
        raise InputError(f"tile {tile9} lies outside the scene window {w}")
    h, wd = tile9.nrows, tile9.ncols
    s50 = (slice(r0 * 180, (r0 + h) * 180), slice(c0 * 180, (c0 + wd) * 180))
    s250 = (slice(None), slice(r0 * 36, (r0 + h) * 36), slice(c0 * 36, (c0 + wd) * 36))
    s9 = (slice(r0, r0 + h), slice(c0, c0 + wd))
    st = scene.static
    return SceneInputs(
        window9=tile9,
        date=scene.date,
        acquisition=scene.acquisition,
        vv=scene.vv[s50],
        vh=scene.vh[s50],
        angle=scene.angle[s50],
        static=StaticInputs(
            **{
                n: getattr(st, n)[s50]
                for n in ("sand", "clay", "bdod", "elevation", "slope", "aspect")
            }
        ),
        ndvi=scene.ndvi[s250],
        temperature=scene.temperature[(slice(None), *s9)],
        precipitation=scene.precipitation[(slice(None), *s9)],
        smap=scene.smap[s9],
        ndvi_padded_steps=scene.ndvi_padded_steps,
        simulated=scene.simulated,
        truth=None if scene.truth is None else scene.truth[s50],
        attributes=scene.attributes,
    )
