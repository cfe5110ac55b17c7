"""StacSource against a real STAC API on loopback (rustac over recorded PC items) and
small fake servers for the failure modes: refused, silent, 503s, not-STAC answers."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from shapely.geometry import box, shape

from cloudcore.errors import CloudCoreError, InvalidInputError, SettingsError, SourceUnreachableError
from cloudcore.geo.aoi import AOI, parse_aoi
from cloudcore.settings import Settings
from cloudcore.sources import open_source, stac
from cloudcore.sources.base import SceneSource
from cloudcore.sources.signing import sign_href_with_deadline
from cloudcore.sources.stac import StacSource, planetary_computer_source
from tests.stac_server import (
    Recorder,
    fake_api,
    free_port,
    load_recorded_items,
    outcome_within,
    running_stac_api,
    silent_server,
)

GUARD_S = 20.0  # a call that should fail fast but has not returned by then is hung
L2 = "landsat-c2-l2"
ALL_DATES = (dt.date(2013, 1, 1), dt.date(2025, 12, 31))
# The whole of path 089 and rows 090/091 is larger than the default AOI limit.
LARGE_AOI = Settings(max_aoi_km2=2e6)


# -- fixtures and helpers ---------------------------------------------------------------


@pytest.fixture(scope="module")
def recorded_items(real_data: Path) -> list[dict[str, Any]]:
    return load_recorded_items(real_data, include_l1=True)


@pytest.fixture(scope="module")
def stac_url(recorded_items) -> Iterator[str]:
    with running_stac_api(recorded_items) as url:
        yield url


def expected_ids(items, aoi: AOI, start, end, collection=L2, max_cloud=None) -> set[str]:
    """The answer computed independently from the raw recorded JSON with shapely."""
    ids = set()
    for item in items:
        props = item["properties"]
        acquired = dt.datetime.fromisoformat(props["datetime"].replace("Z", "+00:00")).astimezone(dt.timezone.utc)
        if item.get("collection") != collection or not start <= acquired.date() <= end:
            continue
        if max_cloud is not None and props["eo:cloud_cover"] > max_cloud:
            continue
        if shape(item["geometry"]).intersects(aoi.geometry):
            ids.add(item["id"])
    return ids


def item_by_id(items, item_id: str) -> dict[str, Any]:
    return next(i for i in items if i["id"] == item_id)


def aoi_inside(item: dict[str, Any]) -> AOI:
    """A small AOI around a point inside the item's footprint."""
    point = shape(item["geometry"]).representative_point()
    return parse_aoi(box(point.x - 0.01, point.y - 0.01, point.x + 0.01, point.y + 0.01).__geo_interface__)


def landing(url: str, query: bool = False, item_search: bool = True) -> bytes:
    conforms = ["https://api.stacspec.org/v1.0.0/core"]
    if item_search:
        conforms.append("https://api.stacspec.org/v1.0.0/item-search")
    if query:
        conforms.append("https://api.stacspec.org/v1.0.0/item-search#query")
    links = [
        {"rel": "self", "href": url + "/", "type": "application/json"},
        {"rel": "root", "href": url + "/", "type": "application/json"},
        {"rel": "search", "href": url + "/search", "type": "application/geo+json", "method": "POST"},
    ]
    return json.dumps(
        {"type": "Catalog", "id": "fake", "description": "fake", "stac_version": "1.0.0", "conformsTo": conforms, "links": links}
    ).encode()


def page(features: list[dict[str, Any]]) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": features, "links": []}).encode()


JSON = "application/json"


def simple_api(url_holder: dict, features, query=False, search_status: Callable[[int], int] = lambda n: 200, extra=None):
    """A responder: landing page at /, `features` at /search (with the status search_status(n))."""
    calls = {"search": 0}

    def respond(method: str, path: str, body: dict):
        if path.split("?")[0] in ("", "/"):
            return 200, JSON, landing(url_holder["url"], query=query), {}
        calls["search"] += 1
        status = search_status(calls["search"])
        if status != 200:
            return status, JSON, b'{"code": "busy"}', dict(extra or {})
        return 200, "application/geo+json", page(features), {}

    return respond


