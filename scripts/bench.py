"""Benchmarks: throughput, time and peak memory, each next to a simple baseline in the same run.

    python scripts/bench.py [--quick] [--device cpu|cuda]
                            [--only inference,adapt,adapt1m,map,pipeline]

Cases (each in its own process, so peak memory is per case):

* inference: the 25-member ensemble on a sample table, grouped vs a plain one-model-at-a-time
  loop over the same published weights, in alternating rounds (3; quick: 1), medians printed;
* adapt: MSDA on 2,000 labelled 50 m, 5,000 labelled 9 km and 100,000 unlabelled samples, all 25
  members, 50 epochs; baseline: one member trained at a time (the reference implementation's
  shape), timed over a few steps and extrapolated to the same number of steps;
* adapt1m: the same with 1,000,000 unlabelled cells (memory is the point);
* map: 1,000,000 cells sharing 40,000 time series (one per 250 m pixel), predicted with the
  shared temporal branch vs the same cells without sharing (rate measured on a subset);
* pipeline: the mapping stage a user runs with a saved ensemble (``run_map_with_ensemble``): scene
  read from the on-disk input cache, 50 m inputs, tile-by-tile prediction, cloud-optimised
  GeoTIFF; for the demo AOI and for a 50 x 50 km AOI (1,000,000 cells; quick: 25 x 25 km) whose
  inputs are SYNTHETIC (the demo scene tiled). Each AOI in its own process, so the peak memory is
  that of the run. Baseline: inputs built per cell and the whole network per cell (no shared
  time-series branch), rate measured on a subset.

Inputs are synthetic (or simulated) but shaped like real ones; the weights are the published ones
(installed from ../shared or a model-set folder given with --models).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import multiprocessing as mp
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DEFAULT_MODELS = REPO.parent / "shared" / "models" / "densesm_9km"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _ensemble(models: str, device: str):
    from core.model.ensemble import Ensemble
    from core.model.store import load_model_set

    return Ensemble.from_model_set(load_model_set(models), device=device)


def _inputs(n: int, seed: int):
    import numpy as np

    from core.features.contract import to_model_inputs

    # built in chunks, so that the peak memory of a case is the engine's, not this generator's
    rng = np.random.default_rng(seed)
    out = np.empty((n, 156), dtype=np.float32)
    for start in range(0, n, 100_000):
        k = min(100_000, n - start)
        out[start : start + k] = to_model_inputs(rng.random((k, 153), dtype=np.float32))
    return out


def case_inference(args: argparse.Namespace) -> dict:
    import torch

    from core.model.densesm import DenseSM, parse_member_name

    ens = _ensemble(args.models, args.device)
    n = 20_000 if args.quick else 100_000
    x = _inputs(n, 0)
    # warm-up, large enough to load the fused CPU kernels (compiled once per machine)
    t = time.perf_counter()
    ens.predict(x[:5000])
    warmup_s = time.perf_counter() - t
    # baseline: one model at a time, whole batches of 4096, the same weights
    states = ens.state_dicts()
    models = []
    for name, sd in states.items():
        m = DenseSM(*parse_member_name(name))
        m.load_state_dict(sd)
        models.append(m.eval().to(args.device))
    nb = min(n, 20_000)
    xb = torch.from_numpy(x[:nb]).to(args.device)
    with torch.inference_mode():
        [m(xb[:2048]) for m in models]

    def loop() -> tuple[float, torch.Tensor]:
        with torch.inference_mode():
            t = time.perf_counter()
            outs = [
                torch.cat([m(xb[i : i + 4096]) for i in range(0, nb, 4096)])[:, 0] for m in models
            ]
            return time.perf_counter() - t, torch.stack(outs).mean(0).cpu()

    # rounds alternate the two, so that a slow phase of the machine hits both alike
    grouped, looped, ratios = [], [], []
    for _ in range(1 if args.quick else 3):
        t = time.perf_counter()
        pred = ens.predict(x)
        grouped.append(n / (time.perf_counter() - t))
        loop_s, loop_mean = loop()
        looped.append(nb / loop_s)
        ratios.append(grouped[-1] / looped[-1])
    diff = float((loop_mean - torch.from_numpy(pred.mean[:nb])).abs().max())
    return {
        "samples": n,
        "warmup_5000_rows_s": warmup_s,
        "grouped_samples_per_s": statistics.median(grouped),
        "grouped_s": n / statistics.median(grouped),
        "grouped_rounds": [round(v) for v in grouped],
        "loop_samples_per_s": statistics.median(looped),
        "loop_rounds": [round(v) for v in looped],
        "speedup": statistics.median(ratios),
        "max_abs_diff_vs_loop": diff,
        "peak_mb": _peak_mb(),
    }


def _adapt_case(args: argparse.Namespace, n_target: int) -> dict:
    import numpy as np

    from core.adaptation.methods import AdaptConfig
    from core.adaptation.train import adapt

    ens = _ensemble(args.models, args.device)
    rng = np.random.default_rng(1)
    fine_x, coarse_x = _inputs(2000, 1), _inputs(5000, 2)
    target_x = _inputs(n_target, 3)
    fine_y = rng.uniform(0.05, 0.45, 2000).astype(np.float32)
    coarse_y = rng.uniform(0.05, 0.45, 5000).astype(np.float32)
    epochs = args.epochs if args.epochs else (5 if args.quick else 50)
    cfg = AdaptConfig(
        method="msda", alpha=0.7, epochs=epochs, snapshot_epochs=min(10, epochs), device=args.device
    )
    t = time.perf_counter()
    res = adapt(ens, fine_x, fine_y, coarse_x, coarse_y, target_x, cfg)
    total = time.perf_counter() - t
    steps = epochs * int(np.ceil(2000 / 128))
    return {
        "epochs": epochs,
        "steps": steps,
        "members": ens.n_members,
        "seconds": total,
        "ms_per_step_all_members": 1000 * total / steps,
        "unlabelled": n_target,
        "unlabelled_used": res.n_target_used,
        "peak_mb": _peak_mb(),
    }


def case_adapt(args: argparse.Namespace) -> dict:
    out = _adapt_case(args, 100_000)
    out.update(_reference_step_ms(args))
    out["reference_estimate_s"] = out["reference_ms_per_member_step"] * 25 * out["steps"] / 1000
    out["speedup"] = out["reference_estimate_s"] / out["seconds"]
    return out


def _reference_step_ms(args: argparse.Namespace) -> dict:
    """One member at a time on a 3 x 128 batch: the reference implementation's training step."""
    import torch

    from core.adaptation.losses import coral
    from core.model.densesm import DenseSM, parse_member_name

    ens = _ensemble(args.models, args.device)
    states = ens.state_dicts()
    x = torch.from_numpy(_inputs(384, 5)).to(args.device)
    y = torch.rand(128, device=args.device) * 0.4
    times = []
    for name in ("coarse_1_8", "coarse_3_32", "coarse_5_128"):
        m = DenseSM(*parse_member_name(name))
        m.load_state_dict(states[name])
        m.to(args.device).train()
        opt = torch.optim.Adam(m.parameters(), lr=5e-4)

        def step(m=m, opt=opt) -> None:
            f = m.features(x)
            out = m.out(f)[:, 0]
            loss = 0.7 * ((out[:128] - y) ** 2).mean() + 0.3 * ((out[256:] - y) ** 2).mean()
            loss = loss + coral(f[None, :128], f[None, 128:256])[0].sqrt()
            opt.zero_grad()
            loss.backward()
            opt.step()

        for _ in range(3):
            step()
        t = time.perf_counter()
        for _ in range(10):
            step()
        times.append((time.perf_counter() - t) / 10 * 1000)
    return {
        "reference_ms_per_member_step": sum(times) / len(times),
        "reference_ms_per_member_step_by_size": dict(
            zip(("1_8", "3_32", "5_128"), times, strict=True)
        ),
    }


