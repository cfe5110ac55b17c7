"""Decode the Landsat Collection 2 QA_PIXEL band and turn it into a mask.

Bit layout from the USGS Collection 2 Level-2 Science Product Guides:
ref: LSDS-1619 (Landsat 8-9 OLI/TIRS C2 L2 Science Product Guide), "Pixel Quality Assessment Band".
ref: LSDS-1618 (Landsat 4-7 TM/ETM+ C2 L2 Science Product Guide), "Pixel Quality Assessment Band".
The two differ only in cirrus: TM and ETM+ have no cirrus band, so bit 2 and bits 14-15
are unused ("not set") on Landsat 4-7 and must not be read as cirrus there.

Everything here is pure numpy on arrays of any shape.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ..errors import InvalidInputError
from ..options import DEFAULT_FLAGS, MaskKind, QAFlag, check_mask_kind
from ..product import OLI_PLATFORMS

# Single-bit flags (QA_PIXEL bit offsets, both guides).
FILL_BIT = 0  # image fill: outside the swath, or an ETM+ SLC-off gap
DILATED_CLOUD_BIT = 1  # cloud dilated by a few pixels around the cloud mask
CIRRUS_BIT = 2  # high-confidence cirrus; Landsat 8-9 only (unused on 4-7)
CLOUD_BIT = 3  # high-confidence cloud
CLOUD_SHADOW_BIT = 4  # high-confidence cloud shadow
SNOW_BIT = 5  # high-confidence snow/ice
CLEAR_BIT = 6  # set when neither cloud nor dilated cloud is set (shadow/snow may still be set)
WATER_BIT = 7  # water

# Two-bit confidence fields: 0 not set, 1 low, 2 medium (cloud only; "reserved" elsewhere), 3 high.
CLOUD_CONFIDENCE_OFFSET = 8
CLOUD_SHADOW_CONFIDENCE_OFFSET = 10
SNOW_CONFIDENCE_OFFSET = 12
CIRRUS_CONFIDENCE_OFFSET = 14  # Landsat 8-9 only

# QA_RADSAT bits 0-6 flag saturation of bands 1-7 (both guides).
RADSAT_BANDS_1_TO_7 = 0b111_1111

Flag = QAFlag
Confidence = Literal["low", "medium", "high"]

FLAG_BITS: dict[str, int] = {
    "fill": FILL_BIT,
    "dilated": DILATED_CLOUD_BIT,
    "cirrus": CIRRUS_BIT,
    "cloud": CLOUD_BIT,
    "shadow": CLOUD_SHADOW_BIT,
    "snow": SNOW_BIT,
    "water": WATER_BIT,
}
CONFIDENCE_LEVELS: dict[str, int] = {"low": 1, "medium": 2, "high": 3}

PLATFORMS_WITH_CIRRUS = OLI_PLATFORMS


def has_cirrus(platform: str) -> bool:
    """True for the OLI sensors (Landsat 8-9), which carry a cirrus band."""
    return platform in PLATFORMS_WITH_CIRRUS


def bit_set(qa: np.ndarray, bit: int) -> np.ndarray:
    """Boolean array: is `bit` set in each QA value."""
    # One uint16 temporary, not three: this runs on every AOI pixel of every date.
    return (np.asarray(qa, dtype=np.uint16) & np.uint16(1 << bit)) != 0


def confidence(qa: np.ndarray, offset: int) -> np.ndarray:
    """The 2-bit confidence level (0-3) stored at `offset`."""
    return ((np.asarray(qa).astype(np.uint16) >> np.uint16(offset)) & np.uint16(0b11)).astype(np.uint8)


@dataclass(frozen=True)
class QAClasses:
    """Per-pixel classes decoded from one QA_PIXEL array (all boolean, same shape)."""

    fill: np.ndarray
    """No data: outside the swath or an SLC-off gap."""
    dilated: np.ndarray
    cirrus: np.ndarray
    """Always False on Landsat 4-7, which have no cirrus band."""
    cloud: np.ndarray
    shadow: np.ndarray
    snow: np.ndarray
    water: np.ndarray

    @property
    def valid(self) -> np.ndarray:
        return ~self.fill

    @property
    def any_cloud(self) -> np.ndarray:
        """Cloud, dilated cloud or cirrus: what a user calls 'cloudy'."""
        return self.cloud | self.dilated | self.cirrus


def decode_qa(qa: np.ndarray, platform: str) -> QAClasses:
    """Split a QA_PIXEL array into boolean class layers for the given platform.

    Fill pixels carry no other class, whatever their other bits say.
    """
    fill = bit_set(qa, FILL_BIT)
    valid = ~fill
    cirrus = bit_set(qa, CIRRUS_BIT) & valid if has_cirrus(platform) else np.zeros_like(fill)
    return QAClasses(
        fill=fill,
        dilated=bit_set(qa, DILATED_CLOUD_BIT) & valid,
        cirrus=cirrus,
        cloud=bit_set(qa, CLOUD_BIT) & valid,
        shadow=bit_set(qa, CLOUD_SHADOW_BIT) & valid,
        snow=bit_set(qa, SNOW_BIT) & valid,
        water=bit_set(qa, WATER_BIT) & valid,
    )


@dataclass(frozen=True)
class MaskPolicy:
    """Which pixels a mask removes. Fill is always removed: it holds no data."""

    flags: frozenset[str] = DEFAULT_FLAGS
    """Single-bit flags whose pixels are removed (names of FLAG_BITS)."""
    cloud_confidence: Confidence | None = None
    """Also remove pixels whose cloud confidence is at least this level."""
    cirrus_confidence: Confidence | None = None
    """Also remove pixels whose cirrus confidence is at least this (Landsat 8-9 only)."""
    shadow_confidence: Confidence | None = None
    """Also remove pixels whose cloud-shadow confidence is at least this."""
    snow_confidence: Confidence | None = None
    """Also remove pixels whose snow/ice confidence is at least this."""
    buffer_m: float = 0.0
    """Grow the removed cloud/shadow area by this many metres (never the fill)."""
    saturated: bool = False
    """Also remove pixels QA_RADSAT marks as saturated in any of bands 1-7."""
    kind: MaskKind = "qa"
    """Which mask decides: "qa" (QA_PIXEL, with the settings above), "ml" (the machine-learning
    model of cloudcore.mlmask) or "qa+ml" (their union)."""

    def __post_init__(self) -> None:
        flags = self.flags
        if isinstance(flags, str):  # frozenset("cloud") would be the letters c, l, o, u, d
            flags = [f.strip() for f in flags.split(",") if f.strip()]
        object.__setattr__(self, "flags", frozenset(flags))
        unknown = sorted(self.flags - FLAG_BITS.keys())
        if unknown:
            raise InvalidInputError(
                f"Unknown mask flag(s) {', '.join(unknown)}: use any of {', '.join(FLAG_BITS)}."
            )
        for name in ("cloud_confidence", "cirrus_confidence", "shadow_confidence", "snow_confidence"):
            level = getattr(self, name)
            if level is not None and level not in CONFIDENCE_LEVELS:
                raise InvalidInputError(f"{name} is {level!r}: use one of low, medium, high.")
        check_mask_kind(self.kind)
        if not np.isfinite(self.buffer_m) or self.buffer_m < 0:
            raise InvalidInputError(f"Buffer {self.buffer_m} m is not a distance: give 0 or more metres.")

    @property
    def needs_ml(self) -> bool:
        """True when the reflectance bands must be read to run the ML model."""
        return self.kind != "qa"

    def describe(self) -> str:
        parts = [",".join(sorted(self.flags)) or "fill only"]
        if self.buffer_m:
            parts.append(f"+{self.buffer_m:g} m buffer")
        return " ".join(parts)


def parse_flags(text: str | Iterable[str]) -> frozenset[str]:
    """Parse 'dilated,cirrus,cloud,shadow' (or a list) into a validated flag set."""
    items = text.split(",") if isinstance(text, str) else list(text)
    flags = frozenset(item.strip().lower() for item in items if item.strip())
    aliases = {"dilated_cloud": "dilated", "cloud_shadow": "shadow", "snow_ice": "snow"}
    flags = frozenset(aliases.get(f, f) for f in flags)
    MaskPolicy(flags=flags)  # validates with a clear message
    return flags


def buffer_structure(buffer_m: float, pixel_size_m: float) -> np.ndarray | None:
    """A disk of radius buffer_m in pixels, or None when the buffer is under half a pixel."""
    radius = buffer_m / pixel_size_m
    if radius < 0.5:
        return None
    r = int(np.ceil(radius))
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    return (xx**2 + yy**2) <= radius**2


def removed_mask(
    qa: np.ndarray,
    platform: str,
    policy: MaskPolicy = MaskPolicy(),
    radsat: np.ndarray | None = None,
    pixel_size_m: float = 30.0,
) -> np.ndarray:
    """Boolean array: pixels the policy removes (fill included)."""
    qa = np.asarray(qa, dtype=np.uint16)
    fill = bit_set(qa, FILL_BIT)
    valid = ~fill
    # All flags in one bit test: a few bytes per pixel instead of a layer per class (this runs
    # on every pixel of every date, and a 100 km AOI is 11 million pixels).
    hit = (qa & np.uint16(flags_bitmask(policy.flags, platform))) != 0
    hit &= valid
    levels = (
        (policy.cloud_confidence, CLOUD_CONFIDENCE_OFFSET, True),
        (policy.cirrus_confidence, CIRRUS_CONFIDENCE_OFFSET, has_cirrus(platform)),
        (policy.shadow_confidence, CLOUD_SHADOW_CONFIDENCE_OFFSET, True),
        (policy.snow_confidence, SNOW_CONFIDENCE_OFFSET, True),
    )
    for level, offset, applies in levels:
        if level is not None and applies:
            hit |= (confidence(qa, offset) >= CONFIDENCE_LEVELS[level]) & valid
    if policy.saturated and radsat is not None:
        hit |= ((np.asarray(radsat).astype(np.uint16) & RADSAT_BANDS_1_TO_7) != 0) & valid
    structure = buffer_structure(policy.buffer_m, pixel_size_m)
    if structure is not None and hit.any():
        from scipy import ndimage  # only a buffer needs it; loading it costs ~0.4 s

        hit = ndimage.binary_dilation(hit, structure=structure) & valid
    hit |= fill
    return hit


def flags_bitmask(flags: Iterable[str], platform: str) -> int:
    """The QA_PIXEL bits of the single-bit flags (fill left out; cirrus only on Landsat 8-9)."""
    mask = 0
    for flag in flags:
        if flag == "fill" or (flag == "cirrus" and not has_cirrus(platform)):
            continue
        mask |= 1 << FLAG_BITS[flag]
    return mask
