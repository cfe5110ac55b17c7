"""The pictures of a filled date: as observed, masked, gap-filled, where each pixel came from,
and where the QA and ML masks disagree. All with one fixed stretch, so they compare honestly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..gapfill.image import FilledImage
from ..masks.ml import BOTH_REMOVED, ML_ONLY, QA_ONLY, agreement
from ..product import date_code
from .colour import mask_overlay, true_colour
from .provenance import days_from, provenance_ramp, provenance_rgba, provenance_window
from .uncertainty import uncertainty_ramp, uncertainty_rgba, uncertainty_top

HOLE_RGBA = (225, 225, 225, 255)
TOP_SOURCES = 5
"""How many source dates `provenance_top` names before it sums the rest as "other"."""
OTHER_COLOUR: tuple[int, int, int] = (220, 220, 220)
"""The swatch of the "other" entry: a light neutral, as it mixes dates from across the ramp."""


def _rgb_indices(image: FilledImage) -> tuple[int, int, int]:
    names = list(image.band_names)
    return names.index("red"), names.index("green"), names.index("blue")


def filled_picture(image: FilledImage) -> np.ndarray:
    """True colour of the gap-filled date; transparent where unfilled or outside the AOI."""
    r, g, b = _rgb_indices(image)
    filled = image.result.filled
    rgba = true_colour(filled[r], filled[g], filled[b])
    rgba[~image.inside, 3] = 0
    return rgba


@dataclass(frozen=True)
class ComparePictures:
    """What a side-by-side comparison of one date shows (RGBA arrays on the AOI grid)."""

    original: np.ndarray
    """The date as observed, with its clouds."""
    masked: np.ndarray
    """Removed pixels shown as light grey holes (transparent would vanish on a white page)."""
    masked_overlay: np.ndarray
    """The observed date with removed pixels tinted."""
    filled: np.ndarray
    provenance: np.ndarray
    legend: list[tuple[int, tuple[int, int, int]]]
    """(YYYYMMDD, colour) per source date, in date order; the target date in grey."""
    provenance_ramp: np.ndarray
    """The provenance colours' scale: a (12, 256, 4) RGBA bar from `provenance_window_days` before
    the target (left edge) through the target's grey (middle) to as many days after (right edge)."""
    provenance_top: list[tuple[int, tuple[int, int, int], float]]
    """(YYYYMMDD, colour, % of the AOI pixels that have a value) of the largest source dates,
    largest first, then (0, OTHER_COLOUR, %) for all the rest together when they supplied any."""
    provenance_window_days: int
    """The days from the target at either end of `provenance_ramp`."""
    uncertainty: np.ndarray | None = None
    """Each pixel's predicted error (`FillResult.uncertainty`) on `uncertainty_ramp`: pale where
    observed, darker where a fill is less sure; transparent where unfilled or outside the AOI."""
    uncertainty_ramp: np.ndarray | None = None
    """The uncertainty colours' scale: a (12, 256, 4) bar from 0 (left) to `uncertainty_top` (right)."""
    uncertainty_top: float = 0.0
    """The predicted reflectance error at the right end of `uncertainty_ramp`."""
    uncertainty_mean: float | None = None
    """The mean predicted error over the filled pixels; None when nothing was filled."""
    disagreement: np.ndarray | None = None
    """Where QA_PIXEL and the ML mask differ (DISAGREEMENT_COLOURS), when the ML mask ran."""
    agreement: dict | None = None
    """mlmask.agreement of the two masks over the AOI, when the ML mask ran."""


def compare_pictures(image: FilledImage) -> ComparePictures:
    """The pictures of a fill, all with the same fixed stretch so they compare honestly."""
    r, g, b = _rgb_indices(image)
    original = true_colour(image.original[r], image.original[g], image.original[b])
    original[~image.inside, 3] = 0
    masked = original.copy()
    masked[image.removed] = HOLE_RGBA
    target = date_code(image.date)
    sources = np.unique(image.result.provenance[image.result.provenance != 0])
    # The ramp spans the fill's window when the request recorded it, else the farthest date used.
    window = provenance_window(days_from(sources, target), image.request.get("window_days"))
    provenance, legend = provenance_rgba(image.result.provenance, target=target, window_days=window)
    codes = image.disagreement
    top = uncertainty_top(image.result.uncertainty)
    return ComparePictures(
        original=original,
        masked=masked,
        masked_overlay=mask_overlay(original, image.removed),
        filled=filled_picture(image),
        provenance=provenance,
        legend=legend,
        provenance_ramp=provenance_ramp(),
        provenance_top=top_sources(image.result.provenance, image.inside, dict(legend)),
        provenance_window_days=window,
        uncertainty=uncertainty_rgba(image.result.uncertainty, top),
        uncertainty_ramp=uncertainty_ramp(),
        uncertainty_top=top,
        uncertainty_mean=mean_filled_uncertainty(image),
        disagreement=None if codes is None else disagreement_rgba(codes, image.inside),
        agreement=None if codes is None else agreement(codes & QA_ONLY > 0, codes & ML_ONLY > 0, image.inside),
    )


def mean_filled_uncertainty(image: FilledImage) -> float | None:
    """The mean predicted error (reflectance) over the pixels filled from other dates."""
    values = image.result.uncertainty[(image.result.provenance != 0) & image.removed & image.inside]
    values = values[np.isfinite(values)]
    return float(values.mean()) if values.size else None


def top_sources(
    provenance: np.ndarray, inside: np.ndarray, colours: dict[int, tuple[int, int, int]], count: int = TOP_SOURCES
) -> list[tuple[int, tuple[int, int, int], float]]:
    """The `count` dates that supplied most AOI pixels, as (code, colour, % of the AOI pixels with a
    value), largest first (ties: the earlier date), then (0, OTHER_COLOUR, %) for the rest if any."""
    codes, pixels = np.unique(provenance[np.asarray(inside, dtype=bool) & (provenance != 0)], return_counts=True)
    total = int(pixels.sum())
    if not total:
        return []
    order = sorted(range(len(codes)), key=lambda i: (-int(pixels[i]), int(codes[i])))
    top: list[tuple[int, tuple[int, int, int], float]] = [
        (int(codes[i]), colours[int(codes[i])], round(100.0 * int(pixels[i]) / total, 2)) for i in order[:count]
    ]
    rest = sum(int(pixels[i]) for i in order[count:])
    if rest:
        top.append((0, OTHER_COLOUR, round(100.0 * rest / total, 2)))
    return top


DISAGREEMENT_COLOURS: dict[int, tuple[str, tuple[int, int, int]]] = {
    QA_ONLY: ("QA_PIXEL only", (255, 140, 0)),
    ML_ONLY: ("ML model only", (30, 120, 255)),
    BOTH_REMOVED: ("both masks", (200, 200, 200)),
}
"""Code -> (legend label, colour); pixels both masks keep stay transparent."""


def disagreement_rgba(codes: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """A picture of mlmask.disagreement_map codes inside the AOI."""
    rgba = np.zeros(codes.shape + (4,), dtype=np.uint8)
    for code, (_, colour) in DISAGREEMENT_COLOURS.items():
        hit = (codes == code) & inside
        rgba[hit, :3] = colour
        rgba[hit, 3] = 255
    return rgba
