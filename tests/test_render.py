"""Pictures: reflectance scaling, stretch, overlays, provenance colours and their ramp, PNG encoding."""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from cloudcore.errors import InvalidInputError
from cloudcore.product import SR_OFFSET, SR_SCALE
from cloudcore.render.colour import (
    CLASS_COLOURS,
    DEFAULT_STRETCH,
    SR_NODATA_DN,
    class_overlay,
    mask_overlay,
    png_bytes,
    reflectance,
    stretch_for,
    true_colour,
    write_png,
)
from cloudcore.render.provenance import TARGET_GREY, provenance_ramp, provenance_rgba, ramp_colours

# DN 8000 is reflectance 0.02; every 100 DN adds 0.00275. A stretch over 255 such steps maps
# DN 8000 + 100 j to byte j when the gamma is 1.
BASE_DN, STEP_DN = 8000, 100
LINEAR_STRETCH = (BASE_DN * SR_SCALE + SR_OFFSET, (BASE_DN + 255 * STEP_DN) * SR_SCALE + SR_OFFSET)


def grey(dn: np.ndarray) -> np.ndarray:
    """An RGBA picture whose three bands are all `dn`."""
    return true_colour(dn, dn, dn)


def test_reflectance_scale_offset_and_nodata():
    dn = np.array([[0, 7273, 10_000, 43_636]], dtype=np.uint16)
    out = reflectance(dn)
    assert out.dtype == np.float32
    assert np.isnan(out[0, 0])
    np.testing.assert_allclose(out[0, 1:], [7273 * 2.75e-5 - 0.2, 0.075, 43_636 * 2.75e-5 - 0.2], atol=1e-6)


@pytest.mark.parametrize("step", [0, 1, 64, 127, 200, 254, 255])
def test_linear_stretch_maps_known_reflectances_to_bytes(step):
    dn = np.full((1, 1), BASE_DN + step * STEP_DN, dtype=np.uint16)
    rgba = true_colour(dn, dn, dn, stretch=LINEAR_STRETCH, gamma=1.0)
    assert rgba[0, 0].tolist() == [step, step, step, 255]


def test_default_stretch_clips_and_applies_gamma():
    low, high = DEFAULT_STRETCH
    # Reflectance 0.0, a quarter of the range, the top, and above the top.
    reflectances = np.array([low, low + (high - low) / 4, high, high + 0.2])
    dn = np.rint((reflectances - SR_OFFSET) / SR_SCALE).astype(np.uint16)[None, :]
    rgba = grey(dn)
    quarter = round(255 * 0.25 ** (1 / 1.4))  # DEFAULT_GAMMA lifts the darker tones
    assert rgba[0, :, 0].tolist() == [0, quarter, 255, 255]
    assert 0 < rgba[0, 1, 0] - round(255 * 0.25) < 60


def test_nodata_is_transparent_in_any_band():
    red = np.array([[9000, 0, 9000]], np.uint16)
    green = np.array([[9000, 9000, 9000]], np.uint16)
    blue = np.array([[9000, 9000, SR_NODATA_DN]], np.uint16)
    rgba = true_colour(red, green, blue)
    assert rgba[0, :, 3].tolist() == [255, 0, 0]
    assert rgba[0, 1].tolist() == rgba[0, 2].tolist() == [0, 0, 0, 0]


def test_stretch_for_is_shared_over_images_and_ignores_nodata():
    dark = np.full((10, 10), BASE_DN, np.uint16)
    bright = np.full((10, 10), BASE_DN + 255 * STEP_DN, np.uint16)
    bright[0, 0] = 0  # nodata must not pull the low end down
    low, high = stretch_for((dark, dark, dark), (bright, bright, bright), percentiles=(0, 100))
    assert (low, high) == pytest.approx(LINEAR_STRETCH, abs=1e-6)
    shared = (low, high)
    assert true_colour(dark, dark, dark, shared, gamma=1.0)[1, 1, 0] == 0
    assert true_colour(bright, bright, bright, shared, gamma=1.0)[1, 1, 0] == 255


def test_stretch_for_falls_back_without_valid_pixels():
    empty = np.zeros((3, 3), np.uint16)
    assert stretch_for((empty, empty, empty)) == DEFAULT_STRETCH
    flat = np.full((3, 3), 9000, np.uint16)
    assert stretch_for((flat, flat, flat)) == DEFAULT_STRETCH


