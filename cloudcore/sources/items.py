"""A scene source over STAC Items the caller already has: pystac Items, an ItemCollection, a
pystac-client search, or item dicts.

A notebook user who searched Planetary Computer (or any STAC API) with pystac-client hands the
result straight to `cloudcore.cover` or `cloudcore.fill`: the same search rules as every other
source apply (Landsat 4-9, the AOI, the dates), and Planetary Computer blob hrefs are signed
just before each read, whether or not the caller signed them already (tokens expire).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import partial
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..errors import UnknownSourceError
from ..product import QA_BAND
from ..settings import Settings
from .local import LocalScenes
from .scene import Scene, scene_from_item
from .signing import BLOB_STORAGE_SUFFIX, needs_signing, sign_href_with_deadline


class ItemsSource(LocalScenes):
    """Landsat Collection 2 Level-2 STAC Items held in memory, as a SceneSource."""

    def __init__(self, items: Iterable[Any], *, settings: Settings | None = None, name: str = "STAC items") -> None:
        """
        Args:
            items: pystac Items or item dicts (GeoJSON Features) shaped like Planetary
                Computer's landsat-c2-l2.
            settings: The deadline of a Planetary Computer token; None: the default.
            name: Label for messages.

        Raises:
            UnknownSourceError: no item has a qa_pixel asset (not Landsat Collection 2 Level-2),
                or an item is neither a pystac Item nor a STAC Item dict.
        """
        settings = Settings() if settings is None else settings
        self.name = name
        self._sign = partial(sign_href_with_deadline, deadline_s=settings.sign_timeout_s)
        dicts = [_item_dict(item) for item in items]
        scenes: dict[str, Scene] = {}
        for item in dicts:
            scene = _scene_or_none(item)
            if scene is not None:
                scenes.setdefault(scene.id, scene)
        if dicts and not any(QA_BAND in scene.assets for scene in scenes.values()):
            raise UnknownSourceError(
                f"None of the {len(dicts):,} items has a {QA_BAND!r} asset: give Landsat Collection 2 Level-2 items "
                "(Planetary Computer's landsat-c2-l2 collection)."
            )
        self.scenes = sorted(scenes.values(), key=lambda s: (s.datetime, s.id))

    def readable_href(self, href: str, fresh: bool = False) -> str:
        """A Planetary Computer blob href signed now (a fresh token when asked); others as they are."""
        if fresh and urlsplit(href).netloc.lower().endswith(BLOB_STORAGE_SUFFIX):
            href = _without_query(href)  # the caller's own token expired: sign it afresh
        return self._sign(href, fresh=fresh) if needs_signing(href) else href

    def __repr__(self) -> str:
        return f"ItemsSource({len(self.scenes)} scenes)"


def _item_dict(item: Any) -> Mapping[str, Any]:
    if isinstance(item, Mapping):
        return item
    to_dict = getattr(item, "to_dict", None)
    if to_dict is None:
        raise UnknownSourceError(
            f"A {type(item).__name__} is not a STAC Item: give pystac Items, an ItemCollection or item dicts."
        )
    data = dict(to_dict(transform_hrefs=True))
    # Relative asset hrefs (items read from files) are resolved against the item's own location.
    assets = getattr(item, "assets", {}) or {}
    resolved = {key: asset.get_absolute_href() or asset.href for key, asset in assets.items()}
    data["assets"] = {key: {**value, "href": resolved.get(key, value.get("href"))}
                      for key, value in (data.get("assets") or {}).items()}
    return data


def _scene_or_none(item: Mapping[str, Any]) -> Scene | None:
    """The item as a Scene; None (skipped) when it lacks what every STAC Item has."""
    try:
        return scene_from_item(item)
    except (KeyError, TypeError, ValueError):
        return None


def _without_query(href: str) -> str:
    parts = urlsplit(href)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
