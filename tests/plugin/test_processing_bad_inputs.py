"""The bad-input walk over every Processing algorithm.

Each algorithm gets the bad inputs of the CLI walk (missing and damaged station inputs, output
folders that are files, impossible dates, unknown model sets, western extents, ...). A failure
must be a ``QgsProcessingException`` carrying the engine's message: never another exception
type (which Processing shows as a Python traceback), never a traceback in the log.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from qgis.core import QgsProcessingException, QgsProcessingFeedback

from .conftest import module

pytestmark = pytest.mark.usefixtures("registered_provider", "clean_project")

DEMO = 1  # index of the demo source in the SOURCE enum
WEST_EXTENT = "-97.52,-97.42,36.59,36.69 [EPSG:4326]"


class LogFeedback(QgsProcessingFeedback):
    """Feedback that keeps every line the algorithm reports."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def reportError(self, error: str, fatalError: bool = False) -> None:  # noqa: N802, N803
        self.lines.append(error)

    def pushInfo(self, info: str) -> None:  # noqa: N802
        self.lines.append(info)

    def pushWarning(self, warning: str) -> None:  # noqa: N802
        self.lines.append(warning)


class Inputs:
    """Bad inputs on disk."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.a_file = root / "a_file"
        self.a_file.write_text("not a folder")
        stm = (
            "ISMN SCAN Site 36.64 -97.47 300.0 0.00 0.05 Probe\n"
            + "".join(f"2020/06/{d:02d} 12:00 0.25 G M\n" for d in range(1, 29))
        ).encode()
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("a/site.stm", stm * 20)
        data = bytearray(buf.getvalue())
        for k in range(60, 120):
            data[k] ^= 0x33
        self.damaged_zip = root / "damaged.zip"
        self.damaged_zip.write_bytes(bytes(data))
        self.random_zip = root / "random.zip"
        self.random_zip.write_bytes(np.random.default_rng(0).bytes(3000))
        self.empty = root / "empty.csv"
        self.empty.write_text("")
        self.not_a_tif = root / "map.tif"
        self.not_a_tif.write_text("not a GeoTIFF")
        self.junk_models = root / "junk_models"
        self.junk_models.mkdir()
        (self.junk_models / "coarse_1_8.pt").write_bytes(b"junk")
        self.missing = root / "missing.stm"


def _adapt(i: Inputs, **changes: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "EXTENT": WEST_EXTENT,
        "STATIONS": [str(i.damaged_zip)],
        "DATES": "2020-08-31",
        "SOURCE": DEMO,
        "EPOCHS": 1,
        "CROSS_VALIDATE": False,
        "OUTPUT_FOLDER": str(i.root / "run"),
    }
    params.update(changes)
    return params


def _map(i: Inputs, **changes: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "ENSEMBLE": str(i.junk_models),
        "EXTENT": WEST_EXTENT,
        "DATES": "2020-08-31",
        "SOURCE": DEMO,
        "OUTPUT_FOLDER": str(i.root / "maps"),
    }
    params.update(changes)
    return params


CASES: list[tuple[str, str, Callable[[Inputs], dict[str, Any]]]] = [
    ("adaptmap", "damaged zip", lambda i: _adapt(i)),
    ("adaptmap", "random zip", lambda i: _adapt(i, STATIONS=[str(i.random_zip)])),
    ("adaptmap", "missing stations", lambda i: _adapt(i, STATIONS=[str(i.missing)])),
    ("adaptmap", "empty stations", lambda i: _adapt(i, STATIONS=[str(i.empty)])),
    ("adaptmap", "output is a file", lambda i: _adapt(i, OUTPUT_FOLDER=str(i.a_file))),
    ("adaptmap", "output through a file", lambda i: _adapt(i, OUTPUT_FOLDER=str(i.a_file / "run"))),
    ("adaptmap", "bad date", lambda i: _adapt(i, DATES="2020-13-40")),
    ("adaptmap", "year 1700", lambda i: _adapt(i, DATES="1700-01-01")),
    ("adaptmap", "words for dates", lambda i: _adapt(i, DATES="tomorrow")),
    ("adaptmap", "unknown models", lambda i: _adapt(i, MODELS="nope")),
    (
        "adaptmap",
        "train period reversed",
        lambda i: _adapt(i, TRAIN_START="2020-08-01", TRAIN_END="2020-01-01"),
    ),
    ("adaptmap", "no area", lambda i: _adapt(i, EXTENT=None)),
    ("installmodels", "random zip", lambda i: {"ARCHIVE": str(i.random_zip)}),
    ("installmodels", "junk folder", lambda i: {"FOLDER": str(i.junk_models)}),
    ("installmodels", "nothing given", lambda i: {}),
    ("installmodels", "bad name", lambda i: {"FOLDER": str(i.junk_models), "NAME": "../x"}),
    (
        "listsentinel1dates",
        "end before start",
        lambda i: {
            "EXTENT": WEST_EXTENT,
            "SOURCE": DEMO,
            "START": "2020-06-01",
            "END": "2020-01-01",
            "OUTPUT": "memory:",
        },
    ),
    (
        "listsentinel1dates",
        "no area",
        lambda i: {"SOURCE": DEMO, "START": "2020-01-01", "END": "2020-06-01", "OUTPUT": "memory:"},
    ),
    (
        "listsentinel1dates",
        "huge area",
        lambda i: {
            "EXTENT": "-110,-90,30,45 [EPSG:4326]",
            "SOURCE": DEMO,
            "START": "2020-01-01",
            "END": "2020-06-01",
            "OUTPUT": "memory:",
        },
    ),
    (
        "loadstations",
        "damaged zip",
        lambda i: {"STATIONS": [str(i.damaged_zip)], "OUTPUT": "memory:"},
    ),
    (
        "loadstations",
        "random zip",
        lambda i: {"STATIONS": [str(i.random_zip)], "OUTPUT": "memory:"},
    ),
    ("loadstations", "missing", lambda i: {"STATIONS": [str(i.missing)], "OUTPUT": "memory:"}),
    ("loadstations", "empty", lambda i: {"STATIONS": [str(i.empty)], "OUTPUT": "memory:"}),
    ("mapwithensemble", "junk ensemble", lambda i: _map(i)),
    ("mapwithensemble", "missing ensemble", lambda i: _map(i, ENSEMBLE=str(i.missing))),
    ("mapwithensemble", "output is a file", lambda i: _map(i, OUTPUT_FOLDER=str(i.a_file))),
    ("mapwithensemble", "bad dates", lambda i: _map(i, DATES="2020-02-30")),
    (
        "validateraster",
        "not a GeoTIFF",
        lambda i: {
            "INPUT": str(i.not_a_tif),
            "STATIONS": [str(i.damaged_zip)],
            "OUTPUT_FOLDER": str(i.root / "v"),
        },
    ),
    (
        "validateraster",
        "output is a file",
        lambda i: {
            "INPUT": str(i.not_a_tif),
            "STATIONS": [str(i.damaged_zip)],
            "OUTPUT_FOLDER": str(i.a_file),
        },
    ),
    (
        "validateraster",
        "missing stations",
        lambda i: {
            "INPUT": str(i.not_a_tif),
            "STATIONS": [str(i.missing)],
            "OUTPUT_FOLDER": str(i.root / "v"),
        },
    ),
]


def _install_published() -> None:
    from tests.conftest import PRETRAINED_DIR

    if not (PRETRAINED_DIR / "SHA256SUMS").exists():
        pytest.skip("published weights not available")
    module("core.model.store").install(PRETRAINED_DIR)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Inputs:
    return Inputs(tmp_path_factory.mktemp("bad_inputs"))


@pytest.mark.parametrize("alg,label,build", CASES, ids=[f"{c[0]}: {c[1]}" for c in CASES])
def test_walk(
    alg: str, label: str, build: Callable[[Inputs], dict[str, Any]], inputs: Inputs
) -> None:
    import processing

    if alg == "adaptmap" and label != "unknown models":
        _install_published()  # so that the run gets as far as the bad input
    feedback = LogFeedback()
    params = {k: v for k, v in build(inputs).items() if v is not None}
    try:
        processing.run(f"soilmoisture:{alg}", params, feedback=feedback)
    except QgsProcessingException as exc:
        message = str(exc)
        assert "Traceback" not in message, message
        assert message.strip(), "an empty error message"
    log = "\n".join(feedback.lines)
    assert "Traceback" not in log, log


def test_every_algorithm_has_cases(registered_provider: Any) -> None:
    ids = {alg.id().split(":")[1] for alg in registered_provider.algorithms()}
    covered = {c[0] for c in CASES}
    assert ids <= covered, f"algorithms without bad-input cases: {sorted(ids - covered)}"


def test_engine_errors_become_processing_errors(inputs: Inputs) -> None:
    """The message the user sees is the engine's, saying what to do."""
    import processing

    with pytest.raises(QgsProcessingException, match="output folder .* is an existing file"):
        processing.run(
            "soilmoisture:adaptmap",
            _adapt(inputs, OUTPUT_FOLDER=str(inputs.a_file)),
            feedback=LogFeedback(),
        )
    assert module("core.atomic").RUN_LOCK  # the engine seen from the plugin is the same


@pytest.mark.parametrize(
    "error,words",
    [
        (OSError(28, "No space left on device", "/out/sm.tif"), "the disk is full"),
        (MemoryError(), "out of memory"),
        (RuntimeError("boom"), "Internal error RuntimeError: boom"),
    ],
)
def test_failures_from_the_machine_become_processing_errors(
    plugin_package: Any, error: BaseException, words: str
) -> None:
    """Not only the engine's own errors: a full disk, no memory or a defect read as one line."""
    base = module("soilmoisture_plugin.algorithms.base")

    def fail() -> None:
        raise error

    with pytest.raises(QgsProcessingException, match=words) as info:
        base.SoilMoistureAlgorithm.engine(fail)
    assert "Traceback" not in str(info.value) and "half-written" in str(info.value)
