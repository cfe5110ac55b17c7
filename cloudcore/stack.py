"""Read one date's scenes onto a common AOI grid: QA, saturation and reflectance bands.

Adjacent rows of one path overlap; where two scenes cover a pixel, the first scene (by
id) with data there wins, decided on QA_PIXEL's fill bit so bands and QA stay paired.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .aoi import AOI
from .errors import SceneReadError
from .qa import FILL_BIT, bit_set
from .read import Grid, open_grid, read_on_grid
from .scene import QA_BAND, RADSAT_BAND, DateGroup, Scene
from .sources.base import SceneSource

QA_FILL_VALUE = 1 << FILL_BIT  # what QA_PIXEL holds where a raster has no data


@dataclass(frozen=True)
class DateStack:
    """One date on the AOI grid."""

    qa: np.ndarray
    """Merged QA_PIXEL (uint16); fill where no scene has data."""
    radsat: np.ndarray | None
    """Merged QA_RADSAT, when asked for and present."""
    bands: np.ndarray | None
    """(B, H, W) surface reflectance DN in the order asked for, 0 where no data."""


def _href(scene: Scene, band: str, source: SceneSource) -> str:
    try:
        href = scene.assets[band]
    except KeyError as err:
        raise SceneReadError(f"Scene {scene.id} has no {band} asset: it cannot be read.") from err
    return source.readable_href(href)


def date_grid(group: DateGroup, aoi: AOI, source: SceneSource, margin_m: float = 0.0) -> Grid:
    """The AOI grid of a date, aligned with its first scene's QA_PIXEL."""
    return open_grid(_href(group.scenes[0], QA_BAND, source), aoi, margin_m)


def read_date(
    group: DateGroup,
    grid: Grid,
    source: SceneSource,
    bands: Sequence[str] = (),
    with_radsat: bool = False,
) -> DateStack:
    """Read and merge the scenes of one date onto `grid`."""
    qa = np.full(grid.shape, QA_FILL_VALUE, dtype=np.uint16)
    radsat = np.zeros(grid.shape, dtype=np.uint16) if with_radsat else None
    stacked = np.zeros((len(bands),) + grid.shape, dtype=np.uint16) if bands else None
    for scene in group.scenes:
        missing = bit_set(qa, FILL_BIT)
        if not missing.any():
            break  # earlier scenes already cover the whole AOI
        scene_qa = read_on_grid(_href(scene, QA_BAND, source), grid, QA_FILL_VALUE)
        take = missing & ~bit_set(scene_qa, FILL_BIT)
        if not take.any():
            continue
        qa[take] = scene_qa[take]
        if radsat is not None and RADSAT_BAND in scene.assets:
            radsat[take] = read_on_grid(_href(scene, RADSAT_BAND, source), grid, 0)[take]
        for i, band in enumerate(bands):
            stacked[i][take] = read_on_grid(_href(scene, band, source), grid, 0)[take]
    return DateStack(qa=qa, radsat=radsat, bands=stacked)
