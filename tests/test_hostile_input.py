"""Hostile and broken input ends in a valid result or one CloudCoreError with a message.

Property tests (1,000 cases each) over the four ways input enters: AOI text, an uploaded
GeoJSON file, the page address's query parameters and date ranges; then each request
limit's message, which must name the limit, the value seen and the variable to change it,
and each bad limit setting's, which must name the variable, its value and the allowed range.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cloudcore import limits
from cloudcore.cli import _build_parser
from cloudcore.errors import CloudCoreError, InvalidAOIError, InvalidInputError, SettingsError
from cloudcore.geo.aoi import AOI, parse_aoi
from cloudcore.limits import check_date_span
from cloudcore.product import LANDSAT_RECORD_START
from cloudcore.settings import Settings
from cloudcore.sources.search import search_dates
from ui import config
from ui.uploads import aoi_text_from_upload
from ui.url_params import geojson_to_poly, latest_date, settings_from_params

MANY = settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))
TODAY = dt.date(2026, 6, 1)
SMALL_AOI = "10,45,10.1,45.1"
ANY_FLOAT = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([1e308, -1e308, 1e-320, 180.0, -180.0, 90.0])
# Each limit's variable and the Settings field it sets.
LIMIT_FIELDS = {
    "CLOUDCORE_MAX_AOI_KM2": "max_aoi_km2", "CLOUDCORE_MAX_AOI_VERTICES": "max_aoi_vertices",
    "CLOUDCORE_MAX_GEOJSON_MB": "max_geojson_mb", "CLOUDCORE_MAX_DATE_SPAN_YEARS": "max_date_span_years",
    "CLOUDCORE_MAX_SCENES": "max_scenes",
}
LIMIT_VARIABLES = (*LIMIT_FIELDS, "CLOUDCORE_UI_MAX_AOI_KM2")
DEFAULTS = Settings()
"""The library's documented limits (what a front-door call reads with no variable set)."""
DASHBOARD = DEFAULTS.replace(max_aoi_km2=DEFAULTS.ui_max_aoi_km2)
"""What the dashboard holds input to: the library's limits with its own, stricter area limit."""


@pytest.fixture(autouse=True)
def _default_limits(monkeypatch):
    """Every test starts from the documented defaults, whatever the shell running it sets."""
    for variable in LIMIT_VARIABLES:
        monkeypatch.delenv(variable, raising=False)


def assert_valid_aoi(aoi: AOI, settings: Settings = DEFAULTS) -> None:
    """What every AOI that parse_aoi lets through must be."""
    assert isinstance(aoi, AOI)
    assert aoi.geometry.is_valid and not aoi.geometry.is_empty
    west, south, east, north = aoi.bbox_lonlat
    assert all(math.isfinite(v) for v in (west, south, east, north))
    assert -180 <= west <= east <= 180 and -90 <= south <= north <= 90
    assert settings.max_aoi_km2 >= aoi.area_km2 > 0


def outcome(call):
    """The call's result, or its CloudCoreError (checked to carry a message); anything else fails."""
    try:
        return call()
    except CloudCoreError as err:
        assert str(err).strip(), f"{type(err).__name__} without a message"
        return err


# --- AOI text -------------------------------------------------------------------------------

json_trees = st.recursive(
    st.none() | st.booleans() | ANY_FLOAT | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=12), children, max_size=6),
    max_leaves=12,
)


@st.composite
def bbox_like_text(draw) -> str:
    numbers = draw(st.lists(ANY_FLOAT.map(repr) | st.integers().map(str) | st.text(max_size=6), min_size=0, max_size=6))
    return draw(st.sampled_from([",", " ", ", ", ";", ",,"])).join(numbers)


@st.composite
def json_ish_text(draw) -> str:
    text = json.dumps(draw(json_trees | geojson_values()), allow_nan=True)
    if draw(st.booleans()):
        text = text[: draw(st.integers(0, len(text)))]  # cut short: broken JSON
    return text


aoi_texts = st.text(max_size=200) | bbox_like_text() | json_ish_text()


@MANY
@given(text=aoi_texts, files=st.booleans())
def test_any_aoi_text_parses_or_says_why(text, files):
    result = outcome(lambda: parse_aoi(text, allow_files=files))
    if isinstance(result, AOI):
        assert_valid_aoi(result)
    else:
        assert isinstance(result, InvalidAOIError)


