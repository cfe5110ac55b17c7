"""Thumbnails and compare pictures show the AOI's pixels, holes where the mask removed them."""

import datetime as dt

import numpy as np
import pytest

from cloudcore.errors import SourceUnreachableError
from cloudcore.gapfill.image import fill_date
from cloudcore.geo.aoi import parse_aoi
from cloudcore.masks.qa import CLEAR_BIT, CLOUD_BIT
from cloudcore.product import SR_BANDS
from cloudcore.render.maps import grid_bounds_lonlat, to_lonlat
from cloudcore.render.pictures import HOLE_RGBA, compare_pictures, filled_picture
from cloudcore.render.thumbnails import date_thumbnail
from cloudcore.sources.scene import group_by_date
from tests.rasters import ORIGIN, UTM33N, FailingSource, ListSource, lonlat_bbox, make_scene

CLEAR, CLOUD = 1 << CLEAR_BIT, 1 << CLOUD_BIT
# Reflectance 0.05 (dark land) and 0.25 (bright) as C2 L2 digital numbers.
DARK, BRIGHT = round((0.05 + 0.2) / 0.0000275), round((0.25 + 0.2) / 0.0000275)


@pytest.fixture
def two_dates(tmp_path):
    cloudy_qa = np.full((60, 60), CLEAR, np.uint16)
    cloudy_qa[20:40, 20:40] = CLOUD
    target_bands = {b: np.full((60, 60), DARK, np.uint16) for b in SR_BANDS}
    target_bands["red"][20:40, 20:40] = BRIGHT  # the cloud is bright in red
    donor_bands = {b: np.full((60, 60), DARK + 100, np.uint16) for b in SR_BANDS}
    scenes = [
        make_scene(tmp_path, "T", cloudy_qa, bands=target_bands),
        make_scene(tmp_path, "D", np.full((60, 60), CLEAR, np.uint16), date=dt.date(2024, 5, 9), bands=donor_bands),
    ]
    x0, y0 = ORIGIN
    return ListSource(scenes), parse_aoi(lonlat_bbox(UTM33N, x0 + 150, y0 - 1650, x0 + 1650, y0 - 150))


def test_compare_pictures_show_holes_fill_and_provenance(two_dates):
    source, aoi = two_dates
    image = fill_date(source, aoi, dt.date(2024, 5, 1), window_days=30)
    pictures = compare_pictures(image)
    removed = image.removed
    assert removed.sum() > 100
    assert (pictures.masked[removed] == HOLE_RGBA).all()
    kept = image.inside & ~removed
    assert (pictures.masked[kept] == pictures.original[kept]).all()
    # The filled picture no longer shows the bright cloud: its red matches the donor's dark land.
    assert pictures.filled[removed][:, 0].mean() < pictures.original[removed][:, 0].mean() - 50
    assert [code for code, _ in pictures.legend] == [20240501, 20240509]
    assert (filled_picture(image) == pictures.filled).all()
    assert (pictures.provenance[~image.inside, 3] == 0).all()


def test_a_donor_that_cannot_be_read_is_skipped_and_a_bug_raises(two_dates):
    source, aoi = two_dates
    unreachable = FailingSource(source.scenes, "D", SourceUnreachableError("the token service could not be reached"))
    image = fill_date(unreachable, aoi, dt.date(2024, 5, 1), window_days=30)
    assert image.donor_errors == ("2024-05-09 (landsat-8): the token service could not be reached",)
    assert image.result.filled_px == 0 and image.result.unfilled_px == image.removed.sum() > 100
    # Anything but the declared read failures is a bug: it raises, it is not a skipped donor.
    with pytest.raises(KeyError, match="a bug"):
        fill_date(FailingSource(source.scenes, "D", KeyError("a bug")), aoi, dt.date(2024, 5, 1), window_days=30)


def test_thumbnail_is_small_and_transparent_outside_the_aoi(two_dates):
    source, aoi = two_dates
    group = group_by_date(source.scenes)[0]
    thumb = date_thumbnail(group, aoi, source, max_px=16)
    assert max(thumb.shape[:2]) <= 16 and thumb.shape[2] == 4
    assert thumb[..., 3].max() == 255 and thumb[..., :3].std() > 1


def test_lonlat_warp_covers_the_aoi(two_dates):
    source, aoi = two_dates
    image = fill_date(source, aoi, dt.date(2024, 5, 1), window_days=30)
    rgba, (west, south, east, north) = to_lonlat(compare_pictures(image).filled, image.grid)
    a_w, a_s, a_e, a_n = aoi.bbox_lonlat
    assert west <= a_w and south <= a_s and east >= a_e and north >= a_n
    assert rgba[..., 3].any()
    assert grid_bounds_lonlat(image.grid)[0] == pytest.approx(west, abs=1e-3)
