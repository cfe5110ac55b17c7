"""Pictures: reflectance scaling, stretch, overlays, provenance colours, PNG encoding."""

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
    TARGET_GREY,
    class_overlay,
    mask_overlay,
    png_bytes,
    provenance_rgba,
    reflectance,
    stretch_for,
    true_colour,
    write_png,
)

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


def test_provenance_colours_are_distinct_per_date_with_the_target_grey():
    provenance = np.array([[20240110, 20240105, 0], [20240113, 20240110, 20231201]], np.uint32)
    rgba, legend = provenance_rgba(provenance, target=dt.date(2024, 1, 10))

    assert [code for code, _ in legend] == [20231201, 20240105, 20240110, 20240113]
    colours = dict(legend)
    assert colours[20240110] == TARGET_GREY
    assert len(set(colours.values())) == 4
    assert rgba[0, 2].tolist() == [0, 0, 0, 0]
    for (row, col), code in np.ndenumerate(provenance):
        if code:
            assert rgba[row, col].tolist() == [*colours[int(code)], 255]


def test_provenance_palette_stays_distinct_for_many_dates():
    codes = np.array([int((dt.date(2020, 1, 1) + dt.timedelta(days=8 * i)).strftime("%Y%m%d")) for i in range(60)])
    rgba, legend = provenance_rgba(codes.reshape(6, 10).astype(np.uint32), target=int(codes[7]))
    colours = [colour for _, colour in legend]
    assert len(set(colours)) == 60
    assert colours.count(TARGET_GREY) == 1
    assert (rgba[..., 3] == 255).all()


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
    assert [code for code, _ in legend] == [20240105, 20240110]
    assert TARGET_GREY not in dict(legend).values()
    assert rgba[0, 0, :3].tolist() != rgba[0, 1, :3].tolist()