def test_deeply_nested_json_is_a_message_not_a_recursion_error():
    with pytest.raises(InvalidAOIError, match="nested too deeply"):
        parse_aoi('{"a":' + "[" * 100_000 + "]" * 100_000 + "}")


def test_aoi_text_in_the_dashboard_never_reads_a_server_file(tmp_path):
    path = tmp_path / "area.geojson"
    path.write_text(json.dumps({"type": "Polygon", "coordinates": [[[10, 45], [10.1, 45], [10.1, 45.1], [10, 45]]]}))
    assert parse_aoi(str(path)).area_km2 > 0  # the command line reads it
    with pytest.raises(InvalidAOIError, match="neither a bbox .* nor GeoJSON"):
        parse_aoi(str(path), allow_files=False)
    with pytest.raises(InvalidAOIError, match="not a file path"):
        parse_aoi(path, allow_files=False)


# --- uploaded GeoJSON ------------------------------------------------------------------------

coordinate = st.lists(ANY_FLOAT | st.integers(-200, 200) | st.text(max_size=3), min_size=0, max_size=4)
ring = st.lists(coordinate, max_size=12)


@st.composite
def valid_ring(draw) -> list[list[float]]:
    """A closed ring near a random place: convex, a bow-tie (self-intersecting) or a spike."""
    lon, lat = draw(st.floats(-179.5, 179.4)), draw(st.floats(-89.5, 89.4))
    size = draw(st.sampled_from([0.0, 1e-9, 0.01, 0.1, 0.5]))
    shape = draw(st.sampled_from(["square", "bow-tie", "spike", "reversed"]))
    points = {
        "square": [(0, 0), (1, 0), (1, 1), (0, 1)],
        "bow-tie": [(0, 0), (1, 1), (1, 0), (0, 1)],
        "spike": [(0, 0), (1, 0), (0, 0), (0, 1)],
        "reversed": [(0, 1), (1, 1), (1, 0), (0, 0)],
    }[shape]
    coords = [[lon + x * size, lat + y * size] for x, y in points]
    return coords + [coords[0]]


def ring_of(count: int) -> list[list[float]]:
    """A closed circle of `count` vertices (the last repeats the first) around 10 E, 45 N."""
    points = [[10 + 0.1 * math.cos(2 * math.pi * i / (count - 1)), 45 + 0.1 * math.sin(2 * math.pi * i / (count - 1))]
              for i in range(count - 1)]
    return points + [points[0]]


# Uploads at the vertex limit and just past it, built once: drawing them must stay cheap.
HUGE_UPLOADS = [json.dumps({"type": "Polygon", "coordinates": [ring_of(DEFAULTS.max_aoi_vertices + n)]}).encode()
                for n in (0, 1, 500)]


@st.composite
def geojson_values(draw):
    """Near-valid GeoJSON: right and wrong types, holes, nesting, empties, huge and bad numbers."""
    rings = st.one_of(valid_ring(), ring, st.just([]))
    polygon_coords = st.lists(rings, max_size=3) | st.builds(lambda a, b: [a, b], valid_ring(), valid_ring())
    geometry = st.fixed_dictionaries({
        "type": st.sampled_from(["Polygon", "MultiPolygon", "Point", "LineString", "GeometryCollection", "polygon", 7]),
        "coordinates": polygon_coords | st.lists(polygon_coords, max_size=3) | json_trees,
    })
    feature = st.fixed_dictionaries(
        {"type": st.just("Feature"), "geometry": geometry | st.none() | json_trees},
        optional={"properties": json_trees},
    )
    collection = st.fixed_dictionaries({"type": st.just("FeatureCollection"),
                                        "features": st.lists(feature | geometry, max_size=4) | json_trees})
    nested = st.fixed_dictionaries({"type": st.just("FeatureCollection"), "features": st.lists(collection, max_size=2)})
    return draw(st.one_of(geometry, feature, collection, nested))


small_uploads = st.one_of(
    geojson_values().map(lambda v: json.dumps(v, allow_nan=True).encode()),
    json_trees.map(lambda v: json.dumps(v, allow_nan=True).encode()),
    st.binary(max_size=300),
    json_ish_text().map(lambda t: t.encode("utf-8", errors="surrogatepass")),
)
# One case in 40 is a huge ring: enough to cross the vertex limit often, cheap enough to run.
upload_bytes = st.integers(0, 39).flatmap(lambda n: st.sampled_from(HUGE_UPLOADS) if n == 0 else small_uploads)


