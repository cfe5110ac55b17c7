"""Scenes from any STAC API; Planetary Computer is the default instance.

Every network call has a deadline: a short connect timeout and a read timeout per request,
a few retries with backoff on 429/5xx (honouring Retry-After, capped), a deadline for first
contact (the landing page) and one for the whole search, so a user with no connection hears
so within seconds instead of waiting on a hung socket. A page whose body breaks off or is
not JSON is fetched again; a search that still fails on any page raises, so a half list of
scenes is never returned as if it were the whole.
The server's answer is re-checked client side with the rules every source applies
(`local.filter_scenes`), so results do not depend on which filters a server honours.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from pystac import STACError, STACTypeError
from pystac_client import Client
from pystac_client.conformance import ConformanceClasses
from pystac_client.errors import ClientTypeError
from pystac_client.exceptions import APIError
from pystac_client.stac_api_io import StacApiIO
from pystac_client.warnings import DoesNotConformTo
from urllib3.exceptions import ReadTimeoutError
from urllib3.util.retry import Retry

from ..errors import CloudCoreError, InvalidInputError, SourceUnreachableError
from ..geo.aoi import AOI
from ..redact import read_secret
from ..settings import Settings
from .local import filter_scenes
from .scene import Scene, scene_from_item
from .signing import DeadlineExceeded, run_with_deadline, sign_href_with_deadline

logger = logging.getLogger(__name__)

PLANETARY_COMPUTER_STAC_URL = "https://planetarycomputer.microsoft.com/api/stac/v1"
DEFAULT_COLLECTION = "landsat-c2-l2"
# Connecting is one round trip (two with TLS): the default connect timeout (1.5 s, a setting)
# is many times that even far from Azure, and it is what lets "no connection" be reported
# within 5 s instead of after the read timeout.
# The landing page must answer within this (or 2 connect timeouts and a little, if longer):
# it bounds a DNS lookup that hangs and a server that accepts but never answers.
DEFAULT_CONTACT_DEADLINE_S = 3.5
# Items per page: PC allows 1000, but big pages are the slow /search calls that 504.
DEFAULT_PAGE_LIMIT = 250
# Statuses worth retrying: rate limiting and the gateway/server errors PC returns under load.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Backoff between retries (urllib3 retries the first at once, then 2x, 4x this).
RETRY_BACKOFF_S = 0.5
# Longest Retry-After we honour: a longer one would outlast the search deadline anyway.
MAX_RETRY_AFTER_S = 5.0
# Fetches of one page whose body broke off (reset, truncated) or is not JSON: the status
# retries above never see these, as the status line was fine.
PAGE_TRIES = 3
# Header for the optional PC subscription key (sent as a header, never in the URL).
PC_KEY_HEADER = "Ocp-Apim-Subscription-Key"
PC_KEY_ENV = "PC_SDK_SUBSCRIPTION_KEY"

_NEXT_STEP = "check the connection and try again, or use the demo source, which works offline"


class _CappedRetry(Retry):
    """urllib3 Retry that never sleeps longer than MAX_RETRY_AFTER_S on a Retry-After."""

    def get_retry_after(self, response: Any) -> float | None:
        seconds = super().get_retry_after(response)
        return None if seconds is None else min(seconds, MAX_RETRY_AFTER_S)


def _retry_policy() -> Retry:
    return _CappedRetry(
        total=3,  # a few tries ride out a blip; more would keep a user waiting on an outage
        connect=1,  # one more try after a refused or timed-out connect: more would outlast 5 s
        read=1,  # a read timeout already cost a full timeout; retry it only once
        status=3,  # 429/5xx: PC's /search 504s under load and often succeeds on retry
        backoff_factor=RETRY_BACKOFF_S,  # at once, then 1 s, 2 s: short enough to hear of an outage quickly
        status_forcelist=RETRY_STATUSES,
        allowed_methods=None,  # retry POST /search too: a search only reads, so repeating it is safe
        raise_on_status=True,  # after the last try raise RetryError instead of returning the 5xx
    )


def contact_deadline_s(connect_s: float) -> float:
    """How long the landing page may take, tries included: enough for both connect tries."""
    return max(DEFAULT_CONTACT_DEADLINE_S, 2 * connect_s + 0.5)


def display_url(url: str) -> str:
    """The URL without user info, query or fragment, safe to show in messages and logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host  # IPv6 literals keep their brackets
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def datetime_range(start: dt.date, end: dt.date) -> str:
    """The STAC datetime interval covering whole UTC days start..end, both inclusive."""
    if isinstance(start, dt.datetime) or isinstance(end, dt.datetime):
        raise InvalidInputError("Search dates must be dates (YYYY-MM-DD), not date-times.", parameter="start")
    if start > end:
        raise InvalidInputError(f"Start date {start} is after end date {end}: swap them.", parameter="start")
    return f"{start.isoformat()}T00:00:00Z/{end.isoformat()}T23:59:59.999999Z"