def case_adapt1m(args: argparse.Namespace) -> dict:
    a = argparse.Namespace(**vars(args))
    a.epochs = 1
    return _adapt_case(a, 1_000_000)


def case_map(args: argparse.Namespace) -> dict:
    import numpy as np

    ens = _ensemble(args.models, args.device)
    n_cells = 200_000 if args.quick else 1_000_000
    n_series = n_cells // 25
    rng = np.random.default_rng(4)
    x_series = _inputs(n_series, 4)
    snapshot = x_series[rng.integers(0, n_series, n_cells), :18].copy()
    snapshot[:, :3] = rng.random((n_cells, 3), dtype=np.float32)  # SAR differs per cell
    series = x_series[:, 18:]
    index = rng.integers(0, n_series, n_cells)
    t = time.perf_counter()
    ens.predict_shared(snapshot, series, index)
    shared_s = time.perf_counter() - t
    # baseline: the same cells, each with its own temporal branch (no sharing)
    nb = 20_000
    full = np.concatenate([snapshot[:nb], series[index[:nb]]], axis=1)
    import torch

    with torch.inference_mode():
        net = ens.net.eval()
        xb = torch.from_numpy(full).to(ens.device)
        t = time.perf_counter()
        for i in range(0, nb, 2048):
            net(xb[i : i + 2048])
        per_cell_s = (time.perf_counter() - t) / nb
    return {
        "cells": n_cells,
        "series": n_series,
        "shared_s": shared_s,
        "cells_per_s": n_cells / shared_s,
        "no_sharing_estimate_s": per_cell_s * n_cells,
        "speedup": per_cell_s * n_cells / shared_s,
        "peak_mb": _peak_mb(),
    }


