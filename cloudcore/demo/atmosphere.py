"""What lies between the ground and the sensor on one date: clouds, their shadows, cirrus, haze.

Clouds are thresholded fractal noise: the threshold sets the cover, the excess over it
sets the thickness, and a one-pixel blur lets thin edges blend into the ground. Shadows
are the cloud field moved away from the sun by (cloud height / tan(sun elevation)), each
of two cloud layers by its own height; the sky is made larger than the scene, so shadows
near the edge can come from clouds beyond it, as in real scenes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .grid import PIXEL_M
from .noise import fractal_noise, smooth_noise
from .schedule import Acquisition

# Relative spectra (red, green, blue, nir08, swir16, swir22). Cloud tops are white in the
# visible and darker in the SWIR, where water and ice absorb.
CLOUD_SPECTRUM = np.array([1.0, 1.0, 1.02, 0.97, 0.78, 0.55], dtype=np.float32)
CIRRUS_SPECTRUM = np.array([0.33, 0.34, 0.36, 0.30, 0.20, 0.12], dtype=np.float32)
# Aerosol left after atmospheric correction brightens short wavelengths most.
HAZE_SPECTRUM = np.array([0.016, 0.022, 0.030, 0.008, 0.003, 0.002], dtype=np.float32)
# Share of light a shadow removes: the blue sky still lights shadows, so blue darkens least.
SHADOW_DEPTH = np.array([0.72, 0.70, 0.55, 0.76, 0.80, 0.80], dtype=np.float32)

CLOUD_FLAG_OPACITY = 0.3
"""Opacity from which a cloud's blurred edge still counts as high-confidence cloud."""
CLOUD_MEDIUM_OPACITY = 0.03
"""Thinner cloud edges are left unflagged with medium cloud confidence."""
CIRRUS_FLAG_DENSITY = 0.04
DILATION_PX = 3
"""CFMask grows the cloud mask by 3 pixels into the dilated-cloud ring."""
SHADOW_DILATION_PX = 2
MAX_SHADOW_OFFSET_PX = 150
"""Longest cloud-to-shadow distance (4.5 km; a 2 km cloud under a 25 degree sun)."""


@dataclass(frozen=True)
class Conditions:
    """The weather of one date, drawn from its seed."""

    cloud_fraction: float
    """Share of the scene under cloud cores (before the soft edges)."""
    cloud_beta: float
    """Spectral slope of the cloud noise: lower gives more, smaller clouds."""
    cloud_thickness: float
    """0..1 scale of cloud opacity and brightness."""
    cloud_base_m: float
    upper_layer_step_m: float
    """The upper of the two cloud layers sits this much higher."""
    cirrus_fraction: float
    haze: float
    """0..1 aerosol left after correction."""
    illumination: float
    """Multiplicative gain of the whole surface (sun angle, BRDF), shared with the truth."""
    snow_level: float
    """0 no snow .. 1 everything that can be white is."""


@dataclass(frozen=True)
class Sky:
    """Per-pixel atmosphere of one scene; all arrays (rows, cols)."""

    opacity: np.ndarray
    brightness: np.ndarray
    """Cloud-top reflectance where opacity > 0."""
    cloud: np.ndarray
    cloud_medium: np.ndarray
    dilated: np.ndarray
    shadow_opacity: np.ndarray
    shadow: np.ndarray
    cirrus_density: np.ndarray
    cirrus: np.ndarray
    haze: np.ndarray


def _snow_level(day: dt.date, rng: np.random.Generator) -> float:
    """Snow on the ground in southern Wisconsin: likely December to early March."""
    doy = day.timetuple().tm_yday
    if doy <= 70 or doy >= 340:
        return float(rng.uniform(0.35, 1.0)) if rng.random() < 0.65 else 0.0
    if doy <= 90 or doy >= 320:
        return float(rng.uniform(0.1, 0.5)) if rng.random() < 0.25 else 0.0
    return 0.0