def test_bad_stretch_and_band_shapes_are_refused():
    dn = np.full((2, 2), 9000, np.uint16)
    with pytest.raises(InvalidInputError, match="low < high"):
        true_colour(dn, dn, dn, stretch=(0.3, 0.1))
    with pytest.raises(InvalidInputError, match="one shape"):
        true_colour(dn, dn, dn[:1])


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(0.05, 1.0))
def test_mask_overlay_changes_only_masked_pixels(seed, opacity):
    rng = np.random.default_rng(seed)
    rgba = rng.integers(0, 256, size=(6, 7, 4), dtype=np.uint8)
    rgba[..., 3] = rng.choice([0, 255], size=(6, 7))
    mask = rng.random((6, 7)) < 0.4
    out = mask_overlay(rgba, mask, colour=(255, 0, 255), opacity=opacity)
    assert (out[~mask] == rgba[~mask]).all()
    # Masked pixels: the tint shows; an opaque pixel stays opaque, a transparent one gets the opacity.
    assert (out[mask & (rgba[..., 3] == 255), 3] == 255).all()
    assert (out[mask & (rgba[..., 3] == 0), 3] == round(255 * opacity)).all()
    assert (out[mask & (rgba[..., 3] == 0), :3] == [255, 0, 255]).all()
    opaque = mask & (rgba[..., 3] == 255)
    assert (out[opaque, 0] >= rgba[opaque, 0]).all()  # a full-red tint never darkens the red channel
    assert (out[opaque, 1] <= rgba[opaque, 1]).all()  # and its zero green never brightens green


def test_mask_overlay_blends_with_the_opacity():
    rgba = np.array([[[0, 100, 200, 255]]], np.uint8)
    out = mask_overlay(rgba, np.array([[True]]), colour=(200, 0, 0), opacity=0.5)
    assert out[0, 0].tolist() == [100, 50, 100, 255]
    assert rgba[0, 0].tolist() == [0, 100, 200, 255]  # the input is not modified


def test_class_overlay_uses_the_fixed_colours_in_order():
    rgba = np.zeros((1, 3, 4), np.uint8)
    rgba[..., 3] = 255
    cloud = np.array([[True, False, True]])
    shadow = np.array([[False, True, True]])
    out = class_overlay(rgba, {"cloud": cloud, "shadow": shadow}, opacity=1.0)
    assert out[0, 0, :3].tolist() == list(CLASS_COLOURS["cloud"])
    assert out[0, 1, :3].tolist() == list(CLASS_COLOURS["shadow"])
    assert out[0, 2, :3].tolist() == list(CLASS_COLOURS["cloud"])  # cloud is drawn over shadow
    assert set(CLASS_COLOURS) == {"cloud", "shadow", "snow", "fill"}
    assert len(set(CLASS_COLOURS.values())) == len(CLASS_COLOURS)


def test_class_overlay_refuses_unknown_classes():
    rgba = np.zeros((1, 1, 4), np.uint8)
    with pytest.raises(InvalidInputError, match="haze.*cloud"):
        class_overlay(rgba, {"haze": np.ones((1, 1), bool)})


def code(day: dt.date) -> int:
    return int(day.strftime("%Y%m%d"))


def luminance(colour) -> float:
    red, green, blue = colour
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue  # ref: ITU-R BT.709 luma weights


def saturation(colour) -> float:
    return (max(colour) - min(colour)) / max(max(colour), 1)


TARGET = dt.date(2024, 1, 10)


def test_provenance_colours_show_days_before_and_after_the_target():
    provenance = np.array([[20240110, 20240105, 0], [20240113, 20240110, 20231201]], np.uint32)
    rgba, legend = provenance_rgba(provenance, target=TARGET)

    assert [c for c, _ in legend] == [20231201, 20240105, 20240110, 20240113]
    colours = dict(legend)
    assert colours[20240110] == TARGET_GREY
    for before in (20231201, 20240105):
        red, _, blue = colours[before]
        assert blue > red, f"{before} is before the target: a blue"
    red, _, blue = colours[20240113]
    assert red > blue, "after the target: an orange or red"
    # 2023-12-01 is 40 days before, 2024-01-05 only 5: the farther is darker and more saturated.
    assert luminance(colours[20231201]) < luminance(colours[20240105])
    assert saturation(colours[20231201]) > saturation(colours[20240105])
    assert rgba[0, 2].tolist() == [0, 0, 0, 0]
    for (row, col), value in np.ndenumerate(provenance):
        if value:  # one date, one colour, wherever it is
            assert rgba[row, col].tolist() == [*colours[int(value)], 255]


