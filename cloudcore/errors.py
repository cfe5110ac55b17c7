"""One error family for everything cloudcore refuses or cannot do.

Every leaf also subclasses the matching builtin, so generic handlers (`except ValueError`)
keep working, and every message names the offending value and says what to do about it.
Messages speak of the library's own terms (arguments, settings), never of one face's: the
command line and the dashboard each add their own hint, from `parameter` (the front-door
argument the error is about, e.g. "window_days") and the error's type.
"""

from __future__ import annotations


class CloudCoreError(Exception):
    """Base class of every error cloudcore raises on purpose.

    Attributes:
        parameter: The front-door argument the error is about ("aoi", "start", "window_days",
            "source", ...), or None; a face maps it to its own flag or control.
        setting: The `Settings` field whose limit or deadline refused the request, or None.
    """

    def __init__(self, message: str = "", *, parameter: str | None = None, setting: str | None = None) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.setting = setting

    def __str__(self) -> str:
        # A message may quote a server's answer, and a server that echoes the request would
        # put the subscription key in front of the user: every message is scrubbed of it.
        from .redact import scrub

        return scrub(super().__str__())


class InvalidAOIError(CloudCoreError, ValueError):
    """The area of interest does not parse or fails validation."""

    def __init__(self, message: str = "", *, parameter: str | None = "aoi", setting: str | None = None) -> None:
        super().__init__(message, parameter=parameter, setting=setting)


class InvalidInputError(CloudCoreError, ValueError):
    """A date, flag, method or other argument is not acceptable."""


class SettingsError(CloudCoreError, ValueError):
    """A setting (a CLOUDCORE_* variable or a `Settings` field) holds an unusable value."""


class UnknownSourceError(CloudCoreError, ValueError):
    """The scene source is none of the known kinds."""

    def __init__(self, message: str = "", *, parameter: str | None = "source", setting: str | None = None) -> None:
        super().__init__(message, parameter=parameter, setting=setting)


class NoScenesError(CloudCoreError, LookupError):
    """A source holds no Landsat scenes at all (e.g. an empty folder)."""


class SourceUnreachableError(CloudCoreError, ConnectionError):
    """The STAC API or the asset storage did not answer before the deadline."""

    def __init__(self, message: str = "", *, parameter: str | None = "source", setting: str | None = None) -> None:
        super().__init__(message, parameter=parameter, setting=setting)


class SceneReadError(CloudCoreError, OSError):
    """One scene's raster could not be read; reported per date, never fatal for the rest."""