@contextlib.contextmanager
def started(make_respond: Callable[[dict], Callable]) -> Iterator[tuple[str, Recorder]]:
    holder: dict[str, str] = {}
    with fake_api(make_respond(holder)) as (url, recorder):
        holder["url"] = url
        yield url, recorder


# -- search against the real (rustac) API ------------------------------------------------

AOIS = {
    "several items, two dates (Tasmania)": "148,-43,150,-41",
    "no item (open Pacific)": "-140,-10,-139,-9",
    "across the antimeridian (Bering Strait)": "179.5,64,-173,64.5",
    "under the L1 MSS items only": "-116.5,31.5,-115.5,32.5",
}


@pytest.mark.parametrize("aoi_text", AOIS.values(), ids=AOIS.keys())
def test_search_returns_exactly_the_intersecting_items(stac_url, recorded_items, aoi_text):
    aoi = parse_aoi(aoi_text)
    scenes = StacSource(stac_url).search(aoi, *ALL_DATES)
    assert {s.id for s in scenes} == expected_ids(recorded_items, aoi, *ALL_DATES)
    assert [(s.datetime, s.id) for s in scenes] == sorted((s.datetime, s.id) for s in scenes)


def test_expected_answers_are_not_trivial(recorded_items):
    """Guards the parametrised test above: the AOIs really cover none, one and many items."""
    counts = {name: len(expected_ids(recorded_items, parse_aoi(text), *ALL_DATES)) for name, text in AOIS.items()}
    assert counts["several items, two dates (Tasmania)"] >= 4
    assert counts["no item (open Pacific)"] == 0
    assert counts["across the antimeridian (Bering Strait)"] >= 1
    assert counts["under the L1 MSS items only"] == 0


def test_aoi_inside_a_bbox_but_outside_the_footprint_finds_nothing(stac_url, recorded_items):
    item = item_by_id(recorded_items, "LC09_L2SP_084069_20250722_02_T2")
    west, south, _, _ = item["bbox"]
    corner = parse_aoi(f"{west + 0.001},{south + 0.001},{west + 0.02},{south + 0.02}")
    assert not shape(item["geometry"]).intersects(corner.geometry)  # the footprint is rotated in its bbox
    assert StacSource(stac_url).search(corner, *ALL_DATES) == []
    assert expected_ids(recorded_items, corner, *ALL_DATES) == set()


def test_collection_parameter_selects_the_collection(stac_url, recorded_items):
    aoi = parse_aoi(AOIS["under the L1 MSS items only"])
    scenes = StacSource(stac_url, collection="landsat-c2-l1").search(aoi, *ALL_DATES)
    assert {s.id for s in scenes} == expected_ids(recorded_items, aoi, *ALL_DATES, collection="landsat-c2-l1")
    assert scenes and all(s.platform == "landsat-5" for s in scenes)


@pytest.mark.parametrize(
    "start, end",
    [
        (dt.date(2024, 8, 7), dt.date(2024, 8, 7)),  # one day: acquisitions at 23:4x UTC count
        (dt.date(2024, 4, 17), dt.date(2024, 8, 7)),  # both ends are acquisition days
        (dt.date(2024, 8, 8), dt.date(2025, 12, 31)),  # starts the day after: nothing from 08-07
        (dt.date(2024, 1, 1), dt.date(2024, 8, 6)),  # ends the day before: only 04-17
        (dt.date(2024, 4, 18), dt.date(2024, 8, 6)),  # between the two dates: nothing
    ],
)
def test_dates_are_whole_utc_days_inclusive(stac_url, recorded_items, start, end):
    aoi = parse_aoi(AOIS["several items, two dates (Tasmania)"])
    scenes = StacSource(stac_url).search(aoi, start, end)
    assert {s.id for s in scenes} == expected_ids(recorded_items, aoi, start, end)
    assert all(start <= s.date <= end for s in scenes)


def test_one_day_search_finds_late_evening_acquisitions(stac_url):
    aoi = parse_aoi(AOIS["several items, two dates (Tasmania)"])
    scenes = StacSource(stac_url).search(aoi, dt.date(2024, 8, 7), dt.date(2024, 8, 7))
    assert scenes and all(s.datetime.hour == 23 for s in scenes)


