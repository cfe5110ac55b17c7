"""GDAL's options for reading COG windows over HTTP: the one place they are set.

Each option carries the reason it is here; the deadlines come from `Settings`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import rasterio

from ..settings import Settings

# A window is read once, so decoded blocks are rarely asked for twice: a small block cache
# keeps memory flat instead of GDAL's default of 5 % of the machine's RAM.
BLOCK_CACHE_BYTES = 128 * 2**20
# The first GET of a file fetches one chunk for the COG header. USGS-style QA headers are
# ~4 KB; GDAL's default 16 KB chunk moved a quarter more bytes than the AOI's tiles need.
# (Tiles are fetched by exact ranges, whatever this is.)
HEADER_CHUNK_BYTES = 8192


def gdal_options(settings: Settings) -> dict[str, str | int]:
    """GDAL configuration for window reads under `settings` (its HTTP deadline)."""
    # GDAL takes whole seconds: round up, so a sub-second setting is never 0 (no deadline).
    timeout_s = max(1, math.ceil(settings.http_timeout_s))
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
        "GDAL_HTTP_TIMEOUT": str(timeout_s),
        "GDAL_HTTP_CONNECTTIMEOUT": str(max(1, timeout_s // 2)),
        "GDAL_CACHEMAX": BLOCK_CACHE_BYTES,  # bytes; rasterio wants an int here
        "CPL_VSIL_CURL_CHUNK_SIZE": str(HEADER_CHUNK_BYTES),
        # Retries are off by default in GDAL; storage answers 5xx under load.
        "GDAL_HTTP_MAX_RETRY": "3",
        "GDAL_HTTP_RETRY_DELAY": "0.5",
        # 429 and 503 are left to `read.with_retries`, which waits what the server's
        # Retry-After asks (GDAL would retry them after its own fixed delay).
        "GDAL_HTTP_RETRY_CODES": "500,502,504",
    }


@contextmanager
def gdal_env(settings: Settings) -> Iterator[None]:
    """GDAL configured for window reads within the block."""
    with rasterio.Env(**gdal_options(settings)):
        yield
