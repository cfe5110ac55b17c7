"""The native COG reader (`cloudcore.io.cog_http`) against GDAL, on real Landsat rasters over HTTP.

Real Collection 2 QA and reflectance rasters from ../shared/data/real (PixelIsPoint, UTM and polar
stereographic, and a CONUS Albers one with a user-defined CRS) are rewritten as COGs the way USGS
writes them, served by the test suite's blob server, and read by both paths: grids and pixels must
be identical. Files the native reader does not handle go to GDAL, and are counted.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
import rasterio.shutil
from pyproj import Transformer

from cloudcore.geo.aoi import parse_aoi
from cloudcore.io import cog_http, read
from cloudcore.io import read as read_module
from cloudcore.io.read import read_aoi, read_on_grid
from cloudcore.settings import Settings
from tests.servers.blob import BlobServer

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
SOURCES = {
    "utm-point": REAL / "rio-tiler-pds-c2l2" / "LC08_L2SP_001062_20201031_20201106_02_T2_QA_PIXEL.TIF",
    "polar-point": REAL / "stactools-landsat-c2l2" / "assets2" / "LC08_L2SR_099120_20191129_20201016_02_T2_QA_PIXEL.TIF",
    "utm-reflectance": REAL / "rio-tiler-pds-c2l2" / "LC08_L2SP_001062_20201031_20201106_02_T2_SR_B4.TIF",
}
ALBERS = REAL / "lcmap-espa-046027" / "scenes" / "LT05_L2SP_046027_20011107_20200101_02_T1_QA_PIXEL.TIF"
NATIVE, GDAL = Settings(), Settings(gdal_reads=True)

pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason="the real reference data is not here")


def _cog(source: Path, folder: Path, **options) -> Path:
    """`source` rewritten as a COG with USGS's layout (small tiles, so a window spans several)."""
    target = folder / source.name
    layout = dict(BLOCKSIZE=128, COMPRESS="DEFLATE", PREDICTOR=2, OVERVIEWS="NONE") | options
    rasterio.shutil.copy(source, target, driver="COG", **layout)
    return target


def _aoi(path: Path, fractions: tuple[float, float, float, float]):
    """An AOI over a part of `path`, given as fractions of its extent (may reach past its edges)."""
    with rasterio.open(path) as src:
        left, bottom, right, top = src.bounds
        crs = src.crs.to_string()
    width, height = right - left, top - bottom
    x0, y0, x1, y1 = fractions
    xs = [left + x0 * width, left + x1 * width, left + x1 * width, left + x0 * width]
    ys = [bottom + y0 * height, bottom + y0 * height, bottom + y1 * height, bottom + y1 * height]
    # The rectangle's corners in lon/lat (a bbox would not do near the pole).
    lons, lats = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(xs, ys)
    ring = [[lon, lat] for lon, lat in zip(lons, lats)]
    return parse_aoi(json.dumps({"type": "Polygon", "coordinates": [ring + ring[:1]]}))


@pytest.fixture(autouse=True)
def _native_for_any_window(monkeypatch):
    """These windows of whole Landsat scenes pass the size above which reads go to GDAL
    (`read.NATIVE_MAX_PIXELS`, where GDAL is the faster): here the native reader reads them all."""
    monkeypatch.setattr(read_module, "NATIVE_MAX_PIXELS", float("inf"))


