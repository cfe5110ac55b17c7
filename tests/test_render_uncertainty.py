"""The uncertainty picture: pale where a pixel was seen, darker the larger the predicted error."""

from __future__ import annotations

import numpy as np
import pytest

from cloudcore.render.uncertainty import TOP_FLOOR, ramp_colours, uncertainty_ramp, uncertainty_rgba, uncertainty_top


def _darkness(rgb: np.ndarray) -> np.ndarray:
    return 255 * 3 - rgb.astype(int).sum(axis=-1)


def test_observed_pixels_are_palest_and_larger_errors_darker_and_none_is_transparent():
    u = np.array([[0.0, 0.01, 0.02, 0.04], [np.nan, 0.08, 0.2, 0.0]], dtype=np.float32)
    rgba = uncertainty_rgba(u, top=0.08)
    assert rgba[1, 0, 3] == 0 and (rgba[0, :, 3] == 255).all()
    row = _darkness(rgba[0, :, :3])
    assert list(row) == sorted(row) and row[0] < row[-1]
    assert tuple(rgba[0, 0, :3]) == tuple(rgba[1, 3, :3]) == tuple(ramp_colours(np.array(0.0)))
    # At and past the top the colour is the ramp's darkest.
    assert tuple(rgba[1, 1, :3]) == tuple(rgba[1, 2, :3]) == tuple(ramp_colours(np.array(1.0)))


def test_the_top_is_a_high_percentile_of_the_filled_pixels_but_never_below_the_floor():
    rng = np.random.default_rng(3)
    u = np.zeros((100, 100), dtype=np.float32)
    u[:50] = rng.uniform(0.0, 0.1, (50, 100))
    u[0, 0] = 5.0  # one outlier does not set the scale
    assert uncertainty_top(u) == pytest.approx(np.percentile(u[u > 0], 98))
    assert uncertainty_top(u) < 0.11
    assert uncertainty_top(np.full((4, 4), 0.001, dtype=np.float32)) == TOP_FLOOR
    assert uncertainty_top(np.zeros((4, 4), dtype=np.float32)) == TOP_FLOOR  # nothing filled
    assert uncertainty_top(np.full((4, 4), np.nan, dtype=np.float32)) == TOP_FLOOR


def test_the_legend_bar_runs_from_pale_to_dark():
    bar = uncertainty_ramp(width=64, height=5)
    assert bar.shape == (5, 64, 4) and (bar[..., 3] == 255).all()
    darkness = _darkness(bar[0, :, :3])
    assert (np.diff(darkness) >= 0).all() and darkness[-1] - darkness[0] > 400
