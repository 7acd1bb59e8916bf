"""A blocking Earth Engine call with a deadline, abandoned on time-out or on a cancel."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from ....errors import Cancelled
from ....progress import Progress
from .failures import RequestTimeout

REQUEST_DEADLINE_S = 300.0
"""A request still unanswered after this long is abandoned and retried."""


def call_with_deadline(
    fn: Callable[[], Any],
    deadline_s: float,
    progress: Progress | None = None,
    what: str = "Earth Engine request",
    poll_s: float = 0.1,
) -> Any:
    """Run ``fn`` in a daemon thread; give up after ``deadline_s`` or on a cancel.

    The abandoned call finishes (or times out in its transport) in the background; its result
    is dropped, so nothing it returns is ever stored.

    Raises:
        RequestTimeout: when no answer came within ``deadline_s``.
        Cancelled: when ``progress`` is cancelled while waiting.

    """
    done = threading.Event()
    result: list[Any] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            result.append(fn())
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            failure.append(exc)
        finally:
            done.set()

    threading.Thread(target=run, name="earth-engine-request", daemon=True).start()
    start = time.monotonic()
    while not done.wait(poll_s):
        if progress is not None and progress.cancelled:
            raise Cancelled()
        if time.monotonic() - start > deadline_s:
            raise RequestTimeout(f"{what}: no answer from Earth Engine within {deadline_s:.0f} s")
    if failure:
        raise failure[0]
    return result[0]