def test_start_after_end_is_refused(stac_url):
    aoi = parse_aoi(AOIS["several items, two dates (Tasmania)"])
    with pytest.raises(InvalidInputError, match="after end date"):
        StacSource(stac_url).search(aoi, dt.date(2024, 8, 8), dt.date(2024, 8, 7))


@pytest.mark.parametrize("max_cloud", [0, 10, 50, 100])
def test_scene_cloud_limit_is_applied(stac_url, recorded_items, max_cloud):
    aoi = parse_aoi("145,-46,153,-29", settings=LARGE_AOI)  # the whole of path 089 and 090/091
    scenes = StacSource(stac_url).search(aoi, *ALL_DATES, max_scene_cloud_pct=max_cloud)
    assert {s.id for s in scenes} == expected_ids(recorded_items, aoi, *ALL_DATES, max_cloud=max_cloud)
    assert all(s.scene_cloud_pct <= max_cloud for s in scenes)


def test_small_pages_are_all_followed(stac_url, recorded_items):
    aoi = parse_aoi("145,-46,153,-29", settings=LARGE_AOI)
    expected = expected_ids(recorded_items, aoi, *ALL_DATES)
    assert len(expected) > 6
    scenes = StacSource(stac_url, page_limit=2).search(aoi, *ALL_DATES)
    assert sorted(s.id for s in scenes) == sorted(expected)


def test_parsed_fields_follow_the_metadata(stac_url, recorded_items):
    raw = item_by_id(recorded_items, "LC09_L2SP_089087_20240807_02_T2")
    scenes = StacSource(stac_url).search(aoi_inside(raw), *ALL_DATES)
    scene = next(s for s in scenes if s.id == raw["id"])
    assert scene.platform == "landsat-9"
    assert (scene.wrs_path, scene.wrs_row) == (89, 87)
    assert scene.scene_cloud_pct == pytest.approx(48.13)
    assert raw["properties"]["landsat:cloud_cover_land"] == -1 and scene.land_cloud_pct is None
    assert scene.datetime == dt.datetime(2024, 8, 7, 23, 44, 49, 437162, tzinfo=dt.timezone.utc)
    assert scene.epsg == raw["properties"]["proj:epsg"]
    assert scene.assets["qa_pixel"] == raw["assets"]["qa_pixel"]["href"]
    assert "?" not in scene.assets["qa_pixel"] and ".blob.core.windows.net/" in scene.assets["qa_pixel"]
    assert {"red", "green", "blue", "nir08", "swir16", "swir22", "qa_pixel", "lwir11"} <= set(scene.assets)


def test_surface_reflectance_only_items_have_no_thermal_band(stac_url, recorded_items):
    raw = item_by_id(recorded_items, "LC09_L2SR_084082_20250722_02_T1")
    scene = next(s for s in StacSource(stac_url).search(aoi_inside(raw), *ALL_DATES) if s.id == raw["id"])
    assert "qa_pixel" in scene.assets and "lwir11" not in scene.assets
    assert scene.land_cloud_pct == pytest.approx(43.14)


def test_stac_source_is_a_scene_source(stac_url):
    assert isinstance(StacSource(stac_url), SceneSource)


def test_readable_href_uses_the_signer_or_keeps_the_href():
    href = "https://account.blob.core.windows.net/container/a/b_QA_PIXEL.TIF"
    assert StacSource("http://127.0.0.1:9").readable_href(href) == href
    signed = StacSource("http://127.0.0.1:9", signer=lambda h: h + "?sig=x").readable_href(href)
    assert signed == href + "?sig=x"


# -- the query extension and headers (fake API) -----------------------------------------


