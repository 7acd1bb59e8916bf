"""Provenance of a run: checksums of inputs and scenes, software versions, JSON, the manifest.

A run's ``manifest.json`` identifies everything that shaped its numbers (station files by
SHA-256, every scene's arrays by SHA-256, the packages' versions, seeds and settings) and lists
only outputs that exist on disk.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import platform
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from .. import __version__

if TYPE_CHECKING:
    import pandas as pd

    from ..inputs.sources.base import SceneInputs
    from .config import AdaptMapConfig
    from .samples import LabelledSamples
    from .scenes import SceneCache

F32 = npt.NDArray[np.float32]


def sha256_file(path: Path) -> str:
    """SHA-256 (hex) of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def input_record(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Identify an input for a manifest: a file (or zip) by its SHA-256, a folder by its files.

    A folder's ``sha256`` hashes the sorted relative names and SHA-256 of every file below it,
    so the same content gives the same value wherever the folder lies. An input that has
    vanished or cannot be read is recorded with the reason instead of failing the run.
    """
    p = Path(path)
    record: dict[str, Any] = {"path": str(p.resolve())}
    try:
        if p.is_dir():
            h = hashlib.sha256()
            files = sorted(f for f in p.rglob("*") if f.is_file())
            for f in files:
                h.update(f.relative_to(p).as_posix().encode("utf-8") + b"\0")
                h.update(sha256_file(f).encode("ascii") + b"\n")
            record.update({"kind": "folder", "files": len(files), "sha256": h.hexdigest()})
        else:
            kind = "zip" if p.suffix.lower() == ".zip" else "file"
            record.update({"kind": kind, "bytes": p.stat().st_size, "sha256": sha256_file(p)})
    except OSError as exc:
        record.update({"sha256": None, "error": exc.strerror or str(exc)})
    return record


def existing_outputs(outputs: dict[str, Any], root: Path) -> dict[str, Any]:
    """The manifest's outputs with every entry whose file or folder is missing left out."""
    kept: dict[str, Any] = {}
    for key, value in outputs.items():
        if isinstance(value, dict):
            kept[key] = existing_outputs(value, root)
        elif value is None or (root / str(value)).exists():
            kept[key] = value
    return kept


def scene_sha256(scene: SceneInputs) -> str:
    """SHA-256 over every input array of a scene (window, date and array bytes, in fixed order).

    Two runs that saw the same numbers get the same checksum, whatever the source or cache.
    """
    h = hashlib.sha256()
    w = scene.window9
    h.update(f"{w.level}:{w.row0}:{w.col0}:{w.nrows}:{w.ncols}:{scene.date.isoformat()}".encode())
    arrays: list[tuple[str, Any]] = [
        ("vv", scene.vv),
        ("vh", scene.vh),
        ("angle", scene.angle),
        ("ndvi", scene.ndvi),
        ("temperature", scene.temperature),
        ("precipitation", scene.precipitation),
        ("smap", scene.smap),
    ]
    for name in ("sand", "clay", "bdod", "elevation", "slope", "aspect"):
        arrays.append((name, getattr(scene.static, name)))
    for name, arr in arrays:
        a = np.ascontiguousarray(arr, dtype=np.float32)
        h.update(name.encode())
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def software_versions() -> dict[str, str]:
    """Versions of Python and of the packages that shape the numbers."""
    import importlib.metadata as md

    out = {"soilmoisture": __version__, "python": platform.python_version()}
    for dist in ("numpy", "torch", "pandas", "rasterio", "scikit-learn", "xgboost"):
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            try:
                module = __import__(dist.replace("scikit-learn", "sklearn"))
                out[dist] = str(getattr(module, "__version__", "unknown"))
            except ImportError:
                out[dist] = "not installed"
    try:
        import rasterio

        out["gdal"] = str(rasterio.__gdal_version__)
    except ImportError:  # pragma: no cover - rasterio is a dependency
        pass
    return out


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (dt.date, dt.datetime)):
        return obj.isoformat()
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        f = float(obj)
        return f if math.isfinite(f) else None
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON-serialisable: {type(obj).__name__}")


