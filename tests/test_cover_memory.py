"""Statistics stream date by date: memory held does not grow with the number of dates."""

import dataclasses
import datetime as dt
import tracemalloc

import numpy as np

from cloudcore.geo.aoi import parse_aoi
from cloudcore.masks.qa import CLEAR_BIT, CLOUD_BIT
from cloudcore.sources.search import search_dates
from cloudcore.stats.cover import iter_cover
from tests.rasters import ORIGIN, UTM33N, ListSource, lonlat_bbox, make_scene


def _many_dates(folder, count):
    qa = np.full((400, 400), 1 << CLEAR_BIT, dtype=np.uint16)
    qa[100:200] = 1 << CLOUD_BIT
    one = make_scene(folder, "LC08_L2SP_190027_20240101_20240110_02_T1", qa, date=dt.date(2024, 1, 1))
    # One file under many dates: the reads are real, the disk stays small.
    return [
        dataclasses.replace(
            one,
            id=f"LC08_L2SP_190027_{day:%Y%m%d}_20240110_02_T1",
            datetime=dt.datetime.combine(day, dt.time(10), tzinfo=dt.timezone.utc),
        )
        for day in (dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(count))
    ]


def _peak_bytes(scenes, aoi):
    source = ListSource(scenes)
    groups = search_dates(source, aoi, dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    tracemalloc.start()
    try:
        records = [r for r in iter_cover(groups, aoi, source, max_workers=2)]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(records) == len(scenes) and all(r.error is None for r in records)
    assert {r.cloud_pct for r in records} == {records[0].cloud_pct} and records[0].cloud_pct > 20
    return peak


def test_peak_memory_of_a_timeline_does_not_grow_with_its_dates(tmp_path):
    left, top = ORIGIN
    aoi = parse_aoi(lonlat_bbox(UTM33N, left + 300, top - 11_700, left + 11_700, top - 300))
    few = _peak_bytes(_many_dates(tmp_path, 4), aoi)
    many = _peak_bytes(_many_dates(tmp_path, 60), aoi)
    # 15x the dates; the peak is what two workers hold at once plus small records.
    assert many < 1.5 * few + 2_000_000, (few, many)
    assert few > 1_000_000  # the measure sees the arrays at all (400x400 px windows)


def test_fewer_dates_at_once_when_a_huge_aoi_would_pass_the_memory_budget(monkeypatch):
    import pytest

    from cloudcore.errors import SettingsError
    from cloudcore.settings import Settings
    from cloudcore.stats.cover import BYTES_PER_AOI_PIXEL, workers_for

    settings = Settings(workers=16, memory_mb=1024)
    small = parse_aoi("-89.44,43.03,-89.35,43.10")  # ~50 km2
    large = parse_aoi("-90.2,43.0,-89.0,43.9")  # ~100 x 100 km
    assert workers_for(small, settings) == 16
    # An independent estimate: the bbox in 30 m pixels, 16 bytes each, into 1 GiB.
    pixels = (1.2 * 111.32 * 0.7313) * (0.9 * 111.0) * 1e6 / 900  # km per degree at 43.45 N
    expected = int(1024 * 2**20 // (pixels * BYTES_PER_AOI_PIXEL))
    assert abs(workers_for(large, settings) - expected) <= 1 and workers_for(large, settings) < 16
    assert workers_for(large, settings, overview=2) == 16  # a sixteenth of the pixels
    assert workers_for(large, settings.replace(memory_mb=1)) == 1  # never zero
    # The budget comes from the environment once, when the settings are read: a bad value is refused there.
    monkeypatch.setenv("CLOUDCORE_WORKERS", "16")
    monkeypatch.setenv("CLOUDCORE_MEMORY_MB", "1")
    assert workers_for(large, Settings.from_env()) == 1
    monkeypatch.setenv("CLOUDCORE_MEMORY_MB", "lots")
    with pytest.raises(SettingsError, match="CLOUDCORE_MEMORY_MB='lots' is not a number of MB") as refused:
        Settings.from_env()
    assert isinstance(refused.value, ValueError) and "from 1 to" in str(refused.value)
    assert "\n" not in str(refused.value) and refused.value.setting == "memory_mb"
