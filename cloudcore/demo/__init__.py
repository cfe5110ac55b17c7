"""A synthetic Landsat Collection 2 Level-2 time series for trying cloudcore offline.

Two years of Landsat 8/9 scenes every 8 days over two overlapping WRS-2 paths near
Madison, Wisconsin, plus one Landsat 7 SLC-off date: COGs named as USGS names them, STAC
Items shaped like Planetary Computer's, QA bands coded as USGS codes them, and beside
each scene its cloud-free truth. Generated deterministically on first use into a cache.

Modules: grid (where), schedule (when, sun, sky), landscape (ground), atmosphere (sky),
qa_encode (QA bits), render (one scene as arrays), catalog (files), cache (first use).
"""

from __future__ import annotations

from .cache import CACHE_VERSION, demo_cache_dir, demo_ready, ensure_demo_catalog
from .catalog import CATALOG_FILE, TRUTH_KEY, generate_demo_catalog
from .schedule import DEMO_END, DEMO_START

DEMO_EXAMPLE_BBOX: tuple[float, float, float, float] = (-89.4443, 43.0377, -89.3555, 43.1025)
"""(west, south, east, north): a 7 km square inside both paths' footprints on every date,
over two lakes, the town between them, woods and fields."""

__all__ = [
    "CACHE_VERSION",
    "CATALOG_FILE",
    "DEMO_END",
    "DEMO_EXAMPLE_BBOX",
    "DEMO_START",
    "TRUTH_KEY",
    "demo_cache_dir",
    "demo_ready",
    "ensure_demo_catalog",
    "generate_demo_catalog",
]
