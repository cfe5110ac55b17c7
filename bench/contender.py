"""One contender, run once, in a fresh process: `python -m bench.contender NAME --job job.json`.

The job file holds the STAC items and the AOI (and, for some contenders, more). The process
prints one JSON object: the per-date numbers, `wall_s` and `peak_rss_mb`.

Every contender measures its dates with the same kernel, `cloudcore.stats.cover.cover_stats`, on
the same grid (`cloudcore.geo.grid.grid_for_aoi` of the AOI on the files' own pixel grid), so
their numbers must agree exactly; only how the QA pixels get there differs.

`wall_s` is the time of the work alone: from the items (as dicts) and the AOI in memory to
every date's numbers in memory. Interpreter start, imports and reading the job file come
before the clock starts, the same way for every contender.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from typing import Any, Callable

STAT_KEYS = ("aoi_pixels", "valid_pct", "cloud_pct", "shadow_pct", "snow_pct", "masked_pct", "clear_pct")


def peak_rss_mb() -> float:
    """This process's peak resident memory (Linux reports ru_maxrss in KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _date_of(item: dict) -> str:
    return item["properties"]["datetime"][:10]


def _grid(item: dict, aoi):
    """The AOI grid on the item's pixel grid, from its projection metadata (no file opened)."""
    from affine import Affine
    from rasterio.crs import CRS

    from cloudcore.geo.grid import grid_for_aoi

    props = item["properties"]
    return grid_for_aoi(aoi, CRS.from_epsg(props["proj:epsg"]), Affine(*props["proj:transform"][:6]))


def _stats(qa, platform: str, inside) -> dict:
    from cloudcore.stats.cover import cover_stats

    stats = cover_stats(qa, platform, inside)
    return {k: stats[k] for k in STAT_KEYS}


# --- naive: what the seed did -------------------------------------------------------------


def run_naive(items: list[dict], aoi, job: dict) -> tuple[dict, dict]:
    """Download each whole file, one after another, and read the window from memory."""
    import requests
    from rasterio.io import MemoryFile
    from rasterio.windows import Window

    from cloudcore.geo.grid import inside_mask

    session = requests.Session()
    out = {}
    for item in items:
        href = item["assets"]["qa_pixel"]["href"]
        response = session.get(href, timeout=60)
        response.raise_for_status()
        with MemoryFile(response.content) as memory, memory.open() as src:
            grid = _grid(item, aoi)
            col = round((grid.transform.c - src.transform.c) / src.transform.a)
            row = round((grid.transform.f - src.transform.f) / src.transform.e)
            qa = src.read(1, window=Window(col, row, grid.width, grid.height), boundless=True, fill_value=1)
        out[_date_of(item)] = _stats(qa, item["properties"]["platform"], inside_mask(aoi, grid))
    return out, {}


# --- odc-stac, as Planetary Computer's examples use it, and tuned ----------------------------


def _odc_load(items: list[dict], aoi, **load_options):
    import odc.stac
    import pystac
    from odc.geo.geobox import GeoBox

    from cloudcore.geo.grid import inside_mask

    # What Planetary Computer's example notebooks do before loading.
    odc.stac.configure_rio(cloud_defaults=True)
    grid = _grid(items[0], aoi)
    geobox = GeoBox((grid.height, grid.width), grid.transform, grid.crs.to_wkt())
    stac_items = [pystac.Item.from_dict(item) for item in items]
    data = odc.stac.load(stac_items, bands=["qa_pixel"], geobox=geobox, resampling="nearest", **load_options)
    data = data.compute()  # dask's default scheduler when chunked; a no-op otherwise
    inside = inside_mask(aoi, grid)
    platforms = {_date_of(item): item["properties"]["platform"] for item in items}
    out = {}
    for i, when in enumerate(data.time.values):
        date = str(when)[:10]
        out[date] = _stats(data.qa_pixel.isel(time=i).values, platforms[date], inside)
    return out


def run_odc_stac(items: list[dict], aoi, job: dict) -> tuple[dict, dict]:
    return _odc_load(items, aoi, chunks={}), {}


def run_odc_stac_pool(items: list[dict], aoi, job: dict) -> tuple[dict, dict]:
    return _odc_load(items, aoi, pool=16), {}


# --- async-geotiff, as its README shows it ---------------------------------------------------


def run_async_geotiff(items: list[dict], aoi, job: dict) -> tuple[dict, dict]:
    """`GeoTIFF.open(path, store=HTTPStore)` then `read(window=...)`, one asyncio task per scene,
    all at once: async-geotiff (async-tiff and obstore, Rust) with its defaults."""
    import asyncio

    from async_geotiff import GeoTIFF, Window
    from obstore.store import HTTPStore

    from cloudcore.geo.grid import inside_mask

    async def one(item: dict) -> tuple[str, dict]:
        base, name = item["assets"]["qa_pixel"]["href"].rsplit("/", 1)
        # allow_http: the benchmark's server is plain http on loopback.
        store = HTTPStore.from_url(base, client_options={"allow_http": True})
        geotiff = await GeoTIFF.open(name, store=store)
        grid = _grid(item, aoi)
        col = round((grid.transform.c - geotiff.transform.c) / geotiff.transform.a)
        row = round((grid.transform.f - geotiff.transform.f) / geotiff.transform.e)
        # The benchmark's AOI grid lies inside every file, so a plain window is the whole grid.
        array = await geotiff.read(window=Window(col_off=col, row_off=row, width=grid.width, height=grid.height))
        return _date_of(item), _stats(array.data[0], item["properties"]["platform"], inside_mask(aoi, grid))

    async def every() -> list[tuple[str, dict]]:
        return await asyncio.gather(*(one(item) for item in items))

    return dict(asyncio.run(every())), {}


