"""Station readers on the real ISMN test files, synthetic edge cases and the CLI command."""

from __future__ import annotations

import io
import math
import shutil
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.cli import main
from core.errors import InputError
from core.inputs import stations as st
from core.inputs.aoi import AOI
from core.inputs.grid import CELL_9KM, X0, Y0
from core.inputs.stations import (
    DAILY_COLUMNS,
    read_station_files,
    station_csv,
    walk,
    write_daily_csv,
)
from core.inputs.stations import text as station_text

from .test_grid import ease2_xy

SMOSMANIA_NAME = (
    "SMOSMANIA_SMOSMANIA_Narbonne_sm_0.050000_0.050000_ThetaProbe-ML2X_20070101_20070131.stm"
)
RSMN_NAME = "RSMN_RSMN_Adamclisi_sm_0.000000_0.050000_Meter-5TM_1_1_19500101_20260512.stm"


def header_stm(
    network: str,
    station: str,
    lat: float,
    lon: float,
    dfrom: float,
    dto: float,
    sensor: str,
    rows: Sequence[tuple[str, float, str]],
    header_decimals: int = 2,
) -> str:
    """An ISMN 'header + values' file, laid out as ISMN writes it."""
    d = header_decimals
    head = (
        f"{network:<10} {network:<15} {station:<17} {lat:10.5f} {lon:11.5f} {100.0:7.2f} "
        f"{dfrom:7.{d}f} {dto:7.{d}f} {sensor}"
    )
    lines = [head] + [f"{t}   {v:.4f} {f} M" for t, v, f in rows]
    return "\n".join(lines) + "\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def hand_cell50(lon: float, lat: float) -> tuple[int, int]:
    s = CELL_9KM / 180
    x, y = ease2_xy(lon, lat)
    return math.floor((Y0 - y) / s), math.floor((x - X0) / s)


# -- real ISMN files ----------------------------------------------------------------------
def test_header_and_ceop_formats_agree(ismn_dir: Path) -> None:
    flags = ("G", "U")  # the SMOSMANIA sample has no G flag (only U and D05)
    hv = read_station_files(
        [ismn_dir / "format_header_values/SMOSMANIA" / SMOSMANIA_NAME], accept_flags=flags
    )
    ceop = read_station_files(
        [ismn_dir / "format_ceop_sep/SMOSMANIA" / SMOSMANIA_NAME], accept_flags=flags
    )
    assert len(hv.readings) == 736
    cols = [
        "network",
        "station",
        "lat",
        "lon",
        "depth_from",
        "depth_to",
        "sensor",
        "time",
        "sm",
        "flag",
    ]
    pd.testing.assert_frame_equal(hv.readings[cols], ceop.readings[cols])
    meta = hv.stations[0]
    assert (meta.network, meta.station, meta.sensor) == ("SMOSMANIA", "Narbonne", "ThetaProbe-ML2X")
    assert (meta.lat, meta.lon, meta.elevation) == (43.15, 2.9567, 112.0)
    assert (meta.depth_from, meta.depth_to) == (0.05, 0.05)
    assert hv.readings["time"].iloc[0] == pd.Timestamp("2007-01-01 01:00", tz="UTC")
    assert any("5 readings" in w and "D05: 5" in w for w in hv.warnings)


def test_only_exact_g_flag_by_default(ismn_dir: Path) -> None:
    with pytest.raises(InputError) as exc:
        read_station_files([ismn_dir / "format_header_values"])
    msg = str(exc.value)
    assert SMOSMANIA_NAME in msg and "741 readings" in msg and "U: 736" in msg


def test_rsmn_newer_file_flags(ismn_dir: Path) -> None:
    data = read_station_files([ismn_dir / "archive_sample/RSMN"])
    assert len(data.readings) == 172  # 287 readings, 115 with D.. flags
    assert set(data.readings["flag"]) == {"G"}
    meta = data.stations[0]
    assert meta.sensor == "Meter-5TM" and meta.station == "Adamclisi"
    assert (meta.depth_from, meta.depth_to) == (0.0, 0.05)
    (w,) = data.warnings
    assert "115 readings" in w and "D01,D02,D03: 20" in w and "D02: 38" in w
    assert len(data.daily) == 10


