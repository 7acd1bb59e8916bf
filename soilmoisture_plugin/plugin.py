"""The plugin object QGIS creates through ``classFactory``: it only wires things together.

- ``initProcessing``: registers the Processing provider (also called by QGIS when the plugin is
  used headless, e.g. from ``qgis_process``).
- ``initGui``: installs the translator, the menu entry and toolbar button that show the dock,
  and says (message bar, one short line and a button) when engine packages are missing.
- ``unload``: undoes each of these exactly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qgis.core import QgsApplication
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import QAction

from .compat import MSG_WARNING
from .deps import DependencyReport, activate, check_dependencies
from .i18n import install_translator, remove_translator, tr

ICON_PATH = Path(__file__).resolve().parent.parent / "resources" / "icon.svg"
MENU = "&Soil Moisture"


def plugin_icon() -> QIcon:
    """Return the plugin's icon."""
    return QIcon(str(ICON_PATH))


class SoilMoisturePlugin:
    """Soil moisture plugin: a dock ("Adapt & Map") and a Processing provider."""

    def __init__(self, iface: Any) -> None:
        """Keep the QGIS interface; nothing heavy is imported here."""
        self.iface = iface
        activate()  # the folder the plugin installs packages into, when there is one
        self.dependencies: DependencyReport = check_dependencies()
        self.provider: Any = None
        self.dock: Any = None
        self.action: QAction | None = None
        self.menu = MENU
        self._translator = install_translator()
        self._dependency_message: Any = None
        self._packages_dialog: Any = None

    # -- Processing ------------------------------------------------------------------------
    def initProcessing(self) -> None:  # noqa: N802 (QGIS API)
        """Register the Processing provider (once)."""
        if self.provider is not None:
            return
        from .algorithms.provider import SoilMoistureProvider

        self.provider = SoilMoistureProvider(self.dependencies)
        QgsApplication.processingRegistry().addProvider(self.provider)

    # -- GUI -----------------------------------------------------------------------------
    def initGui(self) -> None:  # noqa: N802 (QGIS API)
        """Add the menu entry and toolbar button, the provider, and warn of missing packages."""
        self.initProcessing()
        self.action = QAction(plugin_icon(), tr("Soil Moisture"), self.iface.mainWindow())
        self.action.setObjectName("soilmoisture_show_dock")
        self.action.setCheckable(True)
        self.action.setToolTip(tr("Show the Soil Moisture dock (Adapt & Map)"))
        self.action.toggled.connect(self._toggle_dock)
        self.iface.addPluginToMenu(self.menu, self.action)
        self.iface.addToolBarIcon(self.action)
        if not self.dependencies.ok:
            self._warn_missing_dependencies()

    def _warn_missing_dependencies(self) -> None:
        """Say in one short line what is missing, with a button to the full text and installer."""
        from qgis.PyQt.QtWidgets import QPushButton

        bar = self.iface.messageBar()
        text = tr("{summary} The plugin can install what is missing.").format(
            summary=self.dependencies.summary()
        )
        item = bar.createMessage(tr("Soil Moisture"), text)
        button = QPushButton(tr("Install dependencies…"))
        button.setObjectName("soilmoisture_install_dependencies")
        button.clicked.connect(self.show_dependencies)
        item.layout().addWidget(button)
        self._dependency_message = bar.pushWidget(item, MSG_WARNING, 0)

    def show_dependencies(self) -> Any:
        """Open the dialog that lists the missing packages and installs them; returns it."""
        from .gui.packages import PackagesDialog

        if self._packages_dialog is None:
            self._packages_dialog = PackagesDialog(
                self.dependencies, self.iface.mainWindow(), on_change=self._dependencies_changed
            )
        self._packages_dialog.show()
        self._packages_dialog.raise_()
        return self._packages_dialog

    def _dependencies_changed(self, report: DependencyReport) -> None:
        """Packages were installed: every part of the plugin uses them at once."""
        self.dependencies = report
        if self.provider is not None:
            self.provider.dependencies = report
        if self.dock is not None:
            self.dock.set_dependencies(report)
        if report.can_run and self._dependency_message is not None:
            try:
                self.iface.messageBar().popWidget(self._dependency_message)
            except RuntimeError:  # already closed by the user
                pass
            self._dependency_message = None

    def show_dock(self) -> Any:
        """Create the dock on first use and show it; returns it."""
        if self.dock is None:
            from .gui.dock import SoilMoistureDock

            self.dock = SoilMoistureDock(self.iface, self.dependencies)
            self.dock.packagesRequested.connect(self.show_dependencies)
            self.dock.setObjectName("SoilMoistureDock")
            self.iface.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
            self.dock.visibilityChanged.connect(self._dock_visibility)
        self.dock.show()
        self.dock.raise_()
        if self.action is not None and not self.action.isChecked():
            self.action.setChecked(True)
        return self.dock

    def _toggle_dock(self, checked: bool) -> None:  # noqa: FBT001 (Qt signal)
        if checked:
            self.show_dock()
        elif self.dock is not None:
            self.dock.hide()

    def _dock_visibility(self, visible: bool) -> None:  # noqa: FBT001 (Qt signal)
        if self.action is not None and self.action.isChecked() != visible:
            self.action.blockSignals(True)
            self.action.setChecked(visible)
            self.action.blockSignals(False)

    def unload(self) -> None:
        """Remove everything :meth:`initGui` and :meth:`initProcessing` added."""
        if self.dock is not None:
            self.dock.shutdown()
            self.iface.removeDockWidget(self.dock)
            self.dock.setParent(None)
            self.dock.deleteLater()
            self.dock = None
        if self.action is not None:
            self.iface.removePluginMenu(self.menu, self.action)
            self.iface.removeToolBarIcon(self.action)
            self.action.setParent(None)
            self.action.deleteLater()
            self.action = None
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
        if self._dependency_message is not None:
            try:
                self.iface.messageBar().popWidget(self._dependency_message)
            except RuntimeError:  # already closed by the user (C++ object deleted)
                pass
            self._dependency_message = None
        if self._packages_dialog is not None:
            if self._packages_dialog.task is not None:
                self._packages_dialog.task.detach()
            self._packages_dialog.close()
            self._packages_dialog.setParent(None)
            self._packages_dialog.deleteLater()
            self._packages_dialog = None
        remove_translator(self._translator)
        self._translator = None
