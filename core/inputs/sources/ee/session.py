"""Earth Engine initialisation, sign-in and plain-language translation of its failures.

:func:`initialize` uses the existing Earth Engine credentials
(``~/.config/earthengine/credentials``) or a service-account key file for batch use, and
reuses a session another part of the process (another plugin) already initialised. It makes
network calls: call it off the GUI thread (a ``QgsTask``).

The Cloud project is resolved by :func:`resolve_project` (explicit, ``SOILMOISTURE_EE_PROJECT``,
the product's saved setting, the credentials file, then the generic environment variables). A
project given explicitly (``--project``, the dock's field, the sign-in) is saved with the
product's settings (``<data dir>/earthengine.json``) once a session with it works, so the dock,
the Processing algorithms and the CLI all use the same one.

:func:`sign_in` runs its own browser sign-in (PKCE, a local redirect server it closes on
success, failure, timeout and cancel, so a second sign-in never finds the port taken) and
writes the credentials with the project.

:func:`initialize_offline` initialises the client library with no credentials and no network,
through a transport that serves the API description and the algorithm list bundled in the
pinned ``earthengine-api`` wheel and refuses everything else: expressions can be built (and
cache keys computed), nothing can be fetched. No module global is patched, so a later
:func:`initialize` starts a normal online session.

:func:`translate_error` maps the typical failures (no credentials, no project, project not
registered, missing role, no network, quota) to :mod:`core.errors` exceptions whose message
says what to do.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.server
import json
import os
import re
import secrets
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ...errors import AuthenticationError, DataSourceError, SoilMoistureError
from ...progress import Progress

NO_NETWORK = "no network: check your connection, or use the cache / demo source"

_lock = threading.Lock()
_session: dict[str, Any] = {"mode": None, "project": None, "account": None}


def credentials_path() -> Path:
    """Where ``earthengine authenticate`` stores the user's credentials."""
    return Path(os.path.expanduser("~/.config/earthengine/credentials"))


def settings_path() -> Path:
    """The product's Earth Engine settings (the Cloud project), shared by CLI, dock, Processing."""
    from ...paths import data_dir

    return data_dir() / "earthengine.json"


def _project_in(path: Path) -> str | None:
    """The ``project`` of a JSON file, or None (missing, unreadable or without one)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    project = data.get("project") if isinstance(data, dict) else None
    return str(project) if project else None


def saved_project() -> str | None:
    """Return the Cloud project saved with the product's settings, if any."""
    return _project_in(settings_path())


def save_project(project: str | None) -> None:
    """Save (or, with None, forget) the Cloud project in the product's settings (atomically)."""
    from ...atomic import write_text

    path = settings_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        data = data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        data = {}
    if project:
        data["project"] = project
    else:
        data.pop("project", None)
    try:
        write_text(path, json.dumps(data, indent=1, sort_keys=True) + "\n")
    except OSError as exc:
        raise DataSourceError(
            f"cannot save the Earth Engine project in {path}: {exc.strerror or exc}; check that "
            "the folder is writable (or set SOILMOISTURE_DATA_DIR)"
        ) from exc


def credentials_project() -> str | None:
    """Return the Cloud project in the credentials file (``earthengine set_project``)."""
    return _project_in(credentials_path())


def stored_project() -> str | None:
    """The project a session uses when none is given: the product's setting, else the file's."""
    return saved_project() or credentials_project()


def resolve_project(project: str | None = None) -> tuple[str | None, str]:
    """Return the Cloud project to use and where it came from (for messages).

    Order: the explicit one, ``SOILMOISTURE_EE_PROJECT``, the product's saved setting, the
    credentials file, ``EARTHENGINE_PROJECT`` / ``GOOGLE_CLOUD_PROJECT``.
    """
    if project:
        return project, "given"
    if os.environ.get("SOILMOISTURE_EE_PROJECT"):
        return os.environ["SOILMOISTURE_EE_PROJECT"], "SOILMOISTURE_EE_PROJECT"
    saved = saved_project()
    if saved:
        return saved, f"saved setting ({settings_path()})"
    in_file = credentials_project()
    if in_file:
        return in_file, f"credentials file ({credentials_path()})"
    for name in ("EARTHENGINE_PROJECT", "GOOGLE_CLOUD_PROJECT"):
        if os.environ.get(name):
            return os.environ[name], name
    return None, "none"


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
    from .fetch import REQUEST_DEADLINE_S, forget_grid_form

    ee = _import_ee()
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


SIGN_IN_TIMEOUT_S = 300.0
"""How long the browser sign-in waits for the redirect before giving up."""
SIGN_IN_PORT = 8085
"""Preferred port of the local redirect server (another free one is used when it is taken)."""


@contextlib.contextmanager
def _redirect_server(port: int) -> Iterator[tuple[http.server.HTTPServer, dict[str, str]]]:
    """A one-shot local HTTP server catching the OAuth redirect; always closed on exit."""
    received: dict[str, str] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
            for name in ("code", "error"):
                if query.get(name):
                    received[name] = query[name][0]
            ok = "code" in received
            body = (
                "Signed in to Earth Engine. You can close this tab and return to soilmoisture."
                if ok
                else "Earth Engine sign-in failed or was refused; return to soilmoisture."
            ).encode("utf-8")
            self.send_response(200 if ok else 400)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature
            pass

    try:
        server = http.server.HTTPServer(("localhost", port), Handler)
    except OSError:  # taken (another program, or a sign-in of another process)
        server = http.server.HTTPServer(("localhost", 0), Handler)
    try:
        yield server, received
    finally:
        server.server_close()