@MANY
@given(data=upload_bytes)
def test_any_upload_becomes_an_area_or_says_why(data):
    result = outcome(lambda: aoi_text_from_upload(data, DASHBOARD))
    if isinstance(result, str):
        assert_valid_aoi(parse_aoi(result, settings=DASHBOARD, allow_files=False), DASHBOARD)
        assert set(json.loads(result)) == {"type", "coordinates"}  # the geometry only, nothing else kept
    else:
        assert isinstance(result, InvalidAOIError)


# --- URL query parameters --------------------------------------------------------------------

PARAMETERS = ("source", "bbox", "poly", "start", "end", "cc", "flags", "buffer", "mask", "thr", "date", "method",
              "window", "order")
hostile_values = st.one_of(
    st.text(max_size=60),
    bbox_like_text(),
    st.lists(ANY_FLOAT.map(repr), max_size=12).map(",".join),
    st.dates(min_value=dt.date(1, 1, 1)).map(dt.date.isoformat),
    st.sampled_from(["", "nan", "inf", "-inf", "1e999", "../../etc", "%2e%2e/", "~root", "a\x00b", "[x](http://x)",
                     "<script>alert(1)</script>", "9999-12-31", "0001-01-01", "demo", "planetary-computer",
                     "http://", "https://[::1", "qa+ml", "time"]),
)
url_params = st.dictionaries(st.sampled_from(PARAMETERS) | st.text(max_size=8), hostile_values | st.lists(hostile_values, max_size=3))


@MANY
@given(params=url_params, folders=st.booleans())
def test_any_page_address_gives_usable_settings(params, folders):
    settings_, notes = settings_from_params(params, folder_sharing=folders, today=TODAY)
    assert LANDSAT_RECORD_START <= settings_["start"] <= latest_date(TODAY)
    assert LANDSAT_RECORD_START <= settings_["end"] <= latest_date(TODAY)
    assert 0 <= settings_["cc"] <= 100 and 0 <= settings_["thr"] <= 100
    assert 0 <= settings_["buffer"] <= 5000 and 1 <= settings_["window"] <= 365
    assert settings_["date"] is None or dt.date.fromisoformat(settings_["date"])
    assert all(isinstance(note, str) and note for note in notes)
    # What the pages then do with it: parse the area, search the dates, write the URL back.
    result = outcome(lambda: parse_aoi(settings_["aoi"], settings=DASHBOARD, allow_files=False))
    assert isinstance(result, (AOI, InvalidAOIError))
    if isinstance(result, AOI):
        assert_valid_aoi(result, DASHBOARD)
    outcome(lambda: check_date_span(settings_["start"], settings_["end"], DASHBOARD))
    geojson_to_poly(settings_["aoi"])


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=st.text(max_size=40) | json_ish_text())
def test_writing_any_area_back_to_the_address_never_raises(text):
    poly = geojson_to_poly(text)
    assert poly is None or all(math.isfinite(float(v)) for v in poly.split(",")) and poly.count(",") >= 5


def test_address_notes_name_the_parameter_but_never_repeat_its_value():
    marker = "[click me](http://127.0.0.1/phish)"
    params = {name: marker for name in PARAMETERS if name != "source"}
    settings_, notes = settings_from_params(params, today=TODAY)
    assert notes and not any(marker in note or "127.0.0.1" in note for note in notes)
    named = " ".join(notes)
    for name in ("bbox", "poly", "start", "end", "cc", "flags", "buffer", "mask", "thr", "date", "method", "window", "order"):
        assert name in named, name
    assert settings_["aoi"] == "8.45,47.2,8.6,47.3"  # the example area, not the marker


def test_dates_outside_the_record_are_moved_into_it_with_a_note():
    settings_, notes = settings_from_params({"start": "0001-01-01", "end": "9999-12-31"}, today=TODAY)
    assert (settings_["start"], settings_["end"]) == (LANDSAT_RECORD_START, latest_date(TODAY))
    assert any("start lies outside 1982-07-16" in n for n in notes) and any(n.startswith("end lies outside") for n in notes)


# --- date ranges -------------------------------------------------------------------------------

