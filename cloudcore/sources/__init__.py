"""Scene sources behind one interface, and the one place a source is interpreted."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .. import redact
from ..errors import UnknownSourceError
from ..options import PLANETARY_COMPUTER, SOURCE_FORMS
from ..settings import Settings
from .base import SceneSource

# Before any source logs a request: pystac-client writes headers (the PC key) at DEBUG.
redact.install()

__all__ = ["PLANETARY_COMPUTER", "SceneSource", "SourceLike", "open_source"]

SourceLike = str | os.PathLike | SceneSource | Any
"""A source name ("planetary-computer", "demo"), a STAC API URL, a folder, a SceneSource, or
STAC Items (pystac Items, an ItemCollection, a pystac-client search, item dicts)."""


def open_source(spec: SourceLike | None, settings: Settings | None = None) -> SceneSource:
    """The scene source `spec` names or holds.

    Args:
        spec: Any form of `SourceLike`; None is Planetary Computer.
        settings: Deadlines and the cache folder the source uses; None reads the environment.

    Raises:
        UnknownSourceError: `spec` is none of the accepted forms (the message lists them).
        NoScenesError: a folder holds no Landsat scenes.
    """
    settings = Settings.from_env() if settings is None else settings
    if spec is None:
        spec = PLANETARY_COMPUTER
    if isinstance(spec, str):
        return _named(spec, settings)
    if isinstance(spec, os.PathLike):
        return _folder(Path(spec), settings)
    if isinstance(spec, SceneSource):
        return spec
    items = _items_in(spec)
    if items is None:
        raise UnknownSourceError(f"Cannot use a {type(spec).__name__} as a source: use {SOURCE_FORMS}.")
    from .items import ItemsSource

    return ItemsSource(items, settings=settings)


def _named(spec: str, settings: Settings) -> SceneSource:
    text = spec.strip() or PLANETARY_COMPUTER
    if text.lower() in (PLANETARY_COMPUTER, "pc", "planetary_computer"):
        from .stac import planetary_computer_source

        return planetary_computer_source(settings)
    if text.lower() == "demo":
        from .demo import DemoSource

        return DemoSource(settings=settings)
    if text.lower().startswith(("http://", "https://")):
        from .stac import StacSource

        return StacSource(text, settings=settings)
    path = Path(text).expanduser()
    if path.exists():
        return _folder(path, settings)
    raise UnknownSourceError(f"Unknown source {text!r}: use {SOURCE_FORMS}.")


def _folder(path: Path, settings: Settings) -> SceneSource:
    from .folder import FolderSource

    return FolderSource(path, settings=settings)  # its index lives in settings.cache_dir


def _items_in(spec: Any) -> list[Any] | None:
    """The STAC Items `spec` holds, or None when it holds none of the forms items come in."""
    if hasattr(spec, "item_collection") and callable(spec.item_collection):  # a pystac-client ItemSearch
        spec = spec.item_collection()
    if isinstance(spec, dict):
        if spec.get("type") == "FeatureCollection":
            return list(spec.get("features") or [])
        return [spec] if spec.get("type") == "Feature" else None
    if hasattr(spec, "to_dict") and hasattr(spec, "assets"):  # one pystac Item
        return [spec]
    if hasattr(spec, "items") and hasattr(spec, "to_dict"):  # a pystac ItemCollection
        return list(spec.items)
    if isinstance(spec, (list, tuple)):
        return list(spec)
    return None
