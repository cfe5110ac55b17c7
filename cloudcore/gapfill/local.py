"""Smooth fields from values known at scattered pixels, cheaply: block sums, a Gaussian, bilinear reads.

A fill wants to know things like "how far is this donor from the target around here" at
pixels where one of the two is missing (under a cloud, in an SLC-off stripe). `BlockGrid`
sums the known values in square blocks, smooths the sums with a Gaussian over blocks
(normalised convolution: the smoothed sum over the smoothed count is a weighted local mean
that ignores missing pixels), and reads the result at any pixel by bilinear interpolation
between block centres. Working on blocks keeps the cost at one pass over the pixels plus
work on a grid `block_px`² times smaller, whatever the smoothing radius.

Pure numpy; the Gaussian over blocks is scipy's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Sampler:
    """Where a set of pixels lies on the block grid: the block of each (nearest), or the four block
    centres around it and their bilinear weights."""

    corners: np.ndarray
    """(1, N) or (4, N) flat indices into the block grid."""
    weights: np.ndarray
    """(1, N) ones or (4, N) float32 bilinear weights, summing to 1 per pixel."""

    def read(self, field: np.ndarray) -> np.ndarray:
        """(K, N) values of a (K, rows, cols) block field (or (N,) of a 2-D one) at the pixels."""
        flat = field.reshape(-1, field.shape[-2] * field.shape[-1]) if field.ndim == 3 else field.reshape(1, -1)
        if self.corners.shape[0] == 1:
            out = np.take(flat, self.corners[0], axis=1)
            return out if field.ndim == 3 else out[0]
        out = flat[:, self.corners[0]] * self.weights[0]
        for k in range(1, 4):
            out += flat[:, self.corners[k]] * self.weights[k]
        return out if field.ndim == 3 else out[0]


class BlockGrid:
    """Blocks of `block_px` x `block_px` pixels over an (H, W) grid, and a Gaussian of `sigma_blocks` over them.

    With `step` > 1 a block's statistics come from every `step`-th pixel of every `step`-th row
    (`block_px` must be a multiple of `step`): `step`² times less work for nearly the same
    field, since it is smoothed over several blocks anyway.
    """

    def __init__(self, shape: tuple[int, int], block_px: int, sigma_blocks: float, step: int = 1) -> None:
        if block_px % step:
            raise ValueError(f"block_px {block_px} is not a multiple of step {step}.")
        self.shape = shape
        self.block_px = block_px
        self.sigma_blocks = sigma_blocks
        self.step = step
        self.blocks = (-(-shape[0] // block_px), -(-shape[1] // block_px))

    def thin(self, array: np.ndarray) -> np.ndarray:
        """The pixels a block's statistics come from: a view of every `step`-th row and column."""
        return array[..., :: self.step, :: self.step]

    def sums(self, values: np.ndarray) -> np.ndarray:
        """(K, rows, cols) sums over each block of (K, h, w) thinned values (`thin`; 0 where unknown)."""
        rows, cols = self.blocks
        size = self.block_px // self.step
        pad_h, pad_w = rows * size - values.shape[-2], cols * size - values.shape[-1]
        if pad_h or pad_w:
            values = np.pad(values, ((0, 0), (0, pad_h), (0, pad_w)))
        # Strided adds, row offsets then column offsets: several times faster than a reshaped sum.
        by_rows = values[:, 0::size]
        for offset in range(1, size):
            by_rows = by_rows + values[:, offset::size]
        summed = by_rows[..., 0::size]
        for offset in range(1, size):
            summed = summed + by_rows[..., offset::size]
        return summed

    def smooth(self, block_sums: np.ndarray) -> np.ndarray:
        """The Gaussian of (K, rows, cols) block sums over the blocks (zero beyond the grid's edge)."""
        from scipy import ndimage  # loaded only when a fill smooths a field

        if self.sigma_blocks <= 0:
            return block_sums
        smoothed: np.ndarray = ndimage.gaussian_filter(
            block_sums, sigma=(0, self.sigma_blocks, self.sigma_blocks), mode="constant", truncate=3.0
        )
        return smoothed

    def sampler(self, flat_px: np.ndarray, nearest: bool = False) -> Sampler:
        """How to read block fields at the pixels of row-major flat indices `flat_px`: between the four
        nearest block centres (bilinear), or `nearest`, from the pixel's own block (a quarter of the cost)."""
        rows, cols = np.divmod(flat_px, self.shape[1])
        if nearest:
            cell = (rows // self.block_px) * self.blocks[1] + cols // self.block_px
            return Sampler(cell[None], np.ones((1, cell.size), np.float32))
        n_rows, n_cols = self.blocks
        half = (self.block_px - 1) / 2  # block i's centre is pixel i * block_px + half

        def axis(px: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            where = np.clip((px - half) / self.block_px, 0, n - 1).astype(np.float32)
            low = np.minimum(where.astype(np.int64), n - 1)
            high = np.minimum(low + 1, n - 1)
            return low, high, where - low

        r0, r1, fr = axis(rows, n_rows)
        c0, c1, fc = axis(cols, n_cols)
        corners = np.stack([r0 * n_cols + c0, r0 * n_cols + c1, r1 * n_cols + c0, r1 * n_cols + c1])
        weights = np.stack([(1 - fr) * (1 - fc), (1 - fr) * fc, fr * (1 - fc), fr * fc]).astype(np.float32)
        return Sampler(corners, weights)
