"""Which clear real date is filled under which real mask (`evaluation.real`): pure choices on QA.

- Targets: dates with at least `CLEAR_PCT` % of the window usable under the mask policy and
  at most `MAX_TARGET_SNOW_PCT` % flagged snow, up to `targets` of them spread evenly over
  the record. A snow-covered date is left out: filled from snow-free neighbours, every method
  misses by the whole snow (on the LCMAP site one snowy March date alone gave an RMSE of 0.7,
  four times the pooled error of all other targets), which measures whether snow came or went,
  not the fill.
- `cloud` masks: the pixels the policy removes (no data left out) on a date with
  `PARTLY_CLOUDY_PCT` % of the window removed and at most `MASK_FILL_PCT` % no data, so the
  stamp is a whole cloud and its shadow, not one cut by stripes or a scene edge.
- `slc_off` masks: the no data of a Landsat 7 date from the scan line corrector's failure on
  (`SLC_FAILURE`) with `SLC_OFF_FILL_PCT` % of the window no data, stamped on targets of the
  other sensors, whose swaths have no stripes.
- Pairs: each target (oldest first) takes a mask date more than `window_days` away where
  there is one (a mask date inside the window would be a donor cloudy exactly where the holes
  are), nearest in day of year (clouds and sun of the same season), the least used so far,
  then the earlier.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidInputError
from ..io.stack import DateStack
from ..masks.qa import MaskPolicy
from ..product import SLC_FAILURE
from ..sources.scene import DateGroup

CLEAR_PCT = 99.0
"""A target has at least this share (%) of the window usable under the mask policy."""
MAX_TARGET_SNOW_PCT = 1.0
"""A target has at most this share (%) of the window flagged snow (QA_PIXEL bit 5)."""
PARTLY_CLOUDY_PCT: tuple[float, float] = (20.0, 80.0)
"""Window share (%) the mask policy removes on a date whose cloud mask is stamped, both ends included."""
MASK_FILL_PCT = 1.0
"""At most this share (%) of the window may be no data on a date whose cloud mask is stamped."""
SLC_OFF_FILL_PCT: tuple[float, float] = (1.0, 80.0)
"""Window share (%) of no data on a Landsat 7 SLC-off date whose stripes are stamped."""
SLC_OFF_PLATFORM = "landsat-7"


@dataclass(frozen=True)
class RealDate:
    """One real date on the window: its QA, and what the mask policy makes of it."""

    index: int
    """Position in the record, oldest first."""
    group: DateGroup
    stack: DateStack
    """Its QA on the window (reused when its bands are read)."""
    removed: np.ndarray
    """(H, W) pixels the mask policy removes (no data included)."""
    fill: np.ndarray
    """(H, W) no data."""
    removed_pct: float
    fill_pct: float
    snow_pct: float
    """Window shares (%), of the AOI's pixels."""

    @property
    def date(self) -> dt.date:
        return self.group.date


@dataclass(frozen=True)
class Variant:
    """One kind of stamped mask and the (target, mask date) pairs it is measured on."""

    key: str
    title: str
    description: str
    stamp: Callable[[RealDate], np.ndarray]
    """The (H, W) pixels a mask date makes unusable on a target."""
    pairs: tuple[tuple[RealDate, RealDate], ...]
    """(target, mask date), oldest target first."""
    note: str | None = None
    """Why nothing is measured, when nothing is."""


