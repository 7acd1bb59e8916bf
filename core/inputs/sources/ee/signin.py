"""The browser sign-in to Earth Engine.

:func:`sign_in` runs its own browser sign-in (PKCE, a local redirect server it closes on
success, failure, timeout and cancel, so a second sign-in never finds the port taken) and
writes the credentials with the project.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.server
import secrets
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ....errors import AuthenticationError
from ....progress import Progress
from .failures import translate_error
from .project import credentials_path, resolve_project, save_project
from .session import import_ee, initialize

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
    ee = import_ee()
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
    ee = import_ee()
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
