"""The benchmark suite (bench/): its byte floor is right, and at tiny scale every contender
agrees with cloudcore and the results file carries the contract's fields."""

from __future__ import annotations

import json
import os
import zlib
from pathlib import Path

import numpy as np
import pytest
import rasterio

from bench import data, minbytes
from bench.run import Mismatch, check_equal


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    """A CLOUDCORE_CACHE_DIR for the module: the tiny files are made once for all tests."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def tiny_files(cache_dir) -> list[Path]:
    return data.qa_files(data.TINY, cache_dir / data.CACHE_VERSION, processes=1, log=lambda _: None)


def test_tile_index_points_at_real_compressed_tiles(tiny_files):
    """Every (offset, size) GDAL reports decompresses to exactly one 512 x 512 uint16 tile."""
    path = str(tiny_files[0])
    raw = Path(path).read_bytes()
    for index in minbytes.tile_indexes(path):
        for offset, size in index.tiles.values():
            tile = zlib.decompress(raw[offset : offset + size])
            assert len(tile) == 512 * 512 * 2


def test_header_and_tiles_account_for_the_whole_file(tiny_files):
    """Header + every tile of every level + GDAL's 4-byte leader and trailer per tile is the
    file size: nothing is missed or counted twice. (The first tile's leader sits inside the
    header, hence the 4 bytes less.)"""
    path = str(tiny_files[1])
    indexes = minbytes.tile_indexes(path)
    tiles = [size for index in indexes for _, size in index.tiles.values()]
    assert len(indexes) > 1, "the COG should carry overviews"
    header = minbytes.header_bytes(path)
    assert Path(path).read_bytes()[:4] in (b"II*\x00", b"MM\x00*")
    assert header + sum(tiles) + 8 * len(tiles) - 4 == os.path.getsize(path)


def test_window_tiles_are_those_it_touches(tiny_files):
    path = str(tiny_files[2])
    full = minbytes.tile_indexes(path)[0].tiles
    # Columns 500-520 straddle tiles 0 and 1; rows 600-610 lie in tile row 1.
    assert minbytes.window_tile_bytes(path, 500, 600, 21, 11) == full[(0, 1)][1] + full[(1, 1)][1]
    with rasterio.open(path) as src:
        everything = minbytes.window_tile_bytes(path, 0, 0, src.width, src.height)
    assert everything == sum(size for _, size in full.values())


def test_generated_qa_looks_like_usgs(tiny_files):
    """USGS's layout (tiles, DEFLATE, NEAREST overviews keep codes valid) and content: fill
    outside a swath, clear land, and clouds."""
    with rasterio.open(tiny_files[1]) as src:
        assert src.block_shapes[0] == (512, 512) and src.compression.name.upper() == "DEFLATE"
        assert src.dtypes[0] == "uint16" and src.nodata == 1
        full = src.read(1)
        overview = src.read(1, out_shape=(src.height // 2, src.width // 2))
    codes = set(np.unique(full).tolist())
    assert {1, 21824, 22280} <= codes
    assert set(np.unique(overview).tolist()) <= codes


def test_disagreement_is_loud():
    same = {"2024-01-01": {k: 1 for k in ("aoi_pixels", "valid_pct", "cloud_pct", "shadow_pct", "snow_pct", "masked_pct", "clear_pct")}}
    check_equal(same, json.loads(json.dumps(same)), "copy")
    other = json.loads(json.dumps(same))
    other["2024-01-01"]["cloud_pct"] = 1.01
    with pytest.raises(Mismatch, match="1 differ"):
        check_equal(same, other, "changed")
    with pytest.raises(Mismatch, match="missing"):
        check_equal(same, {}, "empty")


def test_suite_at_tiny_scale(tmp_path, monkeypatch, cache_dir, tiny_files):
    """P1 end to end on 3 small scenes, 1 run, no delay: every contender agrees (run.py stops
    otherwise) and latest.json has the contract's fields."""
    pytest.importorskip("tests.servers.blob", reason="the shaped server tests/servers/blob.py is not there yet")
    from bench import run

    monkeypatch.setenv("CLOUDCORE_CACHE_DIR", str(cache_dir))
    assert data.cache_root() == cache_dir / data.CACHE_VERSION  # the cache_dir setting, read as the CLI reads it
    out = tmp_path / "latest.json"
    args = ["--tiny", "--scenes", "3", "--runs", "1", "--delay-ms", "0", "--large-km", "30", "--only", "p1", "--out", str(out)]
    assert run.main(args) == 0
    results = json.loads(out.read_text())
    assert set(results["p1"]) == {"cloudcore", "naive", "odc_stac", "odc_stac_pool", "async_geotiff"}
    for figures in results["p1"].values():
        assert {"wall_s", "bytes", "requests", "peak_rss_mb"} <= set(figures)
        assert figures["not_found"] == 0 and figures["requests"] > 0
    assert results["p1"]["cloudcore"]["scenes"] == 3
    assert 0 < results["p1"]["cloudcore"]["min_bytes"] <= results["p1"]["cloudcore"]["bytes"]
    assert results["p1"]["cloudcore"]["warm_requests"] == 0
    # Every scene read by the native COG reader, none handed to GDAL; and no HEAD.
    assert results["p1"]["cloudcore"]["read_paths"] == {"native": 3, "gdal_fallback": 0}
    assert set(results["p1"]["cloudcore"]["by_method"]) == {"GET"}
    assert {"platform", "cpus", "ram_gb", "python", "packages"} <= set(results["machine"])
    assert {"overview_1", "overview_2", "cloudcore"} <= set(results["p1_large"])
    assert all({"goal", "target", "measured", "met"} <= set(g) for g in results["goals"])


def test_help_speaks_of_the_project_alone(capsys):
    from bench import goals, run

    with pytest.raises(SystemExit):
        run.parse_args(["--help"])
    shown = capsys.readouterr().out
    assert "benchmark suite" in shown
    for text in (shown, goals.__doc__, run.__doc__):
        assert "issue" not in text.lower()
