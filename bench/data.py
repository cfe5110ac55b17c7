"""The benchmark's data: full-size QA_PIXEL COGs written the way USGS writes them, cached
between runs, and STAC items (shaped like Planetary Computer's `landsat-c2-l2`) that point at
them under distinct URLs.

Every file shares one pixel grid (UTM 33N, 30 m, corners on odd multiples of 15 m like
USGS's), so an AOI window is aligned in all of them and every contender reads the same
pixels. Many scenes reuse one file under different URLs: the server and the readers see
distinct objects, and the cache stays small.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from affine import Affine

CACHE_VERSION = "bench-v1"
EPSG = 32633
PIXEL_M = 30.0
# Upper-left corner of the shared grid: odd multiples of 15 m, as USGS's Landsat grids.
ORIGIN = (381_585.0, 5_418_315.0)
COG_OPTIONS = dict(BLOCKSIZE=512, COMPRESS="DEFLATE", PREDICTOR=2, OVERVIEW_RESAMPLING="NEAREST", OVERVIEWS="AUTO")
"""USGS's Collection 2 layout: 512 px tiles, DEFLATE with horizontal differencing, internal
overviews (NEAREST, so QA bit patterns survive: an average of two codes is a third code)."""


@dataclass(frozen=True)
class Layout:
    """The size and number of the distinct QA files."""

    width: int = 7791
    height: int = 7891
    files: int = 30

    @property
    def key(self) -> str:
        return f"qa-{self.width}x{self.height}-n{self.files}"

    @property
    def transform(self) -> Affine:
        return Affine(PIXEL_M, 0.0, ORIGIN[0], 0.0, -PIXEL_M, ORIGIN[1])

    @property
    def centre(self) -> tuple[float, float]:
        """The grid's centre in UTM metres."""
        return ORIGIN[0] + self.width * PIXEL_M / 2, ORIGIN[1] - self.height * PIXEL_M / 2


FULL = Layout()
TINY = Layout(width=2048, height=2048, files=3)
"""For the smoke test: the same structure, seconds to make."""


def cache_root() -> Path:
    """`<cache_dir>/bench-v1`, under cloudcore's `cache_dir` setting (CLOUDCORE_CACHE_DIR, default
    ~/.cache/cloudcore), read from the environment as the command line reads it."""
    from cloudcore.settings import Settings

    return Settings.from_env().cache_dir / CACHE_VERSION


def cloud_fractions(n: int) -> list[float]:
    """Cloud cover of each file: evenly from 2 % to 90 %, in a fixed shuffled order so that
    neighbouring dates differ as they do in a real record."""
    values = np.linspace(0.02, 0.90, n) if n > 1 else np.array([0.4])
    return [float(v) for v in np.random.default_rng(20261124).permutation(values)]


def _write_one(args: tuple[Layout, int, float, str]) -> int:
    """Make and write file `index`; returns its size. Runs in a worker process."""
    import rasterio
    import rasterio.shutil
    from rasterio.io import MemoryFile

    from .synth import qa_pixel

    layout, index, fraction, path = args
    qa = qa_pixel((layout.height, layout.width), seed=1000 + index, cloud_fraction=fraction)
    profile = dict(
        driver="GTiff", width=layout.width, height=layout.height, count=1, dtype="uint16",
        crs=f"EPSG:{EPSG}", transform=layout.transform, nodata=1,
    )
    partial = f"{path}.partial"
    with MemoryFile() as memory:
        with memory.open(**profile) as dataset:
            dataset.write(qa, 1)
        del qa
        with memory.open() as source:
            rasterio.shutil.copy(source, partial, driver="COG", **COG_OPTIONS)
    os.replace(partial, path)
    return os.path.getsize(path)


def qa_files(layout: Layout = FULL, root: Path | None = None, processes: int = 2, log=print) -> list[Path]:
    """The layout's QA files, generated once into the cache.

    A marker written last says the set is complete; without it (an interrupted run) every
    file is made again, so a half-written file is never served.
    """
    folder = (root or cache_root()) / layout.key
    marker = folder / "COMPLETE.json"
    paths = [folder / f"qa_{i:02d}.TIF" for i in range(layout.files)]
    if marker.exists() and all(p.exists() for p in paths):
        return paths
    folder.mkdir(parents=True, exist_ok=True)
    log(f"generating {layout.files} QA files of {layout.width} x {layout.height} px into {folder} (once)")
    jobs = [(layout, i, f, str(p)) for i, (f, p) in enumerate(zip(cloud_fractions(layout.files), paths))]
    with ProcessPoolExecutor(max_workers=max(1, processes)) as pool:
        sizes = list(pool.map(_write_one, jobs))
    marker.write_text(json.dumps({"layout": asdict(layout), "bytes": sizes}, indent=1))
    return paths


