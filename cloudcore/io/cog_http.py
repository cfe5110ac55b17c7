"""Read AOI windows of tiled GeoTIFFs (COGs) over HTTP(S) without GDAL: the header, then the tiles.

GDAL costs a scene three dependent round trips (a HEAD, the header, the tiles) and holds the GIL
while it opens and decodes. Here a scene is one ranged GET for the header (no HEAD: the size is
never needed) and then its tiles, consecutive tiles merged into one range; `async-tiff` parses the
header and decompresses the tiles in its own (Rust) threads, off the GIL. The HTTP is ours
(aiohttp on one event loop in a background thread), so the policies of the GDAL path hold here
too: a deadline per request, 500/502/504, resets and truncated bodies retried, the status and
Retry-After of 401/403/429/503 handed to `read.with_retries`, nothing of a failure remembered,
and the href's query string (a signature) never in a message.

What this reader does not handle it says with `NotNative`, and the caller reads that file through
GDAL instead (counted in `read_path_counts`): stripped TIFFs, several samples per pixel,
compressions other than none, LZW, DEFLATE and ZSTD, sparse tiles, rotated or user-defined
georeferencing, and reads that need a warp.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import math
import os
import re
import threading
from collections import Counter
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

import numpy as np
from affine import Affine
from rasterio.crs import CRS

from ..errors import SceneReadError
from ..geo.aoi import AOI
from ..geo.grid import Grid
from ..settings import Settings

T = TypeVar("T")

# The first GET of a file asks for this much: USGS-style COG headers (every level's IFD) are
# 4-6 KB, so one request holds them; a longer header costs one more request, never a wrong read.
HEADER_PREFETCH_BYTES = 8192
# Tiles whose bytes are this close are fetched in one range: neighbours in a row (GDAL's COG driver puts
# 8 bytes of "ghost" leader and trailer between them), never two rows
# (reading the gap between two rows of a window would move more bytes than it saves in requests).
MERGE_GAP_BYTES = 1024
# 500/502/504, resets and truncated bodies: retried this many times per request, after this long
# (GDAL's GDAL_HTTP_MAX_RETRY / GDAL_HTTP_RETRY_DELAY on the other path).
SERVER_RETRIES = 3
SERVER_RETRY_DELAY_S = 0.5
# A request that passed its deadline is tried once more (a stalled server costs 2 deadlines).
TIMEOUT_TRIES = 2
# TIFF compressions async-tiff decodes here: none, LZW, DEFLATE (both codes) and ZSTD.
_COMPRESSIONS = {1, 5, 8, 32946, 50000}
# GeoTIFF keys: a user-defined code, and RasterPixelIsPoint.
_USER_DEFINED = 32767
_PIXEL_IS_POINT = 2
_DTYPES = {(1, 8): "uint8", (1, 16): "uint16", (1, 32): "uint32", (2, 8): "int8", (2, 16): "int16",
           (2, 32): "int32", (3, 32): "float32", (3, 64): "float64"}


class NotNative(Exception):
    """This file (or this read of it) is not one the native reader handles: read it through GDAL.

    Not a read failure: the caller falls back, it never becomes a date's error."""


@dataclass(frozen=True)
class _Cog:
    """What the header says: the full-resolution image's grid and how its tiles are laid out."""

    crs: CRS
    transform: Affine
    width: int
    height: int
    dtype: np.dtype
    tile_width: int
    tile_height: int
    byte_counts: tuple[int, ...]
    ifd: Any
    """async-tiff's first IFD (fetches and decodes the tiles)."""


# -- what the two paths did, for the benchmark and the tests ---------------------------------

_COUNTS: Counter[str] = Counter()
_COUNTS_LOCK = threading.Lock()


def count(path: str) -> None:
    """Count one file read by `path` ("native" or "gdal_fallback")."""
    with _COUNTS_LOCK:
        _COUNTS[path] += 1


def read_path_counts() -> dict[str, int]:
    """Files read natively and files that fell back to GDAL, since the process started."""
    with _COUNTS_LOCK:
        return {"native": _COUNTS["native"], "gdal_fallback": _COUNTS["gdal_fallback"]}


