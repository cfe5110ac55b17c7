"""Small georeferenced rasters written by tests: scenes on a real UTM grid."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from pyproj import Transformer

from cloudcore.sources.scene import Scene

UTM33N = "EPSG:32633"
# Landsat grids put pixel corners on odd multiples of 15 m.
ORIGIN = (500_015.0, 5_300_025.0)


def write_tif(path: Path, array: np.ndarray, crs: str = UTM33N, origin=ORIGIN, pixel: float = 30.0, nodata=None) -> Path:
    transform = Affine(pixel, 0, origin[0], 0, -pixel, origin[1])
    with rasterio.open(
        path, "w", driver="GTiff", width=array.shape[1], height=array.shape[0], count=1,
        dtype=array.dtype, crs=crs, transform=transform, nodata=nodata, tiled=True, blockxsize=64, blockysize=64,
    ) as dst:
        dst.write(array, 1)
    return path


def lonlat_bbox(crs: str, left: float, bottom: float, right: float, top: float) -> str:
    """A lon/lat bbox text for a projected rectangle (its corners' envelope shrunk slightly)."""
    to_ll = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    xs, ys = to_ll.transform([left, right, left, right], [bottom, bottom, top, top])
    return f"{max(xs[0], xs[2])},{max(ys[0], ys[1])},{min(xs[1], xs[3])},{min(ys[2], ys[3])}"


def make_scene(folder: Path, scene_id: str, qa: np.ndarray, platform: str = "landsat-8", date=dt.date(2024, 5, 1),
               path: int = 190, row: int = 27, bands: dict | None = None, **grid) -> Scene:
    """Write a QA_PIXEL (and optional bands) and return the Scene pointing at them."""
    assets = {"qa_pixel": str(write_tif(folder / f"{scene_id}_QA_PIXEL.TIF", qa.astype(np.uint16), **grid))}
    for name, array in (bands or {}).items():
        assets[name] = str(write_tif(folder / f"{scene_id}_{name}.TIF", array.astype(np.uint16), **grid))
    return Scene(
        id=scene_id, datetime=dt.datetime.combine(date, dt.time(10, 0), tzinfo=dt.timezone.utc), platform=platform,
        wrs_path=path, wrs_row=row, scene_cloud_pct=50.0, land_cloud_pct=50.0, bbox_lonlat=None, geometry_lonlat=None,
        assets=assets, epsg=int(grid.get("crs", UTM33N).split(":")[1]),
    )


class ListSource:
    """A SceneSource over a fixed list of scenes (local files)."""

    name = "test-list"

    def __init__(self, scenes: list[Scene]):
        self.scenes = scenes

    def search(self, aoi, start, end, max_scene_cloud_pct=None):
        return sorted((s for s in self.scenes if start <= s.date <= end), key=lambda s: (s.datetime, s.id))

    def readable_href(self, href: str, fresh: bool = False) -> str:
        return href


class FailingSource(ListSource):
    """A ListSource that raises `error` instead of handing out the hrefs of one scene."""

    def __init__(self, scenes: list[Scene], failing: str, error: Exception):
        super().__init__(scenes)
        self.failing, self.error = failing, error

    def readable_href(self, href: str, fresh: bool = False) -> str:
        if Path(href).name.startswith(f"{self.failing}_"):
            raise self.error
        return href
