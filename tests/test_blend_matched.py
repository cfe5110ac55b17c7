"""``blend-matched`` and the per-pixel uncertainty of every fill: known answers on hand-built stacks,
invariants on random ones, and real Landsat 5/7 dates with real clouds and SLC-off stripes."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudcore.gapfill.base import Layer
from cloudcore.gapfill.image import uncertainty_dn
from cloudcore.gapfill.kernel import fill_gaps
from cloudcore.gapfill.matching import MatchPolicy
from cloudcore.gapfill.methods.blend_matched import BlendMatched, BlendPolicy
from cloudcore.gapfill.registry import DEFAULT_METHOD, FILL_METHODS
from cloudcore.masks.qa import removed_mask
from cloudcore.product import SLC_FAILURE, SR_OFFSET, SR_SCALE, date_code

TARGET_DATE = dt.date(2024, 6, 10)
SHAPE = (64, 64)
N_BANDS = 3
CLOUD_DN = 60_000  # what a cloud puts in the target's bands: it must never reach the output
# Per donor: donor = (target - offset) / gain + noise, as dates under another sun and haze would be.
DONORS = (  # (days from the target, gains, offsets in DN, noise in DN)
    (-8, (1.10, 0.92, 1.25), (-900.0, 1_200.0, -2_500.0), 40.0),
    (16, (0.85, 1.05, 0.95), (1_500.0, -400.0, 600.0), 40.0),
    (-24, (1.00, 1.00, 1.00), (300.0, 300.0, 300.0), 40.0),
)


def days(n: int) -> dt.date:
    return TARGET_DATE + dt.timedelta(days=n)


def smooth_ground(seed: int = 1) -> np.ndarray:
    """(B, H, W) float DN of land: smooth fields plus a little texture, reflectance 0.02-0.35."""
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(8_000, 20_000, size=(N_BANDS, 9, 9))
    rows = np.linspace(0, 8, SHAPE[0])
    cols = np.linspace(0, 8, SHAPE[1])
    r0, c0 = np.minimum(rows.astype(int), 7), np.minimum(cols.astype(int), 7)
    fr, fc = (rows - r0)[:, None], (cols - c0)[None, :]
    ground = (coarse[:, r0][:, :, c0] * (1 - fr) * (1 - fc) + coarse[:, r0 + 1][:, :, c0] * fr * (1 - fc)
              + coarse[:, r0][:, :, c0 + 1] * (1 - fr) * fc + coarse[:, r0 + 1][:, :, c0 + 1] * fr * fc)
    return ground + rng.normal(0, 150, size=ground.shape)


def donor_layer(ground: np.ndarray, n_days: int, gains, offsets, noise: float, usable=None, seed: int = 2) -> Layer:
    rng = np.random.default_rng([seed, abs(n_days), n_days < 0])
    bands = (ground - np.array(offsets)[:, None, None]) / np.array(gains)[:, None, None]
    bands = bands + rng.normal(0, noise, size=bands.shape)
    usable = np.ones(SHAPE, bool) if usable is None else usable
    return Layer(days(n_days), np.clip(np.rint(bands), 1, 65_535).astype(np.uint16), usable, label="landsat-8")


def cloudy_target(ground: np.ndarray, holes: np.ndarray) -> Layer:
    bands = np.rint(ground).astype(np.uint16)
    bands[:, holes] = CLOUD_DN
    return Layer(TARGET_DATE, bands, ~holes, label="landsat-9")


def square(top: int, left: int, size: int) -> np.ndarray:
    mask = np.zeros(SHAPE, bool)
    mask[top : top + size, left : left + size] = True
    return mask


def reflectance_rmse(filled: np.ndarray, truth: np.ndarray, where: np.ndarray) -> float:
    error = (filled[:, where].astype(float) - truth[:, where]) * SR_SCALE
    return float(np.sqrt((error**2).mean()))


@pytest.fixture
def ground() -> np.ndarray:
    return smooth_ground()


@pytest.fixture
def stack(ground):
    """A target with a cloud and two SLC-off-like stripes, and three donors differing by known lines."""
    holes = square(16, 16, 24)
    holes[:, 50:53] = True
    holes[5:9, :] = True
    target = cloudy_target(ground, holes)
    donors = [donor_layer(ground, n, g, o, noise) for n, g, o, noise in DONORS]
    return target, donors, holes


def test_the_blend_recovers_the_target_from_donors_under_other_lines(stack, ground):
    target, donors, holes = stack
    result = fill_gaps(target, donors, np.ones(SHAPE, bool), method="blend-matched")

    assert result.method == "blend-matched" and result.unfilled_px == 0
    blend = reflectance_rmse(result.filled, ground, holes)
    nearest = reflectance_rmse(fill_gaps(target, donors, np.ones(SHAPE, bool), method="nearest").filled, ground, holes)
    matched = reflectance_rmse(
        fill_gaps(target, donors, np.ones(SHAPE, bool), method="nearest-matched").filled, ground, holes
    )
    # Each donor alone is off by its line (a few hundred DN); matched, by its noise (40 DN = 0.0011);
    # three matched donors blended average the noise down further.
    assert nearest > 0.01  # measured 0.017
    assert matched < 50 * SR_SCALE  # 0.0012
    assert blend < 0.7 * matched  # 0.0007
    # Every donor contributed, and its recorded line is the one it was made with.
    assert set(result.donors_used) == {days(n) for n, *_ in DONORS}
    by_date = {c.date: c for c in result.corrections}
    assert [c.date for c in result.corrections] == [days(n) for n, *_ in DONORS]  # nearest first
    for n, gains, offsets, _ in DONORS:
        correction = by_date[days(n)]
        assert correction.applied
        np.testing.assert_allclose(correction.gains, gains, rtol=0.02)
        np.testing.assert_allclose(correction.offsets, offsets, atol=250)


def test_provenance_names_the_donor_of_the_largest_weight(ground):
    holes = square(20, 20, 20)
    target = cloudy_target(ground, holes)
    gains, offsets = (1.0,) * N_BANDS, (0.0,) * N_BANDS
    # Equally far: the clean donor weighs more than the noisy one. Nearer: the nearer of two equal ones.
    clean = donor_layer(ground, 10, gains, offsets, noise=20)
    noisy = donor_layer(ground, -10, gains, offsets, noise=600)
    result = fill_gaps(target, [noisy, clean], np.ones(SHAPE, bool), method="blend-matched")
    assert (result.provenance[holes] == date_code(days(10))).all()
    near = donor_layer(ground, 4, gains, offsets, noise=20)
    far = donor_layer(ground, 40, gains, offsets, noise=20)
    result = fill_gaps(target, [far, near], np.ones(SHAPE, bool), method="blend-matched")
    assert (result.provenance[holes] == date_code(days(4))).all()
    assert (result.provenance[~holes] == date_code(TARGET_DATE)).all()


def test_a_hole_no_matched_donor_covers_takes_the_nearest_unmatched_one(ground):
    holes = square(10, 10, 40)
    target = cloudy_target(ground, holes)
    gains, offsets = (1.05, 0.95, 1.0), (200.0, -100.0, 0.0)
    # Clear only over the left half of the cloud (and matched there)...
    left = np.zeros(SHAPE, bool)
    left[:, :30] = True
    matched = donor_layer(ground, 8, gains, offsets, noise=30, usable=left)
    # ... and one whose only clear pixels lie inside the cloud: nothing to match it on.
    inside = holes.copy()
    unmatched = donor_layer(ground, -30, gains, offsets, noise=30, usable=inside)
    result = fill_gaps(target, [matched, unmatched], np.ones(SHAPE, bool), method="blend-matched")

    assert result.unfilled_px == 0
    right = holes & ~left
    assert (result.provenance[holes & left] == date_code(days(8))).all()
    assert (result.provenance[right] == date_code(days(-30))).all()
    # The unmatched donor's own values, as they are, and its correction says why it was not matched.
    assert (result.filled[:, right] == unmatched.bands[:, right]).all()
    (refused,) = [c for c in result.corrections if c.date == days(-30)]
    assert not refused.applied and refused.reason.startswith("none: too few shared clear pixels")
    # The kernel gave those pixels an uncertainty too.
    assert np.isfinite(result.uncertainty[right]).all() and (result.uncertainty[right] > 0).all()


def test_a_donor_whose_gain_is_refused_is_blended_by_its_offset_alone(ground):
    holes = square(16, 16, 24)
    target = cloudy_target(ground, holes)
    brighter = donor_layer(ground, 8, (1.3,) * N_BANDS, (-1_000.0,) * N_BANDS, noise=30)
    strict = MatchPolicy(gain_range=(0.9, 1.1))
    result = fill_gaps(target, [brighter], np.ones(SHAPE, bool), method="blend-matched",
                       policy=BlendPolicy(matching=strict))
    (correction,) = result.corrections
    assert correction.applied and correction.gains == (1.0,) * N_BANDS
    assert correction.reason.startswith("offset only: gain 1.30 on band 1 is outside 0.9..1.1")
    assert "gain 1.000, 1.000, 1.000" in correction.describe() and "offset only" in correction.describe()
    # The median offset (plus the local correction) brings it far closer than the donor as it is.
    raw = reflectance_rmse(brighter.bands.astype(float), ground, holes)
    assert reflectance_rmse(result.filled, ground, holes) < 0.5 * raw
    # Without the offset, it only fills what nothing else can, as it is.
    plain = fill_gaps(target, [brighter], np.ones(SHAPE, bool), method="blend-matched",
                      policy=BlendPolicy(matching=strict, offset_only=False))
    assert not plain.corrections[0].applied
    assert (plain.filled[:, holes] == brighter.bands[:, holes]).all()


def test_a_donor_years_away_still_fills_what_only_it_covers(ground):
    holes = square(10, 10, 30)
    target = cloudy_target(ground, holes)
    part = np.ones(SHAPE, bool)
    part[10:40, 10:25] = False
    near = donor_layer(ground, 8, (1.0,) * 3, (0.0,) * 3, noise=30, usable=part)
    ancient = donor_layer(ground, -3_000, (1.1,) * 3, (100.0,) * 3, noise=30)
    result = fill_gaps(target, [near, ancient], np.ones(SHAPE, bool), method="blend-matched")
    assert result.unfilled_px == 0
    assert (result.provenance[holes & ~part] == date_code(days(-3_000))).all()


def test_uncertainty_is_zero_where_kept_positive_where_filled_and_nan_elsewhere(stack):
    target, donors, holes = stack
    inside = np.ones(SHAPE, bool)
    inside[:, -4:] = False  # outside the AOI
    nothing = square(0, 0, 3) & holes  # holes where no donor has data
    donors = [Layer(d.date, d.bands, d.usable & ~nothing, d.label) for d in donors]
    for method in FILL_METHODS:
        result = fill_gaps(target, donors, inside, method=method)
        u = result.uncertainty
        assert u.dtype == np.float32 and u.shape == SHAPE, method
        kept = inside & ~holes
        filled = inside & holes & (result.provenance != 0)
        assert (u[kept] == 0).all(), method
        assert np.isfinite(u[filled]).all() and (u[filled] > 0).all(), method
        assert np.isnan(u[~inside]).all() and np.isnan(u[nothing & inside]).all(), method
        # An error in reflectance: donors off by a line are off by a few hundredths, not by DN.
        assert 0.0005 < float(u[filled].mean()) < 0.2, method


def test_the_blend_is_deterministic(stack):
    target, donors, _ = stack
    first = fill_gaps(target, donors, np.ones(SHAPE, bool), method="blend-matched")
    second = fill_gaps(target, list(donors), np.ones(SHAPE, bool), method=BlendMatched())
    assert (first.filled == second.filled).all() and (first.provenance == second.provenance).all()
    np.testing.assert_array_equal(first.uncertainty, second.uncertainty)
    assert first.corrections == second.corrections


def test_the_blend_takes_its_policy_as_an_option(stack):
    target, donors, holes = stack
    by_option = fill_gaps(target, donors, np.ones(SHAPE, bool), method="blend-matched",
                          policy=BlendPolicy(days_scale=5.0, bilinear=True))
    by_object = fill_gaps(target, donors, np.ones(SHAPE, bool), method=BlendMatched(BlendPolicy(days_scale=5.0, bilinear=True)))
    default = fill_gaps(target, donors, np.ones(SHAPE, bool), method="blend-matched")
    assert (by_option.filled == by_object.filled).all()
    assert not (by_option.filled[:, holes] == default.filled[:, holes]).all()


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    n_donors=st.integers(0, 4),
    cloud_share=st.floats(0.0, 1.0),
    donor_share=st.floats(0.0, 1.0),
)
def test_fill_invariants_on_random_stacks(seed, n_donors, cloud_share, donor_share):
    rng = np.random.default_rng(seed)
    shape = (24, 20)
    ground = rng.uniform(8_000, 20_000, size=(N_BANDS, *shape))
    holes = rng.random(shape) < cloud_share
    bands = np.rint(ground).astype(np.uint16)
    bands[:, holes] = CLOUD_DN
    target = Layer(TARGET_DATE, bands, ~holes)
    donors = [
        Layer(days(int(rng.integers(-60, 61)) or 1),
              rng.integers(1, 30_000, size=(N_BANDS, *shape)).astype(np.uint16),
              rng.random(shape) < donor_share)
        for _ in range(n_donors)
    ]
    inside = rng.random(shape) < 0.9
    result = fill_gaps(target, donors, inside, method="blend-matched")

    coverable = inside & holes & np.logical_or.reduce([d.usable for d in donors] + [np.zeros(shape, bool)])
    filled = result.provenance != 0
    assert (filled[inside & holes] == coverable[inside & holes]).all()  # nothing unfilled a donor could fill
    assert not (result.filled[:, inside & holes] == CLOUD_DN).all(axis=0)[coverable[inside & holes]].any()
    assert (result.filled[:, inside & holes & ~coverable] == 0).all()  # nodata where nothing could fill
    assert (result.filled[:, ~inside] == 0).all()
    assert (result.uncertainty[inside & ~holes] == 0).all()
    assert (result.uncertainty[coverable] > 0).all()
    assert np.isnan(result.uncertainty[~filled]).all()
    assert result.filled_px + result.unfilled_px == int((inside & holes).sum())


def test_the_geotiff_encoding_of_the_uncertainty_never_meets_nodata():
    u = np.array([[0.0, 1e-6, 0.0123], [np.nan, 2.0, 0.5]], dtype=np.float32)
    dn = uncertainty_dn(u)
    assert dn.dtype == np.uint16
    assert dn[1, 0] == 0  # none: nodata
    assert dn[0, 0] == round(-SR_OFFSET / SR_SCALE) == 7_273 and (dn[np.isfinite(u)] >= 7_273).all()
    assert dn[1, 1] == 65_535  # past the scale's top: clipped
    np.testing.assert_allclose(dn[0, 2] * SR_SCALE + SR_OFFSET, 0.0123, atol=SR_SCALE)


def test_blend_matched_is_the_default():
    assert DEFAULT_METHOD == "blend-matched"


# --- real Landsat 5/7 dates (../shared/data/real/lcmap-espa-046027) ---------------------------------

REAL_BANDS = (3, 2, 1, 4, 5, 7)  # TM/ETM+ SR band numbers of red, green, blue, nir08, swir16, swir22


def _real_stack(folder, target: str, window_days: int = 60):
    """The real window's dates within the window of `target`: {date: (platform, bands, qa)}."""
    import rasterio

    centre = dt.date.fromisoformat(target)
    stack = {}
    for qa_path in sorted((folder / "scenes").glob("*_QA_PIXEL.TIF")):
        match = re.match(r"L[TE]0(\d)_L2SP_\d{6}_(\d{8})_", qa_path.name)
        assert match, qa_path.name
        day = dt.datetime.strptime(match.group(2), "%Y%m%d").date()
        if abs((day - centre).days) > window_days:
            continue
        prefix = qa_path.name[: -len("QA_PIXEL.TIF")]
        with rasterio.open(qa_path) as src:
            qa = src.read(1)
        bands = []
        for number in REAL_BANDS:
            with rasterio.open(qa_path.parent / f"{prefix}SR_B{number}.TIF") as src:
                bands.append(src.read(1))
        stack[day] = (f"landsat-{int(match.group(1))}", np.stack(bands), qa)
    return stack


