"""Search a list of scenes held in memory: the folder and demo sources use this.

It applies the same rules a STAC API applies server side, so every source answers a
search the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from shapely.geometry import box, shape

from ..geo.aoi import AOI
from ..product import LANDSAT_4_TO_9
from .scene import Scene


def footprint_intersects(scene: Scene, aoi: AOI) -> bool:
    """Does the scene's footprint (geometry, else bbox) touch the AOI."""
    if scene.geometry_lonlat:
        footprint = shape(scene.geometry_lonlat)
    elif scene.bbox_lonlat:
        footprint = box(*scene.bbox_lonlat)
    else:
        return True  # no footprint known: let the read decide
    return footprint.intersects(aoi.geometry)


def filter_scenes(
    scenes: Iterable[Scene],
    aoi: AOI,
    start: dt.date,
    end: dt.date,
    max_scene_cloud_pct: float | None = None,
) -> list[Scene]:
    """Landsat 4-9 scenes touching the AOI, acquired start..end (UTC dates, inclusive)."""
    kept = [
        s
        for s in scenes
        if s.platform in LANDSAT_4_TO_9
        and start <= s.date <= end
        and (max_scene_cloud_pct is None or s.scene_cloud_pct is None or s.scene_cloud_pct <= max_scene_cloud_pct)
        and footprint_intersects(s, aoi)
    ]
    return sorted(kept, key=lambda s: (s.datetime, s.id))


class LocalScenes:
    """A SceneSource over scenes already known in memory, as local files: subclasses set `scenes`.

    The folder and demo sources share this: the same search rules as a STAC API, and local
    paths are readable as they are (nothing to sign).
    """

    name: str
    scenes: list[Scene]

    def search(
        self,
        aoi: AOI,
        start: dt.date,
        end: dt.date,
        max_scene_cloud_pct: float | None = None,
    ) -> list[Scene]:
        """Scenes whose footprint touches the AOI, acquired start..end (UTC dates, inclusive)."""
        return filter_scenes(self.scenes, aoi, start, end, max_scene_cloud_pct)

    def readable_href(self, href: str, fresh: bool = False) -> str:
        """Local paths need no signing."""
        return href
