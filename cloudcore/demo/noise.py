"""Fractal (1/f^beta) noise from random phases, the texture source of the whole demo.

Noise is made in the frequency domain with numpy's FFT, so it is periodic: a field shifted
with wrap-around stays seamless, which is how cloud shadows from clouds past the scene edge
are obtained for free (see atmosphere.py).
"""

from __future__ import annotations

import numpy as np


def fractal_noise(
    rng: np.random.Generator,
    shape: tuple[int, int],
    beta: float,
    stretch: float = 1.0,
    angle_deg: float = 0.0,
) -> np.ndarray:
    """A periodic random field whose power falls off as 1/f**beta, zero mean and unit std.

    Args:
        rng: source of the random phases (the only randomness used).
        shape: (rows, cols) of the field.
        beta: spectral slope; about 2 is rough, 3 cloud-like, 4 smooth as terrain.
        stretch: above 1, features are elongated by this factor (cirrus streaks).
        angle_deg: direction of the elongation, clockwise from the row axis.

    Returns:
        float32 array of `shape`.
    """
    rows, cols = shape
    fy = np.fft.fftfreq(rows).astype(np.float32)[:, None]
    fx = np.fft.rfftfreq(cols).astype(np.float32)[None, :]
    if stretch != 1.0:
        # Shrinking the frequency along one axis stretches features along it.
        angle = np.deg2rad(angle_deg)
        along = fy * np.cos(angle) + fx * np.sin(angle)
        across = -fy * np.sin(angle) + fx * np.cos(angle)
        fy, fx = along * stretch, across
    radius = np.sqrt(fx**2 + fy**2)
    radius[0, 0] = 1.0
    half = (rows, cols // 2 + 1)
    phases = rng.standard_normal(half, dtype=np.float32) + 1j * rng.standard_normal(half, dtype=np.float32)
    spectrum = phases * radius ** np.float32(-beta / 2)
    spectrum[0, 0] = 0
    field = np.fft.irfft2(spectrum, s=shape).astype(np.float32)
    return (field - field.mean()) / max(float(field.std()), 1e-12)


def smooth_noise(rng: np.random.Generator, shape: tuple[int, int], cells: int = 64) -> np.ndarray:
    """A cheap, very smooth field in 0..1: coarse fractal noise stretched to `shape`.

    Used for slowly varying quantities (haze thickness, cloud layer split) where a full
    resolution FFT would be wasted work.
    """
    coarse = fractal_noise(rng, (cells, cells), beta=3.5)
    rows, row_weight = _interpolation(shape[0], cells)
    cols, col_weight = _interpolation(shape[1], cells)
    # Separable linear interpolation by gathers (no BLAS: its threads would fight the
    # worker processes for the cores).
    by_row = coarse[rows[0]] * (1 - row_weight)[:, None] + coarse[rows[1]] * row_weight[:, None]
    field = by_row[:, cols[0]] * (1 - col_weight) + by_row[:, cols[1]] * col_weight
    low, high = float(field.min()), float(field.max())
    return ((field - low) / max(high - low, 1e-12)).astype(np.float32)


def _interpolation(size: int, cells: int) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
    """Neighbouring coarse cells (periodic) and the weight of the second, for `size` points."""
    position = (np.arange(size, dtype=np.float32) + 0.5) * cells / size - 0.5
    left = np.floor(position).astype(np.int64)
    weight = (position - left).astype(np.float32)
    return (left % cells, (left + 1) % cells), weight


def to_uniform(field: np.ndarray) -> np.ndarray:
    """Rank-transform a field to 0..1 so thresholds read as area fractions."""
    ranks = np.empty(field.size, dtype=np.float32)
    ranks[np.argsort(field, axis=None, kind="stable")] = np.linspace(0.0, 1.0, field.size, dtype=np.float32)
    return ranks.reshape(field.shape)