def test_many_donors_of_a_long_window_read_as_a_smooth_ramp():
    days = list(range(-180, 181, 6))  # 61 dates, the target in the middle
    codes = np.array([code(TARGET + dt.timedelta(days=d)) for d in days], np.uint32)
    rgba, legend = provenance_rgba(codes.reshape(1, -1), target=TARGET, window_days=180)
    colours = dict(legend)
    assert len(legend) == 61 and [c for c, _ in legend] == sorted(codes.tolist())
    assert list(colours.values()).count(TARGET_GREY) == 1
    before = [colours[code(TARGET + dt.timedelta(days=d))] for d in days if d < 0][::-1]  # nearest first
    after = [colours[code(TARGET + dt.timedelta(days=d))] for d in days if d > 0]
    for arm, bluish in ((before, True), (after, False)):
        assert all((b > r) == bluish and (r > b) != bluish for r, _, b in arm)
        lightness = [luminance(c) for c in arm]
        assert all(near > far for near, far in zip(lightness, lightness[1:])), "farther is darker"
        steps = [max(abs(int(x) - int(y)) for x, y in zip(c1, c2)) for c1, c2 in zip(arm, arm[1:])]
        assert max(steps) <= 16, "neighbouring dates have neighbouring colours"
    assert (rgba[..., 3] == 255).all()


def test_the_window_sets_where_the_ramp_is_darkest():
    donor = np.array([[code(TARGET - dt.timedelta(days=10))]], np.uint32)
    at_window = provenance_rgba(donor, target=TARGET, window_days=10)[1][0][1]
    beyond = provenance_rgba(donor, target=TARGET, window_days=5)[1][0][1]
    wide = provenance_rgba(donor, target=TARGET, window_days=100)[1][0][1]
    default = provenance_rgba(donor, target=TARGET)[1][0][1]  # the farthest date present
    assert at_window == beyond == default == tuple(ramp_colours(np.array([-10]), 10)[0])
    assert luminance(wide) > luminance(at_window) + 60
    with pytest.raises(InvalidInputError, match="negative"):
        provenance_rgba(donor, target=TARGET, window_days=-1)
    with pytest.raises(InvalidInputError, match="20241399 is no YYYYMMDD"):
        provenance_rgba(np.array([[20241399]], np.uint32), target=TARGET)


def test_the_ramp_bar_runs_from_before_through_grey_to_after():
    bar = provenance_ramp()
    assert bar.shape == (12, 256, 4) and bar.dtype == np.uint8 and (bar[..., 3] == 255).all()
    assert (bar == bar[:1]).all(), "every row is the same"
    row = bar[0, :, :3].astype(int)
    assert row[127].tolist() == row[128].tolist() == list(TARGET_GREY)
    assert (row[:127, 2] > row[:127, 0]).all() and (row[129:, 0] > row[129:, 2]).all()
    # The bar is in shares of the window; label its ends with it (here 30 days). The edge columns'
    # centres lie half a column inside -30 and +30 days: the darkest colours, nearly.
    assert np.abs(row[0] - ramp_colours(np.array([-30]), 30)[0]).max() <= 2
    assert np.abs(row[-1] - ramp_colours(np.array([30]), 30)[0]).max() <= 2
    # A donor's colour is on the bar where its days are: 15 days before sits a quarter of the way.
    donor = provenance_rgba(np.array([[code(TARGET - dt.timedelta(days=15))]], np.uint32), target=TARGET,
                            window_days=30)[1][0][1]
    assert np.abs(row[64] - donor).max() <= 3
    with pytest.raises(InvalidInputError, match="too small"):
        provenance_ramp(width=2)


def test_provenance_without_data_is_empty():
    rgba, legend = provenance_rgba(np.zeros((2, 2), np.uint32))
    assert legend == []
    assert not rgba.any()


def test_png_round_trips_through_pillow(tmp_path):
    rng = np.random.default_rng(7)
    rgba = rng.integers(0, 256, size=(5, 9, 4), dtype=np.uint8)
    decoded = np.asarray(Image.open(io.BytesIO(png_bytes(rgba))))
    assert decoded.shape == (5, 9, 4)
    assert (decoded == rgba).all()

    path = write_png(tmp_path / "picture.png", rgba)
    with Image.open(path) as image:
        assert image.mode == "RGBA"
        assert (np.asarray(image) == rgba).all()


def test_png_refuses_non_rgba_and_missing_folders(tmp_path):
    with pytest.raises(InvalidInputError, match=r"\(H, W, 4\) uint8"):
        png_bytes(np.zeros((2, 2, 3), np.uint8))
    with pytest.raises(InvalidInputError, match="does not exist"):
        write_png(tmp_path / "missing" / "p.png", np.zeros((1, 1, 4), np.uint8))


def test_provenance_without_a_target_colours_every_date():
    rgba, legend = provenance_rgba(np.array([[20240105, 20240110]], np.uint32))
    assert [c for c, _ in legend] == [20240105, 20240110]
    assert TARGET_GREY not in dict(legend).values()
    # Measured from the middle of the dates: the earlier is a blue, the later a red.
    (_, (r0, _, b0)), (_, (r1, _, b1)) = legend
    assert b0 > r0 and r1 > b1
    assert rgba[0, 0, :3].tolist() != rgba[0, 1, :3].tolist()
