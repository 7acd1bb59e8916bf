"""The model store, against the authors' published weights (installed from ../shared)."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
import torch

from core.cli import main
from core.errors import Cancelled, ModelStoreError
from core.model import store
from core.paths import models_dir
from core.progress import CallbackProgress


def store_entries() -> list[str]:
    d = models_dir()
    return sorted(p.name for p in d.iterdir()) if d.exists() else []


def copy_set(src: Path, dst: Path) -> Path:
    dst.mkdir()
    for p in src.iterdir():
        if p.suffix == ".pt" or p.name == "SHA256SUMS":
            shutil.copyfile(p, dst / p.name)
    return dst


def make_zip(src: Path, path: Path, with_sums: bool) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("DenseSM_9km/", "")
        for p in sorted(src.glob("coarse_*.pt")):
            zf.write(p, f"DenseSM_9km/{p.name}")
        zf.writestr("DenseSM_9km/train_log.txt", "epoch 100 R 0.9\n")
        zf.writestr("__MACOSX/DenseSM_9km/._coarse_1_8.pt", b"junk")
        if with_sums:
            zf.write(src / "SHA256SUMS", "DenseSM_9km/SHA256SUMS")
    return path


@pytest.fixture(scope="module")
def module_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("store")


@pytest.fixture(scope="module")
def published_zip(pretrained_dir: Path, module_dir: Path) -> Path:
    return make_zip(pretrained_dir, module_dir / "DenseSM_9km.zip", with_sums=False)


def test_published_checksums_match_the_shared_sums(pretrained_dir: Path) -> None:
    shipped = store.parse_sha256sums((pretrained_dir / "SHA256SUMS").read_text())
    assert store.PUBLISHED_SHA256 == shipped
    assert sorted(shipped) == sorted(f"{m}.pt" for m in store.PUBLISHED_MEMBERS)


def test_expected_shapes_match_every_published_file(pretrained_dir: Path) -> None:
    for d in store.DEPTHS:
        for w in store.WIDTHS:
            sd = torch.load(
                pretrained_dir / f"coarse_{d}_{w}.pt", map_location="cpu", weights_only=True
            )
            assert {k: tuple(v.shape) for k, v in sd.items()} == store.expected_shapes(d, w)
            assert store.infer_architecture(sd) == (d, w)
    shapes = store.expected_shapes(3, 32)
    assert shapes["dense_layers.2.linear1.weight"] == (32, 30 + 2 * 32)
    assert shapes["fc_layers.0.linear1.weight"] == (32, 30 + 3 * 32)
    assert shapes["conv_block.conv1.weight"] == (32, 3, 5)


def test_install_from_folder(pretrained_dir: Path) -> None:
    fractions: list[float] = []
    model_set = store.install(pretrained_dir, progress=CallbackProgress(fractions.append))
    assert model_set.name == "densesm_9km" and model_set.kind == "pretrained"
    assert model_set.checksum_ok and model_set.path == models_dir() / "densesm_9km"
    assert fractions[-1] == pytest.approx(1.0)
    assert model_set.member_names == list(store.PUBLISHED_MEMBERS)
    assert model_set.member_names[:6] == [
        "coarse_1_8",
        "coarse_1_16",
        "coarse_1_32",
        "coarse_1_64",
        "coarse_1_128",
        "coarse_2_8",
    ]
    assert store_entries() == ["densesm_9km"]

    manifest = json.loads((model_set.path / "manifest.json").read_text())
    assert manifest["name"] == "densesm_9km" and manifest["kind"] == "pretrained"
    assert manifest["source"] == str(pretrained_dir.resolve())
    assert manifest["installed_at"] and manifest["provenance"]["matches_published_checksums"]
    entry = next(m for m in manifest["members"] if m["name"] == "coarse_2_16")
    assert entry == {
        "name": "coarse_2_16",
        "depth": 2,
        "width": 16,
        "file": "coarse_2_16.pt",
        "sha256": store.PUBLISHED_SHA256["coarse_2_16.pt"],
    }
    sums = store.parse_sha256sums((model_set.path / "SHA256SUMS").read_text())
    assert sums == store.PUBLISHED_SHA256

    loaded = store.load_model_set("densesm_9km")
    sds = loaded.state_dicts()
    assert list(sds) == list(store.PUBLISHED_MEMBERS)
    ref = torch.load(pretrained_dir / "coarse_4_64.pt", map_location="cpu", weights_only=True)
    for k, v in ref.items():
        assert torch.equal(sds["coarse_4_64"][k], v)

    listed = store.list_installed()
    assert [(s.name, s.kind, len(s.members), s.checksum_ok) for s in listed] == [
        ("densesm_9km", "pretrained", 25, True)
    ]
    with pytest.raises(ModelStoreError, match="already installed"):
        store.install(pretrained_dir)
    store.remove("densesm_9km")
    assert store_entries() == []


def test_install_from_nested_zip_without_sums(published_zip: Path) -> None:
    model_set = store.install(published_zip, name="from_zip")
    assert model_set.checksum_ok and len(model_set.members) == 25
    assert model_set.source == str(published_zip.resolve())
    assert sorted(p.name for p in model_set.path.iterdir()) == sorted(
        [f"{m}.pt" for m in store.PUBLISHED_MEMBERS] + ["SHA256SUMS", "manifest.json"]
    )
    assert store_entries() == ["from_zip"]


def test_install_from_zip_with_sums(pretrained_dir: Path, tmp_path: Path) -> None:
    archive = make_zip(pretrained_dir, tmp_path / "DenseSM_9km.zip", with_sums=True)
    assert store.install(archive).checksum_ok


def test_partial_set_is_refused(pretrained_dir: Path, tmp_path: Path) -> None:
    folder = copy_set(pretrained_dir, tmp_path / "partial")
    (folder / "coarse_3_32.pt").unlink()
    with pytest.raises(ModelStoreError, match=r"1 of 25 members are missing: coarse_3_32\.pt"):
        store.install(folder)
    assert store_entries() == []


def test_corrupt_file_is_refused(pretrained_dir: Path, tmp_path: Path) -> None:
    folder = copy_set(pretrained_dir, tmp_path / "corrupt")
    data = bytearray((folder / "coarse_4_16.pt").read_bytes())
    data[len(data) // 2] ^= 0x01
    (folder / "coarse_4_16.pt").write_bytes(bytes(data))
    with pytest.raises(ModelStoreError, match=r"coarse_4_16\.pt is corrupt") as err:
        store.install(folder)
    assert "coarse_4_16.pt" in str(err.value) and "coarse_1_8.pt" not in str(err.value)
    assert store_entries() == []  # the temporary folder was removed too


def test_corrupt_zip_member_without_sums(pretrained_dir: Path, tmp_path: Path) -> None:
    folder = copy_set(pretrained_dir, tmp_path / "corrupt")
    data = bytearray((folder / "coarse_5_128.pt").read_bytes())
    data[-100] ^= 0xFF
    (folder / "coarse_5_128.pt").write_bytes(bytes(data))
    archive = make_zip(folder, tmp_path / "DenseSM_9km.zip", with_sums=False)
    with pytest.raises(ModelStoreError, match=r"coarse_5_128\.pt is corrupt.*published files"):
        store.install(archive)
    assert store_entries() == []


def test_wrong_architecture_is_refused(pretrained_dir: Path, tmp_path: Path) -> None:
    # Checksums consistent with the shipped SHA256SUMS, but coarse_1_8.pt holds a 1-16 model.
    folder = copy_set(pretrained_dir, tmp_path / "swapped")
    shutil.copyfile(pretrained_dir / "coarse_1_16.pt", folder / "coarse_1_8.pt")
    sums = (
        (folder / "SHA256SUMS")
        .read_text()
        .replace(store.PUBLISHED_SHA256["coarse_1_8.pt"], store.PUBLISHED_SHA256["coarse_1_16.pt"])
    )
    (folder / "SHA256SUMS").write_text(sums)
    with pytest.raises(ModelStoreError, match=r"coarse_1_8\.pt is not a DenseSM-1-8 state dict"):
        store.install(folder)
    assert store_entries() == []


def test_unsafe_zip_member_is_refused(pretrained_dir: Path, tmp_path: Path) -> None:
    archive = make_zip(pretrained_dir, tmp_path / "evil.zip", with_sums=False)
    with zipfile.ZipFile(archive, "a") as zf:
        zf.writestr("../../coarse_1_8.pt", b"x")
    with pytest.raises(ModelStoreError, match="unsafe member path"):
        store.install(archive)
    assert store_entries() == []
    assert not (tmp_path.parent / "coarse_1_8.pt").exists()


def test_duplicate_zip_member_is_refused(pretrained_dir: Path, tmp_path: Path) -> None:
    archive = make_zip(pretrained_dir, tmp_path / "dup.zip", with_sums=False)
    with zipfile.ZipFile(archive, "a") as zf:
        zf.write(pretrained_dir / "coarse_2_8.pt", "other/coarse_2_8.pt")
    with pytest.raises(ModelStoreError, match=r"holds coarse_2_8\.pt twice"):
        store.install(archive)


def test_not_a_zip_and_missing_source(tmp_path: Path) -> None:
    bogus = tmp_path / "DenseSM_9km.zip"
    bogus.write_bytes(b"not a zip")
    with pytest.raises(ModelStoreError, match="neither a folder"):
        store.install(bogus)
    with pytest.raises(ModelStoreError, match="does not exist"):
        store.install(tmp_path / "nowhere")
    with pytest.raises(ModelStoreError, match=r"no coarse_\{d\}_\{w\}\.pt file found"):
        store.install(tmp_path)
    with pytest.raises(ModelStoreError, match="only http"):
        store.install("ftp://example.org/DenseSM_9km.zip")
    with pytest.raises(ModelStoreError, match="invalid model-set name"):
        store.install(tmp_path, name="../escape")


def test_url_without_network_says_how_to_install_locally() -> None:
    url = "http://127.0.0.1:9/DenseSM_9km.zip"
    with pytest.raises(ModelStoreError) as err:
        store.install(url)
    msg = str(err.value)
    assert msg.startswith(f"could not download {url}: ")
    assert "Download DenseSM_9km.zip on a machine with internet" in msg
    assert "soilmoisture models install --from /path/to/DenseSM_9km.zip" in msg
    assert store_entries() == []  # no leftover download


def test_cancel_leaves_nothing(pretrained_dir: Path) -> None:
    calls = {"n": 0}

    def cancel_after_some() -> bool:
        calls["n"] += 1
        return calls["n"] > 5

    with pytest.raises(Cancelled):
        store.install(pretrained_dir, progress=CallbackProgress(is_cancelled=cancel_after_some))
    assert store_entries() == []


def test_a_killed_installs_folder_is_swept_by_the_next_install(pretrained_dir: Path) -> None:
    import os
    import time

    from core.model.store.folders import STALE_AFTER_S

    root = models_dir()
    root.mkdir(parents=True, exist_ok=True)
    killed = root / ".installing-densesm_9km.abc123.part"  # a kill -9 leaves it behind
    (killed / "members").mkdir(parents=True)
    old = time.time() - STALE_AFTER_S - 60
    os.utime(killed, (old, old))
    running = root / ".installing-other.def456.part"  # another install, still at work
    running.mkdir()
    store.install(pretrained_dir)
    assert not killed.exists() and running.is_dir()


def test_load_errors_and_corruption_after_install(published_zip: Path) -> None:
    with pytest.raises(ModelStoreError, match="installed yet.*models install --from"):
        store.load_model_set("densesm_9km")
    installed = store.install(published_zip, name="a")
    with pytest.raises(ModelStoreError, match=r"no model set named 'b'.*Installed sets: a"):
        store.load_model_set("b")
    target = installed.path / "coarse_2_32.pt"
    data = bytearray(target.read_bytes())
    data[200] ^= 0x10
    target.write_bytes(bytes(data))
    with pytest.raises(ModelStoreError, match=r"coarse_2_32\.pt is corrupt.*models remove a"):
        store.load_model_set("a")
    unverified = store.load_model_set("a", verify=False)
    with pytest.raises(ModelStoreError, match=r"coarse_2_32\.pt is corrupt"):
        unverified.state_dicts()
    [listed] = store.list_installed()
    assert not listed.checksum_ok and "coarse_2_32.pt" in (listed.problem or "")
    with pytest.raises(ModelStoreError, match="no model set named 'zzz'"):
        store.remove("zzz")


def test_load_plain_folder_in_place(pretrained_dir: Path) -> None:
    model_set = store.load_model_set(pretrained_dir)
    assert model_set.checksum_ok and model_set.kind == "pretrained" and len(model_set.members) == 25
    assert store_entries() == []


def test_save_and_load_adapted_set(pretrained_dir: Path, tmp_path: Path) -> None:
    base = store.install(pretrained_dir)
    sds = base.state_dicts()
    sds = {k: sds[k] for k in ("coarse_5_8", "coarse_1_16")}  # any subset, any order
    sds["coarse_1_16"]["out.bias"] = sds["coarse_1_16"]["out.bias"] + 0.01
    provenance = {"method": "msda", "alpha": 0.7, "beta": 0.12, "stations": ["a", "b"]}
    saved = store.save_model_set(
        models_dir() / "msda_test",
        sds,
        kind="adapted",
        provenance=provenance,
        name="msda_test",
        source="densesm_9km",
    )
    assert saved.member_names == ["coarse_1_16", "coarse_5_8"]  # store order: depth, width
    loaded = store.load_model_set("msda_test")
    assert loaded.kind == "adapted" and loaded.provenance == provenance
    assert loaded.source == "densesm_9km"
    back = loaded.state_dicts()
    assert list(back) == ["coarse_1_16", "coarse_5_8"]
    assert torch.equal(back["coarse_1_16"]["out.bias"], sds["coarse_1_16"]["out.bias"])
    names = {s.name: s.kind for s in store.list_installed()}
    assert names == {"densesm_9km": "pretrained", "msda_test": "adapted"}

    # Outside the store, opened by path.
    outside = store.save_model_set(tmp_path / "export", sds, provenance={"method": "finetune"})
    assert store.load_model_set(tmp_path / "export").provenance == {"method": "finetune"}
    assert outside.name == "export"
    with pytest.raises(ModelStoreError, match="already exists"):
        store.save_model_set(tmp_path / "export", sds)
    store.save_model_set(tmp_path / "export", sds, provenance={"v": 2}, replace=True)
    assert store.load_model_set(tmp_path / "export").provenance == {"v": 2}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export"]


def test_save_refuses_bad_weights_and_leaves_nothing(pretrained_dir: Path, tmp_path: Path) -> None:
    good = torch.load(pretrained_dir / "coarse_2_16.pt", map_location="cpu", weights_only=True)
    broken = dict(good)
    del broken["fc_layers.0.bn1.running_var"]
    with pytest.raises(ModelStoreError, match="missing keys fc_layers.0.bn1.running_var"):
        store.save_model_set(tmp_path / "x", {"coarse_2_16": broken})
    nan = dict(good)
    nan["out.weight"] = torch.full_like(good["out.weight"], float("nan"))
    with pytest.raises(ModelStoreError, match="NaN or infinite"):
        store.save_model_set(tmp_path / "x", {"coarse_2_16": nan})
    with pytest.raises(ModelStoreError, match="kind must be one of"):
        store.save_model_set(tmp_path / "x", {"coarse_2_16": good}, kind="weird")
    with pytest.raises(ModelStoreError, match="invalid member name"):
        store.save_model_set(tmp_path / "x", {"../evil": good})
    with pytest.raises(ModelStoreError, match="JSON-serialisable"):
        store.save_model_set(tmp_path / "x", {"coarse_2_16": good}, provenance={"f": object()})
    assert list(tmp_path.iterdir()) == []


def test_cli_install_list_remove(published_zip: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "list"]) == 0
    assert "No model set is installed" in capsys.readouterr().out
    assert main(["models", "install", "--from", str(published_zip), "--name", "cli_set"]) == 0
    assert "Installed 'cli_set' (25 members, checksums verified)" in capsys.readouterr().out
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    header, row = out.splitlines()
    assert header.split() == ["NAME", "KIND", "MEMBERS", "CHECKSUMS", "ORIGIN", "SOURCE"]
    assert row.split()[:5] == ["cli_set", "pretrained", "25", "ok", "published"]
    assert main(["models", "install", "--from", "http://127.0.0.1:9/DenseSM_9km.zip"]) == 2
    err = capsys.readouterr().err
    assert "soilmoisture: error: could not download" in err
    assert "models install --from /path/to/DenseSM_9km.zip" in err
    assert main(["models", "remove", "cli_set"]) == 0
    assert store_entries() == []
    assert main(["models", "remove", "cli_set"]) == 2
    assert "no model set is installed yet" in capsys.readouterr().err


def _tampered_copy(pretrained_dir: Path, dest: Path) -> Path:
    """The published files with one member's weights changed and SHA256SUMS updated to match."""
    import hashlib

    import torch

    dest.mkdir()
    for f in pretrained_dir.glob("coarse_*.pt"):
        shutil.copy(f, dest / f.name)
    victim = dest / "coarse_1_8.pt"
    sd = torch.load(victim, map_location="cpu", weights_only=True)
    key = next(k for k, v in sd.items() if v.is_floating_point() and v.numel() > 1)
    sd[key] = sd[key] * 1e6
    torch.save(sd, victim)
    lines = [
        f"{hashlib.sha256(f.read_bytes()).hexdigest()}  {f.name}"
        for f in sorted(dest.glob("coarse_*.pt"))
    ]
    (dest / "SHA256SUMS").write_text("\n".join(lines) + "\n")
    return dest


