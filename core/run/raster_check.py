"""Validation of any soil-moisture GeoTIFF against station files (``soilmoisture validate``).

The raster's date comes from its ``date`` tag or the caller; every station with a daily 0-5 cm
reading on that date gives one pair (in-situ, raster value at the station), and the metrics,
a scatter chart and ``validation.json`` follow.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..atomic import check_output_dir, write_text
from ..errors import InputError
from ..progress import NULL_PROGRESS, Progress
from .config import as_date
from .maps import share_outside
from .provenance import input_record, to_json
from .stations import date_span, station_table

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class RasterValidation:
    """Validation of a soil-moisture GeoTIFF against stations (:func:`validate_raster`)."""

    metrics: Any
    """:class:`core.outputs.metrics.MetricsReport` (or None when no station matched)."""
    pairs: pd.DataFrame
    """One row per station with a reading on the raster's date: station, obs, pred, spread."""
    date: dt.date
    charts: dict[str, Path] = field(default_factory=dict)
    report_json: Path | None = None
    warnings: list[str] = field(default_factory=list)


def validate_raster(
    raster_path: str | os.PathLike[str],
    station_paths: Sequence[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str] | None = None,
    *,
    date: dt.date | None = None,
    progress: Progress | None = None,
) -> RasterValidation:
    """Validate any soil-moisture GeoTIFF against station files.

    The raster's date comes from its ``date`` tag (ours carry one) or from ``date``. Each
    station with a daily 0-5 cm reading on that date gives one pair (in-situ, raster value at
    the station's location, in any CRS).

    Args:
        raster_path: The GeoTIFF (band 1 soil moisture in m3/m3; band 2, if any, the spread).
        station_paths: ISMN or CSV station files.
        out_dir: Where to write ``validation.json`` and the scatter chart (optional).
        date: The raster's date when it has no ``date`` tag.
        progress: Progress reporter.

    Returns:
        The :class:`RasterValidation`.

    Raises:
        InputError: unreadable raster or station files, no date, or no station on the raster
            with a reading on its date.

    """
    from ..inputs.stations import read_station_files
    from ..outputs.metrics import evaluate
    from ..outputs.raster_io import read_sm_geotiff

    progress = progress or NULL_PROGRESS
    if out_dir is not None:
        check_output_dir(out_dir, "output folder")
    raster = read_sm_geotiff(raster_path)
    date = _raster_date(raster, raster_path, date)
    progress.message("Reading station files")
    data = read_station_files(
        [Path(p) for p in station_paths], aoi=None, progress=progress.sub(0, 0.5)
    )
    warnings = [str(w) for w in getattr(data, "warnings", [])]
    pairs = _raster_pairs(raster, station_table(data.daily), date)
    metrics = evaluate(pairs, obs="obs", pred="pred", station="station")
    if len(pairs) < 3:
        warnings.append(
            f"only {len(pairs)} station(s) on the raster with a reading on {date.isoformat()}: "
            "the metrics rest on very few pairs"
        )
    result = RasterValidation(metrics=metrics, pairs=pairs, date=date, warnings=warnings)
    if out_dir is not None:
        _write_validation(result, Path(out_dir), raster, raster_path, station_paths)
    progress.fraction(1.0)
    return result


def _raster_date(raster: Any, raster_path: str | os.PathLike[str], date: dt.date | None) -> dt.date:
    """The given date, else the raster's ``date`` tag (InputError when it has none)."""
    if date is not None:
        return date
    tag_date = raster.tags.get("date")
    if not tag_date:
        raise InputError(
            f"raster {os.fspath(raster_path)!r} has no 'date' tag; give its date (--date)"
        )
    return as_date(tag_date, "raster date tag")


def _raster_pairs(raster: Any, daily: pd.DataFrame, date: dt.date) -> pd.DataFrame:
    """One row per station with a reading on ``date`` on a valid cell: obs, pred, spread."""
    import pandas as pd

    from ..outputs.raster_io import sample_raster

    day = daily[daily["date"] == date]
    if day.empty:
        raise InputError(
            f"no station has a reading on the raster's date {date.isoformat()}; the stations "
            f"report {date_span(daily)}"
        )
    mean, spread = sample_raster(raster, day["lon"].to_numpy(), day["lat"].to_numpy())
    pairs = pd.DataFrame(
        {
            "station": day["key"].to_numpy(),
            "lat": day["lat"].to_numpy(),
            "lon": day["lon"].to_numpy(),
            "obs": day["sm"].to_numpy(dtype=np.float64),
            "pred": mean.astype(np.float64),
            "spread": np.nan if spread is None else spread.astype(np.float64),
        }
    )
    pairs = pairs[np.isfinite(pairs["pred"])].reset_index(drop=True)
    if pairs.empty:
        raise InputError(
            f"none of the {day['key'].nunique()} station(s) with a reading on {date.isoformat()} "
            "lies on a valid cell of the raster"
        )
    return pairs


def _write_validation(
    result: RasterValidation,
    out: Path,
    raster: Any,
    raster_path: str | os.PathLike[str],
    station_paths: Sequence[str | os.PathLike[str]],
) -> None:
    """Write the scatter chart and ``validation.json`` into ``out`` (noted on ``result``)."""
    out.mkdir(parents=True, exist_ok=True)
    result.charts = _raster_charts(out, result.pairs, result.date)
    payload = {
        "raster": str(Path(raster_path).resolve()),
        "date": result.date.isoformat(),
        "raster_tags": raster.tags,
        "station_files": [input_record(p) for p in station_paths],
        "metrics": result.metrics.to_dict(),
        "share_outside_0_0.6": share_outside(result.pairs["pred"]),
        "pairs": result.pairs.to_dict(orient="records"),
        "warnings": result.warnings,
    }
    result.report_json = out / "validation.json"
    write_text(result.report_json, to_json(payload))


def _raster_charts(out: Path, pairs: pd.DataFrame, date: dt.date) -> dict[str, Path]:
    """Scatter chart of a raster validation."""
    from ..outputs.report import scatter_density_png

    return {
        "scatter": scatter_density_png(
            pairs["obs"],
            pairs["pred"],
            out / "validation_scatter.png",
            f"Raster vs stations, {date.isoformat()}",
        )
    }
