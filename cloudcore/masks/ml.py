"""A machine-learning cloud and cloud-shadow mask beside QA_PIXEL, and how the two compare.

The model is ukis-csmask (DLR; a U-Net with an EfficientNet-B4 encoder, shipped as ONNX
weights inside the wheel, so it runs offline). It has four models: 4 or 6 bands x `l1c`
(top-of-atmosphere reflectance) or `l2a` (surface reflectance). Every one of them predicts
three classes, read from the models' `model_*.json` ("classes": 3) and `CSmask._csm`:

    0 = background (clear: land, water, snow, anything that is neither of the next two)
    1 = cloud      (one class for thick and thin cloud: there is no separate cirrus class)
    2 = cloud shadow

ukis-csmask's own nodata handling is not used: it compares its 0/1 valid mask with the
nodata value, so only a nodata value of 0 works, and after the Level-2 offset a reflectance
of 0 is a real value. We pass no nodata value and apply the caller's `valid` afterwards.

Cost: `CSmask` opens a new onnxruntime session (about 0.7 s) in its constructor on every
call and takes no session from outside, so the session cannot be cached without
re-implementing its tiling and blending; we accept the cost. Inference is about 0.3 s per
256 px tile on 2 idle cores, and CSmask's own overlapping tiling makes a 256 px image 4
tiles, 384 px 9 and 512 px 16: about 2 s for 256 x 256 and 3-5 s for 512 x 512 in all.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ..errors import InvalidInputError
from ..options import MaskKind, check_mask_kind
from ..product import SR_OFFSET, SR_SCALE

# Our band keys (Planetary Computer's, see scene.SR_BANDS) -> the names ukis-csmask expects.
CSMASK_BAND_NAMES: dict[str, str] = {
    "blue": "blue",
    "green": "green",
    "red": "red",
    "nir08": "nir",
    "swir16": "swir16",
    "swir22": "swir22",
}
BANDS_4: tuple[str, ...] = ("blue", "green", "red", "nir08")
"""The bands every model needs."""
BANDS_6: tuple[str, ...] = BANDS_4 + ("swir16", "swir22")
"""With both SWIR bands the 6-band model runs, which the ukis-csmask authors report as better."""

# ukis-csmask class codes (model_*.json "classes": 3; CSmask._csm docstring).
CSM_CLEAR = 0
CSM_CLOUD = 1
CSM_SHADOW = 2

TILE_PX = 256
"""The models' input tile ("target_size" in model_*.json); smaller images are padded to it."""
ONNX_THREADS = 2
"""Intra-op threads: the machines this runs on have 2 cores."""
# One inference at a time: each already uses ONNX_THREADS cores and loads its own ~40 MB
# model, so concurrent calls (e.g. from cover's thread pool) would only add memory.
_INFERENCE_LOCK = threading.Lock()

Level = Literal["l2", "l1"]
_PRODUCT_LEVEL: dict[str, str] = {"l2": "l2a", "l1": "l1c"}

# Codes of `disagreement_map`: bit 0 = QA removes the pixel, bit 1 = the ML mask removes it.
AGREE_CLEAR = 0
QA_ONLY = 1
ML_ONLY = 2
BOTH_REMOVED = 3



@dataclass(frozen=True)
class MLClasses:
    """Per-pixel classes from the ML mask (all boolean, (H, W), mutually exclusive)."""

    cloud: np.ndarray
    """ukis-csmask class 1: thick and thin cloud alike."""
    shadow: np.ndarray
    """ukis-csmask class 2: cloud shadow."""
    clear: np.ndarray
    """ukis-csmask class 0 (background) on valid pixels."""
    nodata: np.ndarray
    """The caller's `valid` was False: never cloud, shadow or clear, whatever the model said."""

    @property
    def removed(self) -> np.ndarray:
        """Cloud, shadow or nodata: what a mask built on these classes removes."""
        return self.cloud | self.shadow | self.nodata


