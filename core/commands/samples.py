"""Sample-table commands: predict, adapt, pretrain, evaluate.

Sample tables are the authors' layout: normalised columns "0".."152", label "gt" (m3/m3) and
metadata columns, in CSV or Parquet. See ``docs/input-contract.md``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..errors import InputError
from ._progress import TerminalProgress

STATION_COLUMNS = ("station", "station_id", "site")


def register(sub: Any) -> None:
    """Add the predict, adapt, pretrain and evaluate sub-commands."""
    p = sub.add_parser(
        "predict",
        help="predict soil moisture for a sample table with an ensemble",
        description="Writes the ensemble mean, the spread and each member's value per row, "
        "keeping the table's metadata columns.",
    )
    p.add_argument("--samples", required=True, type=Path, help="sample table (CSV or Parquet)")
    p.add_argument("--out", required=True, type=Path, help="predictions table (CSV or Parquet)")
    p.add_argument(
        "--models",
        default="densesm_9km",
        help="installed model set name or a model-set folder (default: densesm_9km)",
    )
    p.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    p.set_defaults(func=_predict)

    from ..adaptation import METHODS

    a = sub.add_parser(
        "adapt",
        help="adapt the 25 members to 50 m (finetune, MS, DA or MSDA)",
        description="Adapts every member from its pretrained weights and saves an adapted "
        "ensemble that `predict --models DIR` uses.",
    )
    a.add_argument("--fine", required=True, type=Path, help="labelled 50 m samples (station cells)")
    a.add_argument("--coarse", type=Path, help="labelled 9 km samples (SMAP truth)")
    a.add_argument(
        "--target", type=Path, help="unlabelled 50 m samples (the cells to map; 'gt' is ignored)"
    )
    a.add_argument("--method", choices=list(METHODS), default="msda")
    a.add_argument("--alpha", type=float, default=0.7, help="weight of the 50 m loss (default 0.7)")
    a.add_argument("--beta", default="auto", help="'auto' (early balance) or a number")
    a.add_argument("--epochs", type=int, default=50)
    a.add_argument("--seed", type=int, default=0)
    a.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    a.add_argument("--loss", choices=("mse", "mape"), default="mse")
    a.add_argument("--models", default="densesm_9km", help="pretrained model set (name or folder)")
    a.add_argument("--out", required=True, type=Path, help="folder for the adapted ensemble")
    a.set_defaults(func=_adapt)

    t = sub.add_parser(
        "pretrain",
        help="train a new 9 km ensemble from scratch on SMAP-labelled samples",
        description="The published recipe: 90/10 split, RMSE loss, Adam 0.01, batch 128, "
        "100 epochs, average of the last 10 epochs' weights.",
    )
    t.add_argument("--coarse", required=True, type=Path, help="labelled 9 km samples")
    t.add_argument("--out", required=True, type=Path, help="folder for the new ensemble")
    t.add_argument("--epochs", type=int, default=100)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--device", default="cpu")
    t.set_defaults(func=_pretrain)

    e = sub.add_parser(
        "evaluate",
        help="metrics of predictions against the table's labels",
        description="Bias, RMSE, ubRMSE, R and inversion rate, pooled and per station (when a "
        "station column exists), with confidence intervals.",
    )
    e.add_argument("--samples", required=True, type=Path, help="labelled sample table")
    e.add_argument("--pred", required=True, type=Path, help="predictions table from `predict`")
    e.add_argument("--column", default="sm_mean", help="prediction column (default sm_mean)")
    e.add_argument("--json", type=Path, help="also write the metrics as JSON")
    e.set_defaults(func=_evaluate)


def _predict(args: argparse.Namespace) -> int:
    from ..model.ensemble import Ensemble
    from ..samples import read_samples, write_predictions

    table = read_samples(args.samples, require_label=False, role="samples")
    ensemble = Ensemble.load(args.models, device=args.device)
    with TerminalProgress() as progress:
        progress.message(f"predicting {len(table):,} samples with {ensemble.n_members} members")
        pred = ensemble.predict(table.x156, progress=progress)
    members = dict(zip(ensemble.member_names, pred.members, strict=True))
    write_predictions(args.out, table.meta, pred.mean, pred.spread, members)
    print(f"wrote {args.out} ({len(table):,} rows, ensemble {ensemble.name})")
    return 0


def _beta(value: str) -> float | str:
    if value == "auto":
        return "auto"
    try:
        return float(value)
    except ValueError:
        raise InputError(f"--beta must be 'auto' or a number, got {value!r}") from None


def _adapt(args: argparse.Namespace) -> int:
    from ..adaptation import AdaptConfig, adapt, get_method
    from ..model.ensemble import Ensemble
    from ..samples import read_samples

    config = AdaptConfig(
        method=args.method,
        alpha=args.alpha,
        beta=_beta(args.beta),
        epochs=args.epochs,
        seed=args.seed,
        device=args.device,
        loss=args.loss,
        snapshot_epochs=min(10, args.epochs),
    )
    method = get_method(args.method)
    fine = read_samples(args.fine, require_label=True, role="fine (50 m labelled)")
    coarse = target = None
    if method.uses_coarse:
        if args.coarse is None:
            raise InputError(f"method {method.name} needs --coarse (labelled 9 km samples)")
        coarse = read_samples(args.coarse, require_label=True, role="coarse (9 km labelled)")
    if method.uses_domain:
        if args.target is None:
            raise InputError(f"method {method.name} needs --target (unlabelled 50 m samples)")
        target = read_samples(args.target, require_label=False, role="target (50 m unlabelled)")
    ensemble = Ensemble.load(args.models, device=args.device)
    assert fine.y is not None  # require_label=True
    with TerminalProgress() as progress:
        result = adapt(
            ensemble,
            fine.x156,
            fine.y,
            coarse.x156 if coarse else None,
            coarse.y if coarse else None,
            target.x156 if target else None,
            config,
            progress,
        )
    provenance = result.provenance()
    provenance.update(
        {
            "pretrained": ensemble.name,
            "fine": str(args.fine),
            "coarse": str(args.coarse) if args.coarse else None,
            "target": str(args.target) if args.target else None,
        }
    )
    saved = result.ensemble.save(args.out, kind="adapted", provenance=provenance)
    result.history.to_csv(Path(args.out) / "history.csv", index=False)
    last = result.history.iloc[-1]
    print(
        f"adapted {result.ensemble.n_members} members with {method.label} "
        f"(alpha {config.effective_alpha:g}, {result.n_fine} fine, {result.n_coarse} coarse, "
        f"{result.n_target_used:,} target samples); last epoch loss {last['loss']:.5f}"
    )
    for note in result.notes:
        print(f"note: {note}")
    print(f"saved to {saved.path}; use it with: soilmoisture predict --models {saved.path}")
    return 0


def _pretrain(args: argparse.Namespace) -> int:
    from ..adaptation import PretrainConfig, pretrain
    from ..samples import read_samples

    coarse = read_samples(args.coarse, require_label=True, role="coarse (9 km labelled)")
    config = PretrainConfig(
        epochs=args.epochs,
        seed=args.seed,
        device=args.device,
        snapshot_epochs=min(10, args.epochs),
    )
    assert coarse.y is not None  # require_label=True
    with TerminalProgress() as progress:
        result = pretrain(coarse.x156, coarse.y, config, progress=progress)
    saved = result.ensemble.save(
        args.out,
        kind="pretrained",
        provenance={
            "recipe": "9 km pretraining (method.md section 2)",
            "coarse": str(args.coarse),
            "epochs": args.epochs,
            "seed": args.seed,
            "val_rmse": result.val_rmse,
        },
    )
    result.history.to_csv(Path(args.out) / "history.csv", index=False)
    vals = list(result.val_rmse.values())
    if vals:
        print(f"validation RMSE per member: {min(vals):.4f}-{max(vals):.4f} m3/m3")
    print(f"saved to {saved.path}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    import pandas as pd

    from ..metrics import evaluate
    from ..samples import read_samples

    table = read_samples(args.samples, require_label=True, role="samples")
    pred_path = Path(args.pred)
    if pred_path.suffix.lower() in (".parquet", ".pq"):
        pred = pd.read_parquet(pred_path, columns=[args.column])
    else:
        pred = pd.read_csv(pred_path, usecols=[args.column])
    if len(pred) != len(table):
        raise InputError(
            f"{pred_path} has {len(pred):,} rows but {args.samples} has {len(table):,}; "
            "evaluate the predictions made for this table"
        )
    df = pd.DataFrame({"obs": table.y, "pred": pred[args.column].to_numpy()})
    station = next((c for c in STATION_COLUMNS if c in table.meta.columns), None)
    if station is not None:
        net = table.meta["network"].astype(str) + "/" if "network" in table.meta.columns else ""
        df["station"] = (net + table.meta[station].astype(str)).to_numpy()
    report = evaluate(df)
    _print_metrics(report)
    if args.json:
        from ..atomic import write_text

        write_text(args.json, json.dumps(report.to_dict(), indent=2))
        print(f"wrote {args.json}")
    return 0


def _print_metrics(report: Any) -> None:
    p, ci = report.pooled, report.pooled_ci
    print(f"pooled over {int(p['n']):,} samples (m3/m3, 95% CI):")
    for key in ("bias", "rmse", "ubrmse", "r"):
        lo, hi = ci.get(key, (float("nan"), float("nan")))
        print(f"  {key:7s} {p[key]: .4f}  [{lo: .4f}, {hi: .4f}]")
    print(f"  inversion rate (share in 0-0.6) {p['inversion_rate']:.3f}")
    if report.station_median is not None:
        med = report.station_median
        print(f"median over {report.n_stations} stations:")
        for key in ("bias", "rmse", "ubrmse", "r"):
            print(f"  {key:7s} {med[key]: .4f}")
