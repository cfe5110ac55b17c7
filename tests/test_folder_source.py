"""FolderSource over real EarthExplorer-named files (linked into tmp folders) and tiny fakes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pyproj
import pytest
import rasterio
from affine import Affine
from shapely.geometry import Point, shape

from cloudcore.errors import InvalidInputError, NoScenesError
from cloudcore.geo.aoi import parse_aoi
from cloudcore.geo.footprint import footprint_lonlat
from cloudcore.masks.qa import CLEAR_BIT
from cloudcore.product import QA_BAND, RADSAT_BAND, SR_BANDS
from cloudcore.settings import Settings
from cloudcore.sources import folder as folder_module
from cloudcore.sources.base import SceneSource
from cloudcore.sources.folder import FolderSource
from cloudcore.sources.mtl import parse_odl, read_mtl

REAL_SCENE_DIRS = {
    "stactools-landsat-c2l2/assets": "LC08_L2SP_005009_20150710_20200908_02_T2",
    "stactools-landsat-c2l2/assets2": "LC08_L2SR_099120_20191129_20201016_02_T2",
    "stactools-landsat-c2l2/assets3": "LC08_L2SP_008059_20191201_20200825_02_T1",
    "stactools-landsat-c2l2/assets4": "LC08_L2SP_017036_20130419_20200913_02_T2",
    "rio-tiler-pds-c2l2": "LC08_L2SP_001062_20201031_20201106_02_T2",
}
EVERYTHING = (dt.date(1982, 1, 1), dt.date(2030, 1, 1))
LT05_ID = "LT05_L2SP_010067_19860424_20200918_02_T2"
LC09_ID = "LC09_L2SP_010065_20220129_20220130_02_T1"
CLEAR = 1 << CLEAR_BIT
# Polar AOIs in lon/lat can be huge on the ground: the largest limit allowed, the whole Earth.
NO_AREA_LIMIT = Settings(max_aoi_km2=510_072_000.0)


@pytest.fixture
def real_folder(tmp_path, real_data) -> Path:
    """One subfolder per real scene, each file a symlink to the shared read-only copy."""
    root = tmp_path / "downloads"
    for rel, product_id in REAL_SCENE_DIRS.items():
        scene_dir = root / product_id
        scene_dir.mkdir(parents=True)
        for src in (real_data / rel).glob(f"{product_id}_*"):
            (scene_dir / src.name).symlink_to(src)
    return root


@pytest.fixture
def real_source(real_folder) -> FolderSource:
    return FolderSource(real_folder)


def _scene(source: FolderSource, product_id: str):
    return next(s for s in source.scenes if s.id == product_id)


def write_raster(path: Path, crs: str, bounds: tuple[float, ...], value: int = 0, size: int = 10) -> Path:
    """A tiny single-band uint16 GeoTIFF covering `bounds`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    profile = {
        "driver": "GTiff",
        "width": size,
        "height": size,
        "count": 1,
        "dtype": "uint16",
        "crs": crs,
        "transform": Affine(
            (bounds[2] - bounds[0]) / size, 0.0, bounds[0], 0.0, -(bounds[3] - bounds[1]) / size, bounds[3]
        ),
    }
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(np.full((1, size, size), value, dtype=np.uint16))
    return path


# UTM 18S near Lima, about 30 x 30 km.
FAKE_CRS = "EPSG:32718"
FAKE_BOUNDS = (270000.0, 8640000.0, 300000.0, 8670000.0)


def fake_product(folder: Path, product_id: str, bands: list[str], ext: str = ".TIF") -> None:
    for band in bands:
        value = CLEAR if band == "QA_PIXEL" else 0
        write_raster(folder / f"{product_id}_{band}{ext}", FAKE_CRS, FAKE_BOUNDS, value=value)


# --- the real scenes ---------------------------------------------------------------------------


def test_is_a_scene_source(real_source, real_folder):
    assert isinstance(real_source, SceneSource)
    assert real_source.name == str(real_folder)
    assert real_source.warnings == []
    assert real_source.product_ids == sorted(REAL_SCENE_DIRS.values())