# --- cloudcore ----------------------------------------------------------------------------


class ItemHrefs:
    """A SceneSource for scenes already found: hrefs are readable as they are (no signing)."""

    name = "bench"

    def search(self, aoi, start, end, max_scene_cloud_pct=None):  # pragma: no cover - never called
        raise NotImplementedError("the benchmark hands cloudcore its scenes; nothing is searched")

    def readable_href(self, href: str, fresh: bool = False) -> str:
        return href


def _records(records) -> tuple[dict, list[str]]:
    out, errors = {}, []
    for record in records:
        if record.error:
            errors.append(f"{record.date}: {record.error}")
            continue
        values = {"aoi_pixels": record.aoi_pixels, **{k: getattr(record, k) for k in STAT_KEYS[1:]}}
        out[record.date] = values
    return out, errors


def run_cloudcore(items: list[dict], aoi, job: dict) -> tuple[dict, dict]:
    from cloudcore.sources.scene import group_by_date, scene_from_item
    from cloudcore.stats.cover import iter_cover

    options: dict[str, Any] = {"settings": job["_settings"]}
    if job.get("overview"):
        options["overview"] = int(job["overview"])
    if job.get("cache_dir"):
        from cloudcore.io.cache import CoverCache

        options["cache"] = CoverCache(job["cache_dir"])
    groups = group_by_date([scene_from_item(item) for item in items])
    out, errors = _records(iter_cover(groups, aoi, ItemHrefs(), **options))
    return out, {"errors": errors}


def run_cloudcore_dask(items: list[dict], aoi, job: dict) -> tuple[dict, dict]:
    """The same work through dask.distributed: a LocalCluster here, any scheduler in real use."""
    from cloudcore.sources.scene import group_by_date, scene_from_item
    from cloudcore.stats.distributed import iter_cover_dask

    client = job["_client"]
    groups = group_by_date([scene_from_item(item) for item in items])
    measured = iter_cover_dask(
        groups, aoi, ItemHrefs(), scheduler=client, settings=job["_settings"], overview=int(job.get("overview", 0))
    )
    out, errors = _records(measured)
    return out, {"errors": errors}


CONTENDERS: dict[str, Callable[[list[dict], Any, dict], tuple[dict, dict]]] = {
    "naive": run_naive,
    "odc_stac": run_odc_stac,
    "odc_stac_pool": run_odc_stac_pool,
    "async_geotiff": run_async_geotiff,
    "cloudcore": run_cloudcore,
    "cloudcore_dask": run_cloudcore_dask,
}


def _start_cluster(job: dict):
    """A LocalCluster of job['workers'] processes, each capped at job['worker_memory']."""
    import os

    from distributed import Client, LocalCluster

    # Workers are new processes: they must find `bench` (for ItemHrefs) and `cloudcore`.
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [os.getcwd(), os.environ.get("PYTHONPATH")]))
    cluster = LocalCluster(
        n_workers=int(job.get("workers", 2)),
        threads_per_worker=int(job.get("threads_per_worker", 4)),
        memory_limit=job.get("worker_memory", "2GB"),
        processes=True,
        dashboard_address=None,
    )
    return cluster, Client(cluster)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", choices=sorted(CONTENDERS))
    parser.add_argument("--job", required=True, help="JSON file: {items, aoi, ...}")
    args = parser.parse_args(argv)
    # Imports before the clock, the same for all: what each contender needs is imported here.
    import numpy  # noqa: F401
    import rasterio  # noqa: F401

    import cloudcore.io.cog_http
    import cloudcore.io.read
    import cloudcore.stats.cover
    from cloudcore.geo.aoi import parse_aoi
    from cloudcore.settings import Settings

    if args.name.startswith("cloudcore"):
        import aiohttp  # noqa: F401  # the native COG reader's HTTP and TIFF libraries, imported on first use
        import async_tiff  # noqa: F401
    if args.name.startswith("odc"):
        import odc.stac  # noqa: F401
        import pystac  # noqa: F401
    if args.name == "naive":
        import requests  # noqa: F401
    if args.name == "async_geotiff":
        import async_geotiff  # noqa: F401
        import obstore  # noqa: F401

    with open(args.job) as handle:
        job = json.load(handle)
    items = job["items"]
    # Settings are read once, as the command line reads them: CLOUDCORE_* of this process.
    settings = Settings.from_env()
    job["_settings"] = settings
    aoi = parse_aoi(json.dumps(job["aoi"]), settings=settings)

    cluster = None
    if args.name == "cloudcore_dask":
        cluster, job["_client"] = _start_cluster(job)  # cluster start-up is not the work: before the clock
        import cloudcore.stats.distributed  # noqa: F401

    started = time.perf_counter()
    dates, extra = CONTENDERS[args.name](items, aoi, job)
    wall = time.perf_counter() - started

    result = {"name": args.name, "wall_s": round(wall, 3), "peak_rss_mb": peak_rss_mb(), "dates": dates, **extra}
    if args.name.startswith("cloudcore"):
        # Files the native COG reader read, and those that fell back to GDAL (this process only:
        # dask workers count their own).
        result["read_paths"] = cloudcore.io.cog_http.read_path_counts()
    if cluster is not None:
        client = job.pop("_client")
        result["worker_peak_rss_mb"] = sorted(client.run(peak_rss_mb).values())
        client.close()
        cluster.close()
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
