"""Small pictures of dates for browsing: AOI thumbnails and images placed on a lon/lat map.

Thumbnails come from the same AOI window reads as the statistics (red, green, blue and
QA_PIXEL of the date), not from an external preview service, so they show exactly the
area that was measured.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rasterio.crs import CRS
from rasterio.warp import Resampling, calculate_default_transform, reproject, transform_bounds

from .aoi import AOI
from .read import Grid, inside_mask
from .gapfill import FilledImage
from .mlmask import BOTH_REMOVED, ML_ONLY, QA_ONLY, agreement
from .render import mask_overlay, provenance_rgba, true_colour
from .scene import DateGroup
from .sources.base import SceneSource
from .stack import date_grid, read_date

THUMBNAIL_PX = 160
HOLE_RGBA = (225, 225, 225, 255)
LONLAT = CRS.from_epsg(4326)


def _decimate(array: np.ndarray, max_px: int) -> np.ndarray:
    """Every n-th pixel so the longer side is at most max_px (nearest: keeps QA-free colours honest)."""
    step = max(1, int(np.ceil(max(array.shape[:2]) / max_px)))
    return array[::step, ::step]


def date_thumbnail(group: DateGroup, aoi: AOI, source: SceneSource, max_px: int = THUMBNAIL_PX) -> np.ndarray:
    """A true-colour RGBA thumbnail of the AOI on one date; transparent outside the AOI and where no data."""
    grid = date_grid(group, aoi, source)
    stack = read_date(group, grid, source, bands=("red", "green", "blue"))
    rgba = true_colour(stack.bands[0], stack.bands[1], stack.bands[2])
    rgba[~inside_mask(aoi, grid), 3] = 0
    return _decimate(rgba, max_px)


def to_lonlat(rgba: np.ndarray, grid: Grid) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """Warp an RGBA image on `grid` to lon/lat for a web map; returns it and (west, south, east, north)."""
    height, width = rgba.shape[:2]
    transform, out_w, out_h = calculate_default_transform(grid.crs, LONLAT, width, height, *grid.bounds)
    out = np.zeros((4, out_h, out_w), dtype=np.uint8)
    for band in range(4):
        reproject(
            rgba[..., band], out[band], src_transform=grid.transform, src_crs=grid.crs,
            dst_transform=transform, dst_crs=LONLAT, resampling=Resampling.nearest,
        )
    west, north = transform.c, transform.f
    east, south = west + out_w * transform.a, north + out_h * transform.e
    return np.moveaxis(out, 0, -1), (west, south, east, north)


def grid_bounds_lonlat(grid: Grid) -> tuple[float, float, float, float]:
    """The grid's extent in lon/lat (west, south, east, north)."""
    return transform_bounds(grid.crs, LONLAT, *grid.bounds)


def _rgb_indices(image: FilledImage) -> tuple[int, int, int]:
    names = list(image.band_names)
    return names.index("red"), names.index("green"), names.index("blue")


def filled_picture(image: FilledImage) -> np.ndarray:
    """True colour of the gap-filled date; transparent where unfilled or outside the AOI."""
    r, g, b = _rgb_indices(image)
    filled = image.result.filled
    rgba = true_colour(filled[r], filled[g], filled[b])
    rgba[~image.inside, 3] = 0
    return rgba


@dataclass(frozen=True)
class ComparePictures:
    """What a side-by-side comparison of one date shows (RGBA arrays on the AOI grid)."""

    original: np.ndarray
    """The date as observed, with its clouds."""
    masked: np.ndarray
    """Removed pixels shown as light grey holes (transparent would vanish on a white page)."""
    masked_overlay: np.ndarray
    """The observed date with removed pixels tinted."""
    filled: np.ndarray
    provenance: np.ndarray
    legend: list[tuple[int, tuple[int, int, int]]]
    """(YYYYMMDD, colour) per source date, in date order; the target date in grey."""
    disagreement: np.ndarray | None = None
    """Where QA_PIXEL and the ML mask differ (DISAGREEMENT_COLOURS), when the ML mask ran."""
    agreement: dict | None = None
    """mlmask.agreement of the two masks over the AOI, when the ML mask ran."""


def compare_pictures(image: FilledImage) -> ComparePictures:
    """The pictures of a fill, all with the same fixed stretch so they compare honestly."""
    r, g, b = _rgb_indices(image)
    original = true_colour(image.original[r], image.original[g], image.original[b])
    original[~image.inside, 3] = 0
    masked = original.copy()
    masked[image.removed] = HOLE_RGBA
    provenance, legend = provenance_rgba(image.result.provenance, target=image.date)
    codes = image.disagreement
    return ComparePictures(
        original=original,
        masked=masked,
        masked_overlay=mask_overlay(original, image.removed),
        filled=filled_picture(image),
        provenance=provenance,
        legend=legend,
        disagreement=None if codes is None else disagreement_rgba(codes, image.inside),
        agreement=None if codes is None else agreement(codes & QA_ONLY > 0, codes & ML_ONLY > 0, image.inside),
    )


DISAGREEMENT_COLOURS: dict[int, tuple[str, tuple[int, int, int]]] = {
    QA_ONLY: ("QA_PIXEL only", (255, 140, 0)),
    ML_ONLY: ("ML model only", (30, 120, 255)),
    BOTH_REMOVED: ("both masks", (200, 200, 200)),
}
"""Code -> (legend label, colour); pixels both masks keep stay transparent."""


def disagreement_rgba(codes: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """A picture of mlmask.disagreement_map codes inside the AOI."""
    rgba = np.zeros(codes.shape + (4,), dtype=np.uint8)
    for code, (_, colour) in DISAGREEMENT_COLOURS.items():
        hit = (codes == code) & inside
        rgba[hit, :3] = colour
        rgba[hit, 3] = 255
    return rgba
