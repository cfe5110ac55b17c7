"""``best-pixel``: a best-available-pixel composite.

Every usable donor pixel in the window gets a score (`PixelScore`): a weighted sum of its distance from that donor's removed
pixels (clouds and shadows brighten and darken their surroundings beyond the mask's edge;
the term saturates at `cloud_distance_px`), its nearness in days (the ground changes with
time), and its sensor (Landsat 8/9 OLI over TM, over ETM+ with its SLC-off stripes). Each
hole takes the pixel of the highest score; ties go to the donor nearest in time, then the
earlier. Provenance names the chosen donor.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..base import FillJob, FillMethod, Layer

DEFAULT_SENSOR_SCORES: tuple[tuple[str, float], ...] = (
    ("landsat-9", 1.0),
    ("landsat-8", 1.0),
    ("landsat-5", 0.5),
    ("landsat-4", 0.5),
    ("landsat-7", 0.0),
)
"""OLI (8-9) has a cirrus band and 12-bit data; TM (4-5) has neither; ETM+ (7) since 2003 adds
SLC-off stripes and, late in its life, a drifting overpass time."""


@dataclass(frozen=True)
class PixelScore:
    """How `best-pixel` ranks the usable donor pixels of a hole: the highest score wins.

    score = cloud_weight * min(distance to the donor's nearest removed pixel, cloud_distance_px) / cloud_distance_px
          + days_weight * max(0, 1 - |days from the target| / days_scale)
          + sensor_weight * the sensor's score (by `Layer.label`)

    Each term lies in 0..1. With the defaults a pixel 10 px from any cloud 30 days away
    (0.5 + 0.35 * 0.53 = 0.69) beats one next to a cloud 2 days away (0.05 + 0.34 = 0.39).
    """

    cloud_weight: float = 0.5
    days_weight: float = 0.35
    sensor_weight: float = 0.15
    cloud_distance_px: float = 10.0
    """Distance (pixels) from which a removed pixel no longer matters: 300 m at 30 m pixels,
    beyond the reach of cloud edges and thin shadows the mask misses."""
    days_scale: float = 64.0
    """Days at which the time term reaches 0: four Landsat 8 repeat cycles."""
    sensor_scores: tuple[tuple[str, float], ...] = DEFAULT_SENSOR_SCORES
    other_sensor: float = 0.5
    """Score of a label not in `sensor_scores` (an unnamed layer)."""

    def sensor(self, label: str) -> float:
        return dict(self.sensor_scores).get(label, self.other_sensor)


class BestPixel(FillMethod):
    name: ClassVar[str] = "best-pixel"
    description: ClassVar[str] = "the best-scored clear pixel (far from clouds, near in time, best sensor)"
    needs_all_donors: ClassVar[bool] = True

    def __init__(self, scoring: PixelScore | None = None) -> None:
        self.scoring = PixelScore() if scoring is None else scoring

    def fill(self, job: FillJob) -> set[dt.date]:
        return _fill_best(job, self.scoring)


def _fill_best(job: FillJob, scoring: PixelScore) -> set[dt.date]:
    """Fill each hole from the usable donor pixel of the highest `PixelScore`.

    One donor at a time keeps memory at a few (H, W) arrays whatever the number of donors.
    """
    holes, ordered, target_date = job.holes, job.donors, job.target.date
    if not ordered or not holes.any():
        return set()
    best = np.full(holes.shape, -np.inf)
    choice = np.full(holes.shape, -1, dtype=np.int64)
    for index, donor in enumerate(ordered):
        candidate = holes & donor.usable
        if not candidate.any():
            continue
        score = _pixel_score(donor, target_date, scoring)
        # Strictly better only: on a tie the donor met first (nearest in time, then earlier) stays.
        better = candidate & (score > best)
        best[better] = score[better]
        choice[better] = index
    used: set[dt.date] = set()
    for index, donor in enumerate(ordered):
        take = choice == index
        if take.any():
            job.take(donor, take)
            used.add(donor.date)
    return used


def _pixel_score(donor: Layer, target_date: dt.date, scoring: PixelScore) -> np.ndarray:
    """(H, W) score of every pixel of one donor (meaningful where it is usable)."""
    cap = scoring.cloud_distance_px
    if donor.usable.all():
        distance = np.full(donor.usable.shape, cap)  # nothing removed anywhere: as far as it gets
    else:
        # Euclidean distance (px) of each usable pixel to the nearest unusable one of this donor.
        from scipy import ndimage  # loaded only when a fill scores pixels

        distance = np.minimum(ndimage.distance_transform_edt(donor.usable), cap)
    days = abs((donor.date - target_date).days)
    return (
        scoring.cloud_weight * distance / cap
        + scoring.days_weight * max(0.0, 1.0 - days / scoring.days_scale)
        + scoring.sensor_weight * scoring.sensor(donor.label)
    )


