"""The frames of a timelapse: one date's true colour on a common grid, scaled, with its label.

A frame is an (H, W, 3) uint8 RGB array: the picture (true colour with the product's fixed
stretch, so the same ground looks the same on every date), then a dark band below it holding
the label (date, sensor and, for a gap-filled date, the share filled), so the text never
hides the image. Pixels outside the AOI and pixels with no data are a neutral dark grey.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..errors import InvalidInputError
from .colour import true_colour

if TYPE_CHECKING:
    from ..geo.grid import Grid

NO_DATA_RGB: tuple[int, int, int] = (64, 64, 64)
"""Outside the AOI, no data and holes nothing could fill: neutral, darker than any land."""
BAND_RGB: tuple[int, int, int] = (16, 16, 16)
"""The label band under the picture."""
TEXT_RGB: tuple[int, int, int] = (255, 255, 255)

MIN_SHORT_PX = 256
"""By default a small AOI is enlarged (nearest neighbour, an integer factor) to at least this short side."""
MAX_LONG_PX = 1280
"""By default the long side stays at most this: larger AOIs are reduced (area average)."""
MIN_WIDTH = 128
"""Narrower frames could not hold a legible label."""
MAX_WIDTH = 3840
MIN_FONT_PX = 9
SEPARATOR = " · "


def platform_name(platform: str) -> str:
    """'landsat-8' -> 'Landsat 8' (anything else as it is)."""
    prefix = "landsat-"
    return f"Landsat {platform[len(prefix):]}" if platform.startswith(prefix) else platform


def frame_label(date: dt.date, platform: str, filled_pct: float | None = None) -> str:
    """'2022-06-14 · Landsat 8', and ' · filled 12 %' for a gap-filled date."""
    parts = [date.isoformat(), platform_name(platform)]
    if filled_pct is not None:
        parts.append(f"filled {filled_pct:.0f} %")
    return SEPARATOR.join(parts)


def frame_size(shape: tuple[int, int], width: int | None = None) -> tuple[int, int]:
    """(width, height) of a frame's picture for a grid of `shape` (rows, columns).

    Without `width`: the grid enlarged by the smallest integer factor that makes the short side
    at least MIN_SHORT_PX, as long as the long side stays within MAX_LONG_PX; a grid whose long
    side is already over MAX_LONG_PX is reduced to it. With `width`: that width, the height
    keeping the aspect (at least 1 px).
    """
    rows, cols = shape
    if rows < 1 or cols < 1:
        raise InvalidInputError(f"A grid of {rows} x {cols} pixels has no picture: give an AOI of at least one pixel.")
    if width is not None:
        return int(width), max(1, round(int(width) * rows / cols))
    long_side, short_side = max(rows, cols), min(rows, cols)
    if long_side > MAX_LONG_PX:
        scale = MAX_LONG_PX / long_side
        return max(1, round(cols * scale)), max(1, round(rows * scale))
    factor = max(1, math.ceil(MIN_SHORT_PX / short_side))
    factor = max(1, min(factor, MAX_LONG_PX // long_side))
    return cols * factor, rows * factor


def date_picture(bands_dn: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 true colour of (red, green, blue) DN on the grid; NO_DATA_RGB outside
    `inside` and where any band has no data (DN 0)."""
    rgba = true_colour(bands_dn[0], bands_dn[1], bands_dn[2])
    rgb = rgba[..., :3].copy()
    rgb[(rgba[..., 3] == 0) | ~np.asarray(inside, dtype=bool)] = NO_DATA_RGB
    return rgb


