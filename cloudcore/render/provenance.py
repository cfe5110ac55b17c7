"""The provenance picture: each pixel coloured by how many days its value's date lies from the target.

A diverging ramp, not a colour per date: with a median fill over a year's window 60 dates or
more supply pixels, and 60 distinct colours cannot be told apart or matched to a legend. Days
before the target are blues, days after are oranges to reds, the target itself is grey, and
the farther a date the darker its colour, so the picture reads at a glance (how far in time did
the fill reach, and which side) and `provenance_ramp` is its whole legend.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from ..errors import InvalidInputError
from ..product import date_code

TARGET_GREY: tuple[int, int, int] = (160, 160, 160)
"""Provenance colour of pixels kept from the target date: neutral, so the donors stand out."""

# The two arms of ColorBrewer's diverging RdYlBu (11 classes), each from its lightest to its darkest
# ref: Brewer, colorbrewer2.org, "RdYlBu": earlier donors in blues, later in oranges to reds, and the
# farther from the target the darker and more saturated, so 60 donors of a year read as one smooth
# ramp instead of 60 unrelated colours. Each arm's lightest end stays clearly apart from TARGET_GREY.
_BEFORE_RAMP: tuple[tuple[int, int, int], ...] = ((171, 217, 233), (116, 173, 209), (69, 117, 180), (49, 54, 149))
_AFTER_RAMP: tuple[tuple[int, int, int], ...] = ((253, 174, 97), (244, 109, 67), (215, 48, 39), (165, 0, 38))


def provenance_rgba(
    provenance: np.ndarray, target: int | dt.date | None = None, *, window_days: int | None = None
) -> tuple[np.ndarray, list[tuple[int, tuple[int, int, int]]]]:
    """Colour each pixel by how many days its value's date lies from the target date.

    The target date is TARGET_GREY; earlier dates are blues and later ones oranges to reds, darker
    the farther they are, reaching the darkest at `window_days` (`provenance_ramp` draws the scale).

    Args:
        provenance: (H, W) YYYYMMDD date codes; 0 where no value.
        target: The target date (or its code); None measures days from the middle of the dates
            present and draws no date grey.
        window_days: The days from the target at which the ramp is darkest (farther dates are
            drawn as at the window); None takes the farthest date present.

    Returns:
        The RGBA picture (transparent where 0) and (date code, colour) legend entries in date order.

    Raises:
        InvalidInputError: Not a 2-D array, a code that is no YYYYMMDD date, or a negative window.
    """
    provenance = np.asarray(provenance)
    if provenance.ndim != 2:
        raise InvalidInputError(
            f"Provenance has shape {provenance.shape}: give one (rows, columns) array of date codes."
        )
    if isinstance(target, dt.date):
        target = date_code(target)
    codes = np.unique(provenance[provenance != 0])
    days = days_from(codes, target)
    colours = ramp_colours(days, provenance_window(days, window_days))
    if target is not None:
        colours[codes == target] = TARGET_GREY
    legend = [(int(code), (int(r), int(g), int(b))) for code, (r, g, b) in zip(codes, colours)]

    rgba = np.zeros(provenance.shape + (4,), dtype=np.uint8)
    present = provenance != 0
    if legend:
        rgba[present, :3] = colours[np.searchsorted(codes, provenance[present])]
    rgba[present, 3] = 255
    return rgba, legend


def provenance_ramp(width: int = 256, height: int = 12) -> np.ndarray:
    """The scale of `provenance_rgba` as a horizontal (height, width, 4) RGBA bar: the window's
    days before the target at the left edge, the target's grey in the middle, the window's days
    after at the right edge, linear in days between. The bar is the same for every window: label
    its ends with the window `provenance_rgba` was given."""
    if width < 3 or height < 1:
        raise InvalidInputError(f"A ramp of {width} x {height} px is too small: give at least 3 x 1 (e.g. 256 x 12).")
    # Column centres as a share of the window, -1 (left edge) to +1 (right edge).
    position = (np.arange(width) + 0.5) / width * 2 - 1
    colours = ramp_colours(position, 1.0)
    colours[np.abs(position) * width < 1.5] = TARGET_GREY  # the middle one or two columns
    rgba = np.full((height, width, 4), 255, dtype=np.uint8)
    rgba[..., :3] = colours[None, :, :]
    return rgba


def ramp_colours(days: np.ndarray, window_days: float) -> np.ndarray:
    """(N, 3) uint8 colours of days from the target: blues before (days < 0), oranges to reds from
    0 on, each arm from its lightest (next to the target) to its darkest (at `window_days` and beyond)."""
    days = np.asarray(days, dtype=np.float64).ravel()
    if not window_days > 0:
        raise InvalidInputError(f"Window of {window_days} days is not positive: give the days at which the ramp is darkest.")
    reach = np.clip(np.abs(days) / float(window_days), 0.0, 1.0)
    colours = np.empty((days.size, 3), dtype=np.uint8)
    for arm, where in ((_BEFORE_RAMP, days < 0), (_AFTER_RAMP, days >= 0)):
        anchors = np.asarray(arm, dtype=np.float64)
        steps = np.linspace(0.0, 1.0, len(anchors))
        for channel in range(3):
            colours[where, channel] = np.rint(np.interp(reach[where], steps, anchors[:, channel]))
    return colours


def days_from(codes: np.ndarray, target: int | None) -> np.ndarray:
    """Days from the target code to each YYYYMMDD code; from the middle of the codes' dates when no target."""
    ordinals = np.array([_code_ordinal(int(code)) for code in np.asarray(codes).ravel()], dtype=np.float64)
    if target is not None:
        return ordinals - _code_ordinal(int(target))
    if ordinals.size == 0:
        return ordinals
    return ordinals - (ordinals.min() + ordinals.max()) / 2


def provenance_window(days: np.ndarray, window_days: int | None = None) -> int:
    """The ramp's reach in days: `window_days` as given (at least 1), else the farthest of `days`."""
    if window_days is not None:
        if window_days < 0:
            raise InvalidInputError(f"Window of {window_days} days is negative: give 0 or more days, or None.",
                                    parameter="window_days")
        return max(int(window_days), 1)
    days = np.asarray(days)
    return max(int(np.ceil(np.abs(days).max())), 1) if days.size else 1


def _code_ordinal(code: int) -> int:
    try:
        return dt.date(code // 10_000, code // 100 % 100, code % 100).toordinal()
    except ValueError as err:
        raise InvalidInputError(f"Provenance code {code} is no YYYYMMDD date: give date codes, 0 where none.") from err