def test_rsmn_zip_matches_file(ismn_dir: Path) -> None:
    a = read_station_files([ismn_dir / "archive_sample/RSMN"])
    b = read_station_files([ismn_dir / "archive_sample/ismn_archive.zip"])
    pd.testing.assert_frame_equal(a.daily, b.daily)
    assert b.readings["source"].iloc[0].endswith(":RSMN/Adamclisi/" + RSMN_NAME)


def test_ceop_folder_drops_cosmic_ray_probes(ismn_dir: Path) -> None:
    data = read_station_files([ismn_dir / "Data_seperate_files_20170810_20180809"])
    assert {(m.network, m.station) for m in data.stations} == {("FR_Aqui", "fraye")}
    cosmic = [w for w in data.warnings if "Cosmic-ray-Probe" in w]
    assert len(cosmic) == 2
    assert any("ARM-1" in w and "0.00-0.19 m" in w and "6865 readings" in w for w in cosmic)
    assert any("Barrow-ARM" in w and "0.00-0.21 m" in w and "7059 readings" in w for w in cosmic)
    flags = [w for w in data.warnings if "fraye" in w and "flag" in w]
    total = len(data.readings) + int(flags[0].split(": ")[1].split(" readings")[0])
    assert total == 52045  # every line of the file is either kept or counted
    lat, lon = 44.467, -0.7269
    r50, c50 = hand_cell50(lon, lat)
    assert set(data.daily["row50"]) == {r50} and set(data.daily["col50"]) == {c50}
    assert set(data.daily["row9"]) == {r50 // 180} and set(data.daily["col9"]) == {c50 // 180}
    assert list(data.daily.columns) == DAILY_COLUMNS


def test_header_zip_only_cosmic_ray_is_unusable(ismn_dir: Path) -> None:
    for name in (
        "zip_archives/header/Data_seperate_files_header_20170810_20180809.zip",
        "zip_archives/ceop/Data_seperate_files_20170810_20180809.zip",
    ):
        with pytest.raises(InputError) as exc:
            read_station_files([ismn_dir / name])
        assert "no usable soil moisture readings" in str(exc.value)
        assert str(exc.value).count("not a surface measurement") == 2


def test_header_format_matches_ceop_for_cosmos(ismn_dir: Path) -> None:
    """Read the deeper probes anyway (max_depth_m) to compare both real formats line by line."""
    name = (
        "COSMOS/ARM-1/"
        "COSMOS_COSMOS_ARM-1_sm_0.000000_0.190000_Cosmic-ray-Probe_20170810_20180809.stm"
    )
    hv = read_station_files(
        [ismn_dir / "Data_seperate_files_header_20170810_20180809" / name], max_depth_m=0.2
    )
    ceop = read_station_files(
        [ismn_dir / "Data_seperate_files_20170810_20180809" / name], max_depth_m=0.2
    )
    assert len(hv.readings) == 6514  # of 6865 lines, 351 have D flags
    assert any("351 readings" in w for w in hv.warnings)
    cols = ["station", "lat", "lon", "depth_to", "sensor", "time", "sm"]
    pd.testing.assert_frame_equal(hv.readings[cols], ceop.readings[cols])


def test_smosmania_zip_skips_python_metadata(ismn_dir: Path) -> None:
    data = read_station_files(
        [ismn_dir / "zip_archives/format_header_values/Data_SMOSMANIA.zip"], accept_flags=("G", "U")
    )
    assert len(data.readings) == 736
    assert not any("metadata" in w for w in data.warnings)


def test_multinetwork_zip_keeps_2_inch_sensors(ismn_dir: Path) -> None:
    data = read_station_files(
        [ismn_dir / "zip_archives/multinetwork/header_values/Data_header_values.zip"],
        accept_flags=("G", "U"),
    )
    scan = [m for m in data.stations if m.network == "SCAN"]
    assert {m.station for m in scan} == {"AAMU-jtg", "Abrams", "Adams_Ranch_#1"}
    # header says 0.05 (2 decimals); the file name's 0.050800 is the precise depth
    assert all(m.depth_to == pytest.approx(0.0508) for m in scan)
    assert {m.network for m in data.stations} == {"MAQU", "SCAN", "SOILSCAPE"}
    assert not any("deeper" in w for w in data.warnings)
    # AAMU-jtg has lines without the provider flag column: still readings
    assert (data.readings["station"] == "AAMU-jtg").sum() == 40336


def test_big_ceop_zip(ismn_dir: Path) -> None:
    data = read_station_files([ismn_dir / "Data_seperate_files_20170810_20180809.zip"])
    assert {m.station for m in data.stations} == {"fraye"}
    assert len(data.readings) == 50089


def test_malformed_file_alone(ismn_dir: Path) -> None:
    path = ismn_dir / "malformed/mal_formed_file.txt"
    with pytest.raises(InputError) as exc:
        read_station_files([path])
    msg = str(exc.value)
    assert str(path) in msg and "unknown station file format" in msg and "line 1" in msg
    assert "ISMN 'header + values'" in msg and "station CSV" in msg


def test_folder_with_one_bad_file(ismn_dir: Path, tmp_path: Path) -> None:
    shutil.copy(ismn_dir / "malformed/mal_formed_file.txt", tmp_path / "mal_formed_file.txt")
    shutil.copytree(ismn_dir / "archive_sample/RSMN", tmp_path / "RSMN")
    data = read_station_files([tmp_path])
    assert len(data.readings) == 172
    bad = [w for w in data.warnings if "mal_formed_file.txt" in w]
    assert len(bad) == 1 and "unknown station file format" in bad[0] and "skipped" in bad[0]


def test_same_data_twice_is_deduplicated(ismn_dir: Path) -> None:
    data = read_station_files(
        [ismn_dir / "archive_sample/RSMN", ismn_dir / "archive_sample/ismn_archive.zip"]
    )
    assert len(data.readings) == 172
    assert len(data.stations) == 1
    assert any(
        "172 readings with a duplicate timestamp already read from" in w for w in data.warnings
    )


def test_missing_input() -> None:
    with pytest.raises(InputError, match="does not exist"):
        read_station_files(["/nonexistent/station.stm"])
    with pytest.raises(InputError, match="no station files given"):
        read_station_files([])


# -- synthetic edge cases -----------------------------------------------------------------
def test_folder_station_files_leaves_out_side_files(ismn_dir: Path, tmp_path: Path) -> None:
    """The one rule for what in a folder is read (the plugin expands folders with it too)."""
    shutil.copytree(ismn_dir / "archive_sample/RSMN", tmp_path / "RSMN")
    for name in (
        "README.txt",
        "Readme.txt",
        "Metadata.xml",
        "ISMN_qualityflags_description.txt",
        "RSMN_RSMN_Adamclisi_static_variables.csv",
    ):
        write(tmp_path / name, "not readings\n")
    write(tmp_path / "notes.docx", "x")
    files, skipped = st.folder_station_files(tmp_path)
    assert files and all(p.suffix == ".stm" for p in files)
    assert files == sorted(files)
    assert skipped == [tmp_path / "notes.docx"]
    data = read_station_files([tmp_path])
    assert not [w for w in data.warnings if "not readings" in w or "README" in w]


def test_depth_filter_keeps_2_inch_and_drops_deeper(tmp_path: Path) -> None:
    rows = [("2020/06/01 00:00", 0.2, "G"), ("2020/06/01 01:00", 0.3, "G")]
    write(
        tmp_path / "SCAN_SCAN_Site_sm_0.050800_0.050800_Hydra_20200101_20201231.stm",
        header_stm("SCAN", "Site", 35.0, -97.0, 0.0508, 0.0508, "Hydra", rows),
    )
    write(
        tmp_path / "b.stm",  # a header written with more decimals (as the demo writer may)
        header_stm("USCRN", "Other", 36.0, -98.0, 0.0508, 0.0508, "TDR", rows, 4),
    )
    write(tmp_path / "c.stm", header_stm("X", "Deep", 37.0, -99.0, 0.10, 0.10, "TDR", rows))
    write(tmp_path / "d.stm", header_stm("X", "Crnp", 37.0, -99.0, 0.0, 0.17, "CRNP", rows))
    data = read_station_files([tmp_path])
    assert {m.station for m in data.stations} == {"Site", "Other"}
    assert all(m.depth_to == pytest.approx(0.0508) for m in data.stations)
    deep = [w for w in data.warnings if "deeper than the 0-5 cm" in w]
    assert len(deep) == 2 and any("Crnp" in w and "0.00-0.17 m" in w for w in deep)
    assert all("2 readings dropped" in w for w in deep)


def test_daily_average_per_cell_and_day(tmp_path: Path) -> None:
    lat, lon = 44.08829, 27.96591
    a = [
        ("2020/06/01 00:00", 0.10, "G"),
        ("2020/06/01 12:00", 0.20, "G"),
        ("2020/06/01 23:00", 0.30, "G"),
        ("2020/06/02 00:00", 0.40, "G"),
        ("2020/06/02 01:00", 0.90, "D01"),
    ]
    b = [("2020/06/01 06:00", 0.50, "G")]
    write(tmp_path / "a.stm", header_stm("NET", "A", lat, lon, 0.0, 0.05, "S1", a))
    write(tmp_path / "b.stm", header_stm("NET", "B", lat, lon, 0.05, 0.05, "S2", b))
    # 0.01 deg away: another 50 m cell
    write(tmp_path / "c.stm", header_stm("NET", "C", lat + 0.01, lon, 0.05, 0.05, "S3", b))
    data = read_station_files([tmp_path])
    d = data.daily
    r50, c50 = hand_cell50(lon, lat)
    shared = d[(d["row50"] == r50) & (d["col50"] == c50)].set_index("date")
    day1 = shared.loc[pd.Timestamp("2020-06-01")]
    # sensor A's daily mean 0.2 and sensor B's 0.5 are averaged with equal weight
    assert day1["sm"] == pytest.approx((0.2 + 0.5) / 2)
    assert day1["n"] == 4
    assert day1["station"] == "A+B" and day1["network"] == "NET"
    assert (day1["row9"], day1["col9"]) == (r50 // 180, c50 // 180)
    day2 = shared.loc[pd.Timestamp("2020-06-02")]
    assert day2["sm"] == pytest.approx(0.40) and day2["n"] == 1 and day2["station"] == "A"
    other = d[d["station"] == "C"]
    assert len(other) == 1 and tuple(other[["row50", "col50"]].iloc[0]) == hand_cell50(
        lon, lat + 0.01
    )
    assert any("1 readings" in w and "D01: 1" in w for w in data.warnings)


def test_duplicate_timestamps_and_bad_lines(tmp_path: Path) -> None:
    rows = [
        ("2020/06/01 00:00", 0.10, "G"),
        ("2020/06/01 01:00", 0.20, "G"),
        ("2020/06/01 01:00", 0.25, "G"),
    ]
    text = header_stm("NET", "A", 44.0, 28.0, 0.0, 0.05, "S1", rows) + "2020/06/01 garbage\n"
    path = write(tmp_path / "a.stm", text)
    data = read_station_files([path])
    assert data.readings["sm"].tolist() == [0.10, 0.20]
    dup = [w for w in data.warnings if "duplicate timestamp" in w]
    assert len(dup) == 1 and "1 readings" in dup[0] and "line 4" in dup[0]
    assert "within the file" in dup[0]
    bad = [w for w in data.warnings if "not 'date time value flag'" in w]
    assert len(bad) == 1 and "line 5" in bad[0]


def test_values_outside_range_are_counted(tmp_path: Path) -> None:
    rows = [
        ("2020/06/01 00:00", 0.10, "G"),
        ("2020/06/01 01:00", -9999.0, "G"),
        ("2020/06/01 02:00", 1.5, "G"),
    ]
    data = read_station_files(
        [write(tmp_path / "a.stm", header_stm("N", "A", 44.0, 28.0, 0.0, 0.05, "S", rows))]
    )
    assert len(data.readings) == 1
    assert any(
        "2 readings" in w and "outside 0-1 m3/m3" in w and "line 3" in w for w in data.warnings
    )


CSV_TEXT = """station,lat,lon,timestamp,sm,depth,flag,network,unit
F1,52.0,5.0,2021-05-01T08:00:00Z,25.0,0.05,G,farm,%
F1,52.0,5.0,2021-05-01 14:00,35.0,0.05,,farm,%
F1,52.0,5.0,2021-05-02 09:00,0.31,0.05,G,farm,m3/m3
F2,52.001,5.0,2021-05-01 10:00+02:00,30,,G,farm,%
F2,52.001,5.0,2021-05-01 11:00,0.2,0.3,G,farm,m3/m3
F2,52.001,5.0,not a time,0.2,0.05,G,farm,m3/m3
"""


def test_csv_with_percent_unit_column(tmp_path: Path) -> None:
    data = read_station_files([write(tmp_path / "field.csv", CSV_TEXT)])
    r = data.readings
    f1 = r[r["station"] == "F1"]
    assert f1["sm"].tolist() == pytest.approx([0.25, 0.35, 0.31])
    f2 = r[r["station"] == "F2"]
    assert f2["sm"].tolist() == pytest.approx([0.30])
    assert f2["time"].iloc[0] == pd.Timestamp("2021-05-01 08:00", tz="UTC")
    w = "\n".join(data.warnings)
    assert "1 rows with an unreadable timestamp skipped (first at line 7)" in w
    assert "1 rows without a depth taken as surface" in w
    assert "1 rows without a flag taken as G" in w
    assert "F2 (field 0.3-0.3 m)" in w and "1 readings dropped" in w
    d = data.daily.set_index(["station", "date"])
    assert d.loc[("F1", pd.Timestamp("2021-05-01")), "sm"] == pytest.approx(0.30)
    assert d.loc[("F1", pd.Timestamp("2021-05-01")), "n"] == 2


def test_csv_percent_option_and_missing_unit(tmp_path: Path) -> None:
    text = "station;latitude;longitude;time;soil_moisture\nS;52.0;5.0;2021-05-01;23.5\n"
    path = write(tmp_path / "pct.csv", text)
    with pytest.raises(InputError) as exc:
        read_station_files([path])
    assert "outside 0-1 m3/m3" in str(exc.value) and "unit" in str(exc.value)
    assert "line 2" in str(exc.value)
    data = read_station_files([path], unit="%")
    assert data.readings["sm"].tolist() == pytest.approx([0.235])
    with pytest.raises(InputError, match="unknown soil moisture unit"):
        read_station_files([path], unit="g/kg")


def test_csv_missing_columns(tmp_path: Path) -> None:
    path = write(tmp_path / "x.csv", "station,lat,lon,value_x\nA,1,2,3\n")
    with pytest.raises(InputError, match="lacks the columns timestamp, sm"):
        read_station_files([path])


def test_aoi_filter(ismn_dir: Path, tmp_path: Path) -> None:
    rows = [("2020/06/01 00:00", 0.2, "G")]
    write(tmp_path / "in.stm", header_stm("N", "In", 52.05, 5.05, 0.0, 0.05, "S", rows))
    write(tmp_path / "out.stm", header_stm("N", "Out", 48.0, 2.0, 0.0, 0.05, "S", rows))
    aoi = AOI.from_bbox(5.0, 52.0, 5.1, 52.1)
    data = read_station_files([tmp_path], aoi=aoi)
    assert [m.station for m in data.stations] == ["In"]
    assert any("Out" in w and "outside the AOI" in w and "1 readings" in w for w in data.warnings)
    with pytest.raises(InputError, match="outside the AOI"):
        read_station_files([tmp_path / "out.stm"], aoi=aoi)


# -- zip safety ---------------------------------------------------------------------------
def _good_stm() -> str:
    return header_stm("N", "A", 44.0, 28.0, 0.0, 0.05, "S", [("2020/06/01 00:00", 0.2, "G")])


def test_zip_path_traversal_member_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("../../escaped.stm", _good_stm())
        zf.writestr("/abs/escaped2.stm", _good_stm().replace(" A ", " B "))
        zf.writestr("ok/good.stm", _good_stm())
    data = read_station_files([path])
    assert len(data.readings) == 1 and data.stations[0].station == "A"
    unsafe = [w for w in data.warnings if "unsafe member path" in w]
    assert len(unsafe) == 2
    assert not (tmp_path.parent / "escaped.stm").exists()
    assert not any(p.name.startswith("escaped") for p in tmp_path.rglob("*"))


def test_zip_bomb_member_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("bomb.stm", b"0" * (8 * 1024**2))
        zf.writestr("good.stm", _good_stm())
    assert zipfile.ZipFile(path).getinfo("bomb.stm").compress_size < 100_000
    data = read_station_files([path])
    assert len(data.readings) == 1
    assert any(
        "bomb.stm" in w and "compression ratio" in w and "zip bomb" in w for w in data.warnings
    )


def test_zip_total_size_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a/good.stm", _good_stm())
        zf.writestr("b/second.stm", _good_stm().replace(" A ", " B "))
    monkeypatch.setattr(walk, "MAX_ZIP_TOTAL_BYTES", len(_good_stm()) + 10)
    data = read_station_files([path])
    assert [m.station for m in data.stations] == ["A"]
    assert any("uncompressed" in w and "1 members not read" in w for w in data.warnings)


def test_zip_lying_about_size(tmp_path: Path) -> None:
    """A member whose data is longer than its declared size is not read past that size."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("x.stm", _good_stm())
    info = zipfile.ZipFile(io.BytesIO(buf.getvalue())).getinfo("x.stm")
    assert walk._Reader._read_member(zipfile.ZipFile(io.BytesIO(buf.getvalue())), info, 10) is None
    data = walk._Reader._read_member(zipfile.ZipFile(io.BytesIO(buf.getvalue())), info, 10**6)
    assert data is not None and data.decode() == _good_stm()


# -- output and CLI -----------------------------------------------------------------------
def test_write_daily_csv(tmp_path: Path) -> None:
    rows = [("2020/06/01 00:00", 0.123456, "G"), ("2020/06/01 03:00", 0.2, "G")]
    data = read_station_files(
        [write(tmp_path / "a.stm", header_stm("N", "A", 44.08829, 27.96591, 0, 0.05, "S", rows))]
    )
    out = tmp_path / "out" / "daily.csv"
    write_daily_csv(data.daily, out)
    back = pd.read_csv(out)
    assert list(back.columns) == DAILY_COLUMNS
    assert back["date"].tolist() == ["2020-06-01"]
    assert back["sm"].iloc[0] == pytest.approx((0.1235 + 0.2) / 2, abs=1e-5)
    assert back["lat"].iloc[0] == 44.08829
    assert not [p for p in out.parent.iterdir() if p.name != "daily.csv"]
    with pytest.raises(InputError, match="missing columns"):
        write_daily_csv(pd.DataFrame({"x": [1]}), tmp_path / "bad.csv")


def test_cli_stations(ismn_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "daily.csv"
    rc = main(
        [
            "stations",
            str(ismn_dir / "archive_sample/ismn_archive.zip"),
            "--out",
            str(out),
            "--aoi",
            "27.9,44.0,28.0,44.2",
        ]
    )
    captured = capsys.readouterr()
    assert rc == 0
    assert "Adamclisi" in captured.out and "2024-12-20..2024-12-29" in captured.out
    assert "115 readings" in captured.err
    assert len(pd.read_csv(out)) == 10
    rc = main(
        [
            "stations",
            str(ismn_dir / "malformed/mal_formed_file.txt"),
            "--out",
            str(tmp_path / "x.csv"),
        ]
    )
    assert rc == 2
    assert "unknown station file format" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()


def test_format_registry() -> None:
    assert list(st.FORMATS) == ["ismn-header-values", "ismn-ceop", "station-csv"]
    src = st.TextSource("mem", "mem.stm", _good_stm())
    assert st.detect_format(src).name == "ismn-header-values"
    assert np.all([isinstance(f.description, str) for f in st.FORMATS.values()])


def test_reading_in_small_pieces_gives_the_same_result(
    ismn_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Large files are parsed piece by piece; piece boundaries must change nothing (line
    numbers in warnings included), for CR, LF and CR LF line ends and for CSV blocks."""
    crlf = tmp_path / "crlf.stm"
    text = (ismn_dir / "format_header_values/SMOSMANIA" / SMOSMANIA_NAME).read_bytes()
    lines = text.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
    lines[40] = b"2007/01/02 16:00 bad G M"
    crlf.write_bytes(b"\r\n".join(lines))
    csv = write(tmp_path / "field.csv", CSV_TEXT * 3)
    inputs = [
        ismn_dir / "format_header_values/SMOSMANIA" / SMOSMANIA_NAME,
        ismn_dir / "format_ceop_sep",
        crlf,
        csv,
    ]
    whole = read_station_files(inputs)
    monkeypatch.setattr(station_text, "CHUNK_CHARS", 97)
    monkeypatch.setattr(station_csv, "CSV_CHUNK_ROWS", 2)
    pieces = read_station_files(inputs)
    pd.testing.assert_frame_equal(whole.readings, pieces.readings)
    pd.testing.assert_frame_equal(whole.daily, pieces.daily)
    assert whole.warnings == pieces.warnings
    assert any("first at line 41" in w for w in whole.warnings)
