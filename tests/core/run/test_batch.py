from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest

from core.errors import InputError
from core.run.batch import BatchJob, JobResult, format_summary, read_jobs, run_batch, run_job

DEMO_BBOX = "-97.520,36.590,-97.418,36.686"


# -- a tiny job function for fast Dask tests (module level: worker processes import it) ------
def fake_job(job: BatchJob, out_dir: str, torch_threads: int | None = None) -> JobResult:
    """Write one file per job; a job named 'crash' raises inside the worker."""
    if job.name == "crash":
        raise RuntimeError("worker blew up")
    folder = Path(out_dir) / job.slug
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "done.txt").write_text(f"{job.name} pid={os.getpid()} threads={torch_threads}")
    return JobResult(
        name=job.name,
        status="ok",
        out_dir=str(folder),
        maps=[str(folder / "done.txt")],
        rmse=0.05,
        rmse_kind="held out",
        key=job.cache_key(),
    )


@pytest.fixture()
def stations(tmp_path: Path) -> Path:
    p = tmp_path / "inputs" / "s1.csv"
    p.parent.mkdir()
    p.write_text("station,lat,lon,timestamp,sm\nA,36.6,-97.5,2020-01-01T00:00,0.2\n")
    return p


def test_read_csv_jobs(tmp_path: Path, stations: Path) -> None:
    f = tmp_path / "inputs" / "jobs.csv"
    f.write_text(
        "name,aoi,stations,dates,method,alpha,source,epochs,cross_validate\n"
        f'one,"{DEMO_BBOX}",s1.csv,2020-06-01;2020-06-13,msda,0.6,demo,3,no\n'
        f'two,"{DEMO_BBOX}",s1.csv|s1.csv,2020-06-01:2020-07-01,pretrained,,demo,,\n'
    )
    jobs = read_jobs(f, defaults={"epochs": 7})
    assert [j.name for j in jobs] == ["one", "two"]
    one, two = jobs
    assert one.stations == (str(stations.resolve()),)  # relative to the batch file
    assert one.dates == ("2020-06-01", "2020-06-13")
    assert one.alpha == pytest.approx(0.6) and one.epochs == 3 and one.cross_validate is False
    assert two.dates == ("2020-06-01:2020-07-01",)
    assert two.alpha is None and two.epochs == 7 and two.method == "pretrained"
    assert len(two.stations) == 2


def test_read_csv_rejects_bad_rows(tmp_path: Path, stations: Path) -> None:
    f = tmp_path / "inputs" / "jobs.csv"
    f.write_text(f'name,aoi,stations,dates,method\none,"{DEMO_BBOX}",s1.csv,2020-06-01,magic\n')
    with pytest.raises(InputError, match="line 2.*unknown method 'magic'"):
        read_jobs(f)
    f.write_text(f'name,aoi,stations,dates,batchnorm\none,"{DEMO_BBOX}",s1.csv,2020-06-01,off\n')
    with pytest.raises(InputError, match="line 2.*unknown BatchNorm mode 'off'"):
        read_jobs(f)
    f.write_text(f'name,aoi,stations\none,"{DEMO_BBOX}",s1.csv\n')
    with pytest.raises(InputError, match="missing dates"):
        read_jobs(f)
    f.write_text(f'name,aoi,stations,dates,colour\none,"{DEMO_BBOX}",s1.csv,2020-06-01,red\n')
    with pytest.raises(InputError, match="unknown field.*colour"):
        read_jobs(f)
    f.write_text(f'name,aoi,stations,dates\none,"{DEMO_BBOX}",s1.csv,2020-13-01\n')
    with pytest.raises(InputError, match="not a date"):
        read_jobs(f)
    f.write_text(
        f'name,aoi,stations,dates\na b,"{DEMO_BBOX}",s1.csv,2020-06-01\n'
        f'a_b,"{DEMO_BBOX}",s1.csv,2020-06-01\n'
    )
    with pytest.raises(InputError, match="same folder 'a_b'"):
        read_jobs(f)
    with pytest.raises(InputError, match="does not exist"):
        read_jobs(tmp_path / "nope.csv")


def test_read_yaml_jobs_with_defaults(tmp_path: Path, stations: Path) -> None:
    f = tmp_path / "inputs" / "jobs.yaml"
    f.write_text(
        textwrap.dedent(
            f"""
            defaults:
              source: demo
              epochs: 2
            jobs:
              - name: north
                aoi: "{DEMO_BBOX}"
                stations: [s1.csv]
                dates: [2020-06-01, 2020-06-13]
              - name: south
                aoi: "{DEMO_BBOX}"
                stations: s1.csv
                dates: 2020-06-01
                method: ms
                epochs: 4
            """
        )
    )
    north, south = read_jobs(f)
    assert north.source == "demo" and north.epochs == 2
    assert north.dates == ("2020-06-01", "2020-06-13")  # YAML dates become ISO strings
    assert south.method == "ms" and south.epochs == 4 and south.dates == ("2020-06-01",)
    f.write_text("just text")
    with pytest.raises(InputError, match="list of jobs"):
        read_jobs(f)


def test_cache_key_follows_settings_and_file_contents(stations: Path) -> None:
    job = BatchJob(name="x", aoi=DEMO_BBOX, stations=(str(stations),), dates=("2020-06-01",))
    key = job.cache_key()
    assert key.startswith("soilmoisture-x-") and key == job.cache_key()
    other = BatchJob(name="x", aoi=DEMO_BBOX, stations=(str(stations),), dates=("2020-06-13",))
    assert other.cache_key() != key
    stations.write_text(stations.read_text() + "A,36.6,-97.5,2020-01-02T00:00,0.3\n")
    assert job.cache_key() != key