def _clean(obj: Any) -> Any:
    """Turn NaN/inf into None recursively (JSON has no NaN)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def to_json(obj: Any) -> str:
    """JSON text with dates, paths and numpy numbers converted and NaN as null."""
    return json.dumps(_clean(obj), indent=2, default=_json_default, sort_keys=False)


def _station_records(daily: pd.DataFrame, samples: LabelledSamples) -> list[dict[str, Any]]:
    """One manifest entry per station inside the AOI, with its number of training samples."""
    import pandas as pd

    counts = pd.Series(samples.station).value_counts()
    first = daily.groupby("key").first()
    return [
        {
            "id": key,
            "network": str(first.loc[key].get("network", "")),
            "station": str(first.loc[key]["station"]),
            "lat": float(first.loc[key]["lat"]),
            "lon": float(first.loc[key]["lon"]),
            "row50": int(first.loc[key]["row50"]),
            "col50": int(first.loc[key]["col50"]),
            "training_samples": int(counts.get(key, 0)),
        }
        for key in first.index
    ]


def run_manifest(
    config: AdaptMapConfig,
    daily: pd.DataFrame,
    samples: LabelledSamples,
    coarse_y: F32,
    target_counts: dict[dt.date, int],
    train_dates: Sequence[dt.date],
    cache: SceneCache,
    alpha: float | None,
    alpha_reason: str,
    betas: dict[str, float],
    maps: dict[dt.date, Path],
    reproj: dict[dt.date, Path],
    simulated: bool,
) -> dict[str, Any]:
    """The manifest of an Adapt & Map run (its ``outputs`` listing maps, before the rest)."""
    w9 = cache.window9
    return {
        "format": 1,
        "kind": "soilmoisture adapt-map run",
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "software": software_versions(),
        "aoi": config.aoi.to_geojson(),
        "aoi_area_km2": config.aoi.area_km2,
        "window9": asdict(w9),
        "dates": [d.isoformat() for d in config.dates],
        "training_period": [d.isoformat() for d in config.training_period],
        "training_dates": [d.isoformat() for d in train_dates],
        "source": {"name": config.source, "simulated": simulated},
        "scenes": {d.isoformat(): v for d, v in sorted(cache.checksums.items())},
        "station_files": [input_record(p) for p in config.stations],
        "stations": _station_records(daily, samples),
        "method": config.method,
        "alpha": alpha,
        "alpha_reason": alpha_reason,
        "beta": betas or None,
        "models": config.models,
        "seeds": {
            "adaptation": config.seed,
            "target_subset": config.seed,
            "baselines": config.seed,
            "cv_folds": config.seed,
        },
        "epochs": config.epochs,
        "min_epoch_steps": config.min_epoch_steps,
        "batchnorm": config.batchnorm,
        "consistency": config.consistency if config.uses_consistency else 0.0,
        "device": config.device,
        "samples": {
            "labelled_50m": len(samples),
            "labelled_9km": int(len(coarse_y)),
            "target_50m": {d.isoformat(): n for d, n in target_counts.items()},
        },
        "outputs": {
            "maps": {d.isoformat(): str(p.relative_to(config.out_dir)) for d, p in maps.items()},
            "reprojected": {
                d.isoformat(): str(p.relative_to(config.out_dir)) for d, p in reproj.items()
            },
        },
    }


def models_origin(model_set: Any, warnings: list[str]) -> str:
    """Whether the pretrained set is the published one; a modified set is a run warning."""
    from ..model.store import ORIGIN_LABELS

    origin = str(model_set.origin)
    if origin == "modified":
        warnings.append(
            f"the model set {model_set.name!r} is {ORIGIN_LABELS[origin]}: these maps are "
            "not those of the published DenseSM-E; reinstall it from DenseSM_9km.zip"
        )
    return origin


def save_ensemble(ensemble: Any, folder: Path, manifest: dict[str, Any]) -> None:
    """Save the adapted members with the run manifest as provenance (replacing atomically)."""
    from ..model.store import save_model_set

    provenance = dict(getattr(ensemble, "provenance", {}) or {})
    provenance.update(json.loads(to_json(manifest)))
    save_model_set(
        folder,
        ensemble.state_dicts(),
        kind="adapted",
        provenance=provenance,
        name=folder.name,
        source=f"soilmoisture adapt-map ({manifest.get('method')})",
        replace=True,
    )
