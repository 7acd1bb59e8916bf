"""Which form of the EASE-2 grid's projection the service accepts, probed once per session.

The grid can be sent as WKT with its EPSG authority, WKT without any authority clause, or the
code ``EPSG:6933``; :func:`probe_grid_form` tries them with a tiny request and remembers the
first one the service parses.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Sequence
from typing import Any

from ....errors import DataSourceError, InputError
from ...grid import GridWindow
from .deadline import REQUEST_DEADLINE_S
from .failures import CRS_MARKERS, RequestTimeout

log = logging.getLogger(__name__)


GRID_FORMS = ("wkt", "wkt-plain", "code")
"""How the EASE-2 grid's projection can be sent: WKT with its EPSG authority, WKT without any
authority clause, or the code ``EPSG:6933``. Which one the service parses cannot be settled
offline, so the first request of a session probes them in this order."""


GRID_FORM_NAMES = {
    "wkt": "WKT with the EPSG:6933 authority (crsWkt)",
    "wkt-plain": "WKT without authority clauses (crsWkt)",
    "code": "the code EPSG:6933 (crsCode)",
}


_AUTHORITY = re.compile(r',AUTHORITY\["[^"]*","[^"]*"\]')


_grid_state: dict[str, str | None] = {"form": None}


_grid_lock = threading.Lock()


_probe_lock = threading.Lock()


def ee_grid(window: GridWindow, form: str = "wkt") -> dict[str, Any]:
    """The ``grid`` member of a computePixels request in one of :data:`GRID_FORMS`."""
    grid = window.ee_grid()
    if form == "wkt":
        return grid
    wkt = grid.pop("crsWkt")
    if form == "wkt-plain":
        grid["crsWkt"] = _AUTHORITY.sub("", wkt)
    elif form == "code":
        grid["crsCode"] = "EPSG:6933"
    else:
        raise InputError(f"unknown grid form {form!r}; expected one of {GRID_FORMS}")
    return grid


def grid_form() -> str | None:
    """The grid form found to work in this session (None before the probe)."""
    with _grid_lock:
        return _grid_state["form"]


def forget_grid_form() -> None:
    """Forget the probed grid form (a new session probes again)."""
    with _grid_lock:
        _grid_state["form"] = None


def probe_grid_form(
    window: GridWindow,
    compute: Callable[[dict[str, Any]], Any] | None = None,
    forms: Sequence[str] = GRID_FORMS,
    wait_s: float = REQUEST_DEADLINE_S,
) -> str:
    """Find which grid form the service accepts with a tiny request (2 x 2 cells); remember it.

    Tried in order; a refusal that names the projection moves on to the next form, any other
    failure is raised as it is (it is not about the grid). Does nothing when a form is known;
    concurrent callers wait for one probe.

    Args:
        window: where to probe (its top-left 2 x 2 cells are used).
        compute: the computePixels function (default ``ee.data.computePixels``).
        forms: the forms to try.
        wait_s: how long to wait for a probe already running elsewhere.

    Returns:
        The accepted form (one of :data:`GRID_FORMS`).

    Raises:
        DataSourceError: when the service refuses every form.
        RequestTimeout: when another probe did not finish within ``wait_s``.

    """
    known = grid_form()
    if known is not None:
        return known
    if not _probe_lock.acquire(timeout=wait_s):
        raise RequestTimeout(f"grid probe: no answer from Earth Engine within {wait_s:.0f} s")
    try:
        known = grid_form()
        if known is not None:
            return known
        import ee

        compute = compute or ee.data.computePixels
        tiny = GridWindow(window.level, window.row0, window.col0, 2, 2)
        refusals: list[str] = []
        for form in forms:
            params = {
                "expression": ee.Image.constant(1).rename("probe").toFloat(),
                "fileFormat": "NUMPY_NDARRAY",
                "bandIds": ["probe"],
                "grid": ee_grid(tiny, form),
            }
            try:
                compute(params)
            except Exception as exc:  # noqa: BLE001 - projection refusals are expected here
                text = str(exc)
                if any(m in text.lower() for m in CRS_MARKERS):
                    refusals.append(f"{GRID_FORM_NAMES[form]}: {text}")
                    continue
                raise
            with _grid_lock:
                _grid_state["form"] = form
            log.info("Earth Engine accepts the EASE-2 grid as %s", GRID_FORM_NAMES[form])
            return form
        raise DataSourceError(
            "Earth Engine refused every form of the EASE-2 grid (EPSG:6933): "
            + "; ".join(refusals)
            + ". Please report this with the output of `soilmoisture ee-check`"
        )
    finally:
        _probe_lock.release()
