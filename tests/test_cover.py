"""Per-date AOI statistics: checked against independent counts of the QA bits."""

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cloudcore.errors import SceneReadError, SourceUnreachableError
from cloudcore.geo.aoi import parse_aoi
from cloudcore.io.read import READ_FAILURES
from cloudcore.masks.qa import (
    CIRRUS_BIT,
    CLEAR_BIT,
    CLOUD_BIT,
    CLOUD_SHADOW_BIT,
    DILATED_CLOUD_BIT,
    FILL_BIT,
    SNOW_BIT,
    MaskPolicy,
)
from cloudcore.sources.scene import group_by_date
from cloudcore.stats.cover import COVER_FIELDS, compute_cover, cover_stats, measure_date
from tests.rasters import ORIGIN, UTM33N, FailingSource, ListSource, lonlat_bbox, make_scene

CLEAR = 1 << CLEAR_BIT
CLOUD = 1 << CLOUD_BIT
SHADOW = (1 << CLOUD_SHADOW_BIT) | CLEAR
FILL = 1 << FILL_BIT


def _bit(qa, bit):
    return [(int(v) >> bit) & 1 == 1 for v in qa.ravel()]


@settings(max_examples=60, deadline=None)
@given(
    qa=arrays(np.uint16, (12, 12), elements=st.sampled_from([FILL, CLEAR, CLOUD, SHADOW, 1 << SNOW_BIT | CLEAR,
                                                              1 << CIRRUS_BIT | CLEAR, 1 << DILATED_CLOUD_BIT])),
    inside=arrays(bool, (12, 12)),
    platform=st.sampled_from(["landsat-5", "landsat-7", "landsat-8", "landsat-9"]),
)
def test_cover_stats_equal_an_independent_count(qa, inside, platform):
    stats = cover_stats(qa, platform, inside)
    ins = inside.ravel().tolist()
    fill, cloud, dil, cir, sha, snow = (_bit(qa, b) for b in (FILL_BIT, CLOUD_BIT, DILATED_CLOUD_BIT, CIRRUS_BIT, CLOUD_SHADOW_BIT, SNOW_BIT))
    cirrus_counts = platform in ("landsat-8", "landsat-9")
    valid = [i and not f for i, f in zip(ins, fill)]
    n_valid = sum(valid)
    cloudy = sum(v and (c or d or (cirrus_counts and r)) for v, c, d, r in zip(valid, cloud, dil, cir))
    masked = sum(v and (c or d or s or (cirrus_counts and r)) for v, c, d, r, s in zip(valid, cloud, dil, cir, sha))
    assert stats["aoi_pixels"] == sum(ins)
    if sum(ins) == 0:
        assert stats["valid_pct"] is None
        return
    assert stats["valid_pct"] == round(100 * n_valid / sum(ins), 2)
    if n_valid == 0:
        assert stats["cloud_pct"] is None and stats["masked_pct"] is None and stats["clear_pct"] is None
        return
    assert stats["cloud_pct"] == round(100 * cloudy / n_valid, 2)
    assert stats["shadow_pct"] == round(100 * sum(v and s for v, s in zip(valid, sha)) / n_valid, 2)
    assert stats["snow_pct"] == round(100 * sum(v and s for v, s in zip(valid, snow)) / n_valid, 2)
    assert stats["masked_pct"] == round(100 * masked / n_valid, 2)
    assert stats["clear_pct"] == round(100 - stats["masked_pct"], 2)


def test_buffer_reaches_in_from_a_cloud_outside_the_aoi():
    qa = np.full((21, 21), CLEAR, np.uint16)
    qa[10, 0] = CLOUD  # outside the AOI column range below
    inside = np.zeros_like(qa, bool)
    inside[:, 2:] = True
    assert cover_stats(qa, "landsat-8", inside)["masked_pct"] == 0
    buffered = cover_stats(qa, "landsat-8", inside, MaskPolicy(buffer_m=90), pixel_size_m=30)
    # A 3-pixel disk around (10, 0) reaches column 2 at rows 8..12 (dy^2 <= 9 - 4) and column 3 at row 10.
    assert buffered["masked_pct"] == round(100 * 6 / inside.sum(), 2)


@pytest.fixture
def two_rows(tmp_path):
    """One date made of two overlapping scenes (adjacent rows of one path), plus a later date."""
    top = np.full((100, 100), CLEAR, np.uint16)
    top[60:, :] = FILL  # the top scene ends at row 60
    top[:10, :10] = CLOUD
    bottom = np.full((100, 100), CLOUD, np.uint16)  # cloudy everywhere, including where the top scene has data
    later = np.full((100, 100), SHADOW, np.uint16)
    scenes = [
        make_scene(tmp_path, "A_row27", top, row=27),
        make_scene(tmp_path, "A_row28", bottom, row=28),
        make_scene(tmp_path, "B", later, date=dt.date(2024, 5, 17)),
    ]
    x0, y0 = ORIGIN
    aoi = parse_aoi(lonlat_bbox(UTM33N, x0 + 300, y0 - 2700, x0 + 2700, y0 - 300))
    return ListSource(scenes), aoi