def _select_bands(band_names: Sequence[str], n_bands: int) -> tuple[list[int], tuple[str, ...]]:
    """Indices of the bands the model will use, and their names, 6-band when both SWIR exist."""
    names = [str(name).lower() for name in band_names]
    if len(names) != n_bands:
        raise InvalidInputError(
            f"{n_bands} bands but {len(names)} band names ({', '.join(names)}): give one name per band."
        )
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise InvalidInputError(f"Band name(s) {', '.join(duplicates)} given twice: name each band once.")
    missing = [band for band in BANDS_4 if band not in names]
    if missing:
        raise InvalidInputError(
            f"The ML cloud mask needs band(s) {', '.join(missing)}, missing from {', '.join(names) or 'none'}: "
            f"read at least {', '.join(BANDS_4)} (better also swir16, swir22)."
        )
    wanted = BANDS_6 if all(band in names for band in BANDS_6) else BANDS_4
    return [names.index(band) for band in wanted], wanted


def _to_reflectance(bands: np.ndarray, level: Level) -> np.ndarray:
    """(B, H, W) input as float32 reflectance."""
    if level == "l2":
        # ref: LSDS-1619 / LSDS-1618 "Scale factors": surface reflectance = DN x 0.0000275 - 0.2.
        return bands.astype(np.float32) * np.float32(SR_SCALE) + np.float32(SR_OFFSET)
    return bands.astype(np.float32)  # the caller already computed top-of-atmosphere reflectance


def _pad_to_tile(image: np.ndarray) -> np.ndarray:
    """Mirror-pad an (H, W, B) image to at least one model tile on each side.

    ukis-csmask only warns when an image is smaller than its 256 px tile; mirroring keeps
    the padded pixels looking like the scene, so the model sees no artificial edge.
    """
    pad_y = max(0, TILE_PX - image.shape[0])
    pad_x = max(0, TILE_PX - image.shape[1])
    if not (pad_y or pad_x):
        return image
    return np.pad(image, ((0, pad_y), (0, pad_x), (0, 0)), mode="symmetric")


def _predict(image: np.ndarray, band_names: Sequence[str], product_level: str) -> np.ndarray:
    """ukis-csmask class codes (H, W) for an (H, W, B) float32 reflectance image."""
    try:
        from ukis_csmask.mask import CSmask
    except ImportError as err:  # the optional dependency, or onnxruntime behind it
        raise InvalidInputError(
            "The ML cloud mask needs ukis-csmask: pip install 'cloudcore[ml]' (or 'ukis-csmask[cpu]'), "
            "or use the QA_PIXEL mask."
        ) from err
    height, width = image.shape[:2]
    padded = np.ascontiguousarray(_pad_to_tile(image))
    with _INFERENCE_LOCK:
        model = CSmask(
            padded,
            band_order=list(band_names),
            product_level=product_level,
            nodata_value=None,  # ours is applied afterwards (see the module docstring)
            invalid_buffer=1,  # CSmask.valid is not used; 0 would dilate until nothing changes
            intra_op_num_threads=ONNX_THREADS,
            inter_op_num_threads=1,
            providers=["CPUExecutionProvider"],  # no GPU here; avoids probing other providers
        )
    return model.csm[:height, :width, 0]


def ml_classes(
    bands: np.ndarray,
    band_names: Sequence[str],
    valid: np.ndarray,
    level: Level = "l2",
) -> MLClasses:
    """Classify cloud, cloud shadow and clear pixels with ukis-csmask.

    Args:
        bands: (B, H, W). For `level="l2"`, Landsat Collection 2 Level-2 surface reflectance
            DN (the `l2a` model runs on DN x 0.0000275 - 0.2). For `level="l1"`,
            top-of-atmosphere reflectance the caller computed (the `l1c` model runs on it).
        band_names: One name per band, our keys: blue, green, red, nir08 and, for the
            6-band model, swir16 and swir22. Any order; other bands are ignored.
        valid: (H, W) boolean, False where there is no data; those pixels become `nodata`.
        level: "l2" (surface reflectance) or "l1" (top-of-atmosphere reflectance).

    Returns:
        The classes; each pixel is exactly one of cloud, shadow, clear or nodata.

    Raises:
        InvalidInputError: a needed band is missing, the shapes disagree, or the level is unknown.
    """
    if level not in _PRODUCT_LEVEL:
        raise InvalidInputError(f"Level {level!r} is not known: use one of {', '.join(_PRODUCT_LEVEL)}.")
    bands = np.asarray(bands)
    if bands.ndim != 3:
        raise InvalidInputError(f"Bands have shape {bands.shape}: give a (bands, rows, cols) array.")
    valid = np.asarray(valid, dtype=bool)
    if valid.shape != bands.shape[1:]:
        raise InvalidInputError(f"Valid mask shape {valid.shape} differs from the bands' {bands.shape[1:]}.")
    indices, used = _select_bands(band_names, bands.shape[0])
    image = np.moveaxis(_to_reflectance(bands[indices], level), 0, -1)
    # No-data pixels get reflectance 0 rather than DN 0's -0.2: the model's own nodata
    # convention is 0, and an out-of-range value could bleed into its neighbours' predictions.
    image[~valid] = 0.0
    codes = _predict(image, [CSMASK_BAND_NAMES[b] for b in used], _PRODUCT_LEVEL[level])
    return MLClasses(
        cloud=(codes == CSM_CLOUD) & valid,
        shadow=(codes == CSM_SHADOW) & valid,
        clear=(codes == CSM_CLEAR) & valid,
        nodata=~valid,
    )