def test_query_is_sent_when_advertised_and_still_checked_client_side(recorded_items):
    clear = item_by_id(recorded_items, "LC09_L2SP_089084_20240807_02_T1")  # 1.2 % cloud
    cloudy = item_by_id(recorded_items, "LC09_L2SP_089085_20240807_02_T1")  # 6.64 %
    aoi = parse_aoi("150.5,-35.5,151.5,-34.5")
    assert {clear["id"], cloudy["id"]} <= expected_ids(recorded_items, aoi, *ALL_DATES)
    # The fake ignores `query`, like a server that does not honour it.
    with started(lambda h: simple_api(h, [clear, cloudy], query=True)) as (url, recorder):
        scenes = StacSource(url).search(aoi, *ALL_DATES, max_scene_cloud_pct=5)
    assert [s.id for s in scenes] == [clear["id"]]
    search = next(r for r in recorder.requests if r["path"].startswith("/search"))
    assert search["body"]["query"] == {"eo:cloud_cover": {"lte": 5}}
    assert search["body"]["collections"] == [L2]
    assert search["body"]["datetime"] == "2013-01-01T00:00:00Z/2025-12-31T23:59:59.999999Z"
    assert search["body"]["intersects"]["type"] == "Polygon"


def test_query_is_not_sent_to_apis_without_the_extension(recorded_items):
    clear = item_by_id(recorded_items, "LC09_L2SP_089084_20240807_02_T1")
    with started(lambda h: simple_api(h, [clear], query=False)) as (url, recorder):
        StacSource(url).search(aoi_inside(clear), *ALL_DATES, max_scene_cloud_pct=5)
    search = next(r for r in recorder.requests if r["path"].startswith("/search"))
    assert "query" not in search["body"]


def test_subscription_key_goes_in_a_header_never_the_url(monkeypatch, recorded_items):
    key = "k3y-for-test-only"
    monkeypatch.setenv("TEST_STAC_KEY", key)
    item = item_by_id(recorded_items, "LC09_L2SP_089084_20240807_02_T1")
    with started(lambda h: simple_api(h, [item])) as (url, recorder):
        StacSource(url, header_env={"Ocp-Apim-Subscription-Key": "TEST_STAC_KEY"}).search(aoi_inside(item), *ALL_DATES)
    assert recorder.requests
    for request in recorder.requests:
        assert request["headers"].get("Ocp-Apim-Subscription-Key") == key
        assert key not in request["path"]
        assert key not in json.dumps(request["body"])


def test_unset_key_sends_no_key_header(monkeypatch, recorded_items):
    monkeypatch.delenv("TEST_STAC_KEY", raising=False)
    item = item_by_id(recorded_items, "LC09_L2SP_089084_20240807_02_T1")
    with started(lambda h: simple_api(h, [item])) as (url, recorder):
        StacSource(url, header_env={"Ocp-Apim-Subscription-Key": "TEST_STAC_KEY"}).search(aoi_inside(item), *ALL_DATES)
    assert all("Ocp-Apim-Subscription-Key" not in r["headers"] for r in recorder.requests)


def test_planetary_computer_source_is_configured_for_pc():
    source = planetary_computer_source(timeout_s=3)
    assert source.url == "https://planetarycomputer.microsoft.com/api/stac/v1"
    assert source.name == "planetary-computer"
    assert source.collection == L2
    assert source.timeout_s == 3
    # Signs with the settings' token deadline (None: the documented defaults).
    assert source.signer.func is sign_href_with_deadline
    assert source.signer.keywords == {"deadline_s": Settings().sign_timeout_s}
    assert source.header_env == {"Ocp-Apim-Subscription-Key": "PC_SDK_SUBSCRIPTION_KEY"}
    assert source.readable_href("/local/file.TIF") == "/local/file.TIF"  # no network for non-blob hrefs


def test_planetary_computer_source_takes_its_deadlines_from_the_settings():
    settings = Settings(http_timeout_s=7, connect_timeout_s=0.5, search_deadline_s=20, sign_timeout_s=2.5)
    source = planetary_computer_source(settings)
    assert (source.timeout_s, source.connect_timeout_s, source.deadline_s) == (7, 0.5, 20)
    assert source.signer.func is sign_href_with_deadline and source.signer.keywords == {"deadline_s": 2.5}
    assert planetary_computer_source(settings, timeout_s=3).timeout_s == 3  # an explicit timeout wins


# -- failures: every one ends in a CloudCoreError, quickly -------------------------------

TASMANIA = parse_aoi(AOIS["several items, two dates (Tasmania)"])


def test_closed_port_raises_unreachable():
    url = f"http://127.0.0.1:{free_port()}"
    err = outcome_within(GUARD_S, lambda: StacSource(url, timeout_s=2).search(TASMANIA, *ALL_DATES))
    assert isinstance(err, SourceUnreachableError)
    assert url in str(err) and "use the demo source, which works offline" in str(err)
    assert "--source" not in str(err)  # the library names no CLI flag; the CLI adds its own hint


