"""The run's results in words a hydrologist uses, and charts that follow the dock's width.

The engine names its comparisons by column (``adapted_cv``, ``smap_9km``); the dock shows
what they are, and says first, in one or two sentences, which method is most accurate at the
stations left out of training and whether the adapted map beats SMAP and the baselines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QPixmap
from qgis.PyQt.QtWidgets import QLabel, QSizePolicy, QWidget

from ..i18n import tr

UNIT = "m³/m³"


def display_name(column: str, method: str = "", article: bool = False) -> str:
    """Return what a comparison column is, in plain words (``article``: inside a sentence)."""
    if article and column in (
        "adapted_cv",
        "adapted_in_sample",
        "adapted_smap_blend",
        "pretrained",
        "pretrained_smap_blend",
    ):
        return tr("the {name}").format(name=display_name(column, method))
    names = {
        "adapted_cv": tr("adapted map ({method})").format(method=method.upper() or "MSDA"),
        "adapted_in_sample": tr("adapted map, fit to its own stations"),
        "adapted_smap_blend": tr("adapted map blended with SMAP"),
        "pretrained": tr("pretrained model (no adaptation)"),
        "pretrained_smap_blend": tr("pretrained model blended with SMAP"),
        "random_forest": tr("random forest"),
        "xgboost": tr("XGBoost"),
        "smap_9km": tr("SMAP 9 km"),
    }
    return names.get(column, column.replace("_", " "))


def short_name(column: str, held_out: bool, method: str = "") -> str:
    """Return a table label: short, and saying whether the check is held out or a fit."""
    m = method.upper() or "MSDA"
    names = {
        "adapted_cv": tr("{method} map").format(method=m),
        "adapted_in_sample": tr("{method} fit").format(method=m),
        "adapted_smap_blend": tr("{method}+SMAP").format(method=m),
        "pretrained": tr("pretrained"),
        "pretrained_smap_blend": tr("pretrained+SMAP"),
        "random_forest": tr("random forest"),
        "xgboost": tr("XGBoost"),
        "smap_9km": tr("SMAP 9 km"),
    }
    name = names.get(column, column.replace("_", " "))
    if column in ("smap_9km", "pretrained"):
        return name  # neither ever saw the stations: neither held out nor a fit
    return (tr("{name}, held out") if held_out else tr("{name}, in sample")).format(name=name)


def _rmse(report: Any) -> float | None:
    pooled = report.get("pooled") if isinstance(report, dict) else None
    if not isinstance(pooled, dict) or pooled.get("rmse") is None:
        return None
    return float(pooled["rmse"])


def plain_summary(metrics: dict[str, Any], method: str = "") -> str:
    """Say which method is most accurate at held-out stations and how the adapted map compares.

    The adapted map is the one the run recommends: its SMAP blend when that did better at the
    held-out stations (``metrics["smap_blend"]["map"]["recommended"]``), else the map itself.

    Args:
        metrics: The run's metrics (``methods``: column -> report, ``held_out``: columns
            predicted without their own station).
        method: The adaptation method (for its name).

    Returns:
        One to three sentences; empty when there is nothing to compare.

    """
    reports = (metrics or {}).get("methods") or {}
    held = set((metrics or {}).get("held_out") or {})
    # fair comparisons: predicted without the station's own data (SMAP never saw it either)
    fair = {c: _rmse(r) for c, r in reports.items() if c in held or c == "smap_9km"}
    fair = {c: v for c, v in fair.items() if v is not None}
    if "adapted_cv" not in fair:
        fit = _rmse(reports.get("adapted_in_sample"))
        if fit is None:
            return ""
        return tr(
            "No held-out check was run (cross-validation off, or a single station): the fit "
            "to the stations (RMSE {rmse:.3f} {unit}) flatters the map. Tick cross-validation "
            "to know how it does at places without a station."
        ).format(rmse=fit, unit=UNIT)
    blend = ((metrics or {}).get("smap_blend") or {}).get("map") or {}
    # the run's recommended map: its SMAP blend when that did better held out
    own = (
        "adapted_smap_blend"
        if blend.get("recommended") == "blend" and "adapted_smap_blend" in fair
        else "adapted_cv"
    )
    # the other of the map and its blend is not a competitor of the recommended one
    other = "adapted_cv" if own == "adapted_smap_blend" else "adapted_smap_blend"
    fair.pop(other, None)
    best = min(fair, key=lambda c: fair[c])
    ours = fair[own]
    subject = (
        tr("The adapted map blended with SMAP ({rmse:.3f})")
        if own == "adapted_smap_blend"
        else tr("The adapted map ({rmse:.3f})")
    ).format(rmse=ours)
    parts = [
        tr(
            "At stations left out of training, the most accurate is {best} "
            "(RMSE {rmse:.3f} {unit})."
        ).format(best=display_name(best, method, article=True), rmse=fair[best], unit=UNIT)
    ]
    beaten = [c for c in fair if c != own and fair[c] > ours]
    better = [c for c in fair if c != own and fair[c] <= ours]

    def listing(columns: list[str]) -> str:
        return ", ".join(
            f"{display_name(c, method)} ({fair[c]:.3f})" for c in sorted(columns, key=fair.get)
        )

    if best == own:
        parts.append(
            tr("{subject} beats {others}.").format(subject=subject, others=listing(beaten))
            if beaten
            else ""
        )
    else:
        text = tr("{subject} is less accurate than {others}").format(
            subject=subject, others=listing(better)
        )
        if beaten:
            text += tr("; it beats {others}").format(others=listing(beaten))
        parts.append(text + ".")
    return " ".join(p for p in parts if p)


def checks_summary(metrics: dict[str, Any]) -> str:
    """One or two sentences on the run's input checks (input health, 9 km self-check).

    Args:
        metrics: The run's metrics; ``input_checks`` holds what :mod:`core.run.health` made.

    Returns:
        The sentences; empty when the run made no checks.

    """
    checks = (metrics or {}).get("input_checks") or {}
    health = checks.get("input_health") or {}
    self_check = checks.get("smap_self_check") or {}
    parts = []
    if self_check.get("status") in ("ok", "caution", "bad"):
        rmse = float(self_check["rmse"])
        if self_check["status"] == "ok":
            parts.append(
                tr(
                    "Input check passed: the pretrained model is within {rmse:.3f} {unit} of "
                    "SMAP over the area (about {ref:.2f} in its training)."
                ).format(rmse=rmse, unit=UNIT, ref=float(self_check["reference_rmse"]))
            )
        else:
            parts.append(
                tr(
                    "Input check: the pretrained model is {rmse:.3f} {unit} from SMAP over the "
                    "area, against about {ref:.2f} in its training; an input may be "
                    "mis-prepared, or the area unlike the training areas (see the report)."
                ).format(rmse=rmse, unit=UNIT, ref=float(self_check["reference_rmse"]))
            )
    far = [e for e in health.get("inputs", []) if e.get("status") == "bad"]
    if far:
        parts.append(
            tr("Inputs far outside what the model saw: {names}.").format(
                names=", ".join(str(e["label"]) for e in far)
            )
        )
    return " ".join(parts)


class ChartLabel(QLabel):
    """A chart image that scales to the width it is given (never wider, never cropped)."""

    def __init__(self, png: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chart")
        self.setToolTip(png.name)
        self._pixmap = QPixmap(str(png))
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(120)
        self._width = 0
        self.rescale(360)

    def is_valid(self) -> bool:
        """False when the image could not be read."""
        return not self._pixmap.isNull()

    def rescale(self, width: int) -> None:
        """Scale the chart to ``width`` pixels (height follows)."""
        if self._pixmap.isNull() or width <= 0 or width == self._width:
            return
        self._width = width
        scaled = self._pixmap.scaledToWidth(width, Qt.TransformationMode.SmoothTransformation)
        self.setPixmap(scaled)
        self.setFixedHeight(scaled.height())

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 (Qt API)
        """Follow the dock's width."""
        super().resizeEvent(event)
        self.rescale(min(self.width(), self._pixmap.width() * 2))