def plan_variants(dates: list[RealDate], name: str, targets: int, window_days: int, policy: MaskPolicy) -> list[Variant]:
    """The `cloud` and `slc_off` variants on these dates.

    Raises:
        InvalidInputError: No clear date, or no partly cloudy date to take a mask from.
    """
    clear = [d for d in dates if 100.0 - d.removed_pct >= CLEAR_PCT and d.snow_pct <= MAX_TARGET_SNOW_PCT]
    low, high = PARTLY_CLOUDY_PCT
    cloudy = [d for d in dates if low <= d.removed_pct <= high and d.fill_pct <= MASK_FILL_PCT]
    striped = [
        d for d in dates
        if d.group.platform == SLC_OFF_PLATFORM and d.date >= SLC_FAILURE
        and SLC_OFF_FILL_PCT[0] <= d.fill_pct <= SLC_OFF_FILL_PCT[1]
    ]
    if not clear:
        best = max((100.0 - d.removed_pct for d in dates), default=0.0)
        raise InvalidInputError(
            f"No date in {name!r} has {CLEAR_PCT:g} % of the window clear under the mask ({policy.describe()}) and "
            f"at most {MAX_TARGET_SNOW_PCT:g} % snow ({_count(len(dates), 'date')} read, the clearest {best:.1f} % clear): "
            "a mask can only be stamped on a clear date. Add clear dates to the folder, or evaluate another area."
        )
    if not cloudy:
        raise InvalidInputError(
            f"No date in {name!r} has {low:g}-{high:g} % of the window removed by the mask ({policy.describe()}) "
            f"with at most {MASK_FILL_PCT:g} % no data ({_count(len(dates), 'date')} read): there is no real cloud mask to "
            "stamp. Add partly cloudy dates to the folder, or evaluate another area."
        )
    snowy = sum(1 for d in dates if 100.0 - d.removed_pct >= CLEAR_PCT and d.snow_pct > MAX_TARGET_SNOW_PCT)
    left_out = f"; {_count(snowy, 'clear but snowy date')} left out" if snowy else ""
    cloud = Variant(
        key="cloud", title="Simulated cloud",
        description=(
            f"the cloud and shadow mask of a partly cloudy date ({_count(len(cloudy), 'date')} with {low:g}-{high:g} % of the "
            f"window removed and at most {MASK_FILL_PCT:g} % no data) stamped on clear dates ({_count(len(clear), 'date')} at "
            f"least {CLEAR_PCT:g} % clear{left_out})."
        ),
        stamp=lambda d: d.removed & ~d.fill,
        pairs=pair_masks(spread(clear, targets), cloudy, window_days),
    )
    other_sensors = [d for d in clear if d.group.platform != SLC_OFF_PLATFORM]
    note = None
    if not striped:
        note = (f"no Landsat 7 date from {SLC_FAILURE} on has {SLC_OFF_FILL_PCT[0]:g}-{SLC_OFF_FILL_PCT[1]:g} % "
                "of the window without data.")
    elif not other_sensors:
        note = "no clear date of a sensor other than Landsat 7 to stamp the stripes on."
    slc_off = Variant(
        key="slc_off", title="SLC-off stripes",
        description=(
            f"the no-data stripes of a Landsat 7 SLC-off date ({_count(len(striped), 'date')}) stamped on clear dates "
            f"of other sensors ({_count(len(other_sensors), 'date')})."
        ),
        stamp=lambda d: d.fill,
        pairs=() if note else pair_masks(spread(other_sensors, targets), striped, window_days),
        note=note,
    )
    return [cloud, slc_off]


def spread(dates: list[RealDate], count: int) -> list[RealDate]:
    """Up to `count` of the dates (oldest first), evenly spread: the middle one of each of `count` equal runs."""
    if len(dates) <= count:
        return list(dates)
    return [dates[(2 * i + 1) * len(dates) // (2 * count)] for i in range(count)]


def pair_masks(targets: list[RealDate], masks: list[RealDate], window_days: int) -> tuple[tuple[RealDate, RealDate], ...]:
    """Each target with its mask date (see the module docstring for the order of preference)."""
    uses: Counter[int] = Counter()
    pairs = []
    for target in targets:
        candidates = [m for m in masks if m.date != target.date]
        if not candidates:
            continue

        def rank(mask: RealDate, target: RealDate = target) -> tuple[bool, int, int, dt.date]:
            days = abs((mask.date - target.date).days)
            return (days <= window_days, uses[mask.index], doy_distance(mask.date, target.date), mask.date)

        chosen = min(candidates, key=rank)
        uses[chosen.index] += 1
        pairs.append((target, chosen))
    return tuple(pairs)


def doy_distance(a: dt.date, b: dt.date) -> int:
    """Days between the two dates' days of year, around the year's end."""
    days = abs(a.timetuple().tm_yday - b.timetuple().tm_yday)
    return min(days, 365 - days)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
