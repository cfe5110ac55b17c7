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
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window

from ..errors import InvalidAOIError, SceneReadError, SourceUnreachableError
from ..geo.aoi import AOI
from ..geo.grid import Grid, grid_for_aoi
from ..settings import Settings
from .gdal import gdal_env

T = TypeVar("T")

# Our own tries around a whole read, on top of GDAL's per-request retries of 500/502/504:
# throttling answers that name a wait, broken transfers, and an expired signature.
READ_TRIES = 2
THROTTLED_TRIES = 4
READ_BACKOFF_S = 0.5
# Longest Retry-After we honour on a read: longer would keep the whole timeline waiting.
MAX_RETRY_AFTER_S = 10.0
# Longest we ask a throttling server for its Retry-After (a HEAD).
RETRY_AFTER_QUERY_S = 5.0


READ_FAILURES: tuple[type[Exception], ...] = (SceneReadError, SourceUnreachableError)
"""What reading one date may fail with that is a fact of that date (its files, their storage,
the network, a token service): such a failure becomes the date's `error`, and the other dates
go on. Anything else is a bug and raises."""


class ForbiddenReadError(SceneReadError):
    """The storage refused the href (HTTP 401/403): typically an expired signature."""


class TransientReadError(SceneReadError):
    """A read failed in a way that may pass on a retry (5xx, 429, reset, truncation, timeout)."""

    retry_after_s: float | None = None
    """The wait a throttling server asked for, when the reader saw its answer (the native COG
    reader does; GDAL does not pass headers on, so then the server is asked again)."""


@contextmanager
def open_raster(href: str, *, settings: Settings, overview: int = 0) -> Iterator[rasterio.io.DatasetReader]:
    """Open `href` with the HTTP options, as its `overview`-th overview when above 0 (1 = the
    first, half resolution); errors become SceneReadError kinds a caller can retry on."""
    try:
        with gdal_env(settings):
            src = _open_overview(href, overview) if overview > 0 else rasterio.open(href)
            with src:
                yield src
    except rasterio.errors.RasterioError as err:
        raise _read_error(href, err) from err


def _open_overview(href: str, overview: int) -> rasterio.io.DatasetReader:
    """The `overview`-th overview of `href`; its coarsest one if it has fewer levels, and the
    full resolution if it has none (slower, but the numbers are right)."""
    src = rasterio.open(href)
    levels = len(src.overviews(1))
    if levels == 0:
        return src
    src.close()
    return rasterio.open(href, overview_level=min(overview, levels) - 1)


def open_grid(href: str, aoi: AOI, *, settings: Settings, margin_m: float = 0.0, overview: int = 0) -> Grid:
    """Open one band's header and derive the AOI grid from its CRS and alignment."""
    with open_raster(href, settings=settings, overview=overview) as src:
        return _grid_of(src, href, aoi, margin_m)


def read_aoi(
    href: str, aoi: AOI, *, settings: Settings, margin_m: float = 0.0, fill_value: float = 0, overview: int = 0
) -> tuple[Grid, np.ndarray]:
    """The AOI grid of `href` and its first band on it, from one open (one header fetch).

    An http(s) COG at full resolution is read by the native reader (`cog_http`: no HEAD, decoding
    off the GIL); anything it does not handle, and everything else, through GDAL."""
    if _native(href, overview, settings, aoi_pixels(aoi, margin_m)):
        from . import cog_http

        try:
            found = cog_http.read_aoi(href, aoi, settings=settings, margin_m=margin_m, fill_value=fill_value)
            cog_http.count("native")
            return found
        except cog_http.NotNative:
            cog_http.count("gdal_fallback")
    with open_raster(href, settings=settings, overview=overview) as src:
        grid = _grid_of(src, href, aoi, margin_m)
        return grid, _read_window(src, grid, fill_value)


def read_on_grid(
    href: str, grid: Grid, *, settings: Settings, fill_value: float = 0, band: int = 1, overview: int = 0
) -> np.ndarray:
    """One band of `href` (1-based index, default the first) on `grid`; pixels the raster does
    not cover get `fill_value`.

    Same CRS and pixel alignment: a windowed read of only the overlapping part.
    Otherwise: a nearest-neighbour warp through WarpedVRT, which still reads only
    the source blocks the grid needs.
    """
    if band == 1 and _native(href, overview, settings, grid.width * grid.height):
        from . import cog_http

        try:
            values = cog_http.read_on_grid(href, grid, settings=settings, fill_value=fill_value)
            cog_http.count("native")
            return values
        except cog_http.NotNative:
            cog_http.count("gdal_fallback")
    with open_raster(href, settings=settings, overview=overview) as src:
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