def test_windows_above_the_native_size_go_to_gdal_uncounted(served, monkeypatch):
    """A window larger than NATIVE_MAX_PIXELS is read by GDAL from the start (not a fallback)."""
    server, urls, files = served
    aoi = _aoi(files["utm-point"], (0.2, 0.3, 0.7, 0.8))
    monkeypatch.setattr(read_module, "NATIVE_MAX_PIXELS", 1000)
    cog_http.reset_read_path_counts()
    grid, values = read_aoi(urls["utm-point"], aoi, settings=NATIVE, margin_m=60.0, fill_value=1)
    assert cog_http.read_path_counts() == {"native": 0, "gdal_fallback": 0}
    assert np.array_equal(values, read_aoi(urls["utm-point"], aoi, settings=GDAL, margin_m=60.0, fill_value=1)[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cogs")
    files = {name: _cog(path, folder) for name, path in SOURCES.items()}
    for compression in ("ZSTD", "LZW"):
        (folder / compression).mkdir()
        files[compression.lower()] = _cog(SOURCES["utm-point"], folder / compression, COMPRESS=compression)
    with BlobServer(folder) as server:
        yield server, {name: server.url_for(str(path.relative_to(folder))) for name, path in files.items()}, files


@pytest.mark.parametrize("name", ["utm-point", "utm-reflectance", "zstd", "lzw"])
@pytest.mark.parametrize("part", [(0.2, 0.3, 0.7, 0.8), (-0.3, -0.2, 0.4, 0.5), (0.6, 0.5, 1.4, 1.3)])
def test_native_window_equals_gdal_on_real_rasters(served, name, part):
    server, urls, files = served
    aoi = _aoi(files[name], part)
    cog_http.reset_read_path_counts()
    grid, native = read_aoi(urls[name], aoi, settings=NATIVE, margin_m=60.0, fill_value=1)
    assert cog_http.read_path_counts() == {"native": 1, "gdal_fallback": 0}
    gdal_grid, gdal = read_aoi(urls[name], aoi, settings=GDAL, margin_m=60.0, fill_value=1)
    assert grid == gdal_grid  # the same CRS, transform and shape, to the bit
    assert native.dtype == gdal.dtype and np.array_equal(native, gdal)
    # The same file again on that grid (a date's second scene takes this path).
    assert np.array_equal(read_on_grid(urls[name], grid, settings=NATIVE, fill_value=1), gdal)
    assert cog_http.read_path_counts() == {"native": 2, "gdal_fallback": 0}


def test_native_reader_asks_for_the_header_then_the_tiles_merged(served):
    server, urls, files = served
    aoi = _aoi(files["utm-point"], (0.3, 0.3, 0.6, 0.8))
    server.reset_stats()
    grid, _ = read_aoi(urls["utm-point"], aoi, settings=NATIVE)
    with rasterio.open(files["utm-point"]) as src:  # where GDAL says the window's tiles lie
        col0 = round((grid.transform.c - src.transform.c) / src.transform.a)
        row0 = round((grid.transform.f - src.transform.f) / src.transform.e)
        tiles = {(c // 128, r // 128) for c in (max(col0, 0), min(col0 + grid.width, src.width) - 1)
                 for r in (max(row0, 0), min(row0 + grid.height, src.height) - 1)}
        xs, ys = range(min(x for x, _ in tiles), max(x for x, _ in tiles) + 1), range(min(y for _, y in tiles), max(y for _, y in tiles) + 1)
        ranges = [(int(src.get_tag_item(f"BLOCK_OFFSET_{x}_{y}", "TIFF", bidx=1)),
                   int(src.get_tag_item(f"BLOCK_OFFSET_{x}_{y}", "TIFF", bidx=1)) + int(src.get_tag_item(f"BLOCK_SIZE_{x}_{y}", "TIFF", bidx=1)))
                  for x in xs for y in ys]
    expected = cog_http.merge_ranges(ranges, cog_http.MERGE_GAP_BYTES)
    log = [e for e in server.log if e.path.endswith(files["utm-point"].name)]
    assert [e.method for e in log] == ["GET"] * (1 + len(expected))  # no HEAD
    assert log[0].range == f"bytes=0-{cog_http.HEADER_PREFETCH_BYTES - 1}"
    assert sorted(e.range for e in log[1:]) == sorted(f"bytes={a}-{b - 1}" for a, b in expected)
    assert len(expected) < len(ranges)  # neighbouring tiles came in one request


def test_files_the_native_reader_does_not_handle_fall_back_to_gdal_and_are_counted(served, tmp_path):
    # A stripped TIFF (the real file as USGS's archive holds it), and COGs whose CRS is user-defined
    # in their GeoTIFF keys (USGS's polar stereographic and CONUS Albers): GDAL's reading of those
    # keys is the reference, so GDAL reads them.
    server, urls, files = served
    aoi = _aoi(files["polar-point"], (0.2, 0.3, 0.7, 0.8))
    cog_http.reset_read_path_counts()
    grid, values = read_aoi(urls["polar-point"], aoi, settings=NATIVE)
    assert cog_http.read_path_counts() == {"native": 0, "gdal_fallback": 1}
    gdal_grid, gdal = read_aoi(urls["polar-point"], aoi, settings=GDAL)
    assert grid == gdal_grid and np.array_equal(values, gdal)
    for source in (SOURCES["utm-point"], ALBERS):
        url = server.add_route(f"/plain/{source.name}", source)
        aoi = _aoi(source, (0.2, 0.3, 0.7, 0.8))
        cog_http.reset_read_path_counts()
        grid, values = read_aoi(url, aoi, settings=NATIVE)
        assert cog_http.read_path_counts() == {"native": 0, "gdal_fallback": 1}
        gdal_grid, gdal = read_aoi(url, aoi, settings=GDAL)
        assert grid == gdal_grid and np.array_equal(values, gdal)
    albers_cog = _cog(ALBERS, tmp_path)
    url = server.add_route(f"/albers/{albers_cog.name}", albers_cog)
    cog_http.reset_read_path_counts()
    read_aoi(url, _aoi(albers_cog, (0.2, 0.3, 0.7, 0.8)), settings=NATIVE)
    assert cog_http.read_path_counts()["gdal_fallback"] == 1


def test_merge_ranges_joins_neighbours_not_rows():
    assert cog_http.merge_ranges([(30, 40), (0, 10), (18, 30)], gap=8) == [(0, 40)]
    assert cog_http.merge_ranges([(0, 10), (100, 110)], gap=8) == [(0, 10), (100, 110)]


@pytest.mark.parametrize("raw, seconds", [("2", 2.0), ("0", 0.0), ("600", read.MAX_RETRY_AFTER_S), ("soon", 0.0), (None, 0.0)])
def test_retry_after_is_read_and_capped(raw, seconds):
    assert read.retry_after_seconds(raw) == seconds
