"""Small pictures of dates for browsing: true-colour thumbnails of the AOI.

Thumbnails come from the same AOI window reads as the statistics (red, green, blue and
QA_PIXEL of the date), not from an external preview service, so they show exactly the
area that was measured.
"""

from __future__ import annotations

import numpy as np

from ..geo.aoi import AOI
from ..geo.grid import inside_mask
from ..io.stack import date_grid, read_date
from ..settings import Settings
from ..sources.base import SceneSource
from ..sources.scene import DateGroup
from .colour import true_colour

THUMBNAIL_PX = 160


def _decimate(array: np.ndarray, max_px: int) -> np.ndarray:
    """Every n-th pixel so the longer side is at most max_px (nearest: keeps QA-free colours honest)."""
    step = max(1, int(np.ceil(max(array.shape[:2]) / max_px)))
    return array[::step, ::step]


def date_thumbnail(
    group: DateGroup, aoi: AOI, source: SceneSource, max_px: int = THUMBNAIL_PX, *, settings: Settings | None = None
) -> np.ndarray:
    """A true-colour RGBA thumbnail of the AOI on one date; transparent outside the AOI and where no data."""
    settings = Settings.from_env() if settings is None else settings
    grid = date_grid(group, aoi, source, settings=settings)
    stack = read_date(group, grid, source, settings=settings, bands=("red", "green", "blue"))
    assert stack.bands is not None  # asked for above
    rgba = true_colour(stack.bands[0], stack.bands[1], stack.bands[2])
    rgba[~inside_mask(aoi, grid), 3] = 0
    return _decimate(rgba, max_px)


