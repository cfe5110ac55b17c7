"""The colour-matched and best-pixel fills on hand-built stacks with known answers."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from cloudcore.errors import InvalidInputError
from cloudcore.gapfill.base import Layer
from cloudcore.gapfill.kernel import fill_gaps
from cloudcore.gapfill.methods.best_pixel import BestPixel, PixelScore
from cloudcore.gapfill.methods.nearest_matched import MatchPolicy, NearestMatched
from cloudcore.gapfill.registry import DEFAULT_METHOD, METHODS, get_method
from cloudcore.product import date_code

TARGET_DATE = dt.date(2024, 6, 10)
SHAPE = (60, 60)
N_BANDS = 3
DN_MIN, DN_MAX = 8_000, 20_000  # reflectance 0.02 .. 0.35: land, not the edges of the uint16 range


def days(n: int) -> dt.date:
    return TARGET_DATE + dt.timedelta(days=n)


def square_hole(shape=SHAPE, top=20, size=20) -> np.ndarray:
    """(H, W) bool: True everywhere but a size x size square."""
    usable = np.ones(shape, dtype=bool)
    usable[top : top + size, top : top + size] = False
    return usable


@pytest.fixture
def ground() -> np.ndarray:
    """The target's cloud-free bands: random land DN, three bands."""
    return np.random.default_rng(1).uniform(DN_MIN, DN_MAX, size=(N_BANDS, *SHAPE))


# Per band: target = GAIN * donor + OFFSET, as a brighter, hazier target date would be.
GAIN = np.array([1.10, 0.92, 1.25])
OFFSET = np.array([-900.0, 1_200.0, -2_500.0])


def donor_from(ground: np.ndarray, noise_dn: float, outlier_share: float, seed: int = 2) -> np.ndarray:
    """The donor date: donor = (target - offset) / gain, plus noise, plus bright outliers (cloud edges)."""
    rng = np.random.default_rng(seed)
    donor = (ground - OFFSET[:, None, None]) / GAIN[:, None, None]
    donor = donor + rng.normal(0, noise_dn, size=donor.shape)
    outliers = rng.random(SHAPE) < outlier_share
    donor[:, outliers] += rng.uniform(3_000, 9_000, size=(N_BANDS, int(outliers.sum())))
    return donor, outliers


def test_matching_recovers_a_known_linear_mapping_despite_outliers(ground):
    donor_bands, outliers = donor_from(ground, noise_dn=60, outlier_share=0.10)
    usable = square_hole()
    target = Layer(TARGET_DATE, np.rint(ground).astype(np.uint16), usable, label="landsat-8")
    donor = Layer(days(8), np.rint(donor_bands).astype(np.uint16), np.ones(SHAPE, bool), label="landsat-9")

    result = fill_gaps(target, [donor], np.ones(SHAPE, bool), method="nearest-matched")

    (correction,) = result.corrections
    assert correction.applied and correction.reason == ""
    assert correction.date == days(8)
    assert correction.shared_px == int(usable.sum())
    np.testing.assert_allclose(correction.gains, GAIN, rtol=0.01)
    np.testing.assert_allclose(correction.offsets, OFFSET, atol=120)  # DN; 120 DN = 0.0033 reflectance
    # The filled hole matches the target's ground to the noise (outlier pixels aside).
    hole = ~usable
    clean = hole & ~outliers
    error = result.filled[:, clean].astype(float) - ground[:, clean]
    assert np.abs(error.mean()) < 30
    assert np.sqrt((error**2).mean()) < 3 * 60 * GAIN.max()
    # The plain nearest fill is off by the whole mapping.
    plain = fill_gaps(target, [donor], np.ones(SHAPE, bool), method="nearest")
    plain_error = plain.filled[:, clean].astype(float) - ground[:, clean]
    assert np.sqrt((plain_error**2).mean()) > 4 * np.sqrt((error**2).mean())
    # Provenance and counts as nearest.
    assert (result.provenance == plain.provenance).all()
    assert (result.filled_px, result.unfilled_px) == (plain.filled_px, plain.unfilled_px)
    assert "gain 1.10" in correction.describe() and "shared px" in correction.describe()


