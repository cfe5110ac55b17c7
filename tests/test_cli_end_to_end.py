"""The CLI end to end: the demo record, a folder of real scenes, and a STAC API on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio
import shapely
from pyproj import Transformer

from cloudcore.demo import DEMO_END, DEMO_EXAMPLE_BBOX, DEMO_START

BBOX = ",".join(str(v) for v in DEMO_EXAMPLE_BBOX)


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cloudcore", *args], capture_output=True, text=True, timeout=600,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture(scope="module")
def demo_env(tmp_path_factory):
    """The session's shared demo cache (the first command of the session that needs it makes it)."""
    return {"CLOUDCORE_CACHE_DIR": str(tmp_path_factory.getbasetemp() / "demo-cache")}


@pytest.fixture(scope="module")
def demo_cover(demo_env):
    run = cli("cover", "--source", "demo", f"--aoi={BBOX}", "--start", str(DEMO_START), "--end", str(DEMO_END), env=demo_env)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)["dates"]


def test_demo_cover_is_a_believable_timeline(demo_cover):
    dates = [d["date"] for d in demo_cover]
    assert dates == sorted(dates) and len(dates) > 60
    assert all(d["error"] is None for d in demo_cover)
    masked = [d["masked_pct"] for d in demo_cover if d["masked_pct"] is not None]
    assert sum(m < 5 for m in masked) >= 5, "some clear dates"
    assert sum(5 <= m <= 80 for m in masked) >= 5, "some partly cloudy dates"
    assert sum(m > 80 for m in masked) >= 5, "some overcast dates"
    assert {d["platform"] for d in demo_cover} >= {"landsat-8", "landsat-9", "landsat-7"}
    # The AOI figure is not the scene figure: they differ on most partly cloudy dates.
    differ = [d for d in demo_cover if d["scene_cloud_pct"] is not None and abs(d["cloud_pct"] - d["scene_cloud_pct"]) > 5]
    assert len(differ) >= 5
    # obscured_pct, the last field: the AOI share missing or removed, what a clear date keeps small.
    assert all(list(d)[-1] == "obscured_pct" for d in demo_cover)
    for d in demo_cover:
        if d["clear_pct"] is not None:
            assert d["obscured_pct"] == pytest.approx(100 - d["valid_pct"] * d["clear_pct"] / 100, abs=0.011)
            assert d["obscured_pct"] >= d["masked_pct"] * d["valid_pct"] / 100 - 0.011


def test_demo_cover_csv_has_the_contract_columns(demo_env):
    run = cli("cover", "--source", "demo", f"--aoi={BBOX}", "--start", str(DEMO_START), "--end", str(DEMO_START.replace(month=6)), "--format", "csv", env=demo_env)
    assert run.returncode == 0, run.stderr
    header = run.stdout.splitlines()[0]
    assert header == "date,platform,scene_ids,scene_cloud_pct,valid_pct,cloud_pct,shadow_pct,snow_pct,masked_pct,clear_pct,error,obscured_pct"


def test_a_bad_setting_in_the_environment_stops_the_command_at_once(demo_env):
    run = cli("cover", "--source", "demo", f"--aoi={BBOX}", "--start", str(DEMO_START), "--end", str(DEMO_END),
              env={**demo_env, "CLOUDCORE_WORKERS": "0"})
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.startswith("cloudcore: CLOUDCORE_WORKERS='0' is outside the allowed range: set a whole number from 1")
    assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr


