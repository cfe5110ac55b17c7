"""``blend-matched``: each hole is a weighted blend of every donor in the window, each matched to the target.

Every donor is first mapped onto the target's radiometry, per band, by the robust line of
``nearest-matched`` (`cloudcore.gapfill.matching`; a wider gain range, and a donor whose gain
is still refused is mapped by its median offset alone), and then locally: the residual of
that line on pixels clear on both dates is smoothed in space (`cloudcore.gapfill.local`: sums
over blocks of `BlendPolicy.block_px` pixels, a Gaussian of `sigma_blocks` blocks) and added
where the donor fills, so a donor that is a little brighter on one field than its line says is
corrected there. This is what narrow gaps need: an SLC-off stripe is a few pixels wide with
the target's own pixels on both sides. Far inside a large cloud the local term fades to the
line (it is shrunk towards 0 where few shared pixels are near).

Each hole then takes the weighted mean of the matched donors usable there. A donor's weight
at a pixel is `exp(-|days| / days_scale) / (v + noise²)`, where `v` is how far the matched
donor still stands from the target around that pixel (the local variance of the residual,
shrunk towards the donor's whole-AOI figure): the nearest in time and the best matched count
most. Provenance names the donor of the largest weight (ties: nearest in time, then the
earlier). Holes no donor can be matched for (too few clear pixels shared with the target) take
the nearest such donor as it is, as ``nearest`` would.

The uncertainty of a blended pixel is `error_scale` x the root of the weighted spread of the
donors' predictions plus their weighted local residual variance, in reflectance; `error_scale`
makes its mean the mean absolute error on real Landsat 5/7 dates (README, "Gap filling").
`FillResult.corrections` holds the line of each donor that contributed, nearest first, then
the unmatched donors that filled (the table the dashboard shows).

On the real dates of the README the error is about a third below ``nearest-matched``'s under
real cloud masks and 40 to 60 % below it under real SLC-off stripes; the block size,
radius, shrinkage and days scale are the best of a small grid searched on those dates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import ClassVar

import numpy as np

from ...product import date_code
from ..base import Correction, FillJob, FillMethod, Layer
from ..local import BlockGrid
from ..matching import Matcher, MatchPolicy, to_band_values
from .nearest import fill_nearest_first
from .nearest_matched import matchable_first


@dataclass(frozen=True)
class BlendPolicy:
    """How `blend-matched` matches and weighs its donors."""

    matching: MatchPolicy = field(
        default_factory=lambda: MatchPolicy(gain_range=(0.1, 10.0), sample_px=5_000, start_px=200)
    )
    """The global per-band fit of each donor onto the target. The gain range is wider than
    ``nearest-matched``'s: a dark band of little contrast (red over forest) fits a gain well
    under 0.5 with a small residual, and a donor that differs in kind gets a small weight here
    from its misfit rather than being refused. A smaller sample than ``nearest-matched``'s,
    since every donor is fitted and the local correction takes up what the line misses (on the
    real dates of the README, 20,000 px changed the error by under 1 %)."""
    days_scale: float = 30.0
    """Days over which a donor's weight falls by a factor e (the ground changes with time)."""
    block_px: int = 4
    """Side of the blocks the local correction is computed on (pixels)."""
    sigma_blocks: float = 1.0
    """Gaussian radius of the local correction, in blocks (4 px = 120 m at 30 m pixels)."""
    prior_px: float = 0.5
    """Weight (in shared pixels near a hole) of the global line against the local correction."""
    noise_reflectance: float = 0.005
    """Residual spread (reflectance) no donor is trusted beyond: keeps one near-perfect fit from taking all."""
    error_scale: float = 0.44
    """Calibration of the uncertainty (see the module docstring)."""
    step_px: int = 2
    """On grids over `thin_above_px`, local statistics come from every `step_px`-th pixel of every
    `step_px`-th row (a divisor of `block_px`): a quarter of the time and memory at 2."""
    thin_above_px: int = 250_000
    """Grids of at most this many pixels use every pixel (on the real dates of the README, thinning
    by 2 raised the error by about 1 % on clouds, 2 % on SLC-off stripes)."""
    offset_only: bool = True
    """A donor whose fitted gain is refused is still blended, by the median offset alone (gain 1)
    plus the local correction, and weighed by its misfit like any other; False leaves it to fill
    only what no matched donor covers, as it is. On the real dates of the README this cut the
    error of a date whose hazy donors' lines were refused by half."""
    bilinear: bool = False
    """Read the local correction between block centres (smooth) rather than per block: on the
    real dates the blocks left a step of 0.0002 reflectance at their edges, invisible, and
    interpolation cost about twice the blending time."""
    chunk_px: int = 65_536
    """Hole pixels blended at a time, which bounds the memory whatever the AOI."""


