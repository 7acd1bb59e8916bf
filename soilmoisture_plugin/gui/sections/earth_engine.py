"""The "Earth Engine" section: the Cloud project, browser sign-in, connect, connection check.

Sign-in, connecting and the check run in tasks (the browser sign-in waits for the redirect; a
second click on its button cancels the wait). Without earthengine-api the section is disabled
and says how to install it.
"""

from __future__ import annotations

from typing import Any

from qgis.PyQt.QtWidgets import QFormLayout, QLabel, QLineEdit, QPushButton

from ...i18n import tr
from ...settings import PluginSettings
from ...tasks import EngineTask
from .common import Section, TaskStarter, button_grid, error_style


class EarthEngineSection(Section):
    """Signing in to Google Earth Engine, and saying how the connection is."""

    WIDGETS = (
        "ee_project_edit",
        "ee_sign_in_button",
        "ee_connect_button",
        "ee_check_button",
        "ee_state",
    )
    """The widgets the dock shows as its own attributes (``dock.ee_project_edit``)."""

    def __init__(self, settings: PluginSettings, start_task: TaskStarter, available: bool) -> None:
        super().__init__(tr("Earth Engine"), "ee_group")
        self.settings = settings
        self.start_task = start_task
        self.sign_in_task: EngineTask | None = None
        form = QFormLayout()
        self.ee_project_edit = QLineEdit()
        self.ee_project_edit.setPlaceholderText(tr("Google Cloud project id, e.g. my-ee-project"))
        form.addRow(tr("Cloud project"), self.ee_project_edit)
        self.lay.addLayout(form)
        self._build_buttons()
        self.ee_state = QLabel(tr("Not signed in to Earth Engine."))
        self.ee_state.setObjectName("ee_state")
        self.ee_state.setWordWrap(True)
        self.lay.addWidget(self.ee_state)
        if not available:
            for w in (self.ee_sign_in_button, self.ee_connect_button, self.ee_project_edit):
                w.setEnabled(False)
            self.ee_state.setText(
                tr("earthengine-api is not installed: install it with Options > Python packages…")
            )
            error_style(self.ee_state, True)

    def _build_buttons(self) -> None:
        self.ee_sign_in_button = QPushButton(tr("Sign in…"))
        self.ee_sign_in_button.setToolTip(
            tr("Opens your browser to sign in to Google Earth Engine")
        )
        self.ee_sign_in_button.clicked.connect(self.ee_sign_in)
        self.ee_connect_button = QPushButton(tr("Connect"))
        self.ee_connect_button.setToolTip(
            tr("Start an Earth Engine session with the saved credentials")
        )
        self.ee_connect_button.clicked.connect(lambda: self.ee_connect())
        self.ee_check_button = QPushButton(tr("Check connection"))
        self.ee_check_button.setToolTip(
            tr("One tiny request per dataset: says what works and what to do about the rest")
        )
        self.ee_check_button.clicked.connect(self.ee_check)
        self.lay.addLayout(  # two per row: the dock stays narrow enough for a laptop
            button_grid([self.ee_sign_in_button, self.ee_connect_button, self.ee_check_button])
        )

    def set_available(self) -> None:
        """earthengine-api was just installed: sign-in and connect can be used."""
        for w in (self.ee_sign_in_button, self.ee_connect_button, self.ee_project_edit):
            w.setEnabled(True)
        self.ee_state.setText(tr("Not signed in to Earth Engine."))
        error_style(self.ee_state, False)

    def project(self) -> str | None:
        """The typed Cloud project id, or None."""
        return self.ee_project_edit.text().strip() or None

    def restore(self, settings: PluginSettings) -> None:
        """Show the Cloud project saved last time."""
        self.ee_project_edit.setText(settings.get("ee_project"))

    def save(self, settings: PluginSettings) -> None:
        """Remember the Cloud project."""
        settings.set("ee_project", self.ee_project_edit.text().strip())

    # ------------------------------------------------------------------ tasks
    def ee_connect(self, force: bool = False) -> EngineTask:
        """Start an Earth Engine session with the saved credentials (a task)."""
        from ....core.inputs.sources.ee import session as ee_auth

        project = self.project()
        self.settings.set("ee_project", project or "")
        self.show_state(tr("Connecting to Earth Engine…"))
        task = EngineTask(
            tr("Connecting to Earth Engine"),
            lambda _progress: ee_auth.initialize(project=project, force=force),
            self._connected,
            self._failed,
            can_cancel=False,
        )
        return self.start_task(task)

    def ee_sign_in(self) -> EngineTask | None:
        """Sign in through the browser, then connect (a task; the GUI stays responsive).

        While the browser sign-in is pending the button reads "Cancel sign-in"; clicking it
        again cancels the wait (returns None).
        """
        from ....core.inputs.sources.ee import signin as ee_auth

        if self.sign_in_task is not None:
            self.sign_in_task.cancel()
            return None
        project = self.project()
        self.settings.set("ee_project", project or "")
        self.show_state(tr("Waiting for the sign-in in your browser…"))

        def finished_ok(description: str) -> None:
            self._sign_in_finished()
            self._connected(description)

        def finished_failed(message: str, cancelled: bool) -> None:
            self._sign_in_finished()
            if cancelled:
                self.show_state(tr("Sign-in cancelled."))
            else:
                self._failed(message, cancelled)

        task = EngineTask(
            tr("Signing in to Earth Engine"),
            lambda progress: ee_auth.sign_in(project, progress),
            finished_ok,
            finished_failed,
        )
        self.sign_in_task = task
        self.ee_sign_in_button.setText(tr("Cancel sign-in"))
        return self.start_task(task)

    def ee_check(self) -> EngineTask:
        """Run the Earth Engine connection check (``soilmoisture ee-check``) as a task."""
        from ....core.inputs.sources.ee.check import check_connection, summary

        project = self.project()
        self.show_state(tr("Checking Earth Engine: one tiny request per dataset…"))

        def done(checks: list[Any]) -> None:
            text = "\n".join([summary(checks)] + [c.line() for c in checks])
            self.show_state(text, error=not all(c.ok for c in checks))

        task = EngineTask(
            tr("Checking the Earth Engine connection"),
            lambda progress: check_connection(project=project, progress=progress),
            done,
            self._failed,
        )
        return self.start_task(task)

    def show_state(self, text: str, error: bool = False) -> None:
        """Say how the connection is (in red for an ``error``)."""
        self.ee_state.setText(text)
        error_style(self.ee_state, error)

    def _sign_in_finished(self) -> None:
        self.sign_in_task = None
        self.ee_sign_in_button.setText(tr("Sign in…"))

    def _connected(self, description: str) -> None:
        self.show_state(tr("Earth Engine: {state}").format(state=description))

    def _failed(self, message: str, _cancelled: bool) -> None:
        self.show_state(message, error=True)
