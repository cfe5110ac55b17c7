"""The scene source a dashboard view names, opened only in the forms a page address may ask for.

A page address is anyone's to write: Planetary Computer and the demo open as they do on the
command line; a STAC API URL opens only at a host this server may contact (ui/url_guard.py:
no loopback, private or metadata addresses unless the operator lists them in
CLOUDCORE_UI_STAC_HOSTS), and its searches are refused when they list scene files at such a
host; a server folder opens only when the operator shares a root (CLOUDCORE_FOLDER_ROOT), only
inside it, and without following links out of it. The command line and the library keep
opening whatever they are given: their user is on their own machine.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from cloudcore import AOI, DateGroup, FolderSource, Scene, SceneSource, Settings, UnknownSourceError, open_source

from . import config
from .folders import shared_folder
from .url_guard import check_asset_hosts, check_hrefs, check_stac_url

NAMED_SOURCES = ("planetary-computer", "demo")


def is_url(spec: str) -> bool:
    return spec.lower().startswith(("http://", "https://"))


def dashboard_source(spec: str) -> SceneSource:
    """The source `spec` names; UnknownSourceError / InvalidInputError say why one is refused.

    A STAC API URL is checked before anything contacts it (a refused one never reaches
    open_source); whether the visitor has confirmed a public one is ui/source_gate.py's job.
    """
    settings = config.settings()
    if spec in NAMED_SOURCES:
        return open_source(spec, settings)
    if is_url(spec):
        check_stac_url(spec, settings)
        return _GuardedSource(open_source(spec, settings), settings)
    root = config.folder_root()
    if root is None:
        raise UnknownSourceError(
            "The dashboard reads Planetary Computer, the demo, or a STAC API URL (http:// or https://); this server "
            "shares no folder (its operator can share one by setting CLOUDCORE_FOLDER_ROOT). For a folder of "
            "downloaded scenes use the command line (python -m cloudcore cover --source FOLDER ...)."
        )
    return FolderSource(shared_folder(spec, root), confine_to=root)


def guard_groups(spec: str, groups: Sequence[DateGroup]) -> Sequence[DateGroup]:
    """`groups` when this server may read their scene files; UnknownSourceError when not.

    Only a STAC API URL's search is checked (a custom API chooses its files' hosts); Planetary
    Computer, the demo and shared folders pass as they are. Returns `groups` for chaining.
    """
    if is_url(spec):
        check_asset_hosts(groups, config.settings())
    return groups


class _GuardedSource:
    """A STAC API source whose every search is checked for the hosts of its scene files.

    Every read takes its scenes from a search, including the ones cloudcore makes on its own
    (a fill searches the days around its date), so checking here covers them all.
    """

    def __init__(self, inner: SceneSource, settings: Settings) -> None:
        self._inner = inner
        self._settings = settings
        self.name = inner.name

    def search(self, aoi: AOI, start: dt.date, end: dt.date, max_scene_cloud_pct: float | None = None) -> list[Scene]:
        scenes = self._inner.search(aoi, start, end, max_scene_cloud_pct)
        check_hrefs((href for scene in scenes for href in scene.assets.values()), self._settings)
        return scenes

    def readable_href(self, href: str, fresh: bool = False) -> str:
        return self._inner.readable_href(href, fresh)

    def __getattr__(self, name: str) -> Any:
        if name == "_inner":  # not set yet (a copy being made): no endless lookup
            raise AttributeError(name)
        return getattr(self._inner, name)  # what else the source offers (its URL, collection, ...)
