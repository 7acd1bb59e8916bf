"""A :class:`QgsTask` that runs one engine call in the background.

Rules (QGIS runs ``run()`` in a worker thread):

- ``run()`` only calls the engine: no widget, no layer creation, no ``QgsProject`` access;
  it may emit signals (delivered queued to the main thread).
- ``finished()`` runs on the main thread once the work ended (or was cancelled before
  starting): that is where results become layers and widgets change.
- Every exception is caught in ``run()`` and reported in ``finished()``: an engine
  :class:`~core.errors.SoilMoistureError` with its own message, anything else as an
  unexpected error with the traceback in the message log.
- A cancel is not a failure: ``run()`` then returns True, so QGIS does not announce
  "Task failed", and ``finished()`` hands the cancel to ``on_failure`` with ``cancelled``.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any

from qgis.core import QgsMessageLog, QgsTask
from qgis.PyQt.QtCore import pyqtSignal

from ..core.errors import Cancelled, SoilMoistureError
from .compat import MSG_CRITICAL, TASK_CAN_CANCEL
from .i18n import tr
from .progress import TaskProgress

LOG_TAG = "Soil Moisture"
log = logging.getLogger(__name__)


class EngineTask(QgsTask):
    """Run ``work(progress)`` in the background and report on the main thread.

    Signals:
        messageChanged(str): a status message from the engine (emitted from the worker thread).
    """

    messageChanged = pyqtSignal(str)  # noqa: N815 (Qt naming)

    def __init__(
        self,
        description: str,
        work: Callable[[TaskProgress], Any],
        on_success: Callable[[Any], None] | None = None,
        on_failure: Callable[[str, bool], None] | None = None,
        can_cancel: bool = True,
    ) -> None:
        """Create the task (start it with ``QgsApplication.taskManager().addTask(task)``).

        Args:
            description: Label shown in the task manager.
            work: The engine call; receives a :class:`TaskProgress`, returns the result.
            on_success: Called on the main thread with the result.
            on_failure: Called on the main thread with (message, cancelled).
            can_cancel: Whether the task manager offers Cancel.

        """
        flags = TASK_CAN_CANCEL if can_cancel else QgsTask.Flags()
        super().__init__(description, flags)
        self._work = work
        self._on_success = on_success
        self._on_failure = on_failure
        self.result: Any = None
        self.error: str | None = None
        self.was_cancelled = False
        self.done = False

    def detach(self) -> None:
        """Drop the callbacks (their widgets are going away); the task may still finish."""
        self._on_success = None
        self._on_failure = None

    def run(self) -> bool:
        """Worker thread: call the engine, keep the result or the error."""
        progress = TaskProgress(self, self.messageChanged.emit)
        try:
            self.result = self._work(progress)
            if self.isCanceled():
                self.was_cancelled = True
            return True
        except Cancelled as exc:
            self.was_cancelled = True
            self.error = str(exc)
            return True  # a cancel is not a failure
        except SoilMoistureError as exc:
            self.error = str(exc)
        except MemoryError:
            self.error = tr(
                "Out of memory. Use a smaller area or close other programs; nothing "
                "half-written was kept."
            )
        except Exception as exc:  # noqa: BLE001 (a task must never raise)
            self.error = tr("Unexpected error: {error}").format(error=exc)
            QgsMessageLog.logMessage(traceback.format_exc(), LOG_TAG, MSG_CRITICAL)
        return False

    def finished(self, result: bool) -> None:  # noqa: FBT001 (QgsTask API)
        """Return main thread: hand the result or the error to the callbacks."""
        self.done = True
        if result and not self.was_cancelled:
            if self._on_success is not None:
                self._on_success(self.result)
            return
        cancelled = self.was_cancelled or self.isCanceled()
        message = self.error or (
            tr("Cancelled by the user.") if cancelled else tr("The task failed.")
        )
        if self._on_failure is not None:
            self._on_failure(message, cancelled)
