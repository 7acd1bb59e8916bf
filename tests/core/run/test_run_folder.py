"""Run folders: consistent at every instant, cleaned after a killed run, inputs of any kind hashed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from core.atomic import RUN_LOCK, check_output_dir, check_output_file, clean_debris, run_folder
from core.cli import main
from core.errors import InputError
from core.inputs.sources.demo import write_demo_stations
from core.run.provenance import input_record

REPO = Path(__file__).resolve().parents[3]
# three 1 x 1 km squares around demo stations (as in test_adapt_map): a quick run
SITES = ((-97.48055, 36.66711), (-97.45047, 36.64861), (-97.42298, 36.62575))
SMALL_AOI = (
    "MULTIPOLYGON ("
    + ", ".join(
        f"(({x - 0.0056} {y - 0.0045}, {x + 0.0056} {y - 0.0045}, {x + 0.0056} {y + 0.0045}, "
        f"{x - 0.0056} {y + 0.0045}, {x - 0.0056} {y - 0.0045}))"
        for x, y in SITES
    )
    + ")"
)


def _run_args(stations: Path, out: Path) -> list[str]:
    return [
        "adapt-map",
        "--aoi",
        SMALL_AOI,
        "--stations",
        str(stations),
        "--date",
        "2020-08-31",
        "--out",
        str(out),
        "--source",
        "demo",
        "--epochs",
        "1",
        "--epoch-steps",
        "1",
        "--batchnorm",
        "pretrained",
        "--train-start",
        "2020-06-01",
        "--max-target-cells",
        "3000",
        "--no-cv",
        "--no-baselines",
    ]


def _listed_paths(outputs: dict, root: Path) -> list[Path]:
    paths: list[Path] = []
    for value in outputs.values():
        if isinstance(value, dict):
            paths += _listed_paths(value, root)
        elif value is not None:
            paths.append(root / str(value))
    return paths


def _debris(root: Path) -> list[Path]:
    return [
        p
        for p in root.rglob(".*")
        if p.name.endswith(".part")
        or p.name.startswith(".report-")
        or ".old-" in p.name
        or p.name == RUN_LOCK
    ]


def test_killed_run_then_rerun_leaves_a_clean_consistent_folder(
    pretrained_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["models", "install", "--from", str(pretrained_dir)]) == 0
    stations = tmp_path / "stations"
    write_demo_stations(stations, seed=0)  # a folder of station files, as the README allows
    out = tmp_path / "run"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    cmd = [sys.executable, "-c", "import sys; from core.cli import main; sys.exit(main())"]
    proc = subprocess.Popen(
        cmd + _run_args(stations, out),
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:  # kill it hard once it has started writing into the folder
        deadline = time.monotonic() + 300
        while proc.poll() is None and time.monotonic() < deadline:
            if (out / "maps").exists():  # adapted, now writing the maps
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    # and what any kill may leave: temporary files, a staging folder, a stale lock, a manifest
    # of an earlier run that describes outputs about to be replaced
    out.mkdir(exist_ok=True)
    (out / "maps").mkdir(exist_ok=True)
    (out / "maps" / ".sm_2020-08-31.tif.abc123.tif.part").write_bytes(b"half a GeoTIFF")
    (out / "report" / ".report-xyz").mkdir(parents=True)
    (out / "report" / ".report-xyz" / "scatter.png").write_bytes(b"png")
    (out / ".saving-ensemble.q1w2.part").mkdir()
    (out / RUN_LOCK).write_text("999999999")  # a process that no longer exists
    (out / "manifest.json").write_text(json.dumps({"outputs": {"maps": {"x": "maps/gone.tif"}}}))

    capsys.readouterr()
    assert main(_run_args(stations, out)) == 0, capsys.readouterr().err
    assert _debris(out) == []
    manifest = json.loads((out / "manifest.json").read_text())
    listed = _listed_paths(manifest["outputs"], out)
    assert listed and all(p.exists() for p in listed)
    assert any(p.suffix == ".tif" for p in listed)
    assert not (out / "maps" / "gone.tif").exists() and "gone" not in json.dumps(manifest)
    assert manifest["outputs"]["report"]["json"]
    assert manifest["batchnorm"] == "pretrained"  # the CLI's choice reached the run
    record = manifest["station_files"][0]
    assert record["kind"] == "folder" and record["files"] >= 3 and len(record["sha256"]) == 64


def test_run_folder_refuses_a_second_live_run(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (folder / RUN_LOCK).write_text(str(child.pid))  # another process's live run holds it
        with pytest.raises(InputError, match=f"another run \\(process {child.pid}\\)"):
            with run_folder(folder):
                pass
        assert (folder / RUN_LOCK).read_text() == str(child.pid)  # its lock is left alone
    finally:
        child.kill()
        child.wait()
    with run_folder(folder):  # the process is gone: its lock is a killed run's
        assert (folder / RUN_LOCK).read_text() == str(os.getpid())
    assert not (folder / RUN_LOCK).exists()


def test_run_folder_refuses_a_second_run_of_the_same_process(tmp_path: Path) -> None:
    """QGIS runs every dock and Processing task in one process: a lock with our pid is live."""
    with run_folder(tmp_path / "out") as folder:
        part = folder / "maps" / ".sm.tif.x.tif.part"  # the first run writing a map
        part.parent.mkdir()
        part.write_text("x")
        with pytest.raises(InputError, match="another run of this session"):
            with run_folder(tmp_path / "out"):
                pass
        assert part.exists() and (folder / RUN_LOCK).read_text() == str(os.getpid())
    assert not (tmp_path / "out" / RUN_LOCK).exists()
    (tmp_path / "out" / RUN_LOCK).write_text(str(os.getpid()))  # a killed earlier process
    with run_folder(tmp_path / "out"):  # with our recycled pid is stale, not live
        pass


def test_clean_debris_touches_only_temporary_names(tmp_path: Path) -> None:
    keep = [tmp_path / "maps" / "sm.tif", tmp_path / ".hidden_user_file", tmp_path / "a.part"]
    gone = [tmp_path / "maps" / ".sm.tif.x.tif.part", tmp_path / "report" / ".report-1"]
    for p in keep + gone:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("x")
    removed = clean_debris(tmp_path)
    assert sorted(removed) == sorted(gone)
    assert all(p.exists() for p in keep) and not any(p.exists() for p in gone)


def test_input_records_for_files_folders_and_zips(tmp_path: Path) -> None:
    folder = tmp_path / "f"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.stm").write_text("a")
    (folder / "sub" / "b.csv").write_text("b")
    archive = tmp_path / "s.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(folder / "a.stm", "a.stm")
    rec_folder = input_record(folder)
    assert rec_folder["kind"] == "folder" and rec_folder["files"] == 2
    copy = tmp_path / "g"
    (copy / "sub").mkdir(parents=True)
    (copy / "a.stm").write_text("a")
    (copy / "sub" / "b.csv").write_text("b")
    assert input_record(copy)["sha256"] == rec_folder["sha256"]  # content, not location
    (copy / "sub" / "b.csv").write_text("changed")
    assert input_record(copy)["sha256"] != rec_folder["sha256"]
    assert input_record(archive)["kind"] == "zip"
    assert input_record(folder / "a.stm")["kind"] == "file"
    assert input_record(tmp_path / "vanished.csv")["sha256"] is None


def test_output_checks(tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(InputError, match="is an existing file"):
        check_output_dir(a_file)
    with pytest.raises(InputError, match="runs through"):
        check_output_dir(a_file / "out")
    with pytest.raises(InputError, match="runs through"):
        check_output_file(a_file / "x.csv", (".csv",))
    with pytest.raises(InputError, match="must end with"):
        check_output_file(tmp_path / "x.xlsx", (".csv", ".parquet"))
    with pytest.raises(InputError, match="existing folder"):
        (tmp_path / "d.csv").mkdir()
        check_output_file(tmp_path / "d.csv", (".csv",))
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "maps").write_text("not a folder")
    with pytest.raises(InputError, match="is a file"):
        check_output_dir(tmp_path / "run", subfolders=("maps",))
    assert check_output_file(tmp_path / "new" / "x.csv.gz", (".csv", ".csv.gz")).name == "x.csv.gz"


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into read-only folders")
def test_read_only_folder_is_refused_before_work(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        with pytest.raises(InputError, match="cannot write"):
            check_output_dir(ro / "out")
        with pytest.raises(InputError, match="cannot write"):
            check_output_file(ro / "x.csv", (".csv",))
    finally:
        ro.chmod(0o755)
