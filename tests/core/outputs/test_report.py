"""Tests of core.outputs.report: charts are real PNGs, the report carries the numbers, writing is atomic."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.errors import InputError
from core.outputs import metrics as m
from core.outputs import report as r
from core.outputs.report import charts


def _png_size(path: Path) -> tuple[int, int]:
    """Width and height from the IHDR chunk; fails on anything that is not a PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.fixture(scope="module")
def pairs() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frames = []
    dates = pd.date_range("2021-05-01", periods=30)
    for i in range(3):
        obs = 0.15 + 0.07 * i + 0.04 * np.sin(np.arange(30) / 5) + rng.normal(0, 0.01, 30)
        frames.append(
            pd.DataFrame(
                {
                    "station": f"ST{i}",
                    "date": dates,
                    "obs": obs,
                    "smap_9km": obs.mean() + 0.02 * np.sin(np.arange(30) / 5),
                    "pretrained": obs + 0.08 + rng.normal(0, 0.03, 30),
                    "adapted": obs + rng.normal(0, 0.02, 30),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def method_metrics(pairs: pd.DataFrame) -> dict[str, m.MetricsReport]:
    return {
        "adapted (LOSO CV)": m.evaluate(pairs, pred="adapted"),
        "pretrained": m.evaluate(pairs, pred="pretrained"),
    }


SUMMARY = {
    "aoi": "POLYGON((-97 36, -96.9 36, -96.9 36.1, -97 36))",
    "dates": ["2021-05-01", "2021-05-30"],
    "method": "MSDA",
    "alpha": 0.5,
    "alpha_reason": "few stations (1-5): 0.5 was better than 0.7 in the 2025 paper",
    "beta": 0.0123,
    "stations": ["ST0", "ST1", "ST2"],
}


def _write(
    out: Path, pairs: pd.DataFrame, mets: dict[str, m.MetricsReport], **kw: object
) -> r.ReportPaths:
    args: dict[str, object] = {
        "title": "Validation of run 42",
        "summary": SUMMARY,
        "metrics": mets,
        "pairs": pairs,
        "timeseries": pairs,
        "notes": ["With one station no held-out accuracy can be computed"],
        "share_outside": 0.0125,
        "simulated": True,
    }
    args.update(kw)
    return r.write_report(out, **args)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def written(
    tmp_path_factory: pytest.TempPathFactory,
    pairs: pd.DataFrame,
    method_metrics: dict[str, m.MetricsReport],
) -> r.ReportPaths:
    out = tmp_path_factory.mktemp("report")
    ramp = np.linspace(0.0, 0.55, 40 * 60).reshape(40, 60)
    ramp[:5, :5] = np.nan
    return _write(out, pairs, method_metrics, map_mean=ramp, map_spread=ramp / 10)


def test_report_files_exist_and_pngs_are_valid(written: r.ReportPaths) -> None:
    assert written.html.name == "report.html" and written.html.is_file()
    assert written.json.is_file()
    assert set(written.pngs) == {
        "scatter_adapted_loso_cv",
        "scatter_pretrained",
        "timeseries",
        "map_mean",
        "map_spread",
    }
    for path in written.pngs.values():
        assert path.parent.name == r.FILES_DIR
        w, h = _png_size(path)
        assert 300 <= w <= 2000 and 300 <= h <= 2000, (path.name, w, h)
    # Nothing half-written or staged is left behind.
    leftovers = [p.name for p in written.html.parent.rglob(".*")]
    assert leftovers == []


def test_html_carries_metrics_banner_summary_and_notes(
    written: r.ReportPaths, method_metrics: dict[str, m.MetricsReport]
) -> None:
    text = written.html.read_text(encoding="utf-8")
    assert "SIMULATED DATA" in text
    assert "Pooled over all samples" in text and "Median over stations" in text
    adapted = method_metrics["adapted (LOSO CV)"]
    assert f"{adapted.pooled['rmse']:.3f}" in text
    assert f"{adapted.pooled_ci['rmse'][0]:.3f}" in text
    assert adapted.station_median is not None
    assert f"{adapted.station_median['rmse']:.3f}" in text
    assert "adapted (LOSO CV)" in text and "pretrained" in text
    assert "ST2" in text  # per-station table
    assert "With one station no held-out accuracy can be computed" in text
    assert "1.25 %" in text  # share outside 0-0.6
    assert "few stations (1-5)" in text and "MSDA" in text
    # Self-contained: every chart embedded.
    assert text.count("data:image/png;base64,") == len(written.pngs)


def test_json_round_trips(
    written: r.ReportPaths, method_metrics: dict[str, m.MetricsReport]
) -> None:
    doc = json.loads(written.json.read_text(encoding="utf-8"))
    assert doc["simulated"] is True
    assert doc["summary"]["alpha"] == 0.5
    assert doc["share_outside_valid_range"] == pytest.approx(0.0125)
    assert doc["valid_range"] == [0.0, 0.6]
    for name, rep in method_metrics.items():
        assert doc["methods"][name] == json.loads(json.dumps(rep.to_dict()))
        back = m.MetricsReport.from_dict(doc["methods"][name])
        assert back.pooled["rmse"] == pytest.approx(rep.pooled["rmse"])
    for rel in doc["charts"].values():
        assert (written.json.parent / rel).is_file()


def test_no_banner_when_real_and_pooled_only_metrics(tmp_path: Path, pairs: pd.DataFrame) -> None:
    pooled_only = {"adapted": m.evaluate(pairs.drop(columns="station"), pred="adapted")}
    paths = _write(
        tmp_path,
        pairs,
        pooled_only,
        simulated=False,
        timeseries=None,
        share_outside=float("nan"),
        notes=[],
    )
    text = paths.html.read_text(encoding="utf-8")
    assert "SIMULATED DATA" not in text
    assert "per-station metrics were not computed" in text
    assert set(paths.pngs) == {"scatter_adapted"}
    doc = json.loads(paths.json.read_text(encoding="utf-8"))
    assert doc["share_outside_valid_range"] is None
    assert doc["methods"]["adapted"]["per_station"] is None


def test_failure_midway_leaves_no_report(
    tmp_path: Path,
    pairs: pd.DataFrame,
    method_metrics: dict[str, m.MetricsReport],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def boom(*args: object, **kwargs: object) -> Path:
        raise RuntimeError("disk full")

    # The scatter charts are drawn first, then the time series fails.
    monkeypatch.setattr(charts, "timeseries_png", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        _write(tmp_path, pairs, method_metrics)
    assert not (tmp_path / "report.html").exists()
    assert not (tmp_path / "report.json").exists()
    assert list(tmp_path.iterdir()) == []  # no staging folder, no half-written chart


def test_failure_keeps_a_previous_report_intact(
    tmp_path: Path,
    pairs: pd.DataFrame,
    method_metrics: dict[str, m.MetricsReport],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    small = pairs.iloc[:20]
    first = _write(tmp_path, small, method_metrics, timeseries=None)
    before = first.html.read_bytes(), first.json.read_bytes()
    png_before = first.pngs["scatter_pretrained"].read_bytes()

    def boom(*args: object, **kwargs: object) -> Path:
        raise KeyboardInterrupt

    monkeypatch.setattr(charts, "map_png", boom)
    with pytest.raises(KeyboardInterrupt):
        _write(
            tmp_path,
            small,
            method_metrics,
            title="second",
            timeseries=None,
            map_mean=np.zeros((4, 4)),
        )
    assert (first.html.read_bytes(), first.json.read_bytes()) == before
    assert first.pngs["scatter_pretrained"].read_bytes() == png_before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_scatter_handles_nan_and_out_of_range(tmp_path: Path) -> None:
    obs = np.array([0.1, 0.2, np.nan, 0.3, 0.4, 0.7])
    pred = np.array([0.12, 0.22, 0.2, np.nan, -0.05, 0.65])
    path = r.scatter_density_png(obs, pred, tmp_path / "s.png", "test")
    assert path == tmp_path / "s.png"
    w, h = _png_size(path)
    assert w > 300 and h > 300
    with pytest.raises(InputError, match="3 observed but 2 predicted"):
        r.scatter_density_png([0.1, 0.2, 0.3], [0.1, 0.2], tmp_path / "bad.png", "bad")
    assert not (tmp_path / "bad.png").exists()


def test_map_and_timeseries_input_checks(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="2-D"):
        r.map_png(np.zeros(5), tmp_path / "m.png")
    with pytest.raises(InputError, match="'variance'"):
        r.map_png(np.zeros((3, 3)), tmp_path / "m.png", kind="variance")
    with pytest.raises(InputError, match="'date'"):
        r.timeseries_png(pd.DataFrame({"obs": [0.1]}), tmp_path / "t.png")
    with pytest.raises(InputError, match="none of the columns"):
        r.timeseries_png(pd.DataFrame({"date": ["2021-01-01"], "x": [0.1]}), tmp_path / "t.png")
    # All-NaN maps still draw (an AOI fully masked is legitimate).
    assert _png_size(r.map_png(np.full((3, 4), np.nan), tmp_path / "nan.png", kind="spread"))


def test_unknown_pair_column_mapping_is_refused(
    tmp_path: Path, pairs: pd.DataFrame, method_metrics: dict[str, m.MetricsReport]
) -> None:
    with pytest.raises(InputError, match="'missing'"):
        _write(
            tmp_path, pairs, method_metrics, timeseries=None, pair_columns={"pretrained": "missing"}
        )
    assert not (tmp_path / "report.html").exists()
