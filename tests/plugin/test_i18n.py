"""Translations: every tr() string is in the French .ts, translated, and the .qm works."""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType

import pytest

from .conftest import REPO, module

TS = REPO / "i18n" / "soilmoisture_fr.ts"


def ts_messages(path: Path) -> dict[str, ET.Element]:
    return {m.findtext("source"): m for m in ET.parse(path).iter("message")}


@pytest.mark.skipif(shutil.which("pylupdate5") is None, reason="pylupdate5 not installed")
def test_every_tr_string_is_translated_in_french(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.ts"
    sources = sorted(str(p) for p in (REPO / "soilmoisture_plugin").rglob("*.py"))
    subprocess.run(["pylupdate5", *sources, "-ts", str(fresh)], check=True, capture_output=True)
    wanted = set(ts_messages(fresh))
    assert len(wanted) > 150
    french = ts_messages(TS)
    missing = sorted(wanted - set(french))
    assert not missing, f"strings missing from {TS.name} (run pylupdate5 and translate): {missing}"
    untranslated = [
        s
        for s, m in french.items()
        if s in wanted and (m.find("translation").get("type") or not m.findtext("translation"))
    ]
    assert not untranslated, untranslated
    for source, message in french.items():  # placeholders survive translation
        fields = sorted(re.findall(r"\{[^}]*\}", source))
        assert fields == sorted(re.findall(r"\{[^}]*\}", message.findtext("translation"))), source


@pytest.mark.skipif(shutil.which("lrelease") is None, reason="lrelease not installed")
def test_french_translator_translates_the_dock_strings(
    plugin_package: ModuleType, tmp_path: Path
) -> None:
    i18n = module("soilmoisture_plugin.i18n")
    subprocess.run(
        ["lrelease", "-silent", str(TS), "-qm", str(tmp_path / "soilmoisture_fr.qm")], check=True
    )
    assert i18n.install_translator("de", tmp_path) is None  # no German translation
    translator = i18n.install_translator("fr", tmp_path)
    assert translator is not None
    try:
        assert i18n.tr("Soil Moisture") == "Humidité du sol"
        assert i18n.tr("{n} acquisitions").format(n=3) == "3 acquisitions"
        assert i18n.tr("Find Sentinel-1 dates") == "Trouver les dates Sentinel-1"
    finally:
        i18n.remove_translator(translator)
    assert i18n.tr("Soil Moisture") == "Soil Moisture"
