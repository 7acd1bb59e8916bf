"""The calls to the service: ``computePixels`` for pixels, ``computeValue`` for metadata.

:class:`EarthEngineFetcher` sends one pixel request (NUMPY_NDARRAY, with a deadline, in the grid
form the service was found to accept) and :func:`decode_pixels` turns the answer into arrays;
:class:`EarthEngineValueFetcher` computes a metadata value with back-off on transient errors.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ....errors import Cancelled, DataSourceError
from ....progress import Progress
from .deadline import REQUEST_DEADLINE_S, call_with_deadline
from .failures import classify_error, translate_error
from .grid_form import ee_grid, grid_form, probe_grid_form
from .requests import Arrays, PixelRequest, ValueRequest

log = logging.getLogger(__name__)


@dataclass
class EarthEngineFetcher:
    """One ``ee.data.computePixels`` call per request (Earth Engine must be initialised).

    Attributes:
        deadline_s: a request unanswered after this long is abandoned (:class:`RequestTimeout`).
        form: the grid form to send (default: probed once per session, then remembered).

    """

    deadline_s: float = REQUEST_DEADLINE_S
    form: str | None = None

    def fetch(self, request: PixelRequest, progress: Progress | None = None) -> Arrays:
        """Send the request as NUMPY_NDARRAY and decode the structured array.

        Raises:
            Exception: the client library's ``EEException`` untranslated, so that the tiler can
                classify it; :class:`TiledFetcher` translates what it does not handle.
            RequestTimeout: no answer within the deadline.
            Cancelled: ``progress`` was cancelled while the request was in flight.

        """
        import ee

        form = self.form or grid_form()
        if form is None:
            form = call_with_deadline(
                lambda: probe_grid_form(request.grid),
                self.deadline_s,
                progress,
                "grid probe",
            )
        expression = request.expression
        if isinstance(expression, str):
            expression = ee.deserializer.fromJSON(expression)
        params = {
            "expression": expression,
            "fileFormat": "NUMPY_NDARRAY",
            "bandIds": list(request.bands),
            "grid": ee_grid(request.grid, form),
        }
        raw = call_with_deadline(
            lambda: ee.data.computePixels(params),
            self.deadline_s,
            progress,
            request.label or "pixel request",
        )
        return decode_pixels(raw, request)


def decode_pixels(raw: Any, request: PixelRequest) -> Arrays:
    """Turn a computePixels NumPy answer into ``{band: (H, W) array}`` of the request's dtype.

    Accepts a structured ``(H, W)`` array (one field per band) or a plain ``(H, W, B)`` one.
    Pixels equal to ``request.nodata`` become NaN (float dtypes).

    Raises:
        DataSourceError: when the answer's shape or bands do not match the request.

    """
    arr = np.asarray(raw)
    h, w = request.grid.shape
    out: Arrays = {}
    dtype = np.dtype(request.dtype)
    for i, band in enumerate(request.bands):
        if arr.dtype.names is not None:
            if band not in arr.dtype.names:
                raise DataSourceError(
                    f"Earth Engine returned bands {list(arr.dtype.names)}, missing {band!r}"
                )
            values = np.asarray(arr[band])
        else:
            if arr.ndim != 3 or arr.shape[2] != len(request.bands):
                raise DataSourceError(f"unexpected pixel array of shape {arr.shape}")
            values = arr[..., i]
        if values.shape != (h, w):
            raise DataSourceError(
                f"Earth Engine returned {values.shape} pixels for band {band!r}, expected {(h, w)}"
            )
        values = values.astype(dtype, copy=True)
        if request.nodata is not None and np.issubdtype(dtype, np.floating):
            values[values == request.nodata] = np.nan
        out[band] = values
    return out


@dataclass
class EarthEngineValueFetcher:
    """``ee.data.computeValue`` with a deadline, back-off on transient errors, plain failures.

    Attributes:
        max_retries: retries of a transient error before giving up.
        backoff_s: first back-off pause; doubles at each retry (plus up to 50 % jitter).
        sleep: the pause function (tests pass a recorder).
        deadline_s: a request unanswered after this long is abandoned and retried.
        project: the Cloud project, quoted in translated failures when known.

    """

    max_retries: int = 5
    backoff_s: float = 2.0
    sleep: Callable[[float], None] = time.sleep
    deadline_s: float = REQUEST_DEADLINE_S
    project: str | None = None

    def compute(self, request: ValueRequest, progress: Progress | None = None) -> Any:
        """Compute the value (Earth Engine must be initialised).

        Raises:
            Cancelled: ``progress`` was cancelled (the request in flight is abandoned).
            DataSourceError: translated failure.

        """
        import ee

        expression = request.expression
        if isinstance(expression, str):
            expression = ee.deserializer.fromJSON(expression)
        attempt = 0
        while True:
            try:
                return call_with_deadline(
                    lambda: ee.data.computeValue(expression),
                    self.deadline_s,
                    progress,
                    request.label,
                )
            except Cancelled:
                raise
            except Exception as exc:  # noqa: BLE001 - classified below
                if classify_error(exc) == "retry" and attempt < self.max_retries:
                    log.info("retry %d of the %s: %s", attempt + 1, request.label, exc)
                    self.sleep(self.backoff_s * (2**attempt) * (1.0 + 0.5 * random.random()))
                    attempt += 1
                    if progress is not None:
                        progress.check()
                    continue
                raise translate_error(exc, self.project) from exc