def test_demo_fill_leaves_fewer_holes_and_matches_the_truth(demo_cover, demo_env, tmp_path):
    partly = [d for d in demo_cover if 20 <= (d["masked_pct"] or 0) <= 70 and d["valid_pct"] == 100]
    target = partly[len(partly) // 2]
    out, png = tmp_path / "filled.tif", tmp_path / "filled.png"
    run = cli("fill", "--source", "demo", f"--aoi={BBOX}", "--date", target["date"], "--out", str(out), "--png", str(png), env=demo_env)
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert summary["date"] == target["date"]
    assert summary["unfilled_pct"] < summary["masked_pct"]
    assert summary["filled_pct"] + summary["unfilled_pct"] == pytest.approx(summary["masked_pct"], abs=0.02)
    with rasterio.open(out) as src:
        assert src.descriptions == ("red", "green", "blue", "nir08", "swir16", "swir22", "provenance", "uncertainty")
        assert src.dtypes[0] in ("uint32", "int32")
        data = src.read()
        provenance = data[6]
        code = int(target["date"].replace("-", ""))
        inside = provenance > 0
        filled = inside & (provenance != code)
        # Independent count of the summary from the file: filled share of pixels with any value or a hole.
        assert filled.any()
        assert (data[:6][:, filled] > 0).all()
        # Filled pixels resemble the cloud-free truth of the target date.
        truth_path = _truth_for(demo_env, target["scene_ids"][0])
        with rasterio.open(truth_path) as truth_src:
            from rasterio.vrt import WarpedVRT

            with WarpedVRT(truth_src, crs=src.crs, transform=src.transform, width=src.width, height=src.height) as vrt:
                truth = vrt.read()
        reflectance = lambda dn: dn.astype(float) * 0.0000275 - 0.2  # noqa: E731
        error = reflectance(data[:3][:, filled]) - reflectance(truth[:3][:, filled])
        assert np.sqrt((error**2).mean()) < 0.06
    from PIL import Image

    with Image.open(png) as image:
        pixels = np.asarray(image)
    assert pixels.shape[:2] == provenance.shape and pixels[..., :3].std() > 5


def _truth_for(demo_env: dict, scene_id: str) -> Path:
    """The truth raster the scene's STAC item points to."""
    items = sorted(Path(demo_env["CLOUDCORE_CACHE_DIR"]).rglob(f"{scene_id}.json"))
    assert items, f"no item for {scene_id}"
    href = json.loads(items[0].read_text())["assets"]["truth"]["href"]
    path = (items[0].parent / href).resolve()
    assert "truth" in path.name and path.is_file()
    return path


def test_demo_command_writes_a_catalog(tmp_path, demo_env):
    run = cli("demo", "--out", str(tmp_path / "catalog"), env=demo_env)
    assert run.returncode == 0, run.stderr
    tifs = list((tmp_path / "catalog").rglob("*.TIF")) + list((tmp_path / "catalog").rglob("*.tif"))
    items = [p for p in (tmp_path / "catalog").rglob("*.json") if "catalog" not in p.name]
    assert any("truth" in p.name for p in tifs) and any("QA_PIXEL" in p.name for p in tifs)
    item = json.loads(items[0].read_text())
    assert "bbox" in item and item["assets"]["qa_pixel"]["href"]


# --- a folder of real scenes: numbers equal a direct count of the QA_PIXEL bits ---------------

REAL_SCENES = ("stactools-landsat-c2l2/assets3", "stactools-landsat-c2l2/assets", "rio-tiler-pds-c2l2")


@pytest.fixture(scope="module")
def real_folder(real_data, tmp_path_factory):
    folder = tmp_path_factory.mktemp("earthexplorer")
    for sub in REAL_SCENES:
        for path in (real_data / sub).iterdir():
            if path.suffix.upper() in (".TIF", ".JSON", ".TXT"):
                (folder / path.name).symlink_to(path)
    return folder


@pytest.mark.parametrize("sub", REAL_SCENES)
def test_folder_cover_equals_a_direct_count(real_folder, real_data, sub):
    qa_path = next((real_data / sub).glob("*_QA_PIXEL.TIF"))
    with rasterio.open(qa_path) as src:
        qa = src.read(1).astype(np.int64)
        crs, transform = src.crs, src.transform
        # An AOI over the middle half of the scene, as a lon/lat polygon.
        w, s, e, n = src.bounds
        inner = shapely.box(w + (e - w) / 4, s + (n - s) / 4, e - (e - w) / 4, n - (n - s) / 4)
    to_ll = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    aoi_ll = shapely.transform(shapely.segmentize(inner, (e - w) / 50), to_ll.transform, interleaved=False)
    aoi_file = real_folder.parent / f"aoi_{qa_path.stem}.geojson"
    aoi_file.write_text(json.dumps(shapely.geometry.mapping(aoi_ll)))
    date = qa_path.name.split("_")[3]
    day = f"{date[:4]}-{date[4:6]}-{date[6:]}"
    run = cli("cover", "--source", str(real_folder), "--aoi", str(aoi_file), "--start", day, "--end", day)
    assert run.returncode == 0, run.stderr
    records = json.loads(run.stdout)["dates"]
    assert len(records) == 1 and records[0]["error"] is None, records

    # Direct count: pixel centres inside the AOI (projected back to the raster CRS), bits by integer arithmetic.
    aoi_native = shapely.transform(aoi_ll, Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform, interleaved=False)
    rows, cols = np.mgrid[0 : qa.shape[0], 0 : qa.shape[1]]
    xs = transform.c + (cols + 0.5) * transform.a
    ys = transform.f + (rows + 0.5) * transform.e
    inside = shapely.contains_xy(aoi_native, xs, ys)
    bit = lambda b: (qa >> b) & 1 == 1  # noqa: E731
    valid = inside & ~bit(0)
    n = valid.sum()
    expected = {
        "valid_pct": round(100 * n / inside.sum(), 2),
        "cloud_pct": round(100 * (valid & (bit(3) | bit(1) | bit(2))).sum() / n, 2),
        "shadow_pct": round(100 * (valid & bit(4)).sum() / n, 2),
        "snow_pct": round(100 * (valid & bit(5)).sum() / n, 2),
        "masked_pct": round(100 * (valid & (bit(1) | bit(2) | bit(3) | bit(4))).sum() / n, 2),
    }
    got = {k: records[0][k] for k in expected}
    # Boundary pixels whose centre sits on the AOI edge may be decided either way: allow 0.2 points.
    for key in expected:
        assert got[key] == pytest.approx(expected[key], abs=0.2), (key, got, expected)


# --- a STAC API on loopback, loaded with the recorded Planetary Computer items -----------------

def test_scenes_from_a_stac_api_are_exactly_the_intersecting_items(real_data):
    from tests.stac_server import running_stac_api

    items = []
    for page in sorted((real_data / "pc-stac-pystac-client").glob("landsat-c2-l2_items_*.json")):
        items.extend(json.loads(page.read_text())["features"])
    footprints = {item["id"]: shapely.geometry.shape(item["geometry"]) for item in items}
    # Around the corner of one scene, where its neighbouring rows overlap it.
    c = shapely.geometry.Point(footprints[items[0]["id"]].exterior.coords[0])
    aoi = shapely.box(c.x - 0.3, c.y - 0.2, c.x + 0.3, c.y + 0.2)
    expected = sorted(i for i, f in footprints.items() if f.intersects(aoi))
    assert 0 < len(expected) < len(items)
    with running_stac_api(items) as url:
        run = cli("scenes", "--source", url, f"--aoi={','.join(map(str, aoi.bounds))}", "--start", "2024-01-01", "--end", "2025-12-31")
    assert run.returncode == 0, run.stderr
    got = sorted(s["id"] for s in json.loads(run.stdout)["scenes"])
    assert got == expected


def test_demo_evaluate_prints_the_contract_json(demo_env):
    run = cli("evaluate", "--source", "demo", "--start", "2022-09-01", "--end", "2022-10-31", "--format", "json", env=demo_env)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["dates_evaluated"] >= 1
    assert [m["method"] for m in result["methods"]] == ["nearest", "nearest-matched", "blend-matched", "median", "best-pixel"]
    for method in result["methods"]:
        assert set(method) == {"method", "rmse", "bias", "unfilled_pct", "seam"}
        assert 0 <= method["rmse"] < 0.5 and 0 <= method["unfilled_pct"] <= 100


def test_demo_fill_with_the_union_mask_removes_at_least_the_qa_mask(demo_env, tmp_path):
    args = ["fill", "--source", "demo", f"--aoi={BBOX}", "--date", "2022-10-12", "--method", "nearest-matched"]
    qa = cli(*args, "--out", str(tmp_path / "qa.tif"), env=demo_env)
    union = cli(*args, "--mask", "qa+ml", "--out", str(tmp_path / "union.tif"), env=demo_env)
    assert qa.returncode == 0 and union.returncode == 0, union.stderr
    assert json.loads(union.stdout)["masked_pct"] >= json.loads(qa.stdout)["masked_pct"]
    assert "colour match" in union.stderr
