"""What an Earth Engine failure means: retry, split, or give up with a plain message.

:func:`classify_error` reads a fetch failure for the tiler (split the bands, split the tile,
retry, or fatal); :func:`translate_error` turns any Earth Engine / auth / network failure into a
:mod:`core.errors` exception whose message says what to do. Both read the same vocabulary of
the service's messages, kept here once.

``EEException`` carries only the service's message (never an HTTP status), so both read the
text: e.g. "Too many concurrent aggregations.", "Earth Engine memory capacity exceeded." and
"The service is currently unavailable." are transient; "User memory limit exceeded." and
"Computation timed out." call for smaller tiles.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ....errors import AuthenticationError, Cancelled, DataSourceError, SoilMoistureError

NO_NETWORK = "no network: check your connection, or use the cache / demo source"


class SplitNeeded(DataSourceError):
    """The server refused a tile as too large or too heavy; smaller tiles may pass."""


class Transient(DataSourceError):
    """A transient server error (quota, 5xx): retry after a pause."""


class RequestTimeout(Transient):
    """A request got no answer within its deadline (abandoned; retried)."""


# -- the service's vocabulary -------------------------------------------------------------


_QUOTA_TEXT = ("too many requests", "quota exceeded", "rate limit")
"""The project's quota is spent for now: retried, then reported as a quota problem."""
_BUSY_TEXT = (
    "too many concurrent aggregations",
    "memory capacity exceeded",
    "currently unavailable",
    "service unavailable",
    "internal error",
    "backend error",
)
"""The service is busy: retried, then reported as busy."""
_TOO_LARGE_TEXT = ("must be less than or equal to", "total request size")
"""A request over the service's size limits: split, then reported as too large."""

_BAND_SPLIT_MARKERS = (
    "header info length",  # numpy.load refused the answer's header: fewer bands per request
    "too many bands",
)
_SPLIT_MARKERS = (
    *_TOO_LARGE_TEXT,
    "computation timed out",
    "user memory limit exceeded",
    "request payload size",
    "too many pixels",
    "response size exceeds",
)
_RETRY_MARKERS = (
    *_QUOTA_TEXT,
    *_BUSY_TEXT,
    "internal server error",
    "bad gateway",
    "gateway timeout",
    "deadline exceeded",
    "try again",
)
_RETRY_CODE = re.compile(r"(http|status|code|error)\W{0,3}(429|50[0234])\b")
CRS_MARKERS = ("could not be parsed", "crs", "projection", "wkt", "coordinate reference")
"""Words of a refusal that is about the grid's projection (the grid probe tries another form)."""

_NETWORK_TYPES = (
    "TransportError",
    "ConnectionError",
    "ServerNotFoundError",
    "ConnectTimeout",
    "ReadTimeout",
    "NewConnectionError",
    "MaxRetryError",
    "gaierror",
    "TimeoutError",
)


_NETWORK_TEXT = (
    "name or service not known",
    "temporary failure in name resolution",
    "failed to establish a new connection",
    "max retries exceeded",
    "connection refused",
    "connection reset",
    "network is unreachable",
    "unable to find the server",
    "nodename nor servname",
)


_ASSET_NOT_FOUND = re.compile(r"asset '([^']+)' (?:not found|does not exist)", re.IGNORECASE)


_BAND_MISSING = re.compile(r"pattern '([^']+)' did not match any bands", re.IGNORECASE)


# -- classification and translation ------------------------------------------------------


def classify_error(exc: BaseException) -> str:
    """Classify a fetch failure by the words the service and the client use.

    ``EEException`` carries only the service's message (never an HTTP status), so the
    classification reads the text: e.g. "Too many concurrent aggregations.", "Earth Engine
    memory capacity exceeded." and "The service is currently unavailable." are transient;
    "User memory limit exceeded." and "Computation timed out." call for smaller tiles.

    Returns:
        ``"bands"`` (split the tile's bands), ``"split"`` (too big or too heavy: split the
        tile), ``"retry"`` (transient), or ``"fatal"``.

    """
    if isinstance(exc, SplitNeeded):
        return "split"
    if isinstance(exc, Transient):
        return "retry"
    if isinstance(exc, Cancelled):
        return "fatal"
    text = str(exc).lower()
    if any(m in text for m in _BAND_SPLIT_MARKERS):
        return "bands"
    if any(m in text for m in _SPLIT_MARKERS):
        return "split"
    if any(m in text for m in _RETRY_MARKERS) or _RETRY_CODE.search(text):
        return "retry"
    return "fatal"


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in seen:
        seen.append(cur)
        cur = cur.__cause__ or cur.__context__
    return seen


@dataclass(frozen=True)
class _Failure:
    """What :func:`translate_error` reads of a failure and its causes."""

    first: BaseException
    text: str
    low: str
    names: set[str]
    proj: str

    @classmethod
    def of(cls, exc: BaseException, project: str | None) -> _Failure:
        chain = _chain(exc)
        text = " | ".join(str(e) for e in chain)
        names = {c.__name__ for e in chain for c in type(e).__mro__}
        return cls(chain[0], text, text.lower(), names, f" {project!r}" if project else "")