def _pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return verifier, challenge


def write_credentials(refresh_token: str, project: str | None, scopes: list[str]) -> Path:
    """Write the user credentials file (owner-only) with the project kept in it."""
    ee = _import_ee()
    info: dict[str, Any] = {"refresh_token": refresh_token, "scopes": scopes}
    if project:
        info["project"] = project
    path = credentials_path()
    ee.oauth.write_private_json(str(path), info)
    return path


def sign_in(
    project: str | None = None,
    progress: Progress | None = None,
    poll_s: float = 0.2,
    open_browser: Callable[[str], Any] | None = None,
    exchange: Callable[[str, str, str], str] | None = None,
    timeout_s: float = SIGN_IN_TIMEOUT_S,
    http_transport: Any = None,
) -> str:
    """Sign in through the browser, save the credentials and the project, then initialise.

    A local redirect server waits for the browser (checking ``progress`` for a cancel every
    ``poll_s`` seconds, at most ``timeout_s``); it is closed whatever happens, so the port is
    free for the next attempt. The authorisation code is exchanged for a refresh token (PKCE),
    written to the credentials file together with the project (``ee.Authenticate`` would drop
    it), and the project is saved with the product's settings.

    Args:
        project: Cloud project to use; default :func:`resolve_project`.
        progress: cancel requests are honoured within ``poll_s``.
        poll_s: how often the wait checks for a cancel.
        open_browser: shows the sign-in page (default: the system browser).
        exchange: ``(code, verifier, redirect_uri) -> refresh token`` (default: the client
            library's token request).
        timeout_s: how long to wait for the browser.
        http_transport: passed to :func:`initialize` (tests).

    Raises:
        Cancelled: the user cancelled while the browser sign-in was pending.
        AuthenticationError: the browser refused or the wait timed out.
        DataSourceError: as :func:`initialize`, with the sign-in's own failures translated.

    """
    ee = _import_ee()
    progress = progress or Progress()
    project = resolve_project(project)[0]
    verifier, challenge = _pkce_pair()
    if open_browser is None:
        import webbrowser

        open_browser = webbrowser.open
    scopes = list(ee.oauth.SCOPES)
    with _redirect_server(SIGN_IN_PORT) as (server, received):
        redirect_uri = f"http://localhost:{server.server_address[1]}"
        url = ee.oauth.get_authorization_url(challenge, scopes, redirect_uri)
        server.timeout = poll_s
        open_browser(url)
        start = time.monotonic()
        while not received:
            progress.check()
            if time.monotonic() - start > timeout_s:
                raise AuthenticationError(
                    f"no answer from the browser sign-in within {timeout_s / 60:.0f} minutes: "
                    "sign in again, and finish it in the browser window that opens"
                )
            server.handle_request()
    if "code" not in received:
        raise AuthenticationError(
            f"the browser sign-in was refused ({received.get('error', 'no code')}): sign in "
            "again and allow Earth Engine access"
        )
    progress.check()
    exchange = exchange or (
        lambda code, ver, uri: ee.oauth.request_token(code, ver, redirect_uri=uri)
    )
    try:
        token = exchange(received["code"], verifier, redirect_uri)
    except Exception as exc:  # noqa: BLE001 - translated
        raise translate_error(exc, project) from exc
    write_credentials(token, project, scopes)
    if project:
        save_project(project)
    return initialize(project=project, force=True, http_transport=http_transport)


def _wheel_file(name: str) -> Path:
    ee = _import_ee()
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
    ee = _import_ee()
    if not _wheel_file("algorithms.json").is_file():
        raise DataSourceError(
            "the Earth Engine client library's bundled algorithm list is missing: reinstall "
            "earthengine-api (pip install --force-reinstall earthengine-api)"
        )
    from .fetch import forget_grid_form

    with _lock:
        if ee.data.is_initialized():
            return
        forget_grid_form()
        with _no_catalogue_fetch(ee):
            ee.Initialize(credentials=None, project=project, http_transport=OfflineTransport())
        _session.update(mode="offline", project=None, account=None)


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
    from .fetch import GRID_FORM_NAMES, grid_form

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
    if "offline session" in low:
        return DataSourceError(
            "this input is not in the cache and the session is offline: run once online "
            "(without --offline), or use the demo source"
        )
    if names & set(_NETWORK_TYPES) or any(t in low for t in _NETWORK_TEXT):
        return DataSourceError(NO_NETWORK)
    if "no answer from earth engine within" in low:
        return DataSourceError(
            f"{chain[0]}: Earth Engine is slow or unreachable; retry later, or use a smaller AOI"
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
    if "must be less than or equal to" in low or "total request size" in low:
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
    return DataSourceError(f"Earth Engine error: {text}")


_ASSET_NOT_FOUND = re.compile(r"asset '([^']+)' (?:not found|does not exist)", re.IGNORECASE)
_BAND_MISSING = re.compile(r"pattern '([^']+)' did not match any bands", re.IGNORECASE)
_BUSY_TEXT = (
    "too many concurrent aggregations",
    "memory capacity exceeded",
    "currently unavailable",
    "service unavailable",
    "internal error",
    "backend error",
)
