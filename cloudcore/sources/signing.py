"""Sign Planetary Computer blob hrefs just before a read, within a deadline.

The planetary-computer SDK fetches a SAS token per storage container with no HTTP
timeout and up to 10 retries, so with no network `planetary_computer.sign` blocks
for minutes. Here the SDK's own pieces do the work (its token cache and TTL check
included), but the call runs in a worker thread that the caller stops waiting for
at the deadline. Signed hrefs expire (about 45 minutes), so nothing here caches them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import parse_qs, urlparse

import requests

from ..errors import SceneReadError, SourceUnreachableError

T = TypeVar("T")

BLOB_STORAGE_SUFFIX = ".blob.core.windows.net"
DEFAULT_SIGN_TIMEOUT_S = 10.0

# Token-endpoint retries inside the SDK: two quick retries ride out a blip; the
# deadline below, not the SDK's default of 10 retries, bounds the wait.
_TOKEN_RETRY_TOTAL = 2
_TOKEN_RETRY_BACKOFF_S = 0.2
# Query keys of a SAS token: an href carrying them is signed already.
_SAS_KEYS = frozenset({"st", "se", "sp", "sig"})
# The SDK's documented exception for the public thumbnails account (never signed).
_PUBLIC_ACCOUNTS = frozenset({"ai4edatasetspublicassets"})


class DeadlineExceeded(TimeoutError):
    """`run_with_deadline` stopped waiting (distinct from a TimeoutError raised by the call)."""


def run_with_deadline(call: Callable[[], T], deadline_s: float) -> T:
    """Return `call()`'s result or re-raise its error; raise DeadlineExceeded past the deadline.

    The call runs in a daemon thread: a blocked socket cannot be interrupted from
    outside, so at the deadline the caller moves on and the thread ends on its own
    (or with the process) without holding up interpreter exit.
    """
    outcome: dict[str, object] = {}

    def work() -> None:
        try:
            outcome["value"] = call()
        except BaseException as err:  # noqa: BLE001 - handed to the waiting caller, who re-raises it
            outcome["error"] = err

    worker = threading.Thread(target=work, name="cloudcore-deadline", daemon=True)
    worker.start()
    worker.join(deadline_s)
    if worker.is_alive():
        raise DeadlineExceeded(f"no answer within {deadline_s:g} s")
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]


def needs_signing(href: str) -> bool:
    """True for an unsigned href on Azure blob storage (the only kind PC signs)."""
    parsed = urlparse(href)
    host = (parsed.hostname or "").lower()
    if parsed.scheme not in ("http", "https") or not host.endswith(BLOB_STORAGE_SUFFIX):
        return False
    if host.split(".", 1)[0] in _PUBLIC_ACCOUNTS:
        return False
    return not (_SAS_KEYS & set(parse_qs(parsed.query)))


def sign_href_with_deadline(href: str, deadline_s: float = DEFAULT_SIGN_TIMEOUT_S, *, fresh: bool = False) -> str:
    """`href` with a Planetary Computer SAS token appended, or unchanged if not a blob href.

    Args:
        href: An asset href; non-blob and already signed hrefs pass through.
        deadline_s: Longest wait for a token (the `sign_timeout_s` setting).
        fresh: Fetch a new token even if the SDK holds one for this container: the storage
            refused the cached one (revoked, or the clock says valid but Azure says expired).

    Raises:
        SourceUnreachableError: the token service did not answer (or kept failing) in time.
        SceneReadError: the token service refused (e.g. a bad subscription key).
    """
    if not needs_signing(href):
        return href
    limit = deadline_s
    # Imported here: the SDK pulls in pydantic and friends, needed only when signing.
    from planetary_computer.sas import get_token, parse_blob_url

    parsed = urlparse(href)
    account, container = parse_blob_url(parsed)
    where = f"{account}/{container}"
    if fresh:
        forget_token(account, container)
    try:
        token = run_with_deadline(
            lambda: get_token(
                account, container, retry_total=_TOKEN_RETRY_TOTAL, retry_backoff_factor=_TOKEN_RETRY_BACKOFF_S
            ),
            limit,
        )
    except DeadlineExceeded as err:
        raise SourceUnreachableError(
            f"The Planetary Computer token service gave no token for {where} within {limit:g} s: "
            "check the connection and try again, raise CLOUDCORE_SIGN_TIMEOUT_S, or use the demo source, which works offline."
        ) from err
    except requests.HTTPError as err:
        raise _refusal(err, where) from err
    except requests.RequestException as err:
        # Connection refused/reset, DNS failure, or retries on 429/5xx used up.
        raise SourceUnreachableError(
            f"The Planetary Computer token service could not be reached for {where} "
            f"({type(err).__name__}): check the connection and try again, or use the demo source, which works offline."
        ) from err
    except ValueError as err:  # a body that is not a token (JSON or pydantic validation)
        raise SceneReadError(
            f"The Planetary Computer token service answered for {where} without a usable token: try again later."
        ) from err
    return token.sign(href).href


def forget_token(account: str, container: str) -> None:
    """Drop the SDK's cached SAS token for one container, so the next sign fetches a new one."""
    from planetary_computer.sas import TOKEN_CACHE
    from planetary_computer.settings import Settings

    # The SDK keys its cache by the token request URL (see planetary_computer.sas.get_token).
    TOKEN_CACHE.pop(f"{Settings.get().sas_url}/{account}/{container}", None)


def _refusal(err: requests.HTTPError, where: str) -> Exception:
    """The error for a token request that got an HTTP error status (never echoes the key)."""
    status = err.response.status_code if err.response is not None else None
    if status is None or status == 429 or status >= 500:
        return SourceUnreachableError(
            f"The Planetary Computer token service is busy or failing (HTTP {status}) for {where}: "
            "try again in a minute, or use the demo source, which works offline."
        )
    return SceneReadError(
        f"The Planetary Computer token service refused a token for {where} (HTTP {status}): "
        "check PC_SDK_SUBSCRIPTION_KEY (or unset it to use anonymous access)."
    )