def translate_error(exc: BaseException, project: str | None = None) -> SoilMoistureError:
    """Turn an Earth Engine / auth / network failure into a plain message with the fix.

    Args:
        exc: the exception raised by ``ee`` (or google-auth, requests, httplib2).
        project: the Cloud project in use, quoted in the message when known.

    Returns:
        An :class:`~core.errors.AuthenticationError` or :class:`~core.errors.DataSourceError`
        (``exc`` itself if it already is a :class:`~core.errors.SoilMoistureError`).

    """
    if isinstance(exc, SoilMoistureError):
        return exc
    f = _Failure.of(exc, project)
    return (
        _account_problem(f)
        or _service_problem(f)
        or DataSourceError(f"Earth Engine error: {f.text}")
    )


def _account_problem(f: _Failure) -> SoilMoistureError | None:
    """Quota, project, role, API and credential failures (checked first, in this order)."""
    low, proj = f.low, f.proj
    if any(m in low for m in _QUOTA_TEXT):
        return DataSourceError(
            "Earth Engine quota exceeded (Too Many Requests): wait a few minutes and retry; "
            "fewer parallel requests or a smaller AOI also help"
        )
    if "no project found" in low:
        return AuthenticationError(
            "no Google Cloud project is set for Earth Engine (ee.Initialize: no project found): "
            "set one with `earthengine set_project PROJECT_ID`, pass --project, or choose it in "
            "the plugin's sign-in; the project must be registered for Earth Engine"
        )
    if "not signed up for earth engine" in low or "project is not registered" in low:
        return AuthenticationError(
            f"the Cloud project{proj} is not registered for Earth Engine (Not signed up for "
            "Earth Engine or project is not registered): register it at "
            "https://code.earthengine.google.com/register, or choose a registered project"
        )
    if "serviceusage.serviceusageconsumer" in low or "serviceusage.services.use" in low:
        return AuthenticationError(
            f"your account lacks the role Service Usage Consumer "
            f"(roles/serviceusage.serviceUsageConsumer) on the project{proj}: ask the project "
            "owner to grant it in the Cloud console (IAM & Admin), then retry"
        )
    if "has not been used in project" in low or "it is disabled" in low:
        return AuthenticationError(
            f"the Earth Engine API is not enabled in the project{proj}: enable it in the Cloud "
            "console (APIs & Services), wait a few minutes and retry"
        )
    names = {n.lower() for n in f.names}
    if (
        "please authorize access" in low
        or "earthengine authenticate" in low
        or "defaultcredentialserror" in names
        or "could not automatically determine credentials" in low
    ):
        return AuthenticationError(
            "no Earth Engine credentials found: run `earthengine authenticate` in a terminal, "
            "or use the plugin's sign-in, then retry"
        )
    if "invalid_grant" in low or "refresherror" in names:
        return AuthenticationError(
            "your Earth Engine sign-in has expired or was revoked: run `earthengine "
            "authenticate` again (or sign in from the plugin), then retry"
        )
    return None


def _service_problem(f: _Failure) -> SoilMoistureError | None:
    """Offline, network, time-out, catalogue, permission, busy, size and projection failures."""
    text, low, proj = f.text, f.low, f.proj
    if "offline session" in low:
        return DataSourceError(
            "this input is not in the cache and the session is offline: run once online "
            "(without --offline), or use the demo source"
        )
    if f.names & set(_NETWORK_TYPES) or any(t in low for t in _NETWORK_TEXT):
        return DataSourceError(NO_NETWORK)
    if "no answer from earth engine within" in low:
        return DataSourceError(
            f"{f.first}: Earth Engine is slow or unreachable; retry later, or use a smaller AOI"
        )
    asset = _ASSET_NOT_FOUND.search(text)
    if asset:
        return DataSourceError(
            f"Earth Engine has no dataset {asset.group(1)!r}, or the project{proj} may not read "
            "it: run `soilmoisture ee-check` to see which datasets your account can reach; if "
            "the dataset was renamed, update soilmoisture"
        )
    band = _BAND_MISSING.search(text)
    if band:
        return DataSourceError(
            f"an Earth Engine dataset has no band {band.group(1)!r} ({text}): the catalogue "
            "changed or soilmoisture asks for a wrong name; run `soilmoisture ee-check` and "
            "report its output"
        )
    if "permission" in low and ("denied" in low or "does not have" in low):
        return AuthenticationError(
            f"Earth Engine refused access{(' to project' + proj) if proj else ''}: check that "
            f"your account may use Earth Engine in this project ({text})"
        )
    if any(m in low for m in _BUSY_TEXT):
        return DataSourceError(
            f"Earth Engine is busy ({text}) and still refused after several retries: wait a "
            "few minutes and run again (the inputs fetched so far are cached)"
        )
    if any(m in low for m in _TOO_LARGE_TEXT):
        return DataSourceError(
            f"Earth Engine refused a request as too large even after splitting it ({text}): "
            "use a smaller AOI, and report this with the output of `soilmoisture adapt-map "
            "--dry-run`"
        )
    if "could not be parsed" in low and ("crs" in low or "projection" in low):
        return DataSourceError(
            f"Earth Engine could not parse the EASE-2 projection ({text}): run `soilmoisture "
            "ee-check` and report its output"
        )
    return None