def test_silent_server_raises_unreachable():
    with silent_server() as url:
        err = outcome_within(GUARD_S, lambda: StacSource(url, timeout_s=0.3).search(TASMANIA, *ALL_DATES))
    assert isinstance(err, SourceUnreachableError)
    assert "did not answer in time" in str(err)


def test_deadlines_not_given_come_from_the_settings_at_construction():
    defaults = StacSource("http://127.0.0.1:9")  # no settings: the documented defaults
    expected = Settings()
    assert (defaults.timeout_s, defaults.connect_timeout_s, defaults.deadline_s) == (
        expected.http_timeout_s, expected.connect_timeout_s, expected.search_deadline_s,
    )
    settings = Settings(http_timeout_s=0.3, connect_timeout_s=0.2, search_deadline_s=9)
    source = StacSource("http://127.0.0.1:9", settings=settings)
    assert (source.timeout_s, source.connect_timeout_s, source.deadline_s) == (0.3, 0.2, 9)
    given = StacSource("http://127.0.0.1:9", timeout_s=5, connect_timeout_s=1, deadline_s=30, settings=settings)
    assert (given.timeout_s, given.connect_timeout_s, given.deadline_s) == (5, 1, 30)  # explicit values win
    capped = StacSource("http://127.0.0.1:9", settings=Settings(http_timeout_s=0.5, connect_timeout_s=2))
    assert capped.connect_timeout_s == 0.5  # never above the read timeout


def test_timeout_from_the_settings_bounds_a_silent_server():
    with silent_server() as url:
        source = StacSource(url, settings=Settings(http_timeout_s=0.3))
        err = outcome_within(GUARD_S, lambda: source.search(TASMANIA, *ALL_DATES))
    assert isinstance(err, SourceUnreachableError)
    assert "did not answer in time" in str(err)  # the 0.3 s read timeout, not the 3.5 s contact deadline


def test_timeout_variable_is_read_once_by_the_front_door(monkeypatch):
    monkeypatch.setenv("CLOUDCORE_HTTP_TIMEOUT_S", "0.3")
    with silent_server() as url:
        source = open_source(url)  # reads the environment here, once
        assert isinstance(source, StacSource) and source.timeout_s == 0.3
        monkeypatch.setenv("CLOUDCORE_HTTP_TIMEOUT_S", "soon")  # not read again by the search
        err = outcome_within(GUARD_S, lambda: source.search(TASMANIA, *ALL_DATES))
    assert isinstance(err, SourceUnreachableError)
    assert "did not answer in time" in str(err)


@pytest.mark.parametrize("raw", ["soon", "abc", "0", "-5", "3601"])
def test_bad_timeout_variable_is_named(monkeypatch, raw):
    monkeypatch.setenv("CLOUDCORE_HTTP_TIMEOUT_S", raw)
    with pytest.raises(SettingsError, match="CLOUDCORE_HTTP_TIMEOUT_S") as raised:
        Settings.from_env()
    message = str(raised.value)
    assert repr(raw) in message and "0.1" in message and "3,600" in message  # what it held, what it may hold
    assert "\n" not in message and raised.value.setting == "http_timeout_s"
    assert isinstance(raised.value, ValueError)
    with pytest.raises(SettingsError, match="CLOUDCORE_HTTP_TIMEOUT_S"):
        open_source("http://127.0.0.1:9")  # the front door refuses it before any request


def test_overall_deadline_stops_a_slow_search():
    with silent_server() as url:
        source = StacSource(url, timeout_s=30, deadline_s=0.5)
        err = outcome_within(GUARD_S, lambda: source.search(TASMANIA, *ALL_DATES))
    assert isinstance(err, SourceUnreachableError)
    assert "within 0.5 s" in str(err)


