"""Landsat-like QA_PIXEL content for the benchmark: a footprint, land, water, clouds and what
goes with them (dilated rings, cirrus streaks, displaced shadows).

Speed matters more than physics here: the benchmark needs tens of full-size (about 7,800 x
7,900 px) files whose compressed size and tile-to-tile variety resemble USGS's, generated
in seconds each. So every random field is made at a quarter of the resolution with an FFT,
brought to full size by linear interpolation (smooth edges, like CFMask's), and roughened
with a little per-pixel noise so edges are ragged at the pixel level, as real masks are
(a perfectly smooth edge would compress far better than a real file does).
"""

from __future__ import annotations

import numpy as np

from cloudcore.masks.qa import (
    CIRRUS_BIT,
    CIRRUS_CONFIDENCE_OFFSET,
    CLEAR_BIT,
    CLOUD_BIT,
    CLOUD_CONFIDENCE_OFFSET,
    CLOUD_SHADOW_BIT,
    CLOUD_SHADOW_CONFIDENCE_OFFSET,
    DILATED_CLOUD_BIT,
    FILL_BIT,
    SNOW_CONFIDENCE_OFFSET,
    WATER_BIT,
)

COARSE = 4
"""Fields are made at 1/COARSE of the full resolution (120 m cells for 30 m pixels)."""

LOW, MEDIUM, HIGH = 1, 2, 3
# Codes built from the bit layout (not typed in as numbers), so they follow cloudcore.masks.qa.
# A clear pixel carries low confidence in every 2-bit field, as USGS writes it (21824).
CLEAR = (
    (1 << CLEAR_BIT)
    | (LOW << CLOUD_CONFIDENCE_OFFSET)
    | (LOW << CLOUD_SHADOW_CONFIDENCE_OFFSET)
    | (LOW << SNOW_CONFIDENCE_OFFSET)
    | (LOW << CIRRUS_CONFIDENCE_OFFSET)
)
WATER = CLEAR | (1 << WATER_BIT)
CONFIDENCE_FIELDS = (LOW << CLOUD_CONFIDENCE_OFFSET) | (LOW << CLOUD_SHADOW_CONFIDENCE_OFFSET) | (
    LOW << SNOW_CONFIDENCE_OFFSET
) | (LOW << CIRRUS_CONFIDENCE_OFFSET)
CLOUD = (1 << CLOUD_BIT) | (CONFIDENCE_FIELDS & ~(0b11 << CLOUD_CONFIDENCE_OFFSET)) | (HIGH << CLOUD_CONFIDENCE_OFFSET)
DILATED = (1 << DILATED_CLOUD_BIT) | CONFIDENCE_FIELDS
# Thin cloud edges: not flagged, clear bit kept, medium cloud confidence.
THIN_EDGE = (CLEAR & ~(0b11 << CLOUD_CONFIDENCE_OFFSET)) | (MEDIUM << CLOUD_CONFIDENCE_OFFSET)
CIRRUS_BITS = (1 << CIRRUS_BIT) | (HIGH << CIRRUS_CONFIDENCE_OFFSET)
SHADOW_BITS = (1 << CLOUD_SHADOW_BIT) | (HIGH << CLOUD_SHADOW_CONFIDENCE_OFFSET)
FILL = 1 << FILL_BIT

assert (CLEAR, WATER, CLOUD, DILATED) == (21824, 21952, 22280, 21762), "codes drifted from USGS's"


