"""Earth Engine initialisation and plain-language translation of its failures.

:func:`initialize` uses the existing Earth Engine credentials
(``~/.config/earthengine/credentials``, with the Cloud project stored there by
``earthengine set_project`` or the plugin's sign-in) or a service-account key file for batch
use, and reuses a session another part of the process (another plugin) already initialised.
It makes network calls, one without a timeout: call it off the GUI thread (a ``QgsTask``).

:func:`initialize_offline` initialises the client library from the algorithm list bundled in the
pinned ``earthengine-api`` wheel (its own test harness), with no credentials and no network:
expressions can be built (and cache keys computed), nothing can be fetched. It serves offline
re-runs from the cache and the offline tests.

:func:`translate_error` maps the typical failures (no credentials, no project, project not
registered, missing role, no network, quota) to :mod:`core.errors` exceptions whose message
says what to do.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from ..errors import AuthenticationError, DataSourceError, SoilMoistureError
from ..progress import Progress

NO_NETWORK = "no network: check your connection, or use the cache / demo source"

_lock = threading.Lock()
_session: dict[str, Any] = {"mode": None, "project": None, "account": None}


def credentials_path() -> Path:
    """Where ``earthengine authenticate`` stores the user's credentials."""
    return Path(os.path.expanduser("~/.config/earthengine/credentials"))