def test_tampered_set_with_matching_checksums_is_reported_as_modified(
    pretrained_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tampered = _tampered_copy(pretrained_dir, tmp_path / "tampered")
    assert main(["models", "install", "--from", str(tampered), "--name", "lookalike"]) == 0
    assert "MODIFIED" in capsys.readouterr().out
    assert main(["models", "install", "--from", str(pretrained_dir), "--name", "genuine"]) == 0
    capsys.readouterr()
    sets = {s.name: s for s in store.list_installed()}
    assert sets["lookalike"].checksum_ok  # its own checksum list agrees with its files ...
    assert sets["lookalike"].origin == "modified"  # ... but not the published checksums
    assert sets["genuine"].origin == "published"
    assert main(["models", "list"]) == 0
    captured = capsys.readouterr()
    rows = {line.split()[0]: line.split() for line in captured.out.splitlines()[1:]}
    assert rows["lookalike"][4] == "modified" and rows["genuine"][4] == "published"
    assert "lookalike: presents itself as the published" in captured.err
    # opened in place (a plain folder of coarse_*.pt with its SHA256SUMS): also modified
    assert store.load_model_set(tampered).origin == "modified"
    assert store.load_model_set(pretrained_dir).origin == "published"


def test_own_set_is_reported_as_own(published: dict, tmp_path: Path) -> None:
    saved = store.save_model_set(
        tmp_path / "adapted", published, kind="adapted", provenance={"method": "msda"}
    )
    assert store.load_model_set(saved.path).origin == "own"
