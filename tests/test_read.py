"""AOI windows land on the right pixels, in the scene's CRS and in another one."""

import numpy as np
import pytest
from shapely.geometry import Point

from cloudcore.errors import SceneReadError
from cloudcore.geo.aoi import parse_aoi
from cloudcore.geo.grid import grid_for_aoi, inside_mask
from cloudcore.io.read import open_grid, read_on_grid
from cloudcore.settings import Settings
from tests.rasters import ORIGIN, UTM33N, lonlat_bbox, write_tif

SETTINGS = Settings()


@pytest.fixture
def ramp(tmp_path):
    """200x200 pixels whose value encodes their row and column."""
    rows, cols = np.mgrid[0:200, 0:200]
    return write_tif(tmp_path / "ramp.tif", (rows * 1000 + cols).astype(np.uint32))


def test_window_read_matches_direct_slice(ramp):
    x0, y0 = ORIGIN
    aoi = parse_aoi(lonlat_bbox(UTM33N, x0 + 30 * 50, y0 - 30 * 120, x0 + 30 * 90, y0 - 30 * 80))
    grid = open_grid(str(ramp), aoi, settings=SETTINGS)
    data = read_on_grid(str(ramp), grid, settings=SETTINGS)
    # The grid is aligned with the raster: its first pixel is pixel (row0, col0) of the file.
    col0 = round((grid.transform.c - x0) / 30)
    row0 = round((y0 - grid.transform.f) / 30)
    assert grid.transform.a == 30 and (grid.transform.c - x0) % 30 == 0
    expected = (np.arange(row0, row0 + grid.height)[:, None] * 1000 + np.arange(col0, col0 + grid.width)[None, :])
    assert np.array_equal(data, expected)
    assert 35 <= grid.width <= 45 and 35 <= grid.height <= 45


def test_grid_past_the_raster_edge_gets_fill(ramp):
    x0, y0 = ORIGIN
    aoi = parse_aoi(lonlat_bbox(UTM33N, x0 - 30 * 10, y0 - 30 * 10, x0 + 30 * 10, y0 + 30 * 10))
    grid = open_grid(str(ramp), aoi, settings=SETTINGS)
    data = read_on_grid(str(ramp), grid, settings=SETTINGS, fill_value=7)
    col0 = round((grid.transform.c - x0) / 30)
    row0 = round((y0 - grid.transform.f) / 30)
    assert col0 < 0 and row0 < 0
    assert (data[: -row0, :] == 7).all() and (data[:, : -col0] == 7).all()
    assert data[-row0, -col0] == 0  # the raster's first pixel


def test_other_crs_is_warped_onto_the_grid(tmp_path):
    """The same ground written in UTM 33N and in UTM 34N reads back the same where both cover."""
    x0, y0 = ORIGIN
    values = np.zeros((200, 200), dtype=np.uint16)
    values[50:150, 50:150] = 5
    a = write_tif(tmp_path / "a.tif", values)
    aoi = parse_aoi(lonlat_bbox(UTM33N, x0 + 30 * 40, y0 - 30 * 160, x0 + 30 * 160, y0 - 30 * 40))
    grid = open_grid(str(a), aoi, settings=SETTINGS)
    # Reproject the file to 34N with rasterio, then read it back onto the 33N grid.
    import rasterio
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    with rasterio.open(a) as src:
        transform, width, height = calculate_default_transform(src.crs, "EPSG:32634", src.width, src.height, *src.bounds)
        out = np.zeros((height, width), dtype=np.uint16)
        reproject(values, out, src_transform=src.transform, src_crs=src.crs, dst_transform=transform,
                  dst_crs="EPSG:32634", resampling=Resampling.nearest)
    b = tmp_path / "b.tif"
    with rasterio.open(b, "w", driver="GTiff", width=width, height=height, count=1, dtype="uint16",
                       crs="EPSG:32634", transform=transform) as dst:
        dst.write(out, 1)
    direct, warped = read_on_grid(str(a), grid, settings=SETTINGS), read_on_grid(str(b), grid, settings=SETTINGS)
    agree = (direct == warped).mean()
    assert agree > 0.97  # only edge pixels of the square may differ after two nearest-neighbour resamplings


def test_inside_mask_counts_pixel_centres(tmp_path):
    aoi = parse_aoi('{"type":"Polygon","coordinates":[[[15.0,47.8],[15.05,47.8],[15.02,47.84],[15.0,47.8]]]}')
    from affine import Affine
    from rasterio.crs import CRS

    grid = grid_for_aoi(aoi, CRS.from_string(UTM33N), Affine(30, 0, ORIGIN[0], 0, -30, ORIGIN[1]))
    mask = inside_mask(aoi, grid)
    polygon = aoi.in_crs(UTM33N)
    rows, cols = np.nonzero(np.ones(grid.shape, bool))
    xs = grid.transform.c + (cols + 0.5) * 30
    ys = grid.transform.f - (rows + 0.5) * 30
    independent = np.array([polygon.contains(Point(x, y)) for x, y in zip(xs, ys)]).reshape(grid.shape)
    assert mask.sum() > 1000
    assert (mask != independent).sum() <= 2  # boundary ties only


def test_missing_file_is_a_scene_read_error(tmp_path):
    aoi = parse_aoi("15,47.8,15.01,47.81")
    with pytest.raises(SceneReadError, match="nothing.tif"):
        open_grid(str(tmp_path / "nothing.tif"), aoi, settings=SETTINGS)


def test_signed_query_never_reaches_the_message(tmp_path):
    aoi = parse_aoi("15,47.8,15.01,47.81")
    with pytest.raises(SceneReadError) as info:
        open_grid(str(tmp_path / "x.TIF") + "?sig=SECRET123", aoi, settings=SETTINGS)
    assert "SECRET123" not in str(info.value)


def test_aoi_that_cannot_be_placed_on_the_grid_is_a_scene_read_error(ramp):
    """A fact of that scene (its CRS cannot hold the AOI), never an arithmetic error: the
    AOI on the equator 90 degrees east of UTM 33N's central meridian projects to infinity."""
    aoi = parse_aoi("104.99,-0.01,105.01,0.01", settings=SETTINGS)
    with pytest.raises(SceneReadError, match="ramp.tif"):
        open_grid(str(ramp), aoi, settings=SETTINGS)


def test_aoi_with_no_projection_onto_the_grid_is_a_scene_read_error(ramp, monkeypatch):
    from shapely.geometry import Polygon

    from cloudcore.geo import grid as grid_module

    monkeypatch.setattr(grid_module, "projected", lambda aoi, crs: Polygon())
    with pytest.raises(SceneReadError, match="ramp.tif"):
        open_grid(str(ramp), parse_aoi("15,47.8,15.01,47.81", settings=SETTINGS), settings=SETTINGS)


def test_read_failures_are_the_declared_per_date_kinds():
    from cloudcore.errors import SourceUnreachableError
    from cloudcore.io.read import READ_FAILURES

    assert set(READ_FAILURES) == {SceneReadError, SourceUnreachableError}


@pytest.mark.parametrize("seconds, expected", [(0.1, "1"), (1.0, "1"), (2.5, "3"), (10.0, "10"), (3600.0, "3600")])
def test_gdal_http_timeout_is_the_setting_rounded_up_to_whole_seconds(seconds, expected):
    from cloudcore.io.gdal import gdal_options

    options = gdal_options(Settings(http_timeout_s=seconds))
    assert options["GDAL_HTTP_TIMEOUT"] == expected
    assert int(options["GDAL_HTTP_CONNECTTIMEOUT"]) >= 1  # never 0, which GDAL reads as no deadline