def aoi_square(layout: Layout, size_m: float) -> dict:
    """A GeoJSON polygon (lon/lat) of a `size_m` square centred on the grid: its corners are
    projected from UTM, so on the grid it is the square itself (up to straight edges)."""
    from pyproj import Transformer

    to_lonlat = Transformer.from_crs(f"EPSG:{EPSG}", "EPSG:4326", always_xy=True)
    cx, cy = layout.centre
    h = size_m / 2
    ring = [to_lonlat.transform(cx + dx, cy + dy) for dx, dy in ((-h, -h), (h, -h), (h, h), (-h, h), (-h, -h))]
    return {"type": "Polygon", "coordinates": [[[round(x, 7), round(y, 7)] for x, y in ring]]}


def scene_dates(n: int, start: dt.date = dt.date(2022, 3, 1)) -> list[tuple[dt.date, str]]:
    """`n` distinct acquisition dates 8 days apart, Landsat 8 and 9 alternating as they fly."""
    return [(start + dt.timedelta(days=8 * i), "landsat-8" if i % 2 == 0 else "landsat-9") for i in range(n)]


def make_items(layout: Layout, files: list[Path], scenes: int, base_url: str) -> tuple[list[dict], dict[str, str]]:
    """STAC items for `scenes` dates, and the routes {url path: file} that serve them.

    Scene i reuses file `order[i]`, a fixed shuffle, so each file appears scenes/files times.
    """
    from pyproj import Transformer

    from .synth import corners

    to_lonlat = Transformer.from_crs(f"EPSG:{EPSG}", "EPSG:4326", always_xy=True)
    order = np.random.default_rng(7).permutation(np.resize(np.arange(len(files)), scenes))
    fractions = cloud_fractions(layout.files)
    t = layout.transform
    items, routes = [], {}
    for i, (date, platform) in enumerate(scene_dates(scenes)):
        index = int(order[i])
        sensor = "LC08" if platform == "landsat-8" else "LC09"
        processed = date + dt.timedelta(days=9)
        scene_id = f"{sensor}_L2SP_190027_{date:%Y%m%d}_{processed:%Y%m%d}_02_T1"
        path = f"/scenes/{scene_id}/{scene_id}_QA_PIXEL.TIF"
        routes[path] = str(files[index])
        ring = [to_lonlat.transform(*(t @ (col, row))) for col, row in corners((layout.height, layout.width), 1000 + index)]
        ring.append(ring[0])
        lons, lats = [p[0] for p in ring], [p[1] for p in ring]
        items.append({
            "type": "Feature",
            "stac_version": "1.0.0",
            "stac_extensions": [
                "https://stac-extensions.github.io/projection/v1.0.0/schema.json",
                "https://stac-extensions.github.io/raster/v1.0.0/schema.json",
                "https://stac-extensions.github.io/eo/v1.0.0/schema.json",
            ],
            "id": scene_id,
            "collection": "landsat-c2-l2",
            "bbox": [min(lons), min(lats), max(lons), max(lats)],
            "geometry": {"type": "Polygon", "coordinates": [[[x, y] for x, y in ring]]},
            "properties": {
                "datetime": f"{date.isoformat()}T09:48:{10 + i % 40:02d}.123456Z",
                "platform": platform,
                "instruments": ["oli", "tirs"],
                "landsat:wrs_path": "190",
                "landsat:wrs_row": "027",
                "landsat:collection_category": "T1",
                "eo:cloud_cover": round(100 * fractions[index], 2),
                "proj:epsg": EPSG,
                "proj:shape": [layout.height, layout.width],
                "proj:transform": [t.a, t.b, t.c, t.d, t.e, t.f],
            },
            "assets": {
                "qa_pixel": {
                    "href": base_url.rstrip("/") + path,
                    "type": "image/tiff; application=geotiff; profile=cloud-optimized",
                    "roles": ["cloud", "cloud-shadow", "snow-ice", "water-mask"],
                    "raster:bands": [{"data_type": "uint16", "nodata": 1, "unit": "bit index", "spatial_resolution": 30}],
                },
            },
            "links": [],
        })
    return items, routes
