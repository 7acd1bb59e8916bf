"""The allocator settings applied when an ensemble is built."""

from __future__ import annotations

import sys

import pytest

from core.model import runtime


def test_respects_the_users_own_malloc_settings(monkeypatch):
    monkeypatch.setattr(runtime, "_state", {})
    monkeypatch.setenv("SOILMOISTURE_KEEP_MALLOC", "1")
    assert runtime.tune_allocator() is False
    # decided once per process
    monkeypatch.delenv("SOILMOISTURE_KEEP_MALLOC")
    assert runtime.tune_allocator() is False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc mallopt is Linux-only")
def test_sets_the_thresholds_on_glibc(monkeypatch):
    for name in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "SOILMOISTURE_KEEP_MALLOC"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(runtime, "_state", {})
    assert runtime.tune_allocator() is True
    assert runtime.tune_allocator() is True
