"""Fill one date's removed pixels from other dates on the same grid, recording where each came from.

Everything here is pure numpy on arrays already read onto one common AOI grid; reading the
donor dates is `gapfill`'s job.

Four methods:

- ``nearest``: a removed pixel takes the value of the donor date nearest in time that is
  usable there. Of two donors equally far (one before, one after), the earlier wins: it was
  acquired before the target, so it cannot show a change that had not happened yet.
- ``median``: a removed pixel takes the per-band median of every usable donor pixel. The
  median vector is usually no single date's pixel, so provenance names the donor whose pixel
  is nearest to it (least sum of squared band differences); ties go to the donor nearest in
  time, then the earlier. Integer medians of an even count are rounded half to even.
- ``nearest-matched``: as ``nearest`` (same donor per pixel, same provenance), but each donor's
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
  `FillResult.corrections` holds the correction of every donor that filled a pixel.
- ``best-pixel``: a best-available-pixel composite. Every usable donor pixel in the window
  gets a score (`PixelScore`): a weighted sum of its distance from that donor's removed
  pixels (clouds and shadows brighten and darken their surroundings beyond the mask's edge;
  the term saturates at `cloud_distance_px`), its nearness in days (the ground changes with
  time), and its sensor (Landsat 8/9 OLI over TM, over ETM+ with its SLC-off stripes). Each
  hole takes the pixel of the highest score; ties go to the donor nearest in time, then the
  earlier. Provenance names the chosen donor.

A donor dated on the target date is ignored, like the target itself: provenance is a date
code, so a same-day fill could not be told apart from a kept pixel.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Literal, Sequence

import numpy as np
from scipy import ndimage, stats

from .errors import InvalidInputError
from .scene import date_code  # noqa: F401 - provenance codes; also imported from here
from .options import FILL_METHODS

FillMethod = Literal["nearest", "nearest-matched", "median", "best-pixel"]
GAIN_REFUSED = "none: gain"
"""How a correction refused for its gain (the surface changed) begins its reason."""


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
class MatchPolicy:
    """When and how `nearest-matched` fits a donor onto the target's radiometry."""

    min_shared_px: int = 500
    """Fewer AOI pixels usable on both dates than this: no correction (too few to trust a fit)."""
    min_shared_share: float = 0.02
    """Nor when they are under this share of the AOI: a sliver of overlap may be one land cover only."""
    gain_range: tuple[float, float] = (0.5, 2.0)
    """A fitted gain outside this range on any band: no correction for that donor."""
    sample_px: int = 20_000
    """Shared pixels drawn for the fit, which bounds its memory and time on a large AOI."""
    start_px: int = 300
    """Of those, pixels the repeated-medians start line uses (its cost grows with their square)."""
    outlier_mad: float = 3.0
    """Residuals beyond this many robust standard deviations (1.4826 x MAD) are outliers."""
    seed: int = 0
    """Seed of the subsample, so a fill is repeatable."""


@dataclass(frozen=True)
class Correction:
    """The radiometric correction `nearest-matched` applied to one donor date."""

    date: dt.date
    gains: tuple[float, ...] | None
    """Per band; None when the donor was used as it is."""
    offsets: tuple[float, ...] | None
    """Per band, in the bands' units (DN for Collection 2 Level-2 bands); None when not corrected."""
    shared_px: int
    """AOI pixels usable on both dates: what the fit could draw on."""
    reason: str = ""
    """Why no correction was applied; empty when one was."""

    @property
    def applied(self) -> bool:
        return self.gains is not None

    def offsets_reflectance(self, scale: float, add_offset: float) -> tuple[float, ...] | None:
        """The offsets in reflectance for bands stored as reflectance = DN * scale + add_offset."""
        if self.gains is None or self.offsets is None:
            return None
        # target_dn = g * donor_dn + o  <=>  target_r = g * donor_r + (o * scale + add_offset * (1 - g))
        return tuple(o * scale + add_offset * (1 - g) for g, o in zip(self.gains, self.offsets))

    def describe(self) -> str:
        """One line for a person, e.g. `2024-01-05: gain 1.02, 0.98 offset -310, 95 (4,210 shared px)`."""
        if self.gains is None or self.offsets is None:
            return f"{self.date}: {self.reason}"
        gains = ", ".join(f"{g:.3f}" for g in self.gains)
        offsets = ", ".join(f"{o:.0f}" for o in self.offsets)
        return f"{self.date}: gain {gains} offset {offsets} ({self.shared_px:,} shared px)"


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
    corrections: tuple[Correction, ...] = ()
    """nearest-matched only: the correction of every donor that filled a pixel, nearest first."""


