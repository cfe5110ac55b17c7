"""Map a donor date's colours onto the target's: per band, ``target = gain * donor + offset``.

Dates differ by sun angle, haze and season; an unmatched donor shows as a patch with a seam
around it. The line is fitted on AOI pixels usable on both dates (a fixed-seed random
subsample of at most `MatchPolicy.sample_px`, so the cost is bounded and a fill repeatable):
a repeated-medians (Siegel) line on a few hundred of them, which ignores up to half of the
pixels being outliers, picks the inliers (residual within `MatchPolicy.outlier_mad` robust
standard deviations), and least squares on those gives the line, re-picking inliers until
they settle. No correction is applied, and the `Correction` says why, when the dates share
too few clear pixels or a gain falls outside `MatchPolicy.gain_range` (the dates then differ
in kind, e.g. snow on one of them, not in brightness).

Used by ``nearest-matched`` and ``blend-matched`` (`cloudcore.gapfill.methods`); pure numpy.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from .base import Correction, FillJob, Layer

GAIN_REFUSED = "none: gain"
"""How a correction refused for its gain (the surface changed) begins its reason."""


@dataclass(frozen=True)
class MatchPolicy:
    """When and how a donor is fitted onto the target's radiometry."""

    min_shared_px: int = 500
    """Fewer AOI pixels usable on both dates than this: no correction (too few to trust a fit)."""
    min_shared_share: float = 0.02
    """Nor when they are under this share of the AOI: a sliver of overlap may be one land cover only."""
    gain_range: tuple[float, float] = (0.5, 2.0)
    """A fitted gain outside this range on any band: no correction for that donor."""
    sample_px: int = 20_000
    """Shared pixels drawn for the fit, which bounds its memory and time on a large AOI."""
    start_px: int = 300
    """Of those, pixels the repeated-medians start line uses (its cost grows with their square)."""
    outlier_mad: float = 3.0
    """Residuals beyond this many robust standard deviations (1.4826 x MAD) are outliers."""
    seed: int = 0
    """Seed of the subsample, so a fill is repeatable."""


class Matcher:
    """Fits donors onto the target once each; gives their pixels mapped onto the target's radiometry."""

    def __init__(self, job: FillJob, policy: MatchPolicy) -> None:
        self.target = job.target
        self.clear = job.inside & job.target.usable
        self.inside_px = int(job.inside.sum())
        self.policy = policy
        self.nodata = job.nodata
        self._fits: dict[dt.date, Correction] = {}

    def correction(self, donor: Layer) -> Correction:
        """The donor's fit, computed once."""
        if donor.date not in self._fits:
            self._fits[donor.date] = self.fit(donor)
        return self._fits[donor.date]

    def refused_for_gain(self, donor: Layer) -> bool:
        """The fit was refused because the surface changed (not for want of shared pixels)."""
        return self.correction(donor).reason.startswith(GAIN_REFUSED)

    def values(self, donor: Layer, take: np.ndarray) -> np.ndarray:
        """(B, N) the donor's `take` pixels, corrected when its fit was accepted, in the band type."""
        correction = self.correction(donor)
        values = donor.bands[:, take]
        if not correction.applied:
            return values
        # float32 holds a 16-bit band value and its correction to well under half a unit.
        gains = np.array(correction.gains, dtype=np.float32)[:, None]
        offsets = np.array(correction.offsets, dtype=np.float32)[:, None]
        return to_band_values(values * gains + offsets, donor.bands.dtype, self.nodata)

    def fit(self, donor: Layer) -> Correction:
        """Per-band robust line donor -> target on a subsample of the pixels clear on both."""
        shared = self.clear & donor.usable
        shared_px = int(shared.sum())
        policy = self.policy
        needed = max(policy.min_shared_px, int(np.ceil(policy.min_shared_share * self.inside_px)))
        if shared_px < needed:
            return Correction(
                donor.date, None, None, shared_px,
                f"none: too few shared clear pixels ({shared_px:,} < {needed:,})",
            )
        rng = np.random.default_rng(policy.seed)
        # Flat indices (row-major, like np.nonzero) cost a fraction of row/column pairs.
        where = np.flatnonzero(shared)
        if shared_px > policy.sample_px:
            where = where[rng.choice(shared_px, size=policy.sample_px, replace=False)]
        n_bands = donor.bands.shape[0]
        x = donor.bands.reshape(n_bands, -1)[:, where].astype(np.float64)
        y = self.target.bands.reshape(n_bands, -1)[:, where].astype(np.float64)
        start = rng.choice(x.shape[1], size=min(policy.start_px, x.shape[1]), replace=False)
        gains, offsets = [], []
        low, high = policy.gain_range
        for band, (xb, yb) in enumerate(zip(x, y)):
            if np.ptp(xb) == 0:  # one value only: no slope to fit
                return Correction(donor.date, None, None, shared_px, f"none: band {band + 1} is constant on the donor")
            gain, offset = robust_line(xb, yb, start, policy.outlier_mad)
            if not low <= gain <= high:
                return Correction(
                    donor.date, None, None, shared_px,
                    f"{GAIN_REFUSED} {gain:.2f} on band {band + 1} is outside {low:g}..{high:g}",
                )
            gains.append(gain)
            offsets.append(offset)
        return Correction(donor.date, tuple(gains), tuple(offsets), shared_px)


def robust_line(x: np.ndarray, y: np.ndarray, start: np.ndarray, outlier_mad: float, rounds: int = 5) -> tuple[float, float]:
    """(gain, offset) of y = gain * x + offset: least squares on the inliers of a robust start line.

    Least squares on the inliers rather than a Theil-Sen line throughout: Collection 2 DN come
    in coarse steps on flat ground (the demo's in steps of 32), and pairwise slopes of such
    steps pile up at exactly 1, pulling a median of slopes there.
    """
    if np.ptp(x[start]) > 0:
        from scipy import stats  # loaded only when a fill fits a line

        gain, offset = stats.siegelslopes(y[start], x[start])
    else:  # the start sample happens to be flat: begin from the plain least-squares line
        gain, offset = _least_squares(x, y)
    inliers = None
    for _ in range(rounds):
        residual = y - (gain * x + offset)
        centre = np.median(residual)
        spread = 1.4826 * np.median(np.abs(residual - centre))
        picked = np.abs(residual - centre) <= outlier_mad * spread
        if inliers is not None and np.array_equal(picked, inliers):
            break
        if picked.sum() < 2 or np.ptp(x[picked]) == 0:
            break  # nothing left to fit a slope on: keep the line so far
        inliers = picked
        gain, offset = _least_squares(x[inliers], y[inliers])
    return float(gain), float(offset)


def _least_squares(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    mean_x, mean_y = x.mean(), y.mean()
    dx = x - mean_x
    gain = float((dx * (y - mean_y)).sum() / (dx * dx).sum())
    return gain, float(mean_y - gain * mean_x)


def to_band_values(values: np.ndarray, dtype: np.dtype, nodata: int) -> np.ndarray:
    """Cast corrected values to the band type: integers rounded, clipped, and never `nodata`."""
    if not np.issubdtype(dtype, np.integer):
        return values.astype(dtype)
    info = np.iinfo(dtype)
    # A valid pixel must not become nodata: at either end of the range, clip short of it;
    # in between (an unusual nodata), step off it upwards.
    low = info.min + 1 if nodata == info.min else info.min
    high = info.max - 1 if nodata == info.max else info.max
    out = np.clip(np.rint(values), low, high)
    out[out == nodata] = nodata + 1
    return out.astype(dtype)
