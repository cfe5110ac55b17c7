"""cloudcore.geo.aoi.parse_aoi: every accepted form, every refusal and its message, and properties."""

from __future__ import annotations

import json

import pyproj
import pytest
from hypothesis import given
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, Polygon, box, mapping

from cloudcore.errors import InvalidAOIError, SettingsError
from cloudcore.geo.aoi import AOI, parse_aoi
from cloudcore.settings import Settings

GEOD = pyproj.Geod(ellps="WGS84")
SQUARE = [[10.0, 45.0], [10.1, 45.0], [10.1, 45.1], [10.0, 45.1], [10.0, 45.0]]
POLYGON = {"type": "Polygon", "coordinates": [SQUARE]}
# No area limit to speak of (the whole Earth): for tests about shapes, not about the limit.
UNLIMITED = Settings(max_aoi_km2=510_072_000.0)


def geodesic_km2(geometry) -> float:
    """Reference area: each part measured on its own, so ring orientation cannot cancel."""
    parts = getattr(geometry, "geoms", [geometry])
    return sum(abs(GEOD.polygon_area_perimeter(*part.exterior.xy)[0]) for part in parts) / 1e6


# --- accepted forms -----------------------------------------------------------------------------


def test_bbox_string():
    aoi = parse_aoi("10,45,10.1,45.1")
    assert isinstance(aoi, AOI)
    assert aoi.bbox_lonlat == (10.0, 45.0, 10.1, 45.1)
    assert aoi.area_km2 == pytest.approx(geodesic_km2(box(10, 45, 10.1, 45.1)))
    assert 80 < aoi.area_km2 < 100  # 0.1 x 0.1 degree at 45 N is about 87 km2


@pytest.mark.parametrize("text", ["10, 45, 10.1, 45.1", " 10 45 10.1 45.1 ", "10,45,10.1,45.1\n"])
def test_bbox_string_spacing(text):
    assert parse_aoi(text).bbox_lonlat == (10.0, 45.0, 10.1, 45.1)


def test_polygon_dict_string_and_file(tmp_path):
    from_dict = parse_aoi(POLYGON)
    from_text = parse_aoi(json.dumps(POLYGON))
    path = tmp_path / "aoi.geojson"
    path.write_text(json.dumps(POLYGON), encoding="utf-8")
    from_path = parse_aoi(path)
    from_path_text = parse_aoi(str(path))
    for aoi in (from_text, from_path, from_path_text):
        assert aoi.geometry.equals(from_dict.geometry)
    assert from_dict.bbox_lonlat == pytest.approx((10.0, 45.0, 10.1, 45.1))


