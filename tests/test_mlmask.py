"""cloudcore.masks.ml: the ukis-csmask cloud/shadow mask, its band handling, and the QA comparison.

The model takes about 1-3 s per call here, so the real model runs only three times (two
synthetic images, one real scene); band mapping, order, scaling and padding are checked
exactly through a recording stand-in for ukis-csmask's CSmask.
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import rasterio
from scipy import ndimage

from cloudcore.errors import InvalidInputError
from cloudcore.masks.ml import (
    AGREE_CLEAR,
    BOTH_REMOVED,
    CSM_CLOUD,
    CSM_SHADOW,
    ML_ONLY,
    QA_ONLY,
    TILE_PX,
    MLClasses,
    agreement,
    combine_masks,
    disagreement_map,
    ml_classes,
    ml_removed_mask,
)
from cloudcore.masks.qa import MaskPolicy, decode_qa, removed_mask
from cloudcore.options import MASK_KINDS, check_mask_kind
from cloudcore.product import SR_BANDS, SR_OFFSET, SR_SCALE

pytest.importorskip("ukis_csmask")

# Typical surface reflectance (red, green, blue, nir08, swir16, swir22 = SR_BANDS order).
VEGETATION = np.array([0.04, 0.07, 0.03, 0.30, 0.15, 0.07])
CLOUD = np.array([0.58, 0.59, 0.62, 0.65, 0.40, 0.32])  # median of ML-cloud pixels in the rio-tiler scene


def _dn(reflectance: np.ndarray) -> np.ndarray:
    """Collection 2 Level-2 DN for a surface reflectance (the inverse of the USGS scale/offset)."""
    return np.round((reflectance - SR_OFFSET) / SR_SCALE).clip(1, 65535).astype(np.uint16)


def _texture(shape: tuple[int, int], seed: int, sigma: float) -> np.ndarray:
    """Smooth random field with unit spread."""
    field = ndimage.gaussian_filter(np.random.default_rng(seed).standard_normal(shape), sigma)
    return field / field.std()


def _scene(size: int, cloud_box: tuple[slice, slice] | None = None) -> np.ndarray:
    """(6, size, size) DN: vegetation, with a textured cloud in `cloud_box`.

    The cloud needs texture: the model calls a perfectly flat white square clear
    (tried: 0 % cloud), as it learnt clouds from real, structured ones.
    """
    reflectance = VEGETATION[:, None, None] * (1 + 0.05 * _texture((size, size), 0, 1))
    if cloud_box is not None:
        cloud = CLOUD[:, None, None] * (1 + 0.15 * _texture((size, size), 1, 4))
        reflectance[:, cloud_box[0], cloud_box[1]] = cloud[:, cloud_box[0], cloud_box[1]]
    return _dn(reflectance)


BOX = (slice(64, 192), slice(64, 192))
HOLE = (slice(100, 120), slice(100, 160))  # inside the cloud box: cloud-bright, but no data


@pytest.fixture(scope="module")
def cloudy() -> tuple[np.ndarray, np.ndarray, MLClasses]:
    """One real inference: a 256 px textured cloud over vegetation, a no-data hole in the cloud."""
    bands = _scene(TILE_PX, BOX)
    valid = np.ones((TILE_PX, TILE_PX), dtype=bool)
    valid[HOLE] = False
    return bands, valid, ml_classes(bands, SR_BANDS, valid)


def _box_mask(box: tuple[slice, slice], size: int = TILE_PX) -> np.ndarray:
    mask = np.zeros((size, size), dtype=bool)
    mask[box] = True
    return mask


class RecordingCSmask:
    """Stands in for ukis_csmask.mask.CSmask: records what it was given, predicts all clear."""

    calls: list[dict] = []

    def __init__(self, img, band_order, product_level="l1c", nodata_value=None, **kwargs):
        RecordingCSmask.calls.append(
            dict(img=img.copy(), band_order=list(band_order), product_level=product_level, nodata_value=nodata_value)
        )
        self.csm = np.zeros(img.shape[:2] + (1,), dtype=np.uint8)
        self.csm[0, 0, 0] = CSM_CLOUD  # marks the top-left corner, to check the crop keeps it
        self.csm[-1, -1, 0] = CSM_SHADOW  # in the padding for small images: must be cropped away


@pytest.fixture
def recorder(monkeypatch):
    import ukis_csmask.mask

    RecordingCSmask.calls = []
    monkeypatch.setattr(ukis_csmask.mask, "CSmask", RecordingCSmask)
    return RecordingCSmask.calls


# --- the real model -------------------------------------------------------------------------


def test_outputs_are_boolean_layers_that_partition_the_image(cloudy):
    _, valid, classes = cloudy
    layers = (classes.cloud, classes.shadow, classes.clear, classes.nodata)
    for layer in layers:
        assert layer.shape == valid.shape
        assert layer.dtype == bool
    assert (np.sum(layers, axis=0) == 1).all()  # each pixel exactly one class
    assert np.array_equal(classes.removed, classes.cloud | classes.shadow | classes.nodata)


def test_bright_textured_patch_is_cloud_and_vegetation_around_it_clear(cloudy):
    _, valid, classes = cloudy
    box = _box_mask(BOX) & valid
    assert classes.cloud[box].mean() > 0.9
    outside = ~_box_mask(BOX)
    assert classes.clear[outside].mean() > 0.9


def test_nodata_is_applied_after_the_model_even_under_bright_cloud(cloudy):
    _, valid, classes = cloudy
    hole = _box_mask(HOLE)
    assert classes.nodata[hole].all()
    assert not (classes.cloud | classes.shadow | classes.clear)[hole].any()
    assert not classes.nodata[valid].any()


def test_uniform_vegetation_smaller_than_a_tile_is_clear_and_keeps_its_shape():
    bands = _scene(64)[:, :48, :]  # 48 x 64: under the 256 px tile on both axes
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # ukis-csmask's small-image warning must not fire
        classes = ml_classes(bands, SR_BANDS, np.ones((48, 64), dtype=bool))
    assert classes.clear.shape == (48, 64)
    assert classes.clear.mean() > 0.95


# --- band handling, scaling and padding (recording stand-in) --------------------------------


def test_level2_runs_the_6band_l2a_model_on_scaled_reflectance_in_its_band_names(recorder):
    bands = np.full((6, 8, 8), 10000, dtype=np.uint16)
    bands[SR_BANDS.index("nir08")] = 20000
    ml_classes(bands, SR_BANDS, np.ones((8, 8), dtype=bool))
    (call,) = recorder
    assert call["product_level"] == "l2a"
    assert call["nodata_value"] is None  # ours is applied afterwards
    assert call["band_order"] == ["blue", "green", "red", "nir", "swir16", "swir22"]
    img = call["img"]
    assert img.dtype == np.float32 and img.shape == (TILE_PX, TILE_PX, 6)  # channels last, padded
    # 10000 x 0.0000275 - 0.2 = 0.075; 20000 -> 0.35 (nir is the fourth channel they get)
    assert np.allclose(img[0, 0], [0.075, 0.075, 0.075, 0.35, 0.075, 0.075], atol=1e-6)


def test_padding_is_cropped_away(recorder):
    classes = ml_classes(np.full((6, 10, 20), 10000, dtype=np.uint16), SR_BANDS, np.ones((10, 20), dtype=bool))
    assert classes.cloud.shape == (10, 20)
    assert classes.cloud[0, 0]  # the stand-in's top-left cloud survives the crop
    assert not classes.shadow.any()  # its bottom-right shadow sat in the padding


def test_nodata_pixels_reach_the_model_as_zero_reflectance(recorder):
    valid = np.ones((8, 8), dtype=bool)
    valid[2, 3] = False
    ml_classes(np.full((6, 8, 8), 10000, dtype=np.uint16), SR_BANDS, valid)
    assert np.all(recorder[0]["img"][2, 3] == 0.0)


def test_permuting_bands_with_their_names_gives_the_model_the_same_input(recorder):
    # Exact check through the stand-in: the model itself is deterministic for a given input.
    bands = _scene(16)
    valid = np.ones((16, 16), dtype=bool)
    order = [5, 2, 0, 4, 1, 3]
    ml_classes(bands, SR_BANDS, valid)
    ml_classes(bands[order], [SR_BANDS[i] for i in order], valid)
    first, permuted = recorder
    assert first["band_order"] == permuted["band_order"]
    assert np.array_equal(first["img"], permuted["img"])


def test_without_swir_the_4band_model_runs(recorder):
    names = ("nir08", "red", "green", "blue", "lwir11")  # extra bands are ignored
    ml_classes(np.full((5, 8, 8), 10000, dtype=np.uint16), names, np.ones((8, 8), dtype=bool))
    assert recorder[0]["band_order"] == ["blue", "green", "red", "nir"]
    assert recorder[0]["img"].shape[-1] == 4


def test_one_swir_band_alone_still_gives_the_4band_model(recorder):
    ml_classes(np.full((5, 8, 8), 10000, dtype=np.uint16), SR_BANDS[:5], np.ones((8, 8), dtype=bool))
    assert recorder[0]["band_order"] == ["blue", "green", "red", "nir"]


def test_level1_takes_reflectance_as_given_and_runs_l1c(recorder):
    toa = np.full((4, 8, 8), 0.25, dtype=np.float64)
    ml_classes(toa, ("blue", "green", "red", "nir08"), np.ones((8, 8), dtype=bool), level="l1")
    assert recorder[0]["product_level"] == "l1c"
    assert np.allclose(recorder[0]["img"][:8, :8], 0.25)


def test_ml_removed_mask_is_cloud_shadow_or_nodata(recorder):
    valid = np.ones((8, 8), dtype=bool)
    valid[4, 4] = False
    removed = ml_removed_mask(np.full((6, 8, 8), 10000, dtype=np.uint16), SR_BANDS, valid)
    expected = np.zeros((8, 8), dtype=bool)
    expected[0, 0] = expected[4, 4] = True
    assert np.array_equal(removed, expected)


@pytest.mark.parametrize("missing", ["nir08", "blue"])
def test_a_missing_band_is_named(missing):
    names = [b for b in SR_BANDS if b != missing]
    with pytest.raises(InvalidInputError, match=missing):
        ml_classes(np.zeros((5, 8, 8), dtype=np.uint16), names, np.ones((8, 8), dtype=bool))


@pytest.mark.parametrize(
    ("names", "valid_shape", "level", "message"),
    [
        (SR_BANDS[:5], (8, 8), "l2", "6 bands but 5 band names"),
        (("red", "red", "green", "blue", "nir08", "swir16"), (8, 8), "l2", "red given twice"),
        (SR_BANDS, (8, 9), "l2", "Valid mask shape"),
        (SR_BANDS, (8, 8), "l3", "l2, l1"),
    ],
)
def test_bad_inputs_are_refused_with_the_reason(names, valid_shape, level, message):
    with pytest.raises(InvalidInputError, match=message):
        ml_classes(np.zeros((6, 8, 8), dtype=np.uint16), names, np.ones(valid_shape, dtype=bool), level=level)


def test_importing_the_module_does_not_load_onnxruntime():
    code = "import sys, cloudcore.masks.ml, cloudcore.masks.date_mask; print('onnxruntime' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- agreement, disagreement codes, mask choice ---------------------------------------------

QA = np.array([[1, 1, 0, 0], [0, 1, 0, 0]], dtype=bool)
ML = np.array([[1, 0, 1, 0], [0, 1, 0, 0]], dtype=bool)
INSIDE = np.array([[1, 1, 1, 1], [1, 1, 1, 0]], dtype=bool)
VALID = np.array([[1, 1, 1, 0], [1, 1, 1, 1]], dtype=bool)


def test_agreement_counts_by_hand():
    # Counted (inside and valid): 6 pixels. Both: (0,0), (1,1); QA only: (0,1); ML only: (0,2);
    # agree-clear: (1,0), (1,2). (0,3) has no data and (1,3) is outside the AOI.
    assert agreement(QA, ML, INSIDE, VALID) == {
        "pixels": 6,
        "agree_pct": 66.67,
        "iou": 0.5,
        "qa_only_pct": 16.67,
        "ml_only_pct": 16.67,
        "both_pct": 33.33,
    }


def test_agreement_without_valid_counts_every_aoi_pixel():
    stats = agreement(QA, ML, INSIDE)
    assert stats["pixels"] == 7
    assert stats["agree_pct"] == 71.43  # (0,3) now counts as agree-clear: 5 of 7


def test_agreement_iou_is_none_when_neither_mask_removes_anything():
    none = np.zeros((2, 4), dtype=bool)
    stats = agreement(none, none, INSIDE)
    assert stats["iou"] is None
    assert stats["agree_pct"] == 100.0


def test_agreement_of_an_empty_aoi_has_no_percentages():
    stats = agreement(QA, ML, np.zeros((2, 4), dtype=bool))
    assert stats["pixels"] == 0
    assert stats["agree_pct"] is None and stats["iou"] is None


def test_disagreement_codes():
    codes = disagreement_map(QA, ML)
    assert codes.dtype == np.uint8
    assert codes.tolist() == [
        [BOTH_REMOVED, QA_ONLY, ML_ONLY, AGREE_CLEAR],
        [AGREE_CLEAR, BOTH_REMOVED, AGREE_CLEAR, AGREE_CLEAR],
    ]
    assert (AGREE_CLEAR, QA_ONLY, ML_ONLY, BOTH_REMOVED) == (0, 1, 2, 3)


def test_combine_masks():
    assert MASK_KINDS == ("qa", "ml", "qa+ml")
    assert np.array_equal(combine_masks("qa", QA, ML), QA)
    assert np.array_equal(combine_masks("qa", QA, None), QA)
    assert np.array_equal(combine_masks("ml", QA, ML), ML)
    assert np.array_equal(combine_masks("qa+ml", QA, ML), QA | ML)


def test_combine_masks_refuses_an_unknown_kind_naming_the_choices():
    with pytest.raises(InvalidInputError, match=r"qa, ml, qa\+ml"):
        combine_masks("cloud", QA, ML)
    for kind in MASK_KINDS:
        assert check_mask_kind(kind) == kind
    with pytest.raises(InvalidInputError, match=r"qa, ml, qa\+ml") as refused:
        check_mask_kind("cloud")
    assert refused.value.parameter == "mask"


@pytest.mark.parametrize("kind", ["ml", "qa+ml"])
def test_combine_masks_needs_the_ml_mask_for_ml_kinds(kind):
    with pytest.raises(InvalidInputError, match="needs the ML mask"):
        combine_masks(kind, QA, None)


# --- one real scene -------------------------------------------------------------------------

RIO_TILER = "rio-tiler-pds-c2l2"
RIO_TILER_ID = "LC08_L2SP_001062_20201031_20201106_02_T2"
# Landsat 8 C2 L2 file suffix of each SR_BANDS key.
SR_FILES = {"red": "SR_B4", "green": "SR_B3", "blue": "SR_B2", "nir08": "SR_B5", "swir16": "SR_B6", "swir22": "SR_B7"}
AGREE_FLOOR_PCT = 60.0
"""Observed 73.8 % (IoU 0.74) with ukis-csmask 1.0.0 on this 600 m thumbnail: QA_PIXEL removes
every valid pixel of this very cloudy scene, the ML mask 74 % of them."""


def _read(path: Path) -> np.ndarray:
    with rasterio.open(path) as ds:
        return ds.read(1)


def test_real_scene_agrees_with_qa_pixel_above_the_floor(real_data):
    folder = real_data / RIO_TILER
    qa = _read(folder / f"{RIO_TILER_ID}_QA_PIXEL.TIF")
    bands = np.stack([_read(folder / f"{RIO_TILER_ID}_{SR_FILES[b]}.TIF") for b in SR_BANDS])
    valid = decode_qa(qa, "landsat-8").valid
    ml = ml_removed_mask(bands, SR_BANDS, valid)
    stats = agreement(removed_mask(qa, "landsat-8", MaskPolicy()), ml, np.ones_like(valid), valid)
    assert stats["pixels"] == int(valid.sum())
    assert stats["agree_pct"] > AGREE_FLOOR_PCT
    assert ml[~valid].all()  # fill is removed by both


# --- cloudcore.evaluation.mlquality's pure helpers ------------------------------------------


def test_level1_toa_reflectance_uses_the_oli_rescaling_and_optional_sun_angle():
    from cloudcore.evaluation.mlquality import toa_reflectance

    dn = np.array([[10000, 30000]], dtype=np.uint16)
    assert np.allclose(toa_reflectance(dn), [[0.1, 0.5]])  # DN x 2.0e-5 - 0.1
    assert np.allclose(toa_reflectance(dn, sun_elevation_deg=30.0), [[0.2, 1.0]])  # / sin(30 deg)


def test_segmentation_scores_by_hand():
    from cloudcore.evaluation.mlquality import segmentation_scores

    predicted = np.array([1, 1, 1, 0, 0, 0], dtype=bool)
    truth = np.array([1, 1, 0, 1, 0, 0], dtype=bool)
    counted = np.array([1, 1, 1, 1, 1, 0], dtype=bool)  # the last pixel is not counted
    scores = segmentation_scores(predicted, truth, counted)
    # TP 2, FP 1, FN 1, TN 1 over 5 pixels
    assert scores["precision"] == round(2 / 3, 4)
    assert scores["recall"] == round(2 / 3, 4)
    assert scores["iou"] == 0.5
    assert scores["accuracy"] == 0.6


@pytest.mark.parametrize(
    "text", ['{"IMAGE_ATTRIBUTES": {"SUN_ELEVATION": "64.45083205"}}', "    SUN_ELEVATION = 64.45083205\n"]
)
def test_sun_elevation_is_read_from_a_json_or_text_mtl(tmp_path, text):
    from cloudcore.evaluation.mlquality import _sun_elevation

    assert _sun_elevation(tmp_path) is None
    (tmp_path / "X_MTL.txt").write_text(text)
    assert _sun_elevation(tmp_path) == pytest.approx(64.45083205)


def test_the_quality_report_still_runs_as_python_m_cloudcore_mlquality():
    out = subprocess.run([sys.executable, "-m", "cloudcore.mlquality", "--help"], capture_output=True, text=True,
                         check=True)
    assert out.stdout.startswith("usage: python -m cloudcore.mlquality") and "--data" in out.stdout
