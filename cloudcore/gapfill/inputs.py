"""Read a target date and the donor dates that can fill its holes, onto the target's grid.

For the methods that take each hole from the nearest usable donor, donors are read nearest
first and reading stops once every hole has a clear pixel, so a mostly clear date costs a few
reads, not the whole window. A donor's bands are read only when its QA shows it can fill at
least one remaining hole. A donor whose read fails in an expected way (`READ_FAILURES`) is
skipped and reported; anything else raises.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Protocol

import numpy as np

from ..errors import InvalidInputError
from ..geo.aoi import AOI
from ..geo.grid import Grid, inside_mask
from ..io.read import READ_FAILURES
from ..io.stack import DateStack, date_grid, read_date
from ..masks.date_mask import mask_date
from ..masks.ml import disagreement_map
from ..masks.qa import MaskPolicy, removed_mask
from ..product import SR_BANDS
from ..settings import Settings
from ..sources.base import SceneSource
from ..sources.scene import DateGroup
from ..sources.search import search_dates
from .base import Layer

DEFAULT_WINDOW_DAYS = 60
"""Donor dates up to this many days either side: four Landsat 8 repeat cycles, two with 8 and 9."""


class ReadDate(Protocol):
    """How a date is read onto a grid: `cloudcore.io.stack.read_date` (a caller may cache it)."""

    def __call__(
        self,
        group: DateGroup,
        grid: Grid,
        source: SceneSource,
        *,
        settings: Settings,
        bands: Sequence[str] = (),
        with_radsat: bool = False,
        known: DateStack | None = None,
    ) -> DateStack: ...


@dataclass(frozen=True)
class FillInputs:
    """A target date and its donors read onto the target's grid: everything a fill needs."""

    group: DateGroup
    """The target date's scenes."""
    grid: Grid
    inside: np.ndarray
    """Pixels whose centres lie in the AOI."""
    removed: np.ndarray
    """Pixels the mask policy removed on the target date (whole grid)."""
    target: Layer
    donors: tuple[Layer, ...]
    """Dates in the window that can fill at least one hole, nearest first."""
    window_days: int
    donor_errors: tuple[str, ...] = ()
    """Donor dates that could not be read, with why; they were skipped."""
    disagreement: np.ndarray | None = None
    """QA vs ML mask codes on the target (mlmask.disagreement_map), when the ML mask ran."""


def read_fill_inputs(
    source: SceneSource,
    aoi: AOI,
    date: dt.date,
    window_days: int = DEFAULT_WINDOW_DAYS,
    policy: MaskPolicy = MaskPolicy(),
    progress: Callable[[int, int], None] | None = None,
    all_donors: bool = True,
    read: ReadDate = read_date,
    *,
    settings: Settings,
) -> FillInputs:
    """Read the target date and the donors that can fill its holes, once.

    Args:
        source: Where the scenes come from.
        aoi: The area to fill.
        date: The target date; it must have an acquisition over the AOI.
        window_days: Donors at most this many days away are read.
        policy: Which pixels are removed, on the target and on the donors.
        progress: Called as progress(donors_read, donor_candidates).
        all_donors: Read every donor that can fill a hole (what median, best-pixel and a
            comparison of methods need); False stops once every hole has a donor, which is
            all the nearest methods use.
        read: Reads one date onto a grid, as `stack.read_date`; pass a caching one to share
            reads between targets.
        settings: Limits, deadlines and concurrency.

    Raises:
        InvalidInputError: A negative window, or no acquisition on `date`.
    """
    if window_days < 0:
        raise InvalidInputError(
            f"The window of {window_days} days is negative: give a number of days, e.g. {DEFAULT_WINDOW_DAYS}.",
            parameter="window_days",
        )
    window = dt.timedelta(days=window_days)
    groups = search_dates(source, aoi, date - window, date + window, settings=settings)
    target_group = _target_group(groups, date)
    grid = date_grid(target_group, aoi, source, settings=settings, margin_m=policy.buffer_m)
    inside = inside_mask(aoi, grid)
    target_stack = read(target_group, grid, source, settings=settings, bands=SR_BANDS, with_radsat=policy.saturated)
    target_mask = mask_date(target_stack, target_group.platform, policy, grid.pixel_size)
    removed = target_mask.removed
    assert target_stack.bands is not None  # read with SR_BANDS just above
    target = Layer(date=date, bands=target_stack.bands, usable=~removed, label=target_group.platform)

    candidates = sorted((g for g in groups if g is not target_group), key=lambda g: (abs((g.date - date).days), g.date))
    donors, errors = _read_donors(
        candidates, grid, source, policy, holes=removed & inside, stop_when_full=not all_donors, progress=progress,
        read=read, settings=settings,
    )
    return FillInputs(
        group=target_group,
        grid=grid,
        inside=inside,
        removed=removed,
        target=target,
        donors=tuple(donors),
        window_days=window_days,
        donor_errors=tuple(errors),
        disagreement=None if target_mask.ml_removed is None
        else disagreement_map(target_mask.qa_removed, target_mask.ml_removed),
    )