def reset_read_path_counts() -> None:
    with _COUNTS_LOCK:
        _COUNTS.clear()


# -- the public reads (blocking; run on the background loop) ---------------------------------


def read_aoi(href: str, aoi: AOI, *, settings: Settings, margin_m: float, fill_value: float) -> tuple[Grid, np.ndarray]:
    """The AOI grid of `href` (from its CRS and alignment) and its band on it, from one header fetch.

    Raises:
        NotNative: read it through GDAL instead.
        SceneReadError: (or its ForbiddenReadError / TransientReadError kinds) the storage failed.
    """
    from ..errors import InvalidAOIError
    from ..geo.grid import grid_for_aoi

    async def work() -> tuple[Grid, np.ndarray]:
        cog, store = await _open(href, settings)
        try:
            grid = grid_for_aoi(aoi, cog.crs, cog.transform, margin_m)
        except InvalidAOIError as err:
            raise SceneReadError(f"The AOI cannot be placed on the grid of {_name(href)}: {err}") from err
        return grid, await _read_window(cog, store, grid, fill_value)

    return _run(work())


def read_on_grid(href: str, grid: Grid, *, settings: Settings, fill_value: float) -> np.ndarray:
    """The band of `href` on `grid`, when the file shares the grid's CRS and pixel alignment.

    Raises:
        NotNative: another CRS or alignment (a warp: GDAL's job), or a file this reader does not handle.
        SceneReadError: the storage failed.
    """

    async def work() -> np.ndarray:
        cog, store = await _open(href, settings)
        if not aligned(cog.crs, cog.transform, grid):
            raise NotNative("another grid: warped by GDAL")
        return await _read_window(cog, store, grid, fill_value)

    return _run(work())


def aligned(crs: CRS, transform: Affine, grid: Grid) -> bool:
    """Whether a raster of `crs` and `transform` shares `grid`'s CRS, pixel size and pixel corners."""
    if crs != grid.crs:
        return False
    st, gt = transform, grid.transform
    if st.b or st.d or not math.isclose(st.a, gt.a) or not math.isclose(st.e, gt.e):
        return False
    col_shift = (gt.c - st.c) / st.a
    row_shift = (gt.f - st.f) / st.e
    return abs(col_shift - round(col_shift)) < 1e-6 and abs(row_shift - round(row_shift)) < 1e-6


# -- header and tiles ----------------------------------------------------------------------


async def _open(href: str, settings: Settings) -> tuple[_Cog, _RangeStore]:
    from async_tiff import TIFF

    store = _RangeStore(_session(), href, settings)
    try:
        tiff = await TIFF.open(_name(href), store=store, prefetch=HEADER_PREFETCH_BYTES)
    except Exception as err:  # async-tiff's own errors: a broken file, or ours from the store
        store.raise_failure()
        raise NotNative(f"async-tiff cannot parse it: {type(err).__name__}") from err
    return _describe(tiff.ifds[0]), store


def _describe(ifd: Any) -> _Cog:
    """The header's facts this reader needs, or NotNative naming what it does not handle."""
    if ifd.tile_width is None or ifd.tile_height is None or not ifd.tile_byte_counts:
        raise NotNative("stripped, not tiled")
    if ifd.samples_per_pixel != 1:
        raise NotNative(f"{ifd.samples_per_pixel} samples per pixel")
    compression = int(ifd.compression)
    if compression not in _COMPRESSIONS:
        raise NotNative(f"compression {compression}")
    dtype = _DTYPES.get((int(ifd.sample_format[0]), int(ifd.bits_per_sample[0])))
    if dtype is None:
        raise NotNative(f"sample format {ifd.sample_format[0]}, {ifd.bits_per_sample[0]} bits")
    return _Cog(
        crs=_crs(ifd), transform=_transform(ifd), width=ifd.image_width, height=ifd.image_height,
        dtype=np.dtype(dtype), tile_width=ifd.tile_width, tile_height=ifd.tile_height,
        byte_counts=tuple(ifd.tile_byte_counts), ifd=ifd,
    )


