"""One demo scene as arrays: observed and cloud-free reflectance as C2 L2 DN, and its QA.

Pure numpy; catalog.py writes the result to disk.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..masks.qa import decode_qa
from ..product import SR_NODATA_DN, SR_OFFSET, SR_SCALE
from .atmosphere import draw_conditions, observe, render_sky
from .grid import SCENE_PX, footprint_corners_m, footprint_mask, path_grid, slc_off_gaps
from .landscape import build_landscape
from .qa_encode import encode_qa_pixel, encode_qa_radsat
from .schedule import Acquisition

# ref: LSDS-1619 / LSDS-1618, "Surface Reflectance": reflectance = DN * 0.0000275 - 0.2.
SR_NODATA = SR_NODATA_DN
DN_STEP = 32
"""DN are rounded to multiples of 32 (0.00088 reflectance, well below the uncertainty of
surface reflectance itself) so that DEFLATE packs the cache into half the space."""
SNOW_FLAG_FRACTION = 0.5


@dataclass(frozen=True)
class RenderedScene:
    """Everything written for one acquisition; rasters are (rows, cols) or (6, rows, cols)."""

    acquisition: Acquisition
    reflectance_dn: np.ndarray
    """uint16 observed surface reflectance in SR_BANDS order, 0 on fill."""
    truth_dn: np.ndarray
    """uint16 same surface without cloud, shadow, cirrus or haze; 0 outside the footprint only."""
    qa_pixel: np.ndarray
    qa_radsat: np.ndarray
    footprint_m: list[tuple[float, float]]
    """Swath corners in UTM metres (top, west, bottom, east)."""
    cloud_cover_pct: float
    land_cloud_cover_pct: float
    """-1 when the footprint holds no land, as USGS reports it."""


def to_dn(reflectance: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Reflectance to C2 L2 DN (uint16, never 0 on valid pixels, 0 elsewhere)."""
    steps = reflectance * np.float32(1 / (SR_SCALE * DN_STEP)) + np.float32(-SR_OFFSET / (SR_SCALE * DN_STEP))
    np.rint(steps, out=steps)
    np.clip(steps, 1, 65535 // DN_STEP, out=steps)
    dn = steps.astype(np.uint16) * np.uint16(DN_STEP)
    dn[..., ~valid] = SR_NODATA
    return dn


def cloud_cover(qa_pixel: np.ndarray, platform: str, land: np.ndarray) -> tuple[float, float]:
    """eo:cloud_cover and landsat:cloud_cover_land from the QA band itself.

    Cloudy means the cloud bit or (Landsat 8-9) the cirrus bit, as a share of the
    non-fill pixels, over the whole scene and over its land pixels.
    """
    classes = decode_qa(qa_pixel, platform)
    cloudy = classes.cloud | classes.cirrus
    valid = classes.valid
    scene = 100.0 * cloudy.sum() / max(int(valid.sum()), 1)
    land_valid = valid & land
    land_pct = 100.0 * (cloudy & land).sum() / land_valid.sum() if land_valid.any() else -1.0
    return round(float(scene), 2), round(float(land_pct), 2)


def render_scene(acq: Acquisition) -> RenderedScene:
    """Synthesize one acquisition: ground for its date, its sky, its swath and its QA."""
    grid = path_grid(acq.wrs_path)
    rng = np.random.default_rng(acq.seed())
    conditions = draw_conditions(acq, rng)
    landscape = build_landscape()
    surface, snow_fraction = landscape.surface(grid.window, acq.datetime.date(), conditions.snow_level)
    surface *= np.float32(conditions.illumination)
    sky = render_sky(acq, conditions, (SCENE_PX, SCENE_PX), rng)
    observed = observe(surface, sky)

    footprint = footprint_mask(acq.jitter_px)
    fill = ~footprint
    if acq.satellite == 7:
        fill |= slc_off_gaps(acq.jitter_px)
    water = landscape.water[grid.window]
    snow = snow_fraction >= SNOW_FLAG_FRACTION
    qa_pixel = encode_qa_pixel(
        fill=fill,
        cloud=sky.cloud,
        cloud_medium=sky.cloud_medium,
        dilated=sky.dilated,
        cirrus=sky.cirrus,
        shadow=sky.shadow,
        snow=snow,
        water=water & ~snow,
        has_cirrus_band=acq.has_cirrus_band,
    )
    sensor = "oli" if acq.has_cirrus_band else "etm"
    scene_pct, land_pct = cloud_cover(qa_pixel, acq.platform, land=~water)
    return RenderedScene(
        acquisition=acq,
        reflectance_dn=to_dn(observed, ~fill),
        truth_dn=to_dn(surface, footprint),
        qa_pixel=qa_pixel,
        qa_radsat=encode_qa_radsat(observed, fill, sensor),
        footprint_m=footprint_corners_m(grid, acq.jitter_px),
        cloud_cover_pct=scene_pct,
        land_cloud_cover_pct=land_pct,
    )