@pytest.mark.parametrize(
    ("target", "mask_from", "kind"),
    [
        ("2002-09-23", "2002-08-30", "clouds"),  # a clear date under a real cloud and shadow mask
        ("2005-02-19", "2005-02-11", "slc-off"),  # a clear Landsat 5 date under real SLC-off stripes
    ],
)
def test_on_real_dates_the_blend_beats_nearest(real_data, target, mask_from, kind):
    folder = real_data / "lcmap-espa-046027"
    if not folder.is_dir():
        pytest.skip(f"{folder} is missing")
    stack = _real_stack(folder, target)
    day, source = dt.date.fromisoformat(target), dt.date.fromisoformat(mask_from)
    platform, truth, qa = stack.pop(day)
    usable = ~removed_mask(qa, platform)
    assert usable.mean() > 0.99  # the target is clear: the truth is known everywhere
    mask_platform, _, mask_qa = stack[source]
    fill_bit = (mask_qa & 1) != 0
    if kind == "clouds":
        stamp = removed_mask(mask_qa, mask_platform) & ~fill_bit
    else:
        assert mask_platform == "landsat-7" and source > SLC_FAILURE
        stamp = fill_bit
    assert 0.2 < stamp.mean() < 0.6
    target_layer = Layer(day, truth, usable & ~stamp, label=platform)
    donors = [Layer(d, bands, ~removed_mask(q, p), label=p) for d, (p, bands, q) in stack.items()]
    holes = stamp & usable
    scores = {}
    for method in ("nearest", "nearest-matched", "blend-matched"):
        result = fill_gaps(target_layer, donors, np.ones(usable.shape, bool), method=method, window_days=60)
        assert result.unfilled_px == 0
        error = (result.filled[:, holes].astype(float) - truth[:, holes]) * SR_SCALE
        mean_absolute = np.abs(error).mean(axis=0)
        predicted = result.uncertainty[holes]
        scores[method] = (float(np.sqrt((error**2).mean())), float(error.mean()), float(predicted.mean() / mean_absolute.mean()))
    rmse, bias, ratio = scores["blend-matched"]
    # Measured: clouds 0.0140 against nearest's 0.0423; SLC-off 0.0213 against 0.0431.
    assert rmse < 0.7 * scores["nearest"][0]
    assert rmse < scores["nearest-matched"][0]
    assert abs(bias) < 0.005
    for method, (_, _, ratio) in scores.items():
        assert 0.5 < ratio < 2.0, (method, ratio)  # the predicted error is of the right size
