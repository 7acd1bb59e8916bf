"""The product's exception hierarchy.

Every exception raised on purpose by the engine derives from :class:`SoilMoistureError`. Its
message is written for the user: it says what is wrong (quoting the bad value) and what to do.
The faces (CLI, dock, Processing) show ``str(error)`` as is.
"""


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
