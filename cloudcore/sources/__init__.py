"""Scene sources behind one interface, and the one place a source name is interpreted."""

from __future__ import annotations

from pathlib import Path

from .. import redact
from ..errors import UnknownSourceError
from ..options import PLANETARY_COMPUTER, SOURCE_HELP
from .base import SceneSource

# Before any source logs a request: pystac-client writes headers (the PC key) at DEBUG.
redact.install()


__all__ = ["SceneSource", "open_source", "PLANETARY_COMPUTER", "SOURCE_HELP"]


def open_source(spec: str | None) -> SceneSource:
    """The scene source a user named; raises UnknownSourceError with the accepted forms."""
    text = (spec or PLANETARY_COMPUTER).strip()
    if text.lower() in (PLANETARY_COMPUTER, "pc", "planetary_computer"):
        from .stac import planetary_computer_source

        return planetary_computer_source()
    if text.lower() == "demo":
        from .demo import DemoSource

        return DemoSource()
    if text.lower().startswith(("http://", "https://")):
        from .stac import StacSource

        return StacSource(text)
    path = Path(text).expanduser()
    if path.exists():
        from .folder import FolderSource

        return FolderSource(path)
    raise UnknownSourceError(f"Unknown source {text!r}: use {SOURCE_HELP}.")
