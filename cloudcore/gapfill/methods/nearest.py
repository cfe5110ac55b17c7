"""``nearest``: each hole takes the value of the nearest date in time that is usable there.

Of two donors equally far (one before, one after), the earlier wins: it was acquired before
the target, so it cannot show a change that had not happened yet. The plain replacement of
the classic cloud-masking notebooks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import ClassVar

import numpy as np

from ..base import FillJob, FillMethod, Layer

Values = Callable[[Layer, np.ndarray], np.ndarray]
"""`values(donor, take)`: the (B, N) values a donor puts into the `take` pixels."""


def fill_nearest_first(
    job: FillJob, ordered: Iterable[Layer], values: Values | None = None, holes: np.ndarray | None = None
) -> set[dt.date]:
    """Fill holes (`job.holes`, or those given) donor by donor in the given order, so each hole
    keeps the first usable value."""
    remaining = (job.holes if holes is None else holes).copy()
    used: set[dt.date] = set()
    for donor in ordered:
        if not remaining.any():
            break
        take = remaining & donor.usable
        if take.any():
            job.take(donor, take, None if values is None else values(donor, take))
            remaining &= ~take
            used.add(donor.date)
    return used


class Nearest(FillMethod):
    name: ClassVar[str] = "nearest"
    description: ClassVar[str] = "the nearest clear date, as it is"
    needs_all_donors: ClassVar[bool] = False

    def fill(self, job: FillJob) -> set[dt.date]:
        return fill_nearest_first(job, job.donors)
