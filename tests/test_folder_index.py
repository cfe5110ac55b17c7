"""The folder source's index: a second search opens no raster, a changed file is read again, and
scenes from the index equal freshly read ones, in a CRS with no EPSG code (CONUS Albers, as in
Collection 2 U.S. ARD) where rasterio's `to_epsg()` costs about 65 ms a call.

Speed is shown by counting file opens and `to_epsg()` calls, never by timing. Run this file as a
script (`python tests/test_folder_index.py`) to print the cold and warm time of a 200-scene search.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.crs import CRS
from shapely.geometry import mapping

from cloudcore.geo.aoi import parse_aoi
from cloudcore.geo.footprint import footprint_lonlat
from cloudcore.masks.qa import CLEAR_BIT
from cloudcore.product import QA_BAND
from cloudcore.settings import Settings
from cloudcore.sources import folder as folder_module
from cloudcore.sources.folder import FolderSource
from cloudcore.sources.folder_index import INDEX_VERSION, index_dir

# CONUS Albers on WGS84, the grid of Collection 2 U.S. ARD and of data/real/lcmap-espa-046027:
# no EPSG code matches it, so `to_epsg()` searches the whole EPSG database.
ALBERS_WGS84 = "+proj=aea +lat_0=23 +lon_0=-96 +lat_1=29.5 +lat_2=45.5 +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs"
# Four 480 m tiles side by side in western Washington (the real folder's corner), 16 x 16 px of 30 m.
TILE_ORIGINS = [(-2062080.0 + 480.0 * k, 2952960.0) for k in range(4)]
TILE_PX, PIXEL_M = 16, 30.0
N_SCENES = 200
EVERYTHING = (dt.date(1982, 1, 1), dt.date(2030, 1, 1))
AOI_OVER_THE_TILES = "-123.5,46.7,-123.0,47.1"
CLEAR = 1 << CLEAR_BIT


def product_id(n: int) -> str:
    day = dt.date(2000, 1, 1) + dt.timedelta(days=8 * n)
    sensor = "LE07" if n % 2 else "LT05"
    return f"{sensor}_L2SP_046027_{day:%Y%m%d}_20200101_02_T1"


def write_qa(
    path: Path, origin: tuple[float, float], crs: str = ALBERS_WGS84, value: int = CLEAR, pixel_m: float = PIXEL_M
) -> Path:
    """A tiny QA_PIXEL GeoTIFF, TILE_PX pixels a side, with its top-left corner at `origin`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    profile = {
        "driver": "GTiff", "width": TILE_PX, "height": TILE_PX, "count": 1, "dtype": "uint16", "crs": crs,
        "transform": Affine(pixel_m, 0.0, origin[0], 0.0, -pixel_m, origin[1]),
    }
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(np.full((1, TILE_PX, TILE_PX), value, dtype=np.uint16))
    return path


def write_mtl(path: Path, day: dt.date, cloud_pct: float) -> Path:
    image = {"DATE_ACQUIRED": day.isoformat(), "SCENE_CENTER_TIME": "18:40:12.5000000Z", "CLOUD_COVER": cloud_pct,
             "CLOUD_COVER_LAND": cloud_pct, "SUN_AZIMUTH": -150.0, "SUN_ELEVATION": 30.5}
    path.write_text(json.dumps({"LANDSAT_METADATA_FILE": {"IMAGE_ATTRIBUTES": image}}), encoding="utf-8")
    return path


def add_product(root: Path, n: int) -> Path:
    """Product `n` in a subfolder of its own, on tile n % 4: a QA_PIXEL, an MTL and an (empty) red band."""
    pid = product_id(n)
    scene_dir = root / pid
    write_qa(scene_dir / f"{pid}_QA_PIXEL.TIF", TILE_ORIGINS[n % len(TILE_ORIGINS)])
    write_mtl(scene_dir / f"{pid}_MTL.json", dt.date(2000, 1, 1) + dt.timedelta(days=8 * n), float(n % 100))
    (scene_dir / f"{pid}_SR_B3.TIF").write_bytes(b"")  # never opened by a search
    return scene_dir