def stored_project() -> str | None:
    """Return the Cloud project saved in the credentials file by ``earthengine set_project``."""
    try:
        data = json.loads(credentials_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    project = data.get("project") if isinstance(data, dict) else None
    return str(project) if project else None


def has_credentials(key_file: str | os.PathLike[str] | None = None) -> bool:
    """Say whether a service-account key or a user refresh token is available."""
    if key_file is not None:
        return Path(key_file).is_file()
    if os.environ.get("SOILMOISTURE_EE_KEY_FILE"):
        return Path(os.environ["SOILMOISTURE_EE_KEY_FILE"]).is_file()
    try:
        data = json.loads(credentials_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and bool(data.get("refresh_token"))


def _project_from_env() -> str | None:
    for name in ("SOILMOISTURE_EE_PROJECT", "EARTHENGINE_PROJECT", "GOOGLE_CLOUD_PROJECT"):
        if os.environ.get(name):
            return os.environ[name]
    return None


def is_initialized() -> bool:
    """Say whether the Earth Engine client library is initialised in this process."""
    try:
        import ee
    except ImportError:
        return False
    return bool(ee.data.is_initialized())


def _import_ee() -> Any:
    """The ``ee`` module, or a :class:`DataSourceError` that says how to install it."""
    try:
        import ee
    except ImportError:
        raise DataSourceError(
            "the Earth Engine client library (earthengine-api) is not installed: install it with "
            "`pip install earthengine-api`, or use the demo source"
        ) from None
    return ee


def initialize(
    project: str | None = None,
    key_file: str | os.PathLike[str] | None = None,
    force: bool = False,
) -> str:
    """Initialise Earth Engine (blocking; never on the GUI thread).

    Args:
        project: Cloud project; default: the one in the credentials file, the service-account
            key's project, or ``SOILMOISTURE_EE_PROJECT`` / ``EARTHENGINE_PROJECT`` /
            ``GOOGLE_CLOUD_PROJECT``.
        key_file: service-account JSON key (batch use); default ``SOILMOISTURE_EE_KEY_FILE``.
        force: initialise again even if a session exists (e.g. after signing in).

    Returns:
        :func:`describe_session`.

    Raises:
        DataSourceError: earthengine-api is missing, or there is no network.
        AuthenticationError: credentials or project are missing or refused.

    """
    ee = _import_ee()
    with _lock:
        if not force and ee.data.is_initialized() and _session["mode"] != "offline":
            if _session["mode"] is None:
                _session.update(mode="reused", project=_current_project(), account=None)
            return describe_session()
        key_file = key_file or os.environ.get("SOILMOISTURE_EE_KEY_FILE") or None
        try:
            if key_file is not None:
                key = json.loads(Path(key_file).read_text(encoding="utf-8"))
                credentials: Any = ee.ServiceAccountCredentials(
                    key.get("client_email"), key_file=str(key_file)
                )
                project = project or key.get("project_id") or _project_from_env()
                account = key.get("client_email")
            else:
                credentials = "persistent"
                project = project or stored_project() or _project_from_env()
                account = None
            ee.Initialize(credentials=credentials, project=project)
        except OSError as exc:
            if key_file is not None and not Path(key_file).is_file():
                raise AuthenticationError(
                    f"service-account key file {str(key_file)!r} not found: check the path"
                ) from exc
            raise translate_error(exc, project) from exc
        except ValueError as exc:
            raise AuthenticationError(
                f"service-account key file {str(key_file)!r} is not a valid JSON key: download a "
                "new key for the service account in the Cloud console"
            ) from exc
        except Exception as exc:  # noqa: BLE001 - every failure is translated
            raise translate_error(exc, project) from exc
        _session.update(mode="service account" if key_file else "user", project=project)
        _session["account"] = account
        return describe_session()


def sign_in(
    project: str | None = None, progress: Progress | None = None, poll_s: float = 0.2
) -> str:
    """Sign in through the browser, save the credentials, then :func:`initialize`.

    ``ee.Authenticate`` (local-redirect mode) waits for the browser with no timeout and cannot
    be interrupted, so it runs in a daemon thread while this call checks ``progress`` for a
    cancel every ``poll_s`` seconds. A cancelled sign-in returns at once; the abandoned wait
    ends with the process, or with the browser's redirect if the user finishes signing in
    later (the credentials are then saved as usual).

    Raises:
        Cancelled: the user cancelled while the browser sign-in was pending.
        DataSourceError, AuthenticationError: as :func:`initialize`, with the sign-in's own
            failures translated by :func:`translate_error`.

    """
    ee = _import_ee()
    progress = progress or Progress()
    done = threading.Event()
    failure: list[Exception] = []

    def authenticate() -> None:
        try:
            ee.Authenticate(auth_mode="localhost", force=True)
        except Exception as exc:  # noqa: BLE001 - translated below, in the caller's thread
            failure.append(exc)
        finally:
            done.set()

    threading.Thread(target=authenticate, name="earth-engine-sign-in", daemon=True).start()
    while not done.wait(poll_s):
        progress.check()
    if failure:
        raise translate_error(failure[0], project) from failure[0]
    return initialize(project=project, force=True)


def initialize_offline(project: str = "offline") -> None:
    """Initialise the client library with no network, for building expressions only.

    Uses the algorithm list shipped in the pinned ``earthengine-api`` wheel
    (``ee/tests/algorithms.json`` through ``ee.apitestcase``) and skips the discovery and data
    catalogue fetches. Anything that talks to the server will fail afterwards. Does nothing if a
    real session is already initialised.

    Raises:
        DataSourceError: if earthengine-api (with its bundled harness) is not installed.

    """
    try:
        import ee
        from ee import apitestcase
    except ImportError as exc:
        raise DataSourceError(
            "the Earth Engine client library (earthengine-api, with its bundled algorithm list) "
            "is needed to rebuild cached requests offline"
        ) from exc
    with _lock:
        if ee.data.is_initialized():
            return
        ee.Reset()
        ee.data._install_cloud_api_resource = lambda: None
        ee.data.getAlgorithms = apitestcase.GetAlgorithms
        ee.deprecation._FetchDataCatalogStac = lambda: {}
        ee.Initialize(credentials=None, project=project)
        _session.update(mode="offline", project=None, account=None)


def reset_session() -> None:
    """Forget what this module knows of the session (tests, sign-out)."""
    with _lock:
        _session.update(mode=None, project=None, account=None)


def _current_project() -> str | None:
    try:
        import ee

        state = ee.data._get_state()
        project = getattr(state, "cloud_api_user_project", None)
        return str(project) if project else None
    except Exception:  # noqa: BLE001 - private API, best effort
        return None


def describe_session() -> str:
    """One line for the status bar: ``"signed in, project X"`` or why not."""
    if not is_initialized():
        return "not signed in to Earth Engine"
    mode = _session["mode"]
    if mode == "offline":
        return "offline (cached inputs only)"
    project = _session["project"] or _current_project() or "(none)"
    if mode == "service account" and _session["account"]:
        return f"signed in as {_session['account']}, project {project}"
    if mode == "reused":
        return f"signed in (session shared with another plugin), project {project}"
    return f"signed in, project {project}"


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in seen:
        seen.append(cur)
        cur = cur.__cause__ or cur.__context__
    return seen


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
    chain = _chain(exc)
    text = " | ".join(str(e) for e in chain)
    low = text.lower()
    names = {cls.__name__ for e in chain for cls in type(e).__mro__}
    proj = f" {project!r}" if project else ""
    if "too many requests" in low or "quota exceeded" in low or "rate limit" in low:
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
    if (
        "please authorize access" in low
        or "earthengine authenticate" in low
        or "defaultcredentialserror" in {n.lower() for n in names}
        or "could not automatically determine credentials" in low
    ):
        return AuthenticationError(
            "no Earth Engine credentials found: run `earthengine authenticate` in a terminal, "
            "or use the plugin's sign-in, then retry"
        )
    if "invalid_grant" in low or "refresherror" in {n.lower() for n in names}:
        return AuthenticationError(
            "your Earth Engine sign-in has expired or was revoked: run `earthengine "
            "authenticate` again (or sign in from the plugin), then retry"
        )
    if names & set(_NETWORK_TYPES) or any(t in low for t in _NETWORK_TEXT):
        return DataSourceError(NO_NETWORK)
    if "permission" in low and ("denied" in low or "does not have" in low):
        return AuthenticationError(
            f"Earth Engine refused access{(' to project' + proj) if proj else ''}: check that "
            f"your account may use Earth Engine in this project ({text})"
        )
    return DataSourceError(f"Earth Engine error: {text}")