def _crs(ifd: Any) -> CRS:
    keys = ifd.geo_key_directory
    if keys is None:
        raise NotNative("no GeoTIFF keys")
    # ref: GeoTIFF 1.1 (OGC 19-008r4) 7.3: ModelType 1 projected, 2 geographic; codes from EPSG.
    code = keys.projected_type if keys.model_type == 1 else keys.geographic_type if keys.model_type == 2 else None
    if not code or code == _USER_DEFINED:
        raise NotNative("a CRS that is not an EPSG code")
    return _epsg(int(code))


@lru_cache(maxsize=64)
def _epsg(code: int) -> CRS:
    """CRS.from_epsg, once per code (it looks the code up in PROJ's database: ~0.2 ms a call)."""
    return CRS.from_epsg(code)


def _transform(ifd: Any) -> Affine:
    """The pixel-corner transform, computed as GDAL's GTiff driver does (PixelIsPoint shifted by
    half a pixel, as Landsat Collection 2's files are), so grids match GDAL's to the bit."""
    scale, tie, keys = ifd.model_pixel_scale, ifd.model_tiepoint, ifd.geo_key_directory
    if ifd.model_transformation is not None or not scale or not tie or len(tie) != 6:
        raise NotNative("georeferenced by a transformation matrix or several tie points")
    a, e = scale[0], -scale[1]
    c = tie[3] - tie[0] * a
    f = tie[4] - tie[1] * e
    if keys.raster_type == _PIXEL_IS_POINT:  # ref: GDAL frmts/gtiff/gtiffdataset_read.cpp (GTIFF_POINT_GEO_IGNORE off)
        c -= a * 0.5
        f -= e * 0.5
    return Affine(a, 0.0, c, 0.0, e, f)