def build_albers_folder(root: Path, n_scenes: int = N_SCENES) -> Path:
    for n in range(n_scenes):
        add_product(root, n)
    return root


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return build_albers_folder(tmp_path_factory.mktemp("albers") / "scenes")


@pytest.fixture
def albers_folder(template, tmp_path) -> Path:
    """A private copy (times kept) that a test may change."""
    return Path(shutil.copytree(template, tmp_path / "scenes"))


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(cache_dir=tmp_path / "cache")


class CountingCRS:
    """A rasterio CRS that counts `to_epsg()` calls (rasterio's CRS type cannot be patched)."""

    def __init__(self, crs: CRS, calls: list[str]) -> None:
        self._crs, self._calls = crs, calls

    def to_epsg(self, *args, **kwargs):
        self._calls.append(self._crs.to_wkt())
        return self._crs.to_epsg(*args, **kwargs)

    def __bool__(self) -> bool:
        return bool(self._crs)

    def __getattr__(self, name):
        return getattr(self._crs, name)


class CountingDataset:
    def __init__(self, dataset, calls: list[str]) -> None:
        self._dataset, self._calls = dataset, calls

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self._dataset.close()

    @property
    def crs(self):
        crs = self._dataset.crs
        return CountingCRS(crs, self._calls) if crs else crs

    def __getattr__(self, name):
        return getattr(self._dataset, name)


class Counts:
    def __init__(self) -> None:
        self.opened: list[str] = []
        self.to_epsg: list[str] = []
        self.mtl_read: list[str] = []

    def reset(self) -> None:
        self.opened.clear(), self.to_epsg.clear(), self.mtl_read.clear()


@pytest.fixture
def counts(monkeypatch) -> Counts:
    """Every raster open, `to_epsg()` call and MTL read the folder source makes."""
    seen = Counts()
    real_open, real_read_mtl = rasterio.open, folder_module.read_mtl

    def counting_open(path, *args, **kwargs):
        seen.opened.append(str(path))
        return CountingDataset(real_open(path, *args, **kwargs), seen.to_epsg)

    def counting_read_mtl(path):
        seen.mtl_read.append(str(path))
        return real_read_mtl(path)

    monkeypatch.setattr(folder_module.rasterio, "open", counting_open)
    monkeypatch.setattr(folder_module, "read_mtl", counting_read_mtl)
    return seen


def search(source: FolderSource) -> list:
    return source.search(parse_aoi(AOI_OVER_THE_TILES), *EVERYTHING)


def index_files(settings: Settings) -> list[Path]:
    return sorted(index_dir(settings.cache_dir).glob("*.json"))


def qa_path(folder: Path, n: int) -> Path:
    return folder / product_id(n) / f"{product_id(n)}_QA_PIXEL.TIF"


# --- the first search reads each file once; later ones read none ---------------------------------


def test_the_crs_has_no_epsg_code():
    assert CRS.from_string(ALBERS_WGS84).to_epsg() is None


def test_first_search_opens_each_qa_once_and_works_out_epsg_once(albers_folder, settings, counts):
    found = search(FolderSource(albers_folder, settings=settings))
    assert len(found) == N_SCENES
    assert sorted(counts.opened) == sorted(str(qa_path(albers_folder, n)) for n in range(N_SCENES))
    assert len(counts.to_epsg) == 1  # one distinct CRS: one call, not one per scene
    assert len(counts.mtl_read) == N_SCENES
    assert {s.epsg for s in found} == {None}
    assert [p.parent.name for p in index_files(settings)] == [f"folder-index-v{INDEX_VERSION}"]


def test_a_second_source_opens_no_file(albers_folder, settings, counts):
    first = FolderSource(albers_folder, settings=settings)
    first_found = search(first)
    counts.reset()
    second = FolderSource(albers_folder, settings=settings)
    second_found = search(second)
    assert counts.opened == [] and counts.to_epsg == [] and counts.mtl_read == []
    assert second_found == first_found  # Scene equality: ids, times, footprints, cloud, epsg, assets
    assert [s.item for s in second_found] == [s.item for s in first_found]
    assert second.warnings == first.warnings