def test_multipolygon_feature_and_collection():
    other = [[[11.0, 45.0], [11.1, 45.0], [11.1, 45.1], [11.0, 45.0]]]
    multi = {"type": "MultiPolygon", "coordinates": [[SQUARE], other]}
    feature = {"type": "Feature", "properties": {}, "geometry": POLYGON}
    collection = {
        "type": "FeatureCollection",
        "features": [
            feature,
            {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": other}},
        ],
    }
    assert isinstance(parse_aoi(multi).geometry, MultiPolygon)
    assert parse_aoi(feature).geometry.equals(parse_aoi(POLYGON).geometry)
    from_collection = parse_aoi(collection)
    assert from_collection.area_km2 == pytest.approx(parse_aoi(multi).area_km2)


def test_an_aoi_passes_through():
    aoi = parse_aoi(POLYGON)
    assert parse_aoi(aoi) is aoi


def test_shapely_geometries_and_geo_interface_objects():
    square = Polygon(SQUARE)
    expected = parse_aoi(POLYGON)
    assert parse_aoi(square).geometry.equals(expected.geometry)
    assert parse_aoi(MultiPolygon([square])).area_km2 == pytest.approx(expected.area_km2)

    class Shape:
        __geo_interface__ = POLYGON

    assert parse_aoi(Shape()).geometry.equals(expected.geometry)
    with pytest.raises(InvalidAOIError, match="over the 50 km² limit"):
        parse_aoi(square, settings=Settings(max_aoi_km2=50))
    with pytest.raises(InvalidAOIError, match="no area"):
        parse_aoi(Polygon(SQUARE).boundary)


def test_geodataframes_in_any_crs_become_lon_lat():
    geopandas = pytest.importorskip("geopandas")
    frame = geopandas.GeoDataFrame(geometry=[Polygon(SQUARE)], crs="EPSG:4326")
    utm = frame.to_crs("EPSG:32632")
    aoi = parse_aoi(utm)
    assert aoi.bbox_lonlat == pytest.approx((10.0, 45.0, 10.1, 45.1), abs=1e-6)
    assert aoi.area_km2 == pytest.approx(parse_aoi(POLYGON).area_km2, rel=1e-3)
    assert parse_aoi(utm.geometry).area_km2 == pytest.approx(aoi.area_km2)
    with pytest.raises(InvalidAOIError, match="no CRS"):
        parse_aoi(geopandas.GeoDataFrame(geometry=[Polygon(SQUARE)]))


def test_bow_tie_is_repaired_into_its_two_triangles():
    bow_tie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    aoi = parse_aoi(bow_tie)
    assert aoi.geometry.is_valid
    triangles = MultiPolygon([Polygon([(0, 0), (0.5, 0.5), (0, 1)]), Polygon([(1, 0), (0.5, 0.5), (1, 1)])])
    assert aoi.geometry.area == pytest.approx(0.5)
    assert aoi.area_km2 == pytest.approx(geodesic_km2(triangles), rel=1e-6)


def test_clockwise_part_does_not_cancel_a_counter_clockwise_one():
    ccw = [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]
    cw = [[2, 0], [2, 1], [3, 1], [3, 0], [2, 0]]
    aoi = parse_aoi({"type": "MultiPolygon", "coordinates": [[ccw], [cw]]})
    assert aoi.area_km2 == pytest.approx(geodesic_km2(box(0, 0, 1, 1)) + geodesic_km2(box(2, 0, 3, 1)))


@pytest.mark.parametrize("reverse_hole", [False, True])
def test_hole_is_subtracted_whatever_its_winding(reverse_hole):
    shell = [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]
    hole = [[0.2, 0.2], [0.2, 0.8], [0.8, 0.8], [0.8, 0.2], [0.2, 0.2]]
    aoi = parse_aoi({"type": "Polygon", "coordinates": [shell, hole[::-1] if reverse_hole else hole]})
    expected = geodesic_km2(box(0, 0, 1, 1)) - geodesic_km2(box(0.2, 0.2, 0.8, 0.8))
    assert aoi.area_km2 == pytest.approx(expected)


def test_antimeridian_bbox_becomes_two_parts():
    aoi = parse_aoi("179.5,-17,-179.5,-16")
    assert isinstance(aoi.geometry, MultiPolygon)
    assert len(aoi.geometry.geoms) == 2
    expected = geodesic_km2(box(179.5, -17, 180, -16)) + geodesic_km2(box(-180, -17, -179.5, -16))
    assert aoi.area_km2 == pytest.approx(expected)
    assert aoi.crosses_antimeridian
    assert aoi.centroid_lonlat[0] == pytest.approx(180.0) or aoi.centroid_lonlat[0] == pytest.approx(-180.0)


def test_antimeridian_aoi_round_trips_through_geojson():
    # The split MultiPolygon is what the antimeridian message tells users to give.
    aoi = parse_aoi("179.5,-17,-179.5,-16")
    again = parse_aoi(aoi.to_geojson())
    assert again.area_km2 == pytest.approx(aoi.area_km2)


# --- refusals, each naming the problem ----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "pattern"),
    [
        ("200,10,201,11", "minlon 200.0 is outside -180..180"),
        ("10,95,11,96", "minlat 95.0 is outside -90..90"),
        ("10,46,11,45", "minlat 46.0 is not below maxlat 45.0"),
        ("10,45,10,46", "no width"),
    ],
)
def test_bad_bbox_messages(value, pattern):
    with pytest.raises(InvalidAOIError, match=pattern):
        parse_aoi(value)


def test_lat_lon_swapped_bbox_is_explained():
    # A latitude typed where a longitude belongs lands out of the -90..90 range.
    with pytest.raises(InvalidAOIError, match="order is minlon,minlat,maxlon,maxlat"):
        parse_aoi("2.3,48.8,2.4,100")


def test_lat_lon_swapped_geojson_is_explained():
    swapped = {"type": "Polygon", "coordinates": [[[45, 170], [46, 170], [46, 171], [45, 170]]]}
    with pytest.raises(InvalidAOIError, match="longitude first"):
        parse_aoi(swapped)


