"""Sample-table commands: predict, adapt, pretrain, evaluate.

Sample tables are the authors' layout: normalised columns "0".."152", label "gt" (m3/m3) and
metadata columns, in CSV or Parquet. See ``docs/input-contract.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..atomic import write_text
from ..errors import InputError
from . import _checks
from ._progress import TerminalProgress

STATION_COLUMNS = ("station", "station_id", "site")
KEY_COLUMNS = (
    "row_id",
    "sample_id",
    "id",
    "network",
    *STATION_COLUMNS,
    "date",
    "time",
    "timestamp",
    "row50",
    "col50",
)
"""Columns that identify a sample; those present in both tables align the predictions."""
OUT_OF_RANGE_COLUMN = "sm_out_of_range"
"""Column of ``predict``'s output marking predictions outside the physical range."""
PERCENT_MEDIAN = 1.5
"""A prediction column whose median exceeds this (m3/m3) is taken to be in percent."""


def register(sub: Any) -> None:
    """Add the predict, adapt, pretrain and evaluate sub-commands."""
    p = sub.add_parser(
        "predict",
        help="predict soil moisture for a sample table with an ensemble",
        description="Writes the ensemble mean, the spread and each member's value per row, "
        'keeping the table\'s metadata columns. The table\'s columns "0".."152" are fed to '
        "the network as they are: they must already be normalised in the input layout the "
        "model set was trained on (the published set's is `densesm_9km`, not the raw order of "
        "the authors' 50 m tables; see docs/input-contract.md). Adapt & Map and map build "
        "their inputs in the model set's own layout.",
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

    from ..adaptation.methods import METHODS

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
    # sample tables carry no 9 km cells' 50 m cells, so no consistency term: the method as published
    _checks.add_batchnorm_option(a, "batch")
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
    e.add_argument(
        "--pred-unit",
        choices=("m3/m3", "%"),
        default="m3/m3",
        help="unit of the prediction column (default m3/m3)",
    )
    e.add_argument("--json", type=Path, help="also write the metrics as JSON")
    e.set_defaults(func=_evaluate)


def _predict(args: argparse.Namespace) -> int:
    from ..atomic import check_output_file
    from ..features.samples import CSV_SUFFIXES, PARQUET_SUFFIXES, read_samples, write_predictions
    from ..outputs.metrics import PHYSICAL_RANGE, outside_physical_range, physical_range_note
    from .models import load_ensemble

    check_output_file(args.out, CSV_SUFFIXES + PARQUET_SUFFIXES)
    _checks.input_file(args.samples, "--samples")
    ensemble = load_ensemble(args.models, device=args.device)
    table = read_samples(args.samples, require_label=False, role="samples")
    with TerminalProgress() as progress:
        progress.message(f"predicting {len(table):,} samples with {ensemble.n_members} members")
        pred = ensemble.predict(table.x156, progress=progress)
    members = dict(zip(ensemble.member_names, pred.members, strict=True))
    flag = outside_physical_range(pred.mean)
    meta = table.meta.copy() if table.meta is not None else None
    if meta is not None and flag.any():
        meta[OUT_OF_RANGE_COLUMN] = flag
    write_predictions(args.out, meta, pred.mean, pred.spread, members)
    print(f"wrote {args.out} ({len(table):,} rows, ensemble {ensemble.name})")
    note = physical_range_note(pred.mean, "sm_mean")
    if note:
        lo, hi = PHYSICAL_RANGE
        print(
            f"warning: {note} The rows are marked in the column {OUT_OF_RANGE_COLUMN!r} "
            f"(true outside {lo:g}..{hi:g}).",
            file=sys.stderr,
        )
    return 0


def _beta(value: str) -> float | str:
    if value == "auto":
        return "auto"
    try:
        return float(value)
    except ValueError:
        raise InputError(f"--beta must be 'auto' or a number, got {value!r}") from None


def _adapt(args: argparse.Namespace) -> int:
    from ..adaptation.methods import AdaptConfig, get_method
    from ..adaptation.train import adapt
    from ..features.samples import read_samples
    from .models import load_ensemble

    config = AdaptConfig(
        method=args.method,
        alpha=args.alpha,
        beta=_beta(args.beta),
        epochs=args.epochs,
        seed=args.seed,
        device=args.device,
        loss=args.loss,
        batchnorm=args.batchnorm,
        snapshot_epochs=min(10, args.epochs),
    )
    method = get_method(args.method)
    _checks.new_folder(args.out)
    for option, value in (
        ("--fine", args.fine),
        ("--coarse", args.coarse),
        ("--target", args.target),
    ):
        if value is not None:
            _checks.input_file(value, option)
    if method.uses_coarse and args.coarse is None:
        raise InputError(f"method {method.name} needs --coarse (labelled 9 km samples)")
    if method.uses_domain and args.target is None:
        raise InputError(f"method {method.name} needs --target (unlabelled 50 m samples)")
    ensemble = load_ensemble(args.models, device=args.device)
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
    write_text(Path(args.out) / "history.csv", result.history.to_csv(index=False))
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
    from ..adaptation.pretrain import PretrainConfig, pretrain
    from ..features.samples import read_samples

    _checks.new_folder(args.out)
    _checks.input_file(args.coarse, "--coarse")
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
            # sample tables are in the raw order of the authors' tables (docs/input-contract.md)
            "input_layout": "authors_50m",
            "coarse": str(args.coarse),
            "epochs": args.epochs,
            "seed": args.seed,
            "val_rmse": result.val_rmse,
        },
    )
    write_text(Path(args.out) / "history.csv", result.history.to_csv(index=False))
    vals = list(result.val_rmse.values())
    if vals:
        print(f"validation RMSE per member: {min(vals):.4f}-{max(vals):.4f} m3/m3")
    print(f"saved to {saved.path}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    import pandas as pd

    from ..atomic import check_output_file
    from ..features.samples import read_samples
    from ..outputs.metrics import evaluate

    if args.json is not None:
        check_output_file(args.json, (".json",), "--json")
    _checks.input_file(args.samples, "--samples")
    _checks.input_file(args.pred, "--pred")
    table = read_samples(args.samples, require_label=True, role="samples")
    pred = _read_predictions(Path(args.pred))
    if args.column not in pred.columns:
        shown = [c for c in pred.columns if str(c).startswith("sm_")] or list(pred.columns)
        raise InputError(
            f"{args.pred} has no column {args.column!r}; its prediction columns are "
            f"{', '.join(map(str, shown[:12]))}. Choose one with --column."
        )
    meta = table.meta if table.meta is not None else pd.DataFrame(index=range(len(table)))
    values, how = _align(meta, pred, args)
    notes = [how]
    numeric = pd.to_numeric(pd.Series(values), errors="coerce")
    text = (
        numeric.isna()
        & pd.Series(values).notna()
        & (pd.Series(values).astype(str).str.strip().str.lower() != "nan")
    )
    if text.any():
        first = int(text.to_numpy().nonzero()[0][0])
        raise InputError(
            f"{args.pred}: column {args.column!r} holds {int(text.sum()):,} values that are not "
            f"numbers (first: {values[first]!r} in data row {first + 1}); give the predictions "
            "column written by `soilmoisture predict`."
        )
    p = numeric.to_numpy(dtype="float64")
    if args.pred_unit == "%":
        p = p / 100.0
        notes.append("predictions converted from percent to m3/m3 (--pred-unit %)")
    else:
        finite = p[~pd.isna(p)]
        if finite.size and float(pd.Series(finite).median()) > PERCENT_MEDIAN:
            raise InputError(
                f"{args.pred}: column {args.column!r} has a median of "
                f"{float(pd.Series(finite).median()):.3g}, which is not a soil moisture in m3/m3 "
                "(0-0.6); if the predictions are in percent, add --pred-unit %."
            )
    missing = int(pd.isna(p).sum())
    if missing:
        notes.append(f"{missing:,} rows without a prediction (NaN) left out of the metrics")
    df = pd.DataFrame({"obs": table.y, "pred": p})
    station = next((c for c in STATION_COLUMNS if c in meta.columns), None)
    if station is not None:
        net = meta["network"].astype(str) + "/" if "network" in meta.columns else ""
        df["station"] = (net + meta[station].astype(str)).to_numpy()
    if int((~pd.isna(p)).sum()) == 0:
        raise InputError(f"{args.pred}: column {args.column!r} holds no prediction (all NaN)")
    report = evaluate(df)
    for note in notes:
        print(f"note: {note}")
    _print_metrics(report)
    if args.json:
        payload = report.to_dict()
        payload["notes"] = notes
        write_text(args.json, json.dumps(payload, indent=2, default=str))
        print(f"wrote {args.json}")
    return 0


def _read_predictions(path: Path) -> Any:
    """The predictions table (every column as read), or an InputError saying what is wrong."""
    import pandas as pd

    name = path.name.lower()
    try:
        if name.endswith((".parquet", ".pq")):
            return pd.read_parquet(path)
        if name.endswith((".csv", ".csv.gz", ".txt")):
            return pd.read_csv(path, low_memory=False)
    except (ValueError, OSError, pd.errors.ParserError, ImportError) as exc:
        raise InputError(f"--pred {str(path)!r} cannot be read as a table: {exc}") from None
    raise InputError(f"--pred {str(path)!r} must be a CSV or Parquet file (.csv, .parquet)")


def _align(meta: Any, pred: Any, args: argparse.Namespace) -> tuple[Any, str]:
    """The prediction column in the samples' row order, and how it was aligned.

    Key columns present in both tables (row id, station, date, ...) align the rows when they
    identify each row; otherwise the rows are taken in order, and key columns the tables share
    must then agree row by row.
    """
    keys = [c for c in KEY_COLUMNS if c in meta.columns and c in pred.columns]
    column = args.column
    if keys:
        left = meta[keys].astype(str).reset_index(drop=True)
        right = pred[keys].astype(str).reset_index(drop=True)
        unique = not left.duplicated().any() and not right.duplicated().any()
        if unique:
            merged = left.merge(
                right.assign(_value=pred[column].to_numpy()), on=keys, how="left", indicator=True
            )
            unmatched = int((merged["_merge"] != "both").sum())
            if unmatched == len(left):
                raise InputError(
                    f"none of the {len(left):,} samples of {args.samples} has a prediction in "
                    f"{args.pred} (matched on {', '.join(keys)}); evaluate the predictions "
                    "made for this table"
                )
            how = f"predictions aligned to the samples by {', '.join(keys)}"
            if unmatched:
                how += f"; {unmatched:,} samples have no prediction and are left out"
            return merged["_value"].to_numpy(), how
    if len(pred) != len(meta):
        raise InputError(
            f"{args.pred} has {len(pred):,} rows but {args.samples} has {len(meta):,}"
            + (f", and the columns {', '.join(keys)} do not identify each row" if keys else "")
            + "; evaluate the predictions made for this table"
        )
    if keys:
        left = meta[keys].astype(str).reset_index(drop=True)
        right = pred[keys].astype(str).reset_index(drop=True)
        differ = (left != right).any(axis=1)
        if differ.any():
            first = int(differ.to_numpy().nonzero()[0][0])
            raise InputError(
                f"{args.pred} and {args.samples} disagree on {', '.join(keys)} in "
                f"{int(differ.sum()):,} rows (first: data row {first + 1}); the predictions "
                "were not made for this table in this order"
            )
        return pred[column].to_numpy(), f"rows taken in order; {', '.join(keys)} agree"
    return pred[column].to_numpy(), "rows taken in order (the tables share no key column)"


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
