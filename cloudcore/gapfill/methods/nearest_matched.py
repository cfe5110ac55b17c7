"""``nearest-matched``: as ``nearest`` (same donor per pixel, same provenance), but each donor's
pixels are first mapped onto the target's radiometry, per band, by ``target = gain * donor
+ offset``: dates differ by sun angle, haze and season, and an unmatched donor shows as a
patch with a seam around it. The line is fitted on AOI pixels usable on both dates (a
fixed-seed random subsample of at most `MatchPolicy.sample_px`, so the cost is bounded and
a fill repeatable): a repeated-medians (Siegel) line on a few hundred of them, which
ignores up to half of the pixels being outliers, picks the inliers (residual within
`MatchPolicy.outlier_mad` robust standard deviations), and least squares on those gives the
line, re-picking inliers until they settle. Least squares on the inliers rather than a
Theil-Sen line throughout: Collection 2 DN come in coarse steps on flat ground (the demo's
in steps of 32), and pairwise slopes of such steps pile up at exactly 1, pulling a median of
slopes there. On the demo's snow-free partly cloudy dates Theil-Sen left the seam 28 % below
``nearest`` but the error 7 % above; least squares on the inliers cut both (seam -42 %,
error -7 %). No correction is applied, and the result says
why, when the dates share fewer than `MatchPolicy.min_shared_px` pixels or
`min_shared_share` of the AOI, or a gain falls outside `MatchPolicy.gain_range` (a fit that
wild means the dates differ in kind, e.g. snow on one of them, not in brightness). Corrected
integer values are rounded and clipped to the band type's range, never onto `nodata`.
Donors whose fit is refused for its gain fill last: a hole takes the nearest donor that could
be matched, and an unmatched donor only where no matched one is usable. (On the demo this
is what makes the method work: winter dates next to a date with snow that came or went.)
`FillResult.corrections` holds the correction of every donor that filled a pixel. The fit
itself is `cloudcore.gapfill.matching`, shared with ``blend-matched``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import ClassVar

import numpy as np

from ..base import FillJob, FillMethod, Layer
from ..matching import GAIN_REFUSED, Matcher, MatchPolicy
from .nearest import fill_nearest_first

__all__ = ["GAIN_REFUSED", "MatchPolicy", "NearestMatched", "matchable_first"]


class NearestMatched(FillMethod):
    name: ClassVar[str] = "nearest-matched"
    description: ClassVar[str] = "the nearest clear date whose colours can be matched to the target's, matched"
    # Not nearest-first: it passes over donors it cannot colour-match (a surface that changed) for farther ones.
    needs_all_donors: ClassVar[bool] = True

    def __init__(self, matching: MatchPolicy | None = None) -> None:
        self.matching = MatchPolicy() if matching is None else matching

    def fill(self, job: FillJob) -> set[dt.date]:
        matcher = Matcher(job, self.matching)

        def values(donor: Layer, take: np.ndarray) -> np.ndarray:
            job.corrections.append(matcher.correction(donor))
            return matcher.values(donor, take)

        return fill_nearest_first(job, matchable_first(job.donors, matcher), values=values)


def matchable_first(ordered: list[Layer], matcher: Matcher) -> Iterator[Layer]:
    """Donors whose colours map onto the target's first (nearest first), then the rest.

    Only a fit refused for its gain defers a donor; one refused for too few shared clear
    pixels says nothing about the donor (the target is simply too cloudy to judge it).

    A donor whose fit is refused differs from the target in more than radiometry (snow that
    came or went, a flood, a harvest): its pixels would stand out even after matching, so it
    only fills what no matchable donor in the window can.
    """
    # A generator: the nearest fill stops asking once every hole is filled, so donors past
    # that point are never fitted (the fit is most of this method's cost).
    deferred = []
    for donor in ordered:
        if matcher.refused_for_gain(donor):
            deferred.append(donor)
        else:
            yield donor
    yield from deferred