def _target_group(groups: list[DateGroup], date: dt.date) -> DateGroup:
    on_date = [g for g in groups if g.date == date]
    if on_date:
        # Several platforms on one day (e.g. Landsat 7 and 8): take the one with most scenes.
        return max(on_date, key=lambda g: len(g.scenes))
    if not groups:
        raise InvalidInputError(
            f"No Landsat acquisition over this AOI near {date}: check the AOI and the date, or widen the window.",
            parameter="date",
        )
    nearest = sorted({g.date for g in groups}, key=lambda d: abs((d - date).days))[:3]
    raise InvalidInputError(
        f"No acquisition on {date} over this AOI; the nearest are {', '.join(d.isoformat() for d in sorted(nearest))}: "
        "pick one of those (`cover` lists them all).",
        parameter="date",
    )


def _read_donors(
    candidates: list[DateGroup],
    grid: Grid,
    source: SceneSource,
    policy: MaskPolicy,
    holes: np.ndarray,
    stop_when_full: bool,
    progress: Callable[[int, int], None] | None,
    read: ReadDate,
    settings: Settings,
) -> tuple[list[Layer], list[str]]:
    """Read candidate donors in batches, nearest first; keep those that can fill a hole."""
    donors: list[Layer] = []
    errors: list[str] = []
    remaining = holes.copy()
    batch = settings.workers
    done = 0
    with ThreadPoolExecutor(max_workers=batch, thread_name_prefix="donor") as pool:
        for start in range(0, len(candidates), batch):
            if stop_when_full and not remaining.any():
                break
            chunk = candidates[start : start + batch]
            # The batch reads against one fixed set of holes.
            read_one = partial(
                _read_donor, grid=grid, source=source, policy=policy, holes=remaining.copy(), read=read, settings=settings
            )
            for group, outcome in zip(chunk, pool.map(read_one, chunk)):
                done += 1
                if progress:
                    progress(done, len(candidates))
                if isinstance(outcome, str):
                    errors.append(f"{group.date} ({group.platform}): {outcome}")
                elif outcome is not None:
                    donors.append(outcome)
                    if stop_when_full:  # the other methods weigh every donor, so only nearest-first narrows the holes
                        remaining &= ~outcome.usable
    return donors, errors


def _read_donor(
    group: DateGroup,
    grid: Grid,
    source: SceneSource,
    policy: MaskPolicy,
    holes: np.ndarray,
    read: ReadDate,
    settings: Settings,
) -> Layer | str | None:
    """A donor layer; None when it cannot fill any hole; an error text when its read failed."""
    try:
        qa_only = read(group, grid, source, settings=settings, with_radsat=policy.saturated)
        usable = ~removed_mask(qa_only.qa, group.platform, policy, qa_only.radsat, grid.pixel_size)
        # QA alone settles it cheaply unless the ML mask alone decides (qa+ml only removes more).
        if policy.kind != "ml" and not (usable & holes).any():
            return None
        # The QA just read is reused: only the six bands are fetched now.
        stack = read(group, grid, source, settings=settings, bands=SR_BANDS, with_radsat=policy.saturated, known=qa_only)
        if policy.needs_ml:
            usable = ~mask_date(stack, group.platform, policy, grid.pixel_size).removed
            if not (usable & holes).any():
                return None
        assert stack.bands is not None  # read with SR_BANDS just above
        return Layer(date=group.date, bands=stack.bands, usable=usable, label=group.platform)
    except READ_FAILURES as err:
        return str(err)
