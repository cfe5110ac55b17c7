"""Which hosts a dashboard page address may make this server contact: no request forgery.

A page address is anyone's to write, and it is this server, not the visitor's browser, that
contacts the STAC API the address names and reads (with GDAL) the scene files that API lists.
Left open, `?source=http://169.254.169.254/` or `?source=http://10.0.0.5:6379/` would make the
server reach into its own network for whoever sends the link (server-side request forgery).

So a host is contacted only when
- it is Planetary Computer's, or the server's operator names it (CLOUDCORE_UI_STAC_HOSTS; it may
  then be private or loopback: the operator's own choice), or
- every address it resolves to is publicly routable, and, for the API itself, the visitor has
  confirmed it (ui/source_gate.py asks; with an operator's list set, unlisted APIs are refused).

Addresses are judged after getaddrinfo has normalised the name, so the spellings of an address
(`2130706433`, `0x7f.1`, `0177.0.0.1`, `[::ffff:127.0.0.1]`) are judged as the address they are.
Messages speak to the web visitor: no setting names, no command-line flags.

Not covered here (they need the HTTP client's own hooks): DNS rebinding between this check and
the client's own lookup, and redirects or pagination links a public API answers with.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from cloudcore import DateGroup, Settings, UnknownSourceError

Verdict = Literal["allowed", "confirm"]

PLANETARY_COMPUTER_HOST = "planetarycomputer.microsoft.com"
MAX_URL_LENGTH = 2_000  # characters: what browsers and servers reliably carry
RESOLVE_DEADLINE_S = 3.0  # a lookup slower than this is refused: a page must not hang on a dead resolver
RESOLVED_FOR_S = 60.0  # a page run asks about the same few hosts hundreds of times; most DNS answers live longer
MAX_ASSET_HOSTS = 16  # real APIs keep their files on one or two hosts; more is a search made to flood the resolver
_MAX_REMEMBERED = 1_024  # resolutions kept at most (expired ones are dropped first)

_EXAMPLE_URL = "https://example.org/stac/v1"
_WAY_OUT = "Use Planetary Computer or the demo, or ask the server's operator to allow that API."
_DEFAULT_PORTS = {"http": 80, "https": 443}
# One DNS label (RFC 1123, and '_' which some internal names use): the form Settings gives the
# operator's host list, so both sides compare as plain text.
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_HOST_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
# ref: RFC 6598 (shared address space); Python's is_global already excludes it, this says so.
_CARRIER_GRADE_NAT = ipaddress.IPv4Network("100.64.0.0/10")
# ref: RFC 6052 section 2.1, the NAT64 well-known prefix: the IPv4 address it carries is the one reached.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


@dataclass(frozen=True)
class _Target:
    """The parts of an http(s) URL the checks need, the host in canonical form."""

    scheme: str
    host: str
    """Lower-case ASCII (punycode) name or IP literal; IPv6 in brackets, short form."""
    port: int | None
    """The port written in the URL, if any."""

    @property
    def shown(self) -> str:
        """The host as a person reads it: with its port when one is written."""
        return self.host if self.port is None else f"{self.host}:{self.port}"

    @property
    def lookup_name(self) -> str:
        return self.host.strip("[]")


def resolve(host: str) -> list[str]:
    """Every address `host` resolves to, as getaddrinfo gives it (numeric spellings normalised).

    The one place a name is looked up: tests replace it to answer for public names offline.

    Raises:
        OSError: the name does not resolve (socket.gaierror).
    """
    return [str(info[4][0]) for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)]


def is_public_address(text: str) -> bool:
    """Is `text` (an IP address, IPv6 possibly with a %zone) globally routable?

    No for loopback, private, link-local (169.254.169.254 too), unspecified, multicast,
    reserved and carrier-grade NAT addresses, and for IPv6 forms that carry one of those
    (IPv4-mapped, NAT64, 6to4).
    """
    address = ipaddress.ip_address(text)
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return is_public_address(str(address.ipv4_mapped))
        if address in _NAT64:
            return is_public_address(str(ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)))
        if address.sixtofour is not None and not is_public_address(str(address.sixtofour)):
            return False
    if isinstance(address, ipaddress.IPv4Address) and address in _CARRIER_GRADE_NAT:
        return False
    return address.is_global and not (
        address.is_multicast or address.is_reserved or address.is_unspecified or address.is_loopback
        or address.is_link_local or address.is_private
    )


def check_stac_url(url: str, settings: Settings) -> Verdict:
    """May a page address make this server contact the STAC API at `url`?

    Returns:
        "allowed" for Planetary Computer and the operator's hosts (settings.ui_stac_hosts), even
        private ones; "confirm" for a public host when the operator named none: contact it once
        the visitor has confirmed.

    Raises:
        UnknownSourceError: the URL is malformed (too long, spaces, no host, user:password@, a
            scheme other than http/https), or its host is not on the operator's list, or it
            resolves to any address that is not public, or does not resolve within
            RESOLVE_DEADLINE_S.
    """
    target = _target(url, "The STAC API URL", check_length=True)
    if _operator_allows(target, settings):
        return "allowed"
    if settings.ui_stac_hosts:
        raise UnknownSourceError(
            f"This page address names a STAC API at {target.shown}, which this server's operator has not allowed. "
            f"{_WAY_OUT}"
        )
    if not _all_public([target.lookup_name])[target.lookup_name]:
        raise UnknownSourceError(
            f"This page address names a STAC API at {target.shown}, which is on a private or local network or "
            f"cannot be looked up from this server, so this server does not contact it. {_WAY_OUT}"
        )
    return "confirm"


def check_asset_hosts(groups: Sequence[DateGroup], settings: Settings) -> None:
    """Refuse a search whose scene files this server must not read (a custom API lists them).

    Each distinct host is resolved once; the rules are check_stac_url's, except that a public
    host needs no confirmation (the visitor confirmed the API that lists it).

    Raises:
        UnknownSourceError: a file is no http(s) URL (a path on this server, file://, s3://,
            /vsicurl/...), or its host is private or does not resolve, or the files lie on more
            than MAX_ASSET_HOSTS hosts.
    """
    check_hrefs((href for group in groups for scene in group.scenes for href in scene.assets.values()), settings)


def check_hrefs(hrefs: Iterable[str], settings: Settings) -> None:
    """check_asset_hosts for plain hrefs (e.g. the assets of a list of scenes)."""
    to_resolve: dict[str, str] = {}  # lookup name -> host as shown
    for href in hrefs:
        if not str(href).lower().startswith(("http://", "https://")):
            # GDAL would open it as a file of this server, or through its own cloud credentials.
            raise UnknownSourceError(
                "The STAC API lists scene files that are not web addresses (http:// or https://), which this "
                "server does not read for a page address. Use Planetary Computer or the demo."
            )
        try:
            target = _target(str(href), "A scene file address", check_length=False)
        except UnknownSourceError as err:
            raise UnknownSourceError(
                "The STAC API lists a scene file address this server does not read for a page address (it holds "
                "spaces, a user name or password, or no usable host). Use Planetary Computer or the demo."
            ) from err
        if not _operator_allows(target, settings):
            to_resolve.setdefault(target.lookup_name, target.host)
    if len(to_resolve) > MAX_ASSET_HOSTS:
        raise UnknownSourceError(
            f"The STAC API lists scene files on {len(to_resolve)} different hosts, more than the {MAX_ASSET_HOSTS} "
            "this server checks for one search. Use Planetary Computer or the demo, or search fewer dates."
        )
    public = _all_public(list(to_resolve))
    for name, host in sorted(to_resolve.items()):
        if not public[name]:
            raise UnknownSourceError(
                f"The STAC API lists scene files at {host}, which is on a private or local network or cannot be "
                "looked up from this server, so this server does not read them. Use Planetary Computer or the "
                "demo, or ask the server's operator to allow that host."
            )


def host_of(url: str) -> str:
    """The host `url` names, as shown to a person (ASCII form, its port when one is written).

    Raises:
        UnknownSourceError: as check_stac_url does for a malformed URL.
    """
    return _target(url, "The STAC API URL", check_length=True).shown


def origin_of(url: str) -> str:
    """scheme://host[:port] of `url`: what a visitor's confirmation covers (any path on that server).

    Raises:
        UnknownSourceError: as check_stac_url does for a malformed URL.
    """
    target = _target(url, "The STAC API URL", check_length=True)
    port = "" if target.port in (None, _DEFAULT_PORTS[target.scheme]) else f":{target.port}"
    return f"{target.scheme}://{target.host}{port}"


def forget_resolutions() -> None:
    """Drop every remembered lookup (tests, or an operator's DNS change that must apply at once)."""
    with _lock:
        _resolved.clear()


# --- the URL's form ----------------------------------------------------------------------------


def _target(url: str, what: str, *, check_length: bool) -> _Target:
    """The scheme, canonical host and port of `url`; UnknownSourceError for any other form."""
    if (check_length and len(url) > MAX_URL_LENGTH) or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127
                                                            for ch in url):
        raise UnknownSourceError(
            f"{what} is over {MAX_URL_LENGTH:,} characters or holds spaces or control characters: "
            f"give the API root, e.g. {_EXAMPLE_URL}."
        )
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:  # a malformed IPv6 literal, or a port that is no number from 0 to 65535
        raise UnknownSourceError(f"{what} has no usable host and port: give the API root, e.g. {_EXAMPLE_URL}.") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise UnknownSourceError(f"{what} must start with http:// or https://: give the API root, e.g. {_EXAMPLE_URL}.")
    if "@" in parts.netloc:
        # Refused rather than stripped: credentials are not the page address's to give, and
        # user@host forms are where URL parsers disagree about which host is meant.
        raise UnknownSourceError(
            f"{what} holds a user name or password (user:password@), which this server does not send: "
            f"give the address without it, e.g. {_EXAMPLE_URL}."
        )
    canonical = _canonical_host(host or "")
    if canonical is None:
        raise UnknownSourceError(f"{what} has no usable host name: give the API root, e.g. {_EXAMPLE_URL}.")
    if port == 0:
        raise UnknownSourceError(f"{what} names port 0, which no server listens on: give the API root, e.g. {_EXAMPLE_URL}.")
    return _Target(scheme, canonical, port)


