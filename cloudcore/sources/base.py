"""The one interface every scene source implements."""

from __future__ import annotations

import datetime as dt
from typing import Protocol, runtime_checkable

from ..geo.aoi import AOI
from .scene import Scene


@runtime_checkable
class SceneSource(Protocol):
    """Finds Landsat C2 L2 scenes over an AOI and makes their hrefs readable.

    Implementations: planetary-computer / any STAC API (`stac.py`), a local folder of
    EarthExplorer downloads (`folder.py`), and the synthetic demo (`demo.py`).
    """

    name: str
    """Short label for messages and the UI, e.g. 'planetary-computer' or a folder path."""

    def search(
        self,
        aoi: AOI,
        start: dt.date,
        end: dt.date,
        max_scene_cloud_pct: float | None = None,
    ) -> list[Scene]:
        """Scenes of Landsat 4-9 whose footprint intersects the AOI, start..end inclusive.

        Sorted by acquisition time, then id.
        """
        ...

    def readable_href(self, href: str, fresh: bool = False) -> str:
        """The href to hand to GDAL just before a read (e.g. signed); never cache it.

        `fresh=True` asks for a new signature (the storage refused the last one as expired).
        """
        ...