class StacSource:
    """A SceneSource backed by a STAC API (item search, optionally the query extension)."""

    def __init__(
        self,
        url: str,
        collection: str = DEFAULT_COLLECTION,
        signer: Callable[..., str] | None = None,
        timeout_s: float | None = None,
        name: str | None = None,
        *,
        page_limit: int = DEFAULT_PAGE_LIMIT,
        deadline_s: float | None = None,
        connect_timeout_s: float | None = None,
        header_env: Mapping[str, str] | None = None,
        settings: Settings | None = None,
    ):
        """
        Args:
            url: Root of the STAC API.
            collection: Collection to search.
            signer: Makes an asset href readable (e.g. appends a SAS token); None keeps it.
                Called as signer(href), or signer(href, fresh=True) for a new signature.
            timeout_s: Read timeout per request; None takes `settings.http_timeout_s`.
            name: Label for messages; defaults to the URL (without credentials).
            page_limit: Items per page requested from the API.
            deadline_s: Deadline for a whole search; None takes `settings.search_deadline_s`.
            connect_timeout_s: Deadline to connect (never above the read timeout); None takes
                `settings.connect_timeout_s`.
            header_env: Header name -> environment variable holding its value, read at each
                search and sent only when set (secrets stay out of the object and the URL).
            settings: Where the deadlines not given come from; None: the defaults.
        """
        settings = Settings() if settings is None else settings
        self.url = url
        self.collection = collection
        self.signer = signer
        self.timeout_s = settings.http_timeout_s if timeout_s is None else timeout_s
        self.connect_timeout_s = min(
            self.timeout_s, settings.connect_timeout_s if connect_timeout_s is None else connect_timeout_s
        )
        self.name = name or display_url(url)
        self.page_limit = page_limit
        self.deadline_s = settings.search_deadline_s if deadline_s is None else deadline_s
        self.header_env = dict(header_env or {})

    def __repr__(self) -> str:
        return f"StacSource({display_url(self.url)!r}, collection={self.collection!r})"

    def readable_href(self, href: str, fresh: bool = False) -> str:
        """The href to hand to GDAL just before a read: signed when a signer is set.

        `fresh=True` (the storage refused the last signature as expired) asks the signer
        for a new token instead of its cached one.
        """
        if self.signer is None:
            return href
        return self.signer(href, fresh=True) if fresh else self.signer(href)

    def search(
        self,
        aoi: AOI,
        start: dt.date,
        end: dt.date,
        max_scene_cloud_pct: float | None = None,
    ) -> list[Scene]:
        """Landsat 4-9 scenes whose footprint intersects the AOI, start..end (UTC days) inclusive.

        Raises:
            SourceUnreachableError: the API did not answer (or kept failing) before the deadline.
            InvalidInputError: the URL is not a STAC API with item search, or it rejected the search.
        """
        interval = datetime_range(start, end)
        deadline, timeout, connect = self.deadline_s, self.timeout_s, self.connect_timeout_s
        started = time.monotonic()
        contact = min(deadline, contact_deadline_s(connect))
        try:
            client = run_with_deadline(lambda: self._open(timeout, connect), contact)
            left = deadline - (time.monotonic() - started)
            items = run_with_deadline(lambda: self._fetch_items(client, aoi, interval, max_scene_cloud_pct), max(left, 0.001))
        except DeadlineExceeded as err:
            shown = display_url(self.url)
            if time.monotonic() - started < deadline and contact < deadline:
                raise SourceUnreachableError(
                    f"The STAC API at {shown} did not answer within {contact:g} s: {_NEXT_STEP} "
                    "(on a slow link, raise CLOUDCORE_CONNECT_TIMEOUT_S)."
                ) from err
            raise SourceUnreachableError(
                f"The STAC API at {shown} did not finish the search within {deadline:g} s: "
                f"{_NEXT_STEP}, search a shorter period or smaller area, or raise CLOUDCORE_SEARCH_DEADLINE_S."
            ) from err
        scenes = _unique_scenes(items)
        return filter_scenes(scenes, aoi, start, end, max_scene_cloud_pct)

    # -- network ---------------------------------------------------------------------

    def _fetch_items(
        self, client: Client, aoi: AOI, interval: str, max_scene_cloud_pct: float | None
    ) -> list[dict[str, Any]]:
        """All item dicts the API returns for the search, every page followed (or an error)."""
        params: dict[str, Any] = {
            "collections": [self.collection],
            "intersects": aoi.to_geojson(),
            "datetime": interval,
            "limit": self.page_limit,
        }
        # Only send `query` to APIs that advertise it: PC does; some servers
        # (rustac's memory backend) answer any `query` with zero items.
        if max_scene_cloud_pct is not None and client.conforms_to(ConformanceClasses.QUERY):
            params["query"] = {"eo:cloud_cover": {"lte": max_scene_cloud_pct}}
        shown = display_url(self.url)
        try:
            search = client.search(**params)
        except DoesNotConformTo as err:
            raise InvalidInputError(
                f"{shown} is a STAC catalog without item search: give the root of a STAC API."
            ) from err
        items: list[dict[str, Any]] = []
        pages = 0
        try:
            for page in search.pages_as_dicts():
                pages += 1
                items.extend(page.get("features") or [])
        except APIError as err:
            raise _from_api_error(err, shown, during="search", pages_done=pages) from err
        except _BrokenPage as err:
            raise SourceUnreachableError(
                f"The STAC API at {shown} kept sending a broken answer to the search{_on_page(pages)} "
                f"({err}): nothing of this search is used; try again later, or use the demo source, which works offline."
            ) from err
        except (ValueError, STACError) as err:
            raise InvalidInputError(f"The STAC API at {shown} answered the search with something that is not STAC.") from err
        logger.debug("%s: %d items in %d pages for %s", self.name, len(items), pages, interval)
        return items

    def _open(self, timeout: float, connect: float) -> Client:
        headers = self._headers()
        # (connect, read): an unreachable host fails after the short connect timeout.
        io = _PageRetryingIO(headers=headers, timeout=(connect, timeout), max_retries=_retry_policy())
        shown = display_url(self.url)
        try:
            return Client.open(self.url, stac_io=io, headers=headers, timeout=(connect, timeout))
        except APIError as err:
            raise _from_api_error(err, shown, during="open") from err
        except (ValueError, KeyError, TypeError, STACError, STACTypeError, ClientTypeError, _BrokenPage) as err:
            raise InvalidInputError(
                f"{shown} did not answer with a STAC API landing page (HTML or other JSON instead): "
                "check the URL, it should be the API root."
            ) from err

    def _headers(self) -> dict[str, str]:
        # Names us in the server's logs (requests would send python-requests/x.y).
        headers = {"User-Agent": "cloudcore"}
        for header, variable in self.header_env.items():
            # A secret, not a setting: read at each search (redact.read_secret) and never kept in an
            # object that may be pickled, logged or cached (Settings holds no secret).
            value = read_secret(variable)
            if value:
                headers[header] = value
        return headers


