"""Fill one date's removed pixels from other dates on the same grid, recording where each came from.

Everything here is pure numpy on arrays already read onto one common AOI grid; reading the
donor dates is `gapfill`'s job.

Two methods:

- ``nearest``: a removed pixel takes the value of the donor date nearest in time that is
  usable there. Of two donors equally far (one before, one after), the earlier wins: it was
  acquired before the target, so it cannot show a change that had not happened yet.
- ``median``: a removed pixel takes the per-band median of every usable donor pixel. The
  median vector is usually no single date's pixel, so provenance names the donor whose pixel
  is nearest to it (least sum of squared band differences); ties go to the donor nearest in
  time, then the earlier. Integer medians of an even count are rounded half to even.

A donor dated on the target date is ignored, like the target itself: provenance is a date
code, so a same-day fill could not be told apart from a kept pixel.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal, Sequence

import numpy as np

from .errors import InvalidInputError

FillMethod = Literal["nearest", "median"]
FILL_METHODS: tuple[str, ...] = ("nearest", "median")


@dataclass(frozen=True)
class Layer:
    """One date on the common grid: its bands and which of its pixels may be used."""

    date: dt.date
    bands: np.ndarray
    """(B, H, W) surface reflectance DN (uint16, Landsat C2 L2 scaling) or any numeric dtype."""
    usable: np.ndarray
    """(H, W) bool: valid and not removed by the mask policy."""
    label: str = ""
    """What to call the layer in messages, e.g. its platform."""

    def __post_init__(self) -> None:
        bands = np.asarray(self.bands)
        usable = np.asarray(self.usable, dtype=bool)
        name = self.label or str(self.date)
        if bands.ndim != 3:
            raise InvalidInputError(
                f"Layer {name} has bands of shape {bands.shape}: give a (bands, rows, columns) array."
            )
        if usable.shape != bands.shape[1:]:
            raise InvalidInputError(
                f"Layer {name} has a usable mask of shape {usable.shape} for bands of shape {bands.shape}: "
                f"the mask must be {bands.shape[1:]}."
            )
        object.__setattr__(self, "bands", bands)
        object.__setattr__(self, "usable", usable)


@dataclass(frozen=True)
class FillResult:
    """The target date masked and filled, with where every filled value came from."""

    filled: np.ndarray
    """(B, H, W) same dtype as the target bands; `nodata` where still missing or outside the AOI."""
    masked: np.ndarray
    """(B, H, W) the target with removed pixels (and those outside the AOI) set to `nodata`."""
    provenance: np.ndarray
    """(H, W) uint32 YYYYMMDD of the date each value came from (the target date where kept); 0 where none."""
    masked_pct: float | None
    """AOI pixels removed on the target date (fill and no data included), % of AOI pixels."""
    filled_pct: float | None
    """AOI pixels filled from a donor, % of AOI pixels."""
    unfilled_pct: float | None
    """AOI pixels removed and not filled, % of AOI pixels. All three are None for an empty AOI."""
    method: str
    donors_used: tuple[dt.date, ...]
    """Dates that filled (for median: contributed to) at least one pixel, oldest first."""
    inside_px: int
    """AOI pixels, the denominator of the percentages."""
    masked_px: int
    """Removed AOI pixels; always filled_px + unfilled_px."""
    filled_px: int
    unfilled_px: int


def date_code(d: dt.date) -> int:
    """The date as the integer YYYYMMDD, e.g. 2024-01-05 -> 20240105."""
    return d.year * 10_000 + d.month * 100 + d.day


def fill_gaps(
    target: Layer,
    donors: Sequence[Layer],
    inside: np.ndarray,
    method: FillMethod = "nearest",
    window_days: int | None = None,
    nodata: int = 0,
) -> FillResult:
    """Fill the target's removed AOI pixels from donor dates within the window.

    Args:
        target: The date to fill; its unusable pixels inside the AOI are the holes.
        donors: Candidate dates on the same grid, in any order.
        inside: (H, W) bool, pixels whose centres lie in the AOI.
        method: "nearest" or "median" (see the module docstring).
        window_days: Only donors at most this many days from the target count; None for any.
        nodata: The value written where there is no data.

    Raises:
        InvalidInputError: Unknown method, negative window, a nodata value the band type cannot
            hold, or a donor or AOI mask whose shape differs from the target's.
    """
    if method not in FILL_METHODS:
        raise InvalidInputError(f"Unknown fill method {method!r}: use one of {', '.join(FILL_METHODS)}.")
    if window_days is not None and window_days < 0:
        raise InvalidInputError(f"Window of {window_days} days is negative: give 0 or more days, or None for any.")
    inside = _checked_inside(inside, target)
    _check_nodata(nodata, target.bands.dtype)
    _check_donor_shapes(target, donors)

    ordered = _donors_in_window(target, donors, window_days)
    keep = inside & target.usable
    holes = inside & ~target.usable

    masked = np.full_like(target.bands, nodata)
    masked[:, keep] = target.bands[:, keep]
    provenance = np.zeros(inside.shape, dtype=np.uint32)
    provenance[keep] = date_code(target.date)

    filled = masked.copy()
    fill = _fill_nearest if method == "nearest" else _fill_median
    used = fill(filled, provenance, holes, ordered)
    return _result(filled, masked, provenance, inside, holes, method, used)


def _checked_inside(inside: np.ndarray, target: Layer) -> np.ndarray:
    inside = np.asarray(inside, dtype=bool)
    if inside.shape != target.usable.shape:
        raise InvalidInputError(
            f"The AOI mask has shape {inside.shape} but the target grid is {target.usable.shape}: "
            "build both on the same grid."
        )
    return inside


def _check_nodata(nodata: int, dtype: np.dtype) -> None:
    if not np.issubdtype(dtype, np.integer):
        return  # a float band holds any int nodata closely enough, and NaN too
    info = np.iinfo(dtype)
    if not (float(nodata).is_integer() and info.min <= nodata <= info.max):
        raise InvalidInputError(f"nodata {nodata} does not fit the bands' type {dtype}: choose a value it can hold.")


def _check_donor_shapes(target: Layer, donors: Sequence[Layer]) -> None:
    for donor in donors:
        if donor.bands.shape != target.bands.shape:
            name = f"{donor.date} ({donor.label})" if donor.label else str(donor.date)
            raise InvalidInputError(
                f"Donor {name} has bands of shape {donor.bands.shape} but the target "
                f"{target.date} has {target.bands.shape}: read every date onto the target's grid and bands."
            )


def _donors_in_window(target: Layer, donors: Sequence[Layer], window_days: int | None) -> list[Layer]:
    """Donors that may fill, nearest in time first, the earlier of two equally near first."""

    def distance(layer: Layer) -> int:
        return abs((layer.date - target.date).days)

    eligible = [
        d for d in donors if d.date != target.date and (window_days is None or distance(d) <= window_days)
    ]
    # sorted() is stable, so two donors on one date keep the caller's order.
    return sorted(eligible, key=lambda d: (distance(d), d.date))


def _fill_nearest(filled: np.ndarray, provenance: np.ndarray, holes: np.ndarray, ordered: list[Layer]) -> set[dt.date]:
    """Fill holes donor by donor, nearest first, so each hole keeps the first usable value."""
    remaining = holes.copy()
    used: set[dt.date] = set()
    for donor in ordered:
        if not remaining.any():
            break
        take = remaining & donor.usable
        if take.any():
            filled[:, take] = donor.bands[:, take]
            provenance[take] = date_code(donor.date)
            remaining &= ~take
            used.add(donor.date)
    return used


def _fill_median(filled: np.ndarray, provenance: np.ndarray, holes: np.ndarray, ordered: list[Layer]) -> set[dt.date]:
    """Fill holes with the per-band median of the usable donors, naming the donor closest to it."""
    if not ordered or not holes.any():
        return set()
    # Work on the hole pixels only, (donors, bands, holes), so memory grows with the holes, not the grid.
    usable = np.stack([d.usable[holes] for d in ordered])
    has_donor = usable.any(axis=0)
    if not has_donor.any():
        return set()
    usable = usable[:, has_donor]
    values = np.stack([d.bands[:, holes][:, has_donor] for d in ordered]).astype(np.float64)
    # Unusable values become +inf: they sort last, so the first `count` sorted values are the usable
    # ones, and their distance to the median is infinite.
    values[~np.broadcast_to(usable[:, None, :], values.shape)] = np.inf
    median = _median_of_first(np.sort(values, axis=0), usable.sum(axis=0))
    distance = ((values - median) ** 2).sum(axis=1)
    # argmin returns the first minimum, and donors are ordered nearest in time first.
    closest = np.argmin(distance, axis=0)

    fillable = np.zeros(holes.shape, dtype=bool)
    fillable[holes] = has_donor
    filled[:, fillable] = _as_band_type(median, filled.dtype)
    codes = np.array([date_code(d.date) for d in ordered], dtype=np.uint32)
    provenance[fillable] = codes[closest]
    return {d.date for d, contributed in zip(ordered, usable.any(axis=1)) if contributed}


def _median_of_first(ordered_values: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Median over axis 0 of the first `count` (>= 1) values of each column, already sorted.

    Much faster than np.nanmedian over a short axis, which falls back to a per-column loop.
    """
    below = ((count - 1) // 2)[None, None, :]
    above = (count // 2)[None, None, :]
    shape = (1,) + ordered_values.shape[1:]
    low = np.take_along_axis(ordered_values, np.broadcast_to(below, shape), axis=0)
    high = np.take_along_axis(ordered_values, np.broadcast_to(above, shape), axis=0)
    return ((low + high) / 2)[0]


def _as_band_type(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Cast medians to the band type; integer bands round to the nearest value."""
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return np.clip(np.rint(values), info.min, info.max).astype(dtype)
    return values.astype(dtype)


def _result(
    filled: np.ndarray,
    masked: np.ndarray,
    provenance: np.ndarray,
    inside: np.ndarray,
    holes: np.ndarray,
    method: str,
    used: set[dt.date],
) -> FillResult:
    inside_px = int(inside.sum())
    masked_px = int(holes.sum())
    filled_px = int((holes & (provenance != 0)).sum())
    unfilled_px = masked_px - filled_px

    def pct(count: int) -> float | None:
        return round(100.0 * count / inside_px, 2) if inside_px else None

    return FillResult(
        filled=filled,
        masked=masked,
        provenance=provenance,
        masked_pct=pct(masked_px),
        filled_pct=pct(filled_px),
        unfilled_pct=pct(unfilled_px),
        method=method,
        donors_used=tuple(sorted(used)),
        inside_px=inside_px,
        masked_px=masked_px,
        filled_px=filled_px,
        unfilled_px=unfilled_px,
    )
