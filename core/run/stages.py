"""The share of a run's progress bar given to each stage, from a rough cost model."""

from __future__ import annotations

from .config import AdaptMapConfig


class Stages:
    """Share of the whole run given to each stage, from a rough cost model.

    Costs are in "seconds on two CPU cores" for the demo scene; only the ratios matter (they
    make the progress bar's time-left estimate sensible): a scene, an adaptation step of the 25
    members, the early-balance beta, a cross-validation fold, a baseline fold, and mapping
    throughput. Step and mapping figures follow ``scripts/bench.py`` (0.22-0.26 s per full
    step, a little more per row for the demo's smaller batches, and 15,000-20,000 cells/s).
    """

    SCENE = 0.6
    STEP = 0.3
    BETA = 1.5
    BASELINE_FOLD = 6.0
    CELLS_PER_S = 15_000.0

    def __init__(
        self, config: AdaptMapConfig, n_train_dates: int, n_station_days: int, n_stations: int
    ) -> None:
        steps = config.steps_per_epoch(max(1, n_station_days))
        adapting = config.method != "pretrained"
        folds = 0 if n_stations < 2 or not config.cross_validate else n_stations
        if config.cv_folds is not None:
            folds = min(folds, config.cv_folds)
        cells = config.aoi.area_km2 * 400.0 * len(config.dates)
        costs = {
            "STATIONS": 1.0,
            "SCENES": self.SCENE * n_train_dates,
            "TARGET": self.SCENE * len(config.dates),
            "ADAPT": (self.BETA + self.STEP * steps * config.epochs) if adapting else 0.0,
            "MAP": cells / self.CELLS_PER_S + 2.0,
            "VALIDATE": 2.0
            + (folds * (self.BETA + self.STEP * steps * config.epochs) if adapting else 0.0)
            + (2 * folds * self.BASELINE_FOLD if config.baselines else 0.0),
            "BLEND": cells / (4 * self.CELLS_PER_S) + 0.5,
            "REPORT": 3.0,
        }
        total = sum(costs.values())
        start = 0.0
        self.spans: dict[str, tuple[float, float]] = {}
        for name, cost in costs.items():
            self.spans[name] = (start, start + cost / total)
            start += cost / total

    def __getattr__(self, name: str) -> tuple[float, float]:
        try:
            return self.__dict__["spans"][name]
        except KeyError:
            raise AttributeError(name) from None
