"""A whole Landsat scene's bounding box is measured with the default settings.

A full-size QA_PIXEL raster (7,791 x 7,891 px at 30 m, the size of a Landsat 8 Level-2 scene, near
WRS-2 008/059 on the equator) is measured over the lon/lat bounding box of its whole extent:
about 56,000 km², over the old 50,000 km² default. Every pixel of the raster lies inside that box,
so its cloud and shadow shares must equal a plain count over the whole file.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.warp import transform_bounds
from shapely.geometry import box, mapping

import cloudcore
from cloudcore.masks.qa import CLOUD_BIT, CLOUD_SHADOW_BIT, DILATED_CLOUD_BIT, FILL_BIT

WIDTH, HEIGHT = 7791, 7891
TRANSFORM = Affine(30.0, 0.0, 389_000.0, 0.0, -30.0, 273_000.0)
CRS = "EPSG:32618"
# Collection 2 QA_PIXEL codes seen in real Landsat 8 files (../shared/data/real/README.md).
CLEAR, CLOUD, SHADOW, FILL = 21824, 22280, 23888, 1


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    folder = tmp_path_factory.mktemp("whole-scene")
    qa = np.full((HEIGHT, WIDTH), CLEAR, np.uint16)
    qa[:, :300] = FILL  # a no-data margin, as at a scene's edge
    qa[1000:3000, 2000:5000] = CLOUD
    qa[3200:3900, 2500:6000] = SHADOW
    path = folder / "LC08_L2SP_008059_20191201_20200825_02_T1_QA_PIXEL.TIF"
    with rasterio.open(path, "w", driver="COG", width=WIDTH, height=HEIGHT, count=1, dtype="uint16", crs=CRS,
                       transform=TRANSFORM, compress="DEFLATE", nodata=None) as out:
        out.write(qa, 1)
    bounds = transform_bounds(CRS, "EPSG:4326", *rasterio.transform.array_bounds(HEIGHT, WIDTH, TRANSFORM),
                              densify_pts=101)
    item = {
        "type": "Feature", "stac_version": "1.0.0", "id": "LC08_L2SP_008059_20191201_02_T1",
        "bbox": list(bounds), "geometry": mapping(box(*bounds)),
        "properties": {"datetime": "2019-12-01T15:14:00Z", "platform": "landsat-8", "landsat:wrs_path": "008",
                       "landsat:wrs_row": "059", "eo:cloud_cover": 40.0},
        "assets": {"qa_pixel": {"href": str(path)}}, "links": [],
    }
    return qa, bounds, item


def test_a_whole_scene_bbox_is_measured_with_the_default_settings(scene, monkeypatch):
    for name in list(__import__("os").environ):
        if name.startswith("CLOUDCORE_") and name != "CLOUDCORE_CACHE_DIR":
            monkeypatch.delenv(name)
    qa, bounds, item = scene
    area = cloudcore.parse_aoi(bounds).area_km2
    assert 50_000 < area < cloudcore.Settings().max_aoi_km2

    table = cloudcore.cover(bounds, dt.date(2019, 12, 1), dt.date(2019, 12, 1), source=[item], cache=False)

    assert len(table) == 1 and table["error"].isna().all()
    row = table.iloc[0]
    valid = (qa & (1 << FILL_BIT)) == 0
    cloud = valid & ((qa & ((1 << CLOUD_BIT) | (1 << DILATED_CLOUD_BIT))) != 0)
    shadow = valid & ((qa & (1 << CLOUD_SHADOW_BIT)) != 0)
    assert row["cloud_pct"] == round(100 * cloud.sum() / valid.sum(), 2)
    assert row["shadow_pct"] == round(100 * shadow.sum() / valid.sum(), 2)
    # The box holds more than the raster (its corners lie outside it): those pixels have no data.
    assert 90 < row["valid_pct"] < 100
    assert row["obscured_pct"] == pytest.approx(100 - row["valid_pct"] * row["clear_pct"] / 100, abs=0.01)