# Windows up to this many pixels go to the native COG reader; larger ones to GDAL. The native
# reader saves a round trip per file (no HEAD) and keeps more files in flight, which wins while
# round trips dominate; per pixel it costs more CPU (async-tiff's DEFLATE and predictor ~0.9 ms
# a 512 px tile against GDAL's ~0.6 ms, and a copy into the window), so GDAL wins on large
# windows. Measured (benchmark, 150 dates, 50 ms a request): a 20 km AOI (0.44 Mpx a date) took
# 1.3-1.5 s native against 1.9-2.1 s through GDAL; a 100 km AOI (11 Mpx) 13.4 s native against
# 12.0 s. The crossover between them was not measured: this limit is a round value in that gap.
NATIVE_MAX_PIXELS = 4_000_000


def native_window(pixels: float) -> bool:
    """Whether a window of `pixels` is small enough for the native COG reader to be the faster."""
    return pixels <= NATIVE_MAX_PIXELS


def aoi_pixels(aoi: AOI, margin_m: float = 0.0, pixel_m: float = 30.0) -> float:
    """About the pixels of an AOI's grid at `pixel_m` (Landsat's 30 m): its bounding box, per
    part, from degrees on a sphere (a size class for `native_window`, not a measurement; a
    geodesic area per read cost more CPU than the rest of the choice)."""
    pixels = 0.0
    for part in getattr(aoi.geometry, "geoms", [aoi.geometry]):
        west, south, east, north = part.bounds
        width_m = (east - west) * 111_320.0 * math.cos(math.radians((south + north) / 2)) + 2 * margin_m
        height_m = (north - south) * 110_574.0 + 2 * margin_m
        pixels += max(width_m, 0.0) * max(height_m, 0.0) / pixel_m**2
    return pixels


def _native(href: str, overview: int, settings: Settings, pixels: float) -> bool:
    """Whether the native COG reader is tried first: http(s), full resolution, a window it reads
    faster than GDAL, not turned off."""
    return (
        overview == 0 and not settings.gdal_reads and native_window(pixels) and href.startswith(("http://", "https://"))
    )


def with_retries(get_href: Callable[[bool], str], read: Callable[[str], T], *, settings: Settings) -> T:
    """`read(href)`, tried again when that may help.

    - 403: once more with a freshly signed href (a second 403 means the key, not the clock);
    - 429 or 503 (throttling): up to THROTTLED_TRIES in all, each after the wait the server
      asks for in Retry-After (GDAL leaves these codes to us: it would ignore the header);
    - a reset, truncated or otherwise broken transfer: once more, after a short backoff;
    - a timeout: not again here (GDAL already retried it, each costing a full timeout).
    Whatever happens, GDAL forgets the failure, so a later read asks the server again.

    Args:
        get_href: Returns the href to read; called with True to ask for a fresh signature.
        read: The read to run on it.
        settings: Its deadlines (the wait a throttling server asks for is asked within them).
    """
    fresh = resigned = False
    attempt = 0
    while True:
        attempt += 1
        href = get_href(fresh)
        try:
            return read(href)
        except SceneReadError as err:
            forget_failures(href)
            fresh = False
            if isinstance(err, ForbiddenReadError) and not resigned:
                resigned = fresh = True
                continue
            if not isinstance(err, TransientReadError) or _TIMED_OUT.search(str(err)):
                raise
            throttled = _THROTTLED.search(str(err)) is not None
            if attempt >= (THROTTLED_TRIES if throttled else READ_TRIES):
                raise
            backoff = READ_BACKOFF_S * 2 ** (attempt - 1)
            if throttled:
                asked = err.retry_after_s if err.retry_after_s is not None else _asked_wait(href, settings)
                time.sleep(max(backoff, asked))
            else:
                time.sleep(backoff)


_THROTTLED = re.compile(r"\b(?:429|503)\b")
_TIMED_OUT = re.compile(r"timed? ?out|timeout", re.IGNORECASE)


def _asked_wait(href: str, settings: Settings) -> float:
    """Seconds a throttling server asks us to wait (its Retry-After), capped; 0 if it did not say.

    GDAL's error does not carry the response headers, so we ask the server once (a HEAD).
    """
    if not href.startswith(("http://", "https://")):
        return 0.0
    import requests  # only on this rare path

    try:
        answer = requests.head(href, timeout=min(RETRY_AFTER_QUERY_S, settings.http_timeout_s), allow_redirects=True)
    except requests.RequestException:
        return 0.0
    return retry_after_seconds(answer.headers.get("Retry-After"))