def test_correction_offsets_convert_to_reflectance():
    from cloudcore.gapfill.base import Correction

    correction = Correction(days(1), gains=(1.0, 2.0), offsets=(100.0, 0.0), shared_px=900)
    scale, add = 0.0000275, -0.2
    # Gain 1: the offset is just scaled. Gain 2: DN offset 0 still shifts reflectance by -0.2 * (1 - 2).
    assert correction.offsets_reflectance(scale, add) == pytest.approx((100 * scale, 0.2))
    assert Correction(days(1), None, None, 10, "none").offsets_reflectance(scale, add) is None


def test_too_little_shared_clear_ground_means_no_correction_and_says_so(ground):
    donor_bands, _ = donor_from(ground, noise_dn=60, outlier_share=0.0)
    target_usable = np.zeros(SHAPE, bool)
    target_usable[:10, :30] = True  # 300 clear pixels only
    target = Layer(TARGET_DATE, np.rint(ground).astype(np.uint16), target_usable)
    donor = Layer(days(-3), np.rint(donor_bands).astype(np.uint16), np.ones(SHAPE, bool))

    result = fill_gaps(target, [donor], np.ones(SHAPE, bool), method="nearest-matched")

    (correction,) = result.corrections
    assert not correction.applied
    assert correction.gains is None and correction.offsets is None
    assert correction.shared_px == 300
    assert correction.reason == "none: too few shared clear pixels (300 < 500)"
    assert correction.describe() == f"{days(-3)}: none: too few shared clear pixels (300 < 500)"
    # Uncorrected: the donor's own values, exactly as nearest would give them.
    hole = ~target_usable
    assert (result.filled[:, hole] == donor.bands[:, hole]).all()


def test_the_share_of_the_aoi_counts_too(ground):
    donor_bands, _ = donor_from(ground, noise_dn=60, outlier_share=0.0)
    usable = square_hole()
    target = Layer(TARGET_DATE, np.rint(ground).astype(np.uint16), usable)
    donor = Layer(days(2), np.rint(donor_bands).astype(np.uint16), np.ones(SHAPE, bool))
    # 3,200 shared pixels, but a policy asking for 95 % of the 3,600-pixel AOI.
    result = fill_gaps(target, [donor], np.ones(SHAPE, bool), method="nearest-matched",
                       matching=MatchPolicy(min_shared_share=0.95))
    assert result.corrections[0].reason == "none: too few shared clear pixels (3,200 < 3,420)"


def test_a_method_given_as_an_object_carries_its_options(ground):
    donor_bands, _ = donor_from(ground, noise_dn=60, outlier_share=0.0)
    target = Layer(TARGET_DATE, np.rint(ground).astype(np.uint16), square_hole())
    donor = Layer(days(2), np.rint(donor_bands).astype(np.uint16), np.ones(SHAPE, bool))
    strict = MatchPolicy(min_shared_share=0.95)
    by_object = fill_gaps(target, [donor], np.ones(SHAPE, bool), method=NearestMatched(matching=strict))
    by_name = fill_gaps(target, [donor], np.ones(SHAPE, bool), method="nearest-matched", matching=strict)
    assert by_object.corrections == by_name.corrections
    assert by_object.corrections[0].reason.startswith("none: too few shared clear pixels")
    assert (by_object.filled == by_name.filled).all() and by_object.method == "nearest-matched"
    # An option the method does not take is refused by name, not ignored.
    with pytest.raises(InvalidInputError, match=r"'nearest' takes no option\(s\) matching"):
        fill_gaps(target, [donor], np.ones(SHAPE, bool), method="nearest", matching=strict)
    assert get_method("best-pixel") is METHODS["best-pixel"] and isinstance(METHODS["best-pixel"], BestPixel)
    assert DEFAULT_METHOD in METHODS