def fractal(rng: np.random.Generator, shape: tuple[int, int], beta: float, stretch: float = 1.0, angle: float = 0.0) -> np.ndarray:
    """Periodic 1/f**beta noise, zero mean, unit std (periodic, so a shifted copy is seamless)."""
    rows, cols = shape
    fy = np.fft.fftfreq(rows).astype(np.float32)[:, None]
    fx = np.fft.rfftfreq(cols).astype(np.float32)[None, :]
    if stretch != 1.0:  # shrinking frequencies along one direction elongates features along it
        a = np.deg2rad(angle)
        fy, fx = (fy * np.cos(a) + fx * np.sin(a)) * stretch, -fy * np.sin(a) + fx * np.cos(a)
    radius = np.hypot(fx, fy)
    radius[0, 0] = 1.0
    half = (rows, cols // 2 + 1)
    spectrum = (rng.standard_normal(half, dtype=np.float32) + 1j * rng.standard_normal(half, dtype=np.float32)) * radius ** (
        -beta / 2
    )
    spectrum[0, 0] = 0
    field = np.fft.irfft2(spectrum, s=shape).astype(np.float32)
    return (field - field.mean()) / max(float(field.std()), 1e-12)


def _neighbours(size: int, cells: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For `size` points over `cells` periodic cells: the two cells around each and the second's weight."""
    position = (np.arange(size, dtype=np.float32) + 0.5) * cells / size - 0.5
    left = np.floor(position).astype(np.int64)
    return left % cells, (left + 1) % cells, (position - left).astype(np.float32)


def upsample(field: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Separable linear interpolation of a periodic coarse field to `shape` (float32), by
    gathers: twice as fast as scipy's zoom here."""
    r0, r1, wr = _neighbours(shape[0], field.shape[0])
    c0, c1, wc = _neighbours(shape[1], field.shape[1])
    by_row = field[r0] * (1 - wr)[:, None] + field[r1] * wr[:, None]
    out = by_row[:, c0]
    out *= 1 - wc
    out += by_row[:, c1] * wc
    return out


def _swath(shape: tuple[int, int], seed: int) -> tuple[float, float, float, float, float]:
    """The footprint of a descending Landsat path on a grid of `shape`: a rectangle rotated by
    about 12 degrees, shifted a little from file to file as real scenes are.
    Returns (angle in radians, centre row, centre col, half width, half height) in pixels."""
    rng = np.random.default_rng(seed)
    rows, cols = shape
    angle = float(np.deg2rad(12.0 + rng.uniform(-0.5, 0.5)))
    centre_row, centre_col = rows / 2 + rng.uniform(-0.008, 0.008) * rows, cols / 2 + rng.uniform(-0.008, 0.008) * cols
    # 185 x 180 km of data in a 234 x 237 km grid, as USGS's scenes.
    return angle, centre_row, centre_col, 0.79 * cols / 2, 0.79 * rows / 2


def footprint(shape: tuple[int, int], seed: int) -> np.ndarray:
    """True inside the swath (see `_swath`)."""
    angle, cy, cx, half_w, half_h = _swath(shape, seed)
    r = (np.arange(shape[0], dtype=np.float32) - np.float32(cy))[:, None]
    c = (np.arange(shape[1], dtype=np.float32) - np.float32(cx))[None, :]
    cos, sin = np.float32(np.cos(angle)), np.float32(np.sin(angle))
    inside = np.abs(c * cos + r * sin) <= half_w
    inside &= np.abs(-c * sin + r * cos) <= half_h
    return inside


def corners(shape: tuple[int, int], seed: int) -> list[tuple[float, float]]:
    """The swath's corners as (col, row) on the full grid of `shape`, for a file made by
    `qa_pixel(shape, seed, ...)` (which draws its swath on the half-resolution grid)."""
    half = (-(-shape[0] // 2), -(-shape[1] // 2))
    angle, cy, cx, half_w, half_h = _swath(half, seed)
    out = []
    for su, sv in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
        u, v = su * half_w, sv * half_h
        out.append((2 * (cx + u * np.cos(angle) - v * np.sin(angle)), 2 * (cy + u * np.sin(angle) + v * np.cos(angle))))
    return out


def qa_pixel(shape: tuple[int, int], seed: int, cloud_fraction: float) -> np.ndarray:
    """A full QA_PIXEL array (uint16) with about `cloud_fraction` of the swath flagged cloud
    (high confidence), plus its dilated ring, thin edges, shadows and cirrus.

    Classes are decided on a grid of half the resolution and each cell becomes 2 x 2 pixels:
    four times less work, and the edges stay ragged at 60 m, finer than a 512 px tile by far.
    The footprint draws come first from a generator of their own, so `corners(shape, seed)`
    gives the same footprint without making the array.
    """
    half = (-(-shape[0] // 2), -(-shape[1] // 2))
    inside = footprint(half, seed)
    rng = np.random.default_rng([seed, 1])
    coarse = (-(-shape[0] // COARSE), -(-shape[1] // COARSE))

    water = upsample(fractal(rng, coarse, beta=2.6), half) > 1.6  # lakes and rivers, ~5 %
    cloud_field = fractal(rng, coarse, beta=3.0)
    cirrus_field = fractal(rng, coarse, beta=3.2, stretch=6.0, angle=rng.uniform(0, 180))
    # Shadows fall away from the sun by a cloud-height-dependent 1-4 km: the cloud field
    # moved by that offset (periodic noise, so clouds past the edge cast shadows in too).
    shift = rng.integers(8, 35, size=2)
    shadow_field = np.roll(cloud_field, (-int(shift[0]), -int(shift[1])), axis=(0, 1))

    threshold = float(np.quantile(cloud_field, 1.0 - cloud_fraction)) if cloud_fraction > 0 else np.inf
    ragged = rng.standard_normal(half, dtype=np.float32) * np.float32(0.04)
    cloud_up = upsample(cloud_field, half) + ragged
    cloud = cloud_up >= threshold
    # CFMask's dilated ring and thin edges: bands just below the cloud threshold.
    dilated = ~cloud & (cloud_up >= threshold - 0.12)
    thin = ~cloud & ~dilated & (cloud_up >= threshold - 0.25)
    del cloud_up
    shadow = (upsample(shadow_field, half) + ragged >= threshold + 0.15) & ~cloud & ~dilated
    cirrus_amount = rng.uniform(0.0, 0.12) if cloud_fraction > 0.05 else 0.0
    cirrus_threshold = float(np.quantile(cirrus_field, 1.0 - cirrus_amount)) if cirrus_amount else np.inf
    cirrus = upsample(cirrus_field, half) + ragged >= cirrus_threshold
    del ragged

    qa = np.where(water, np.uint16(WATER), np.uint16(CLEAR))
    qa[thin] = THIN_EDGE | (qa[thin] & (1 << WATER_BIT))
    qa[shadow] |= np.uint16(SHADOW_BITS)
    qa[dilated] = DILATED
    qa[cloud] = CLOUD
    qa[cirrus] |= np.uint16(CIRRUS_BITS)
    qa[~inside] = FILL
    return np.repeat(np.repeat(qa, 2, axis=0), 2, axis=1)[: shape[0], : shape[1]]
