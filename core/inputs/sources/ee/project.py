"""The Cloud project Earth Engine runs in, and the credentials on disk.

The project is resolved by :func:`resolve_project` (explicit, ``SOILMOISTURE_EE_PROJECT``, the
product's saved setting, the credentials file, then the generic environment variables). A
project given explicitly (``--project``, the dock's field, the sign-in) is saved with the
product's settings (``<data dir>/earthengine.json``) once a session with it works, so the dock,
the Processing algorithms and the CLI all use the same one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ....errors import DataSourceError


def credentials_path() -> Path:
    """Where ``earthengine authenticate`` stores the user's credentials."""
    return Path(os.path.expanduser("~/.config/earthengine/credentials"))


def settings_path() -> Path:
    """The product's Earth Engine settings (the Cloud project), shared by CLI, dock, Processing."""
    from ....paths import data_dir

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
    from ....atomic import write_text

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
