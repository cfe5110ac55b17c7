"""Read only the AOI's window of each band, on the scene's own pixel grid.

The grid of a date comes from its first scene (its CRS and pixel alignment, at native
resolution), cut to the AOI's bounds plus a margin. Bands in the same CRS are read as a
plain window and pasted in place; a scene in another CRS (a neighbouring UTM zone) is
warped onto the grid with nearest-neighbour resampling so QA bits survive.
"""

from __future__ import annotations

import math
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.features import geometry_mask
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window

from .aoi import AOI
from .errors import InvalidAOIError, SceneReadError

DEFAULT_HTTP_TIMEOUT_S = 10


def gdal_options() -> dict[str, str]:
    """GDAL settings for reading COG windows over HTTP, read from the environment at call time."""
    timeout = os.environ.get("CLOUDCORE_HTTP_TIMEOUT_S", str(DEFAULT_HTTP_TIMEOUT_S))
    return {
        # Each open would otherwise list the remote "directory" and probe .aux.xml/.msk sidecars: 20x slower.
        "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
        "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".tif,.TIF,.tiff,.TIFF",
        # Adjacent COG tiles come back in one range request instead of one each.
        "GDAL_HTTP_MERGE_CONSECUTIVE_RANGES": "YES",
        # HTTP/2 multiplexing lets concurrent window reads share one connection.
        "GDAL_HTTP_MULTIPLEX": "YES",
        "GDAL_HTTP_VERSION": "2",
        # Deadlines: a stalled server fails this read instead of hanging the timeline.
        "GDAL_HTTP_TIMEOUT": str(int(float(timeout))),
        "GDAL_HTTP_CONNECTTIMEOUT": str(max(1, int(float(timeout) / 2))),
        # Retries are off by default in GDAL; storage answers 429/5xx under load.
        "GDAL_HTTP_MAX_RETRY": "3",
        "GDAL_HTTP_RETRY_DELAY": "0.5",
    }


@contextmanager
def gdal_env() -> Iterator[None]:
    with rasterio.Env(**gdal_options()):
        yield


@dataclass(frozen=True)
class Grid:
    """A north-up pixel grid: where AOI windows of a date are read to."""

    crs: CRS
    transform: Affine
    width: int
    height: int

    @property
    def shape(self) -> tuple[int, int]:
        return (self.height, self.width)

    @property
    def pixel_size(self) -> float:
        """Pixel width in CRS units (metres for UTM and polar stereographic)."""
        return abs(self.transform.a)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        left, top = self.transform.c, self.transform.f
        return (left, top + self.height * self.transform.e, left + self.width * self.transform.a, top)


def grid_for_aoi(aoi: AOI, crs: CRS, scene_transform: Affine, margin_m: float = 0.0) -> Grid:
    """The smallest grid aligned with `scene_transform` that covers the AOI plus a margin."""
    geometry = aoi.in_crs(crs)
    if geometry.is_empty:
        raise InvalidAOIError("The AOI cannot be projected onto the scene's grid: check that it overlaps the scene.")
    west, south, east, north = geometry.bounds
    size_x, size_y = abs(scene_transform.a), abs(scene_transform.e)
    pad = margin_m + max(size_x, size_y)  # one extra pixel so edge pixel centres are never cut
    x0, y0 = scene_transform.c, scene_transform.f
    col0 = math.floor((west - pad - x0) / size_x)
    col1 = math.ceil((east + pad - x0) / size_x)
    row0 = math.floor((y0 - (north + pad)) / size_y)
    row1 = math.ceil((y0 - (south - pad)) / size_y)
    transform = Affine(size_x, 0.0, x0 + col0 * size_x, 0.0, -size_y, y0 - row0 * size_y)
    return Grid(crs=crs, transform=transform, width=col1 - col0, height=row1 - row0)


def inside_mask(aoi: AOI, grid: Grid) -> np.ndarray:
    """True for grid pixels whose centres fall inside the AOI polygon."""
    geometry = aoi.in_crs(grid.crs)
    return geometry_mask([geometry], out_shape=grid.shape, transform=grid.transform, invert=True, all_touched=False)


def open_grid(href: str, aoi: AOI, margin_m: float = 0.0) -> Grid:
    """Open one band's header and derive the AOI grid from its CRS and alignment."""
    try:
        with gdal_env(), rasterio.open(href) as src:
            if src.crs is None:
                raise SceneReadError(f"{_name(href)} has no coordinate reference system: it cannot be placed on a map.")
            return grid_for_aoi(aoi, src.crs, src.transform, margin_m)
    except rasterio.errors.RasterioError as err:
        raise SceneReadError(f"Could not open {_name(href)}: {_clean(err)}") from err


def read_on_grid(href: str, grid: Grid, fill_value: int | float = 0, band: int = 1) -> np.ndarray:
    """One band of `href` (1-based index, default the first) on `grid`; pixels the raster does
    not cover get `fill_value`.

    Same CRS and pixel alignment: a windowed read of only the overlapping part.
    Otherwise: a nearest-neighbour warp through WarpedVRT, which still reads only
    the source blocks the grid needs.
    """
    try:
        with gdal_env(), rasterio.open(href) as src:
            if _aligned(src, grid):
                return _read_window(src, grid, fill_value, band)
            with WarpedVRT(
                src,
                crs=grid.crs,
                transform=grid.transform,
                width=grid.width,
                height=grid.height,
                resampling=Resampling.nearest,
                nodata=fill_value,
            ) as vrt:
                return vrt.read(band)
    except rasterio.errors.RasterioError as err:
        raise SceneReadError(f"Could not read {_name(href)}: {_clean(err)}") from err


def _aligned(src: rasterio.io.DatasetReader, grid: Grid) -> bool:
    if src.crs != grid.crs:
        return False
    st, gt = src.transform, grid.transform
    if st.b or st.d or not math.isclose(st.a, gt.a) or not math.isclose(st.e, gt.e):
        return False
    col_shift = (gt.c - st.c) / st.a
    row_shift = (gt.f - st.f) / st.e
    return abs(col_shift - round(col_shift)) < 1e-6 and abs(row_shift - round(row_shift)) < 1e-6


def _read_window(src: rasterio.io.DatasetReader, grid: Grid, fill_value: int | float, band: int = 1) -> np.ndarray:
    out = np.full(grid.shape, fill_value, dtype=src.dtypes[band - 1])
    col_off = round((grid.transform.c - src.transform.c) / src.transform.a)
    row_off = round((grid.transform.f - src.transform.f) / src.transform.e)
    c0, r0 = max(col_off, 0), max(row_off, 0)
    c1, r1 = min(col_off + grid.width, src.width), min(row_off + grid.height, src.height)
    if c1 <= c0 or r1 <= r0:
        return out  # the grid lies outside this raster
    data = src.read(band, window=Window(c0, r0, c1 - c0, r1 - r0))
    out[r0 - row_off : r1 - row_off, c0 - col_off : c1 - col_off] = data
    return out


def _name(href: str) -> str:
    """The file name of an href, without any query string (which may hold a token)."""
    return href.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]


def _clean(err: Exception) -> str:
    """An error text with any signed query string removed."""
    return re.sub(r"\?[^\s'\"]*", "?<token removed>", str(err))