_LEAST_PRIOR = 1e-20


@dataclass
class _Donor:
    """A matched donor, ready to blend: its line, and its local correction and misfit on the block grid."""

    layer: Layer
    correction: Correction
    """The line it was matched by (the fitted one, or an offset only)."""
    gains: np.ndarray
    """(B, 1) float32."""
    fields: np.ndarray
    """(B + 1, rows, cols) float32: per band the offset of the line plus the local residual, less the
    target's band mean (predictions are blended centred, in float32); then the local variance of
    the residual left (band units², mean over bands)."""
    prior: float
    """exp(-|days| / days_scale)."""


class BlendMatched(FillMethod):
    name: ClassVar[str] = "blend-matched"
    description: ClassVar[str] = "a blend of every clear date in the window, each matched to the target, weighted by fit and days"
    needs_all_donors: ClassVar[bool] = True

    def __init__(self, policy: BlendPolicy | None = None) -> None:
        self.policy = BlendPolicy() if policy is None else policy

    def fill(self, job: FillJob) -> set[dt.date]:
        if not job.donors or not job.holes.any():
            return set()
        policy = self.policy
        matcher = Matcher(job, policy.matching)
        step = policy.step_px if job.holes.size > policy.thin_above_px else 1
        grid = BlockGrid(job.holes.shape, policy.block_px, policy.sigma_blocks, step)
        clear = job.inside & job.target.usable
        centre = _band_means(job.target.bands, clear)
        target = grid.thin(job.target.bands).astype(np.float32)
        thin_clear = grid.thin(clear)
        matched = []
        for donor in job.donors:
            if not (donor.usable & job.holes).any():
                continue
            line = _line(donor, matcher, target, thin_clear, grid, policy)
            if line is not None:
                matched.append(_prepare(donor, line, target, thin_clear, centre, grid, job, policy))
        used = _blend(job, matched, grid, centre, policy) if matched else set()
        recorded: set[dt.date] = set()
        for blended_donor in matched:  # nearest first, one line a date
            day = blended_donor.layer.date
            if day in used and day not in recorded:
                job.corrections.append(blended_donor.correction)
                recorded.add(day)
        remaining = job.holes & (job.provenance == 0)
        if not remaining.any():
            return used
        blended = {id(d.layer) for d in matched}
        unmatched = [d for d in job.donors if id(d) not in blended]

        def values(donor: Layer, take: np.ndarray) -> np.ndarray:
            job.corrections.append(matcher.correction(donor))
            return donor.bands[:, take]

        return used | fill_nearest_first(job, matchable_first(unmatched, matcher), values=values, holes=remaining)


def _line(
    donor: Layer, matcher: Matcher, target: np.ndarray, clear: np.ndarray, grid: BlockGrid, policy: BlendPolicy
) -> Correction | None:
    """The line a donor is blended by: its fit; an offset only when the fit's gain was refused
    (`BlendPolicy.offset_only`); None when it cannot be matched (too few shared clear pixels)."""
    correction = matcher.correction(donor)
    if correction.applied:
        return correction
    if not (policy.offset_only and matcher.refused_for_gain(donor)):
        return None
    shared = clear & grid.thin(donor.usable)
    thin = grid.thin(donor.bands)
    offsets = tuple(float(np.median(target[band][shared] - thin[band][shared])) for band in range(target.shape[0]))
    reason = correction.reason.removeprefix("none: ")
    return replace(correction, gains=(1.0,) * len(offsets), offsets=offsets, reason=f"offset only: {reason}")


def _band_means(bands: np.ndarray, clear: np.ndarray) -> np.ndarray:
    """(B, 1) float32 mean of each band over the clear pixels (0 without any)."""
    if not clear.any():
        return np.zeros((bands.shape[0], 1), dtype=np.float32)
    return bands[:, clear].mean(axis=1, dtype=np.float64).astype(np.float32)[:, None]


def _offset_line(donor: Layer, target: np.ndarray, clear: np.ndarray, grid: BlockGrid) -> tuple[np.ndarray, np.ndarray]:
    shared = clear & grid.thin(donor.usable)
    thin = grid.thin(donor.bands)
    n_bands = target.shape[0]
    offsets = np.array([np.median(target[b][shared] - thin[b][shared]) for b in range(n_bands)], np.float32)
    return np.ones(n_bands, np.float32), offsets