def _canonical_host(host: str) -> str | None:
    """Lower-case ASCII name or IP literal (IPv6 bracketed, short form); None when it is neither.

    A name with other characters (%-escapes, backslashes, '*', an IPv6 zone) is refused: that is
    where URL parsers disagree, and the host is shown to the visitor.
    """
    if "%" in host:
        return None  # an IPv6 zone (%eth0) names this server's own interface: never a public host
    if ":" in host:
        try:
            return f"[{ipaddress.IPv6Address(host).compressed}]"
        except ValueError:
            return None
    try:
        ascii_name = host.encode("idna").decode("ascii").lower().removesuffix(".")
    except UnicodeError:  # an empty or over-long label, or characters IDNA refuses
        return None
    return ascii_name if len(ascii_name) <= 253 and _HOST_NAME.fullmatch(ascii_name) else None


def _operator_allows(target: _Target, settings: Settings) -> bool:
    if target.host == PLANETARY_COMPUTER_HOST:
        return True
    port = target.port if target.port is not None else _DEFAULT_PORTS[target.scheme]
    return target.host in settings.ui_stac_hosts or f"{target.host}:{port}" in settings.ui_stac_hosts


# --- lookups: once per host a minute, each within a deadline ------------------------------------

_lock = threading.Lock()
_resolved: dict[str, tuple[float, bool]] = {}  # lookup name -> (expires at, monotonic clock; all public?)
# getaddrinfo has no timeout of its own: it runs here and is waited for at most RESOLVE_DEADLINE_S.
# A few workers bound how many lookups a flood of links can keep hanging; later ones wait their
# turn and, if that outlasts the deadline, are refused.
_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="url-guard-dns")


