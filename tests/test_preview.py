"""Thumbnails and compare pictures show the AOI's pixels, holes where the mask removed them."""

import datetime as dt
from dataclasses import replace

import numpy as np
import pytest

from cloudcore.errors import SourceUnreachableError
from cloudcore.gapfill.image import fill_date
from cloudcore.geo.aoi import parse_aoi
from cloudcore.masks.qa import CLEAR_BIT, CLOUD_BIT
from cloudcore.product import SR_BANDS
from cloudcore.render.maps import grid_bounds_lonlat, to_lonlat
from cloudcore.render.pictures import HOLE_RGBA, OTHER_COLOUR, compare_pictures, filled_picture, top_sources
from cloudcore.render.provenance import TARGET_GREY
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


def test_the_provenance_scale_spans_the_requested_window_and_names_the_largest_sources(two_dates):
    source, aoi = two_dates
    image = fill_date(source, aoi, dt.date(2024, 5, 1), window_days=30)
    # Without a recorded request the ramp reaches the farthest date used (the donor, 8 days after).
    pictures = compare_pictures(image)
    assert pictures.provenance_window_days == 8
    assert pictures.provenance_ramp.shape == (12, 256, 4)
    kept = int((image.inside & ~image.removed).sum())
    filled = int((image.removed & (image.result.provenance == 20240509)).sum())
    assert pictures.provenance_top == [
        (20240501, TARGET_GREY, round(100 * kept / (kept + filled), 2)),
        (20240509, dict(pictures.legend)[20240509], round(100 * filled / (kept + filled), 2)),
    ]
    # With the fill's request, the ramp spans its window: the 8-day donor is then a lighter red.
    windowed = compare_pictures(replace(image, request={**image.request, "window_days": 30}))
    assert windowed.provenance_window_days == 30
    near, far = dict(windowed.legend)[20240509], dict(pictures.legend)[20240509]
    assert near[0] > near[2] and sum(near) > sum(far)
    assert (windowed.provenance_ramp == pictures.provenance_ramp).all()  # one bar; its ends are labelled +-window


def test_top_sources_sum_the_rest_as_other():
    day_codes = [20240101 + i for i in range(8)]
    counts = [1, 9, 3, 7, 5, 2, 8, 0]  # the last date supplies nothing inside
    provenance = np.concatenate([np.full(n, c, np.uint32) for c, n in zip(day_codes, counts)] + [np.zeros(5, np.uint32)])
    inside = np.ones(provenance.size, bool)
    provenance = np.append(provenance, np.uint32(day_codes[-1]))[None, :]
    inside = np.append(inside, False)[None, :]  # the last date's one pixel lies outside the AOI
    colours = {c: (i, i, i) for i, c in enumerate(day_codes)}
    top = top_sources(provenance, inside, colours)
    total = sum(counts)
    assert [c for c, _, _ in top] == [20240102, 20240107, 20240104, 20240105, 20240103, 0]
    assert top[0] == (20240102, (1, 1, 1), round(100 * 9 / total, 2))
    assert top[-1] == (0, OTHER_COLOUR, round(100 * (1 + 2) / total, 2))
    assert sum(share for _, _, share in top) == pytest.approx(100, abs=0.05)
    assert top_sources(provenance, inside, colours, count=7)[-1][0] != 0  # nothing left: no "other"
    assert top_sources(np.zeros((2, 2), np.uint32), np.ones((2, 2), bool), {}) == []


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
