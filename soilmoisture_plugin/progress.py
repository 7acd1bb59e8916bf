"""Adapters from the engine's :class:`~core.progress.Progress` to QGIS tasks and feedback.

The engine reports fractions and messages and polls for cancellation; these adapters forward
them to a :class:`QgsTask` (dock runs) or a :class:`QgsProcessingFeedback` (Processing). The
engine never sees a QGIS object.
"""

from __future__ import annotations

from collections.abc import Callable

from qgis.core import QgsProcessingFeedback, QgsTask

from ..core.progress import Progress


class TaskProgress(Progress):
    """Progress reported to a :class:`QgsTask` (task manager bar) and an optional callback.

    Called from the task's worker thread: ``setProgress`` is thread-safe (it emits a queued
    signal), and ``on_message`` must only emit signals, never touch widgets.
    """

    def __init__(self, task: QgsTask, on_message: Callable[[str], None] | None = None) -> None:
        super().__init__()
        self._task = task
        self._on_message = on_message

    def _emit_fraction(self, fraction: float) -> None:
        self._task.setProgress(100.0 * fraction)

    def _emit_message(self, text: str) -> None:
        if self._on_message is not None:
            self._on_message(text)

    def _cancel_requested(self) -> bool:
        return bool(self._task.isCanceled())


class FeedbackProgress(Progress):
    """Progress reported to a Processing :class:`QgsProcessingFeedback`."""

    def __init__(self, feedback: QgsProcessingFeedback | None) -> None:
        super().__init__()
        self._feedback = feedback

    def _emit_fraction(self, fraction: float) -> None:
        if self._feedback is not None:
            self._feedback.setProgress(100.0 * fraction)

    def _emit_message(self, text: str) -> None:
        if self._feedback is not None:
            self._feedback.pushInfo(text)

    def _cancel_requested(self) -> bool:
        return self._feedback is not None and bool(self._feedback.isCanceled())
