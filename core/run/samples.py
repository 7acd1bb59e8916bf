"""Samples of a run: the labelled station samples (50 m and 9 km) and the unlabelled target.

The labelled 50 m samples are the station cells on the Sentinel-1 dates of the training period,
the labelled 9 km samples SMAP over the AOI's 9 km cells on those dates, and the target a seeded
random subset of the AOI's 50 m cells on the map dates (it feeds the domain loss).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..adaptation.consistency import CELLS, ConsistencySet
from ..errors import InputError, NoDataError
from ..inputs.aoi import AOI
from ..progress import Progress
from .config import AdaptMapConfig
from .scenes import SceneCache
from .stages import Stages

if TYPE_CHECKING:
    import pandas as pd

    from ..features.contract import InputLayout

F32 = npt.NDArray[np.float32]


@dataclass
class LabelledSamples:
    """The labelled 50 m samples (station cells on Sentinel-1 dates)."""

    x: F32
    """(N, 156) model inputs."""
    y: F32
    """(N,) in-situ soil moisture, m3/m3."""
    station: npt.NDArray[np.object_]
    """(N,) station key ``network/station``."""
    date: npt.NDArray[np.object_]
    """(N,) dates (``datetime.date``)."""
    smap9: F32
    """(N,) SMAP 9 km soil moisture of the station's 9 km cell on that date."""

    def __len__(self) -> int:
        return int(self.y.size)

    @property
    def stations(self) -> list[str]:
        """Distinct station keys in order of first appearance."""
        return list(dict.fromkeys(self.station.tolist()))


