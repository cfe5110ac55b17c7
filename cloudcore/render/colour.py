"""Pictures of a date: true colour, mask and class overlays, PNG bytes (provenance: `provenance`).

All functions take and return plain numpy arrays; RGBA images are (H, W, 4) uint8.

The default true-colour stretch is a fixed reflectance range, not a per-image percentile:
the same ground then looks the same on every date and in the masked and filled images side
by side, and clouds (bright) or large holes cannot shift the stretch of the land around them.
Land surface reflectance in the visible bands lies mostly within 0-0.3, so that range with a
gentle gamma looks natural; clouds saturate to white, as a person expects. When an adaptive
stretch is wanted, `stretch_for` computes one percentile stretch over several images so that
they still share it.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import InvalidInputError
from ..product import SR_NODATA_DN, SR_OFFSET, SR_SCALE

DEFAULT_STRETCH: tuple[float, float] = (0.0, 0.3)
"""Reflectance mapped to byte 0 and byte 255 by default."""
DEFAULT_GAMMA = 1.4
"""Above 1 lifts dark vegetation and water without washing out bright soil."""

DEFAULT_MASK_COLOUR: tuple[int, int, int] = (255, 0, 255)  # magenta: rare in nature, visible on land and water
DEFAULT_OPACITY = 0.55

CLASS_COLOURS: dict[str, tuple[int, int, int]] = {
    "fill": (80, 80, 80),
    "snow": (0, 200, 255),
    "shadow": (150, 40, 230),
    "cloud": (255, 215, 0),
}
"""Overlay colour per QA class, in drawing order (the last is drawn on top)."""

def reflectance(dn: np.ndarray) -> np.ndarray:
    """Surface reflectance (float32) from Collection 2 Level-2 DN; NaN where DN is 0 (no data)."""
    dn = np.asarray(dn)
    out = dn.astype(np.float32) * np.float32(SR_SCALE) + np.float32(SR_OFFSET)
    out[dn == SR_NODATA_DN] = np.nan
    return out


def stretch_for(
    *band_triplets: tuple[np.ndarray, np.ndarray, np.ndarray],
    percentiles: tuple[float, float] = (2, 98),
) -> tuple[float, float]:
    """One percentile stretch over the valid pixels of several (red, green, blue) DN images.

    Pass the result to `true_colour` for each image so that they share one stretch.
    Falls back to DEFAULT_STRETCH when no pixel is valid or the images are flat.
    """
    samples = []
    for red, green, blue in band_triplets:
        rgb = _reflectance_rgb(red, green, blue)
        samples.append(rgb[~np.isnan(rgb).any(axis=-1)].ravel())
    values = np.concatenate(samples) if samples else np.empty(0, dtype=np.float32)
    if values.size == 0:
        return DEFAULT_STRETCH
    low, high = (float(v) for v in np.percentile(values, percentiles))
    return (low, high) if high > low else DEFAULT_STRETCH


def true_colour(
    red: np.ndarray,
    green: np.ndarray,
    blue: np.ndarray,
    stretch: tuple[float, float] | None = None,
    gamma: float = DEFAULT_GAMMA,
) -> np.ndarray:
    """An RGBA picture from red, green and blue DN bands; transparent where any band has no data.

    Args:
        red: (H, W) surface reflectance DN; green and blue likewise.
        stretch: (low, high) reflectance mapped to bytes 0 and 255; DEFAULT_STRETCH when None.
        gamma: Applied after the linear stretch; 1 keeps it linear.
    """
    low, high = DEFAULT_STRETCH if stretch is None else stretch
    if not high > low:
        raise InvalidInputError(f"Stretch {stretch} is empty: give (low, high) reflectance with low < high.")
    if not gamma > 0:
        raise InvalidInputError(f"Gamma {gamma} is not positive: give e.g. 1.0 (linear) or {DEFAULT_GAMMA}.")
    rgb = _reflectance_rgb(red, green, blue)
    missing = np.isnan(rgb).any(axis=-1)
    scaled = np.clip((np.nan_to_num(rgb) - low) / (high - low), 0.0, 1.0) ** (1.0 / gamma)
    rgba = np.zeros(rgb.shape[:2] + (4,), dtype=np.uint8)
    rgba[..., :3] = np.rint(scaled * 255)
    rgba[..., :3][missing] = 0
    rgba[..., 3] = np.where(missing, 0, 255)
    return rgba


def _reflectance_rgb(red: np.ndarray, green: np.ndarray, blue: np.ndarray) -> np.ndarray:
    """(H, W, 3) reflectance, after checking the three bands share one 2-D shape."""
    shapes = {np.shape(red), np.shape(green), np.shape(blue)}
    if len(shapes) != 1 or len(np.shape(red)) != 2:
        raise InvalidInputError(
            f"Red, green and blue have shapes {np.shape(red)}, {np.shape(green)}, {np.shape(blue)}: "
            "give three 2-D bands of one shape."
        )
    return np.stack([reflectance(red), reflectance(green), reflectance(blue)], axis=-1)


def mask_overlay(
    rgba: np.ndarray,
    mask: np.ndarray,
    colour: tuple[int, int, int] = DEFAULT_MASK_COLOUR,
    opacity: float = DEFAULT_OPACITY,
) -> np.ndarray:
    """Tint the masked pixels of a picture with `colour`; all other pixels stay as they are.

    The tint is laid over the picture ("over" compositing), so a masked pixel that was
    transparent (no data) becomes the colour at `opacity`, not a darkened black.
    """
    rgba = _checked_rgba(rgba)
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != rgba.shape[:2]:
        raise InvalidInputError(
            f"Mask shape {mask.shape} differs from the picture's {rgba.shape[:2]}: give one mask pixel per pixel."
        )
    if not 0.0 <= opacity <= 1.0:
        raise InvalidInputError(f"Opacity {opacity} is outside 0-1: give e.g. {DEFAULT_OPACITY}.")
    out = rgba.copy()
    if opacity == 0 or not mask.any():
        return out
    under = rgba[mask].astype(np.float64) / 255.0
    under_alpha = under[:, 3:]
    alpha = opacity + under_alpha * (1.0 - opacity)
    tint = np.asarray(colour, dtype=np.float64) / 255.0
    rgb = (tint * opacity + under[:, :3] * under_alpha * (1.0 - opacity)) / alpha
    out[mask] = np.rint(np.concatenate([rgb, alpha], axis=1) * 255).astype(np.uint8)
    return out


def class_overlay(rgba: np.ndarray, layers: dict[str, np.ndarray], opacity: float = DEFAULT_OPACITY) -> np.ndarray:
    """Tint QA classes (keys of CLASS_COLOURS) in their fixed colours, drawn in CLASS_COLOURS order."""
    unknown = sorted(set(layers) - CLASS_COLOURS.keys())
    if unknown:
        raise InvalidInputError(f"Unknown class layer(s) {', '.join(unknown)}: use any of {', '.join(CLASS_COLOURS)}.")
    out = _checked_rgba(rgba).copy()
    for name, colour in CLASS_COLOURS.items():
        if name in layers:
            out = mask_overlay(out, layers[name], colour, opacity)
    return out


def png_bytes(rgba: np.ndarray) -> bytes:
    """The picture encoded as PNG."""
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(_checked_rgba(rgba))).save(buffer, format="PNG")
    return buffer.getvalue()


def write_png(path: str | os.PathLike, rgba: np.ndarray) -> Path:
    """Write the picture as a PNG file and return its path."""
    path = Path(path)
    if not path.parent.is_dir():
        raise InvalidInputError(
            f"Folder {str(path.parent)!r} for the PNG does not exist: create it or choose another path."
        )
    path.write_bytes(png_bytes(rgba))
    return path


def _checked_rgba(rgba: np.ndarray) -> np.ndarray:
    rgba = np.asarray(rgba)
    if rgba.ndim != 3 or rgba.shape[2] != 4 or rgba.dtype != np.uint8:
        raise InvalidInputError(f"Picture is {rgba.dtype} of shape {rgba.shape}: give an (H, W, 4) uint8 RGBA array.")
    return rgba