def ml_removed_mask(
    bands: np.ndarray,
    band_names: Sequence[str],
    valid: np.ndarray,
    level: Level = "l2",
) -> np.ndarray:
    """Boolean (H, W): pixels the ML mask removes (cloud, shadow or nodata). Args as `ml_classes`."""
    return ml_classes(bands, band_names, valid, level).removed


def _pct(count: int, total: int) -> float | None:
    return round(100.0 * count / total, 2) if total else None


def agreement(
    qa_removed: np.ndarray,
    ml_removed: np.ndarray,
    inside: np.ndarray,
    valid: np.ndarray | None = None,
) -> dict[str, float | int | None]:
    """How far the QA_PIXEL and the ML masks agree inside the AOI.

    Args:
        qa_removed: (H, W) boolean, pixels QA_PIXEL removes.
        ml_removed: (H, W) boolean, pixels the ML mask removes.
        inside: (H, W) boolean, pixels in the AOI.
        valid: (H, W) boolean, pixels holding data. Both masks remove no-data pixels, so
            counting them would inflate the agreement; give it to leave them out.

    Returns:
        `pixels` counted; `agree_pct`, `qa_only_pct`, `ml_only_pct`, `both_pct` (of the
        counted pixels, None when there are none); `iou` of the two removed sets (None when
        neither removes anything).
    """
    counted = np.asarray(inside, dtype=bool)
    if valid is not None:
        counted = counted & np.asarray(valid, dtype=bool)
    qa = np.asarray(qa_removed, dtype=bool) & counted
    ml = np.asarray(ml_removed, dtype=bool) & counted
    total = int(counted.sum())
    both = int((qa & ml).sum())
    qa_only = int((qa & ~ml).sum())
    ml_only = int((ml & ~qa).sum())
    union = both + qa_only + ml_only
    return {
        "pixels": total,
        "agree_pct": _pct(total - qa_only - ml_only, total),
        "iou": round(both / union, 4) if union else None,
        "qa_only_pct": _pct(qa_only, total),
        "ml_only_pct": _pct(ml_only, total),
        "both_pct": _pct(both, total),
    }


def disagreement_map(qa_removed: np.ndarray, ml_removed: np.ndarray) -> np.ndarray:
    """uint8 codes per pixel: AGREE_CLEAR (0), QA_ONLY (1), ML_ONLY (2), BOTH_REMOVED (3)."""
    qa = np.asarray(qa_removed, dtype=bool)
    ml = np.asarray(ml_removed, dtype=bool)
    return (qa.astype(np.uint8) * QA_ONLY) | (ml.astype(np.uint8) * ML_ONLY)


def combine_masks(kind: MaskKind, qa_removed: np.ndarray, ml_removed: np.ndarray | None) -> np.ndarray:
    """The removed pixels of the chosen mask: QA_PIXEL's, the ML model's, or their union.

    Raises:
        InvalidInputError: `kind` is unknown, or it needs the ML mask and none was given.
    """
    check_mask_kind(kind)
    if kind == "qa":
        return np.asarray(qa_removed, dtype=bool)
    if ml_removed is None:
        raise InvalidInputError(f"Mask {kind!r} needs the ML mask, which was not computed: compute it or use 'qa'.")
    if kind == "ml":
        return np.asarray(ml_removed, dtype=bool)
    return np.asarray(qa_removed, dtype=bool) | np.asarray(ml_removed, dtype=bool)