def labelled_samples(
    daily: pd.DataFrame,
    cache: SceneCache,
    train_dates: Sequence[dt.date],
    progress: Progress,
    layout: InputLayout | None = None,
    consistency_cells: int = 0,
    seed: int = 0,
) -> tuple[LabelledSamples, F32, F32, ConsistencySet | None, list[str]]:
    """Assemble the labelled 50 m and 9 km samples of the training dates (in ``layout``).

    With ``consistency_cells`` > 0, also draw about that many 50 m cells in all (seeded) from the
    9 km cells of the window on the training dates, grouped by (date, 9 km cell) with SMAP's
    value, for the 9 km consistency term (None when no group could be made).
    """
    from ..features.build import cell_inputs_9km, cell_inputs_50m

    window9 = cache.window9
    window50 = window9.to_level("50m")
    xs: list[F32] = []
    ys: list[F32] = []
    keys: list[npt.NDArray[np.object_]] = []
    dates: list[npt.NDArray[np.object_]] = []
    smaps: list[F32] = []
    cx: list[F32] = []
    cy: list[F32] = []
    warnings: list[str] = []
    n_missing = 0
    by_date = {d: g for d, g in daily.groupby("date")}
    groups = _Groups(consistency_cells // max(len(train_dates), 1), seed, layout)
    for i, d in enumerate(train_dates):
        progress.check()
        progress.message(f"Training inputs: scene {i + 1}/{len(train_dates)} ({d.isoformat()})")
        scene = cache.get(d, progress.sub(i / len(train_dates), (i + 1) / len(train_dates)))
        g = by_date[d]
        r = g["row50"].to_numpy(dtype=np.int64) - window50.row0
        c = g["col50"].to_numpy(dtype=np.int64) - window50.col0
        x = cell_inputs_50m(scene, r, c, layout)
        ok = np.isfinite(x).all(axis=1) & np.isfinite(g["sm"].to_numpy(dtype=np.float64))
        n_missing += int((~ok).sum())
        if ok.any():
            xs.append(x[ok])
            ys.append(g["sm"].to_numpy(dtype=np.float32)[ok])
            keys.append(g["key"].to_numpy(dtype=object)[ok])
            dates.append(np.array([d] * int(ok.sum()), dtype=object))
            smaps.append(np.asarray(scene.smap, dtype=np.float32)[r[ok] // 180, c[ok] // 180])
        if consistency_cells > 0:
            groups.draw(scene, window50)
        x9, y9, _, _ = cell_inputs_9km(scene, layout)
        if len(y9):
            cx.append(x9)
            cy.append(y9)
        progress.fraction((i + 1) / len(train_dates))
    if n_missing:
        warnings.append(
            f"{n_missing} station-day(s) were left out because an input was missing at the "
            "station's 50 m cell on that date (e.g. no Sentinel-1 coverage)"
        )
    if not xs:
        raise NoDataError(
            "no labelled 50 m sample could be made: on every Sentinel-1 date of the training "
            "period the inputs at the station cells are missing. Choose another training period."
        )
    samples = LabelledSamples(
        x=np.concatenate(xs).astype(np.float32),
        y=np.concatenate(ys).astype(np.float32),
        station=np.concatenate(keys),
        date=np.concatenate(dates),
        smap9=np.concatenate(smaps).astype(np.float32),
    )
    coarse_x = np.concatenate(cx).astype(np.float32) if cx else np.zeros((0, 156), np.float32)
    coarse_y = np.concatenate(cy).astype(np.float32) if cy else np.zeros((0,), np.float32)
    return samples, coarse_x, coarse_y, groups.result(), warnings


MIN_GROUP_SHARE = 0.5
"""Share of a 9 km cell's drawn 50 m cells that must have every input for its group to count:
the mean of a few cells at the edge of the data would not stand for the cell SMAP measures."""


class _Groups:
    """50 m cells drawn from each training scene's 9 km cells, for the 9 km consistency term."""

    def __init__(self, per_date: int, seed: int, layout: InputLayout | None) -> None:
        self.per_date = max(per_date, 4 * CELLS)
        self.rng = np.random.default_rng((seed, 9))
        self.layout = layout
        self.xs: list[F32] = []
        self.group: list[npt.NDArray[np.int64]] = []
        self.smap: list[float] = []

    def draw(self, scene: Any, window50: Any) -> None:
        """Draw cells of one scene (all of its window's 9 km cells) and group them."""
        from ..features.build import cell_inputs_50m

        n_all = window50.nrows * window50.ncols
        take = self.rng.choice(n_all, size=min(self.per_date, n_all), replace=False)
        r, c = np.divmod(np.sort(take), window50.ncols)
        smap9 = np.asarray(scene.smap, dtype=np.float64)
        parent = (r // 180) * smap9.shape[1] + c // 180
        x = cell_inputs_50m(scene, r, c, self.layout)
        value = smap9.ravel()[parent]
        ok = np.isfinite(x).all(axis=1) & (value >= 0.0) & (value <= 1.0)
        drawn = np.bincount(parent, minlength=smap9.size)
        valid = np.bincount(parent[ok], minlength=smap9.size)
        keep = (valid >= 2) & (valid >= MIN_GROUP_SHARE * drawn)
        rows = ok & keep[parent]
        if not rows.any():
            return
        cells = np.flatnonzero(keep)
        index = np.full(smap9.size, -1, dtype=np.int64)
        index[cells] = len(self.smap) + np.arange(len(cells))
        self.xs.append(x[rows])
        self.group.append(index[parent[rows]])
        self.smap += smap9.ravel()[cells].tolist()

    def result(self) -> ConsistencySet | None:
        if not self.smap:
            return None
        return ConsistencySet(
            np.concatenate(self.xs).astype(np.float32),
            np.concatenate(self.group),
            np.asarray(self.smap, dtype=np.float32),
        )


def target_samples(
    aoi: AOI,
    cache: SceneCache,
    dates: Sequence[dt.date],
    max_cells: int,
    seed: int,
    progress: Progress,
    layout: InputLayout | None = None,
) -> tuple[F32, F32 | None, F32, dict[dt.date, int]]:
    """Draw a seeded random subset of the AOI's 50 m cells on the map dates (the target).

    Returns:
        ``(x, truth, smap, n_per_date)``: inputs ``(M, 156)``, the simulated truth at those
        cells (None for real scenes), SMAP's 9 km value of each cell's 9 km cell on its date
        (SMAP laid on the 50 m grid, the map a user has without this tool) and the number of
        cells taken per date.

    """
    from ..features.build import cell_inputs_50m

    window50 = cache.window9.to_level("50m")
    mask = aoi.mask50(window50)
    flat = np.flatnonzero(mask.ravel())
    if not flat.size:
        raise InputError(f"the AOI {aoi.name!r} covers no 50 m cell centre; draw a larger AOI")
    rng = np.random.default_rng(seed)
    per_date = max(1, max_cells // len(dates))
    xs: list[F32] = []
    truths: list[F32] = []
    smaps: list[F32] = []
    has_truth = True
    counts: dict[dt.date, int] = {}
    for i, d in enumerate(dates):
        progress.check()
        progress.message(f"Target cells: map date {d.isoformat()} ({i + 1}/{len(dates)})")
        scene = cache.get(d, progress.sub(i / len(dates), (i + 0.9) / len(dates)))
        take = flat if flat.size <= per_date else np.sort(rng.choice(flat, per_date, replace=False))
        r, c = np.divmod(take, window50.ncols)
        x = cell_inputs_50m(scene, r, c, layout)
        ok = np.isfinite(x).all(axis=1)
        xs.append(x[ok])
        counts[d] = int(ok.sum())
        smaps.append(np.asarray(scene.smap, dtype=np.float32)[r[ok] // 180, c[ok] // 180])
        if scene.truth is None:
            has_truth = False
        else:
            truths.append(np.asarray(scene.truth, dtype=np.float32)[r[ok], c[ok]])
        progress.fraction((i + 1) / len(dates))
    x_all = np.concatenate(xs).astype(np.float32)
    if not x_all.shape[0]:
        raise NoDataError(
            "no 50 m cell of the AOI has all inputs on the map date(s) (e.g. no Sentinel-1 "
            "coverage of the AOI); choose another date"
        )
    truth = np.concatenate(truths).astype(np.float32) if has_truth and truths else None
    return x_all, truth, np.concatenate(smaps).astype(np.float32), counts


def split_by_date(x: F32, counts: dict[dt.date, int]) -> dict[dt.date, F32]:
    """Rows of ``x`` by date, for rows stacked date after date with ``counts`` rows each."""
    out, start = {}, 0
    for d, n in counts.items():
        out[d] = x[start : start + n]
        start += n
    return out


@dataclass
class RunSamples:
    """The samples of a run: labelled (50 m stations, 9 km SMAP) and the unlabelled target."""

    labelled: LabelledSamples
    coarse_x: F32
    coarse_y: F32
    target_x: F32
    target_truth: F32 | None
    target_smap: F32
    target_counts: dict[dt.date, int]
    consistency: ConsistencySet | None = None
    """50 m cells by (date, 9 km cell) with SMAP's value, for the 9 km consistency term."""

    @property
    def coarse(self) -> tuple[F32 | None, F32 | None]:
        """The 9 km samples as ``adapt`` takes them: ``(None, None)`` when there are none."""
        if len(self.coarse_y):
            return self.coarse_x, self.coarse_y
        return None, None


def run_samples(
    config: AdaptMapConfig,
    daily: pd.DataFrame,
    cache: SceneCache,
    train_dates: list[dt.date],
    layout: InputLayout | None,
    stages: Stages,
    progress: Progress,
    warnings: list[str],
) -> RunSamples:
    """The labelled samples of the training dates and the target of the map dates (steps 2-3)."""
    labelled, coarse_x, coarse_y, consistency, w = labelled_samples(
        daily,
        cache,
        train_dates,
        progress.sub(*stages.SCENES),
        layout,
        consistency_cells=config.consistency_cells if config.uses_consistency else 0,
        seed=config.seed,
    )
    warnings += w
    target_x, target_truth, target_smap, target_counts = target_samples(
        config.aoi,
        cache,
        config.dates,
        config.max_target_cells,
        config.seed,
        progress.sub(*stages.TARGET),
        layout,
    )
    return RunSamples(
        labelled,
        coarse_x,
        coarse_y,
        target_x,
        target_truth,
        target_smap,
        target_counts,
        consistency,
    )