def draw_conditions(acq: Acquisition, rng: np.random.Generator) -> Conditions:
    """The date's weather, consistent with its sky class and season."""
    doy = acq.datetime.timetuple().tm_yday
    summer = 0.5 - 0.5 * np.cos(2 * np.pi * (doy - 20) / 365)
    if acq.sky == "clear":
        cloud = 0.0 if rng.random() < 0.45 else rng.uniform(0.002, 0.025)
        cirrus = rng.uniform(0.003, 0.012) if rng.random() < 0.2 else 0.0
    elif acq.sky == "partly":
        cloud = rng.uniform(0.12, 0.65)
        cirrus = rng.uniform(0.03, 0.25) if rng.random() < 0.5 else 0.0
    else:
        cloud = rng.uniform(0.9, 1.0)
        cirrus = rng.uniform(0.1, 0.6) if rng.random() < 0.5 else 0.0
    return Conditions(
        cloud_fraction=float(cloud),
        cloud_beta=float(rng.uniform(2.6, 3.4)),
        cloud_thickness=float(rng.uniform(0.8, 1.0) if acq.sky == "overcast" else rng.uniform(0.55, 1.0)),
        cloud_base_m=float(rng.uniform(400, 1500) if acq.sky == "overcast" else rng.uniform(800, 2500)),
        upper_layer_step_m=float(rng.uniform(500, 3000)),
        cirrus_fraction=float(cirrus),
        haze=float(rng.uniform(0, 0.8) * (0.4 + 0.6 * summer)),
        illumination=float(0.93 + 0.07 * np.sin(np.deg2rad(acq.sun_elevation)) + rng.uniform(-0.015, 0.015)),
        snow_level=_snow_level(acq.datetime.date(), rng),
    )


def _disk(radius: int) -> np.ndarray:
    yy, xx = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    return xx**2 + yy**2 <= radius**2


def shadow_offset_px(height_m: float, sun_azimuth: float, sun_elevation: float) -> tuple[int, int]:
    """(rows, cols) a shadow lies from its cloud: away from the sun, farther for a low sun.

    The distance is capped at MAX_SHADOW_OFFSET_PX, which bounds the cloud canvas.
    """
    distance = min(height_m / np.tan(np.deg2rad(sun_elevation)) / PIXEL_M, MAX_SHADOW_OFFSET_PX)
    azimuth = np.deg2rad(sun_azimuth)
    # Rows grow southwards, so the northward component changes sign.
    return (int(round(distance * np.cos(azimuth))), int(round(-distance * np.sin(azimuth))))


def _clouds_and_shadows(
    acq: Acquisition, conditions: Conditions, shape: tuple[int, int], rng: np.random.Generator
) -> tuple[np.ndarray, ...]:
    """Cloud opacity, brightness, flags and their shadows over a scene of `shape`.

    The clouds are made on a canvas larger than the scene on the side the sun shines
    from, so every shadow in the scene has its cloud, even one beyond the scene edge.
    """
    heights = (conditions.cloud_base_m, conditions.cloud_base_m + conditions.upper_layer_step_m)
    offsets = [shadow_offset_px(h, acq.sun_azimuth, acq.sun_elevation) for h in heights]
    top, left = max(0, *(r for r, _ in offsets)), max(0, *(c for _, c in offsets))
    bottom, right = max(0, *(-r for r, _ in offsets)), max(0, *(-c for _, c in offsets))
    canvas = (shape[0] + top + bottom, shape[1] + left + right)
    scene = (slice(top, top + shape[0]), slice(left, left + shape[1]))

    noise = fractal_noise(rng, canvas, conditions.cloud_beta)
    threshold = np.quantile(noise, 1 - conditions.cloud_fraction)
    depth = np.clip((noise - threshold) / 0.9, 0, 1)
    core = noise > threshold
    opacity = ndimage.gaussian_filter(
        np.where(core, conditions.cloud_thickness * (0.45 + 0.55 * depth**0.6), 0).astype(np.float32), sigma=1.0
    )
    # Cloud tops look soft at 30 m; smoothing them also keeps the files small.
    brightness = ndimage.gaussian_filter((0.38 + 0.52 * depth * conditions.cloud_thickness).astype(np.float32), sigma=1.5)
    # Every cloud core is flagged, however thin, so its soft edge falls in the dilated ring.
    cloud = core | (opacity >= CLOUD_FLAG_OPACITY)
    medium = (opacity >= CLOUD_MEDIUM_OPACITY) & ~cloud
    dilated = ndimage.binary_dilation(cloud, structure=_disk(DILATION_PX)) & ~cloud
    upper = smooth_noise(rng, canvas, cells=16) > 0.5
    shadow_opacity = np.zeros(canvas, dtype=np.float32)
    shadow_core = np.zeros(canvas, dtype=bool)
    for layer, offset in zip((~upper, upper), offsets):
        # The canvas margins hold every pixel a scene shadow comes from, so the
        # wrap-around of np.roll only ever lands outside the scene.
        shadow_opacity = np.maximum(shadow_opacity, np.roll(opacity * layer, offset, axis=(0, 1)))
        shadow_core |= np.roll(cloud & layer, offset, axis=(0, 1))
    shadow = ndimage.binary_dilation(shadow_core, structure=_disk(SHADOW_DILATION_PX)) & ~cloud
    return tuple(a[scene] for a in (opacity, brightness, cloud, medium, dilated, shadow_opacity, shadow))


