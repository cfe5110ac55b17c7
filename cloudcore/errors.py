"""One error family for everything cloudcore refuses or cannot do.

Every leaf also subclasses the matching builtin, so generic handlers
(`except ValueError`) keep working, and every message names the offending
value and says what to do about it.
"""


class CloudCoreError(Exception):
    """Base class of every error cloudcore raises on purpose."""

    def __str__(self) -> str:
        # A message may quote a server's answer, and a server that echoes the request would
        # put the subscription key in front of the user: every message is scrubbed of it.
        from .redact import scrub

        return scrub(super().__str__())


class InvalidAOIError(CloudCoreError, ValueError):
    """The area of interest does not parse or fails validation."""


class InvalidInputError(CloudCoreError, ValueError):
    """A date, flag, method or other argument is not acceptable."""


class UnknownSourceError(CloudCoreError, ValueError):
    """The scene source is none of the known kinds."""


class NoScenesError(CloudCoreError, LookupError):
    """A source holds no Landsat scenes at all (e.g. an empty folder)."""


class SourceUnreachableError(CloudCoreError, ConnectionError):
    """The STAC API or the asset storage did not answer before the deadline."""


class SceneReadError(CloudCoreError, OSError):
    """One scene's raster could not be read; reported per date, never fatal for the rest."""
