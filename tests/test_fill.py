"""Gap filling on tiny hand-built stacks, and its invariants on random ones."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudcore.errors import InvalidInputError
from cloudcore.gapfill.base import Layer
from cloudcore.gapfill.kernel import fill_gaps
from cloudcore.gapfill.registry import FILL_METHODS
from cloudcore.product import date_code

NODATA = 0
TARGET_DATE = dt.date(2024, 1, 10)
T, F = True, False


def layer(date: dt.date, value: int | np.ndarray, usable, bands: int = 1, label: str = "") -> Layer:
    usable = np.array(usable, dtype=bool)
    values = np.broadcast_to(np.asarray(value, dtype=np.uint16), (bands,) + usable.shape).copy()
    return Layer(date=date, bands=values, usable=usable, label=label)


def days(n: int) -> dt.date:
    return TARGET_DATE + dt.timedelta(days=n)


# A 2 x 3 grid: the target keeps two pixels; three donors at -5, +3 and +41 days.
TARGET = layer(TARGET_DATE, 10, [[T, F, F], [F, F, T]])
BEFORE_5 = layer(days(-5), 100, [[T, T, F], [F, T, T]])
AFTER_3 = layer(days(3), 200, [[F, F, T], [F, T, T]])
AFTER_41 = layer(days(41), 300, [[T, T, T], [T, T, T]])
ALL_INSIDE = np.ones((2, 3), dtype=bool)


def test_date_code():
    assert date_code(dt.date(2024, 1, 5)) == 20240105
    assert date_code(dt.date(1999, 12, 31)) == 19991231


def test_nearest_fills_each_hole_from_the_nearest_usable_donor():
    result = fill_gaps(TARGET, [AFTER_41, BEFORE_5, AFTER_3], ALL_INSIDE)

    assert result.filled[0].tolist() == [[10, 100, 200], [300, 200, 10]]
    t, b5, a3, a41 = (date_code(d) for d in (TARGET_DATE, days(-5), days(3), days(41)))
    assert result.provenance.tolist() == [[t, b5, a3], [a41, a3, t]]
    assert result.provenance.dtype == np.uint32
    assert result.masked[0].tolist() == [[10, 0, 0], [0, 0, 10]]
    assert (result.inside_px, result.masked_px, result.filled_px, result.unfilled_px) == (6, 4, 4, 0)
    assert (result.masked_pct, result.filled_pct, result.unfilled_pct) == (66.67, 66.67, 0.0)
    assert result.donors_used == (days(-5), days(3), days(41))
    assert result.method == "nearest"


def test_window_leaves_holes_only_far_donors_could_fill():
    result = fill_gaps(TARGET, [AFTER_41, BEFORE_5, AFTER_3], ALL_INSIDE, window_days=30)

    assert result.filled[0].tolist() == [[10, 100, 200], [NODATA, 200, 10]]
    assert result.provenance[1, 0] == 0
    assert (result.masked_px, result.filled_px, result.unfilled_px) == (4, 3, 1)
    assert result.donors_used == (days(-5), days(3))


def test_nearest_donor_wins_over_a_farther_one_whatever_the_input_order():
    near, far = layer(days(2), 222, [[T]]), layer(days(-20), 999, [[T]])
    target = layer(TARGET_DATE, 1, [[F]])
    for donors in ([near, far], [far, near]):
        result = fill_gaps(target, donors, np.ones((1, 1), bool))
        assert result.filled[0, 0, 0] == 222
        assert result.donors_used == (days(2),)


def test_equally_near_donors_prefer_the_earlier_date():
    target = layer(TARGET_DATE, 1, [[F]])
    result = fill_gaps(target, [layer(days(4), 44, [[T]]), layer(days(-4), 66, [[T]])], np.ones((1, 1), bool))
    assert result.filled[0, 0, 0] == 66
    assert result.provenance[0, 0] == date_code(days(-4))


def test_donors_on_the_target_date_are_never_used():
    target = layer(TARGET_DATE, 1, [[F, F]])
    same_day = layer(TARGET_DATE, 77, [[T, T]], label="landsat-7")
    result = fill_gaps(target, [same_day, target], np.ones((1, 2), bool))
    assert result.filled_px == 0
    assert result.unfilled_px == 2
    assert result.donors_used == ()


def test_outside_the_aoi_is_nodata_and_counts_nothing():
    inside = np.array([[T, T, F], [F, T, T]])
    result = fill_gaps(TARGET, [AFTER_41], inside, nodata=NODATA)

    assert (result.filled[:, ~inside] == NODATA).all()
    assert (result.masked[:, ~inside] == NODATA).all()
    assert (result.provenance[~inside] == 0).all()
    assert (result.inside_px, result.masked_px, result.filled_px) == (4, 2, 2)


def test_empty_aoi_has_no_percentages():
    result = fill_gaps(TARGET, [AFTER_3], np.zeros((2, 3), bool))
    assert (result.masked_pct, result.filled_pct, result.unfilled_pct) == (None, None, None)
    assert (result.provenance == 0).all()


def test_median_equals_numpy_median_and_names_the_closest_donor():
    target = layer(TARGET_DATE, 1, [[F]], bands=2)
    donors = [
        Layer(days(-8), np.array([[[10]], [[5]]], np.uint16), np.array([[T]])),
        Layer(days(3), np.array([[[40]], [[1]]], np.uint16), np.array([[T]])),
        Layer(days(12), np.array([[[20]], [[3]]], np.uint16), np.array([[T]])),
        Layer(days(1), np.array([[[5000]], [[5000]]], np.uint16), np.array([[F]])),  # not usable: ignored
    ]
    result = fill_gaps(target, donors, np.ones((1, 1), bool), method="median")

    expected = np.median(np.array([[10, 5], [40, 1], [20, 3]]), axis=0)
    assert result.filled[:, 0, 0].tolist() == expected.tolist() == [20, 3]
    # (20, 3) is exactly the +12-day pixel: squared distance 0.
    assert result.provenance[0, 0] == date_code(days(12))
    assert result.donors_used == (days(-8), days(3), days(12))
    assert result.method == "median"


def test_median_of_an_even_count_rounds_integer_bands():
    target = layer(TARGET_DATE, 1, [[F]])
    donors = [layer(days(-1), 10, [[T]]), layer(days(2), 13, [[T]])]
    result = fill_gaps(target, donors, np.ones((1, 1), bool), method="median")
    assert np.median([10, 13]) == 11.5
    assert result.filled[0, 0, 0] == 12
    assert result.filled.dtype == np.uint16
    # Both donors are 2.25 away from the median: the one nearer in time is named.
    assert result.provenance[0, 0] == date_code(days(-1))


def test_float_bands_keep_their_dtype():
    target = Layer(TARGET_DATE, np.array([[[0.5, 0.0]]], np.float32), np.array([[T, F]]))
    donor = Layer(days(1), np.array([[[0.25, 0.75]]], np.float32), np.array([[T, T]]))
    result = fill_gaps(target, [donor], np.ones((1, 2), bool))
    assert result.filled.dtype == np.float32
    assert result.filled[0, 0].tolist() == [0.5, 0.75]


def test_unknown_method_names_the_choices():
    with pytest.raises(InvalidInputError, match=r"'mean'.*nearest, nearest-matched, blend-matched, median, best-pixel"):
        fill_gaps(TARGET, [], ALL_INSIDE, method="mean")
    assert FILL_METHODS == ("nearest", "nearest-matched", "blend-matched", "median", "best-pixel")


def test_donor_of_another_shape_is_refused():
    wrong = layer(days(1), 5, [[T, T], [T, T]])
    with pytest.raises(InvalidInputError, match=r"\(1, 2, 2\).*\(1, 2, 3\)"):
        fill_gaps(TARGET, [wrong], ALL_INSIDE)
    with pytest.raises(ValueError):  # generic handlers still catch it
        fill_gaps(TARGET, [layer(days(1), 5, [[T, T, T], [T, T, T]], bands=2)], ALL_INSIDE)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"inside": np.ones((3, 2), bool)}, "AOI mask has shape"),
        ({"window_days": -1}, "negative"),
        ({"nodata": -1}, "does not fit"),
        ({"nodata": 70_000}, "does not fit"),
    ],
)
def test_bad_arguments_are_refused(kwargs, message):
    args = {"inside": ALL_INSIDE, **kwargs}
    with pytest.raises(InvalidInputError, match=message):
        fill_gaps(TARGET, [BEFORE_5], **args)


def test_layer_checks_its_own_shapes():
    with pytest.raises(InvalidInputError, match="usable mask"):
        Layer(TARGET_DATE, np.zeros((1, 2, 2), np.uint16), np.zeros((2, 3), bool))
    with pytest.raises(InvalidInputError, match="bands of shape"):
        Layer(TARGET_DATE, np.zeros((2, 2), np.uint16), np.zeros((2, 2), bool))


# --- invariants on random stacks -------------------------------------------------------------


@st.composite
def stacks(draw):
    """A target, donors on distinct dates within +-60 days, an AOI mask and a window."""
    height, width = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    n_bands = draw(st.integers(1, 3))
    offsets = draw(st.lists(st.integers(-60, 60).filter(bool), max_size=5, unique=True))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))

    def random_layer(date):
        bands = rng.integers(1, 65_536, size=(n_bands, height, width), dtype=np.uint16)
        return Layer(date, bands, rng.random((height, width)) < draw(st.floats(0, 1)))

    target = random_layer(TARGET_DATE)
    donors = [random_layer(days(n)) for n in offsets]
    inside = rng.random((height, width)) < 0.8
    window = draw(st.none() | st.integers(0, 60))
    return target, donors, inside, window


def in_window(donor: Layer, window: int | None) -> bool:
    return window is None or abs((donor.date - TARGET_DATE).days) <= window


def check_common_invariants(target, donors, inside, window, result):
    keep = inside & target.usable
    holes = inside & ~target.usable
    # Kept pixels are never changed and name the target date.
    assert (result.filled[:, keep] == target.bands[:, keep]).all()
    assert (result.provenance[keep] == date_code(TARGET_DATE)).all()
    # Outside the AOI: nodata, no provenance.
    assert (result.filled[:, ~inside] == NODATA).all()
    assert (result.masked[:, ~inside] == NODATA).all()
    assert (result.provenance[~inside] == 0).all()
    # The masked image is the target with its holes emptied.
    assert (result.masked[:, keep] == target.bands[:, keep]).all()
    assert (result.masked[:, holes] == NODATA).all()
    # Counts add up exactly, and the percentages come from them.
    filled = holes & (result.provenance != 0)
    unfilled = holes & (result.provenance == 0)
    assert result.masked_px == int(holes.sum()) == result.filled_px + result.unfilled_px
    assert (result.filled_px, result.unfilled_px) == (int(filled.sum()), int(unfilled.sum()))
    if result.inside_px:
        assert result.masked_pct == round(100 * result.masked_px / result.inside_px, 2)
        assert result.unfilled_pct == round(100 * result.unfilled_px / result.inside_px, 2)
    # Filling never adds holes: what is missing after is a subset of what was missing before.
    missing_after = inside & (result.provenance == 0)
    assert not (missing_after & ~holes).any()
    assert (result.filled[:, missing_after] == NODATA).all()
    # A hole is filled exactly when some donor in the window is usable there.
    reachable = np.zeros_like(holes)
    for donor in donors:
        if in_window(donor, window):
            reachable |= donor.usable
    assert (filled == (holes & reachable)).all()
    # Every filled pixel names a usable donor from inside the window.
    by_code = {date_code(d.date): d for d in donors}
    for row, col in zip(*np.nonzero(filled)):
        donor = by_code[int(result.provenance[row, col])]
        assert donor.usable[row, col]
        assert in_window(donor, window)
    assert list(result.donors_used) == sorted(result.donors_used)


@settings(max_examples=150, deadline=None)
@given(stacks())
def test_nearest_invariants(stack):
    target, donors, inside, window = stack
    result = fill_gaps(target, donors, inside, method="nearest", window_days=window)
    check_common_invariants(target, donors, inside, window, result)

    by_code = {date_code(d.date): d for d in donors}
    for row, col in zip(*np.nonzero(inside & ~target.usable & (result.provenance != 0))):
        donor = by_code[int(result.provenance[row, col])]
        # The value is that donor's pixel, and no usable donor in the window is nearer in time.
        assert (result.filled[:, row, col] == donor.bands[:, row, col]).all()
        distance = abs((donor.date - TARGET_DATE).days)
        assert not any(
            d.usable[row, col] and in_window(d, window) and abs((d.date - TARGET_DATE).days) < distance for d in donors
        )
    named = {by_code[c].date for c in by_code if (result.provenance == c).any()}
    assert set(result.donors_used) == named


@settings(max_examples=100, deadline=None)
@given(stacks())
def test_median_invariants(stack):
    target, donors, inside, window = stack
    result = fill_gaps(target, donors, inside, method="median", window_days=window)
    check_common_invariants(target, donors, inside, window, result)

    for row, col in zip(*np.nonzero(inside & ~target.usable & (result.provenance != 0))):
        pixels = np.array([d.bands[:, row, col] for d in donors if d.usable[row, col] and in_window(d, window)])
        expected = np.rint(np.median(pixels.astype(np.float64), axis=0))
        assert (result.filled[:, row, col] == expected).all()


@settings(max_examples=100, deadline=None)
@given(stacks())
def test_nearest_matched_invariants(stack):
    target, donors, inside, window = stack
    result = fill_gaps(target, donors, inside, method="nearest-matched", window_days=window)
    check_common_invariants(target, donors, inside, window, result)

    # The same donor per pixel as nearest; only the values may be corrected.
    nearest = fill_gaps(target, donors, inside, method="nearest", window_days=window)
    assert (result.provenance == nearest.provenance).all()
    assert result.donors_used == nearest.donors_used
    # One correction per donor that filled, nearest first; uncorrected donors give their own pixels.
    assert {c.date for c in result.corrections} == set(result.donors_used)
    by_date = {c.date: c for c in result.corrections}
    by_code = {date_code(d.date): d for d in donors}
    for row, col in zip(*np.nonzero(inside & ~target.usable & (result.provenance != 0))):
        donor = by_code[int(result.provenance[row, col])]
        if not by_date[donor.date].applied:
            assert (result.filled[:, row, col] == donor.bands[:, row, col]).all()


@settings(max_examples=100, deadline=None)
@given(stacks())
def test_best_pixel_invariants(stack):
    target, donors, inside, window = stack
    result = fill_gaps(target, donors, inside, method="best-pixel", window_days=window)
    check_common_invariants(target, donors, inside, window, result)

    by_code = {date_code(d.date): d for d in donors}
    for row, col in zip(*np.nonzero(inside & ~target.usable & (result.provenance != 0))):
        # The value is the named donor's own pixel.
        donor = by_code[int(result.provenance[row, col])]
        assert (result.filled[:, row, col] == donor.bands[:, row, col]).all()
    named = {by_code[c].date for c in by_code if (result.provenance == c).any()}
    assert set(result.donors_used) == named
    assert result.corrections == ()


def test_matched_fill_on_a_larger_grid_keeps_the_target_and_never_writes_nodata():
    rng = np.random.default_rng(7)
    shape = (40, 40)
    ground = rng.integers(8_000, 20_000, size=(2, *shape)).astype(np.float64)
    target_usable = rng.random(shape) > 0.3
    target = Layer(TARGET_DATE, ground.astype(np.uint16), target_usable)
    donors = [
        Layer(days(n), np.clip(ground * gain + shift, 1, 65_535).astype(np.uint16), rng.random(shape) > 0.2)
        for n, gain, shift in ((-6, 0.9, 400.0), (9, 1.1, -700.0), (20, 1.0, 0.0))
    ]
    inside = np.ones(shape, bool)
    result = fill_gaps(target, donors, inside, method="nearest-matched")
    check_common_invariants(target, donors, inside, None, result)
    assert all(c.applied for c in result.corrections)
    filled = ~target_usable & (result.provenance != 0)
    assert (result.filled[:, filled] != NODATA).all()
    # Corrected back onto the target's ground, to within rounding.
    assert np.abs(result.filled[:, filled].astype(float) - ground[:, filled]).max() <= 2
