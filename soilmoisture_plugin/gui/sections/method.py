"""The "Options" section: data source, method, alpha, device, epochs, BatchNorm, output folder.

It also holds the button to the Python packages dialog, and remembers the choices a user is
likely to reuse (:meth:`MethodSection.restore` and :meth:`MethodSection.save`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qgis.gui import QgsFileWidget
from qgis.PyQt.QtCore import pyqtSignal
from qgis.PyQt.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QPushButton,
    QSpinBox,
)

from ...algorithms.base import BATCHNORM_CHOICES, METHODS, SOURCES, consistency_choice
from ...i18n import tr
from ...settings import PluginSettings
from .common import Section, select_data


class MethodSection(Section):
    """How to adapt and map, and where to write the run.

    Signals:
        sourceChanged(): another data source was chosen.
        packagesRequested(): the user asked for the Python packages dialog.
    """

    sourceChanged = pyqtSignal()  # noqa: N815 (Qt naming)
    packagesRequested = pyqtSignal()  # noqa: N815 (Qt naming)

    WIDGETS = (
        "source_combo",
        "method_combo",
        "alpha_auto",
        "alpha_spin",
        "device_combo",
        "epochs_spin",
        "batchnorm_combo",
        "consistency_check",
        "output_widget",
        "packages_button",
    )
    """The widgets the dock shows as its own attributes (``dock.source_combo``)."""

    def __init__(self) -> None:
        super().__init__(tr("Options"), "options_group")
        self.wanted_device: Any = None
        """The device saved last time: chosen once the GPUs are detected."""
        form = QFormLayout()
        self._build_source_and_method(form)
        self._build_alpha(form)
        self._build_run_options(form)
        self.lay.addLayout(form)

    def _build_source_and_method(self, form: QFormLayout) -> None:
        self.source_combo = QComboBox()
        for name, label in SOURCES:
            self.source_combo.addItem(tr(label), name)
        self.source_combo.currentIndexChanged.connect(lambda _index: self.sourceChanged.emit())
        form.addRow(tr("Data source"), self.source_combo)
        self.method_combo = QComboBox()
        for name, label in METHODS:
            self.method_combo.addItem(tr(label), name)
        form.addRow(tr("Method"), self.method_combo)

    def _build_alpha(self, form: QFormLayout) -> None:
        alpha_row = QHBoxLayout()
        self.alpha_auto = QCheckBox(tr("Automatic"))
        self.alpha_auto.setChecked(True)
        self.alpha_spin = QDoubleSpinBox()
        self.alpha_spin.setRange(0.0, 1.0)
        self.alpha_spin.setSingleStep(0.05)
        self.alpha_spin.setValue(0.7)
        self.alpha_spin.setEnabled(False)
        self.alpha_auto.toggled.connect(lambda on: self.alpha_spin.setEnabled(not on))
        alpha_row.addWidget(self.alpha_auto)
        alpha_row.addWidget(self.alpha_spin)
        form.addRow(tr("Alpha (50 m loss weight)"), alpha_row)

    def _build_run_options(self, form: QFormLayout) -> None:
        self.device_combo = QComboBox()
        self.device_combo.addItem(tr("CPU"), "cpu")
        self.device_combo.setToolTip(tr("CUDA appears when torch finds a GPU"))
        form.addRow(tr("Device"), self.device_combo)
        self.epochs_spin = QSpinBox()
        self.epochs_spin.setRange(1, 1000)
        self.epochs_spin.setValue(50)
        form.addRow(tr("Epochs"), self.epochs_spin)
        self.batchnorm_combo = QComboBox()
        for value, label in BATCHNORM_CHOICES:
            self.batchnorm_combo.addItem(tr(label), value)
        self.batchnorm_combo.setToolTip(
            tr(
                "How BatchNorm normalises while the ensemble adapts: by the pretrained "
                "statistics (the default; carries over better to stations left out of "
                "training) or by each batch's own (the method as published)"
            )
        )
        form.addRow(tr("BatchNorm"), self.batchnorm_combo)
        self.consistency_check = QCheckBox(tr("Match SMAP at 9 km"))
        self.consistency_check.setChecked(True)
        self.consistency_check.setToolTip(
            tr(
                "While adapting, draw the mean of the 50 m predictions of each 9 km cell toward "
                "its SMAP value on every training date (MS and MSDA). Off: the method as "
                "published"
            )
        )
        form.addRow(tr("Consistency"), self.consistency_check)
        self.output_widget = QgsFileWidget()
        self.output_widget.setStorageMode(QgsFileWidget.StorageMode.GetDirectory)
        self.output_widget.setDialogTitle(tr("Output folder"))
        form.addRow(tr("Output folder"), self.output_widget)
        self.packages_button = QPushButton(tr("Python packages…"))
        self.packages_button.setObjectName("packages_button")
        self.packages_button.setToolTip(
            tr("Install or remove the Python packages the plugin needs (torch, shapely, …)")
        )
        self.packages_button.clicked.connect(self.packagesRequested.emit)
        form.addRow(tr("Packages"), self.packages_button)

    # ------------------------------------------------------------------ values
    def source(self) -> Any:
        """The chosen data source's name (``"demo"``, ``"gee"``)."""
        return self.source_combo.currentData()

    def method(self) -> Any:
        """The chosen adaptation method's name."""
        return self.method_combo.currentData()

    def alpha(self) -> float | None:
        """The weight of the 50 m loss, or None for the automatic choice."""
        return None if self.alpha_auto.isChecked() else float(self.alpha_spin.value())

    def device(self) -> Any:
        """The chosen device (``"cpu"``, ``"cuda"``, ``"cuda:1"``)."""
        return self.device_combo.currentData()

    def epochs(self) -> int:
        """The number of adaptation epochs."""
        return int(self.epochs_spin.value())

    def batchnorm(self) -> Any:
        """The BatchNorm mode of the adaptation (``"batch"`` or ``"pretrained"``)."""
        return self.batchnorm_combo.currentData()

    def consistency(self) -> dict[str, float]:
        """``AdaptMapConfig`` keywords of the 9 km consistency choice (empty: the default)."""
        return consistency_choice(self.consistency_check.isChecked())

    def output_root(self, fallback: str) -> Path:
        """The output folder, or ``fallback`` when none is typed."""
        text = self.output_widget.filePath().strip()
        return Path(text).expanduser() if text else Path(fallback)

    def add_devices(self, devices: list[tuple[str, str]]) -> None:
        """Offer the detected CUDA ``devices`` (device, name); select the saved one."""
        for name, label in devices:
            if self.device_combo.findData(name) < 0:
                self.device_combo.addItem(tr("CUDA ({gpu})").format(gpu=label), name)
        select_data(self.device_combo, self.wanted_device)

    # ------------------------------------------------------------------ settings
    def restore(self, settings: PluginSettings) -> None:
        """Show the choices saved last time."""
        select_data(self.source_combo, settings.get("source"))
        select_data(self.method_combo, settings.get("method"))
        self.output_widget.setFilePath(settings.get("last_output_dir"))
        self.epochs_spin.setValue(settings.get("epochs"))
        select_data(self.batchnorm_combo, settings.get("batchnorm_mode"))
        self.consistency_check.setChecked(bool(settings.get("consistency")))
        self.wanted_device = settings.get("device")

    def save(self, settings: PluginSettings) -> None:
        """Remember the choices the user is likely to reuse."""
        settings.set("source", self.source_combo.currentData())
        settings.set("method", self.method_combo.currentData())
        settings.set("device", self.device_combo.currentData())
        settings.set("epochs", self.epochs_spin.value())
        settings.set("batchnorm_mode", self.batchnorm_combo.currentData())
        settings.set("consistency", self.consistency_check.isChecked())
        if self.output_widget.filePath():
            settings.set("last_output_dir", self.output_widget.filePath())


def detect_cuda(_progress: Any) -> list[tuple[str, str]]:
    """CUDA devices torch can use, as (device, name) (imports torch: run it in a task)."""
    import torch

    if not torch.cuda.is_available():
        return []
    return [
        (f"cuda:{i}" if i else "cuda", torch.cuda.get_device_name(i))
        for i in range(torch.cuda.device_count())
    ]
