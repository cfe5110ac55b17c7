"""Pack per-pixel classes into QA_PIXEL and QA_RADSAT values exactly as USGS defines them.

ref: LSDS-1619 (Landsat 8-9 C2 L2 Science Product Guide), "Pixel Quality Assessment Band"
and "Radiometric Saturation Quality Assessment Band"; LSDS-1618 (Landsat 4-7) likewise.
Resulting codes match those in real scenes: clear land 21824 (5440 on Landsat 7),
water 21952, cloud 22280, cloud under high-confidence cirrus 55052, shadow 23888 and snow
30048. Landsat 7 has no cirrus band, so its bit 2 and bits 14-15 stay 0.
"""

from __future__ import annotations

import numpy as np

from ..masks.qa import (
    CIRRUS_BIT,
    CIRRUS_CONFIDENCE_OFFSET,
    CLEAR_BIT,
    CLOUD_BIT,
    CLOUD_CONFIDENCE_OFFSET,
    CLOUD_SHADOW_BIT,
    CLOUD_SHADOW_CONFIDENCE_OFFSET,
    CONFIDENCE_LEVELS,
    DILATED_CLOUD_BIT,
    FILL_BIT,
    SNOW_BIT,
    SNOW_CONFIDENCE_OFFSET,
    WATER_BIT,
)
from ..product import SR_BANDS

LOW, MEDIUM, HIGH = CONFIDENCE_LEVELS["low"], CONFIDENCE_LEVELS["medium"], CONFIDENCE_LEVELS["high"]

# QA_RADSAT bit n flags saturation of sensor band n+1. Sensor band of each SR_BANDS entry
# (red, green, blue, nir08, swir16, swir22): OLI B4 B3 B2 B5 B6 B7, ETM+ B3 B2 B1 B4 B5 B7.
RADSAT_BAND_BITS = {
    "oli": (3, 2, 1, 4, 5, 6),
    "etm": (2, 1, 0, 3, 4, 6),
}
OLI_COASTAL_BIT = 0
"""OLI's coastal/aerosol band 1 saturates wherever its neighbour, blue band 2, does."""
# Bright cloud tops and fresh snow saturate ETM+'s visible bands far more often than OLI's
# 12-bit ones; these are the (surface-reflectance-equivalent) levels used for the demo.
SATURATION_REFLECTANCE = {"oli": 0.9, "etm": 0.8}


def _bit(mask: np.ndarray, bit: int) -> np.ndarray:
    return mask.astype(np.uint16) << np.uint16(bit)


def _confidence(level: np.ndarray, offset: int) -> np.ndarray:
    return level.astype(np.uint16) << np.uint16(offset)


def encode_qa_pixel(
    *,
    fill: np.ndarray,
    cloud: np.ndarray,
    cloud_medium: np.ndarray,
    dilated: np.ndarray,
    cirrus: np.ndarray,
    shadow: np.ndarray,
    snow: np.ndarray,
    water: np.ndarray,
    has_cirrus_band: bool,
) -> np.ndarray:
    """QA_PIXEL codes from boolean class layers (all the same shape).

    The USGS precedence is applied here, whatever the inputs overlap: a cloud pixel is
    neither shadow, snow nor water, snow hides water, dilated excludes cloud, and fill
    pixels carry the fill bit alone.

    Args:
        cloud_medium: thin cloud left unflagged; it gets medium cloud confidence.
        has_cirrus_band: False for Landsat 4-7, which leave the cirrus bits unset.
    """
    dilated = dilated & ~cloud
    shadow = shadow & ~cloud
    snow = snow & ~cloud
    water = water & ~cloud & ~snow
    cloud_level = np.where(cloud, HIGH, np.where(cloud_medium, MEDIUM, LOW))
    qa = (
        _bit(cloud, CLOUD_BIT)
        | _bit(dilated, DILATED_CLOUD_BIT)
        | _bit(shadow, CLOUD_SHADOW_BIT)
        | _bit(snow, SNOW_BIT)
        | _bit(water, WATER_BIT)
        # Collection 2 "clear" means only: neither cloud nor dilated cloud.
        | _bit(~(cloud | dilated), CLEAR_BIT)
        | _confidence(cloud_level, CLOUD_CONFIDENCE_OFFSET)
        | _confidence(np.where(shadow, HIGH, LOW), CLOUD_SHADOW_CONFIDENCE_OFFSET)
        | _confidence(np.where(snow, HIGH, LOW), SNOW_CONFIDENCE_OFFSET)
    )
    if has_cirrus_band:
        qa |= _bit(cirrus, CIRRUS_BIT) | _confidence(np.where(cirrus, HIGH, LOW), CIRRUS_CONFIDENCE_OFFSET)
    return np.where(fill, np.uint16(1 << FILL_BIT), qa).astype(np.uint16)


def encode_qa_radsat(reflectance: np.ndarray, fill: np.ndarray, sensor: str) -> np.ndarray:
    """QA_RADSAT codes: a band's bit is set where its reflectance reaches saturation.

    Args:
        reflectance: (6, rows, cols) in SR_BANDS order, as observed.
        sensor: "oli" (Landsat 8-9) or "etm" (Landsat 7).
    """
    saturated = (reflectance >= SATURATION_REFLECTANCE[sensor]) & ~fill
    radsat = np.zeros(fill.shape, dtype=np.uint16)
    for band, bit in enumerate(RADSAT_BAND_BITS[sensor]):
        radsat |= _bit(saturated[band], bit)
    if sensor == "oli":
        radsat |= _bit(saturated[SR_BANDS.index("blue")], OLI_COASTAL_BIT)
    return radsat