def test_a_wild_gain_is_not_applied(ground):
    # A donor that hardly follows the target (snow on one date, say): the fitted gain is near 0.
    donor_bands = np.random.default_rng(5).uniform(DN_MIN, DN_MAX, size=(N_BANDS, *SHAPE))
    target = Layer(TARGET_DATE, np.rint(ground).astype(np.uint16), square_hole())
    donor = Layer(days(4), np.rint(donor_bands).astype(np.uint16), np.ones(SHAPE, bool))
    result = fill_gaps(target, [donor], np.ones(SHAPE, bool), method="nearest-matched")
    (correction,) = result.corrections
    assert not correction.applied
    assert correction.reason.startswith("none: gain ") and "is outside 0.5..2" in correction.reason


def test_corrected_values_never_become_nodata():
    # The target is much darker than the donor: the mapping pushes dark donor pixels below DN 0.
    rng = np.random.default_rng(3)
    donor_bands = rng.uniform(2_000, 20_000, size=(1, *SHAPE))
    target_bands = 0.6 * donor_bands - 3_000 + rng.normal(0, 20, size=donor_bands.shape)
    usable = square_hole()
    target = Layer(TARGET_DATE, np.clip(np.rint(target_bands), 1, None).astype(np.uint16), usable)
    donor = Layer(days(1), np.rint(donor_bands).astype(np.uint16), np.ones(SHAPE, bool))
    result = fill_gaps(target, [donor], np.ones(SHAPE, bool), method="nearest-matched")
    assert result.corrections[0].applied
    hole = ~usable
    assert result.filled[:, hole].min() == 1  # clipped to the lowest valid DN, not onto nodata 0
    assert result.unfilled_px == 0


def test_donors_that_fill_nothing_get_no_correction_record(ground):
    donor_bands, _ = donor_from(ground, noise_dn=60, outlier_share=0.0)
    usable = square_hole()
    target = Layer(TARGET_DATE, np.rint(ground).astype(np.uint16), usable)
    near = Layer(days(1), np.rint(donor_bands).astype(np.uint16), np.ones(SHAPE, bool))
    far = Layer(days(30), np.rint(donor_bands).astype(np.uint16), np.ones(SHAPE, bool))
    result = fill_gaps(target, [far, near], np.ones(SHAPE, bool), method="nearest-matched")
    assert [c.date for c in result.corrections] == [days(1)]
    assert fill_gaps(target, [far, near], np.ones(SHAPE, bool), method="nearest").corrections == ()


# --- best-pixel -------------------------------------------------------------------------------

T, F = True, False


def flat(date: dt.date, value: int, usable, label: str = "landsat-8") -> Layer:
    usable = np.array(usable, dtype=bool)
    return Layer(date, np.full((1, *usable.shape), value, np.uint16), usable, label=label)


def test_best_pixel_prefers_a_donor_far_from_cloud_over_a_nearer_date_at_a_cloud_edge():
    # One hole in the middle of a 1 x 21 strip. The +2-day donor is clear there, but the pixel
    # next to it is cloud; the +10-day donor is clear everywhere.
    hole = np.ones((1, 21), bool)
    hole[0, 10] = False
    edge = np.ones((1, 21), bool)
    edge[0, 11] = False
    target = flat(TARGET_DATE, 500, hole)
    near_edge = flat(days(2), 222, edge)
    far_clear = flat(days(10), 999, np.ones((1, 21), bool))

    result = fill_gaps(target, [near_edge, far_clear], np.ones((1, 21), bool), method="best-pixel")

    # The documented score: the +2-day pixel is 1 px from cloud, the +10-day one 10 px or more.
    s = PixelScore()
    near_score = s.cloud_weight * 1 / 10 + s.days_weight * (1 - 2 / 64) + s.sensor_weight
    far_score = s.cloud_weight * 1 + s.days_weight * (1 - 10 / 64) + s.sensor_weight
    assert far_score > near_score
    assert result.filled[0, 0, 10] == 999
    assert result.provenance[0, 10] == date_code(days(10))
    assert result.donors_used == (days(10),)


