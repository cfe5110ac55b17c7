"""Where the demo scenes sit: one UTM grid and the footprints of two adjacent WRS-2 paths.

The place is the lake-and-farmland country around Madison, Wisconsin (UTM zone 16N), seen
by WRS-2 paths 24 and 25 at row 30. Both paths share one 30 m grid whose pixel edges lie
at odd multiples of 15 m, as every USGS Landsat UTM product grid does, so the two paths'
pixels coincide where they overlap. Scenes are shrunk to a few hundred pixels to keep the
cache small; each raster holds a tilted square footprint, as a real scene holds its swath.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyproj

EPSG = 32616
PIXEL_M = 30.0
SCENE_PX = 480
"""Rows and columns of every scene raster."""
FOOTPRINT_PX = 392
"""Side of the square swath footprint inside the raster, in pixels."""
TILT_DEG = 12.0
"""Footprint rotation: a descending Landsat pass at 43 N heads about 192 degrees."""
MAX_JITTER_PX = 6
"""Scenes of one path move a few pixels along track from date to date."""

# Upper-left corner of the shared grid; 295905 and 4778835 are odd multiples of 15 m.
WORLD_WEST_M = 295_905.0
WORLD_NORTH_M = 4_778_835.0
WORLD_SHAPE = (496, 580)
"""(rows, cols) of the grid holding both paths' rasters."""

# ETM+ scan line corrector failure (2003): uncompensated scans leave wedge gaps that are
# closed at nadir and widest at the swath edges; one scan pair spans 32 lines.
SLC_PERIOD_PX = 32
SLC_MAX_GAP_PX = 12.0
SLC_CLOSED_HALF_WIDTH_PX = 30.0


@dataclass(frozen=True)
class PathGrid:
    """One WRS-2 path/row's raster: a SCENE_PX square window of the shared grid."""

    wrs_path: int
    wrs_row: int
    row_off: int
    col_off: int

    @property
    def west_m(self) -> float:
        return WORLD_WEST_M + self.col_off * PIXEL_M

    @property
    def north_m(self) -> float:
        return WORLD_NORTH_M - self.row_off * PIXEL_M

    @property
    def transform(self) -> tuple[float, float, float, float, float, float]:
        """GDAL-order affine as STAC proj:transform lists it (a, b, c, d, e, f)."""
        return (PIXEL_M, 0.0, self.west_m, 0.0, -PIXEL_M, self.north_m)

    @property
    def window(self) -> tuple[slice, slice]:
        """This raster's rows and columns within the shared grid."""
        return (
            slice(self.row_off, self.row_off + SCENE_PX),
            slice(self.col_off, self.col_off + SCENE_PX),
        )

    @property
    def center_m(self) -> tuple[float, float]:
        half = SCENE_PX * PIXEL_M / 2
        return (self.west_m + half, self.north_m - half)


# Path 25 lies west of path 24; the two overlap by three quarters of a swath, so that an
# 8 km square fits in both.
PATHS: tuple[PathGrid, ...] = (
    PathGrid(wrs_path=24, wrs_row=30, row_off=16, col_off=100),
    PathGrid(wrs_path=25, wrs_row=30, row_off=0, col_off=0),
)


def path_grid(wrs_path: int) -> PathGrid:
    return next(p for p in PATHS if p.wrs_path == wrs_path)


def _track_coords(jitter_px: float) -> tuple[np.ndarray, np.ndarray]:
    """Cross-track u and along-track v of each pixel centre, in pixels from the swath centre."""
    offsets = np.arange(SCENE_PX, dtype=np.float32) + 0.5 - SCENE_PX / 2
    east = offsets[None, :]
    north = -offsets[:, None]
    theta = np.deg2rad(TILT_DEG)
    u = east * np.cos(theta) - north * np.sin(theta)
    v = east * np.sin(theta) + north * np.cos(theta) - jitter_px
    return u, v


def footprint_mask(jitter_px: float) -> np.ndarray:
    """Boolean raster: pixels inside the swath (everything else is fill)."""
    u, v = _track_coords(jitter_px)
    half = FOOTPRINT_PX / 2
    return (np.abs(u) <= half) & (np.abs(v) <= half)


def slc_off_gaps(jitter_px: float) -> np.ndarray:
    """Boolean raster: ETM+ SLC-off gaps, wedges that widen from the track towards both edges.

    Gaps on the east half fall between the scans that leave gaps on the west half, as the
    forward and reverse scans of the uncorrected zig-zag alternate.
    """
    u, v = _track_coords(jitter_px)
    width = SLC_MAX_GAP_PX * np.clip(
        (np.abs(u) - SLC_CLOSED_HALF_WIDTH_PX) / (FOOTPRINT_PX / 2 - SLC_CLOSED_HALF_WIDTH_PX), 0.0, 1.0
    )
    phase = np.mod(v + np.where(u < 0, SLC_PERIOD_PX / 2, 0.0), SLC_PERIOD_PX)
    return phase < width


def footprint_corners_m(grid: PathGrid, jitter_px: float) -> list[tuple[float, float]]:
    """The swath's four corners in UTM metres: top, west, bottom, east (counter-clockwise)."""
    theta = np.deg2rad(TILT_DEG)
    half = FOOTPRINT_PX / 2
    cx, cy = grid.center_m
    corners = []
    for u, v in ((-half, half), (-half, -half), (half, -half), (half, half)):
        v = v + jitter_px
        east = u * np.cos(theta) + v * np.sin(theta)
        north = -u * np.sin(theta) + v * np.cos(theta)
        corners.append((cx + east * PIXEL_M, cy + north * PIXEL_M))
    return corners


@lru_cache(maxsize=1)
def _to_lonlat() -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(EPSG, 4326, always_xy=True)


def to_lonlat(points_m: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """UTM metres to (lon, lat) degrees."""
    xs, ys = zip(*points_m)
    lons, lats = _to_lonlat().transform(np.array(xs), np.array(ys))
    return [(float(lon), float(lat)) for lon, lat in zip(lons, lats)]