def test_longitude_out_of_range_geojson():
    outside = {"type": "Polygon", "coordinates": [[[190, 10], [191, 10], [191, 11], [190, 10]]]}
    with pytest.raises(InvalidAOIError, match=r"190\.\.191 leave -180\.\.180"):
        parse_aoi(outside)


@pytest.mark.parametrize("value", ["", "   "])
def test_empty_text(value):
    with pytest.raises(InvalidAOIError, match="empty"):
        parse_aoi(value)


@pytest.mark.parametrize(
    ("value", "pattern"),
    [
        ({"type": "Point", "coordinates": [10, 45]}, "is a Point"),
        ({"type": "LineString", "coordinates": [[10, 45], [11, 46]]}, "is a LineString"),
        ({"type": "Feature", "properties": {}, "geometry": None}, "Feature has no geometry"),
        ({"type": "FeatureCollection", "features": []}, "no features"),
        ({"coordinates": []}, "no 'type'"),
        ({"type": "Polygon", "coordinates": []}, "Polygon is empty"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]}, "malformed coordinates"),
    ],
)
def test_non_polygon_and_empty_geojson(value, pattern):
    with pytest.raises(InvalidAOIError, match=pattern):
        parse_aoi(value)


def test_malformed_json_text():
    with pytest.raises(InvalidAOIError, match="looks like JSON but does not parse"):
        parse_aoi('{"type": "Polygon", "coordinates": [[[0, 0], ')


def test_malformed_json_file(tmp_path):
    path = tmp_path / "broken.geojson"
    path.write_text("not json at all", encoding="utf-8")
    with pytest.raises(InvalidAOIError, match="broken.geojson.*is not GeoJSON"):
        parse_aoi(path)


def test_missing_file(tmp_path):
    missing = tmp_path / "nowhere.geojson"
    with pytest.raises(InvalidAOIError, match="nowhere.geojson.*does not exist"):
        parse_aoi(missing)
    with pytest.raises(InvalidAOIError, match="neither a bbox.*nor an existing file"):
        parse_aoi(str(missing))


def test_unsupported_type():
    with pytest.raises(InvalidAOIError, match="from a int"):
        parse_aoi(42)


@pytest.mark.parametrize(
    "geometry",
    [
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [2, 2], [0, 0]]]},  # collinear
        {"type": "Polygon", "coordinates": [[[5, 5], [5, 5], [5, 5], [5, 5]]]},  # one point
    ],
)
def test_zero_area_shapes(geometry):
    with pytest.raises(InvalidAOIError, match="no area"):
        parse_aoi(geometry)


def test_area_limit_default(monkeypatch):
    monkeypatch.delenv("CLOUDCORE_MAX_AOI_KM2", raising=False)
    assert Settings().max_aoi_km2 == Settings.from_env({}).max_aoi_km2 == 100_000
    # An area the size of a whole WRS-2 scene's bounding box passes (77,000 km2; the old limit was 50,000) ...
    assert 50_000 < parse_aoi("0,0,2.5,2.5").area_km2 < 100_000
    # ... while a larger area is refused, naming the limit and the variable that raises it.
    with pytest.raises(InvalidAOIError, match="over the 100,000 km² limit.*CLOUDCORE_MAX_AOI_KM2"):
        parse_aoi("0,0,3,3")  # about 110,000 km2


def test_area_limit_from_environment(monkeypatch):
    # parse_aoi given no settings reads the environment at that call (the front door's contract).
    monkeypatch.setenv("CLOUDCORE_MAX_AOI_KM2", "200000")
    assert parse_aoi("0,0,3,3").area_km2 > Settings().max_aoi_km2
    monkeypatch.setenv("CLOUDCORE_MAX_AOI_KM2", "50")
    with pytest.raises(InvalidAOIError, match="over the 50 km² limit"):
        parse_aoi("10,45,10.1,45.1")


def test_area_limit_from_settings(monkeypatch):
    with pytest.raises(InvalidAOIError, match="over the 50 km² limit.*CLOUDCORE_MAX_AOI_KM2"):
        parse_aoi("10,45,10.1,45.1", settings=Settings(max_aoi_km2=50))
    assert parse_aoi("0,0,3,3", settings=Settings(max_aoi_km2=200_000)).area_km2 > 100_000