def render_sky(acq: Acquisition, conditions: Conditions, shape: tuple[int, int], rng: np.random.Generator) -> Sky:
    """Clouds, shadows, cirrus and haze for one scene from its conditions."""
    zeros = np.zeros(shape, dtype=np.float32)
    no = np.zeros(shape, dtype=bool)
    opacity, brightness, cloud, medium, dilated = zeros, zeros, no, no, no
    shadow_opacity, shadow = zeros, no
    if conditions.cloud_fraction > 0:
        opacity, brightness, cloud, medium, dilated, shadow_opacity, shadow = _clouds_and_shadows(
            acq, conditions, shape, rng
        )
    cirrus_density, cirrus = zeros, no
    if conditions.cirrus_fraction > 0:
        streaks = fractal_noise(rng, shape, beta=3.0, stretch=4.0, angle_deg=float(rng.uniform(0, 180)))
        threshold = np.quantile(streaks, 1 - conditions.cirrus_fraction)
        cirrus_density = (np.clip((streaks - threshold) / 1.2, 0, 1) * rng.uniform(0.1, 0.3)).astype(np.float32)
        cirrus = cirrus_density >= CIRRUS_FLAG_DENSITY
    haze = (conditions.haze * (0.6 + 0.8 * smooth_noise(rng, shape, cells=32))).astype(np.float32)
    return Sky(
        opacity=opacity,
        brightness=brightness,
        cloud=cloud,
        cloud_medium=medium,
        dilated=dilated,
        shadow_opacity=shadow_opacity,
        shadow=shadow,
        cirrus_density=cirrus_density,
        cirrus=cirrus,
        haze=haze,
    )


def observe(surface: np.ndarray, sky: Sky) -> np.ndarray:
    """The reflectance the sensor reports: the surface seen through shadow, haze, cirrus, cloud."""
    column = (slice(None), None, None)
    seen = surface.copy()
    # Layers are applied in place and skipped when absent: this runs for every scene.
    if sky.shadow_opacity.any():
        seen *= 1 - SHADOW_DEPTH[column] * sky.shadow_opacity
    seen *= 1 - 0.04 * sky.haze
    seen += HAZE_SPECTRUM[column] * sky.haze
    if sky.cirrus_density.any():
        seen *= 1 - 0.25 * sky.cirrus_density
        seen += CIRRUS_SPECTRUM[column] * sky.cirrus_density
    if sky.opacity.any():
        seen *= 1 - sky.opacity
        seen += CLOUD_SPECTRUM[column] * (sky.brightness * sky.opacity)
    return seen
