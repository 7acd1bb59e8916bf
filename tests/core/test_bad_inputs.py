"""The bad-input walk: every CLI command, fed the bad inputs a careful new user produces.

The rule under test: every failure is one ``soilmoisture: error:`` line with status 2 that says
what to do; never a traceback, never an "internal error" (the CLI's last guard, which marks a
defect). The walk enumerates the commands from the parser, so a new command without cases
fails here until it gets some.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.cli import build_parser, main
from core.features.contract import SAMPLE_COLUMNS

FEATURES = list(SAMPLE_COLUMNS)
GOOD_STM = (
    "format_header_values/SMOSMANIA/"
    "SMOSMANIA_SMOSMANIA_Narbonne_sm_0.050000_0.050000_ThetaProbe-ML2X_20070101_20070131.stm"
)
WEST_BBOX = "-97.52,36.59,-97.42,36.69"


def leaf_commands() -> list[tuple[str, ...]]:
    """Every runnable command path: ``("stations",)``, ``("models", "install")``, ..."""
    out: list[tuple[str, ...]] = []

    def walk(parser: argparse.ArgumentParser, prefix: tuple[str, ...]) -> None:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            out.append(prefix)
            return
        for name, sub in subs[0].choices.items():
            walk(sub, (*prefix, name))

    walk(build_parser(), ())
    return out


def _table(n: int = 24, seed: int = 0, label: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(rng.random((n, 153), dtype=np.float32), columns=FEATURES)
    df.insert(0, "network", "SCAN")
    df.insert(1, "station", [f"st{i % 4}" for i in range(n)])
    df["date"] = [f"2020-06-{1 + i // 4:02d}" for i in range(n)]
    if label:
        df["gt"] = rng.uniform(0.05, 0.4, n).astype(np.float32)
    return df


def _zip_with_damaged_member(stm: bytes, path: Path) -> Path:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("net/station.stm", stm)
    data = bytearray(buf.getvalue())
    start = 30 + len("net/station.stm")  # the local header, then the compressed bytes
    for k in range(start + 10, start + 60):
        data[k] ^= 0x5A
    path.write_bytes(bytes(data))
    return path


class World:
    """The bad (and a few good) inputs of the walk, made once per test module."""

    def __init__(self, root: Path, ismn_dir: Path) -> None:
        self.root = root
        stm = (ismn_dir / GOOD_STM).read_bytes()
        self.good_stm = root / "good.stm"
        self.good_stm.write_bytes(stm)
        self.a_file = root / "a_file"
        self.a_file.write_text("not a folder")
        self.station_folder = root / "stations"
        self.station_folder.mkdir()
        shutil.copy(self.good_stm, self.station_folder / "good.stm")
        self.damaged_zip = _zip_with_damaged_member(stm, root / "damaged.zip")
        good_zip = root / "good.zip"
        with zipfile.ZipFile(good_zip, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("a.stm", stm)
        self.truncated_zip = root / "truncated.zip"
        self.truncated_zip.write_bytes(good_zip.read_bytes()[: len(stm) // 40])
        self.random_zip = root / "random.zip"
        self.random_zip.write_bytes(np.random.default_rng(1).bytes(4000))
        self.empty = root / "empty.csv"
        self.empty.write_text("")
        self.binary = root / "binary.stm"
        self.binary.write_bytes(bytes(range(256)) * 50)
        self.decimal_commas = root / "commas.csv"
        self.decimal_commas.write_text(
            "station;lat;lon;timestamp;sm\nA;36,6;-97,4;2020-06-01T00:00;0,25\n"
        )
        self.old_dates = root / "old.csv"
        self.old_dates.write_text(
            "station,lat,lon,timestamp,sm,depth\nA,36.6,-97.4,1700-06-01T00:00,0.25,-5\n"
        )
        self.negative_depth = root / "negative_depth.stm"
        self.negative_depth.write_text(
            "ISMN SCAN Site 36.64 -97.47 300.0 -5.00 -4.95 Probe\n2020/06/01 12:00 0.25 G M\n"
        )
        self.ismn_1700 = root / "ismn_1700.stm"
        self.ismn_1700.write_text(
            "ISMN SCAN Site 36.64 -97.47 300.0 0.00 0.05 Probe\n1700/06/01 12:00 0.25 G M\n"
        )
        self.samples = root / "samples.csv"
        _table().to_csv(self.samples, index=False)
        self.unlabelled = root / "unlabelled.csv"
        _table(label=False).to_csv(self.unlabelled, index=False)
        self.header_only = root / "header_only.csv"
        self.header_only.write_text(",".join(FEATURES) + ",gt\n")
        self.garbage_table = root / "garbage.csv"
        self.garbage_table.write_text("a,b\n1,2\nx,y,z,w\n")
        pred = _table(label=False)[["network", "station", "date"]].copy()
        pred["sm_mean"] = np.linspace(0.1, 0.3, len(pred))
        self.pred = root / "pred.csv"
        pred.to_csv(self.pred, index=False)
        text = pred.copy()
        text["sm_mean"] = text["sm_mean"].astype(object)
        text.loc[3, "sm_mean"] = "wet"
        self.pred_text = root / "pred_text.csv"
        text.to_csv(self.pred_text, index=False)
        percent = pred.assign(sm_mean=pred["sm_mean"] * 100)
        self.pred_percent = root / "pred_percent.csv"
        percent.to_csv(self.pred_percent, index=False)
        disagree = pred.copy()
        disagree["station"] = disagree["station"].iloc[::-1].to_numpy()
        disagree["date"] = "2019-01-01"
        self.pred_disagree = root / "pred_disagree.csv"
        disagree.to_csv(self.pred_disagree, index=False)
        self.pred_short = root / "pred_short.csv"
        pred.iloc[:5].drop(columns=["station", "date", "network"]).to_csv(
            self.pred_short, index=False
        )
        self.not_a_tif = root / "map.tif"
        self.not_a_tif.write_text("not a GeoTIFF")
        self.jobs_bad = root / "jobs.csv"
        self.jobs_bad.write_text("name,aoi\nonly,1,2,3\n")
        self.jobs_yaml = root / "jobs.yaml"
        self.jobs_yaml.write_text("- name: [unclosed\n")
        self.models_junk = root / "models_junk"
        self.models_junk.mkdir()
        (self.models_junk / "coarse_1_8.pt").write_bytes(b"not torch")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, ismn_dir: Path) -> World:
    return World(tmp_path_factory.mktemp("world"), ismn_dir)


Case = tuple[str, Callable[[World], list[str]], bool]
"""(label, argv builder, must fail)."""

CASES: list[Case] = [
    # -- models
    ("install from nothing", lambda w: ["models", "install", "--from", str(w.root / "no")], True),
    ("install from a file", lambda w: ["models", "install", "--from", str(w.a_file)], True),
    ("install junk folder", lambda w: ["models", "install", "--from", str(w.models_junk)], True),
    ("install random zip", lambda w: ["models", "install", "--from", str(w.random_zip)], True),
    (
        "install bad name",
        lambda w: ["models", "install", "--from", str(w.random_zip), "--name", "../x"],
        True,
    ),
    ("list (empty store)", lambda w: ["models", "list"], False),
    ("remove unknown", lambda w: ["models", "remove", "nope"], True),
    ("remove path", lambda w: ["models", "remove", "../../etc"], True),
    # -- sample tables
    (
        "predict missing",
        lambda w: ["predict", "--samples", str(w.root / "no.csv"), "--out", str(w.root / "p.csv")],
        True,
    ),
    (
        "predict out through file",
        lambda w: ["predict", "--samples", str(w.samples), "--out", str(w.a_file / "p.csv")],
        True,
    ),
    (
        "predict out xlsx",
        lambda w: ["predict", "--samples", str(w.samples), "--out", str(w.root / "p.xlsx")],
        True,
    ),
    (
        "predict out is folder",
        lambda w: ["predict", "--samples", str(w.samples), "--out", str(w.station_folder)],
        True,
    ),
    (
        "predict garbage",
        lambda w: ["predict", "--samples", str(w.garbage_table), "--out", str(w.root / "p.csv")],
        True,
    ),
    (
        "predict junk models",
        lambda w: [
            "predict",
            "--samples",
            str(w.samples),
            "--out",
            str(w.root / "p.csv"),
            "--models",
            str(w.models_junk),
        ],
        True,
    ),
    (
        "adapt out is file",
        lambda w: [
            "adapt",
            "--fine",
            str(w.samples),
            "--method",
            "finetune",
            "--out",
            str(w.a_file),
        ],
        True,
    ),
    (
        "adapt out exists",
        lambda w: [
            "adapt",
            "--fine",
            str(w.samples),
            "--method",
            "finetune",
            "--out",
            str(w.station_folder),
        ],
        True,
    ),
    (
        "pretrain out exists",
        lambda w: ["pretrain", "--coarse", str(w.samples), "--out", str(w.station_folder)],
        True,
    ),
    (
        "adapt missing coarse",
        lambda w: ["adapt", "--fine", str(w.samples), "--out", str(w.root / "ad")],
        True,
    ),
    (
        "adapt header only",
        lambda w: [
            "adapt",
            "--fine",
            str(w.header_only),
            "--method",
            "finetune",
            "--out",
            str(w.root / "ad"),
        ],
        True,
    ),
    (
        "adapt bad beta",
        lambda w: [
            "adapt",
            "--fine",
            str(w.samples),
            "--method",
            "finetune",
            "--beta",
            "lots",
            "--out",
            str(w.root / "ad"),
        ],
        True,
    ),
    (
        "adapt negative epochs",
        lambda w: [
            "adapt",
            "--fine",
            str(w.samples),
            "--method",
            "finetune",
            "--epochs",
            "-3",
            "--out",
            str(w.root / "ad"),
        ],
        True,
    ),
    (
        "pretrain unlabelled",
        lambda w: ["pretrain", "--coarse", str(w.unlabelled), "--out", str(w.root / "pt")],
        True,
    ),
    (
        "pretrain out is file",
        lambda w: ["pretrain", "--coarse", str(w.samples), "--out", str(w.a_file)],
        True,
    ),
    (
        "evaluate column nope",
        lambda w: [
            "evaluate",
            "--samples",
            str(w.samples),
            "--pred",
            str(w.pred),
            "--column",
            "nope",
        ],
        True,
    ),
    (
        "evaluate text",
        lambda w: ["evaluate", "--samples", str(w.samples), "--pred", str(w.pred_text)],
        True,
    ),
    (
        "evaluate percent",
        lambda w: ["evaluate", "--samples", str(w.samples), "--pred", str(w.pred_percent)],
        True,
    ),
    (
        "evaluate disagreeing keys",
        lambda w: ["evaluate", "--samples", str(w.samples), "--pred", str(w.pred_disagree)],
        True,
    ),
    (
        "evaluate row count",
        lambda w: ["evaluate", "--samples", str(w.samples), "--pred", str(w.pred_short)],
        True,
    ),
    (
        "evaluate unlabelled",
        lambda w: ["evaluate", "--samples", str(w.unlabelled), "--pred", str(w.pred)],
        True,
    ),
    (
        "evaluate json through file",
        lambda w: [
            "evaluate",
            "--samples",
            str(w.samples),
            "--pred",
            str(w.pred),
            "--json",
            str(w.a_file / "m.json"),
        ],
        True,
    ),
    (
        "evaluate pred is folder",
        lambda w: ["evaluate", "--samples", str(w.samples), "--pred", str(w.station_folder)],
        True,
    ),
    # -- stations
    (
        "stations damaged zip",
        lambda w: ["stations", str(w.damaged_zip), "--out", str(w.root / "d.csv")],
        True,
    ),
    (
        "stations truncated zip",
        lambda w: ["stations", str(w.truncated_zip), "--out", str(w.root / "d.csv")],
        True,
    ),
    (
        "stations random zip",
        lambda w: ["stations", str(w.random_zip), "--out", str(w.root / "d.csv")],
        True,
    ),
    (
        "stations damaged + good",
        lambda w: ["stations", str(w.damaged_zip), str(w.good_stm), "--out", str(w.root / "d.csv")],
        False,
    ),
    ("stations empty", lambda w: ["stations", str(w.empty), "--out", str(w.root / "d.csv")], True),
    (
        "stations binary",
        lambda w: ["stations", str(w.binary), "--out", str(w.root / "d.csv")],
        True,
    ),
    (
        "stations decimal commas",
        lambda w: ["stations", str(w.decimal_commas), "--out", str(w.root / "d.csv")],
        False,
    ),
    (
        "stations year 1700 depth -5",
        lambda w: ["stations", str(w.old_dates), "--out", str(w.root / "d.csv")],
        True,
    ),
    (
        "stations ismn depth -5",
        lambda w: ["stations", str(w.negative_depth), "--out", str(w.root / "d.csv")],
        True,
    ),
    (
        "stations ismn year 1700",
        lambda w: ["stations", str(w.ismn_1700), "--out", str(w.root / "d.csv")],
        True,
    ),
    (
        "stations endless device",
        lambda w: ["stations", os.devnull.replace("null", "zero"), "--out", str(w.root / "d.csv")],
        True,
    ),
    (
        "stations out through file",
        lambda w: ["stations", str(w.good_stm), "--out", str(w.a_file / "d.csv")],
        True,
    ),
    (
        "stations out is folder",
        lambda w: ["stations", str(w.good_stm), "--out", str(w.station_folder)],
        True,
    ),
    (
        "stations out txt",
        lambda w: ["stations", str(w.good_stm), "--out", str(w.root / "d.txt")],
        True,
    ),
    (
        "stations west aoi",
        lambda w: ["stations", str(w.good_stm), "--aoi", WEST_BBOX, "--out", str(w.root / "d.csv")],
        True,
    ),
    (
        "stations same file twice",
        lambda w: ["stations", str(w.good_stm), str(w.good_stm), "--out", str(w.root / "d2.csv")],
        False,
    ),
    (
        "stations aoi garbage",
        lambda w: ["stations", str(w.good_stm), "--aoi", "1,2,3", "--out", str(w.root / "d.csv")],
        True,
    ),
    # -- inputs
    (
        "s1-dates reversed",
        lambda w: [
            "s1-dates",
            "--aoi",
            WEST_BBOX,
            "--start",
            "2020-06-01",
            "--end",
            "2020-01-01",
            "--source",
            "demo",
        ],
        True,
    ),
    (
        "s1-dates bad source",
        lambda w: [
            "s1-dates",
            "--aoi",
            WEST_BBOX,
            "--start",
            "2020-01-01",
            "--end",
            "2020-02-01",
            "--source",
            "nope",
        ],
        True,
    ),
    (
        "s1-dates huge aoi",
        lambda w: [
            "s1-dates",
            "--aoi",
            "-110,30,-90,45",
            "--start",
            "2020-01-01",
            "--end",
            "2020-02-01",
            "--source",
            "demo",
        ],
        True,
    ),
    (
        "s1-dates offline gee",
        lambda w: [
            "s1-dates",
            "--aoi",
            WEST_BBOX,
            "--start",
            "2020-01-01",
            "--end",
            "2020-02-01",
            "--offline",
        ],
        False,
    ),
    ("ee-check missing key", lambda w: ["ee-check", "--key-file", str(w.root / "no.json")], True),
    ("ee-check key not json", lambda w: ["ee-check", "--key-file", str(w.a_file)], True),
    ("ee-check bad date", lambda w: ["ee-check", "--date", "2020-13-40"], True),
    ("ee-check western lonlat", lambda w: ["ee-check", "--lonlat", "-97.5,36.6"], False),
    ("ee-check lonlat words", lambda w: ["ee-check", "--lonlat", "abc"], True),
    ("cache info", lambda w: ["cache", "info"], False),
    ("cache clear", lambda w: ["cache", "clear"], False),
    # -- mapping
    (
        "adapt-map out is file",
        lambda w: [
            "adapt-map",
            "--aoi",
            WEST_BBOX,
            "--stations",
            str(w.good_stm),
            "--date",
            "2020-08-31",
            "--out",
            str(w.a_file),
            "--source",
            "demo",
        ],
        True,
    ),
    (
        "adapt-map maps is file",
        lambda w: [
            "adapt-map",
            "--aoi",
            WEST_BBOX,
            "--stations",
            str(w.good_stm),
            "--date",
            "2020-08-31",
            "--out",
            str(_run_dir_with_file_maps(w)),
            "--source",
            "demo",
        ],
        True,
    ),
    (
        "adapt-map missing stations",
        lambda w: [
            "adapt-map",
            "--aoi",
            WEST_BBOX,
            "--stations",
            str(w.root / "none.stm"),
            "--date",
            "2020-08-31",
            "--out",
            str(w.root / "r"),
            "--source",
            "demo",
        ],
        True,
    ),
    (
        "adapt-map year 1700",
        lambda w: [
            "adapt-map",
            "--aoi",
            WEST_BBOX,
            "--stations",
            str(w.good_stm),
            "--date",
            "1700-01-01",
            "--out",
            str(w.root / "r"),
            "--source",
            "demo",
        ],
        True,
    ),
    (
        "adapt-map bad date",
        lambda w: [
            "adapt-map",
            "--aoi",
            WEST_BBOX,
            "--stations",
            str(w.good_stm),
            "--date",
            "2020-13-40",
            "--out",
            str(w.root / "r"),
        ],
        True,
    ),
    (
        "adapt-map train reversed",
        lambda w: [
            "adapt-map",
            "--aoi",
            WEST_BBOX,
            "--stations",
            str(w.good_stm),
            "--date",
            "2020-08-31",
            "--train-start",
            "2020-08-01",
            "--train-end",
            "2020-01-01",
            "--out",
            str(w.root / "r"),
            "--source",
            "demo",
        ],
        True,
    ),
    (
        "adapt-map unknown models",
        lambda w: [
            "adapt-map",
            "--aoi",
            WEST_BBOX,
            "--stations",
            str(w.good_stm),
            "--date",
            "2020-08-31",
            "--models",
            "nope",
            "--out",
            str(w.root / "r"),
            "--source",
            "demo",
        ],
        True,
    ),
    (
        "adapt-map stations outside",
        lambda w: [
            "adapt-map",
            "--aoi",
            WEST_BBOX,
            "--stations",
            str(w.station_folder),
            "--date",
            "2020-08-31",
            "--out",
            str(w.root / "r"),
            "--source",
            "demo",
            "--models",
            _installed(w),
        ],
        True,
    ),
    (
        "adapt-map damaged zip",
        lambda w: [
            "adapt-map",
            "--aoi",
            WEST_BBOX,
            "--stations",
            str(w.damaged_zip),
            "--date",
            "2020-08-31",
            "--out",
            str(w.root / "r"),
            "--source",
            "demo",
            "--models",
            _installed(w),
        ],
        True,
    ),
    (
        "adapt-map aoi nonsense",
        lambda w: [
            "adapt-map",
            "--aoi",
            "somewhere",
            "--stations",
            str(w.good_stm),
            "--date",
            "2020-08-31",
            "--out",
            str(w.root / "r"),
        ],
        True,
    ),
    ("demo out is file", lambda w: ["demo", "--out", str(w.a_file)], True),
    ("demo out through file", lambda w: ["demo", "--out", str(w.a_file / "x")], True),
    ("demo unknown models", lambda w: ["demo", "--out", str(w.root / "dm"), "--models", "x"], True),
    (
        "map unknown ensemble",
        lambda w: [
            "map",
            "--ensemble",
            str(w.root / "none"),
            "--aoi",
            WEST_BBOX,
            "--date",
            "2020-08-31",
            "--out",
            str(w.root / "m"),
            "--source",
            "demo",
        ],
        True,
    ),
    (
        "map out is file",
        lambda w: [
            "map",
            "--ensemble",
            _installed(w),
            "--aoi",
            WEST_BBOX,
            "--date",
            "2020-08-31",
            "--out",
            str(w.a_file),
            "--source",
            "demo",
        ],
        True,
    ),
    (
        "validate not a tif",
        lambda w: ["validate", "--raster", str(w.not_a_tif), "--stations", str(w.good_stm)],
        True,
    ),
    (
        "validate missing raster",
        lambda w: ["validate", "--raster", str(w.root / "no.tif"), "--stations", str(w.good_stm)],
        True,
    ),
    (
        "validate out is file",
        lambda w: [
            "validate",
            "--raster",
            str(w.not_a_tif),
            "--stations",
            str(w.good_stm),
            "--out",
            str(w.a_file),
        ],
        True,
    ),
    (
        "batch missing",
        lambda w: ["batch", str(w.root / "no.csv"), "--out", str(w.root / "b")],
        True,
    ),
    ("batch bad csv", lambda w: ["batch", str(w.jobs_bad), "--out", str(w.root / "b")], True),
    ("batch bad yaml", lambda w: ["batch", str(w.jobs_yaml), "--out", str(w.root / "b")], True),
    ("batch out is file", lambda w: ["batch", str(w.jobs_bad), "--out", str(w.a_file)], True),
]


def _installed(w: World) -> str:
    """Install the published set once (in the module's store) and return its name."""
    from core.model import store

    if not (store.models_dir() / store.DEFAULT_NAME).exists():
        from tests.conftest import PRETRAINED_DIR

        if not (PRETRAINED_DIR / "SHA256SUMS").exists():
            pytest.skip("published weights not available")
        store.install(PRETRAINED_DIR)
    return store.DEFAULT_NAME


def _run_dir_with_file_maps(w: World) -> Path:
    run = w.root / "run_with_file_maps"
    run.mkdir(exist_ok=True)
    (run / "maps").write_text("a file where the maps folder goes")
    return run


GENERIC: list[tuple[str, Callable[[tuple[str, ...]], list[str]]]] = [
    ("no arguments", lambda cmd: list(cmd)),
    ("unknown option", lambda cmd: [*cmd, "--no-such-option"]),
]


def _check(argv: list[str], must_fail: bool, capsys: pytest.CaptureFixture[str]) -> str:
    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse
        rc = int(exc.code or 0)
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert "Traceback" not in text, text
    assert "internal error" not in text, text
    if rc not in (0, 1):  # 1: a command group printed its help
        assert rc == 2, (rc, text)
        assert "soilmoisture: error:" in captured.err, text
    if must_fail:
        assert rc == 2, (rc, text)
    return captured.err


@pytest.mark.parametrize("label,build,must_fail", CASES, ids=[c[0] for c in CASES])
def test_walk(
    label: str,
    build: Callable[[World], list[str]],
    must_fail: bool,
    world: World,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _check(build(world), must_fail, capsys)


@pytest.mark.parametrize("command", leaf_commands(), ids=" ".join)
@pytest.mark.parametrize("kind", [g[0] for g in GENERIC])
def test_generic_bad_arguments(
    command: tuple[str, ...], kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    build = dict(GENERIC)[kind]
    if kind == "no arguments" and command in (
        ("models", "list"),
        ("cache", "info"),
        ("cache", "clear"),
    ):
        pytest.skip("needs no arguments")
    _check(build(command), True, capsys)


def test_every_command_has_cases(world: World) -> None:
    covered = set()
    for _, build, _ in CASES:
        argv = build(world)
        covered.add(tuple(argv[:2]) if argv[0] in ("models", "cache") else (argv[0],))
    missing = [c for c in leaf_commands() if c not in covered]
    assert not missing, f"commands without bad-input cases: {missing}"


def test_messages_say_what_to_do(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    err = _check(
        ["stations", str(world.damaged_zip), "--out", str(world.root / "d.csv")], True, capsys
    )
    assert "damaged" in err  # the reason is not dropped
    err = _check(
        ["evaluate", "--samples", str(world.samples), "--pred", str(world.pred_percent)],
        True,
        capsys,
    )
    assert "--pred-unit %" in err
    err = _check(
        ["stations", str(world.good_stm), "--out", str(world.a_file / "d.csv")], True, capsys
    )
    assert "is a file, not a folder" in err


def test_evaluate_aligns_by_key_and_says_so(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pred = pd.read_csv(world.pred)
    samples = pd.read_csv(world.samples)
    unique = samples.assign(row_id=range(len(samples)))
    unique.to_csv(tmp_path / "s.csv", index=False)
    shuffled = pred.assign(row_id=range(len(pred))).iloc[::-1]
    shuffled.to_csv(tmp_path / "p.csv", index=False)
    pred.assign(row_id=range(len(pred))).to_csv(tmp_path / "p_in_order.csv", index=False)
    assert (
        main(
            [
                "evaluate",
                "--samples",
                str(tmp_path / "s.csv"),
                "--pred",
                str(tmp_path / "p.csv"),
                "--json",
                str(tmp_path / "m.json"),
            ]
        )
        == 0
    )
    reversed_out = capsys.readouterr().out
    assert "aligned to the samples by" in reversed_out and "row_id" in reversed_out
    assert (
        main(
            [
                "evaluate",
                "--samples",
                str(tmp_path / "s.csv"),
                "--pred",
                str(tmp_path / "p_in_order.csv"),
            ]
        )
        == 0
    )
    in_order_out = capsys.readouterr().out
    metrics = [ln for ln in reversed_out.splitlines() if ln.strip().startswith("rmse")]
    assert metrics == [ln for ln in in_order_out.splitlines() if ln.strip().startswith("rmse")]
    with_nan = pred.assign(row_id=range(len(pred)))
    with_nan.loc[2, "sm_mean"] = np.nan
    with_nan.to_csv(tmp_path / "p_nan.csv", index=False)
    assert (
        main(
            [
                "evaluate",
                "--samples",
                str(tmp_path / "s.csv"),
                "--pred",
                str(tmp_path / "p_nan.csv"),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "1 rows without a prediction (NaN) left out" in out
    assert "pooled over 23 samples" in out


def test_tampered_models_flag_out_of_range_predictions(
    world: World, pretrained_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.core.model.test_store import _tampered_copy

    tampered = _tampered_copy(pretrained_dir, tmp_path / "tampered")
    out = tmp_path / "pred.csv"
    assert (
        main(
            [
                "predict",
                "--samples",
                str(world.samples),
                "--out",
                str(out),
                "--models",
                str(tampered),
            ]
        )
        == 0
    )
    err = capsys.readouterr().err
    assert "MODIFIED" in err
    table = pd.read_csv(out)
    bad = (table["sm_mean"] < -0.05) | (table["sm_mean"] > 0.8)
    assert bad.any()  # the scaled weights push predictions out of range ...
    assert "outside the physical range" in err  # ... which is said, not written silently
    assert table["sm_out_of_range"].tolist() == bad.tolist()


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into read-only folders")
def test_read_only_output_folder(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    ro = world.root / "ro"
    ro.mkdir(exist_ok=True)
    ro.chmod(0o555)
    try:
        for argv in (
            ["stations", str(world.good_stm), "--out", str(ro / "d.csv")],
            ["predict", "--samples", str(world.samples), "--out", str(ro / "p.csv")],
            ["demo", "--out", str(ro / "demo")],
        ):
            _check(argv, True, capsys)
    finally:
        ro.chmod(0o755)


def test_physical_range_flags() -> None:
    from core.outputs.metrics import outside_physical_range, physical_range_note

    values = np.array([0.1, -0.2, np.nan, 0.79, 1e14])
    assert outside_physical_range(values).tolist() == [False, True, False, False, True]
    note = physical_range_note(values, "map 2020-08-31")
    assert note is not None and "2 of 4 values" in note and "-0.05..0.8" in note
    assert physical_range_note(np.array([0.2, np.nan]), "x") is None


def test_western_longitudes_are_written_west() -> None:
    from core.run.stations import _lat_lon_text

    assert _lat_lon_text(36.64, -97.47) == "36.6400 N, 97.4700 W"
    assert _lat_lon_text(-33.9, 18.4) == "33.9000 S, 18.4000 E"


def test_western_bbox_is_a_value_not_an_option(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _check(
        ["stations", str(world.good_stm), "--aoi", WEST_BBOX, "--out", str(world.root / "w.csv")],
        True,
        capsys,
    )
    assert "expected one argument" not in err
    assert "lies outside the AOI" in err  # the bbox was parsed: the French station is outside
    err = _check(
        [
            "stations",
            str(world.good_stm),
            "--aoi",
            "-97.52,36.59,-97.42,36.69@EPSG:4326",
            "--out",
            str(world.root / "w.csv"),
        ],
        True,
        capsys,
    )
    assert "lies outside the AOI" in err


def test_same_file_twice_is_read_once(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    err = _check(
        [
            "stations",
            str(world.good_stm),
            str(world.good_stm),
            "--out",
            str(world.root / "twice.csv"),
        ],
        False,
        capsys,
    )
    assert "given more than once; read once" in err
    assert "duplicate timestamp" not in err


@pytest.mark.parametrize(
    "command",
    [
        ["adapt", "--fine", "f.csv", "--out", "ad"],
        ["demo", "--out", "demo"],
        [
            "adapt-map",
            "--aoi",
            WEST_BBOX,
            "--stations",
            "s.csv",
            "--date",
            "2020-08-31",
            "--out",
            "o",
        ],
    ],
)
def test_every_adapting_command_takes_the_batchnorm_choice(command, capsys):
    parser = build_parser()
    # sample tables reproduce the method as published; runs default to the pretrained statistics
    default = "batch" if command[0] == "adapt" else "pretrained"
    other = "pretrained" if default == "batch" else "batch"
    assert parser.parse_args(command).batchnorm == default
    assert parser.parse_args([*command, "--batchnorm", other]).batchnorm == other
    with pytest.raises(SystemExit):
        parser.parse_args([*command, "--batchnorm", "off"])
    assert "invalid choice: 'off'" in capsys.readouterr().err
    if command[0] == "adapt":
        return
    assert parser.parse_args(command).consistency == 16.0
    assert parser.parse_args([*command, "--consistency", "0"]).consistency == 0.0
    for bad in ("-1", "lots", "inf"):
        with pytest.raises(SystemExit):
            parser.parse_args([*command, "--consistency", bad])
        assert "consistency" in capsys.readouterr().err