def fill_gaps(
    target: Layer,
    donors: Sequence[Layer],
    inside: np.ndarray,
    method: FillMethod = "nearest",
    window_days: int | None = None,
    nodata: int = 0,
    matching: MatchPolicy = MatchPolicy(),
    scoring: PixelScore = PixelScore(),
) -> FillResult:
    """Fill the target's removed AOI pixels from donor dates within the window.

    Args:
        target: The date to fill; its unusable pixels inside the AOI are the holes.
        donors: Candidate dates on the same grid, in any order.
        inside: (H, W) bool, pixels whose centres lie in the AOI.
        method: One of FILL_METHODS (see the module docstring).
        window_days: Only donors at most this many days from the target count; None for any.
        nodata: The value written where there is no data.
        matching: When and how nearest-matched corrects a donor.
        scoring: How best-pixel ranks donor pixels.

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
    corrections: list[Correction] = []
    if method == "nearest":
        used = _fill_nearest(filled, provenance, holes, ordered)
    elif method == "nearest-matched":
        matcher = _Matcher(target, inside, matching, nodata, corrections)
        used = _fill_nearest(filled, provenance, holes, _matchable_first(ordered, matcher), values=matcher)
    elif method == "median":
        used = _fill_median(filled, provenance, holes, ordered)
    else:
        used = _fill_best(filled, provenance, holes, ordered, target.date, scoring)
    return _result(filled, masked, provenance, inside, holes, method, used, tuple(corrections))


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


def _as_is(donor: Layer, take: np.ndarray) -> np.ndarray:
    return donor.bands[:, take]


def _fill_nearest(
    filled: np.ndarray,
    provenance: np.ndarray,
    holes: np.ndarray,
    ordered: Iterable[Layer],
    values: Callable[[Layer, np.ndarray], np.ndarray] = _as_is,
) -> set[dt.date]:
    """Fill holes donor by donor, nearest first, so each hole keeps the first usable value.

    `values(donor, take)` gives the (B, N) values the donor puts into the `take` pixels.
    """
    remaining = holes.copy()
    used: set[dt.date] = set()
    for donor in ordered:
        if not remaining.any():
            break
        take = remaining & donor.usable
        if take.any():
            filled[:, take] = values(donor, take)
            provenance[take] = date_code(donor.date)
            remaining &= ~take
            used.add(donor.date)
    return used


def _matchable_first(ordered: list[Layer], matcher: "_Matcher") -> Iterator[Layer]:
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
        if matcher.correction(donor).reason.startswith(GAIN_REFUSED):
            deferred.append(donor)
        else:
            yield donor
    yield from deferred


class _Matcher:
    """Gives a donor's pixels mapped onto the target's radiometry, recording each correction."""

    def __init__(
        self, target: Layer, inside: np.ndarray, policy: MatchPolicy, nodata: int, record: list[Correction]
    ) -> None:
        self.target = target
        self.clear = inside & target.usable
        self.inside_px = int(inside.sum())
        self.policy = policy
        self.nodata = nodata
        self.record = record
        self._fits: dict[dt.date, Correction] = {}

    def correction(self, donor: Layer) -> Correction:
        """The donor's fit, computed once."""
        if donor.date not in self._fits:
            self._fits[donor.date] = self.fit(donor)
        return self._fits[donor.date]

    def __call__(self, donor: Layer, take: np.ndarray) -> np.ndarray:
        correction = self.correction(donor)
        self.record.append(correction)
        values = donor.bands[:, take]
        if not correction.applied:
            return values
        # float32 holds a 16-bit band value and its correction to well under half a unit.
        gains = np.array(correction.gains, dtype=np.float32)[:, None]
        offsets = np.array(correction.offsets, dtype=np.float32)[:, None]
        return _to_band_values(values * gains + offsets, donor.bands.dtype, self.nodata)

    def fit(self, donor: Layer) -> Correction:
        """Per-band robust line donor -> target on a subsample of the pixels clear on both."""
        shared = self.clear & donor.usable
        shared_px = int(shared.sum())
        policy = self.policy
        needed = max(policy.min_shared_px, int(np.ceil(policy.min_shared_share * self.inside_px)))
        if shared_px < needed:
            return Correction(
                donor.date, None, None, shared_px,
                f"none: too few shared clear pixels ({shared_px:,} < {needed:,})",
            )
        rng = np.random.default_rng(policy.seed)
        # Flat indices (row-major, like np.nonzero) cost a fraction of row/column pairs.
        where = np.flatnonzero(shared)
        if shared_px > policy.sample_px:
            where = where[rng.choice(shared_px, size=policy.sample_px, replace=False)]
        n_bands = donor.bands.shape[0]
        x = donor.bands.reshape(n_bands, -1)[:, where].astype(np.float64)
        y = self.target.bands.reshape(n_bands, -1)[:, where].astype(np.float64)
        start = rng.choice(x.shape[1], size=min(policy.start_px, x.shape[1]), replace=False)
        gains, offsets = [], []
        low, high = policy.gain_range
        for band, (xb, yb) in enumerate(zip(x, y)):
            if np.ptp(xb) == 0:  # one value only: no slope to fit
                return Correction(donor.date, None, None, shared_px, f"none: band {band + 1} is constant on the donor")
            gain, offset = _robust_line(xb, yb, start, policy.outlier_mad)
            if not low <= gain <= high:
                return Correction(
                    donor.date, None, None, shared_px,
                    f"{GAIN_REFUSED} {gain:.2f} on band {band + 1} is outside {low:g}..{high:g}",
                )
            gains.append(gain)
            offsets.append(offset)
        return Correction(donor.date, tuple(gains), tuple(offsets), shared_px)