def test_real_scene_facts_from_product_id_and_mtl(real_source):
    scene = _scene(real_source, "LC08_L2SP_005009_20150710_20200908_02_T2")
    assert scene.platform == "landsat-8"
    assert (scene.wrs_path, scene.wrs_row) == (5, 9)
    # DATE_ACQUIRED 2015-07-10 + SCENE_CENTER_TIME 14:34:35.9783990Z
    assert scene.datetime == dt.datetime(2015, 7, 10, 14, 34, 35, 978399, tzinfo=dt.timezone.utc)
    assert (scene.scene_cloud_pct, scene.land_cloud_pct) == (54.65, 54.67)
    assert scene.sun_azimuth == pytest.approx(177.8846007)
    assert scene.sun_elevation == pytest.approx(40.0015903)
    assert scene.epsg == 32624


def test_real_scene_assets_map_oli_bands(real_source, real_folder):
    product_id = "LC08_L2SP_008059_20191201_20200825_02_T1"
    scene = _scene(real_source, product_id)
    expected = {"blue": 2, "green": 3, "red": 4, "nir08": 5, "swir16": 6, "swir22": 7}
    for key, number in expected.items():
        assert scene.assets[key] == str(real_folder / product_id / f"{product_id}_SR_B{number}.TIF")
    assert scene.assets[QA_BAND].endswith("_QA_PIXEL.TIF")
    assert scene.assets[RADSAT_BAND].endswith("_QA_RADSAT.TIF")
    assert set(SR_BANDS) <= set(scene.assets)
    assert real_source.readable_href(scene.assets["red"]) == scene.assets["red"]


def test_scenes_are_sorted_by_time(real_source):
    times = [s.datetime for s in real_source.scenes]
    assert times == sorted(times)
    assert all(t.tzinfo is not None for t in times)


def _mtl_corners(real_data: Path, rel: str, product_id: str) -> list[tuple[float, float]]:
    mtl = json.loads((real_data / rel / f"{product_id}_MTL.json").read_text())
    proj = mtl["LANDSAT_METADATA_FILE"]["PROJECTION_ATTRIBUTES"]
    return [
        (float(proj[f"CORNER_{c}_LON_PRODUCT"]), float(proj[f"CORNER_{c}_LAT_PRODUCT"]))
        for c in ("UL", "UR", "LL", "LR")
    ]


@pytest.mark.parametrize("rel", list(REAL_SCENE_DIRS))
def test_footprint_holds_the_usgs_corner_coordinates(real_source, real_data, rel):
    product_id = REAL_SCENE_DIRS[rel]
    footprint = shape(_scene(real_source, product_id).geometry_lonlat)
    for lon, lat in _mtl_corners(real_data, rel, product_id):
        # The MTL corners are pixel centres; the raster edge lies half a (resampled) pixel outside.
        assert footprint.buffer(1e-3).contains(Point(lon, lat)), (lon, lat)
    area_km2 = abs(pyproj.Geod(ellps="WGS84").geometry_area_perimeter(footprint)[0]) / 1e6
    assert 20_000 < area_km2 < 80_000  # one Landsat scene (~185 x 180 km), not a world-wide box


def test_polar_stereographic_scene_footprint(real_source):
    scene = _scene(real_source, "LC08_L2SR_099120_20191129_20201016_02_T2")
    assert scene.epsg == 3031
    west, south, east, north = scene.bbox_lonlat
    assert 55 < west < east < 78 and -84 < south < north < -79


def test_aoi_over_a_scene_finds_it_and_only_it(real_source):
    aoi = parse_aoi("-75.2,1.3,-75.0,1.5")  # inside 008059 (Colombia)
    found = real_source.search(aoi, *EVERYTHING)
    assert [s.id for s in found] == ["LC08_L2SP_008059_20191201_20200825_02_T1"]


def test_aoi_over_the_polar_scene_finds_it(real_source):
    aoi = parse_aoi("66,-81.5,67,-81.2")
    assert [s.id for s in real_source.search(aoi, *EVERYTHING)] == ["LC08_L2SR_099120_20191129_20201016_02_T2"]


def test_aoi_far_away_finds_nothing(real_source):
    assert real_source.search(parse_aoi("133,-25,133.2,-24.8"), *EVERYTHING) == []


