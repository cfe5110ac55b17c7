"""Overview estimates for large areas, and the same measurement on a Dask cluster."""

import datetime as dt

import numpy as np
import pytest
import rasterio
from rasterio.enums import Resampling

from cloudcore.aoi import parse_aoi
from cloudcore.cache import CoverCache
from cloudcore.cover import compute_cover, iter_cover, search_dates
from cloudcore.errors import SourceUnreachableError
from cloudcore.qa import CLEAR_BIT, CLOUD_BIT
from tests.rasters import ORIGIN, UTM33N, ListSource, lonlat_bbox, make_scene

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
def cluster():
    distributed = pytest.importorskip("distributed", reason="dask.distributed is a requirement; install requirements.txt")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  memory_limit="1GB") as local:
        with distributed.Client(local) as client:
            yield client


def test_cluster_results_equal_the_single_machine_ones(cluster, scenes, aoi):
    from cloudcore.distributed import iter_cover_dask

    source = ListSource(scenes)
    groups = search_dates(source, aoi, START, END)
    here = sorted((r.to_dict() for r in iter_cover(groups, aoi, source)), key=lambda r: r["date"])
    there = sorted((r.to_dict() for r in iter_cover_dask(groups, aoi, source, scheduler=cluster)), key=lambda r: r["date"])
    assert there == here and len(there) == len(scenes)
    # Both workers took part: the work really was spread.
    ran_on = cluster.run(lambda: 1)
    assert len(ran_on) == 2


def test_cluster_path_by_address_uses_and_fills_the_cache(cluster, scenes, aoi, tmp_path):
    from cloudcore.distributed import iter_cover_dask

    source = ListSource(scenes)
    groups = search_dates(source, aoi, START, END)
    cache = CoverCache(tmp_path)
    address = cluster.scheduler.address
    first = list(iter_cover_dask(groups, aoi, source, scheduler=address, cache=cache))
    assert all(r.error is None for r in first)
    assert len(list(tmp_path.rglob("*.json"))) == len(groups)
    again = list(iter_cover_dask(groups, aoi, source, scheduler="tcp://127.0.0.1:9", cache=cache))
    assert sorted(r.to_dict()["date"] for r in again) == sorted(r.to_dict()["date"] for r in first)


def test_a_scheduler_that_does_not_answer_is_one_clear_error(scenes, aoi, monkeypatch):
    from cloudcore import distributed as cluster_path

    monkeypatch.setattr(cluster_path, "CONNECT_TIMEOUT_S", 2)
    source = ListSource(scenes)
    groups = search_dates(source, aoi, START, END)
    with pytest.raises(SourceUnreachableError, match=r"No Dask scheduler answered at tcp://127.0.0.1:9 within 2 s"):
        list(cluster_path.iter_cover_dask(groups, aoi, source, scheduler="tcp://127.0.0.1:9"))