def test_adjacent_rows_merge_into_one_date(two_rows):
    source, aoi = two_rows
    groups = group_by_date(source.search(aoi, dt.date(2024, 1, 1), dt.date(2024, 12, 31)))
    assert [g.scene_ids for g in groups] == [["A_row27", "A_row28"], ["B"]]
    record = measure_date(groups[0], aoi, source)
    assert record.error is None and record.valid_pct == 100.0
    # Independent expectation: rows < 60 come from the top scene (clear but a 10x10 cloud corner,
    # of which the AOI holds rows/cols 10.. only), rows >= 60 from the bottom scene (all cloud).
    assert 0 < record.cloud_pct < 100
    from cloudcore.geo.grid import inside_mask
    from cloudcore.io.stack import date_grid
    from cloudcore.settings import Settings

    grid = date_grid(groups[0], aoi, source, settings=Settings())
    inside = inside_mask(aoi, grid)
    row0 = round((ORIGIN[1] - grid.transform.f) / 30)
    rows = np.arange(grid.height)[:, None] + row0
    cols = np.arange(grid.width)[None, :] + round((grid.transform.c - ORIGIN[0]) / 30)
    expected_cloud = ((rows >= 60) | ((rows < 10) & (cols < 10))) & inside
    assert record.cloud_pct == round(100 * expected_cloud.sum() / inside.sum(), 2)


def test_compute_cover_reports_a_broken_date_and_keeps_the_rest(two_rows, tmp_path):
    source, aoi = two_rows
    broken = make_scene(tmp_path, "C", np.full((100, 100), CLEAR, np.uint16), date=dt.date(2024, 6, 2))
    (tmp_path / "C_QA_PIXEL.TIF").write_bytes(b"not a tiff")
    source.scenes.append(broken)
    records = compute_cover(source, aoi, dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    assert [r.date for r in records] == ["2024-05-01", "2024-05-17", "2024-06-02"]
    assert records[1].shadow_pct == 100.0 and records[1].cloud_pct == 0.0 and records[1].masked_pct == 100.0
    assert records[2].error and "C_QA_PIXEL.TIF" in records[2].error and records[2].cloud_pct is None
    assert list(records[0].to_dict()) == list(COVER_FIELDS) and COVER_FIELDS[-1] == "obscured_pct"
    # Obscured: the AOI share missing or removed; all valid here, so it is the masked share.
    assert [r.to_dict()["obscured_pct"] for r in records] == [records[0].masked_pct, 100.0, None]


def test_only_the_declared_read_failures_become_a_dates_error(two_rows):
    source, aoi = two_rows
    assert READ_FAILURES == (SceneReadError, SourceUnreachableError)
    for expected in (SourceUnreachableError("the token service could not be reached"),
                     SceneReadError("Could not read B_QA_PIXEL.TIF: truncated")):
        broken = FailingSource(source.scenes, "B", expected)
        records = compute_cover(broken, aoi, dt.date(2024, 1, 1), dt.date(2024, 12, 31))
        assert [r.error for r in records] == [None, str(expected)]
        assert records[1].cloud_pct is None and records[0].cloud_pct is not None
    # Anything else is a bug: it raises instead of becoming one date's data.
    buggy = FailingSource(source.scenes, "B", KeyError("a bug"))
    with pytest.raises(KeyError, match="a bug"):
        compute_cover(buggy, aoi, dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    group = group_by_date(buggy.scenes)[1]
    with pytest.raises(KeyError, match="a bug"):
        measure_date(group, aoi, buggy)


def test_the_ml_mask_joins_the_statistics_when_asked(tmp_path):
    """qa+ml removes at least what QA removes; the record carries the agreement report."""
    pytest.importorskip("ukis_csmask", reason="the ML mask is the [ml] extra (pip install '.[ml]')")
    qa = np.full((80, 80), CLEAR, np.uint16)
    qa[10:30, 10:30] = CLOUD
    rng = np.random.default_rng(0)
    dark = round((0.05 + 0.2) / 0.0000275)
    bands = {b: (dark + rng.integers(0, 400, (80, 80))).astype(np.uint16) for b in ("red", "green", "blue", "nir08", "swir16", "swir22")}
    scene = make_scene(tmp_path, "M", qa, bands=bands)
    source = ListSource([scene])
    x0, y0 = ORIGIN
    aoi = parse_aoi(lonlat_bbox(UTM33N, x0 + 150, y0 - 2250, x0 + 2250, y0 - 150))
    group = group_by_date(source.scenes)[0]
    qa_only = measure_date(group, aoi, source, MaskPolicy())
    both = measure_date(group, aoi, source, MaskPolicy(kind="qa+ml"))
    assert both.error is None, both.error
    assert both.masked_pct >= qa_only.masked_pct
    assert both.cloud_pct == qa_only.cloud_pct  # class shares stay QA_PIXEL's
    report = both.to_dict()["ml_agreement"]
    assert 0 <= report["agree_pct"] <= 100
    assert report["qa_only_pct"] + report["ml_only_pct"] + report["agree_pct"] == pytest.approx(100, abs=0.02)
    assert "ml_agreement" not in qa_only.to_dict()