def test_search_filters_dates_and_cloud(real_source):
    aoi = parse_aoi("-75.2,1.3,-75.0,1.5")
    assert real_source.search(aoi, dt.date(2019, 12, 2), dt.date(2020, 1, 1)) == []
    assert len(real_source.search(aoi, dt.date(2019, 12, 1), dt.date(2019, 12, 1))) == 1
    assert real_source.search(aoi, *EVERYTHING, max_scene_cloud_pct=80) == []  # it is 81.02 %
    assert len(real_source.search(aoi, *EVERYTHING, max_scene_cloud_pct=82)) == 1


def test_linked_folders_are_followed(tmp_path, real_data):
    (tmp_path / "top").mkdir()
    (tmp_path / "top" / "scene").symlink_to(real_data / "rio-tiler-pds-c2l2", target_is_directory=True)
    (tmp_path / "top" / "loop").symlink_to(tmp_path / "top", target_is_directory=True)  # must not recurse forever
    assert FolderSource(tmp_path / "top").product_ids == ["LC08_L2SP_001062_20201031_20201106_02_T2"]


# --- errors ---------------------------------------------------------------------------------------


def test_missing_folder(tmp_path):
    with pytest.raises(NoScenesError, match="does not exist.*_QA_PIXEL.TIF"):
        FolderSource(tmp_path / "nope")


def test_empty_folder(tmp_path):
    with pytest.raises(NoScenesError, match="holds no Landsat Collection 2 Level-2 QA_PIXEL files.*_QA_PIXEL.TIF"):
        FolderSource(tmp_path)


def test_folder_of_unrelated_files(tmp_path):
    for name in (
        "notes.txt",
        "photo.jpg",
        "LC08_L2SP_047027_QA_PIXEL.TIF",  # truncated product id
        "LC08_L1TP_047027_20201204_20210313_02_T1_QA_PIXEL.TIF",  # Level-1, not Level-2
        "LC08_L2SP_047027_20201204_20210313_02_T1_thumb_small.jpeg",  # a product file we do not use
    ):
        (tmp_path / name).write_bytes(b"x")
    with pytest.raises(NoScenesError, match="holds no Landsat"):
        FolderSource(tmp_path)


def test_path_to_a_file(tmp_path):
    path = tmp_path / "scene.TIF"
    path.write_bytes(b"x")
    with pytest.raises(InvalidInputError, match="is a file"):
        FolderSource(path)


def test_products_without_qa_pixel_are_skipped_and_reported(tmp_path):
    fake_product(tmp_path / "a", LT05_ID, ["QA_PIXEL", "SR_B1"])
    fake_product(tmp_path / "b", LC09_ID, ["SR_B2", "SR_B3"])
    source = FolderSource(tmp_path)
    assert source.product_ids == [LT05_ID]
    assert any(LC09_ID in w and "QA_PIXEL" in w for w in source.warnings)


def test_only_products_without_qa_pixel(tmp_path):
    fake_product(tmp_path, LC09_ID, ["SR_B2"])
    with pytest.raises(NoScenesError, match="1 product\\(s\\) lack their QA_PIXEL"):
        FolderSource(tmp_path)


# --- band mapping, MTL, laziness ------------------------------------------------------------------


def test_landsat_5_band_mapping(tmp_path):
    bands = ["QA_PIXEL", "QA_RADSAT", "SR_B1", "SR_B2", "SR_B3", "SR_B4", "SR_B5", "SR_B7", "ST_B6"]
    fake_product(tmp_path, LT05_ID, bands)
    scene = FolderSource(tmp_path).scenes[0]
    by_band = {key: Path(href).name.removeprefix(f"{LT05_ID}_") for key, href in scene.assets.items()}
    assert by_band == {
        "blue": "SR_B1.TIF",
        "green": "SR_B2.TIF",
        "red": "SR_B3.TIF",
        "nir08": "SR_B4.TIF",
        "swir16": "SR_B5.TIF",
        "swir22": "SR_B7.TIF",
        QA_BAND: "QA_PIXEL.TIF",
        RADSAT_BAND: "QA_RADSAT.TIF",
    }
    assert scene.platform == "landsat-5"
    assert (scene.wrs_path, scene.wrs_row) == (10, 67)
    # No MTL: the date comes from the file name, cloud cover is unknown.
    assert scene.datetime == dt.datetime(1986, 4, 24, tzinfo=dt.timezone.utc)
    assert scene.scene_cloud_pct is None
    assert scene.epsg == 32718


