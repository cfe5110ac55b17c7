"""The front door: search, cover and fill take what Python users hold and give ecosystem types."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json

import numpy as np
import pandas as pd
import pystac
import pytest
import rasterio
from shapely.geometry import box, mapping

import cloudcore
from cloudcore.gapfill.image import fill_date
from cloudcore.geo.aoi import parse_aoi
from cloudcore.masks.qa import MaskPolicy
from cloudcore.product import SR_BANDS, SR_OFFSET, SR_SCALE
from cloudcore.sources import open_source
from cloudcore.stats.cover import COVER_FIELDS, compute_cover
from tests.demo_record import DEMO_AOI, demo_cache_root, demo_settings  # noqa: F401 - fixtures

START, END = "2022-06-01", "2022-08-31"
TARGET = "2022-10-12"  # a partly cloudy demo date


@pytest.fixture
def summer(demo_settings):
    return cloudcore.cover(DEMO_AOI, START, END, source="demo", cache=False, settings=demo_settings)


def test_cover_is_a_dataframe_indexed_by_date_with_the_cli_fields(summer, demo_settings):
    assert isinstance(summer, pd.DataFrame)
    assert summer.index.name == "date"
    assert summer.index.dtype == np.dtype("datetime64[ns]")
    assert summer.index.is_monotonic_increasing
    assert list(summer.columns) == [f for f in COVER_FIELDS if f != "date"]
    assert summer.columns[-1] == "obscured_pct"
    # The same numbers as the record path the CLI prints, date by date.
    records = compute_cover(open_source("demo", demo_settings), parse_aoi(DEMO_AOI, settings=demo_settings),
                            dt.date(2022, 6, 1), dt.date(2022, 8, 31), settings=demo_settings)
    assert len(records) == len(summer) > 10
    for (when, row), record in zip(summer.iterrows(), records):
        assert when.date().isoformat() == record.date
        assert row["platform"] == record.platform and row["scene_ids"] == record.scene_ids
        for name in ("valid_pct", "cloud_pct", "shadow_pct", "snow_pct", "masked_pct", "clear_pct", "obscured_pct"):
            assert row[name] == pytest.approx(getattr(record, name)), name
        # obscured = 100 - valid * clear / 100: the share missing or removed, of the whole area.
        assert row["obscured_pct"] == pytest.approx(100 - row["valid_pct"] * row["clear_pct"] / 100, abs=0.01)
    assert summer["error"].isna().all()
    assert summer.attrs["mask"] == "qa" and summer.attrs["start"] == START


@pytest.mark.parametrize(
    "start, end",
    [
        (dt.date(2022, 6, 1), dt.date(2022, 8, 31)),
        (dt.datetime(2022, 6, 1, 12), dt.datetime(2022, 8, 31)),
        (pd.Timestamp("2022-06-01"), pd.Timestamp("2022-08-31")),
        (np.datetime64("2022-06-01"), np.datetime64("2022-08-31")),
        ("2022-06-01T00:00:00Z", "2022-08-31T23:00:00Z"),
    ],
    ids=["date", "datetime", "Timestamp", "datetime64", "iso-datetime"],
)
def test_every_usual_date_form_gives_the_same_table(summer, demo_settings, start, end):
    table = cloudcore.cover(DEMO_AOI, start, end, source="demo", cache=False, settings=demo_settings)
    pd.testing.assert_frame_equal(table, summer)


class GeoInterfaceOnly:
    """Another library's geometry: only __geo_interface__."""

    def __init__(self, geometry):
        self.__geo_interface__ = mapping(geometry)


def aoi_forms():
    geopandas = pytest.importorskip("geopandas")
    polygon = box(*DEMO_AOI)
    frame = geopandas.GeoDataFrame({"name": ["field"]}, geometry=[polygon], crs="EPSG:4326")
    return {
        "tuple": DEMO_AOI,
        "list": list(DEMO_AOI),
        "text": ",".join(map(str, DEMO_AOI)),
        "numpy": np.array(DEMO_AOI),
        "geojson-dict": mapping(polygon),
        "geojson-text": json.dumps(mapping(polygon)),
        "shapely": polygon,
        "geo-interface": GeoInterfaceOnly(polygon),
        "geodataframe-utm": frame.to_crs("EPSG:32616"),
        "geoseries-utm": frame.geometry.to_crs("EPSG:32616"),
    }


