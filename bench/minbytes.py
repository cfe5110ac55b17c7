"""The least a reader must move to measure an AOI: `min_bytes`.

For each scene: the compressed sizes of the full-resolution tiles that intersect the AOI
window, plus the file's header (everything before the first tile's data: the TIFF header
and the IFDs of every level, which a reader needs to find the tiles). GDAL reports each
tile's place and size in the `TIFF` metadata domain (`BLOCK_OFFSET_x_y`, `BLOCK_SIZE_x_y`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import rasterio


@dataclass(frozen=True)
class TileIndex:
    """Where the tiles of one level of one file lie: {(x, y): (offset, size)}."""

    block: tuple[int, int]
    """Tile (width, height) in pixels."""
    tiles: dict[tuple[int, int], tuple[int, int]]


def _level(path: str, overview_level: int | None) -> TileIndex:
    options = {} if overview_level is None else {"overview_level": overview_level}
    with rasterio.open(path, **options) as src:
        block_h, block_w = src.block_shapes[0]
        nx, ny = -(-src.width // block_w), -(-src.height // block_h)
        tiles = {}
        for y in range(ny):
            for x in range(nx):
                offset = src.get_tag_item(f"BLOCK_OFFSET_{x}_{y}", "TIFF", bidx=1)
                size = src.get_tag_item(f"BLOCK_SIZE_{x}_{y}", "TIFF", bidx=1)
                tiles[(x, y)] = (int(offset or 0), int(size or 0))
    return TileIndex(block=(block_w, block_h), tiles=tiles)


@lru_cache(maxsize=None)
def tile_indexes(path: str) -> tuple[TileIndex, ...]:
    """The full resolution's tile index, then each overview's."""
    with rasterio.open(path) as src:
        levels = len(src.overviews(1))
    return (_level(path, None),) + tuple(_level(path, i) for i in range(levels))


def header_bytes(path: str) -> int:
    """Bytes before the first tile's data (of any level): what a reader fetches to find tiles."""
    return min(offset for index in tile_indexes(path) for offset, size in index.tiles.values() if size)


def window_tile_bytes(path: str, col_off: int, row_off: int, width: int, height: int) -> int:
    """Compressed bytes of the full-resolution tiles that a pixel window touches."""
    index = tile_indexes(path)[0]
    bw, bh = index.block
    x0, x1 = max(col_off, 0) // bw, (col_off + width - 1) // bw
    y0, y1 = max(row_off, 0) // bh, (row_off + height - 1) // bh
    return sum(index.tiles.get((x, y), (0, 0))[1] for y in range(y0, y1 + 1) for x in range(x0, x1 + 1))


def min_bytes(paths: list[str], aoi) -> int:
    """Sum over scenes (one file each; files may repeat) of header + AOI tiles."""
    from cloudcore.geo.grid import grid_for_aoi

    total = 0
    for path in paths:
        with rasterio.open(path) as src:
            grid = grid_for_aoi(aoi, src.crs, src.transform)
            col = round((grid.transform.c - src.transform.c) / src.transform.a)
            row = round((grid.transform.f - src.transform.f) / src.transform.e)
        total += header_bytes(path) + window_tile_bytes(path, col, row, grid.width, grid.height)
    return total