def scale_picture(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The picture at `size` (width, height): nearest neighbour when enlarging (pixels stay
    pixels), an area average when reducing."""
    height, width = rgb.shape[:2]
    if (width, height) == tuple(size):
        return rgb
    if size[0] % width == 0 and size[1] % height == 0 and size[0] // width == size[1] // height:
        factor = size[0] // width
        return np.repeat(np.repeat(rgb, factor, axis=0), factor, axis=1)
    enlarging = size[0] >= width and size[1] >= height
    resample = Image.Resampling.NEAREST if enlarging else Image.Resampling.BOX
    return np.asarray(Image.fromarray(np.ascontiguousarray(rgb)).resize(size, resample=resample))


@lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def font_px(width: int) -> int:
    """The label's font size for a frame `width` pixels wide."""
    return max(MIN_FONT_PX, min(40, round(width / 24)))


def _text_width(text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont) -> float:
    left, _, right, _ = font.getbbox(text)
    return float(right - left)


def label_lines(text: str, width: int) -> tuple[list[str], int]:
    """The label as lines that fit `width` (pixels, margins included) and its font size: one line
    at the usual size if it fits, else a smaller font, else one line per part."""
    margin = _margin(width)
    usable = width - 2 * margin
    size = font_px(width)
    while size > MIN_FONT_PX and _text_width(text, _font(size)) > usable:
        size -= 1
    if _text_width(text, _font(size)) <= usable:
        return [text], size
    return text.split(SEPARATOR), size


def _margin(width: int) -> int:
    return max(3, round(width / 80))


def label_band_px(text: str, width: int) -> int:
    """The height of the band that holds `text` under a picture `width` pixels wide."""
    lines, size = label_lines(text, width)
    return len(lines) * round(size * 1.3) + 2 * _margin(width)


def label_band(text: str, width: int) -> np.ndarray:
    """(h, width, 3) uint8: the label in white on the dark band, left-aligned."""
    lines, size = label_lines(text, width)
    margin = _margin(width)
    line_px = round(size * 1.3)
    band = Image.new("RGB", (width, label_band_px(text, width)), BAND_RGB)
    draw = ImageDraw.Draw(band)
    font = _font(size)
    for index, line in enumerate(lines):
        draw.text((margin, margin + index * line_px + line_px // 2), line, fill=TEXT_RGB, font=font, anchor="lm")
    return np.asarray(band)


def labelled(picture: np.ndarray, text: str, band_px: int | None = None) -> np.ndarray:
    """The picture with its label band below; `band_px` pads the band to a common height (so every
    frame of a timelapse has one size even when a label needs two lines)."""
    band = label_band(text, picture.shape[1])
    if band_px is not None and band_px > band.shape[0]:
        pad = np.empty((band_px - band.shape[0], picture.shape[1], 3), dtype=np.uint8)
        pad[:] = BAND_RGB
        band = np.concatenate([band, pad])
    return np.concatenate([picture, band])


def contact_sheet(frames: Sequence[np.ndarray], count: int = 8, columns: int = 4, gap: int = 4) -> np.ndarray:
    """`count` of the frames, evenly spread (first and last included), in rows of `columns`
    separated by `gap` pixels of the label band's colour: one picture of a timelapse."""
    if not frames or count < 1 or columns < 1 or gap < 0:
        raise InvalidInputError(
            f"A sheet of {count} frames in {columns} columns from {len(frames)} frames: give at least one frame, "
            "count and columns of at least 1 and a gap of at least 0."
        )
    count = min(count, len(frames))
    picks = [frames[round(i * (len(frames) - 1) / max(1, count - 1))] for i in range(count)]
    columns = min(columns, count)
    rows = math.ceil(count / columns)
    height, width = picks[0].shape[:2]
    sheet = np.empty((rows * height + (rows - 1) * gap, columns * width + (columns - 1) * gap, 3), dtype=np.uint8)
    sheet[:] = BAND_RGB
    for index, frame in enumerate(picks):
        top, left = (index // columns) * (height + gap), (index % columns) * (width + gap)
        sheet[top : top + height, left : left + width] = frame
    return sheet


def regrid(bands: np.ndarray, source: Grid, target: Grid, nodata: int = 0) -> np.ndarray:
    """(B, h, w) values on `source` as (B, H, W) on `target`, nearest neighbour; `nodata` where
    `source` has nothing (so every frame of a timelapse lies on one grid)."""
    if source == target:
        return bands
    from rasterio.warp import Resampling, reproject

    out = np.full((bands.shape[0],) + target.shape, nodata, dtype=bands.dtype)
    for index in range(bands.shape[0]):
        reproject(
            bands[index], out[index], src_transform=source.transform, src_crs=source.crs, src_nodata=nodata,
            dst_transform=target.transform, dst_crs=target.crs, dst_nodata=nodata, resampling=Resampling.nearest,
        )
    return out