def test_503_then_ok_is_retried(recorded_items):
    item = item_by_id(recorded_items, "LC09_L2SP_089084_20240807_02_T1")
    with started(lambda h: simple_api(h, [item], search_status=lambda n: 503 if n <= 2 else 200)) as (url, rec):
        scenes = outcome_within(GUARD_S, lambda: StacSource(url).search(aoi_inside(item), *ALL_DATES))
    assert [s.id for s in scenes] == [item["id"]]
    assert sum(r["path"].startswith("/search") for r in rec.requests) == 3


def test_long_retry_after_is_capped(monkeypatch, recorded_items):
    monkeypatch.setattr(stac, "MAX_RETRY_AFTER_S", 0.1)
    item = item_by_id(recorded_items, "LC09_L2SP_089084_20240807_02_T1")
    responder = lambda h: simple_api(h, [item], search_status=lambda n: 429 if n == 1 else 200, extra={"Retry-After": "3600"})
    with started(responder) as (url, _):
        scenes = outcome_within(GUARD_S, lambda: StacSource(url).search(aoi_inside(item), *ALL_DATES))
    assert [s.id for s in scenes] == [item["id"]]


def test_persistent_503_raises_unreachable_without_the_key(monkeypatch):
    monkeypatch.setattr(stac, "RETRY_BACKOFF_S", 0.01)  # the retries, not their pacing, are under test
    monkeypatch.setenv("TEST_STAC_KEY", "k3y-for-test-only")
    with started(lambda h: simple_api(h, [], search_status=lambda n: 503)) as (url, _):
        source = StacSource(url, header_env={"Ocp-Apim-Subscription-Key": "TEST_STAC_KEY"})
        err = outcome_within(GUARD_S, lambda: source.search(TASMANIA, *ALL_DATES))
    assert isinstance(err, SourceUnreachableError)
    assert "k3y-for-test-only" not in str(err)


def test_credentials_in_the_url_stay_out_of_messages():
    url = f"http://user:pa55word@127.0.0.1:{free_port()}/stac?token=t0ken"
    err = outcome_within(GUARD_S, lambda: StacSource(url).search(TASMANIA, *ALL_DATES))
    assert isinstance(err, SourceUnreachableError)
    assert "pa55word" not in str(err) and "t0ken" not in str(err)
    assert "pa55word" not in repr(StacSource(url)) and "t0ken" not in StacSource(url).name


NOT_STAC = {
    "html page": (200, "text/html", b"<html><body>Welcome</body></html>"),
    "404 at root": (404, "text/html", b"<html>Not Found</html>"),
    "json that is not stac": (200, JSON, b'{"hello": "world"}'),
}


@pytest.mark.parametrize("status, ctype, body", NOT_STAC.values(), ids=NOT_STAC.keys())
def test_not_a_stac_api_is_a_clear_error(status, ctype, body):
    with fake_api(lambda method, path, _: (status, ctype, body, {})) as (url, _):
        err = outcome_within(GUARD_S, lambda: StacSource(url).search(TASMANIA, *ALL_DATES))
    assert isinstance(err, InvalidInputError)
    assert url in str(err) and "API root" in str(err)


def test_catalog_without_item_search_is_a_clear_error():
    holder: dict[str, str] = {}

    def respond(method, path, body):
        return 200, JSON, landing(holder["url"], item_search=False), {}

    with fake_api(respond) as (url, _):
        holder["url"] = url
        err = outcome_within(GUARD_S, lambda: StacSource(url).search(TASMANIA, *ALL_DATES))
    assert isinstance(err, InvalidInputError) and "without item search" in str(err)


def test_rejected_search_names_the_status():
    with started(lambda h: simple_api(h, [], search_status=lambda n: 400)) as (url, _):
        err = outcome_within(GUARD_S, lambda: StacSource(url).search(TASMANIA, *ALL_DATES))
    assert isinstance(err, CloudCoreError) and "HTTP 400" in str(err)


def test_only_landsat_4_to_9_come_back(recorded_items):
    kept = item_by_id(recorded_items, "LC09_L2SP_089084_20240807_02_T1")
    older = json.loads(json.dumps(kept))
    older["id"], older["properties"]["platform"] = "LM03_pretend", "landsat-3"
    with started(lambda h: simple_api(h, [kept, older])) as (url, _):
        scenes = StacSource(url).search(aoi_inside(kept), *ALL_DATES)
    assert [s.id for s in scenes] == [kept["id"]]