def test_landsat_9_band_mapping_and_lower_case_extension(tmp_path):
    bands = ["QA_PIXEL"] + [f"SR_B{n}" for n in range(1, 8)]
    fake_product(tmp_path, LC09_ID, bands, ext=".tif")
    scene = FolderSource(tmp_path).scenes[0]
    assert Path(scene.assets["coastal"]).name.endswith("_SR_B1.tif")
    assert Path(scene.assets["blue"]).name.endswith("_SR_B2.tif")
    assert Path(scene.assets["swir22"]).name.endswith("_SR_B7.tif")


MTL_TXT = """GROUP = LANDSAT_METADATA_FILE
  GROUP = PRODUCT_CONTENTS
    ORIGIN = "Image courtesy of the U.S. Geological Survey"
    LANDSAT_PRODUCT_ID = "LT05_L2SP_010067_19860424_20200918_02_T2"
  END_GROUP = PRODUCT_CONTENTS
  GROUP = IMAGE_ATTRIBUTES
    SPACECRAFT_ID = "LANDSAT_5"
    SENSOR_ID = "TM"
    WRS_PATH = 10
    WRS_ROW = 67
    DATE_ACQUIRED = 1986-04-24
    SCENE_CENTER_TIME = "14:54:18.1790940Z"
    CLOUD_COVER = 23.00
    CLOUD_COVER_LAND = -1
    SUN_AZIMUTH = -35.50000000
    SUN_ELEVATION = 46.93006922
  END_GROUP = IMAGE_ATTRIBUTES
END_GROUP = LANDSAT_METADATA_FILE
END
"""


def test_mtl_txt_is_parsed(tmp_path):
    fake_product(tmp_path, LT05_ID, ["QA_PIXEL"])
    (tmp_path / f"{LT05_ID}_MTL.txt").write_text(MTL_TXT, encoding="utf-8")
    scene = FolderSource(tmp_path).scenes[0]
    assert scene.datetime == dt.datetime(1986, 4, 24, 14, 54, 18, 179094, tzinfo=dt.timezone.utc)
    assert scene.scene_cloud_pct == 23.0
    assert scene.land_cloud_pct is None  # -1: no land
    assert scene.sun_azimuth == pytest.approx(324.5)  # USGS -180..180 -> STAC 0..360
    assert scene.sun_elevation == pytest.approx(46.93006922)


def test_odl_nesting():
    data = parse_odl(MTL_TXT)
    assert data["LANDSAT_METADATA_FILE"]["PRODUCT_CONTENTS"]["ORIGIN"] == "Image courtesy of the U.S. Geological Survey"
    assert data["LANDSAT_METADATA_FILE"]["IMAGE_ATTRIBUTES"]["WRS_ROW"] == "67"


def test_read_real_mtl_json(real_data):
    rel, product_id = "stactools-landsat-c2l2/assets3", REAL_SCENE_DIRS["stactools-landsat-c2l2/assets3"]
    facts = read_mtl(real_data / rel / f"{product_id}_MTL.json")
    assert facts.scene_cloud_pct == 81.02
    assert facts.datetime == dt.datetime(2019, 12, 1, 15, 13, 51, 861099, tzinfo=dt.timezone.utc)


def test_broken_mtl_is_reported_and_the_file_name_date_used(tmp_path):
    fake_product(tmp_path, LT05_ID, ["QA_PIXEL"])
    (tmp_path / f"{LT05_ID}_MTL.json").write_text("{not json", encoding="utf-8")
    source = FolderSource(tmp_path)
    assert source.scenes[0].datetime == dt.datetime(1986, 4, 24, tzinfo=dt.timezone.utc)
    assert any("MTL" in w and LT05_ID in w for w in source.warnings)


def test_duplicate_files_are_reported(tmp_path):
    fake_product(tmp_path / "one", LT05_ID, ["QA_PIXEL"])
    fake_product(tmp_path / "two", LT05_ID, ["QA_PIXEL"])
    source = FolderSource(tmp_path)
    assert len(source.scenes) == 1
    assert any("duplicates" in w for w in source.warnings)


