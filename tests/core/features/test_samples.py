"""Sample tables: reading (CSV, Parquet), validation messages and prediction output."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.errors import Cancelled, InputError
from core.features.contract import SAMPLE_COLUMNS, to_model_inputs
from core.features.samples import read_samples, readers, write_predictions
from core.progress import CallbackProgress

FEATURES = list(SAMPLE_COLUMNS)


def make_table(n: int = 40, seed: int = 0, label: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(rng.random((n, 153), dtype=np.float32), columns=FEATURES)
    df.insert(0, "network", "SCAN")
    df.insert(1, "station", [f"st{i % 4}" for i in range(n)])
    df.insert(2, "r", np.arange(n, dtype=np.int64))
    df.insert(3, "c", np.arange(n, dtype=np.int64) * 2)
    df["date"] = "2020-06-01"
    if label:
        df["gt"] = rng.uniform(0.02, 0.45, n).astype(np.float32)
    return df


def save(df: pd.DataFrame, path: Path) -> Path:
    if path.suffix in (".parquet", ".pq"):
        df.to_parquet(path, index=False)
    else:
        df.to_csv(path, index=False)
    return path


@pytest.fixture(params=["csv", "parquet"])
def ext(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_reads_both_formats(tmp_path: Path, ext: str) -> None:
    df = make_table()
    table = read_samples(save(df, tmp_path / f"s.{ext}"), require_label=True, role="fine (50 m)")
    assert table.x156.shape == (40, 156) and table.x156.dtype == np.float32
    expected = to_model_inputs(df[FEATURES].to_numpy(np.float32))
    np.testing.assert_allclose(table.x156, expected, rtol=0, atol=1e-6)
    assert table.y is not None and table.y.dtype == np.float32
    np.testing.assert_allclose(table.y, df["gt"].to_numpy(), atol=1e-6)
    assert list(table.meta.columns) == ["network", "station", "r", "c", "date"]
    assert table.meta["station"].tolist() == df["station"].tolist()
    assert table.meta["r"].tolist() == list(range(40))
    assert len(table) == 40 and table.path.name == f"s.{ext}" and table.role == "fine (50 m)"


def test_csv_gz_and_column_order_independent(tmp_path: Path) -> None:
    df = make_table(12)
    shuffled = df[list(reversed(df.columns))]
    path = tmp_path / "s.csv.gz"
    with gzip.open(path, "wt") as f:
        shuffled.to_csv(f, index=False)
    table = read_samples(path, require_label=True, role="fine (50 m)")
    np.testing.assert_allclose(
        table.x156, to_model_inputs(df[FEATURES].to_numpy(np.float32)), atol=1e-6
    )


def test_unlabelled_table(tmp_path: Path, ext: str) -> None:
    df = make_table(label=False)
    table = read_samples(save(df, tmp_path / f"t.{ext}"), require_label=False, role="target")
    assert table.y is None and table.x156.shape == (40, 156)


def test_missing_label_when_required(tmp_path: Path, ext: str) -> None:
    path = save(make_table(label=False), tmp_path / f"t.{ext}")
    with pytest.raises(InputError, match=r'no "gt" label column.*fine \(50 m\)') as err:
        read_samples(path, require_label=True, role="fine (50 m)")
    assert str(path) in str(err.value)


def test_152_feature_columns(tmp_path: Path, ext: str) -> None:
    path = save(make_table().drop(columns=["152"]), tmp_path / f"s.{ext}")
    with pytest.raises(InputError) as err:
        read_samples(path, require_label=True, role="fine (50 m)")
    msg = str(err.value)
    assert f"file {path} has feature columns 0..151" in msg
    assert 'needs 153 normalised columns "0".."152"' in msg
    assert "docs/input-contract.md" in msg


def test_scattered_missing_columns_are_named(tmp_path: Path) -> None:
    path = save(make_table().drop(columns=["7", "8", "100"]), tmp_path / "s.csv")
    with pytest.raises(InputError, match=r"Missing: 7\.\.8, 100"):
        read_samples(path, require_label=True, role="fine (50 m)")


def test_no_feature_columns(tmp_path: Path) -> None:
    path = save(pd.DataFrame({"station": ["a"], "gt": [0.2]}), tmp_path / "s.csv")
    with pytest.raises(InputError, match=r"has no feature columns \(found 'station', 'gt'\)"):
        read_samples(path, require_label=True, role="fine (50 m)")


def test_156_input_layout_is_refused(tmp_path: Path) -> None:
    df = make_table(5)
    for i in (153, 154, 155):
        df[str(i)] = 0.5
    with pytest.raises(InputError, match=r"beyond \"152\" \(153\.\.155\).*156 model inputs"):
        read_samples(save(df, tmp_path / "s.csv"), require_label=True, role="fine (50 m)")


def test_nan_features_report_count_and_rows(tmp_path: Path, ext: str) -> None:
    df = make_table()
    df.loc[[2, 9, 30], "17"] = np.nan
    df.loc[9, "80"] = np.nan
    with pytest.raises(InputError) as err:
        read_samples(save(df, tmp_path / f"s.{ext}"), require_label=True, role="fine (50 m)")
    msg = str(err.value)
    assert "3 of 40 rows" in msg and "NaN" in msg
    assert "data rows 3, 10, 31" in msg and "columns 17, 80" in msg


def test_unnormalised_features(tmp_path: Path, ext: str) -> None:
    df = make_table()
    df.loc[4, "0"] = -12.5  # VV in dB, not normalised
    df.loc[6, "0"] = -9.0
    df.loc[6, "120"] = 1.5
    with pytest.raises(InputError) as err:
        read_samples(save(df, tmp_path / f"s.{ext}"), require_label=True, role="fine (50 m)")
    msg = str(err.value)
    assert "3 feature values in 2 rows are outside [0, 1]" in msg
    assert 'column "0" = -12.5 in data row 5' in msg
    assert "not normalised" in msg


def test_tiny_overshoot_is_clipped_not_refused(tmp_path: Path) -> None:
    df = make_table(5)
    df["3"] = df["3"].astype(np.float64)
    df.loc[0, "3"] = 1.000001
    table = read_samples(save(df, tmp_path / "s.parquet"), require_label=True, role="fine (50 m)")
    assert table.x156[0, 3] == np.float32(1.0)


def test_non_numeric_feature(tmp_path: Path) -> None:
    df = make_table(5)
    df["9"] = df["9"].astype(object)
    df.loc[2, "9"] = "n/a!"
    with pytest.raises(InputError, match=r'column "9" holds a non-numeric value'):
        read_samples(save(df, tmp_path / "s.csv"), require_label=True, role="fine (50 m)")


def test_percent_labels(tmp_path: Path, ext: str) -> None:
    df = make_table()
    df["gt"] = df["gt"] * 100
    with pytest.raises(InputError) as err:
        read_samples(save(df, tmp_path / f"s.{ext}"), require_label=True, role="fine (50 m)")
    msg = str(err.value)
    assert '40 "gt" labels' in msg and "outside 0-1 m3/m3" in msg
    assert "data rows 1, 2, 3, 4, 5, ..." in msg
    assert "% values? divide by 100" in msg


def test_negative_labels(tmp_path: Path) -> None:
    df = make_table()
    df.loc[11, "gt"] = -9999.0
    with pytest.raises(InputError, match=r"1 \"gt\" labels.*data rows 12.*no-data flags"):
        read_samples(save(df, tmp_path / "s.csv"), require_label=True, role="fine (50 m)")


def test_nan_labels(tmp_path: Path, ext: str) -> None:
    df = make_table()
    df.loc[[0, 5], "gt"] = np.nan
    path = save(df, tmp_path / f"s.{ext}")
    with pytest.raises(InputError, match=r'2 of 40 rows.*no "gt" label \(NaN\).*data rows 1, 6'):
        read_samples(path, require_label=True, role="fine (50 m)")
    # Not required (e.g. a target set holding a few validation labels): NaN stays NaN.
    table = read_samples(path, require_label=False, role="target")
    assert table.y is not None and np.isnan(table.y).sum() == 2


def test_empty_table(tmp_path: Path, ext: str) -> None:
    path = save(make_table().head(0), tmp_path / f"s.{ext}")
    with pytest.raises(InputError) as err:
        read_samples(path, require_label=True, role="fine (50 m)")
    assert "the fine (50 m) set is empty" in str(err.value)
    assert "at least one labelled station sample is needed" in str(err.value)
    with pytest.raises(InputError, match="the target set is empty"):
        read_samples(path, require_label=False, role="target")


def test_empty_file_and_unknown_type(tmp_path: Path) -> None:
    empty = tmp_path / "e.csv"
    empty.write_text("")
    with pytest.raises(InputError, match="is empty"):
        read_samples(empty, require_label=True, role="fine (50 m)")
    xlsx = tmp_path / "s.xlsx"
    xlsx.write_bytes(b"PK")
    with pytest.raises(InputError, match=r"unknown type \(\.xlsx\).*CSV or Parquet"):
        read_samples(xlsx, require_label=True, role="fine (50 m)")
    with pytest.raises(InputError, match="does not exist"):
        read_samples(tmp_path / "nope.csv", require_label=True, role="fine (50 m)")


def test_corrupt_parquet(tmp_path: Path) -> None:
    path = tmp_path / "s.parquet"
    path.write_bytes(b"this is not parquet at all")
    with pytest.raises(InputError, match=r"s\.parquet cannot be read as Parquet"):
        read_samples(path, require_label=True, role="fine (50 m)")


def test_multi_block_csv_with_meta_type_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small blocks: several batches, and a station id that looks numeric in the first block.
    monkeypatch.setattr(readers, "_CSV_BLOCK_BYTES", 64 * 1024)
    df = make_table(300, seed=3)
    df["station"] = [str(i) for i in range(299)] + ["A12"]
    table = read_samples(save(df, tmp_path / "s.csv"), require_label=True, role="fine (50 m)")
    assert len(table) == 300
    assert table.meta["station"].tolist()[-2:] == ["298", "A12"]
    assert table.meta["r"].tolist() == list(range(300))  # other columns keep their types
    np.testing.assert_allclose(
        table.x156, to_model_inputs(df[FEATURES].to_numpy(np.float32)), atol=1e-6
    )


def test_progress_and_cancel(tmp_path: Path) -> None:
    path = save(make_table(), tmp_path / "s.parquet")
    messages: list[str] = []
    read_samples(path, True, "fine (50 m)", CallbackProgress(on_message=messages.append))
    assert messages and "40 samples" in messages[-1]
    with pytest.raises(Cancelled):
        read_samples(path, True, "fine (50 m)", CallbackProgress(is_cancelled=lambda: True))


def test_write_predictions_round_trip(tmp_path: Path, ext: str) -> None:
    table = read_samples(save(make_table(), tmp_path / f"s.{ext}"), True, "fine (50 m)")
    rng = np.random.default_rng(1)
    members = {"coarse_1_8": rng.random(40), "coarse_5_128": rng.random(40)}
    mean = np.mean(list(members.values()), axis=0)
    spread = np.std(list(members.values()), axis=0)
    out = write_predictions(tmp_path / f"pred.{ext}", table.meta, mean, spread, members)
    back = pd.read_parquet(out) if ext == "parquet" else pd.read_csv(out)
    assert list(back.columns) == [
        "network",
        "station",
        "r",
        "c",
        "date",
        "sm_mean",
        "sm_spread",
        "sm_coarse_1_8",
        "sm_coarse_5_128",
    ]
    np.testing.assert_allclose(back["sm_mean"], mean, atol=1e-6)
    np.testing.assert_allclose(back["sm_spread"], spread, atol=1e-6)
    np.testing.assert_allclose(back["sm_coarse_5_128"], members["coarse_5_128"], atol=1e-6)
    assert back["station"].tolist() == table.meta["station"].tolist()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_write_predictions_gz_and_no_meta(tmp_path: Path) -> None:
    out = write_predictions(tmp_path / "p.csv.gz", None, [0.1, 0.2], [0.01, 0.02], {})
    back = pd.read_csv(out)
    assert list(back.columns) == ["sm_mean", "sm_spread"]
    np.testing.assert_allclose(back["sm_mean"], [0.1, 0.2], atol=1e-7)


def test_write_predictions_errors(tmp_path: Path) -> None:
    meta = pd.DataFrame({"station": ["a", "b"]})
    with pytest.raises(InputError, match="metadata has 2 rows but there are 3"):
        write_predictions(tmp_path / "p.csv", meta, [0.1] * 3, [0.0] * 3, {})
    with pytest.raises(InputError, match="sm_coarse_1_8 has 1 values"):
        write_predictions(tmp_path / "p.csv", meta, [0.1] * 2, [0.0] * 2, {"coarse_1_8": [0.1]})
    with pytest.raises(InputError, match="clash"):
        write_predictions(tmp_path / "p.csv", meta.assign(sm_mean=1), [0.1] * 2, [0.0] * 2)
    with pytest.raises(InputError, match="unknown type"):
        write_predictions(tmp_path / "p.txt", meta, [0.1] * 2, [0.0] * 2)
    assert list(tmp_path.iterdir()) == []


def test_pandas_fallback_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readers, "_BATCH_ROWS", 7)  # several chunks

    def pandas_reader(path: Path, req: bool, role: str, text: frozenset[str]) -> object:
        return readers._pandas_csv_reader(path, req, role)

    monkeypatch.setattr(readers, "_csv_reader", pandas_reader)
    df = make_table(20)
    table = read_samples(save(df, tmp_path / "s.csv"), True, "fine (50 m)")
    np.testing.assert_allclose(
        table.x156, to_model_inputs(df[FEATURES].to_numpy(np.float32)), atol=1e-6
    )
    assert table.y is not None and table.y.shape == (20,)
    assert list(table.meta.columns) == ["network", "station", "r", "c", "date"]
    assert table.meta["station"].tolist() == df["station"].tolist()
    bad = df.assign(gt=df["gt"] * 100)
    with pytest.raises(InputError, match="divide by 100"):
        read_samples(save(bad, tmp_path / "b.csv"), True, "fine (50 m)")
