"""Search a source within the request limits, and group what it finds into dates."""

from __future__ import annotations

import datetime as dt

from ..geo.aoi import AOI
from ..limits import check_date_span, check_scene_count
from ..product import LANDSAT_RECORD_START
from ..settings import Settings
from .base import SceneSource
from .scene import DateGroup, Scene, group_by_date


def search_scenes(
    source: SceneSource,
    aoi: AOI,
    start: dt.date,
    end: dt.date,
    max_scene_cloud_pct: float | None = None,
    *,
    settings: Settings | None = None,
) -> list[Scene]:
    """The scenes over the AOI, as the source sorts them.

    The date span and the number of scenes found are held to the settings' limits (None: read
    from the environment), so an absurd request is refused before any read. Time before
    Landsat 4's launch holds no scene and is not asked for.
    """
    settings = Settings.from_env() if settings is None else settings
    check_date_span(start, end, settings)
    if end < LANDSAT_RECORD_START:
        return []
    scenes = source.search(aoi, max(start, LANDSAT_RECORD_START), end, max_scene_cloud_pct)
    check_scene_count(len(scenes), settings)
    return scenes


def search_dates(
    source: SceneSource,
    aoi: AOI,
    start: dt.date,
    end: dt.date,
    max_scene_cloud_pct: float | None = None,
    *,
    settings: Settings | None = None,
) -> list[DateGroup]:
    """The acquisitions over the AOI, oldest first (`search_scenes` merged into dates)."""
    return group_by_date(search_scenes(source, aoi, start, end, max_scene_cloud_pct, settings=settings))