def test_area_limit_settings_win_over_environment(monkeypatch):
    monkeypatch.setenv("CLOUDCORE_MAX_AOI_KM2", "50")
    assert parse_aoi("10,45,10.1,45.1", settings=Settings(max_aoi_km2=1000)).area_km2 < 1000
    # Given settings, the environment is not read at all: not even a bad value in it matters.
    monkeypatch.setenv("CLOUDCORE_MAX_AOI_KM2", "lots")
    assert parse_aoi("10,45,10.1,45.1", settings=Settings()).area_km2 > 0


def test_an_aoi_passing_through_is_still_held_to_the_limit():
    aoi = parse_aoi("10,45,10.1,45.1")
    with pytest.raises(InvalidAOIError, match="over the 50 km² limit"):
        parse_aoi(aoi, settings=Settings(max_aoi_km2=50))


def test_bad_area_limit_in_environment(monkeypatch):
    monkeypatch.setenv("CLOUDCORE_MAX_AOI_KM2", "lots")
    with pytest.raises(SettingsError, match="CLOUDCORE_MAX_AOI_KM2='lots' is not a number") as caught:
        parse_aoi("10,45,10.1,45.1")
    assert isinstance(caught.value, ValueError) and caught.value.setting == "max_aoi_km2"
    assert len(str(caught.value).splitlines()) == 1


@pytest.mark.parametrize("limit", [0, -5, float("nan"), float("inf")])
def test_bad_area_limit_in_settings(limit):
    with pytest.raises(SettingsError, match="max_aoi_km2.*CLOUDCORE_MAX_AOI_KM2"):
        Settings(max_aoi_km2=limit)


def test_polygon_spanning_more_than_180_degrees_is_refused():
    wide = {"type": "Polygon", "coordinates": [[[-170, 0], [170, 0], [170, 1], [-170, 1], [-170, 0]]]}
    with pytest.raises(InvalidAOIError, match="more than 180 degrees of longitude.*antimeridian"):
        parse_aoi(wide, settings=UNLIMITED)


def test_errors_are_value_errors():
    with pytest.raises(ValueError):
        parse_aoi("nonsense")


# --- properties ----------------------------------------------------------------------------------


@st.composite
def bboxes(draw):
    west = draw(st.floats(-179.0, 178.0, allow_nan=False))
    south = draw(st.floats(-80.0, 79.0, allow_nan=False))
    width = draw(st.floats(0.01, 1.0))
    height = draw(st.floats(0.01, 1.0))
    return (west, south, west + width, south + height)


@given(bbox=bboxes())
def test_bbox_round_trips(bbox):
    aoi = parse_aoi(",".join(repr(v) for v in bbox), settings=UNLIMITED)
    assert aoi.bbox_lonlat == bbox
    again = parse_aoi(aoi.to_bbox_text(), settings=UNLIMITED)
    assert again.bbox_lonlat == pytest.approx(bbox, abs=1e-6)


@given(bbox=bboxes())
def test_bbox_and_its_geojson_agree(bbox):
    from_text = parse_aoi(",".join(repr(v) for v in bbox), settings=UNLIMITED)
    from_json = parse_aoi(mapping(box(*bbox)), settings=UNLIMITED)
    assert from_json.area_km2 == pytest.approx(from_text.area_km2)


@given(
    west=st.floats(170.0, 179.9),
    east=st.floats(-179.9, -170.0),
    south=st.floats(-60.0, 59.0),
)
def test_antimeridian_bbox_area_is_the_sum_of_its_halves(west, east, south):
    north = south + 0.5
    aoi = parse_aoi(f"{west!r},{south!r},{east!r},{north!r}", settings=UNLIMITED)
    halves = geodesic_km2(box(west, south, 180, north)) + geodesic_km2(box(-180, south, east, north))
    assert aoi.area_km2 == pytest.approx(halves)
    assert aoi.bbox_lonlat == (-180.0, south, 180.0, north)


def test_a_bbox_as_a_sequence_parses_like_its_text():
    from cloudcore.geo.aoi import parse_aoi as parse

    assert parse((10, 50, 10.1, 50.1)).bbox_lonlat == parse("10,50,10.1,50.1").bbox_lonlat
    with pytest.raises(InvalidAOIError, match="4 numbers"):
        parse([10, 50, 10.1])
