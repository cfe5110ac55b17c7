"""Keep secrets out of logs written by the libraries cloudcore uses, and out of its messages.

pystac-client logs every request with its headers at DEBUG, and the Planetary Computer
subscription key travels as a header; a user who turns on DEBUG logging to chase a problem
must not find the key in the output. A filter on those loggers rewrites each record with
the key's value (read from the environment when the record is made) replaced.
"""

from __future__ import annotations

import logging
import os

SECRET_VARIABLES = ("PC_SDK_SUBSCRIPTION_KEY",)
# Loggers known to write request headers.
HEADER_LOGGERS = ("pystac_client", "pystac_client.stac_api_io")
REDACTED = "[redacted]"


def read_secret(variable: str) -> str:
    """The value of the secret environment variable `variable` ('' when unset): the one place a
    secret is read. Read at each use and kept in no object, so no Settings, cache or pickle holds
    it; this module sits under the error types (which scrub with it), so it reads it itself."""
    return os.environ.get(variable, "").strip()


def _secrets() -> list[str]:
    return [value for value in (read_secret(v) for v in SECRET_VARIABLES) if value]


def scrub(text: str) -> str:
    """`text` with the value of every secret variable replaced by [redacted]."""
    for secret in _secrets():
        text = text.replace(secret, REDACTED)
    return text


class RedactSecrets(logging.Filter):
    """Replaces the value of every secret variable in a record's message (never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _secrets():
            return True
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


_FILTER = RedactSecrets()


def install() -> None:
    """Attach the filter to the loggers that write headers (once; safe to call again)."""
    for name in HEADER_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