date_strings = st.one_of(
    st.text(max_size=12),
    st.dates(min_value=dt.date(1, 1, 1)).map(dt.date.isoformat),
    st.sampled_from(["1982-07-15", "1982-07-16", "2024-02-29", "2023-02-29", "2024-13-01", "-2024-01-01", "--help", "-h"]),
)


CLI = _build_parser()  # the command line's own parser: its date type and its one-line errors


class NoScenes:
    """A source that finds nothing: the dates reach the search and the limits on their own."""

    name = "none"

    def search(self, aoi, start, end, max_scene_cloud_pct=None):
        assert LANDSAT_RECORD_START <= start <= end
        return []

    def readable_href(self, href, fresh=False):
        return href


@MANY
@given(start=date_strings, end=date_strings)
def test_any_date_pair_through_the_command_line_searches_or_says_why(start, end):
    def run():
        args = CLI.parse_args(["scenes", f"--aoi={SMALL_AOI}", f"--start={start}", f"--end={end}"])
        settings_ = Settings.from_env()  # as the command line reads them, right after its arguments
        return search_dates(NoScenes(), parse_aoi(args.aoi, settings=settings_), args.start, args.end,
                            settings=settings_)

    result = outcome(run)
    assert result == [] or isinstance(result, InvalidInputError)


@MANY
@given(start=date_strings, end=date_strings)
def test_any_date_pair_through_the_dashboard_searches_or_says_why(start, end):
    settings_, _ = settings_from_params({"start": start, "end": end}, today=TODAY)
    result = outcome(lambda: search_dates(NoScenes(), parse_aoi(SMALL_AOI, settings=DASHBOARD), settings_["start"],
                                          settings_["end"], settings=DASHBOARD))
    assert result == [] or isinstance(result, InvalidInputError)


@MANY
@given(start=st.dates(), end=st.dates())
def test_any_pair_of_dates_passes_the_span_check_or_says_why(start, end):
    result = outcome(lambda: check_date_span(start, end, DEFAULTS))
    if result is None:
        assert start <= end and (end - max(start, LANDSAT_RECORD_START)).days <= 100 * 365.25
    else:
        assert isinstance(result, InvalidInputError)


# --- each limit's message ------------------------------------------------------------------------


def test_area_limit_names_the_area_the_limit_and_the_variable(monkeypatch):
    with pytest.raises(InvalidAOIError, match=r"AOI spans 1\d\d,\d{3} km², over the 100,000 km² limit: .*CLOUDCORE_MAX_AOI_KM2"):
        parse_aoi("0,0,3,3")
    monkeypatch.setenv("CLOUDCORE_MAX_AOI_KM2", "200000")  # read by the next call given no settings
    assert parse_aoi("0,0,3,3").area_km2 > 100_000


def test_the_dashboard_holds_areas_to_its_own_stricter_limit(monkeypatch):
    between = "0,0,2.5,2.5"  # about 77,000 km2: over the dashboard's 50,000, under the library's 100,000
    assert parse_aoi(between, settings=DEFAULTS).area_km2 > 50_000
    assert config.settings().max_aoi_km2 == 50_000
    with pytest.raises(InvalidAOIError, match=r"over the 50,000 km² limit: give a smaller area"):
        parse_aoi(between, settings=config.settings(), allow_files=False)
    monkeypatch.setenv("CLOUDCORE_UI_MAX_AOI_KM2", "80000")
    assert config.settings().max_aoi_km2 == 80_000
    assert parse_aoi(between, settings=config.settings(), allow_files=False).area_km2 > 50_000
    # The operator's limit never raises the library's: the smaller of the two holds.
    monkeypatch.setenv("CLOUDCORE_UI_MAX_AOI_KM2", "500000")
    assert config.settings().max_aoi_km2 == 100_000


def test_vertex_limit_names_the_count_the_limit_and_the_variable(monkeypatch):
    polygon = {"type": "Polygon", "coordinates": [ring_of(10_001)]}
    with pytest.raises(InvalidAOIError, match="has 10,001 vertices, over the 10,000 vertex limit: simplify .*CLOUDCORE_MAX_AOI_VERTICES"):
        parse_aoi(polygon)
    assert parse_aoi({"type": "Polygon", "coordinates": [ring_of(10_000)]}).area_km2 > 0
    monkeypatch.setenv("CLOUDCORE_MAX_AOI_VERTICES", "20000")
    assert parse_aoi(polygon).area_km2 > 0
    assert parse_aoi(polygon, settings=DEFAULTS.replace(max_aoi_vertices=20_000)).area_km2 > 0


