"""Pictures on a grid placed on a web map: warped to lon/lat, with their bounds."""

from __future__ import annotations

import numpy as np
from rasterio.crs import CRS
from rasterio.warp import Resampling, calculate_default_transform, reproject, transform_bounds

from ..geo.grid import Grid

LONLAT = CRS.from_epsg(4326)


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