def _robust_line(x: np.ndarray, y: np.ndarray, start: np.ndarray, outlier_mad: float, rounds: int = 5) -> tuple[float, float]:
    """(gain, offset) of y = gain * x + offset: least squares on the inliers of a robust start line."""
    if np.ptp(x[start]) > 0:
        gain, offset = stats.siegelslopes(y[start], x[start])
    else:  # the start sample happens to be flat: begin from the plain least-squares line
        gain, offset = _least_squares(x, y)
    inliers = None
    for _ in range(rounds):
        residual = y - (gain * x + offset)
        centre = np.median(residual)
        spread = 1.4826 * np.median(np.abs(residual - centre))
        picked = np.abs(residual - centre) <= outlier_mad * spread
        if inliers is not None and np.array_equal(picked, inliers):
            break
        if picked.sum() < 2 or np.ptp(x[picked]) == 0:
            break  # nothing left to fit a slope on: keep the line so far
        inliers = picked
        gain, offset = _least_squares(x[inliers], y[inliers])
    return float(gain), float(offset)


def _least_squares(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    mean_x, mean_y = x.mean(), y.mean()
    dx = x - mean_x
    gain = float((dx * (y - mean_y)).sum() / (dx * dx).sum())
    return gain, float(mean_y - gain * mean_x)


def _to_band_values(values: np.ndarray, dtype: np.dtype, nodata: int) -> np.ndarray:
    """Cast corrected values to the band type: integers rounded, clipped, and never `nodata`."""
    if not np.issubdtype(dtype, np.integer):
        return values.astype(dtype)
    info = np.iinfo(dtype)
    # A valid pixel must not become nodata: at either end of the range, clip short of it;
    # in between (an unusual nodata), step off it upwards.
    low = info.min + 1 if nodata == info.min else info.min
    high = info.max - 1 if nodata == info.max else info.max
    out = np.clip(np.rint(values), low, high)
    out[out == nodata] = nodata + 1
    return out.astype(dtype)


def _fill_best(
    filled: np.ndarray,
    provenance: np.ndarray,
    holes: np.ndarray,
    ordered: list[Layer],
    target_date: dt.date,
    scoring: PixelScore,
) -> set[dt.date]:
    """Fill each hole from the usable donor pixel of the highest `PixelScore`.

    One donor at a time keeps memory at a few (H, W) arrays whatever the number of donors.
    """
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
            filled[:, take] = donor.bands[:, take]
            provenance[take] = date_code(donor.date)
            used.add(donor.date)
    return used


def _pixel_score(donor: Layer, target_date: dt.date, scoring: PixelScore) -> np.ndarray:
    """(H, W) score of every pixel of one donor (meaningful where it is usable)."""
    cap = scoring.cloud_distance_px
    if donor.usable.all():
        distance = np.full(donor.usable.shape, cap)  # nothing removed anywhere: as far as it gets
    else:
        # Euclidean distance (px) of each usable pixel to the nearest unusable one of this donor.
        distance = np.minimum(ndimage.distance_transform_edt(donor.usable), cap)
    days = abs((donor.date - target_date).days)
    return (
        scoring.cloud_weight * distance / cap
        + scoring.days_weight * max(0.0, 1.0 - days / scoring.days_scale)
        + scoring.sensor_weight * scoring.sensor(donor.label)
    )


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
    corrections: tuple[Correction, ...] = (),
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
        corrections=corrections,
    )
