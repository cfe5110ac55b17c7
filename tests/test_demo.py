"""The synthetic demo catalog: layout, QA legality, weather mix, truth, search, cache."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import rasterio
from shapely.geometry import box, shape

from cloudcore.demo import (
    DEMO_END,
    DEMO_EXAMPLE_BBOX,
    DEMO_START,
    TRUTH_KEY,
    demo_cache_dir,
    ensure_demo_catalog,
    generate_demo_catalog,
)
from cloudcore.demo import cache as demo_cache
from cloudcore.demo.catalog import write_scene
from cloudcore.demo.grid import footprint_mask
from cloudcore.demo.render import SR_OFFSET, SR_SCALE
from cloudcore.demo.schedule import acquisitions
from cloudcore.geo.aoi import parse_aoi
from cloudcore.masks import qa
from cloudcore.product import QA_BAND, RADSAT_BAND, SR_BANDS
from cloudcore.settings import Settings
from cloudcore.sources import open_source
from cloudcore.sources.base import SceneSource
from cloudcore.sources.demo import DemoSource
from cloudcore.sources.scene import scene_from_item

HIGH = qa.CONFIDENCE_LEVELS["high"]
L8_CLEAR_LAND = (
    (1 << qa.CLEAR_BIT)
    | (1 << qa.CLOUD_CONFIDENCE_OFFSET)
    | (1 << qa.CLOUD_SHADOW_CONFIDENCE_OFFSET)
    | (1 << qa.SNOW_CONFIDENCE_OFFSET)
    | (1 << qa.CIRRUS_CONFIDENCE_OFFSET)
)
L7_CLEAR_LAND = L8_CLEAR_LAND & ~(0b11 << qa.CIRRUS_CONFIDENCE_OFFSET)


@pytest.fixture(scope="session")
def catalog(tmp_path_factory) -> Path:
    return generate_demo_catalog(tmp_path_factory.mktemp("demo-catalog"))


@pytest.fixture(scope="session")
def items(catalog) -> dict[str, dict]:
    links = json.loads((catalog / "catalog.json").read_text())["links"]
    return {
        item["id"]: item
        for item in (json.loads((catalog / link["href"]).read_text()) for link in links if link["rel"] == "item")
    }


@pytest.fixture(scope="session")
def rasters(catalog, items) -> dict[str, dict[str, np.ndarray]]:
    """QA_PIXEL of every scene (small files), read once."""
    return {item_id: {QA_BAND: _read(catalog, item, QA_BAND)} for item_id, item in items.items()}


def _read(catalog: Path, item: dict, key: str) -> np.ndarray:
    with rasterio.open(catalog / item["assets"][key]["href"]) as dataset:
        data = dataset.read()
    return data[0] if data.shape[0] == 1 else data


def _reflectance(dn: np.ndarray) -> np.ndarray:
    return dn.astype(np.float64) * SR_SCALE + SR_OFFSET


def _by_sky(items: dict, sky: str) -> list[dict]:
    return [i for i in items.values() if i["properties"]["cloudcore:demo_sky"] == sky]


def test_record_follows_the_landsat_8_9_cadence_over_two_paths(items):
    by_path: dict[str, list[dict]] = {}
    for item in items.values():
        by_path.setdefault(item["properties"]["landsat:wrs_path"], []).append(item)
    assert sorted(by_path) == ["024", "025"]
    for path, path_items in by_path.items():
        oli = sorted(
            (i for i in path_items if i["properties"]["platform"] != "landsat-7"), key=lambda i: i["properties"]["datetime"]
        )
        dates = [dt.date.fromisoformat(i["properties"]["datetime"][:10]) for i in oli]
        assert {(b - a).days for a, b in zip(dates, dates[1:])} == {8}
        platforms = [i["properties"]["platform"] for i in oli]
        assert all(a != b for a, b in zip(platforms, platforms[1:])), "Landsat 8 and 9 alternate"
        assert DEMO_START <= dates[0] and dates[-1] <= DEMO_END
        assert (dates[-1] - dates[0]).days > 700
    first = {p: min(dt.date.fromisoformat(i["properties"]["datetime"][:10]) for i in v) for p, v in by_path.items()}
    assert (first["025"] - first["024"]).days % 8 == 7, "adjacent WRS-2 paths are flown 7 days apart"
    landsat7 = [i for i in items.values() if i["properties"]["platform"] == "landsat-7"]
    assert len(landsat7) == 1 and landsat7[0]["id"].startswith("LE07_L2SP_")


def test_items_are_shaped_like_planetary_computer_ones(catalog, items):
    product = re.compile(r"^L[CE]0[789]_L2SP_02[45]030_\d{8}_\d{8}_02_T1_")
    for item in items.values():
        props = item["properties"]
        assert set(item["assets"]) >= {*SR_BANDS, QA_BAND, RADSAT_BAND, TRUTH_KEY}
        assert props["landsat:wrs_row"] == "030" and props["proj:epsg"] == 32616
        assert props["proj:shape"][0] == props["proj:shape"][1] and 400 <= props["proj:shape"][0] <= 600
        assert props["instruments"] == (["etm+"] if props["platform"] == "landsat-7" else ["oli", "tirs"])
        assert 0 < props["view:sun_elevation"] < 90 and 90 < props["view:sun_azimuth"] < 180
        for key, asset in item["assets"].items():
            assert not asset["href"].startswith("/") and (catalog / asset["href"]).is_file()
            assert product.match(Path(asset["href"]).name), asset["href"]
        assert "truth" in Path(item["assets"][TRUTH_KEY]["href"]).name
        red_band = "_SR_B3.TIF" if props["platform"] == "landsat-7" else "_SR_B4.TIF"
        assert Path(item["assets"]["red"]["href"]).name.endswith(red_band)
        footprint = shape(item["geometry"])
        assert footprint.is_valid and box(*item["bbox"]).contains(footprint.buffer(-1e-6))


def test_rasters_are_cogs_on_a_landsat_aligned_utm_grid(catalog, items):
    item = next(iter(items.values()))
    for key in (*SR_BANDS, QA_BAND, TRUTH_KEY):
        with rasterio.open(catalog / item["assets"][key]["href"]) as dataset:
            assert dataset.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
            assert dataset.profile["compress"] == "deflate" and dataset.block_shapes[0] == (256, 256)
            assert dataset.crs.to_epsg() == 32616 and dataset.res == (30.0, 30.0)
            assert dataset.transform.c % 30 == 15 and dataset.transform.f % 30 == 15
            assert list(dataset.transform)[:6] == item["properties"]["proj:transform"]
            assert dataset.count == (6 if key == TRUTH_KEY else 1)


def test_generation_is_deterministic(catalog, items, tmp_path):
    acq = next(a for a in acquisitions() if a.sky == "partly")
    write_scene(acq, tmp_path)
    item = items[acq.item_id]
    for key in (QA_BAND, "red", TRUTH_KEY):
        again = _read(tmp_path, item, key)
        assert hashlib.sha256(again.tobytes()).digest() == hashlib.sha256(_read(catalog, item, key).tobytes()).digest()
    assert json.loads((tmp_path / f"{acq.item_id}.json").read_text()) == item


def test_qa_values_are_legal_usgs_combinations(items, rasters):
    seen: set[int] = set()
    for item_id, item in items.items():
        platform = item["properties"]["platform"]
        code = rasters[item_id][QA_BAND]
        seen |= set(np.unique(code).tolist())
        classes = qa.decode_qa(code, platform)
        valid = classes.valid
        assert (code[classes.fill] == 1 << qa.FILL_BIT).all(), "fill pixels carry the fill bit alone"
        clear = qa.bit_set(code, qa.CLEAR_BIT)
        assert (clear[valid] == ~(classes.cloud | classes.dilated)[valid]).all()
        assert not (classes.cloud & (classes.dilated | classes.shadow | classes.snow | classes.water)).any()
        assert not (classes.snow & classes.water).any()
        for flag, offset in (
            (classes.cloud, qa.CLOUD_CONFIDENCE_OFFSET),
            (classes.shadow, qa.CLOUD_SHADOW_CONFIDENCE_OFFSET),
            (classes.snow, qa.SNOW_CONFIDENCE_OFFSET),
        ):
            level = qa.confidence(code, offset)
            assert ((level == HIGH) == flag)[valid].all()
            assert (level[valid] >= 1).all()
        if platform == "landsat-7":
            assert not qa.bit_set(code, qa.CIRRUS_BIT).any()
            assert (qa.confidence(code, qa.CIRRUS_CONFIDENCE_OFFSET) == 0).all()
        else:
            cirrus_level = qa.confidence(code, qa.CIRRUS_CONFIDENCE_OFFSET)[valid]
            assert set(np.unique(cirrus_level).tolist()) <= {1, HIGH}
            assert ((cirrus_level == HIGH) == classes.cirrus[valid]).all()
    # The codes real scenes are full of (USGS guides; ../shared/data/real/README.md).
    assert {L8_CLEAR_LAND, 21952, 22280, 55052, 23888, 30048, L7_CLEAR_LAND} <= seen
    assert L8_CLEAR_LAND == 21824 and L7_CLEAR_LAND == 5440


def test_cloud_cover_is_counted_from_the_qa_band(items, rasters):
    for item_id, item in items.items():
        classes = qa.decode_qa(rasters[item_id][QA_BAND], item["properties"]["platform"])
        expected = 100 * (classes.cloud | classes.cirrus).sum() / classes.valid.sum()
        assert item["properties"]["eo:cloud_cover"] == pytest.approx(expected, abs=0.006)
        assert 0 <= item["properties"]["landsat:cloud_cover_land"] <= 100


def test_clear_partly_cloudy_and_overcast_dates_all_occur(items):
    cover = np.array([i["properties"]["eo:cloud_cover"] for i in items.values()])
    clear, overcast = (cover < 5).mean(), (cover > 80).mean()
    partly = 1 - clear - overcast
    assert 0.25 < clear < 0.42 and 0.25 < partly < 0.42 and 0.25 < overcast < 0.42, (clear, partly, overcast)
    for sky in ("clear", "partly", "overcast"):
        assert len(_by_sky(items, sky)) >= 55


def test_landsat_7_date_has_slc_off_wedge_gaps_inside_its_footprint(catalog, items, rasters):
    acq = next(a for a in acquisitions() if a.platform == "landsat-7")
    code = rasters[acq.item_id][QA_BAND]
    footprint = footprint_mask(acq.jitter_px)
    gaps = (code == 1 << qa.FILL_BIT) & footprint
    assert 0.08 < gaps.sum() / footprint.sum() < 0.3
    truth = _read(catalog, items[acq.item_id], TRUTH_KEY)
    assert (truth[:, gaps] > 0).all(), "the truth has no gaps"
    # Wedges: closed along the ground track, widest at the swath edges.
    rows, cols = np.nonzero(footprint)
    centre_band = footprint & (np.abs(np.arange(footprint.shape[1]) - footprint.shape[1] / 2) < 15)[None, :]
    edge_band = footprint & ~(np.abs(np.arange(footprint.shape[1]) - cols.mean()) < 150)[None, :]
    assert gaps[centre_band].mean() < 0.02 < 0.15 < gaps[edge_band].mean()


def _best_shift(cloud: np.ndarray, shadow: np.ndarray, valid: np.ndarray, radius: int = 160) -> tuple[int, int, float]:
    """(rows, cols, IoU): the move of the cloud mask that best lands it on the shadow mask.

    IoU of the moved cloud (where it lands on data outside cloud) with the shadow, for
    every move up to `radius` pixels, from zero-padded FFT correlations.
    """
    padded = (2 * cloud.shape[0], 2 * cloud.shape[1])

    def correlate(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        spectra = np.conj(np.fft.rfft2(a.astype(float), s=padded)) * np.fft.rfft2(b.astype(float), s=padded)
        return np.fft.irfft2(spectra, s=padded)

    overlap = correlate(cloud, shadow)
    moved = correlate(cloud, ~cloud & valid)
    iou = overlap / (moved + shadow.sum() - overlap + 1e-9)
    rows = np.fft.fftfreq(padded[0], 1 / padded[0])[:, None]
    cols = np.fft.fftfreq(padded[1], 1 / padded[1])[None, :]
    iou[(rows**2 + cols**2 > radius**2) | (rows**2 + cols**2 < 25)] = -1
    row, col = np.unravel_index(np.argmax(iou), iou.shape)
    return int(rows[row, 0]), int(cols[0, col]), float(iou[row, col])


def test_shadows_fall_away_from_the_sun(items, rasters):
    errors = []
    for item in _by_sky(items, "partly"):
        props = item["properties"]
        if not 10 < props["eo:cloud_cover"] < 45:
            continue
        classes = qa.decode_qa(rasters[item["id"]][QA_BAND], props["platform"])
        d_row, d_col, iou = _best_shift(classes.cloud, classes.shadow, classes.valid)
        azimuth = np.rad2deg(np.arctan2(d_col, -d_row))
        error = abs((azimuth - props["view:sun_azimuth"] - 180 + 180) % 360 - 180)
        assert iou < 0.2 or error < 90, f"{item['id']}: shadows lie towards the sun"
        errors.append(error)
    # Scenes where most shadows come from clouds outside the swath may mislead the estimate.
    assert len(errors) >= 20 and np.mean(np.array(errors) <= 30) >= 0.85, sorted(errors)


def test_truth_fills_the_footprint_and_matches_clear_pixels(catalog, items, rasters):
    checked = 0
    for acq in acquisitions():
        item = items[acq.item_id]
        if acq.platform == "landsat-7" or item["properties"]["eo:cloud_cover"] > 60 or checked >= 12:
            continue
        truth = _read(catalog, item, TRUTH_KEY)
        assert ((truth > 0).all(axis=0) == footprint_mask(acq.jitter_px)).all()
        code = rasters[acq.item_id][QA_BAND]
        classes = qa.decode_qa(code, acq.platform)
        clear = classes.valid & ~classes.any_cloud & ~classes.shadow & ~classes.snow
        observed = np.stack([_read(catalog, item, band) for band in SR_BANDS])
        difference = np.abs(_reflectance(observed[:, clear]) - _reflectance(truth[:, clear]))
        assert difference.max() < 0.06 and np.median(difference) < 0.02, acq.item_id
        ground_under_cloud = _reflectance(truth[0, classes.cloud])
        if classes.cloud.sum() > 1000 and np.median(ground_under_cloud) < 0.3:  # not over snow
            cloud_gap = _reflectance(observed[0, classes.cloud]) - ground_under_cloud
            assert np.median(cloud_gap) > 0.1, "clouds are brighter than the bare ground under them"
        checked += 1
    assert checked == 12


def test_vegetation_greens_up_in_summer(catalog, items, rasters):
    def median_ndvi(month: int) -> float:
        acq = next(
            a for a in acquisitions()
            if a.datetime.month == month and a.wrs_path == 24 and a.platform != "landsat-7"
        )
        truth = _reflectance(_read(catalog, items[acq.item_id], TRUTH_KEY))
        red, nir = truth[SR_BANDS.index("red")], truth[SR_BANDS.index("nir08")]
        inside = footprint_mask(acq.jitter_px)
        return float(np.median(((nir - red) / (nir + red))[inside]))

    assert median_ndvi(7) > 0.6 > median_ndvi(4) + 0.2


def test_demo_source_searches_the_catalog(catalog, items):
    source = DemoSource(catalog)
    assert isinstance(source, SceneSource) and source.name == "demo"
    scenes = [scene_from_item(item, base_href=catalog.as_posix()) for item in items.values()]
    assert all(Path(s.assets[QA_BAND]).is_file() for s in scenes)
    aoi = parse_aoi(",".join(map(str, DEMO_EXAMPLE_BBOX)))
    found = source.search(aoi, DEMO_START, DEMO_END)
    assert {s.wrs_path for s in found} == {24, 25} and len(found) == len(items)
    assert found == sorted(found, key=lambda s: (s.datetime, s.id))
    assert source.readable_href(found[0].assets["red"]) == found[0].assets["red"]
    low = source.search(aoi, DEMO_START, DEMO_END, max_scene_cloud_pct=5)
    assert 0 < len(low) < len(found) and all(s.scene_cloud_pct <= 5 for s in low)
    june = source.search(aoi, dt.date(2022, 6, 1), dt.date(2022, 6, 30))
    assert {s.date.month for s in june} == {6} and len(june) == 7


def test_example_bbox_lies_in_both_paths_on_every_date(items):
    example = box(*DEMO_EXAMPLE_BBOX)
    assert all(shape(item["geometry"]).contains(example) for item in items.values())
    west, south, east, north = DEMO_EXAMPLE_BBOX
    width_km = (east - west) * 111.32 * np.cos(np.deg2rad((south + north) / 2))
    assert 6.5 < width_km < 9 and 6.5 < (north - south) * 111.32 < 9


def test_the_demo_cache_folder_is_the_cache_dir_setting(monkeypatch, tmp_path, catalog):
    assert demo_cache_dir(tmp_path) == tmp_path / "demo-v1"
    assert demo_cache_dir(str(tmp_path)) == tmp_path / "demo-v1"
    # The environment gives the setting when settings are read (the CLI's, a front-door call's).
    monkeypatch.setenv("CLOUDCORE_CACHE_DIR", str(tmp_path))
    assert demo_cache_dir(Settings.from_env().cache_dir) == tmp_path / "demo-v1"
    monkeypatch.delenv("CLOUDCORE_CACHE_DIR")
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    assert demo_cache_dir(Settings.from_env().cache_dir) == home / ".cache" / "cloudcore" / "demo-v1"
    # A complete catalog in place is used as it is (linked here: generating takes seconds).
    (tmp_path / "demo-v1").symlink_to(catalog, target_is_directory=True)
    (home / ".cache" / "cloudcore").mkdir(parents=True)
    (home / ".cache" / "cloudcore" / "demo-v1").symlink_to(catalog, target_is_directory=True)
    expected = len(DemoSource(catalog).scenes)
    given = DemoSource(settings=Settings(cache_dir=tmp_path))
    assert given.catalog_dir == tmp_path / "demo-v1" and len(given.scenes) == expected
    # Given no settings, the source takes the default folder and never reads the environment ...
    monkeypatch.setenv("CLOUDCORE_CACHE_DIR", str(tmp_path / "elsewhere"))
    plain = DemoSource()
    assert plain.catalog_dir == home / ".cache" / "cloudcore" / "demo-v1" and len(plain.scenes) == expected
    assert not (tmp_path / "elsewhere").exists()
    # ... while the front door reads it at the call.
    monkeypatch.setenv("CLOUDCORE_CACHE_DIR", str(tmp_path))
    assert open_source("demo").catalog_dir == tmp_path / "demo-v1"


def _fake_generator(calls: list[Path]):
    def generate(out_dir, progress=None):
        calls.append(Path(out_dir))
        time.sleep(0.3)  # long enough for a second caller to arrive and wait
        (Path(out_dir) / "catalog.json").write_text("{}")
        return Path(out_dir)

    return generate


def test_concurrent_first_use_generates_once(monkeypatch, tmp_path):
    calls: list[Path] = []
    monkeypatch.setattr(demo_cache, "generate_demo_catalog", _fake_generator(calls))
    results: list[Path] = []
    threads = [threading.Thread(target=lambda: results.append(ensure_demo_catalog(tmp_path))) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1 and calls[0].parent == tmp_path and calls[0] != tmp_path / "demo-v1"
    assert results == [tmp_path / "demo-v1"] * 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo-v1", "demo-v1.lock"]


def test_half_written_cache_is_never_used(monkeypatch, tmp_path):
    (tmp_path / "demo-v1").mkdir()
    (tmp_path / "demo-v1" / "LC08_partial.json").write_text("{}")
    (tmp_path / "demo-v1.tmp-dead").mkdir()
    calls: list[Path] = []
    monkeypatch.setattr(demo_cache, "generate_demo_catalog", _fake_generator(calls))
    folder = ensure_demo_catalog(tmp_path)
    assert len(calls) == 1 and sorted(p.name for p in folder.iterdir()) == ["catalog.json"]
    assert not (tmp_path / "demo-v1.tmp-dead").exists()

    def fail(out_dir, progress=None):
        raise RuntimeError("disk full")

    monkeypatch.setattr(demo_cache, "generate_demo_catalog", fail)
    with pytest.raises(RuntimeError):
        ensure_demo_catalog(tmp_path / "other")
    assert [p.name for p in (tmp_path / "other").iterdir()] == ["demo-v1.lock"]


def test_a_plain_script_makes_the_demo_on_first_use_without_a_main_guard(tmp_path):
    """A newcomer's first script has no `if __name__ == "__main__"`: making the demo must not run
    it again in a child process (which would wait on the demo's lock for ever)."""
    import os
    import subprocess
    import sys

    script = tmp_path / "first.py"
    script.write_text(
        "import cloudcore\n"
        "items = cloudcore.search((-89.4443, 43.0377, -89.3555, 43.1025), '2022-06-01', '2022-06-30', source='demo')\n"
        "print(len(items), 'scenes')\n"
    )
    env = {**os.environ, "CLOUDCORE_CACHE_DIR": str(tmp_path / "empty-cache")}
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("scenes") and int(done.stdout.split()[0]) > 0
    assert (tmp_path / "empty-cache" / "demo-v1" / "catalog.json").is_file()