def retry_after_seconds(raw: str | None) -> float:
    """Seconds a Retry-After header asks for (delta-seconds or an HTTP date), capped; 0 when absent."""
    if not raw:
        return 0.0
    try:
        seconds = float(raw)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            seconds = parsedate_to_datetime(raw).timestamp() - time.time()
        except (TypeError, ValueError, IndexError, OverflowError):
            return 0.0
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


def forget_failures(href: str) -> None:
    """Drop what GDAL remembers of a failed href, so a retry asks the server again.

    GDAL caches a URL's size and existence (a failure included) for the life of the process;
    without this a date that failed once would fail again without a request.
    """
    if href.startswith(("http://", "https://")):
        _vsicurl_clear(f"/vsicurl/{href}")


def _vsicurl_clear(path: str) -> None:
    clear = _gdal_partial_clear()
    if clear is not None:
        clear(path.encode())


_PARTIAL_CLEAR: list = []


def _gdal_partial_clear() -> Callable[[bytes], None] | None:
    """GDAL's VSICurlPartialClearCache from the GDAL library rasterio loaded (not in its API)."""
    if not _PARTIAL_CLEAR:
        _PARTIAL_CLEAR.append(_load_partial_clear())
    return _PARTIAL_CLEAR[0]


def _load_partial_clear() -> Callable[[bytes], None] | None:
    import ctypes
    import glob

    libs = os.path.join(os.path.dirname(os.path.dirname(rasterio.__file__)), "rasterio.libs")
    for path in sorted(glob.glob(os.path.join(libs, "libgdal*.so*"))):
        try:
            function = ctypes.CDLL(path).VSICurlPartialClearCache
        except (OSError, AttributeError):
            continue
        function.argtypes = [ctypes.c_char_p]
        function.restype = None
        return function
    return None


def _grid_of(src: rasterio.io.DatasetReader, href: str, aoi: AOI, margin_m: float) -> Grid:
    if src.crs is None:
        raise SceneReadError(f"{_name(href)} has no coordinate reference system: it cannot be placed on a map.")
    try:
        return grid_for_aoi(aoi, src.crs, src.transform, margin_m)
    except InvalidAOIError as err:  # this scene's CRS cannot hold the AOI: a fact of this date
        raise SceneReadError(f"The AOI cannot be placed on the grid of {_name(href)}: {err}") from err


# GDAL's words for failures that may pass on a retry: server errors, throttling, a reset
# or truncated transfer, a timeout, a tile that came back short.
_TRANSIENT = re.compile(
    r"HTTP (?:error )?(?:code ?)?[:=]? ?(?:429|5\d\d)|\b(?:429|50[0234])\b|timed? ?out|timeout|reset|"
    r"transfer closed|partial file|recv failure|connection|truncat|IReadBlock failed|TIFFRead|read error|"
    r"not recognized as being in a supported file format",
    re.IGNORECASE,
)
_FORBIDDEN = re.compile(r"\b40[13]\b|AuthenticationFailed|AuthorizationFailure|forbidden|permission denied", re.IGNORECASE)


def _read_error(href: str, err: Exception) -> SceneReadError:
    """The SceneReadError kind for a GDAL failure on `href` (signature, transient or final)."""
    text = _clean(_gdal_message(err))
    if not href.startswith(("http://", "https://")):
        return SceneReadError(f"Could not read {_name(href)}: {text}")
    if _FORBIDDEN.search(text):
        return ForbiddenReadError(f"The storage refused {_name(href)} (expired or missing signature): {text}")
    if _TRANSIENT.search(text):
        return TransientReadError(f"Could not read {_name(href)} (network or server trouble): {text}")
    return SceneReadError(f"Could not read {_name(href)}: {text}")


def _aligned(src: rasterio.io.DatasetReader, grid: Grid) -> bool:
    from .cog_http import aligned

    return aligned(src.crs, src.transform, grid)


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


def _gdal_message(err: BaseException) -> str:
    """What GDAL said, from the whole exception chain: rasterio's outer error on a failed read
    is only "Read failed. See previous exception for details."."""
    messages: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        text = " ".join(str(current).split())
        if text and "see previous exception" not in text.lower() and text not in messages:
            messages.append(text)
        current = current.__cause__ or current.__context__
    return "; ".join(messages) or type(err).__name__


def _name(href: str) -> str:
    """The file name of an href, without any query string (which may hold a token)."""
    return href.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]


def _clean(err: Exception | str) -> str:
    """An error text with any signed query string removed."""
    return re.sub(r"\?[^\s'\"]*", "?<token removed>", str(err))
