"""Fill one date's cloudy AOI pixels from other dates: the I/O around `fill.fill_gaps`.

Donor dates are read onto the target date's grid. For the nearest methods donors are read
nearest-first and reading stops once every hole has a clear pixel, so a mostly clear date
costs a few reads, not the whole window. A donor's bands are read only when its QA shows
it can fill at least one remaining hole.

`read_fill_inputs` reads a target and its donors once into `FillInputs`; `fill_inputs` runs
one method on them, so several methods can be compared on the same arrays (`evaluate`).
"""

from __future__ import annotations

import datetime as dt
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from .aoi import AOI
from .cover import search_dates, workers
from .errors import CloudCoreError, InvalidInputError
from .export import write_cog
from .fill import FILL_METHODS, FillResult, Layer, fill_gaps
from .masking import mask_date
from .options import DEFAULT_FILL_METHOD
from .mlmask import disagreement_map
from .qa import MaskPolicy, removed_mask
from .read import Grid, inside_mask
from .render import SR_OFFSET, SR_SCALE
from .scene import SR_BANDS, DateGroup
from .sources.base import SceneSource
from .stack import DateStack, date_grid, read_date

ReadDate = Callable[..., DateStack]
"""How a date is read onto a grid: `stack.read_date`'s signature (a caller may cache it)."""

DEFAULT_WINDOW_DAYS = 60


@dataclass(frozen=True)
class FilledImage:
    """A target date, masked and gap-filled, on its AOI grid."""

    date: dt.date
    platform: str
    scene_ids: list[str]
    grid: Grid
    inside: np.ndarray
    """Pixels whose centres lie in the AOI."""
    removed: np.ndarray
    """Pixels the mask policy removed on the target date."""
    original: np.ndarray
    """(B, H, W) the target date as observed, clouds and all."""
    result: FillResult
    band_names: tuple[str, ...] = SR_BANDS
    donor_errors: tuple[str, ...] = ()
    """Donor dates that could not be read, with why; they were skipped."""
    disagreement: np.ndarray | None = None
    """QA vs ML mask codes on the target (mlmask.disagreement_map), when the ML mask ran."""

    def write_geotiff(self, path: str | os.PathLike) -> Path:
        """The filled bands and the provenance band as one COG (bands named; SR scale/offset kept)."""
        bands = {name: self.result.filled[i] for i, name in enumerate(self.band_names)}
        bands["provenance"] = self.result.provenance
        return write_cog(
            path, bands, self.grid.transform, self.grid.crs, nodata=0,
            scales={name: SR_SCALE for name in self.band_names},
            offsets={name: SR_OFFSET for name in self.band_names},
        )

    def summary(self) -> dict[str, object]:
        """The JSON record of the `fill` contract."""
        return {
            "date": self.date.isoformat(),
            "masked_pct": self.result.masked_pct,
            "filled_pct": self.result.filled_pct,
            "unfilled_pct": self.result.unfilled_pct,
        }


def _target_group(groups: list[DateGroup], date: dt.date) -> DateGroup:
    on_date = [g for g in groups if g.date == date]
    if on_date:
        # Several platforms on one day (e.g. Landsat 7 and 8): take the one with most scenes.
        return max(on_date, key=lambda g: len(g.scenes))
    if not groups:
        raise InvalidInputError(
            f"No Landsat acquisition over this AOI near {date}: check the AOI and the date, or widen --window-days."
        )
    nearest = sorted({g.date for g in groups}, key=lambda d: abs((d - date).days))[:3]
    raise InvalidInputError(
        f"No acquisition on {date} over this AOI; the nearest are {', '.join(d.isoformat() for d in sorted(nearest))}: "
        "pick one of those (the `cover` command lists them all)."
    )


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


# Methods that take each hole from the nearest usable donor: they never need the donors
# behind the nearest, so reading can stop once every hole has one. nearest-matched is not one:
# it passes over donors it cannot colour-match (a surface that changed) for farther ones.
_NEAREST_FIRST = frozenset({"nearest"})


def fill_date(
    source: SceneSource,
    aoi: AOI,
    date: dt.date,
    window_days: int = DEFAULT_WINDOW_DAYS,
    method: str = DEFAULT_FILL_METHOD,
    policy: MaskPolicy = MaskPolicy(),
    progress: Callable[[int, int], None] | None = None,
) -> FilledImage:
    """Mask the target date and fill its removed AOI pixels from dates within the window."""
    _check_method(method)
    inputs = read_fill_inputs(
        source, aoi, date, window_days, policy, progress=progress, all_donors=method not in _NEAREST_FIRST
    )
    return fill_inputs(inputs, method)