def test_a_new_process_opens_no_file(albers_folder, settings):
    FolderSource(albers_folder, settings=settings).scenes
    script = (
        "import sys, rasterio\n"
        "from cloudcore.settings import Settings\n"
        "from cloudcore.sources.folder import FolderSource\n"
        "opened = []\n"
        "real_open = rasterio.open\n"
        "rasterio.open = lambda path, *a, **k: opened.append(path) or real_open(path, *a, **k)\n"
        "source = FolderSource(sys.argv[1], settings=Settings(cache_dir=sys.argv[2]))\n"
        "print(len(source.scenes), len(opened))\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(albers_folder), str(settings.cache_dir)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == [str(N_SCENES), "0"]


def test_each_source_instance_reads_once(albers_folder, settings, counts):
    source = FolderSource(albers_folder, settings=settings)
    search(source)
    search(source)
    assert len(counts.opened) == N_SCENES


# --- a changed file, and only it, is read again ---------------------------------------------------


def _touch(path: Path) -> None:
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def _same_time_other_size(path: Path, origin: tuple[float, float]) -> None:
    """Rewritten (here moved by a tile) with the old modification time: the size tells it apart."""
    stat = path.stat()
    write_qa(path, origin, value=CLEAR | 1)
    with rasterio.open(path, "r+") as ds:
        ds.update_tags(NOTE="rewritten" * 10)  # a different size, whatever the compression
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size != stat.st_size


@pytest.mark.parametrize("change", ["touch", "same time, other size", "added", "removed"])
def test_a_changed_qa_file_and_only_it_is_read_again(albers_folder, settings, counts, change):
    before = {s.id: s for s in FolderSource(albers_folder, settings=settings).scenes}
    target = qa_path(albers_folder, 7)
    if change == "touch":
        _touch(target)
    elif change == "same time, other size":
        _same_time_other_size(target, TILE_ORIGINS[0])  # scene 7 lay on tile 3
    elif change == "added":
        add_product(albers_folder, N_SCENES)
        target = qa_path(albers_folder, N_SCENES)
    else:
        target.unlink()
    counts.reset()  # writing a raster opens it too
    source = FolderSource(albers_folder, settings=settings)
    after = {s.id: s for s in source.scenes}
    assert counts.opened == ([] if change == "removed" else [str(target)])
    assert counts.to_epsg == []  # its CRS is one the index knows
    new_mtl = str(target).replace("_QA_PIXEL.TIF", "_MTL.json")
    assert counts.mtl_read == ([new_mtl] if change == "added" else [])
    if change == "added":
        assert set(after) - set(before) == {product_id(N_SCENES)}
    elif change == "removed":
        assert set(before) - set(after) == {product_id(7)}
    else:
        assert after.keys() == before.keys()
        unchanged = [pid for pid in before if pid != product_id(7)]
        assert [after[p] for p in unchanged] == [before[p] for p in unchanged]
    if change == "same time, other size":
        assert after[product_id(7)].geometry_lonlat == before[product_id(0)].geometry_lonlat  # moved to tile 0
    # And the index now holds the change: a third source opens nothing.
    counts.reset()
    assert len(FolderSource(albers_folder, settings=settings).scenes) == len(after)
    assert counts.opened == []


def test_a_changed_mtl_is_read_again_without_opening_a_raster(albers_folder, settings, counts):
    FolderSource(albers_folder, settings=settings).scenes
    counts.reset()
    mtl = albers_folder / product_id(3) / f"{product_id(3)}_MTL.json"
    write_mtl(mtl, dt.date(2000, 1, 25), 77.5)
    _touch(mtl)  # a rewrite within the file system's time resolution would keep the old time
    scene = next(s for s in FolderSource(albers_folder, settings=settings).scenes if s.id == product_id(3))
    assert counts.opened == [] and counts.mtl_read == [str(mtl)]
    assert scene.scene_cloud_pct == 77.5


# --- a broken index is ignored and rebuilt; the folder is never written -------------------------


def _damage_records(path: Path) -> None:
    document = json.loads(path.read_text())
    document["grids"] = [{"crs_wkt": 5}, "junk"]
    document["qa"] = {key: ["x", None] for key in document["qa"]}
    document["mtl"] = {key: [1, 2, {"datetime": "2000-01-01T00:00:00"}] for key in document["mtl"]}  # naive
    path.write_text(json.dumps(document))


@pytest.mark.parametrize("damage", ["not json", "cut short", "empty", "a list", "damaged records"])
def test_a_corrupt_index_is_ignored_and_rebuilt(albers_folder, settings, counts, damage):
    first = FolderSource(albers_folder, settings=settings).scenes
    (index,) = index_files(settings)
    text = index.read_text()
    damaged = {"not json": "{not json", "cut short": text[: len(text) // 2], "empty": "", "a list": "[]"}
    if damage == "damaged records":
        _damage_records(index)
    else:
        index.write_text(damaged[damage])
    counts.reset()
    assert FolderSource(albers_folder, settings=settings).scenes == first
    assert len(counts.opened) == N_SCENES
    counts.reset()
    assert FolderSource(albers_folder, settings=settings).scenes == first
    assert counts.opened == []  # rebuilt
    assert [p.name for p in index_files(settings)] == [index.name]  # no temporary file left behind


def test_an_index_of_another_version_or_folder_is_ignored(albers_folder, settings, counts):
    FolderSource(albers_folder, settings=settings).scenes
    (index,) = index_files(settings)
    document = json.loads(index.read_text())
    for key, value in (("header", {**document["header"], "index": -1}), ("folder", "/somewhere/else")):
        index.write_text(json.dumps({**document, key: value}))
        counts.reset()
        FolderSource(albers_folder, settings=settings).scenes
        assert len(counts.opened) == N_SCENES


def test_the_folder_is_never_written_and_an_unwritable_cache_costs_only_speed(albers_folder, tmp_path, counts):
    listing = sorted(str(p.relative_to(albers_folder)) for p in albers_folder.rglob("*"))
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    unwritable = Settings(cache_dir=blocker / "cache")  # a folder cannot be made under a file (even as root)
    first = FolderSource(albers_folder, settings=unwritable).scenes
    second = FolderSource(albers_folder, settings=unwritable).scenes
    assert second == first and len(first) == N_SCENES
    assert len(counts.opened) == 2 * N_SCENES  # nothing remembered, nothing broken
    assert sorted(str(p.relative_to(albers_folder)) for p in albers_folder.rglob("*")) == listing
    assert list(tmp_path.glob("*.tmp")) == [] and blocker.read_text() == ""


def test_an_unreadable_qa_is_never_remembered(tmp_path, settings, counts):
    bad = tmp_path / "scenes" / f"{product_id(0)}_QA_PIXEL.TIF"
    bad.parent.mkdir()
    bad.write_bytes(b"not a tiff")
    write_qa(tmp_path / "scenes" / f"{product_id(1)}_QA_PIXEL.TIF", TILE_ORIGINS[0])
    for _ in range(2):
        counts.reset()
        source = FolderSource(tmp_path / "scenes", settings=settings)
        assert [s.id for s in source.scenes] == [product_id(1)]
        assert any("cannot be opened" in w for w in source.warnings)
    assert counts.opened == [str(bad)]  # tried again, the good one remembered


# --- scenes from the index equal freshly read ones -------------------------------------------------


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")
def test_scenes_and_warnings_from_the_index_equal_fresh_ones_at_poles_and_antimeridian(tmp_path, settings):
    folder = tmp_path / "scenes"
    # 600 km around the south pole; 200 km of UTM 60N whose east edge lies past 180 degrees.
    write_qa(folder / "LC08_L2SR_099120_20191129_20201016_02_T2_QA_PIXEL.TIF", (-300000.0, 300000.0), "EPSG:3031",
             pixel_m=600000.0 / TILE_PX)
    write_qa(folder / "LC08_L2SP_077014_20200701_20200710_02_T1_QA_PIXEL.TIF", (500000.0, 7300000.0), "EPSG:32660",
             pixel_m=200000.0 / TILE_PX)
    write_qa(folder / f"{product_id(0)}_QA_PIXEL.TIF", TILE_ORIGINS[0])
    with rasterio.open(folder / f"{product_id(1)}_QA_PIXEL.TIF", "w", driver="GTiff", width=4, height=4, count=1,
                       dtype="uint16") as ds:  # no CRS: footprint unknown
        ds.write(np.zeros((1, 4, 4), np.uint16))
    fresh = FolderSource(folder, settings=settings)
    remembered = FolderSource(folder, settings=settings)
    assert remembered.scenes == fresh.scenes
    assert [s.item for s in remembered.scenes] == [s.item for s in fresh.scenes]
    assert remembered.warnings == fresh.warnings
    kinds = {s.id[:4] + s.id[10:16]: (s.geometry_lonlat or {}).get("type") for s in remembered.scenes}
    assert kinds == {"LC08099120": "Polygon", "LC08077014": "MultiPolygon", "LT05046027": "Polygon",
                     "LE07046027": None}
    assert {s.epsg for s in remembered.scenes} == {3031, 32660, None}


def test_the_real_conus_albers_folder_gives_the_scenes_its_files_describe(real_data, tmp_path, request):
    """195 real dates in CONUS Albers: ids, dates, footprints and EPSG as read from each file directly."""
    folder = real_data / "lcmap-espa-046027" / "scenes"
    expected = {}
    wkts = set()
    for path in sorted(folder.glob("*_QA_PIXEL.TIF")):
        with rasterio.open(path) as ds:
            crs, bounds = ds.crs, tuple(ds.bounds)
        wkts.add(crs.to_wkt())
        footprint = footprint_lonlat(crs, bounds)
        pid = path.name.removesuffix("_QA_PIXEL.TIF")
        day = dt.datetime.strptime(pid[17:25], "%Y%m%d").replace(tzinfo=dt.UTC)
        expected[pid] = (day, mapping(footprint), footprint.bounds, str(path))
    (wkt,) = wkts  # one grid: to_epsg once here too (it takes about 65 ms)
    epsg = CRS.from_wkt(wkt).to_epsg()
    assert len(expected) == 195 and epsg is None
    settings = Settings(cache_dir=tmp_path / "cache")
    counts = request.getfixturevalue("counts")  # from here on, the source's opens only
    for run in ("cold", "warm"):
        source = FolderSource(folder, settings=settings)
        scenes = source.scenes
        assert source.warnings == []
        got = {s.id: (s.datetime, s.geometry_lonlat, s.bbox_lonlat, s.assets[QA_BAND]) for s in scenes}
        assert got == expected, run
        assert {s.epsg for s in scenes} == {epsg}
        found = source.search(parse_aoi("-123.3,46.85,-123.25,46.9"), *EVERYTHING)
        assert len(found) == 195, run
    assert len(counts.to_epsg) == 1 and len(counts.opened) == 195  # all in the cold run
    assert not any(p.is_relative_to(folder) for p in index_files(settings))


# --- a measurement, not a test: python tests/test_folder_index.py ----------------------------------


def _measure() -> None:
    run = (
        "import sys, time, datetime as dt\n"
        "from cloudcore.settings import Settings\n"
        "from cloudcore.sources.folder import FolderSource\n"
        "from cloudcore.geo.aoi import parse_aoi\n"
        "start = time.perf_counter()\n"
        "source = FolderSource(sys.argv[1], settings=Settings(cache_dir=sys.argv[2]))\n"
        f"found = source.search(parse_aoi({AOI_OVER_THE_TILES!r}), dt.date(1982, 1, 1), dt.date(2030, 1, 1))\n"
        "print(f'{time.perf_counter() - start:.3f}', len(found))\n"
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = build_albers_folder(Path(tmp) / "scenes")
        cache = Path(tmp) / "cache"
        for label in ("cold", "warm, new process", "warm, new process"):
            seconds, found = subprocess.run([sys.executable, "-c", run, str(folder), str(cache)],
                                            capture_output=True, text=True, check=True).stdout.split()
            print(f"{N_SCENES} scenes, CONUS Albers (no EPSG code), {label}: {seconds} s ({found} found)")
        start = time.perf_counter()
        FolderSource(folder, settings=Settings(cache_dir=cache)).scenes
        print(f"warm, same process: {time.perf_counter() - start:.3f} s")


if __name__ == "__main__":
    _measure()