class _BrokenPage(Exception):
    """A page whose body broke off or is not JSON, on every try."""


# What a page body does when the connection is reset or cut short after the status line.
_BROKEN_BODY = (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)


class _PageRetryingIO(StacApiIO):
    """StacApiIO that fetches a page again when its body breaks off or is not JSON.

    urllib3 retries connects and error statuses; a 200 whose body is reset, truncated or
    malformed reaches here instead. Each page is retried on its own, so page 3 failing
    once does not restart the search, and a page that stays broken raises _BrokenPage.
    """

    def read_json(self, source: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        for attempt in range(1, PAGE_TRIES + 1):
            try:
                text = self.read_text(source, *args, **kwargs)
            except APIError as err:
                if not isinstance(err.__context__, _BROKEN_BODY):
                    raise
                problem = "the answer broke off before its end"
            else:
                try:
                    return self.json_loads(text)
                except ValueError as err:  # JSONDecodeError
                    if text.lstrip()[:1] not in ("{", "["):
                        raise  # HTML or plain text: a wrong URL, not a cut-off answer; no retry
                    problem = f"JSON cut off or garbled: {_short(err, 80)}"
            if attempt == PAGE_TRIES:
                raise _BrokenPage(problem)
            logger.info("broken STAC page (%s); fetching it again", problem)
            time.sleep(RETRY_BACKOFF_S * attempt)
        raise AssertionError("unreachable")  # the loop returns or raises


def _on_page(pages_done: int) -> str:
    """' on page N' once earlier pages came back: says the items so far were dropped."""
    return f" on page {pages_done + 1}" if pages_done else ""


def _from_api_error(err: APIError, shown_url: str, during: str, pages_done: int = 0) -> CloudCoreError:
    """The CloudCoreError for a pystac-client APIError, saying what to do."""
    # pystac-client wraps requests' exceptions as APIError(str(err)): the context keeps the type.
    cause = err.__context__
    status = getattr(err, "status_code", None)
    where = _on_page(pages_done)
    dropped = " (the pages before it are not used: a half list would look complete)" if pages_done else ""
    if isinstance(cause, requests.Timeout) or _read_timed_out(cause):
        return SourceUnreachableError(f"The STAC API at {shown_url} did not answer in time{where}: {_NEXT_STEP}.{dropped}")
    if isinstance(cause, requests.exceptions.RetryError):
        return SourceUnreachableError(
            f"The STAC API at {shown_url} kept failing{where} (busy or down): {_NEXT_STEP}.{dropped}"
        )
    if isinstance(cause, requests.RequestException):
        return SourceUnreachableError(f"The STAC API at {shown_url} could not be reached{where}: {_NEXT_STEP}.{dropped}")
    if status is not None and (status in RETRY_STATUSES or status >= 500):
        return SourceUnreachableError(
            f"The STAC API at {shown_url} is failing{where} (HTTP {status}): {_NEXT_STEP}.{dropped}"
        )
    if status is not None and during == "open":
        return InvalidInputError(
            f"{shown_url} answered HTTP {status}, not a STAC API landing page: check the URL, it should be the API root."
        )
    if status is not None:
        return InvalidInputError(f"The STAC API at {shown_url} rejected the search (HTTP {status}): {_short(err)}")
    return SourceUnreachableError(f"The STAC API at {shown_url} failed during {during}: {_NEXT_STEP}.")


def _read_timed_out(cause: BaseException | None) -> bool:
    """requests reports read timeouts that used up the retries as a ConnectionError."""
    reason = getattr(cause.args[0], "reason", None) if cause is not None and cause.args else None
    return isinstance(reason, ReadTimeoutError)


def _unique_scenes(items: list[dict[str, Any]]) -> list[Scene]:
    """Scenes from item dicts, once per id; items that do not parse are skipped and logged."""
    scenes: dict[str, Scene] = {}
    for item in items:
        try:
            scene = scene_from_item(item)
        except (KeyError, TypeError, ValueError) as err:
            logger.warning("skipping STAC item %r that does not parse: %s", item.get("id"), err)
            continue
        scenes.setdefault(scene.id, scene)
    return list(scenes.values())


def _short(err: BaseException, limit: int = 200) -> str:
    text = " ".join(str(err).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def planetary_computer_source(settings: Settings | None = None, timeout_s: float | None = None) -> StacSource:
    """Microsoft Planetary Computer's landsat-c2-l2, signing hrefs just before reads.

    The optional subscription key is read from PC_SDK_SUBSCRIPTION_KEY: the SDK uses it
    for tokens, and searches send it as a header.

    Args:
        settings: Deadlines of searches and token requests; None: the defaults.
        timeout_s: The read timeout per request, if not the settings'.
    """
    settings = Settings() if settings is None else settings
    return StacSource(
        PLANETARY_COMPUTER_STAC_URL,
        collection=DEFAULT_COLLECTION,
        signer=partial(sign_href_with_deadline, deadline_s=settings.sign_timeout_s),
        timeout_s=timeout_s,
        name="planetary-computer",
        header_env={PC_KEY_HEADER: PC_KEY_ENV},
        settings=settings,
    )