def test_vertex_limit_counts_every_feature_of_a_collection():
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring_of(6_000)]}},
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring_of(6_000)]}},
    ]}
    with pytest.raises(InvalidAOIError, match="has 12,000 vertices, over the 10,000 vertex limit"):
        parse_aoi(collection)


def test_geojson_size_limit_applies_before_parsing(monkeypatch):
    too_big = b"\xff" * (5_000_001)  # not even UTF-8: the size is what is refused
    with pytest.raises(InvalidAOIError, match=r"The GeoJSON is 5\.0 MB, over the 5 MB limit: .*CLOUDCORE_MAX_GEOJSON_MB"):
        aoi_text_from_upload(too_big, config.settings())
    with pytest.raises(InvalidAOIError, match="over the 5 MB limit"):
        parse_aoi("{" + " " * 5_000_000 + "}")
    # The dashboard's settings follow the variable (read at its start, again if it changes).
    monkeypatch.setenv("CLOUDCORE_MAX_GEOJSON_MB", "0.001")
    with pytest.raises(InvalidAOIError, match=r"The GeoJSON is 0\.0 MB, over the 0\.001 MB limit"):
        aoi_text_from_upload(json.dumps({"type": "Polygon", "coordinates": [ring_of(100)]}).encode(), config.settings())
    with pytest.raises(InvalidAOIError, match=r"over the 0\.001 MB limit"):
        parse_aoi(json.dumps({"type": "Polygon", "coordinates": [ring_of(100)]}))


def test_an_upload_that_is_not_utf8_or_not_geojson_says_so():
    with pytest.raises(InvalidAOIError, match="not UTF-8 text"):
        aoi_text_from_upload(b"\xff\xfe{", DASHBOARD)
    with pytest.raises(InvalidAOIError, match="not GeoJSON"):
        aoi_text_from_upload(b"10,45,10.1,45.1", DASHBOARD)
    with pytest.raises(InvalidAOIError, match="FeatureCollection holds a FeatureCollection"):
        aoi_text_from_upload(json.dumps({"type": "FeatureCollection", "features": [
            {"type": "FeatureCollection", "features": []}]}).encode(), DASHBOARD)


def test_date_span_limit_names_the_span_the_limit_and_the_variable(monkeypatch):
    with pytest.raises(InvalidInputError, match=r"span 8,017 years .* over the 100-year limit: .*CLOUDCORE_MAX_DATE_SPAN_YEARS"):
        check_date_span(dt.date(1, 1, 1), dt.date(9999, 12, 31), DEFAULTS)
    check_date_span(dt.date(1, 1, 1), dt.date.today(), DEFAULTS)  # the whole record, however early the start
    check_date_span(LANDSAT_RECORD_START, dt.date(2082, 7, 16), DEFAULTS)
    monkeypatch.setenv("CLOUDCORE_MAX_DATE_SPAN_YEARS", "2")
    two_years = Settings.from_env()
    with pytest.raises(InvalidInputError, match="span 3 years .* over the 2-year limit"):
        check_date_span(dt.date(2020, 1, 1), dt.date(2023, 1, 1), two_years)
    with pytest.raises(InvalidInputError, match="span 3 years .* over the 2-year limit"):
        search_dates(NoScenes(), parse_aoi(SMALL_AOI), dt.date(2020, 1, 1), dt.date(2023, 1, 1))
    with pytest.raises(InvalidInputError, match="after the end date 2020-01-01: swap them"):
        check_date_span(dt.date(2021, 1, 1), dt.date(2020, 1, 1), two_years)


def test_dates_before_the_record_find_nothing_without_asking_the_source():
    class Refuses(NoScenes):
        def search(self, *args, **kwargs):
            raise AssertionError("a search for 1970 was sent")

    assert search_dates(Refuses(), parse_aoi(SMALL_AOI), dt.date(1970, 1, 1), dt.date(1980, 1, 1)) == []


