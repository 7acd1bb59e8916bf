"""The on-disk array cache: round trip, checksums, corrupt entries, housekeeping."""

from __future__ import annotations

import hashlib
import logging

import numpy as np
import pytest

from core.errors import InputError
from core.inputs import cache as cache_mod
from core.inputs.cache import ArrayCache
from core.paths import cache_dir

KEY = hashlib.sha256(b"request").hexdigest()


def test_round_trip_and_default_root() -> None:
    c = ArrayCache()
    assert c.root == cache_dir() / "arrays"
    assert c.get(KEY) is None and KEY not in c
    arrays = {"VV": np.arange(6, dtype=np.float32).reshape(2, 3), "sand_0-5cm_mean": np.ones(2)}
    path = c.put(KEY, arrays)
    assert path.exists() and path.with_suffix(".sha256").exists()
    got = c.get(KEY)
    assert got is not None and set(got) == set(arrays)
    np.testing.assert_array_equal(got["VV"], arrays["VV"])
    assert got["VV"].dtype == np.float32
    assert KEY in c


def test_corrupt_entry_detected_removed_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    c = ArrayCache()
    path = c.put(KEY, {"a": np.zeros((4, 4))})
    raw = bytearray(path.read_bytes())
    raw[-10] ^= 0xFF
    path.write_bytes(bytes(raw))
    with caplog.at_level(logging.WARNING, logger="core.inputs.cache"):
        assert c.get(KEY) is None
    assert "corrupt" in caplog.text
    assert not path.exists() and not path.with_suffix(".sha256").exists()


def test_missing_sidecar_is_corrupt() -> None:
    c = ArrayCache()
    path = c.put(KEY, {"a": np.zeros(3)})
    path.with_suffix(".sha256").unlink()
    assert c.get(KEY) is None and not path.exists()


def test_truncated_archive_with_matching_checksum_is_rejected() -> None:
    c = ArrayCache()
    path = c.put(KEY, {"a": np.zeros(3)})
    bad = b"not a zip file"
    path.write_bytes(bad)
    path.with_suffix(".sha256").write_text(hashlib.sha256(bad).hexdigest())
    assert c.get(KEY) is None and not path.exists()


def test_json_entries() -> None:
    c = ArrayCache()
    c.put_json(KEY, {"dates": ["2021-01-01"], "n": 3})
    assert c.get_json(KEY) == {"dates": ["2021-01-01"], "n": 3}
    other = hashlib.sha256(b"x").hexdigest()
    c.put(other, {"a": np.zeros(2)})
    assert c.get_json(other) is None  # not a JSON entry: discarded


def test_size_entries_clear_and_module_helpers() -> None:
    c = ArrayCache()
    assert c.size_bytes() == 0 and c.entries() == [] and c.clear() == 0
    k2 = hashlib.sha256(b"two").hexdigest()
    c.put(KEY, {"a": np.zeros(1000)})
    c.put(k2, {"a": np.zeros(10)})
    entries = c.entries()
    assert {e.key for e in entries} == {KEY, k2}
    assert sum(e.size_bytes for e in entries) == c.size_bytes() == cache_mod.size_bytes()
    assert c.size_bytes() > 8000
    assert len(cache_mod.entries()) == 2
    assert cache_mod.clear() == 4
    assert c.size_bytes() == 0 and c.get(KEY) is None


def test_bad_key_rejected() -> None:
    with pytest.raises(InputError):
        ArrayCache().path("../../etc/passwd")


def test_human_size() -> None:
    assert cache_mod.human_size(512) == "512 B"
    assert cache_mod.human_size(12_300_000) == "12.3 MB"


def test_cache_commands(capsys: pytest.CaptureFixture[str]) -> None:
    from core.cli import main

    c = ArrayCache()
    c.put(KEY, {"a": np.zeros(1000)})
    assert main(["cache", "info"]) == 0
    out = capsys.readouterr().out
    assert str(c.root) in out and "entries:      1 sound" in out and "kB" in out
    assert "corrupt" not in out
    other = "f" * 64
    c.put(other, {"a": np.ones(10)})
    c.path(other).write_bytes(b"flipped bits")
    assert main(["cache", "info"]) == 0
    out = capsys.readouterr().out
    assert "entries:      1 sound, 1 corrupt" in out and "checksum wrong" in out
    assert c.path(other).exists()  # info reports; it does not delete
    assert main(["cache", "clear"]) == 0
    assert "removed 4 files" in capsys.readouterr().out
    assert c.entries() == []