async def _read_window(cog: _Cog, store: _RangeStore, grid: Grid, fill_value: float) -> np.ndarray:
    """`grid`'s pixels from `cog` (aligned), `fill_value` where the raster does not reach."""
    col_off = round((grid.transform.c - cog.transform.c) / cog.transform.a)
    row_off = round((grid.transform.f - cog.transform.f) / cog.transform.e)
    c0, r0 = max(col_off, 0), max(row_off, 0)
    c1, r1 = min(col_off + grid.width, cog.width), min(row_off + grid.height, cog.height)
    inside = (c0, r0, c1, r1) == (col_off, row_off, col_off + grid.width, row_off + grid.height)
    # A grid inside the raster is all overwritten by its tiles: no fill pass needed.
    out = np.empty(grid.shape, dtype=cog.dtype) if inside else np.full(grid.shape, fill_value, dtype=cog.dtype)
    if c1 <= c0 or r1 <= r0:
        return out  # the grid lies outside this raster
    tw, th = cog.tile_width, cog.tile_height
    across = -(-cog.width // tw)
    xy = [(x, y) for y in range(r0 // th, (r1 - 1) // th + 1) for x in range(c0 // tw, (c1 - 1) // tw + 1)]
    if any(cog.byte_counts[y * across + x] == 0 for x, y in xy):
        raise NotNative("sparse tiles (GDAL fills them with nodata)")
    try:
        tiles = await cog.ifd.fetch_tiles(xy)
    except Exception as err:
        store.raise_failure()
        raise NotNative(f"async-tiff cannot fetch its tiles: {type(err).__name__}") from err

    async def place(x: int, y: int, tile: Any) -> None:
        """Decode one tile (off the GIL) and copy its overlap with the grid into `out` at once,
        so each decoded tile is let go as soon as it is placed, not held until all are decoded."""
        try:
            data = np.asarray(await tile.decode()).reshape(th, tw)
        except Exception as err:
            raise NotNative(f"async-tiff cannot decode its tiles: {type(err).__name__}") from err
        # The overlap of this tile, the raster's window and the grid, in raster pixels.
        tc0, tr0 = max(x * tw, c0), max(y * th, r0)
        tc1, tr1 = min((x + 1) * tw, c1), min((y + 1) * th, r1)
        out[tr0 - row_off : tr1 - row_off, tc0 - col_off : tc1 - col_off] = data[
            tr0 - y * th : tr1 - y * th, tc0 - x * tw : tc1 - x * tw
        ]

    await asyncio.gather(*(place(x, y, tile) for (x, y), tile in zip(xy, tiles)))
    return out


# -- HTTP --------------------------------------------------------------------------------------


class _RangeStore:
    """Byte ranges of one href for async-tiff (the obspec GetRange/GetRanges protocols), with the
    project's deadlines and retries; the first failure is kept for `raise_failure`, because an
    error raised here reaches the caller only as async-tiff's own exception type."""

    def __init__(self, session: Any, href: str, settings: Settings):
        self.session, self.href, self.settings = session, href, settings
        self.failure: BaseException | None = None

    def raise_failure(self) -> None:
        """Raise what the store failed with, if it failed (a bug in it too: never a fallback)."""
        if self.failure is not None:
            raise self.failure

    async def get_range_async(self, path: str, *, start: int, end: int | None = None, length: int | None = None) -> bytes:
        end = start + (length or 0) if end is None else end
        return await self._guarded(start, end)

    async def get_ranges_async(
        self, path: str, *, starts: Sequence[int], ends: Sequence[int] | None = None, lengths: Sequence[int] | None = None
    ) -> list[bytes]:
        stops = list(ends) if ends is not None else [s + n for s, n in zip(starts, lengths or ())]
        merged = merge_ranges(list(zip(starts, stops)), MERGE_GAP_BYTES)
        bodies = await asyncio.gather(*(self._guarded(s, e) for s, e in merged))
        out = []
        for start, stop in zip(starts, stops):
            index = next(i for i, (s, e) in enumerate(merged) if s <= start and stop <= e)
            offset = start - merged[index][0]
            out.append(bodies[index][offset : offset + stop - start])
        return out

    async def _guarded(self, start: int, end: int) -> bytes:
        try:
            return await self._fetch(start, end)
        except BaseException as err:
            if self.failure is None:
                self.failure = err
            raise

    async def _fetch(self, start: int, end: int) -> bytes:
        """Bytes [start, end) (fewer at the end of the file), retried as the module says."""
        import aiohttp
        import yarl

        from .read import ForbiddenReadError, TransientReadError, retry_after_seconds

        url = yarl.URL(self.href, encoded=True)  # the signature's query string exactly as signed
        timeout = aiohttp.ClientTimeout(
            total=self.settings.http_timeout_s, sock_connect=max(0.5, self.settings.http_timeout_s / 2)
        )
        headers = {"Range": f"bytes={start}-{end - 1}"}
        server_tries = timeouts = 0
        while True:
            problem: str
            try:
                proxy, proxy_auth, auth = _environment(url.scheme, url.host)
                async with self.session.get(
                    url, headers=headers, timeout=timeout, allow_redirects=True, proxy=proxy, proxy_auth=proxy_auth,
                    auth=auth,
                ) as response:
                    status = response.status
                    if status in (200, 206):
                        return _body(await response.read(), status, response.headers.get("Content-Range"), start, end, self.href)
                    text = _clean((await response.read())[:300].decode("utf-8", "replace"))
                    if status in (401, 403):
                        raise ForbiddenReadError(
                            f"The storage refused {_name(self.href)} (expired or missing signature): HTTP {status} {_first_line(text)}"
                        )
                    if status in (429, 503):
                        err = TransientReadError(f"Could not read {_name(self.href)} (network or server trouble): HTTP {status}")
                        err.retry_after_s = retry_after_seconds(response.headers.get("Retry-After"))
                        raise err
                    if status not in (500, 502, 504):
                        raise SceneReadError(f"Could not read {_name(self.href)}: HTTP {status} {_first_line(text)}")
                    problem = f"HTTP {status}"
            except TimeoutError:
                timeouts += 1
                if timeouts >= TIMEOUT_TRIES:
                    raise TransientReadError(
                        f"Could not read {_name(self.href)} (network or server trouble): timed out after "
                        f"{self.settings.http_timeout_s:g} s, {TIMEOUT_TRIES} tries"
                    ) from None
                continue
            except _Truncated as err:
                problem = str(err)
            except aiohttp.ClientError as err:
                problem = f"connection trouble ({type(err).__name__})"
            server_tries += 1
            if server_tries > SERVER_RETRIES:
                raise TransientReadError(
                    f"Could not read {_name(self.href)} (network or server trouble): {problem}, {server_tries} tries"
                )
            await asyncio.sleep(SERVER_RETRY_DELAY_S)


class _Truncated(Exception):
    """A body shorter than its Content-Range said."""


def _body(body: bytes, status: int, content_range: str | None, start: int, end: int, href: str) -> bytes:
    if status == 200:  # a server that ignores ranges sends the whole file
        return body[start:end]
    match = re.match(r"bytes (\d+)-(\d+)/", content_range or "")
    if match is None or int(match.group(1)) != start:
        raise SceneReadError(f"Could not read {_name(href)}: the server answered another range ({content_range!r})")
    if len(body) != int(match.group(2)) + 1 - start:
        raise _Truncated(f"truncated body ({len(body)} of {int(match.group(2)) + 1 - start} bytes)")
    return body


def merge_ranges(ranges: list[tuple[int, int]], gap: int = 0) -> list[tuple[int, int]]:
    """[start, end) ranges, sorted, with those at most `gap` bytes apart joined into one."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1] + gap:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _first_line(text: str) -> str:
    return " ".join(text.split())[:160]


def _name(href: str) -> str:
    """The file name of an href, without any query string (which may hold a token)."""
    return href.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]


def _clean(text: str) -> str:
    """A text with any signed query string removed."""
    return re.sub(r"\?[^\s'\"<]*", "?<token removed>", text)


# -- one event loop in a background thread, one HTTP session on it ----------------------------


class _Loop:
    def __init__(self) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.session: Any = None
        thread = threading.Thread(target=self.loop.run_forever, name="cloudcore-http", daemon=True)
        thread.start()


_LOOP: list[_Loop] = []
_LOOP_LOCK = threading.Lock()


def _background() -> _Loop:
    """The process's loop, started on first use (and again in a forked child, which has no thread)."""
    with _LOOP_LOCK:
        if not _LOOP or _LOOP[0].pid != os.getpid():
            if not _LOOP:
                atexit.register(_close)
            _LOOP[:] = [_Loop()]
        return _LOOP[0]


def _close() -> None:
    """Close the HTTP session at exit (its open connections), so nothing warns about them."""
    if not _LOOP or _LOOP[0].pid != os.getpid() or _LOOP[0].session is None:
        return
    # At exit, a session that cannot close costs nothing.
    with contextlib.suppress(Exception):
        asyncio.run_coroutine_threadsafe(_LOOP[0].session.close(), _LOOP[0].loop).result(timeout=2)


def _session() -> Any:
    """The loop's HTTP session (called on the loop): connections are kept and shared by all reads."""
    import aiohttp

    loop = _LOOP[0]
    if loop.session is None:
        # No connection limit: the dates in flight (the caller's threads) are the limit.
        # No trust_env: it reads ~/.netrc and the proxy variables again on every request, in
        # executor threads (a third of this reader's CPU per request); `_environment` reads
        # them once per host instead.
        loop.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    return loop.session


@lru_cache(maxsize=256)
def _environment(scheme: str, host: str | None) -> tuple[Any, Any, Any]:
    """(proxy, proxy_auth, auth) for a host, read once: HTTP(S)_PROXY and NO_PROXY apply, and a
    ~/.netrc (NETRC) entry for the host, as they do to GDAL's curl (and aiohttp's trust_env)."""
    import yarl
    from aiohttp.helpers import basicauth_from_netrc, get_env_proxy_for_url, netrc_from_env

    proxy = proxy_auth = auth = None
    if host:
        with contextlib.suppress(LookupError):
            proxy, proxy_auth = get_env_proxy_for_url(yarl.URL.build(scheme=scheme, host=host))
        with contextlib.suppress(LookupError):
            auth = basicauth_from_netrc(netrc_from_env(), host)
    return proxy, proxy_auth, auth


def _run(work: Coroutine[Any, Any, T]) -> T:
    """Run `work` on the background loop and wait for it (from any thread but the loop's)."""
    return asyncio.run_coroutine_threadsafe(work, _background().loop).result()