def test_scenes_per_request_limit_names_the_count_the_limit_and_the_variable(monkeypatch):
    class Many(NoScenes):
        def search(self, aoi, start, end, max_scene_cloud_pct=None):
            return [object()] * 5_001

    with pytest.raises(InvalidInputError, match="found 5,001 scenes, over the 5,000 scenes-per-request limit: narrow .*CLOUDCORE_MAX_SCENES"):
        search_dates(Many(), parse_aoi(SMALL_AOI), dt.date(2020, 1, 1), dt.date(2021, 1, 1))
    with pytest.raises(InvalidInputError, match="found 5,001 scenes, over the 3 scenes-per-request limit"):
        search_dates(Many(), parse_aoi(SMALL_AOI), dt.date(2020, 1, 1), dt.date(2021, 1, 1),
                     settings=DEFAULTS.replace(max_scenes=3))
    monkeypatch.setenv("CLOUDCORE_MAX_SCENES", "3")  # read by the next call given no settings
    with pytest.raises(InvalidInputError, match="found 5,001 scenes, over the 3 scenes-per-request limit"):
        search_dates(Many(), parse_aoi(SMALL_AOI), dt.date(2020, 1, 1), dt.date(2021, 1, 1))


@pytest.mark.parametrize("variable", LIMIT_FIELDS)
@pytest.mark.parametrize("raw", ["lots", "-5", "0", "nan", "inf"])
def test_a_bad_limit_setting_says_which_variable_and_what_to_set(monkeypatch, variable, raw):
    monkeypatch.setenv(variable, raw)
    pattern = (rf"^{variable}='{raw}' (is not a number of .*|is outside the allowed range): "
               rf"set (a|a whole) number from \S+ to \S+ .*, or unset it for the default\.$")
    with pytest.raises(SettingsError, match=pattern) as caught:
        Settings.from_env()
    assert caught.value.setting == LIMIT_FIELDS[variable] and isinstance(caught.value, ValueError)
    # A front-door call given no settings reads them, and so refuses the same way before any work.
    with pytest.raises(SettingsError, match=pattern):
        parse_aoi(SMALL_AOI)
    with pytest.raises(SettingsError, match=pattern):
        search_dates(NoScenes(), parse_aoi(SMALL_AOI, settings=DEFAULTS), dt.date(2020, 1, 1), dt.date(2021, 1, 1))
    # Settings built directly are checked the same way.
    with pytest.raises(SettingsError, match=rf"{LIMIT_FIELDS[variable]}=.*{variable}"):
        Settings(**{LIMIT_FIELDS[variable]: float(raw) if raw != "lots" else raw})


def test_limit_defaults_are_the_documented_ones():
    settings_ = Settings.from_env({})
    assert settings_ == DEFAULTS
    assert settings_.max_aoi_km2 == 100_000
    assert settings_.max_aoi_vertices == 10_000
    assert limits.max_geojson_bytes(settings_) == 5_000_000
    assert settings_.max_date_span_years == 100
    assert settings_.max_scenes == 5_000
    assert settings_.ui_max_aoi_km2 == 50_000 and config.settings().max_aoi_km2 == 50_000


# --- the page itself, given a hostile address ----------------------------------------------------


def test_a_hostile_address_opens_the_page_with_one_note_and_no_exception(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.stac_server import free_port

    monkeypatch.setenv("CLOUDCORE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("CLOUDCORE_HTTP_TIMEOUT_S", "2")
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=120)
    port = free_port()
    # Listed by the operator, so the page gets as far as the (refused) connection; unlisted, a
    # loopback API is refused before that (tests/app/test_url_guard.py).
    monkeypatch.setenv("CLOUDCORE_UI_STAC_HOSTS", f"127.0.0.1:{port}")
    hostile = {"source": f"http://127.0.0.1:{port}", "bbox": "nan,nan,nan,nan", "start": "0001-01-01",
               "end": "9999-12-31", "cc": "nan", "thr": "inf", "buffer": "-5", "window": "1e999",
               "date": "[x](http://127.0.0.1/phish)", "flags": "cloud,evil", "mask": "rm -rf /", "method": "__import__",
               "order": "<b>"}
    for name, value in hostile.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, at.exception
    notes = [w.value for w in at.warning if w.value.startswith("Some settings in the page address")]
    assert len(notes) == 1 and "phish" not in notes[0] and "rm -rf" not in notes[0]
    for name in ("bbox", "start", "end", "cc", "thr", "buffer", "window", "date", "flags", "mask", "method", "order"):
        assert f"- {name} " in notes[0], name
    assert at.date_input[0].value == LANDSAT_RECORD_START and at.date_input[1].value == latest_date(dt.date.today())
    assert any("did not answer" in e.value or "could not be reached" in e.value for e in at.error), [e.value for e in at.error]
