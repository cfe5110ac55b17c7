"""The scene source a dashboard view names, opened only in the forms a page address may ask for.

A page address is anyone's to write: Planetary Computer, the demo and a well-formed STAC API
URL open as they do on the command line; a server folder opens only when the operator shares
a root (CLOUDCORE_FOLDER_ROOT), only inside it, and without following links out of it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from cloudcore import FolderSource, SceneSource, UnknownSourceError, open_source

from . import config
from .folders import shared_folder

NAMED_SOURCES = ("planetary-computer", "demo")
MAX_URL_LENGTH = 2_000  # characters: what browsers and servers reliably carry
_EXAMPLE_URL = "https://example.org/stac/v1"


def is_url(spec: str) -> bool:
    return spec.lower().startswith(("http://", "https://"))


def dashboard_source(spec: str) -> SceneSource:
    """The source `spec` names; UnknownSourceError / InvalidInputError say why one is refused."""
    settings = config.settings()
    if spec in NAMED_SOURCES:
        return open_source(spec, settings)
    if is_url(spec):
        return open_source(checked_url(spec), settings)
    root = config.folder_root()
    if root is None:
        raise UnknownSourceError(
            "The dashboard reads Planetary Computer, the demo, or a STAC API URL (http:// or https://); this server "
            "shares no folder (its operator can share one by setting CLOUDCORE_FOLDER_ROOT). For a folder of "
            "downloaded scenes use the command line (python -m cloudcore cover --source FOLDER ...)."
        )
    return FolderSource(shared_folder(spec, root), confine_to=root)


def checked_url(url: str) -> str:
    """`url` when it can be requested as it is: short, no spaces or control characters, a host."""
    if len(url) > MAX_URL_LENGTH or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise UnknownSourceError(
            f"The STAC API URL is over {MAX_URL_LENGTH:,} characters or holds spaces or control characters: "
            f"give the API root, e.g. {_EXAMPLE_URL}."
        )
    try:
        host = urlsplit(url).hostname
    except ValueError:  # e.g. a malformed IPv6 literal
        host = None
    if not host:
        raise UnknownSourceError(f"The STAC API URL has no host name: give the API root, e.g. {_EXAMPLE_URL}.")
    return url
