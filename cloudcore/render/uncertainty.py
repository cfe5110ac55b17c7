"""A picture of a fill's per-pixel uncertainty (the predicted absolute error, in reflectance).

One sequential ramp, pale where the value is trusted (0: observed) to dark red where it is least,
so the picture reads at a glance and prints in grey. The top of the ramp is the larger of a high
percentile of the filled pixels' predictions and a floor, so a fill with little doubt does not
paint its small errors dark.
"""

from __future__ import annotations

import numpy as np

# ref: ColorBrewer YlOrRd (Brewer, colorbrewer2.org), five of its nine classes as stops.
_STOPS = np.array([(255, 255, 204), (254, 217, 118), (253, 141, 60), (227, 26, 28), (128, 0, 38)], dtype=float)
TOP_PERCENTILE = 98.0
"""The ramp's top is this percentile of the filled pixels' predictions (outliers do not set it)."""
TOP_FLOOR = 0.02
"""The least reflectance error the ramp's top stands for: a sure fill stays pale."""


def ramp_colours(t: np.ndarray) -> np.ndarray:
    """RGB (..., 3) uint8 for positions `t` in 0..1 along the ramp."""
    t = np.clip(np.asarray(t, dtype=float), 0.0, 1.0)
    at = t * (len(_STOPS) - 1)
    low = np.minimum(np.floor(at).astype(int), len(_STOPS) - 2)
    frac = (at - low)[..., None]
    return np.round(_STOPS[low] * (1 - frac) + _STOPS[low + 1] * frac).astype(np.uint8)


def uncertainty_top(uncertainty: np.ndarray) -> float:
    """The reflectance error at the dark end of the ramp for this fill."""
    values = np.asarray(uncertainty, dtype=float)
    filled = values[np.isfinite(values) & (values > 0)]
    if not filled.size:
        return TOP_FLOOR
    return max(float(np.percentile(filled, TOP_PERCENTILE)), TOP_FLOOR)


def uncertainty_rgba(uncertainty: np.ndarray, top: float | None = None) -> np.ndarray:
    """(H, W, 4) uint8: each pixel's predicted error on the ramp from 0 to `top` (default
    `uncertainty_top`); transparent where there is none (NaN: unfilled or outside the AOI)."""
    values = np.asarray(uncertainty, dtype=float)
    top = uncertainty_top(values) if top is None else top
    known = np.isfinite(values)
    rgba = np.zeros(values.shape + (4,), dtype=np.uint8)
    rgba[known, :3] = ramp_colours(values[known] / top)
    rgba[known, 3] = 255
    return rgba


def uncertainty_ramp(width: int = 256, height: int = 12) -> np.ndarray:
    """The ramp as a (height, width, 4) legend bar, 0 at the left edge and the top at the right."""
    bar = np.zeros((height, width, 4), dtype=np.uint8)
    bar[:, :, :3] = ramp_colours(np.linspace(0.0, 1.0, width))[None, :, :]
    bar[:, :, 3] = 255
    return bar