def _all_public(names: list[str]) -> dict[str, bool]:
    """For each name: does it resolve, within the deadline, to public addresses only?"""
    now = time.monotonic()
    verdicts: dict[str, bool] = {}
    with _lock:
        for name in names:
            remembered = _resolved.get(name)
            if remembered is not None and remembered[0] > now:
                verdicts[name] = remembered[1]
    pending = {name: _pool.submit(resolve, name) for name in names if name not in verdicts}
    deadline = time.monotonic() + RESOLVE_DEADLINE_S
    for name, future in pending.items():
        try:
            addresses = future.result(timeout=max(0.0, deadline - time.monotonic()))
        except (OSError, UnicodeError, TimeoutError):  # no such name, or no answer in time: not contacted
            addresses = []
        verdicts[name] = bool(addresses) and all(is_public_address(address) for address in addresses)
    if pending:
        _remember({name: verdicts[name] for name in pending})
    return verdicts


def _remember(verdicts: dict[str, bool]) -> None:
    now = time.monotonic()
    with _lock:
        if len(_resolved) + len(verdicts) > _MAX_REMEMBERED:
            for name in [name for name, (expires, _) in _resolved.items() if expires <= now]:
                del _resolved[name]
            while _resolved and len(_resolved) + len(verdicts) > _MAX_REMEMBERED:
                del _resolved[next(iter(_resolved))]  # the oldest entry
        for name, verdict in verdicts.items():
            _resolved[name] = (now + RESOLVED_FOR_S, verdict)
