"""A terminal progress bar for the CLI (stderr), with time left; Ctrl-C cancels cleanly."""

from __future__ import annotations

import signal
import sys
import time
from types import FrameType
from typing import TextIO

from ..progress import Progress


class TerminalProgress(Progress):
    """Draws ``[#####.....]  42%  2m10s left  message`` on stderr.

    The first Ctrl-C asks the running job to stop at its next check (it then raises
    ``Cancelled`` and cleans up); a second Ctrl-C interrupts at once.
    """

    def __init__(self, stream: TextIO | None = None, width: int = 30) -> None:
        super().__init__()
        self._stream = stream or sys.stderr
        self._width = width
        self._start = time.monotonic()
        self._fraction = 0.0
        self._message = ""
        self._last_draw = 0.0
        self._stop = False
        self._tty = self._stream.isatty()
        self._old_handler: object = None

    def __enter__(self) -> TerminalProgress:
        try:
            self._old_handler = signal.signal(signal.SIGINT, self._on_sigint)
        except ValueError:  # not the main thread
            self._old_handler = None
        return self

    def __exit__(self, *exc: object) -> None:
        if self._old_handler is not None:
            signal.signal(signal.SIGINT, self._old_handler)  # type: ignore[arg-type]
        self._draw(force=True)
        self._stream.write("\n")
        self._stream.flush()

    def _on_sigint(self, signum: int, frame: FrameType | None) -> None:
        if self._stop:
            raise KeyboardInterrupt
        self._stop = True
        self._message = "stopping (Ctrl-C again to abort at once)..."
        self._draw(force=True)

    def _cancel_requested(self) -> bool:
        return self._stop

    def _emit_fraction(self, fraction: float) -> None:
        self._fraction = max(self._fraction, fraction)
        self._draw()

    def _emit_message(self, text: str) -> None:
        self._message = text
        self._draw(force=not self._tty)

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_draw < 0.2:
            return
        self._last_draw = now
        elapsed = now - self._start
        f = self._fraction
        left = ""
        if 0.02 < f < 1.0:
            remaining = elapsed * (1.0 - f) / f
            left = f"{int(remaining // 60)}m{int(remaining % 60):02d}s left"
        filled = int(round(f * self._width))
        bar = "#" * filled + "." * (self._width - filled)
        line = f"[{bar}] {f * 100:5.1f}%  {left:>11}  {self._message}"
        if self._tty:
            self._stream.write("\r" + line[:160].ljust(160))
        else:
            self._stream.write(line + "\n")
        self._stream.flush()
