"""A small progress and cancel protocol shared by every long-running job.

Core code reports a fraction and a message and checks for cancellation between tiles, models and
epochs. The faces adapt it: the CLI to a terminal bar, the plugin to ``QgsTask`` and
``QgsProcessingFeedback``. Core never sees a QGIS object.
"""

from __future__ import annotations

from collections.abc import Callable

from .errors import Cancelled


class Progress:
    """Progress reporter with cancellation; the base class reports nowhere and never cancels.

    Fractions are in [0, 1] of the reporter's own range. :meth:`sub` gives a child reporter that
    maps its own [0, 1] onto a slice of the parent's range, so nested stages compose.
    """

    def __init__(self) -> None:
        self._parent: Progress | None = None
        self._lo = 0.0
        self._hi = 1.0

    # -- to override in adapters ---------------------------------------------------------
    def _emit_fraction(self, fraction: float) -> None:
        """Receive an absolute fraction in [0, 1] (root reporter only)."""

    def _emit_message(self, text: str) -> None:
        """Receive a human-readable status message (root reporter only)."""

    def _cancel_requested(self) -> bool:
        """Say whether the user asked to stop (root reporter only)."""
        return False

    # -- public API -----------------------------------------------------------------------
    def _root(self) -> Progress:
        node = self
        while node._parent is not None:
            node = node._parent
        return node

    def _absolute(self, fraction: float) -> float:
        fraction = min(max(fraction, 0.0), 1.0)
        node: Progress = self
        while node._parent is not None:
            fraction = node._lo + fraction * (node._hi - node._lo)
            node = node._parent
        return fraction

    def fraction(self, value: float) -> None:
        """Report progress ``value`` in [0, 1] of this reporter's range."""
        self._root()._emit_fraction(self._absolute(value))

    def message(self, text: str) -> None:
        """Report a status message (a stage, a member, a tile)."""
        self._root()._emit_message(text)

    @property
    def cancelled(self) -> bool:
        """True once the user asked to stop."""
        return self._root()._cancel_requested()

    def check(self) -> None:
        """Raise :class:`~core.errors.Cancelled` if the user asked to stop."""
        if self.cancelled:
            raise Cancelled()

    def sub(self, start: float, end: float) -> Progress:
        """Return a child reporter whose [0, 1] maps onto [start, end] of this one."""
        child = Progress()
        child._parent = self
        child._lo, child._hi = start, end
        return child


class CallbackProgress(Progress):
    """Progress that forwards to plain callables (used by the faces and by tests)."""

    def __init__(
        self,
        on_fraction: Callable[[float], None] | None = None,
        on_message: Callable[[str], None] | None = None,
        is_cancelled: Callable[[], bool] | None = None,
    ) -> None:
        super().__init__()
        self._on_fraction = on_fraction
        self._on_message = on_message
        self._is_cancelled = is_cancelled

    def _emit_fraction(self, fraction: float) -> None:
        if self._on_fraction is not None:
            self._on_fraction(fraction)

    def _emit_message(self, text: str) -> None:
        if self._on_message is not None:
            self._on_message(text)

    def _cancel_requested(self) -> bool:
        return bool(self._is_cancelled()) if self._is_cancelled is not None else False


NULL_PROGRESS = Progress()
