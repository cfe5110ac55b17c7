"""Fill one date's removed pixels from other dates on the same grid, recording where each came from.

`fill_gaps` checks the inputs, keeps the target's usable AOI pixels, hands the holes to a fill
method (`cloudcore.gapfill.registry`: one module per method), estimates the error of filled
pixels the method gave no estimate for (`cloudcore.gapfill.uncertainty`) and counts what came
of them.
Pure numpy on arrays already read onto one common AOI grid; reading the dates is
`cloudcore.gapfill.inputs`' job.

A donor dated on the target date is ignored, like the target itself: provenance is a date
code, so a same-day fill could not be told apart from a kept pixel.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from ..product import SR_SCALE, date_code
from .base import Correction, FillJob, FillMethod, Layer
from .registry import get_method
from .uncertainty import estimate_uncertainty


@dataclass(frozen=True)
class FillResult:
    """The target date masked and filled, with where every filled value came from."""

    filled: np.ndarray
    """(B, H, W) same dtype as the target bands; `nodata` where still missing or outside the AOI."""
    masked: np.ndarray
    """(B, H, W) the target with removed pixels (and those outside the AOI) set to `nodata`."""
    provenance: np.ndarray
    """(H, W) uint32 YYYYMMDD of the date each value came from (the target date where kept); 0 where none."""
    uncertainty: np.ndarray
    """(H, W) float32 predicted absolute error in reflectance: 0 where kept, NaN where unfilled or
    outside the AOI; the method's own estimate where it gives one (`blend-matched`), else the
    kernel's (`cloudcore.gapfill.uncertainty`)."""
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
    corrections: tuple[Correction, ...] = ()
    """The matched methods only: the correction of every donor that filled a pixel, nearest first."""


def fill_gaps(
    target: Layer,
    donors: Sequence[Layer],
    inside: np.ndarray,
    method: str | FillMethod = "nearest",
    window_days: int | None = None,
    nodata: int = 0,
    band_scale: float = SR_SCALE,
    **options: Any,
) -> FillResult:
    """Fill the target's removed AOI pixels from donor dates within the window.

    Args:
        target: The date to fill; its unusable pixels inside the AOI are the holes.
        donors: Candidate dates on the same grid, in any order.
        inside: (H, W) bool, pixels whose centres lie in the AOI.
        method: A method's name (`registry.FILL_METHODS`) or a `FillMethod` with its own options.
        window_days: Only donors at most this many days from the target count; None for any.
        nodata: The value written where there is no data.
        band_scale: Reflectance per band unit (Collection 2 Level-2 DN by default), so that
            `FillResult.uncertainty` is in reflectance whatever the bands hold.
        **options: The named method's options, e.g. `matching=MatchPolicy(...)` for
            nearest-matched, `policy=BlendPolicy(...)` for blend-matched or `scoring=PixelScore(...)`
            for best-pixel.

    Raises:
        InvalidInputError: Unknown method or option, negative window, a nodata value the band
            type cannot hold, or a donor or AOI mask whose shape differs from the target's.
    """
    strategy = _with_options(get_method(method), options)
    if window_days is not None and window_days < 0:
        raise InvalidInputError(
            f"Window of {window_days} days is negative: give 0 or more days, or None for any.", parameter="window_days"
        )
    inside = _checked_inside(inside, target)
    _check_nodata(nodata, target.bands.dtype)
    _check_donor_shapes(target, donors)

    keep = inside & target.usable
    holes = inside & ~target.usable
    masked = np.full_like(target.bands, nodata)
    masked[:, keep] = target.bands[:, keep]
    provenance = np.zeros(inside.shape, dtype=np.uint32)
    provenance[keep] = date_code(target.date)
    uncertainty = np.full(inside.shape, np.nan, dtype=np.float32)
    uncertainty[keep] = 0.0

    job = FillJob(
        target=target,
        donors=_donors_in_window(target, donors, window_days),
        inside=inside,
        holes=holes,
        filled=masked.copy(),
        provenance=provenance,
        uncertainty=uncertainty,
        nodata=nodata,
        band_scale=band_scale,
    )
    used = strategy.fill(job)
    # Whatever a method wrote: NaN where nothing filled, 0 where kept; the kernel's estimate where it gave none.
    job.uncertainty[job.provenance == 0] = np.nan
    job.uncertainty[keep] = 0.0
    estimate_uncertainty(job)
    return _result(job, masked, strategy.name, used)


def _with_options(method: FillMethod, options: dict[str, Any]) -> FillMethod:
    """The method rebuilt with `options` (its constructor's keyword arguments), if any."""
    if not options:
        return method
    try:
        return type(method)(**options)
    except TypeError as err:
        raise InvalidInputError(
            f"Fill method {method.name!r} takes no option(s) {', '.join(sorted(options))}: {err}.", parameter="method"
        ) from err


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


def _result(job: FillJob, masked: np.ndarray, method: str, used: set[dt.date]) -> FillResult:
    inside_px = int(job.inside.sum())
    masked_px = int(job.holes.sum())
    filled_px = int((job.holes & (job.provenance != 0)).sum())
    unfilled_px = masked_px - filled_px

    def pct(count: int) -> float | None:
        return round(100.0 * count / inside_px, 2) if inside_px else None

    return FillResult(
        filled=job.filled,
        masked=masked,
        provenance=job.provenance,
        uncertainty=job.uncertainty,
        masked_pct=pct(masked_px),
        filled_pct=pct(filled_px),
        unfilled_pct=pct(unfilled_px),
        method=method,
        donors_used=tuple(sorted(used)),
        inside_px=inside_px,
        masked_px=masked_px,
        filled_px=filled_px,
        unfilled_px=unfilled_px,
        corrections=tuple(job.corrections),
    )
