"""The Earth Engine session: initialising the client library online, reused or offline.

:func:`initialize` uses the existing Earth Engine credentials
(``~/.config/earthengine/credentials``) or a service-account key file for batch use, and
reuses a session another part of the process (another plugin) already initialised. It makes
network calls: call it off the GUI thread (a ``QgsTask``).

:func:`initialize_offline` initialises the client library with no credentials and no network,
through a transport that serves the API description and the algorithm list bundled in the
pinned ``earthengine-api`` wheel and refuses everything else: expressions can be built (and
cache keys computed), nothing can be fetched. No module global is patched, so a later
:func:`initialize` starts a normal online session.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ....errors import AuthenticationError, DataSourceError
from .deadline import REQUEST_DEADLINE_S
from .failures import translate_error
from .grid_form import GRID_FORM_NAMES, forget_grid_form, grid_form
from .project import resolve_project, save_project, saved_project

_lock = threading.Lock()


_session: dict[str, Any] = {"mode": None, "project": None, "account": None}


def is_initialized() -> bool:
    """Say whether the Earth Engine client library is initialised in this process."""
    try:
        import ee
    except ImportError:
        return False
    return bool(ee.data.is_initialized())


def import_ee() -> Any:
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
    http_transport: Any = None,
) -> str:
    """Initialise Earth Engine (blocking; never on the GUI thread).

    Args:
        project: Cloud project; default: :func:`resolve_project` (for a service account, the
            key's own project comes before the saved setting).
        key_file: service-account JSON key (batch use); default ``SOILMOISTURE_EE_KEY_FILE``.
        force: initialise again even if a session exists (e.g. after signing in).
        http_transport: an ``httplib2.Http``-like transport for the client (tests); default
            the client's own.

    Returns:
        :func:`describe_session`.

    Raises:
        DataSourceError: earthengine-api is missing, or there is no network.
        AuthenticationError: credentials or project are missing or refused.

    """
    ee = import_ee()
    with _lock:
        if not force and ee.data.is_initialized() and _session["mode"] != "offline":
            if _session["mode"] is None:
                _session.update(mode="reused", project=_current_project(), account=None)
            return describe_session()
        key_file = key_file or os.environ.get("SOILMOISTURE_EE_KEY_FILE") or None
        given = False
        try:
            if key_file is not None:
                key = json.loads(Path(key_file).read_text(encoding="utf-8"))
                credentials: Any = ee.ServiceAccountCredentials(
                    key.get("client_email"), key_file=str(key_file)
                )
                project = project or key.get("project_id") or resolve_project()[0]
                account = key.get("client_email")
            else:
                credentials = _user_credentials(ee) or "persistent"
                given = bool(project)
                project = resolve_project(project)[0]
                account = None
                if project is None and credentials != "persistent":
                    raise ee.EEException(ee.NO_PROJECT_EXCEPTION)
            forget_grid_form()
            ee.Initialize(credentials=credentials, project=project, http_transport=http_transport)
            # a transport timeout, so that requests abandoned at their deadline end too
            ee.data.setDeadline(REQUEST_DEADLINE_S * 1000)
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
        if key_file is None and given and project != saved_project():
            save_project(project)
        return describe_session()


def _user_credentials(ee: Any) -> Any:
    """The user's OAuth credentials from the credentials file, or None.

    With None the client's own lookup (including application-default credentials) applies.
    Built here rather than by ``ee.Initialize("persistent")``, which checks them with an extra
    token request outside the client's transport; the token is refreshed on first use instead.
    """
    try:
        args = ee.oauth.get_credentials_arguments()
    except (OSError, ValueError):
        return None
    if not args.get("refresh_token"):
        return None
    from google.oauth2.credentials import Credentials

    return Credentials(None, **args)


# -- offline -------------------------------------------------------------------------------


def _wheel_file(name: str) -> Path:
    ee = import_ee()
    return Path(ee.__file__).parent / "tests" / name


class OfflineTransport:
    """An ``httplib2.Http``-like transport answering only from the pinned wheel's files.

    It serves the API description (``ee/tests/cloud_api_discovery_document.json``) and the
    algorithm list (``ee/tests/algorithms.json``) and refuses every other request with a
    message that says the session is offline.
    """

    def request(
        self, uri: str, method: str = "GET", body: Any = None, headers: Any = None, **kw: Any
    ) -> tuple[Any, bytes]:
        """Answer one request."""
        import httplib2

        path = urllib.parse.urlparse(uri).path
        if "$discovery" in uri:
            data = _wheel_file("cloud_api_discovery_document.json").read_bytes()
            return httplib2.Response({"status": "200", "content-type": "application/json"}), data
        if path.endswith("/algorithms"):
            data = _wheel_file("algorithms.json").read_bytes()
            return httplib2.Response({"status": "200", "content-type": "application/json"}), data
        message = {
            "error": {
                "code": 400,
                "message": "offline session: the request is not in the cache; run once online",
                "status": "FAILED_PRECONDITION",
            }
        }
        return (
            httplib2.Response({"status": "400", "content-type": "application/json"}),
            json.dumps(message).encode(),
        )


@contextlib.contextmanager
def _no_catalogue_fetch(ee: Any) -> Iterator[None]:
    """Skip the data-catalogue fetch of ``ee.Initialize`` (a network call); restored after."""
    saved = ee.deprecation._FetchDataCatalogStac
    ee.deprecation._FetchDataCatalogStac = lambda: {}
    try:
        yield
    finally:
        ee.deprecation._FetchDataCatalogStac = saved


def initialize_offline(project: str = "offline") -> None:
    """Initialise the client library with no network, for building expressions only.

    The client is built on :class:`OfflineTransport` (the pinned wheel's API description and
    algorithm list); anything that needs the server fails with a plain "offline" message.
    Does nothing if a real session is already initialised; a later :func:`initialize` replaces
    the offline session with a real one.

    Raises:
        DataSourceError: if earthengine-api (with its bundled files) is not installed.

    """
    ee = import_ee()
    if not _wheel_file("algorithms.json").is_file():
        raise DataSourceError(
            "the Earth Engine client library's bundled algorithm list is missing: reinstall "
            "earthengine-api (pip install --force-reinstall earthengine-api)"
        )
    with _lock:
        if ee.data.is_initialized():
            return
        forget_grid_form()
        with _no_catalogue_fetch(ee):
            ee.Initialize(credentials=None, project=project, http_transport=OfflineTransport())
        _session.update(mode="offline", project=None, account=None)


# -- what the session is ---------------------------------------------------------------------


def reset_session() -> None:
    """Forget what this module knows of the session (tests, sign-out)."""
    with _lock:
        _session.update(mode=None, project=None, account=None)


def session_project() -> str | None:
    """The Cloud project of the current session (None when there is none)."""
    if not is_initialized() or _session["mode"] == "offline":
        return None
    return _session["project"] or _current_project()


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
    form = grid_form()
    grid = f"; grid sent as {GRID_FORM_NAMES[form]}" if form else ""
    if mode == "service account" and _session["account"]:
        return f"signed in as {_session['account']}, project {project}{grid}"
    if mode == "reused":
        return f"signed in (session shared with another plugin), project {project}{grid}"
    return f"signed in, project {project}{grid}"