def test_local_dask_cluster_runs_jobs_and_survives_a_crash(tmp_path: Path, stations: Path) -> None:
    jobs = [
        BatchJob(name=n, aoi=DEMO_BBOX, stations=(str(stations),), dates=("2020-06-01",))
        for n in ("first", "crash", "third")
    ]
    results = run_batch(jobs, tmp_path / "out", n_workers=2, job_fn=fake_job)
    assert [r.name for r in results] == ["first", "crash", "third"]
    assert [r.status for r in results] == ["ok", "failed", "ok"]
    assert "worker blew up" in results[1].message
    pids = {(tmp_path / "out" / n / "done.txt").read_text().split()[1] for n in ("first", "third")}
    assert all(p != f"pid={os.getpid()}" for p in pids)  # ran in worker processes
    assert "threads=" in (tmp_path / "out" / "first" / "done.txt").read_text()
    table = format_summary(results)
    assert "crash" in table and "failed" in table and "worker blew up" in table
    assert "2 of 3 job(s) succeeded, 1 failed" in table
    summary = json.loads((tmp_path / "out" / "batch_summary.json").read_text())
    assert [s["status"] for s in summary] == ["ok", "failed", "ok"]
    assert (tmp_path / "out" / "batch_summary.csv").read_text().startswith("name,status")


def test_run_job_reports_a_failure_instead_of_raising(
    tmp_path: Path, stations: Path, pretrained_dir: Path
) -> None:
    from core.model.store import install

    install(pretrained_dir)  # so that the job gets as far as the stations
    # the station lies far outside this AOI: a user error, reported in the result
    job = BatchJob(
        name="elsewhere",
        aoi="5.0,52.0,5.05,52.05",
        stations=(str(stations),),
        dates=("2020-06-01",),
        source="demo",
    )
    result = run_job(job, tmp_path / "out")
    assert result.status == "failed"
    assert "no station lies inside the AOI" in result.message
    assert result.maps == []
    assert not list((tmp_path / "out").rglob("*.tif"))


def test_real_jobs_on_a_local_cluster(tmp_path: Path, pretrained_dir: Path) -> None:
    """A real pretrained job on the demo source and a failing one, in 2 worker processes."""
    from core.inputs.sources.demo import write_demo_stations
    from core.model.store import install

    install(pretrained_dir)  # into the test's user store; workers inherit its environment
    files = write_demo_stations(tmp_path / "stations")
    valley = [str(p) for p in files if "Valley" in p.name]
    x, y = -97.48055, 36.66711  # a 1 x 1 km AOI around the Valley station
    good = BatchJob(
        name="valley",
        aoi=f"{x - 0.0056},{y - 0.0045},{x + 0.0056},{y + 0.0045}",
        stations=tuple(valley),
        dates=("2020-08-31",),
        method="pretrained",
        source="demo",
        train_start="2020-08-01",
        cross_validate=False,
    )
    bad = BatchJob(
        name="no-s1-date",
        aoi=good.aoi,
        stations=good.stations,
        dates=("2020-09-02",),
        method="pretrained",
        source="demo",
        train_start="2020-08-01",
        cross_validate=False,
    )
    results = run_batch([good, bad], tmp_path / "out", n_workers=2)
    ok, failed = results
    assert ok.status == "ok", ok.message
    assert len(ok.maps) == 1 and Path(ok.maps[0]).exists() and ok.simulated
    assert ok.rmse is not None and ok.rmse_kind == "pretrained, held out"
    assert ok.maps_smap_blend == []  # one station: no blend weight
    assert failed.status == "failed"
    assert "no Sentinel-1 acquisition" in failed.message and "2020-08-31" in failed.message
    assert not (tmp_path / "out" / "no-s1-date" / "maps").exists()
    assert "1 of 2 job(s) succeeded" in format_summary(results)


def test_batch_command_reports_failures(
    tmp_path: Path, stations: Path, capsys, pretrained_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    from core.cli import main
    from core.model.store import install

    install(pretrained_dir)  # so that the jobs get as far as their stations

    f = tmp_path / "inputs" / "jobs.csv"
    f.write_text(
        "name,aoi,stations,dates,source\n"
        'far,"5.0,52.0,5.05,52.05",s1.csv,2020-06-01,demo\n'
        "bad-aoi,not-an-aoi,s1.csv,2020-06-01,demo\n"
    )
    status = main(["batch", str(f), "--out", str(tmp_path / "out"), "--serial"])
    out = capsys.readouterr().out
    assert status == 3
    assert "far" in out and "no station lies inside the AOI" in out
    assert "bad-aoi" in out and "neither an existing file nor a bounding box" in out
    assert "0 of 2 job(s) succeeded, 2 failed" in out


def test_job_rmse_is_the_recommended_maps() -> None:
    from core.run.batch.run import _best_rmse

    methods = {"adapted_cv": {"pooled": {"rmse": 0.074}}, "pretrained": {"pooled": {"rmse": 0.075}}}
    record = {"recommended": "blend", "held_out_rmse": {"map": 0.074, "blend": 0.063}}
    assert _best_rmse({"methods": methods, "smap_blend": {"map": record}}) == (
        0.063,
        "SMAP blend, held out",
    )
    record["recommended"] = "map"
    assert _best_rmse({"methods": methods, "smap_blend": {"map": record}}) == (0.074, "held out")
    assert _best_rmse({"methods": methods, "smap_blend": {"map": None}}) == (0.074, "held out")
