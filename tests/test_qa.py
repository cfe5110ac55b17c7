"""Unit and property tests for cloudcore.masks.qa, on small arrays built from the named bit constants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import ndimage

from cloudcore.errors import InvalidInputError
from cloudcore.masks.qa import (
    CIRRUS_BIT,
    CIRRUS_CONFIDENCE_OFFSET,
    CLEAR_BIT,
    CLOUD_BIT,
    CLOUD_CONFIDENCE_OFFSET,
    CLOUD_SHADOW_BIT,
    CLOUD_SHADOW_CONFIDENCE_OFFSET,
    CONFIDENCE_LEVELS,
    DEFAULT_FLAGS,
    DILATED_CLOUD_BIT,
    FILL_BIT,
    FLAG_BITS,
    RADSAT_BANDS_1_TO_7,
    SNOW_BIT,
    SNOW_CONFIDENCE_OFFSET,
    WATER_BIT,
    MaskPolicy,
    bit_set,
    buffer_structure,
    confidence,
    decode_qa,
    parse_flags,
    removed_mask,
)

OLI = ("landsat-8", "landsat-9")
TM_ETM = ("landsat-4", "landsat-5", "landsat-7")
PLATFORMS = OLI + TM_ETM
OFFSETS = (CLOUD_CONFIDENCE_OFFSET, CLOUD_SHADOW_CONFIDENCE_OFFSET, SNOW_CONFIDENCE_OFFSET, CIRRUS_CONFIDENCE_OFFSET)
CLASS_NAMES = ("dilated", "cirrus", "cloud", "shadow", "snow", "water")
NON_FILL_FLAGS = sorted(set(FLAG_BITS) - {"fill"})


def qa_code(*bits: int, **levels: int) -> int:
    """A QA_PIXEL value from bit numbers and {offset name: level} confidence fields."""
    offsets = {
        "cloud": CLOUD_CONFIDENCE_OFFSET,
        "shadow": CLOUD_SHADOW_CONFIDENCE_OFFSET,
        "snow": SNOW_CONFIDENCE_OFFSET,
        "cirrus": CIRRUS_CONFIDENCE_OFFSET,
    }
    value = sum(1 << b for b in bits)
    for name, level in levels.items():
        value |= level << offsets[name]
    return value


CLEAR = qa_code(CLEAR_BIT)
FILL = qa_code(FILL_BIT)
CLOUD = qa_code(CLOUD_BIT, cloud=CONFIDENCE_LEVELS["high"])

qa_arrays = arrays(np.uint16, st.tuples(st.integers(1, 12), st.integers(1, 12)), elements=st.integers(0, 0xFFFF))
flag_sets = st.frozensets(st.sampled_from(sorted(FLAG_BITS)))
levels = st.none() | st.sampled_from(sorted(CONFIDENCE_LEVELS))
policies = st.builds(
    MaskPolicy,
    flags=flag_sets,
    cloud_confidence=levels,
    cirrus_confidence=levels,
    shadow_confidence=levels,
    snow_confidence=levels,
    buffer_m=st.sampled_from([0.0, 10.0, 30.0, 45.0, 90.0]),
)


# --- bit_set / confidence against plain Python integer arithmetic ------------------------------


@given(values=st.lists(st.integers(0, 0xFFFF), min_size=1, max_size=50), bit=st.integers(0, 15))
def test_bit_set_matches_python_ints(values, bit):
    got = bit_set(np.array(values, dtype=np.uint16), bit)
    assert got.dtype == bool
    assert got.tolist() == [(v >> bit) & 1 == 1 for v in values]


@given(values=st.lists(st.integers(0, 0xFFFF), min_size=1, max_size=50), offset=st.sampled_from(OFFSETS))
def test_confidence_matches_python_ints(values, offset):
    assert confidence(np.array(values, dtype=np.uint16), offset).tolist() == [(v >> offset) % 4 for v in values]


def test_bit_set_reads_int16_arrays_as_the_same_bits():
    # A QA band read into a signed type keeps its bit pattern (two's complement).
    value = qa_code(CLOUD_BIT, CIRRUS_BIT, cirrus=CONFIDENCE_LEVELS["high"])
    signed = np.array([value], dtype=np.uint16).view(np.int16)
    assert bit_set(signed, CIRRUS_CONFIDENCE_OFFSET + 1)[0]
    assert confidence(signed, CIRRUS_CONFIDENCE_OFFSET)[0] == CONFIDENCE_LEVELS["high"]


# --- decode_qa ----------------------------------------------------------------------------------


@given(qa=qa_arrays, platform=st.sampled_from(TM_ETM))
def test_landsat_4_to_7_never_report_cirrus(qa, platform):
    assert not decode_qa(qa, platform).cirrus.any()


@given(qa=qa_arrays, platform=st.sampled_from(OLI))
def test_oli_cirrus_is_bit_2_on_valid_pixels(qa, platform):
    classes = decode_qa(qa, platform)
    expected = [((v >> CIRRUS_BIT) & 1 == 1) and not (v >> FILL_BIT) & 1 for v in qa.ravel().tolist()]
    assert classes.cirrus.ravel().tolist() == expected


@given(qa=qa_arrays, platform=st.sampled_from(PLATFORMS))
def test_fill_pixels_carry_no_other_class(qa, platform):
    classes = decode_qa(qa, platform)
    for name in CLASS_NAMES:
        assert not (getattr(classes, name) & classes.fill).any(), name
    assert np.array_equal(classes.valid, ~classes.fill)


def test_decode_single_bits():
    qa = np.array([qa_code(bit) for bit in (DILATED_CLOUD_BIT, CLOUD_BIT, CLOUD_SHADOW_BIT, SNOW_BIT, WATER_BIT)])
    classes = decode_qa(qa, "landsat-8")
    assert classes.dilated.tolist() == [True, False, False, False, False]
    assert classes.cloud.tolist() == [False, True, False, False, False]
    assert classes.shadow.tolist() == [False, False, True, False, False]
    assert classes.snow.tolist() == [False, False, False, True, False]
    assert classes.water.tolist() == [False, False, False, False, True]
    assert classes.any_cloud.tolist() == [True, True, False, False, False]


# --- removed_mask -------------------------------------------------------------------------------


@settings(max_examples=60)
@given(qa=qa_arrays, platform=st.sampled_from(PLATFORMS), policy=policies)
def test_removed_mask_always_includes_fill(qa, platform, policy):
    removed = removed_mask(qa, platform, policy)
    assert removed[bit_set(qa, FILL_BIT)].all()


@settings(max_examples=60)
@given(
    qa=qa_arrays,
    platform=st.sampled_from(PLATFORMS),
    few=flag_sets,
    extra=flag_sets,
    buffer_m=st.sampled_from([0.0, 30.0, 60.0]),
    cloud_level=levels,
)
def test_more_flags_never_remove_fewer_pixels(qa, platform, few, extra, buffer_m, cloud_level):
    small = removed_mask(qa, platform, MaskPolicy(flags=few, buffer_m=buffer_m, cloud_confidence=cloud_level))
    large = removed_mask(qa, platform, MaskPolicy(flags=few | extra, buffer_m=buffer_m, cloud_confidence=cloud_level))
    assert not (small & ~large).any()


@settings(max_examples=60)
@given(qa=qa_arrays, platform=st.sampled_from(PLATFORMS), flags=flag_sets, buffer_m=st.sampled_from([30.0, 45.0, 90.0]))
def test_buffer_grows_only_around_flagged_pixels_and_never_into_fill(qa, platform, flags, buffer_m):
    pixel_m = 30.0
    plain = removed_mask(qa, platform, MaskPolicy(flags=flags), pixel_size_m=pixel_m)
    grown = removed_mask(qa, platform, MaskPolicy(flags=flags, buffer_m=buffer_m), pixel_size_m=pixel_m)
    fill = bit_set(qa, FILL_BIT)
    assert not (plain & ~grown).any()  # a buffer only adds
    added = grown & ~plain
    assert not (added & fill).any()
    flagged = plain & ~fill
    if not flagged.any():
        assert not added.any()  # fill alone never seeds a buffer
        return
    distance_px = ndimage.distance_transform_edt(~flagged)
    assert (distance_px[added] <= buffer_m / pixel_m).all()


def test_buffer_draws_a_disk_around_one_cloud_pixel():
    qa = np.full((9, 9), CLEAR, dtype=np.uint16)
    qa[4, 4] = CLOUD
    removed = removed_mask(qa, "landsat-8", MaskPolicy(flags={"cloud"}, buffer_m=60.0), pixel_size_m=30.0)
    # Radius 2 px: the 13 grid points with dx^2 + dy^2 <= 4.
    assert removed.sum() == 13
    assert removed[4, 2] and removed[2, 4] and not removed[2, 2]


def test_buffer_does_not_grow_from_fill():
    qa = np.full((6, 6), CLEAR, dtype=np.uint16)
    qa[:, :2] = FILL
    removed = removed_mask(qa, "landsat-8", MaskPolicy(buffer_m=90.0), pixel_size_m=30.0)
    assert np.array_equal(removed, bit_set(qa, FILL_BIT))


def test_buffer_under_half_a_pixel_is_no_buffer():
    assert buffer_structure(10.0, 30.0) is None
    assert buffer_structure(30.0, 30.0).sum() == 5  # the pixel and its four neighbours


def test_default_policy_removes_cloud_dilated_cirrus_shadow_but_not_snow_or_water():
    values = {
        "dilated": qa_code(DILATED_CLOUD_BIT),
        "cirrus": qa_code(CIRRUS_BIT, CLEAR_BIT),
        "cloud": CLOUD,
        "shadow": qa_code(CLOUD_SHADOW_BIT, CLEAR_BIT),
        "snow": qa_code(SNOW_BIT, CLEAR_BIT),
        "water": qa_code(WATER_BIT, CLEAR_BIT),
        "clear": CLEAR,
    }
    removed = removed_mask(np.array(list(values.values()), dtype=np.uint16), "landsat-8")
    assert dict(zip(values, removed.tolist(), strict=True)) == {name: name in DEFAULT_FLAGS for name in values}


@pytest.mark.parametrize("platform", TM_ETM)
def test_cirrus_flag_removes_nothing_on_landsat_4_to_7(platform):
    qa = np.array([qa_code(CIRRUS_BIT, CLEAR_BIT, cirrus=CONFIDENCE_LEVELS["high"])], dtype=np.uint16)
    policy = MaskPolicy(flags={"cirrus"}, cirrus_confidence="low")
    assert not removed_mask(qa, platform, policy).any()


@pytest.mark.parametrize(
    ("field", "name"),
    [
        ("cloud_confidence", "cloud"),
        ("cirrus_confidence", "cirrus"),
        ("shadow_confidence", "shadow"),
        ("snow_confidence", "snow"),
    ],
)
@pytest.mark.parametrize("threshold", sorted(CONFIDENCE_LEVELS))
def test_confidence_threshold_removes_that_level_and_above(field, name, threshold):
    qa = np.array([qa_code(CLEAR_BIT, **{name: level}) for level in range(4)], dtype=np.uint16)
    removed = removed_mask(qa, "landsat-8", MaskPolicy(flags=frozenset(), **{field: threshold}))
    assert removed.tolist() == [level >= CONFIDENCE_LEVELS[threshold] for level in range(4)]


def test_confidence_threshold_ignores_fill_bits():
    qa = np.array([FILL | CLOUD], dtype=np.uint16)
    policy = MaskPolicy(flags=frozenset(), cloud_confidence="low")
    assert removed_mask(qa, "landsat-8", policy).tolist() == [True]  # removed as fill, nothing else


# --- QA_RADSAT ------------------------------------------------------------------------------------


def test_saturated_pixels_removed_only_when_asked():
    qa = np.full(4, CLEAR, dtype=np.uint16)
    band_3 = 1 << 2  # QA_RADSAT bit 2 = band 3 saturated
    band_9 = 1 << 8  # Landsat 8-9 band 9 (cirrus): outside bands 1-7
    radsat = np.array([0, band_3, RADSAT_BANDS_1_TO_7, band_9], dtype=np.uint16)
    assert removed_mask(qa, "landsat-8", MaskPolicy(saturated=True), radsat=radsat).tolist() == [
        False,
        True,
        True,
        False,
    ]
    assert not removed_mask(qa, "landsat-8", MaskPolicy(saturated=False), radsat=radsat).any()
    assert not removed_mask(qa, "landsat-8", MaskPolicy(saturated=True), radsat=None).any()


# --- policy validation ----------------------------------------------------------------------------


def test_unknown_flag_is_named():
    with pytest.raises(InvalidInputError, match="bogus") as info:
        parse_flags("cloud, bogus")
    assert "cloud" in str(info.value).split(":", 1)[1]  # the message lists the valid names
    with pytest.raises(InvalidInputError, match="haze"):
        MaskPolicy(flags={"cloud", "haze"})


def test_parse_flags_accepts_lists_case_and_aliases():
    assert parse_flags("Dilated_Cloud, cloud_shadow,,SNOW_ICE") == {"dilated", "shadow", "snow"}
    assert parse_flags(["cloud", " cirrus "]) == {"cloud", "cirrus"}
    assert parse_flags("") == frozenset()


def test_flags_given_as_one_string_are_split_on_commas():
    assert MaskPolicy(flags="cloud,shadow").flags == {"cloud", "shadow"}


def test_bad_confidence_level_is_named():
    with pytest.raises(InvalidInputError, match="cloud_confidence.*'certain'"):
        MaskPolicy(cloud_confidence="certain")


@pytest.mark.parametrize("buffer_m", [-1.0, float("nan"), float("inf")])
def test_bad_buffer_is_named(buffer_m):
    with pytest.raises(InvalidInputError, match="Buffer"):
        MaskPolicy(buffer_m=buffer_m)


def test_invalid_input_error_is_a_value_error():
    with pytest.raises(ValueError):
        parse_flags("nope")


def test_describe_names_flags_and_buffer():
    assert MaskPolicy(flags={"shadow", "cloud"}, buffer_m=60).describe() == "cloud,shadow +60 m buffer"
    assert MaskPolicy(flags=frozenset()).describe() == "fill only"


@given(flags=st.lists(st.sampled_from(NON_FILL_FLAGS), unique=True))
def test_parse_flags_round_trips_through_text(flags):
    assert parse_flags(",".join(flags)) == frozenset(flags)
