"""The per-date disk cache: a second ask answers without reading, and only complete dates are kept."""

import datetime as dt
import os

import numpy as np
import pytest

from cloudcore.geo.aoi import parse_aoi
from cloudcore.io.cache import CoverCache
from cloudcore.masks.qa import CLEAR_BIT, CLOUD_BIT, MaskPolicy
from cloudcore.sources.scene import group_by_date
from cloudcore.stats.cover import compute_cover
from tests.rasters import ORIGIN, UTM33N, ListSource, lonlat_bbox, make_scene

CLEAR = 1 << CLEAR_BIT
CLOUD = 1 << CLOUD_BIT
START, END = dt.date(2024, 5, 1), dt.date(2024, 5, 31)


class CountingSource(ListSource):
    """Counts the hrefs handed out for reading: zero means nothing was read."""

    def __init__(self, scenes):
        super().__init__(scenes)
        self.reads = 0

    def readable_href(self, href, fresh=False):
        self.reads += 1
        return href


def _scenes(folder, cloud_rows=(10, 20)):
    qa = np.full((60, 60), CLEAR, dtype=np.uint16)
    qa[slice(*cloud_rows)] = CLOUD
    return [
        make_scene(folder, f"LC08_L2SP_190027_2024050{d}_20240510_02_T1", qa, date=dt.date(2024, 5, d))
        for d in (1, 2, 3)
    ]


@pytest.fixture
def aoi():
    left, top = ORIGIN
    return parse_aoi(lonlat_bbox(UTM33N, left + 300, top - 1500, left + 1500, top - 300))


def test_second_run_reads_nothing_and_gives_the_same_records(tmp_path, aoi):
    source = CountingSource(_scenes(tmp_path))
    cache = CoverCache(tmp_path / "cache")
    first = compute_cover(source, aoi, START, END, cache=cache)
    assert source.reads > 0 and all(r.error is None for r in first)
    source.reads = 0
    second = compute_cover(source, aoi, START, END, cache=cache)
    assert source.reads == 0
    assert [r.to_dict() for r in second] == [r.to_dict() for r in first]
    assert [r.aoi_pixels for r in second] == [r.aoi_pixels for r in first]


def test_a_different_policy_or_aoi_is_measured_again(tmp_path, aoi):
    source = CountingSource(_scenes(tmp_path))
    cache = CoverCache(tmp_path / "cache")
    plain = compute_cover(source, aoi, START, END, cache=cache)
    source.reads = 0
    buffered = compute_cover(source, aoi, START, END, MaskPolicy(buffer_m=90), cache=cache)
    assert source.reads > 0
    assert buffered[0].masked_pct > plain[0].masked_pct
    left, top = ORIGIN
    other = parse_aoi(lonlat_bbox(UTM33N, left + 300, top - 900, left + 900, top - 300))
    source.reads = 0
    compute_cover(source, other, START, END, cache=cache)
    assert source.reads > 0


def test_a_rewritten_local_file_is_measured_again(tmp_path, aoi):
    scenes = _scenes(tmp_path, cloud_rows=(10, 20))
    cache = CoverCache(tmp_path / "cache")
    before = compute_cover(ListSource(scenes), aoi, START, END, cache=cache)
    # Same names, new content (and a later modification time).
    _scenes(tmp_path, cloud_rows=(0, 0))
    for scene in scenes:
        stat = os.stat(scene.assets["qa_pixel"])
        os.utime(scene.assets["qa_pixel"], ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    after = compute_cover(ListSource(scenes), aoi, START, END, cache=cache)
    assert before[0].cloud_pct > 0 and after[0].cloud_pct == 0


def test_a_failed_date_is_not_kept_and_succeeds_later(tmp_path, aoi):
    scenes = _scenes(tmp_path)
    missing = scenes[1].assets["qa_pixel"]
    os.rename(missing, missing + ".away")
    cache = CoverCache(tmp_path / "cache")
    first = compute_cover(ListSource(scenes), aoi, START, END, cache=cache)
    assert [r.error is None for r in first] == [True, False, True]
    assert "QA_PIXEL" in first[1].error
    os.rename(missing + ".away", missing)
    again = compute_cover(ListSource(scenes), aoi, START, END, cache=cache)
    assert all(r.error is None for r in again)
    assert again[1].cloud_pct == again[0].cloud_pct  # the same content as its neighbours


def test_a_broken_cache_file_is_a_miss_not_an_error(tmp_path, aoi):
    source = CountingSource(_scenes(tmp_path))
    cache = CoverCache(tmp_path / "cache")
    first = compute_cover(source, aoi, START, END, cache=cache)
    for path in (tmp_path / "cache").rglob("*.json"):
        path.write_text("{not json")
    source.reads = 0
    again = compute_cover(source, aoi, START, END, cache=cache)
    assert source.reads > 0
    assert [r.to_dict() for r in again] == [r.to_dict() for r in first]


def test_policy_key_does_not_depend_on_flag_order(tmp_path, aoi):
    cache = CoverCache(tmp_path)
    group = group_by_date(_scenes(tmp_path))[0]
    one = cache.key(group, aoi, MaskPolicy(flags="cloud,shadow,cirrus"))
    two = cache.key(group, aoi, MaskPolicy(flags=["shadow", "cirrus", "cloud"]))
    assert one == two


def test_the_usual_cache_lives_under_the_cache_root(tmp_path, aoi):
    with pytest.raises(TypeError):
        CoverCache()  # no hidden default folder: the caller names it
    cache = CoverCache.under(tmp_path)
    assert cache.directory == tmp_path / "cover-v1"
    (tmp_path / "scenes").mkdir()
    compute_cover(ListSource(_scenes(tmp_path / "scenes")), aoi, START, END, cache=cache)
    assert len(list((tmp_path / "cover-v1").rglob("*.json"))) == 3