@pytest.mark.parametrize("form", list(aoi_forms()))
def test_every_usual_area_form_measures_the_same_area(summer, demo_settings, form):
    aoi = aoi_forms()[form]
    area = parse_aoi(aoi, settings=demo_settings)
    assert area.area_km2 == pytest.approx(parse_aoi(DEMO_AOI, settings=demo_settings).area_km2, rel=1e-6)
    table = cloudcore.cover(aoi, START, END, source="demo", cache=False, settings=demo_settings)
    pd.testing.assert_series_equal(table["obscured_pct"], summer["obscured_pct"], check_exact=False, atol=0.02)


def test_a_geodataframe_without_crs_is_refused_with_the_fix(demo_settings):
    geopandas = pytest.importorskip("geopandas")
    frame = geopandas.GeoDataFrame(geometry=[box(*DEMO_AOI)])
    with pytest.raises(cloudcore.InvalidAOIError, match=r"no CRS.*set_crs"):
        cloudcore.cover(frame, START, END, source="demo", settings=demo_settings)


def test_search_gives_items_that_cover_takes_back(summer, demo_settings):
    items = cloudcore.search(DEMO_AOI, START, END, source="demo", settings=demo_settings)
    assert isinstance(items, pystac.ItemCollection)
    assert len(items) == sum(len(ids) for ids in summer["scene_ids"])
    first = items.items[0]
    assert first.datetime.date() >= dt.date(2022, 6, 1)
    assert "qa_pixel" in first.assets and first.assets["qa_pixel"].href.upper().endswith("_QA_PIXEL.TIF")
    for source in (items, list(items), items.items[:1] + items.items[1:]):
        table = cloudcore.cover(DEMO_AOI, START, END, source=source, cache=False, settings=demo_settings)
        pd.testing.assert_frame_equal(table, summer)


def test_items_of_another_collection_are_refused(demo_settings):
    item = pystac.Item("s2", mapping(box(*DEMO_AOI)), list(DEMO_AOI), dt.datetime(2022, 6, 1), {})
    item.add_asset("B04", pystac.Asset("B04.tif"))
    with pytest.raises(cloudcore.UnknownSourceError, match="qa_pixel"):
        cloudcore.cover(DEMO_AOI, START, END, source=[item], settings=demo_settings)


@pytest.fixture
def filled(demo_settings):
    return cloudcore.fill(DEMO_AOI, TARGET, source="demo", settings=demo_settings)


def test_fill_is_a_dataset_with_reflectance_provenance_and_a_crs(filled, demo_settings):
    ds = filled
    assert set(SR_BANDS) | {"filled"} <= set(ds.data_vars)
    for band in SR_BANDS:
        assert ds[band].dtype == np.float32 and ds[band].dims == ("y", "x")
    assert ds["filled"].dtype == bool
    assert ds["provenance"].dtype == np.dtype("datetime64[ns]")
    assert ds.rio.crs is not None and ds.rio.crs.to_epsg() == 32616
    # Pixel centres, 30 m apart, north up.
    assert np.allclose(np.diff(ds.x), 30) and np.allclose(np.diff(ds.y), -30)
    assert ds.rio.transform().a == 30 and ds.rio.transform().e == -30
    assert ds.attrs["date"] == TARGET and ds.attrs["method"] == cloudcore.DEFAULT_FILL_METHOD
    assert ds.attrs["platform"].startswith("landsat-") and ds.attrs["scene_ids"]
    assert isinstance(json.loads(ds.attrs["corrections"]), list)


