"""A picture a GIS places on the map by itself: a PNG with its world file, projection and GDAL sidecar, zipped.

A PNG holds no coordinates, so three small files travel with it: `name.pgw` (the ESRI world
file: pixel size and the centre of the top-left pixel), `name.prj` (the CRS as ESRI WKT, which
ArcGIS and QGIS read beside a world file) and `name.png.aux.xml` (GDAL's sidecar with the CRS,
which GDAL, rasterio and QGIS read when they open the PNG). GDAL writes the PNG and the sidecar,
so what it reads back is what it wrote.
"""

from __future__ import annotations

import io
import re
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.crs import CRS

from ..errors import InvalidInputError
from ..geo.grid import Grid

MAX_SCALE = 8
"""Largest upscaling: 8 x 8 output pixels per grid pixel is already 240 px for a 30 m grid's 1 km."""
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


def georeferenced_png(rgba: np.ndarray, grid: Grid, *, scale: int = 1, name: str = "image") -> bytes:
    """A ZIP of `name.png`, `name.pgw`, `name.prj` and `name.png.aux.xml`: the picture on `grid`.

    Args:
        rgba: (H, W, 4) uint8 picture on the grid, e.g. a `ComparePictures` field.
        grid: The grid the picture is on (its CRS and transform).
        scale: Output pixels per grid pixel along each axis (1-8), repeated (nearest neighbour),
            so 30 m pixels stay crisp squares when a person zooms in.
        name: The files' base name: letters, digits, '_', '.' and '-'.

    Returns:
        The ZIP file's bytes. Unzipped, GDAL opens `name.png` with `grid.crs` and the transform
        `grid.transform @ Affine.scale(1 / scale)`.

    Raises:
        InvalidInputError: A picture that is not (H, W, 4) uint8 or not of the grid's shape, a
            scale outside 1-8, or a name that is not a plain file name.
    """
    rgba = np.asarray(rgba)
    if rgba.ndim != 3 or rgba.shape[2] != 4 or rgba.dtype != np.uint8:
        raise InvalidInputError(f"Picture is {rgba.dtype} of shape {rgba.shape}: give an (H, W, 4) uint8 RGBA array.")
    if rgba.shape[:2] != grid.shape:
        raise InvalidInputError(
            f"The picture is {rgba.shape[0]} x {rgba.shape[1]} pixels but the grid is {grid.height} x {grid.width}: "
            "give the picture made on this grid."
        )
    if isinstance(scale, bool) or not isinstance(scale, (int, np.integer)) or not 1 <= scale <= MAX_SCALE:
        raise InvalidInputError(f"Scale {scale!r} is not a whole number from 1 to {MAX_SCALE}: give e.g. 4.",
                                parameter="scale")
    if not _NAME.fullmatch(name):
        raise InvalidInputError(
            f"File name {name!r} is not a plain name: use letters, digits, '_', '.' and '-' (e.g. 'filled_2024-05-01').",
            parameter="name",
        )
    scale = int(scale)
    pixels = np.repeat(np.repeat(rgba, scale, axis=0), scale, axis=1)
    transform = grid.transform @ Affine.scale(1 / scale)
    with tempfile.TemporaryDirectory(prefix="cloudcore-png-") as folder:
        png = Path(folder) / f"{name}.png"
        # PAM (GDAL's .aux.xml) is on by default but may be off in a user's environment: the CRS lives there.
        with rasterio.Env(GDAL_PAM_ENABLED="YES"), rasterio.open(
            png, "w", driver="PNG", width=pixels.shape[1], height=pixels.shape[0], count=4, dtype="uint8",
            crs=grid.crs, transform=transform, WORLDFILE="YES",
        ) as dst:
            dst.write(np.moveaxis(pixels, -1, 0))
        # GDAL names its world file .wld; .pgw is the PNG convention the other GIS packages look for.
        png.with_suffix(".wld").rename(png.with_suffix(".pgw"))
        png.with_suffix(".prj").write_text(CRS.from_user_input(grid.crs).to_wkt(version="WKT1_ESRI"))
        return _zipped([png, png.with_suffix(".pgw"), png.with_suffix(".prj"), Path(f"{png}.aux.xml")])


def _zipped(paths: list[Path]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in paths:
            archive.write(path, arcname=path.name)
    return buffer.getvalue()