# -- pipeline: the mapping stage a user runs with a saved ensemble, from cached inputs ------------

BENCH_SOURCE = "bench-cache"
"""Name of the bench-local source serving scenes stored in the on-disk input cache."""


def _scene_key(window9, date) -> str:
    w = [window9.row0, window9.col0, window9.nrows, window9.ncols]
    return hashlib.sha256(json.dumps(["bench-scene", w, date.isoformat()]).encode()).hexdigest()


def _listing_key(window9) -> str:
    w = [window9.row0, window9.col0, window9.nrows, window9.ncols]
    return hashlib.sha256(json.dumps(["bench-dates", w]).encode()).hexdigest()


_SCENE_ARRAYS = ("vv", "vh", "angle", "ndvi", "temperature", "precipitation", "smap")
_STATIC_ARRAYS = ("sand", "clay", "bdod", "elevation", "slope", "aspect")


def _store_scene(scene, label: str) -> None:
    """Put a scene into the on-disk input cache (``SOILMOISTURE_CACHE_DIR``), as a source would."""
    import numpy as np

    from core.inputs.cache import ArrayCache

    cache = ArrayCache()
    acq = scene.acquisition
    meta = {
        "label": label,
        "padded": scene.ndvi_padded_steps,
        "acquisition": [acq.orbit_pass, acq.relative_orbit, acq.coverage, acq.platform],
    }
    arrays = {n: getattr(scene, n) for n in _SCENE_ARRAYS}
    arrays.update({n: getattr(scene.static, n) for n in _STATIC_ARRAYS})
    arrays["meta"] = np.array(json.dumps(meta))
    cache.put(_scene_key(scene.window9, scene.date), arrays)
    listing = cache.get_json(_listing_key(scene.window9)) or []
    cache.put_json(_listing_key(scene.window9), sorted({*listing, scene.date.isoformat()}))