def test_best_pixel_takes_the_nearer_date_when_both_are_clear():
    target = flat(TARGET_DATE, 500, [[F]])
    result = fill_gaps(target, [flat(days(12), 999, [[T]]), flat(days(-3), 333, [[T]])], np.ones((1, 1), bool), method="best-pixel")
    assert result.filled[0, 0, 0] == 333
    assert result.provenance[0, 0] == date_code(days(-3))


def test_best_pixel_prefers_oli_over_etm_on_the_same_terms():
    target = flat(TARGET_DATE, 500, [[F]])
    etm = flat(days(-4), 777, [[T]], label="landsat-7")
    oli = flat(days(4), 888, [[T]], label="landsat-8")
    result = fill_gaps(target, [etm, oli], np.ones((1, 1), bool), method="best-pixel")
    assert result.filled[0, 0, 0] == 888  # the earlier date would win a tie; the sensor breaks it
    # With the sensor weight off, the tie goes to the earlier date as documented.
    no_sensor = PixelScore(sensor_weight=0.0)
    result = fill_gaps(target, [etm, oli], np.ones((1, 1), bool), method="best-pixel", scoring=no_sensor)
    assert result.filled[0, 0, 0] == 777


def test_best_pixel_weights_are_parameters():
    hole = np.ones((1, 21), bool)
    hole[0, 10] = False
    edge = np.ones((1, 21), bool)
    edge[0, 11] = False
    target = flat(TARGET_DATE, 500, hole)
    donors = [flat(days(2), 222, edge), flat(days(10), 999, np.ones((1, 21), bool))]
    time_only = PixelScore(cloud_weight=0.0)
    result = fill_gaps(target, donors, np.ones((1, 21), bool), method="best-pixel", scoring=time_only)
    assert result.filled[0, 0, 10] == 222


def test_a_donor_that_cannot_be_matched_fills_only_what_no_matched_donor_can(ground):
    """A nearer date whose surface changed (gain refused) yields to a farther matchable date."""
    usable = square_hole()
    target = Layer(TARGET_DATE, np.rint(ground).astype(np.uint16), usable, label="landsat-8")
    # 4 days away: 'snow' that came: bright and nearly flat, no linear relation to the target.
    snow = np.random.default_rng(5).uniform(30_000, 31_000, size=(N_BANDS, *SHAPE))
    changed = Layer(days(4), np.rint(snow).astype(np.uint16), np.ones(SHAPE, bool), label="landsat-9")
    far_bands, _ = donor_from(ground, noise_dn=40, outlier_share=0.0)
    far_usable = np.ones(SHAPE, bool)
    far_usable[20:30, 20:40] = False  # the far date is cloudy over the top half of the hole
    far = Layer(days(16), np.rint(far_bands).astype(np.uint16), far_usable, label="landsat-8")

    result = fill_gaps(target, [changed, far], np.ones(SHAPE, bool), method="nearest-matched")

    hole = ~usable
    from_far = hole & far_usable
    assert (result.provenance[from_far] == date_code(days(16))).all()
    assert (result.provenance[hole & ~far_usable] == date_code(days(4))).all()
    refused = {c.date: c for c in result.corrections}[days(4)]
    assert not refused.applied and refused.reason.startswith("none: gain")
    # The matched far donor reproduces the target's ground in the hole.
    error = np.abs(result.filled[:, from_far].astype(float) - ground[:, from_far]).mean()
    assert error < 150
    # Plain nearest takes the nearer, changed date everywhere it can.
    plain = fill_gaps(target, [changed, far], np.ones(SHAPE, bool), method="nearest")
    assert (plain.provenance[hole] == date_code(days(4))).all()
