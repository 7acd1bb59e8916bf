"""Benchmarks: throughput, time and peak memory, each next to a simple baseline in the same run.

    python scripts/bench.py [--quick] [--device cpu|cuda] [--only inference,adapt,adapt1m,map]

Cases (each in its own process, so peak memory is per case):

* inference: the 25-member ensemble on a sample table, grouped vs a plain one-model-at-a-time
  loop over the same published weights;
* adapt: MSDA on 2,000 labelled 50 m, 5,000 labelled 9 km and 100,000 unlabelled samples, all 25
  members, 50 epochs; baseline: one member trained at a time (the reference implementation's
  shape), timed over a few steps and extrapolated to the same number of steps;
* adapt1m: the same with 1,000,000 unlabelled cells (memory is the point);
* map: 1,000,000 cells sharing 40,000 time series (one per 250 m pixel), predicted with the
  shared temporal branch vs the same cells without sharing (rate measured on a subset).

Inputs are synthetic but shaped like real ones; the weights are the published ones (installed
from ../shared or a model-set folder given with --models).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DEFAULT_MODELS = REPO.parent / "shared" / "models" / "densesm_9km"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _ensemble(models: str, device: str):
    from core.model.ensemble import Ensemble
    from core.store import load_model_set

    return Ensemble.from_model_set(load_model_set(models), device=device)


def _inputs(n: int, seed: int):
    import numpy as np

    from core.contract import to_model_inputs

    rng = np.random.default_rng(seed)
    return to_model_inputs(rng.random((n, 153), dtype=np.float32))


def case_inference(args: argparse.Namespace) -> dict:
    import torch

    from core.model.densesm import DenseSM, parse_member_name

    ens = _ensemble(args.models, args.device)
    n = 20_000 if args.quick else 100_000
    x = _inputs(n, 0)
    ens.predict(x[:2048])
    t = time.perf_counter()
    pred = ens.predict(x)
    grouped_s = time.perf_counter() - t
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
        t = time.perf_counter()
        outs = []
        for m in models:
            outs.append(torch.cat([m(xb[i : i + 4096]) for i in range(0, nb, 4096)])[:, 0])
        loop_s = time.perf_counter() - t
    diff = float((torch.stack(outs).mean(0).cpu() - torch.from_numpy(pred.mean[:nb])).abs().max())
    return {
        "samples": n,
        "grouped_samples_per_s": n / grouped_s,
        "grouped_s": grouped_s,
        "loop_samples_per_s": nb / loop_s,
        "speedup": (n / grouped_s) / (nb / loop_s),
        "max_abs_diff_vs_loop": diff,
        "peak_mb": _peak_mb(),
    }


def _adapt_case(args: argparse.Namespace, n_target: int) -> dict:
    import numpy as np

    from core.adaptation import AdaptConfig, adapt

    ens = _ensemble(args.models, args.device)
    rng = np.random.default_rng(1)
    fine_x, coarse_x = _inputs(2000, 1), _inputs(5000, 2)
    target_x = _inputs(n_target, 3)
    fine_y = rng.uniform(0.05, 0.45, 2000).astype(np.float32)
    coarse_y = rng.uniform(0.05, 0.45, 5000).astype(np.float32)
    epochs = args.epochs if args.epochs else (5 if args.quick else 50)
    cfg = AdaptConfig(method="msda", alpha=0.7, epochs=epochs, snapshot_epochs=min(10, epochs),
                      device=args.device)
    t = time.perf_counter()
    res = adapt(ens, fine_x, fine_y, coarse_x, coarse_y, target_x, cfg)
    total = time.perf_counter() - t
    steps = epochs * int(np.ceil(2000 / 128))
    return {"epochs": epochs, "steps": steps, "members": ens.n_members, "seconds": total,
            "ms_per_step_all_members": 1000 * total / steps, "unlabelled": n_target,
            "unlabelled_used": res.n_target_used, "peak_mb": _peak_mb()}


def case_adapt(args: argparse.Namespace) -> dict:
    out = _adapt_case(args, 100_000)
    out.update(_reference_step_ms(args))
    out["reference_estimate_s"] = out["reference_ms_per_member_step"] * 25 * out["steps"] / 1000
    out["speedup"] = out["reference_estimate_s"] / out["seconds"]
    return out


def _reference_step_ms(args: argparse.Namespace) -> dict:
    """One member at a time on a 3 x 128 batch: the reference implementation's training step."""
    import torch

    from core.adaptation import coral
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
    return {"reference_ms_per_member_step": sum(times) / len(times),
            "reference_ms_per_member_step_by_size": dict(
                zip(("1_8", "3_32", "5_128"), times, strict=True))}


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
    return {"cells": n_cells, "series": n_series, "shared_s": shared_s,
            "cells_per_s": n_cells / shared_s, "no_sharing_estimate_s": per_cell_s * n_cells,
            "speedup": per_cell_s * n_cells / shared_s, "peak_mb": _peak_mb()}


CASES = {"inference": case_inference, "adapt": case_adapt, "adapt1m": case_adapt1m, "map": case_map}


def _run(name: str, args: argparse.Namespace, queue: mp.Queue) -> None:
    import torch

    torch.set_num_threads(args.threads)
    try:
        queue.put((name, CASES[name](args)))
    except Exception as exc:  # report, keep the other cases going
        queue.put((name, {"error": f"{type(exc).__name__}: {exc}"}))


def _prepare_models(args: argparse.Namespace) -> None:
    from core.store import install, list_installed

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
    ctx = mp.get_context("spawn")
    results = {}
    print(f"benchmark on {args.device}, {args.threads} threads, models {args.models}")
    for name in args.only.split(","):
        q: mp.Queue = ctx.Queue()
        proc = ctx.Process(target=_run, args=(name, args, q))
        t = time.perf_counter()
        proc.start()
        proc.join()
        _, res = q.get() if not q.empty() else (name, {"error": f"exit code {proc.exitcode}"})
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