def test_fill_values_agree_with_the_geotiff_and_the_summary(filled, demo_settings, tmp_path):
    image = fill_date(open_source("demo", demo_settings), parse_aoi(DEMO_AOI, settings=demo_settings),
                      dt.date.fromisoformat(TARGET), settings=demo_settings)
    path = image.write_geotiff(tmp_path / "filled.tif")
    with rasterio.open(path) as tif:
        dn = tif.read()
        assert tif.crs == filled.rio.crs
    for index, band in enumerate(SR_BANDS):
        expected = np.where(dn[index] == 0, np.nan, dn[index] * np.float32(SR_SCALE) + np.float32(SR_OFFSET))
        np.testing.assert_allclose(filled[band].values, expected.astype(np.float32), equal_nan=True, rtol=0, atol=1e-6)
    # Provenance: the target's date where kept, a donor's where filled, NaT where nothing is.
    provenance = filled["provenance"].values
    codes = dn[len(SR_BANDS)]
    assert (np.isnat(provenance) == (codes == 0)).all()
    target = np.datetime64(TARGET, "ns")
    assert (provenance[filled["filled"].values] != target).all()
    assert (filled["filled"].values == (image.removed & (codes != 0))).all()
    inside = int(image.inside.sum())
    assert round(100 * int(filled["filled"].sum()) / inside, 2) == image.result.filled_pct == filled.attrs["filled_pct"]


def test_rio_to_raster_writes_every_variable_with_crs_and_transform(filled, tmp_path):
    out = tmp_path / "from_xarray.tif"
    filled.rio.to_raster(out)
    with rasterio.open(out) as tif:
        assert tif.count == len(filled.data_vars)
        assert tif.crs == filled.rio.crs and tif.transform == filled.rio.transform()
        assert tif.descriptions[: len(SR_BANDS)] == SR_BANDS
        np.testing.assert_array_equal(tif.read(1), filled["red"].values)


def test_fill_takes_a_method_by_name_and_refuses_an_unknown_one(demo_settings):
    nearest = cloudcore.fill(DEMO_AOI, pd.Timestamp(TARGET), source="demo", method="nearest", settings=demo_settings)
    assert nearest.attrs["method"] == "nearest"
    with pytest.raises(cloudcore.InvalidInputError, match="Unknown fill method 'mean'") as caught:
        cloudcore.fill(DEMO_AOI, TARGET, source="demo", method="mean", settings=demo_settings)
    assert caught.value.parameter == "method"


@pytest.mark.parametrize(
    "call, match, parameter",
    [
        (lambda s: cloudcore.cover(DEMO_AOI, "2022-13-01", END, source="demo", settings=s), "start date", "start"),
        (lambda s: cloudcore.cover(DEMO_AOI, END, START, source="demo", settings=s), "after the end date", "start"),
        (lambda s: cloudcore.cover(DEMO_AOI, START, END, source="demo", mask="clouds", settings=s), "Mask 'clouds'", "mask"),
        (lambda s: cloudcore.cover(DEMO_AOI, START, END, source="demo", buffer_m=-1, settings=s), "buffer_m", "buffer_m"),
        (lambda s: cloudcore.cover(DEMO_AOI, START, END, source="demo", max_scene_cloud=101, settings=s),
         "max_scene_cloud", "max_scene_cloud"),
        (lambda s: cloudcore.fill(DEMO_AOI, TARGET, source="demo", window_days=-3, settings=s), "window_days", "window_days"),
        (lambda s: cloudcore.cover(DEMO_AOI, START, END, source=42, settings=s), "Cannot use a int as a source", "source"),
        (lambda s: cloudcore.cover(DEMO_AOI, START, END, source="nowhere", settings=s), "Unknown source", "source"),
    ],
)
def test_bad_arguments_are_one_error_naming_the_argument(demo_settings, call, match, parameter):
    with pytest.raises(cloudcore.CloudCoreError, match=match) as caught:
        call(demo_settings)
    assert isinstance(caught.value, ValueError)
    assert caught.value.parameter == parameter
    assert "--" not in str(caught.value)  # the library names arguments, never a CLI flag