class _CachedScenes:
    """Input source serving the scenes stored by :func:`_store_scene` (bench only).

    ``scene`` is what a source does on a cache hit: read the arrays (checksum verified) and
    assemble a ``SceneInputs``; its time is added to ``read_s``.
    """

    name = BENCH_SOURCE
    simulated = True

    def __init__(self) -> None:
        from core.inputs.cache import ArrayCache

        self.cache = ArrayCache()
        self.read_s = 0.0

    def list_acquisitions(self, window9, start, end, progress=None):
        from core.inputs.sources.base import S1Acquisition

        dates = [dt.date.fromisoformat(d) for d in self.cache.get_json(_listing_key(window9)) or []]
        return [S1Acquisition(d, "ASCENDING", 88, 100.0) for d in dates if start <= d <= end]

    def scene(self, window9, date, progress=None):
        import numpy as np

        from core.errors import NoDataError
        from core.inputs.sources.base import S1Acquisition, SceneInputs, StaticInputs

        t = time.perf_counter()
        arrays = self.cache.get(_scene_key(window9, date))
        if arrays is None:
            raise NoDataError(f"no cached bench scene for {window9} on {date}")
        meta = json.loads(str(arrays["meta"]))
        f32 = {n: np.asarray(a, dtype=np.float32) for n, a in arrays.items() if n != "meta"}
        scene = SceneInputs(
            window9=window9,
            date=date,
            acquisition=S1Acquisition(date, *meta["acquisition"]),
            static=StaticInputs(**{n: f32[n] for n in _STATIC_ARRAYS}),
            ndvi_padded_steps=meta["padded"],
            simulated=True,
            attributes={"source": meta["label"]},
            **{n: f32[n] for n in _SCENE_ARRAYS},
        )
        self.read_s += time.perf_counter() - t
        return scene


