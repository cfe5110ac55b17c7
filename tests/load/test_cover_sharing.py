"""Sessions that open the same area at once share one measurement of each date."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter

from cloudcore.settings import Settings
from cloudcore.sources.scene import DateGroup
from cloudcore.stats.cover import DateCover
from ui import services
from ui.state import View

VIEW = View(source="demo", aoi="-89.44,43.04,-89.36,43.10", start=dt.date(2022, 1, 1), end=dt.date(2022, 12, 31),
            max_scene_cloud=None, flags="cirrus,cloud,dilated,shadow", buffer_m=0.0, mask="qa", threshold=10.0,
            date=None, method="nearest", window_days=60, order="clearest")
GROUPS = [DateGroup(date=dt.date(2022, 1, 1) + dt.timedelta(days=8 * i), platform="landsat-8", wrs_path=24, scenes=())
          for i in range(12)]


def _fake_measurements(monkeypatch, fail: set[dt.date] = frozenset()) -> Counter:
    """Replace the reads with a slow fake that counts how often each date is measured."""
    measured: Counter = Counter()
    lock = threading.Lock()

    def fake_iter_cover(groups, aoi, source, policy, *, settings, cache=None):
        assert isinstance(settings, Settings)  # the dashboard's, passed down
        assert cache is services.COVER_FILES  # kept on disk too, where cloudcore.timelapse finds it
        for group in groups:
            time.sleep(0.02)
            with lock:
                measured[group.date] += 1
            error = "unreachable" if group.date in fail else None
            yield DateCover(date=group.date.isoformat(), platform=group.platform, scene_ids=[], scene_cloud_pct=None,
                            valid_pct=100.0, clear_pct=50.0, error=error)

    store = services._CoverStore(1000)
    monkeypatch.setattr(services, "iter_cover", fake_iter_cover)
    monkeypatch.setattr(services, "aoi_for", lambda text: None)
    monkeypatch.setattr(services, "source_for", lambda spec: None)
    monkeypatch.setattr(services, "_cover_store", lambda: store)
    return measured


def _at_once(n: int) -> list[list[DateCover]]:
    results: list = [None] * n

    def one(i):
        results[i] = services.cover(VIEW, GROUPS, lambda records, total: None)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


def test_four_sessions_opening_one_area_measure_each_date_once(monkeypatch):
    measured = _fake_measurements(monkeypatch)
    results = _at_once(4)
    assert all(r is not None and [x.date for x in r] == [g.date.isoformat() for g in GROUPS] for r in results)
    assert set(measured.values()) == {1}, measured


def test_a_date_another_session_failed_on_is_measured_again_not_lost(monkeypatch):
    bad = GROUPS[3].date
    measured = _fake_measurements(monkeypatch, fail={bad})
    results = _at_once(3)
    assert all(len(r) == len(GROUPS) for r in results)
    assert measured[bad] >= 2  # failures are not cached: whoever waited for it tries itself
    assert all(measured[g.date] == 1 for g in GROUPS if g.date != bad)


def test_a_stopped_run_frees_the_dates_it_held(monkeypatch):
    _fake_measurements(monkeypatch)

    class Stopped(Exception):
        pass

    def stop_after_three(records, total):
        if len(records) >= 3:
            raise Stopped  # what Streamlit does to a run when the user clicks on

    try:
        services.cover(VIEW, GROUPS, stop_after_three)
    except Stopped:
        pass
    started = time.monotonic()
    again = services.cover(VIEW, GROUPS, lambda records, total: None)
    assert len(again) == len(GROUPS)
    assert time.monotonic() - started < 5, "waited for dates nobody was measuring"