def test_errors_are_one_family_with_builtin_bases():
    assert issubclass(cloudcore.InvalidAOIError, ValueError)
    assert issubclass(cloudcore.InvalidInputError, ValueError)
    assert issubclass(cloudcore.SettingsError, ValueError)
    assert issubclass(cloudcore.UnknownSourceError, ValueError)
    assert issubclass(cloudcore.NoScenesError, LookupError)
    assert issubclass(cloudcore.SourceUnreachableError, ConnectionError)
    assert issubclass(cloudcore.SceneReadError, OSError)
    for name in ("InvalidAOIError", "InvalidInputError", "SettingsError", "UnknownSourceError", "NoScenesError",
                 "SourceUnreachableError", "SceneReadError"):
        assert issubclass(getattr(cloudcore, name), cloudcore.CloudCoreError)


def test_no_exported_name_is_also_a_module_name():
    for name in cloudcore.__all__:
        assert importlib.util.find_spec(f"cloudcore.{name}") is None, name
    for name in ("search", "cover", "fill", "fill_image"):
        assert callable(getattr(cloudcore, name))


def test_the_failed_dates_are_said_once_as_a_warning(demo_settings, monkeypatch):
    from cloudcore.sources.demo import DemoSource

    broken = DemoSource(settings=demo_settings)
    monkeypatch.setattr(broken, "readable_href", lambda href, fresh=False: href + ".missing")
    with pytest.warns(RuntimeWarning, match=r"dates could not be measured"):
        table = cloudcore.cover(DEMO_AOI, START, END, source=broken, cache=False, settings=demo_settings)
    assert table["error"].notna().all() and table["obscured_pct"].isna().all()
    assert all("Could not read" in text and ".missing" in text for text in table["error"])


def test_the_default_policy_matches_the_library_default(summer, demo_settings):
    table = cloudcore.cover(DEMO_AOI, START, END, source="demo", flags="dilated,cirrus,cloud,shadow", cache=False,
                            settings=demo_settings)
    pd.testing.assert_frame_equal(table, summer)
    assert MaskPolicy().flags == frozenset(cloudcore.DEFAULT_FLAGS)


def test_the_front_doors_fill_writes_its_request_into_the_geotiff_and_the_summary(demo_settings, tmp_path):
    image = cloudcore.fill_image(DEMO_AOI, TARGET, source="demo", window_days=40, buffer_m=60, settings=demo_settings)
    with rasterio.open(image.write_geotiff(tmp_path / "filled.tif")) as tif:
        tags = tif.tags()
        assert tif.descriptions == (*SR_BANDS, "provenance", "uncertainty")
    request = image.request
    assert tags["CLOUDCORE_DATE"] == TARGET and tags["CLOUDCORE_METHOD"] == cloudcore.DEFAULT_FILL_METHOD
    assert tags["CLOUDCORE_AOI"] == request["aoi"] == ",".join(str(v) for v in DEMO_AOI)  # a box: its lon/lat bbox
    assert tags["CLOUDCORE_SOURCE"] == request["source"] == "demo"
    assert tags["CLOUDCORE_MASK"] == f"qa flags={','.join(sorted(cloudcore.DEFAULT_FLAGS))} buffer_m=60"
    assert tags["CLOUDCORE_WINDOW_DAYS"] == "40" and tags["CLOUDCORE_VERSION"] == request["cloudcore_version"]
    assert tags["CLOUDCORE_SCENES"] == " ".join(image.scene_ids) and tags["CLOUDCORE_PLATFORM"] == image.platform
    rows = cloudcore.fill_summary_rows(image)
    assert {r["window_days"] for r in rows} == {"40"} and {r["source"] for r in rows} == {"demo"}
    assert sum(r["share_of_area_pct"] for r in rows) == pytest.approx(100, abs=0.05)
    unfilled = rows[-1]
    assert unfilled["role"] == "unfilled" and unfilled["share_of_area_pct"] == pytest.approx(image.result.unfilled_pct, abs=0.01)
    pictures = cloudcore.compare_pictures(image)
    assert pictures.provenance_window_days == 40
    assert pictures.provenance_top[0][0] in {code for code, _ in pictures.legend}
