"""A predicted absolute error for filled pixels whose method gave none.

A filled pixel is as wrong as its donor, as the method used it, is different from the target
around it. So for each donor that filled pixels, the mean absolute difference (over bands)
between the target and that donor (corrected when the method recorded an applied
`Correction` for it) on the pixels clear on both dates is smoothed in space
(`cloudcore.gapfill.local`) and read at the pixels the donor filled. Where few shared pixels
are near, the estimate leans towards a prior that grows with the days between the dates
(`ErrorModel.base_reflectance` + `per_day_reflectance` x |days|), so a pixel deep in a
large cloud or a target with hardly a clear pixel still gets a figure. `ErrorModel.scale`
calibrates the result against the actual errors on real Landsat 5/7 dates (see the README).

Pure numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..product import date_code
from .base import Correction, FillJob, Layer
from .local import BlockGrid


@dataclass(frozen=True)
class ErrorModel:
    """How the kernel estimates the error of pixels a method filled without an estimate of its own."""

    block_px: int = 4
    """Side of the blocks the differences are averaged on (pixels)."""
    sigma_blocks: float = 3.0
    """Gaussian radius, in blocks."""
    prior_px: float = 8.0
    """Weight (in shared pixels nearby) of the days prior against the local differences."""
    base_reflectance: float = 0.015
    """Prior mean absolute difference between two dates a day apart."""
    per_day_reflectance: float = 0.0003
    """What each day between the dates adds to the prior."""
    scale: float = 1.0
    """Calibration of the whole estimate."""


def estimate_uncertainty(job: FillJob, model: ErrorModel = ErrorModel()) -> None:
    """Write `job.uncertainty` at filled holes the method left NaN (see the module docstring)."""
    todo = job.holes & (job.provenance != 0) & np.isnan(job.uncertainty)
    if not todo.any():
        return
    by_code: dict[int, Layer] = {}
    for donor in reversed(job.donors):  # of two layers on one date the nearer-listed wins, as in the fills
        by_code[date_code(donor.date)] = donor
    corrections = {c.date: c for c in job.corrections if c.applied}
    grid = BlockGrid(job.holes.shape, model.block_px, model.sigma_blocks)
    clear = job.inside & job.target.usable
    for code in np.unique(job.provenance[todo]):
        where = todo & (job.provenance == code)
        layer = by_code.get(int(code))
        if layer is None:  # a code no donor has: only the prior of a donor on the day is left
            level = np.full(int(where.sum()), model.base_reflectance / job.band_scale, dtype=np.float32)
        else:
            level = _local_difference(job, layer, clear, corrections.get(layer.date), grid, model, where)
        job.uncertainty[where] = model.scale * level * job.band_scale


def _local_difference(
    job: FillJob, donor: Layer, clear: np.ndarray, correction: Correction | None, grid: BlockGrid,
    model: ErrorModel, where: np.ndarray,
) -> np.ndarray:
    """(N,) the smoothed mean absolute target - donor difference (band units) at the `where` pixels,
    the donor corrected as `correction` says."""
    days = abs((donor.date - job.target.date).days)
    prior = (model.base_reflectance + model.per_day_reflectance * days) / job.band_scale
    shared = clear & donor.usable
    n_bands = donor.bands.shape[0]
    gains = (1.0,) * n_bands if correction is None or correction.gains is None else correction.gains
    offsets = (0.0,) * n_bands if correction is None or correction.offsets is None else correction.offsets
    difference = np.zeros(shared.shape, dtype=np.float32)
    for band in range(n_bands):
        used = donor.bands[band] * np.float32(gains[band]) + np.float32(offsets[band])
        difference += np.abs(job.target.bands[band].astype(np.float32) - used)
    difference *= shared / np.float32(n_bands)
    sums = grid.smooth(grid.sums(np.stack([difference, shared.astype(np.float32)])))
    field = (sums[0] + model.prior_px * prior) / (sums[1] + model.prior_px)
    result: np.ndarray = grid.sampler(np.flatnonzero(where)).read(field.astype(np.float32))
    return result