def _prepare(
    donor: Layer, line: Correction, target: np.ndarray, clear: np.ndarray, centre: np.ndarray, grid: BlockGrid,
    job: FillJob, policy: BlendPolicy,
) -> _Donor:
    """The donor's line, and its local correction and misfit from the residual on pixels clear on both
    dates (`target` and `clear` thinned by the grid)."""
    assert line.gains is not None and line.offsets is not None  # `_line` gives only applied lines
    gains = np.array(line.gains, dtype=np.float32)
    offsets = np.array(line.offsets, dtype=np.float32)
    n_bands = target.shape[0]
    shared = (clear & grid.thin(donor.usable)).astype(np.float32)
    thin = grid.thin(donor.bands)
    stack = np.empty((n_bands + 2, *shared.shape), dtype=np.float32)
    squares = stack[n_bands]
    squares[:] = 0
    for band in range(n_bands):
        residual = stack[band]
        np.multiply(thin[band], gains[band], out=residual)
        residual += offsets[band]
        np.subtract(target[band], residual, out=residual)
        residual *= shared
        squares += residual * residual
    squares /= n_bands
    stack[n_bands + 1] = shared
    sums = grid.sums(stack)
    overall = float(sums[n_bands].sum() / max(float(sums[n_bands + 1].sum()), 1.0))  # the AOI's mean squared residual
    smooth = grid.smooth(sums)
    count = smooth[n_bands + 1]
    # Shrunk towards the global line (0 residual, the AOI's variance) where few shared pixels are near.
    shrunk = count + policy.prior_px
    fields = np.empty((n_bands + 1, *count.shape), dtype=np.float32)
    fields[:n_bands] = smooth[:n_bands] / shrunk + (offsets[:, None] - centre)[:, :, None]
    mean = smooth[:n_bands] / np.maximum(count, 1e-6)
    spread = np.maximum(smooth[n_bands] / np.maximum(count, 1e-6) - (mean * mean).mean(axis=0), 0.0)
    fields[n_bands] = (count * spread + policy.prior_px * overall) / shrunk
    days = abs((donor.date - job.target.date).days)
    return _Donor(
        layer=donor,
        correction=line,
        gains=gains[:, None],
        fields=fields,
        # Floored, so that a donor years away still fills a pixel no other donor covers (float32 would round it to 0).
        prior=max(float(np.exp(-days / policy.days_scale)), _LEAST_PRIOR),
    )


def _blend(job: FillJob, donors: list[_Donor], grid: BlockGrid, centre: np.ndarray, policy: BlendPolicy) -> set[dt.date]:
    """Fill every hole some matched donor covers; the dates that contributed."""
    n_bands = job.filled.shape[0]
    noise = np.float32(max((policy.noise_reflectance / job.band_scale) ** 2, 1e-12))
    holes = np.flatnonzero(job.holes)
    codes = np.array([date_code(d.layer.date) for d in donors], dtype=np.uint32)
    contributed = np.zeros(len(donors), dtype=bool)
    filled = job.filled.reshape(n_bands, -1)
    provenance, uncertainty = job.provenance.reshape(-1), job.uncertainty.reshape(-1)
    for start in range(0, holes.size, policy.chunk_px):
        chunk = holes[start : start + policy.chunk_px]
        sampler = grid.sampler(chunk, nearest=not policy.bilinear)
        # Every donor over the whole chunk, weight 0 where it is not usable: dense arithmetic beats
        # gathering and scattering each donor's own pixels.
        total = np.zeros(chunk.size, dtype=np.float32)
        best = np.zeros(chunk.size, dtype=np.float32)
        choice = np.full(chunk.size, -1, dtype=np.int32)
        first = np.zeros((n_bands, chunk.size), dtype=np.float32)
        second = np.zeros((n_bands, chunk.size), dtype=np.float32)
        misfit = np.zeros(chunk.size, dtype=np.float32)
        for index, donor in enumerate(donors):
            usable = donor.layer.usable.reshape(-1)[chunk]
            if not usable.any():
                continue
            contributed[index] = True
            fields = sampler.read(donor.fields)
            values = np.take(donor.layer.bands.reshape(n_bands, -1), chunk, axis=1)
            predicted = np.multiply(values, donor.gains, dtype=np.float32)
            predicted += fields[:n_bands]
            weight = np.float32(donor.prior) / (fields[n_bands] + noise)
            weight *= usable
            total += weight
            weighted = predicted * weight
            first += weighted
            weighted *= predicted
            second += weighted
            misfit += weight * fields[n_bands]
            # Strictly greater: on a tie the donor met first (nearest in time, then earlier) stays.
            better = weight > best
            best[better] = weight[better]
            choice[better] = index
        done = total > 0
        if not done.any():
            continue
        weights = total[done]
        mean = first[:, done] / weights
        spread = np.maximum(second[:, done] / weights - mean * mean, 0.0).mean(axis=0)
        error = policy.error_scale * np.sqrt(spread + misfit[done] / weights) * job.band_scale
        where = chunk[done]
        filled[:, where] = to_band_values(mean + centre, job.filled.dtype, job.nodata)
        provenance[where] = codes[choice[done]]
        uncertainty[where] = error
    return {d.layer.date for d, used in zip(donors, contributed) if used}
