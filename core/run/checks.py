"""Input checks of a run: the health of its 50 m inputs and the pretrained set's 9 km check.

The measures themselves live in :mod:`core.run.health`; here they are applied to the cells a
run (or a mapping with a saved ensemble) actually uses, against the statistics of the data the
ensemble was trained or adapted on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from ..inputs.aoi import AOI
from ..progress import Progress
from .samples import LabelledSamples, split_by_date, target_samples
from .scenes import SceneCache

F32 = npt.NDArray[np.float32]


def input_checks(
    pretrained: Any,
    samples: LabelledSamples,
    coarse_x: F32,
    coarse_y: F32,
    target_x: F32,
    target_counts: dict[dt.date, int],
) -> dict[str, Any]:
    """Input health of the run's 50 m inputs and the pretrained ensemble's 9 km self-check.

    The 50 m inputs are the station cells of the training dates and the sampled AOI cells of
    the map dates, compared with the statistics of what the pretrained set was trained on.
    """
    from .health import input_health, norm_statistics, smap_self_check

    layout = pretrained.input_layout
    by_date: dict[dt.date, list[F32]] = {}
    for d in sorted(set(samples.date)):
        by_date.setdefault(d, []).append(samples.x[samples.date == d])
    for d, x in split_by_date(target_x, target_counts).items():
        by_date.setdefault(d, []).append(x)
    mean, sd = norm_statistics(pretrained.state_dicts())
    health = input_health(
        layout,
        mean,
        sd,
        {d: np.concatenate(xs) for d, xs in by_date.items()},
        statistics_of=f"the inputs the pretrained set {pretrained.name!r} was trained on",
    )
    if len(coarse_y):
        pred9 = pretrained.predict(coarse_x).mean
        self_check = smap_self_check(pred9, coarse_y, model=f"pretrained {pretrained.name!r}")
    else:
        self_check = smap_self_check([], [], model=f"pretrained {pretrained.name!r}")
    warnings = list(health["warnings"])
    if self_check["status"] in ("caution", "bad"):
        warnings.append(self_check["message"])
    return {
        "input_layout": layout.to_dict(),
        "input_health": health,
        "smap_self_check": self_check,
        "warnings": warnings,
    }


def map_input_health(
    ensemble: Any,
    kind: str,
    aoi: AOI,
    cache: SceneCache,
    dates: Sequence[dt.date],
    progress: Progress,
) -> dict[str, Any]:
    """Input health of sampled AOI cells of the map dates against the ensemble's own statistics.

    For an adapted set those are the statistics of the data it was adapted on (its BatchNorm
    kept tracking them), so a new area or season unlike the adaptation's shows up here.
    """
    from .health import input_health, norm_statistics

    x, _, _, counts = target_samples(
        aoi, cache, list(reversed(dates)), 3000, 0, progress, ensemble.input_layout
    )
    by_date = split_by_date(x, counts)
    mean, sd = norm_statistics(ensemble.state_dicts())
    what = "adapted on" if kind == "adapted" else "trained on"
    health = input_health(
        ensemble.input_layout,
        mean,
        sd,
        by_date,
        statistics_of=f"the data the ensemble {ensemble.name!r} was {what}",
    )
    return {"input_layout": ensemble.input_layout.to_dict(), "input_health": health}