def test_indexing_opens_no_raster_and_scenes_open_only_qa_pixel(tmp_path, monkeypatch):
    for n in range(40):
        product_id = f"LC08_L2SP_{100 + n:03d}050_20200101_20200110_02_T1"
        fake_product(tmp_path / product_id, product_id, ["QA_PIXEL", "SR_B4"])
        for band in ("SR_B2", "SR_B3", "SR_B5", "SR_B6", "SR_B7", "QA_RADSAT"):
            (tmp_path / product_id / f"{product_id}_{band}.TIF").write_bytes(b"")  # never opened
    opened: list[str] = []
    real_open = rasterio.open

    def counting_open(path, *args, **kwargs):
        opened.append(str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(folder_module.rasterio, "open", counting_open)
    source = FolderSource(tmp_path)
    assert opened == []
    assert len(source.scenes) == 40
    assert len(opened) == 40 and all(p.endswith("_QA_PIXEL.TIF") for p in opened)
    source.search(parse_aoi("-77.1,-12.3,-77.0,-12.2"), *EVERYTHING)
    assert len(opened) == 40  # indexed once per instance


def test_unreadable_qa_pixel_is_skipped_with_a_warning(tmp_path):
    (tmp_path / f"{LT05_ID}_QA_PIXEL.TIF").write_bytes(b"not a tiff")
    source = FolderSource(tmp_path)
    assert source.scenes == []
    assert any("cannot be opened" in w for w in source.warnings)


# --- footprints at the pole and the antimeridian ---------------------------------------------------


def test_scene_over_the_south_pole_is_found_at_any_longitude(tmp_path):
    product_id = "LC08_L2SR_099120_20191129_20201016_02_T2"
    write_raster(tmp_path / f"{product_id}_QA_PIXEL.TIF", "EPSG:3031", (-300000, -300000, 300000, 300000), CLEAR)
    source = FolderSource(tmp_path)
    for bbox in ("170,-89.9,171,-89.8", "-10,-88,-9,-87.9", "179.5,-87.5,-179.5,-87.3"):
        assert len(source.search(parse_aoi(bbox, settings=NO_AREA_LIMIT), *EVERYTHING)) == 1, bbox
    assert source.search(parse_aoi("0,-60,1,-59"), *EVERYTHING) == []


def test_scene_across_the_antimeridian(tmp_path):
    product_id = "LC08_L2SP_077014_20200701_20200710_02_T1"
    bounds = (500000, 7200000, 700000, 7300000)  # UTM 60N, east edge past 180 degrees
    write_raster(tmp_path / f"{product_id}_QA_PIXEL.TIF", "EPSG:32660", bounds, CLEAR)
    source = FolderSource(tmp_path)
    lon, lat = pyproj.Transformer.from_crs("EPSG:32660", "EPSG:4326", always_xy=True).transform(680000, 7250000)
    assert lon < -179  # the far side of the antimeridian
    east_side = parse_aoi(f"{lon - 0.05},{lat - 0.05},{lon + 0.05},{lat + 0.05}")
    assert len(source.search(east_side, *EVERYTHING)) == 1
    assert len(source.search(parse_aoi("178,65,178.2,65.1"), *EVERYTHING)) == 1
    assert source.search(parse_aoi("0,65,0.2,65.1"), *EVERYTHING) == []
    scene = source.scenes[0]
    assert scene.geometry_lonlat["type"] == "MultiPolygon"


def test_footprint_of_an_ordinary_utm_raster_is_a_polygon():
    footprint = footprint_lonlat(FAKE_CRS, FAKE_BOUNDS)
    assert footprint.geom_type == "Polygon" and footprint.is_valid
    west, south, east, north = footprint.bounds
    assert -77.2 < west < east < -76.8 and -12.4 < south < north < -12.0


def test_negative_sun_elevation_is_kept(tmp_path):
    fake_product(tmp_path, LT05_ID, ["QA_PIXEL"])
    text = MTL_TXT.replace("SUN_ELEVATION = 46.93006922", "SUN_ELEVATION = -2.50000000")
    (tmp_path / f"{LT05_ID}_MTL.txt").write_text(text, encoding="utf-8")
    assert FolderSource(tmp_path).scenes[0].sun_elevation == pytest.approx(-2.5)