def _tiled_scene(scene, window9):
    """The demo scene's arrays repeated over a larger window of whole 9 km cells (synthetic)."""
    import numpy as np

    from core.inputs.sources.base import SceneInputs, StaticInputs

    h, w = window9.shape
    reps = (-(-h // scene.window9.nrows), -(-w // scene.window9.ncols))

    def tile(a, k: int):
        lead = (1,) * (a.ndim - 2)
        return np.ascontiguousarray(np.tile(a, (*lead, *reps))[..., : h * k, : w * k])

    return SceneInputs(
        window9=window9,
        date=scene.date,
        acquisition=scene.acquisition,
        vv=tile(scene.vv, 180),
        vh=tile(scene.vh, 180),
        angle=tile(scene.angle, 180),
        static=StaticInputs(**{n: tile(getattr(scene.static, n), 180) for n in _STATIC_ARRAYS}),
        ndvi=tile(scene.ndvi, 36),
        temperature=tile(scene.temperature, 1),
        precipitation=tile(scene.precipitation, 1),
        smap=tile(scene.smap, 1),
        ndvi_padded_steps=scene.ndvi_padded_steps,
        simulated=True,
    ), reps


@contextlib.contextmanager
def _timed(owner, attr: str, times: dict, key: str):
    """Add the time spent in ``owner.attr`` to ``times[key]`` (the product's function is run)."""
    orig = getattr(owner, attr)

    def wrapper(*a, **kw):
        t = time.perf_counter()
        try:
            return orig(*a, **kw)
        finally:
            times[key] = times.get(key, 0.0) + time.perf_counter() - t

    setattr(owner, attr, wrapper)
    try:
        yield
    finally:
        setattr(owner, attr, orig)


def _map_from_cache(job: dict) -> dict:
    """One ``run_map_with_ensemble`` from cached inputs, in a fresh process (own peak memory).

    Then the baseline: the same cells with inputs built per cell (``cell_inputs_50m``) and the
    whole network run per cell (no shared time-series branch), rate measured on a subset.
    """
    import numpy as np
    import rasterio  # noqa: F401  (imported before the baseline memory is read)
    import torch

    import core.features.build
    import core.outputs.raster_io
    import core.run.map_ensemble
    from core.features.build import cell_inputs_50m
    from core.inputs.aoi import AOI
    from core.inputs.sources.base import register_source
    from core.model.ensemble import Ensemble
    from core.run.config import DEFAULT_TILE_9KM

    torch.set_num_threads(job["threads"])
    os.environ["SOILMOISTURE_CACHE_DIR"] = job["cache"]
    src = _CachedScenes()
    register_source(BENCH_SOURCE)(lambda: src)
    aoi = AOI.from_bbox(*job["bbox"], crs=job["crs"], name=job["name"])
    day = dt.date.fromisoformat(job["date"])
    rss_before = _peak_mb()
    times: dict[str, float] = {}
    with contextlib.ExitStack() as stack:
        stack.enter_context(_timed(core.features.build, "map_inputs_50m", times, "inputs"))
        stack.enter_context(_timed(Ensemble, "predict_shared", times, "predict"))
        stack.enter_context(_timed(core.outputs.raster_io, "write_sm_geotiff", times, "write"))
        t = time.perf_counter()
        res = core.run.map_ensemble.run_map_with_ensemble(
            job["models"], aoi, [day], job["out"], source=BENCH_SOURCE, device=job["device"]
        )
        seconds = time.perf_counter() - t
    peak = _peak_mb()
    stats = res.map_error[day.isoformat()]
    cells = stats["cells_mapped"]
    tif_mb = sum(p.stat().st_size for p in res.maps.values()) / 1e6
    out = {
        "seconds": seconds,
        "cells_in_aoi": stats["cells_in_aoi"],
        "cells_mapped": cells,
        "cells_per_s": cells / seconds,
        "peak_mb": peak,
        "rss_before_run_mb": rss_before,
        "tiles": len(aoi.window9().split(DEFAULT_TILE_9KM, DEFAULT_TILE_9KM)),
        "read_cache_s": src.read_s,
        "inputs_s": times.get("inputs", 0.0),
        "predict_s": times.get("predict", 0.0),
        "write_geotiff_s": times.get("write", 0.0),
        "geotiff_mb": tif_mb,
    }
    out["other_s"] = seconds - sum(
        out[k] for k in ("read_cache_s", "inputs_s", "predict_s", "write_geotiff_s")
    )
    # baseline on a subset: per-cell inputs and the whole network per cell
    scene = src.scene(aoi.window9(), day)
    rows, cols = np.nonzero(aoi.mask50(scene.window9))
    pick = np.random.default_rng(5).choice(rows.size, min(job["baseline_cells"], rows.size), False)
    net = _ensemble(job["models"], job["device"]).net.eval()
    with torch.inference_mode():
        net(torch.from_numpy(cell_inputs_50m(scene, rows[:256], cols[:256])).to(job["device"]))
        t = time.perf_counter()
        x = torch.from_numpy(cell_inputs_50m(scene, rows[pick], cols[pick])).to(job["device"])
        for i in range(0, pick.size, 2048):
            net(x[i : i + 2048])
        per_cell_s = (time.perf_counter() - t) / pick.size
    no_sharing = seconds - out["inputs_s"] - out["predict_s"] + per_cell_s * cells
    out["no_sharing_estimate_s"] = no_sharing
    out["speedup"] = no_sharing / seconds
    return out


def _put_result(queue: mp.Queue, fn, arg) -> None:
    try:
        queue.put(fn(arg))
    except Exception as exc:
        queue.put({"error": f"{type(exc).__name__}: {exc}"})


def _in_fresh_process(fn, arg) -> dict:
    ctx = mp.get_context("spawn")
    q: mp.Queue = ctx.Queue()
    proc = ctx.Process(target=_put_result, args=(q, fn, arg))
    proc.start()
    proc.join()
    return q.get() if not q.empty() else {"error": f"exit code {proc.exitcode}"}


def case_pipeline(args: argparse.Namespace) -> dict:
    from core.inputs.aoi import AOI
    from core.inputs.grid import CELL_9KM, X0, Y0
    from core.inputs.sources.demo import (
        DEMO_AOI_BBOX,
        DEMO_COL0,
        DEMO_ROW0,
        DemoSource,
        acquisition_dates,
        demo_window9,
    )
    from core.run.scenes import subscene

    side_km = 25 if args.quick else 50
    big = f"{side_km}km"
    # the same date as `soilmoisture demo`
    day = min(acquisition_dates(), key=lambda d: abs((d - dt.date(2020, 9, 1)).days))
    # a side_km x side_km AOI (EPSG:6933, equal-area) centred on the demo area
    cx, cy = X0 + (DEMO_COL0 + 1) * CELL_9KM, Y0 - (DEMO_ROW0 + 1) * CELL_9KM
    half = side_km * 500.0
    big_bbox = (cx - half, cy - half, cx + half, cy + half)
    big_window = AOI.from_bbox(*big_bbox, crs="EPSG:6933").window9()
    demo_aoi = AOI.from_bbox(*DEMO_AOI_BBOX)
    tmp = Path(tempfile.mkdtemp(prefix="soilmoisture-bench-"))
    saved_env = os.environ.get("SOILMOISTURE_CACHE_DIR")
    os.environ["SOILMOISTURE_CACHE_DIR"] = str(tmp / "cache")
    try:
        # untimed: the inputs, stored in the on-disk cache as a fetch would leave them
        scene = DemoSource().scene(demo_window9(), day)
        _store_scene(subscene(scene, demo_aoi.window9()), "demo scene (simulated)")
        tiled, reps = _tiled_scene(scene, big_window)
        _store_scene(tiled, "SYNTHETIC: demo scene tiled")
        del scene, tiled
        job = {
            "models": args.models,
            "device": args.device,
            "threads": args.threads,
            "cache": str(tmp / "cache"),
            "date": day.isoformat(),
        }
        runs = {
            "demo": dict(
                job,
                bbox=DEMO_AOI_BBOX,
                crs="EPSG:4326",
                name="demo AOI (simulated)",
                out=str(tmp / "demo"),
                baseline_cells=5_000,
            ),
            big: dict(
                job,
                bbox=big_bbox,
                crs="EPSG:6933",
                name=f"{big} AOI (synthetic)",
                out=str(tmp / big),
                baseline_cells=5_000 if args.quick else 10_000,
            ),
        }
        out: dict = {
            "date": day.isoformat(),
            "demo_inputs": "demo scene (simulated), from the on-disk cache",
            f"{big}_inputs": f"SYNTHETIC: demo scene tiled {reps[0]} x {reps[1]} over "
            f"{big_window.nrows} x {big_window.ncols} 9 km cells, from the on-disk cache",
        }
        for label, spec in runs.items():
            res = _in_fresh_process(_map_from_cache, spec)
            out.update({f"{label}_{k}": v for k, v in res.items()})
        return out
    finally:
        if saved_env is None:
            os.environ.pop("SOILMOISTURE_CACHE_DIR", None)
        else:
            os.environ["SOILMOISTURE_CACHE_DIR"] = saved_env
        shutil.rmtree(tmp, ignore_errors=True)


CASES = {
    "inference": case_inference,
    "adapt": case_adapt,
    "adapt1m": case_adapt1m,
    "map": case_map,
    "pipeline": case_pipeline,
}


def _run_case(job: tuple[str, argparse.Namespace]) -> dict:
    import torch

    name, args = job
    torch.set_num_threads(args.threads)
    return CASES[name](args)


def _prepare_models(args: argparse.Namespace) -> None:
    from core.model.store import install, list_installed

    if Path(args.models).is_dir():
        return
    if not any(s.name == args.models for s in list_installed(verify=False)):
        install(DEFAULT_MODELS, name=args.models)


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--quick", action="store_true", help="smaller sizes and 5 epochs")
    p.add_argument("--device", default="cpu")
    p.add_argument("--models", default=str(DEFAULT_MODELS), help="model set name or folder")
    p.add_argument("--only", default=",".join(CASES), help="comma-separated cases")
    p.add_argument("--epochs", type=int, default=0, help="adaptation epochs (default 50, quick 5)")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    p.add_argument("--json", type=Path, help="also write the results as JSON")
    args = p.parse_args()
    _prepare_models(args)
    results = {}
    print(f"benchmark on {args.device}, {args.threads} threads, models {args.models}")
    for name in args.only.split(","):
        t = time.perf_counter()
        res = _in_fresh_process(_run_case, (name, args))  # an error is reported, others go on
        res["wall_s"] = time.perf_counter() - t
        results[name] = res
        print(f"\n== {name}")
        for k, v in res.items():
            print(f"  {k:32s} {v:,.3f}" if isinstance(v, float) else f"  {k:32s} {v}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
