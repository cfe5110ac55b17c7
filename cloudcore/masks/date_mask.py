"""The mask of one date under a policy: QA_PIXEL, the ML model, or both.

QA decoding is cheap and always done (the statistics and the agreement report need it); the
ML model runs only when the policy asks for it, on the AOI window that was read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..errors import InvalidInputError
from ..product import SR_BANDS
from .ml import combine_masks, ml_removed_mask
from .qa import FILL_BIT, MaskPolicy, bit_set, removed_mask


@dataclass(frozen=True)
class DateMask:
    """Removed pixels of a date on its AOI grid."""

    removed: np.ndarray
    """What the policy removes (QA, ML or their union; fill always)."""
    qa_removed: np.ndarray
    """What QA_PIXEL alone removes under the policy's flags."""
    ml_removed: np.ndarray | None
    """What the ML model removes; None when the policy did not ask for it."""


class DateArrays(Protocol):
    """What a mask needs of one date on its grid (`cloudcore.io.stack.DateStack` is one)."""

    @property
    def qa(self) -> np.ndarray: ...

    @property
    def radsat(self) -> np.ndarray | None: ...

    @property
    def bands(self) -> np.ndarray | None: ...


def mask_date(stack: DateArrays, platform: str, policy: MaskPolicy, pixel_size_m: float) -> DateMask:
    """Apply the policy to one date's arrays (whose `bands` must be SR_BANDS when the policy needs ML)."""
    qa_removed = removed_mask(stack.qa, platform, policy, stack.radsat, pixel_size_m)
    ml_removed = None
    if policy.needs_ml:
        if stack.bands is None or stack.bands.shape[0] != len(SR_BANDS):
            raise InvalidInputError("The ML mask needs the six reflectance bands of the date: read them with the QA band.")
        ml_removed = ml_removed_mask(stack.bands, SR_BANDS, ~bit_set(stack.qa, FILL_BIT))
    return DateMask(removed=combine_masks(policy.kind, qa_removed, ml_removed), qa_removed=qa_removed, ml_removed=ml_removed)
