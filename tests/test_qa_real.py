"""cloudcore.masks.qa against real USGS QA_PIXEL rasters: the counts in shared/data/real/README.md."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio

from cloudcore.masks.qa import (
    CIRRUS_CONFIDENCE_OFFSET,
    CLEAR_BIT,
    CLOUD_CONFIDENCE_OFFSET,
    CONFIDENCE_LEVELS,
    bit_set,
    confidence,
    decode_qa,
    removed_mask,
)
from cloudcore.product import parse_product_id

STACTOOLS = "stactools-landsat-c2l2"

# Whole-file counts from shared/data/real/README.md:
# (folder, product id): (fill, valid, cloud, dilated, cirrus, shadow, snow, water)
README_COUNTS = {
    ("assets", "LC08_L2SP_005009_20150710_20200908_02_T2"): (124772, 137372, 75107, 5340, 1274, 6853, 55412, 0),
    ("assets2", "LC08_L2SR_099120_20191129_20201016_02_T2"): (134818, 127326, 127326, 0, 127326, 0, 0, 0),
    ("assets3", "LC08_L2SP_008059_20191201_20200825_02_T1"): (81507, 180637, 146419, 5753, 9879, 11209, 0, 85),
    ("assets4", "LC08_L2SP_017036_20130419_20200913_02_T2"): (86129, 176015, 176015, 0, 174638, 0, 0, 0),
}

# USGS Landsat 8-9 C2 L2 QA_PIXEL codes the README says these files confirm.
FILL = 1
CLEAR_LAND = 21824
WATER = 21952
HIGH_CLOUD = 22280
CLOUD_HIGH_CIRRUS = 55052
SHADOW = 23888
SNOW = 30048


def _read_qa(real_data: Path, folder: str, product_id: str) -> np.ndarray:
    with rasterio.open(real_data / STACTOOLS / folder / f"{product_id}_QA_PIXEL.TIF") as ds:
        return ds.read(1)


@pytest.mark.parametrize(("folder", "product_id"), list(README_COUNTS))
def test_whole_file_counts_match_readme(real_data, folder, product_id):
    qa = _read_qa(real_data, folder, product_id)
    classes = decode_qa(qa, parse_product_id(product_id)["platform"])
    counts = tuple(
        int(layer.sum())
        for layer in (
            classes.fill,
            classes.valid,
            classes.cloud,
            classes.dilated,
            classes.cirrus,
            classes.shadow,
            classes.snow,
            classes.water,
        )
    )
    assert counts == README_COUNTS[(folder, product_id)]
    assert counts[0] + counts[1] == qa.size


@pytest.mark.parametrize(("folder", "product_id"), list(README_COUNTS))
def test_real_fill_pixels_hold_the_fill_code_only(real_data, folder, product_id):
    qa = _read_qa(real_data, folder, product_id)
    classes = decode_qa(qa, "landsat-8")
    assert set(np.unique(qa[classes.fill]).tolist()) <= {FILL}
    # Fill is always removed, whatever the policy.
    assert removed_mask(qa, "landsat-8")[classes.fill].all()


def test_named_codes_occur_in_the_real_files(real_data):
    seen: set[int] = set()
    for folder, product_id in README_COUNTS:
        seen.update(np.unique(_read_qa(real_data, folder, product_id)).tolist())
    assert {FILL, CLEAR_LAND, WATER, HIGH_CLOUD, CLOUD_HIGH_CIRRUS, SHADOW, SNOW} <= seen


def _classes_of(value: int) -> dict[str, bool]:
    classes = decode_qa(np.array([value], dtype=np.uint16), "landsat-8")
    names = ("fill", "dilated", "cirrus", "cloud", "shadow", "snow", "water")
    return {name: bool(getattr(classes, name)[0]) for name in names}


NO_CLASS = dict.fromkeys(("fill", "dilated", "cirrus", "cloud", "shadow", "snow", "water"), False)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (FILL, {**NO_CLASS, "fill": True}),
        (CLEAR_LAND, NO_CLASS),
        (WATER, {**NO_CLASS, "water": True}),
        (HIGH_CLOUD, {**NO_CLASS, "cloud": True}),
        (CLOUD_HIGH_CIRRUS, {**NO_CLASS, "cloud": True, "cirrus": True}),
        (SHADOW, {**NO_CLASS, "shadow": True}),
        (SNOW, {**NO_CLASS, "snow": True}),
    ],
)
def test_named_codes_decode_to_their_class(value, expected):
    assert _classes_of(value) == expected


def test_clear_bit_only_means_not_cloud():
    # In Collection 2 "clear" is set on shadow, snow and water pixels too.
    for value in (CLEAR_LAND, WATER, SHADOW, SNOW):
        assert bit_set(np.array([value]), CLEAR_BIT)[0]
    for value in (HIGH_CLOUD, CLOUD_HIGH_CIRRUS):
        assert not bit_set(np.array([value]), CLEAR_BIT)[0]


def test_named_codes_confidence_levels():
    high = CONFIDENCE_LEVELS["high"]
    assert confidence(np.array([HIGH_CLOUD]), CLOUD_CONFIDENCE_OFFSET)[0] == high
    assert confidence(np.array([CLOUD_HIGH_CIRRUS]), CIRRUS_CONFIDENCE_OFFSET)[0] == high
    assert confidence(np.array([CLEAR_LAND]), CIRRUS_CONFIDENCE_OFFSET)[0] < high


def test_same_codes_on_landsat_7_never_report_cirrus():
    classes = decode_qa(np.array([CLOUD_HIGH_CIRRUS]), "landsat-7")
    assert classes.cloud[0] and not classes.cirrus[0]