def read_fill_inputs(
    source: SceneSource,
    aoi: AOI,
    date: dt.date,
    window_days: int = DEFAULT_WINDOW_DAYS,
    policy: MaskPolicy = MaskPolicy(),
    progress: Callable[[int, int], None] | None = None,
    all_donors: bool = True,
    read: ReadDate = read_date,
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

    Raises:
        InvalidInputError: A negative window, or no acquisition on `date`.
    """
    if window_days < 0:
        raise InvalidInputError(f"--window-days {window_days} is negative: give a number of days, e.g. 60.")
    window = dt.timedelta(days=window_days)
    groups = search_dates(source, aoi, date - window, date + window)
    target_group = _target_group(groups, date)
    grid = date_grid(target_group, aoi, source, margin_m=policy.buffer_m)
    inside = inside_mask(aoi, grid)
    target_stack = read(target_group, grid, source, bands=SR_BANDS, with_radsat=policy.saturated)
    target_mask = mask_date(target_stack, target_group.platform, policy, grid.pixel_size)
    removed = target_mask.removed
    target = Layer(date=date, bands=target_stack.bands, usable=~removed, label=target_group.platform)

    candidates = sorted((g for g in groups if g is not target_group), key=lambda g: (abs((g.date - date).days), g.date))
    donors, errors = _read_donors(
        candidates, grid, source, policy, holes=removed & inside, stop_when_full=not all_donors, progress=progress, read=read
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


def fill_inputs(inputs: FillInputs, method: str = DEFAULT_FILL_METHOD, **options: object) -> FilledImage:
    """Run one fill method on inputs read by `read_fill_inputs`.

    Args:
        inputs: The target and donors.
        method: One of `fill.FILL_METHODS`.
        **options: Passed on to `fill.fill_gaps` (e.g. `matching`, `scoring`).
    """
    _check_method(method)
    result = fill_gaps(inputs.target, inputs.donors, inputs.inside, method=method, window_days=inputs.window_days, **options)
    return FilledImage(
        date=inputs.target.date,
        platform=inputs.group.platform,
        scene_ids=inputs.group.scene_ids,
        grid=inputs.grid,
        inside=inputs.inside,
        removed=inputs.removed & inputs.inside,
        original=inputs.target.bands,
        result=result,
        donor_errors=inputs.donor_errors,
        disagreement=inputs.disagreement,
    )


def _check_method(method: str) -> None:
    if method not in FILL_METHODS:
        raise InvalidInputError(f"Unknown fill method {method!r}: use one of {', '.join(FILL_METHODS)}.")


def _read_donors(
    candidates: list[DateGroup],
    grid: Grid,
    source: SceneSource,
    policy: MaskPolicy,
    holes: np.ndarray,
    stop_when_full: bool,
    progress: Callable[[int, int], None] | None,
    read: ReadDate = read_date,
) -> tuple[list[Layer], list[str]]:
    """Read candidate donors in batches, nearest first; keep those that can fill a hole."""
    donors: list[Layer] = []
    errors: list[str] = []
    remaining = holes.copy()
    batch = workers()
    done = 0
    with ThreadPoolExecutor(max_workers=batch, thread_name_prefix="donor") as pool:
        for start in range(0, len(candidates), batch):
            if stop_when_full and not remaining.any():
                break
            chunk = candidates[start : start + batch]
            snapshot = remaining.copy()  # the batch reads against one fixed set of holes
            for group, outcome in zip(chunk, pool.map(lambda g: _read_donor(g, grid, source, policy, snapshot, read), chunk)):
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
    group: DateGroup, grid: Grid, source: SceneSource, policy: MaskPolicy, holes: np.ndarray, read: ReadDate = read_date
) -> Layer | str | None:
    """A donor layer; None when it cannot fill any hole; an error text when it failed."""
    try:
        qa_only = read(group, grid, source, with_radsat=policy.saturated)
        usable = ~removed_mask(qa_only.qa, group.platform, policy, qa_only.radsat, grid.pixel_size)
        # QA alone settles it cheaply unless the ML mask alone decides (qa+ml only removes more).
        if policy.kind != "ml" and not (usable & holes).any():
            return None
        # The QA just read is reused: only the six bands are fetched now.
        stack = read(group, grid, source, bands=SR_BANDS, with_radsat=policy.saturated, known=qa_only)
        if policy.needs_ml:
            usable = ~mask_date(stack, group.platform, policy, grid.pixel_size).removed
            if not (usable & holes).any():
                return None
        return Layer(date=group.date, bands=stack.bands, usable=usable, label=group.platform)
    except CloudCoreError as err:
        return str(err)
    except Exception as err:  # noqa: BLE001 - a broken donor is skipped and reported, not fatal
        return f"{type(err).__name__}: {err}"
