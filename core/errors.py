"""The product's exception hierarchy.

Every exception raised on purpose by the engine derives from :class:`SoilMoistureError`. Its
message is written for the user: it says what is wrong (quoting the bad value) and what to do.
The faces (CLI, dock, Processing) show ``str(error)`` as is; :func:`describe_os_error` and
:data:`OUT_OF_MEMORY` word the two kinds of failure that come from the machine, not the engine.
"""

import errno


class SoilMoistureError(Exception):
    """Base class of every user-facing error of the engine."""


class InputError(SoilMoistureError, ValueError):
    """Bad user input: a table, a station file, an AOI, a date or an option."""


class ModelStoreError(SoilMoistureError):
    """A model set is missing, partial or corrupt, or cannot be installed."""


class DataSourceError(SoilMoistureError):
    """An input source (Earth Engine, cache, demo) cannot deliver what was asked."""


class AuthenticationError(DataSourceError):
    """Earth Engine credentials or Cloud project are missing or refused."""


class NoDataError(DataSourceError):
    """The source has no data for the request (e.g. no Sentinel-1 scene on that date)."""


class Cancelled(SoilMoistureError):
    """The user cancelled the run; nothing half-written was left behind."""

    def __init__(self, message: str = "Cancelled by the user.") -> None:
        super().__init__(message)


OUT_OF_MEMORY = (
    "out of memory. Use a smaller AOI or batch size, or close other programs; nothing "
    "half-written was kept."
)
"""What every face says for a MemoryError."""


def describe_os_error(exc: OSError) -> str:
    """What went wrong with a file or folder, and what to do, for an OSError."""
    where = exc.filename if exc.filename is not None else "a file"
    what = exc.strerror or str(exc)
    fixes = {
        errno.EACCES: "check the permissions, or choose a path you can write to",
        errno.EPERM: "check the permissions, or choose a path you can write to",
        errno.EROFS: "the file system is read-only; choose another output folder",
        errno.ENOSPC: "the disk is full; free some space or choose another output folder",
        errno.EISDIR: "give a file, not a folder",
        errno.ENOTDIR: "a part of the path is a file, not a folder; correct the path",
        errno.ENOENT: "check the path",
        errno.EEXIST: "remove it or choose another name",
        errno.ENAMETOOLONG: "use a shorter path",
    }
    fix = fixes.get(exc.errno or 0, "check the path and try again")
    return f"{what}: {str(where)!r}; {fix}. Nothing half-written was kept."
