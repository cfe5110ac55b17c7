"""A page address cannot make the dashboard's server contact its own network (no request forgery).

Literal addresses go through the real getaddrinfo (numeric forms resolve without a network);
public names are answered by a fake resolver, so nothing here reaches past loopback.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import time
from collections import Counter

import pytest
from streamlit.testing.v1 import AppTest

from cloudcore import DateGroup, Scene, Settings, UnknownSourceError, parse_aoi
from tests.stac_server import fake_api
from ui import sources, url_guard
from ui.sources import dashboard_source, guard_groups
from ui.url_guard import check_asset_hosts, check_stac_url, is_public_address

PUBLIC_V4 = "93.184.215.14"  # documentation would be 192.0.2.x, but that range is (rightly) not global
PUBLIC_V6 = "2606:2800:21f:cb07:6820:80da:af6b:8b2c"
JSON = "application/json"
AOI_TEXT = "8.45,47.2,8.6,47.3"
WEB_WORDING_NEVER = ("CLOUDCORE_", "--", "python -m")


@pytest.fixture(autouse=True)
def _fresh_lookups(monkeypatch):
    """Every test starts with no remembered lookups and no operator list."""
    monkeypatch.delenv("CLOUDCORE_UI_STAC_HOSTS", raising=False)
    url_guard.forget_resolutions()
    yield
    url_guard.forget_resolutions()


@pytest.fixture
def dns(monkeypatch):
    """A fake resolver: names -> addresses; numeric forms as getaddrinfo reads them; no other name resolves.

    Yields the map to fill in and a Counter of the names asked for. AI_NUMERICHOST: never DNS.
    """
    names: dict[str, list[str]] = {"localhost": ["127.0.0.1", "::1"]}
    asked: Counter[str] = Counter()

    def fake(host: str) -> list[str]:
        asked[host] += 1
        if host in names:
            return names[host]
        infos = socket.getaddrinfo(host, None, flags=socket.AI_NUMERICHOST, proto=socket.IPPROTO_TCP)
        return [str(info[4][0]) for info in infos]

    monkeypatch.setattr(url_guard, "resolve", fake)
    return names, asked


def refused(url: str, settings: Settings | None = None) -> str:
    with pytest.raises(UnknownSourceError) as caught:
        check_stac_url(url, settings or Settings())
    message = str(caught.value)
    assert not any(part in message for part in WEB_WORDING_NEVER), message
    return message


# --- the STAC API a page address names -----------------------------------------------------------


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8611/",
    "http://127.0.0.1:8611/api/stac/v1?x=1",
    "http://localhost:8000/",
    "http://10.0.0.5/", "http://172.16.3.4/", "http://192.168.1.1:8080/",
    "http://169.254.169.254/latest/meta-data/",  # the cloud metadata service
    "http://100.64.0.1/",  # carrier-grade NAT
    "http://0.0.0.0:8501/", "http://224.0.0.1/", "http://240.0.0.1/", "http://255.255.255.255/",
    "http://[::1]:8611/", "http://[::]/", "http://[fe80::1]/", "http://[fc00::1]/", "http://[ff02::1]/",
    "http://[::ffff:127.0.0.1]/", "http://[::ffff:169.254.169.254]/",  # IPv4-mapped
    "http://[64:ff9b::a00:5]/", "http://[2002:a00:5::]/",  # 10.0.0.5 through NAT64 and 6to4
    # Other spellings of 127.0.0.1: decimal, hex, octal, short forms.
    "http://2130706433/", "http://0x7f000001/", "http://0x7f.1/", "http://0177.0.0.1/", "http://017700000001/",
    "http://127.1/", "HTTP://127.0.0.1/", "https://127.0.0.1./",
])
def test_private_and_local_addresses_are_refused_in_every_spelling(url):
    message = refused(url)
    assert "private or local network" in message and "Use Planetary Computer or the demo" in message
    assert "operator" in message


@pytest.mark.parametrize("url, problem", [
    ("ftp://example.org/stac", "http:// or https://"),
    ("file:///etc/passwd", "http:// or https://"),
    ("gopher://127.0.0.1:6379/_INFO", "http:// or https://"),
    ("http://user:secret@example.org/stac", "user name or password"),
    ("http://example.org@127.0.0.1/", "user name or password"),
    ("http://127.0.0.1\\@example.org/", "user name or password"),
    ("http://example.org\\.127.0.0.1/", "no usable host"),
    ("http://%31%32%37.0.0.1/", "no usable host"),
    ("http:///stac", "no usable host"),
    ("http://[::1/", "no usable host"),
    ("http://example.org:99999/", "no usable host and port"),
    ("http://[fe80::1%25eth0]/", "no usable host"),
    ("http://example.org/ stac", "spaces or control characters"),
    ("http://example.org/\x00", "spaces or control characters"),
    ("http://example.org/" + "a" * 2_000, "over 2,000 characters"),
])
def test_malformed_urls_are_refused_before_any_lookup(url, problem, dns):
    _, asked = dns
    assert problem in refused(url)
    assert not asked


def test_a_public_host_needs_the_visitors_consent(dns):
    names, asked = dns
    names["stac.example.org"] = [PUBLIC_V4, PUBLIC_V6]
    assert check_stac_url("https://stac.example.org/v1", Settings()) == "confirm"
    assert check_stac_url(f"http://{PUBLIC_V4}:8080/", Settings()) == "confirm"
    assert check_stac_url(f"http://[{PUBLIC_V6}]/", Settings()) == "confirm"
    assert asked["stac.example.org"] == 1


def test_a_name_with_any_private_address_is_refused(dns):
    names, _ = dns
    names["half.example.org"] = [PUBLIC_V4, "10.1.2.3"]
    names["rebound.example.org"] = ["127.0.0.1"]
    assert "half.example.org" in refused("https://half.example.org/")
    assert "rebound.example.org" in refused("https://rebound.example.org/")


def test_a_name_that_does_not_resolve_is_refused(dns):
    assert "cannot be looked up" in refused("https://no-such-host.example.org/stac")


def test_a_lookup_slower_than_the_deadline_is_refused_in_time(monkeypatch):
    def slow(host: str) -> list[str]:
        time.sleep(1.0)
        return [PUBLIC_V4]

    monkeypatch.setattr(url_guard, "resolve", slow)
    monkeypatch.setattr(url_guard, "RESOLVE_DEADLINE_S", 0.1)
    started = time.perf_counter()
    refused("https://slow.example.org/")
    assert time.perf_counter() - started < 0.8


def test_a_host_is_looked_up_once_a_minute_not_once_a_call(dns, monkeypatch):
    names, asked = dns
    names["stac.example.org"] = [PUBLIC_V4]
    for _ in range(200):
        assert check_stac_url("https://stac.example.org/v1", Settings()) == "confirm"
    assert asked["stac.example.org"] == 1
    monkeypatch.setattr(url_guard, "RESOLVED_FOR_S", 0.0)  # an answer that has expired is asked again
    url_guard.forget_resolutions()
    check_stac_url("https://stac.example.org/v1", Settings())
    check_stac_url("https://stac.example.org/v1", Settings())
    assert asked["stac.example.org"] == 3


def test_planetary_computer_is_always_allowed_without_a_lookup(dns):
    _, asked = dns
    for settings in (Settings(), Settings(ui_stac_hosts=("stac.internal",))):
        assert check_stac_url("https://planetarycomputer.microsoft.com/api/stac/v1", settings) == "allowed"
    assert not asked


def test_the_operators_hosts_are_allowed_even_on_loopback(dns):
    _, asked = dns
    settings = Settings.from_env({"CLOUDCORE_UI_STAC_HOSTS": "127.0.0.1:8611, STAC.internal, [::1]:9000"})
    assert check_stac_url("http://127.0.0.1:8611/api", settings) == "allowed"
    assert check_stac_url("https://stac.internal/v1", settings) == "allowed"  # no port listed: any port
    assert check_stac_url("http://stac.internal:8080/v1", settings) == "allowed"
    assert check_stac_url("http://[0:0::1]:9000/", settings) == "allowed"
    assert not asked  # the operator's choice: not second-guessed by a lookup
    assert "has not allowed" in refused("http://127.0.0.1:8612/", settings)  # another port
    assert "has not allowed" in refused("http://[::1]/", settings)


def test_with_an_operator_list_unlisted_public_hosts_are_refused_without_a_lookup(dns):
    names, asked = dns
    names["stac.example.org"] = [PUBLIC_V4]
    message = refused("https://stac.example.org/v1", Settings(ui_stac_hosts=("stac.internal",)))
    assert "stac.example.org" in message and "has not allowed" in message
    assert not asked


def test_a_listed_host_matches_its_default_port():
    settings = Settings(ui_stac_hosts=("stac.internal:443", "plain.internal:80"))
    assert check_stac_url("https://stac.internal/v1", settings) == "allowed"
    assert check_stac_url("http://plain.internal/v1", settings) == "allowed"
    refused("http://stac.internal/v1", settings)  # port 80, not 443


@pytest.mark.parametrize("address, public", [
    ("8.8.8.8", True), ("2001:4860:4860::8888", True), ("127.0.0.1", False), ("10.0.0.1", False),
    ("169.254.169.254", False), ("100.100.100.200", False), ("0.0.0.0", False), ("::", False), ("::1", False),
    ("::ffff:8.8.8.8", True), ("::ffff:10.0.0.1", False), ("64:ff9b::808:808", True), ("64:ff9b::7f00:1", False),
    ("2002:808:808::1", True), ("2002:c0a8:101::1", False), ("fe80::1%2", False), ("239.1.1.1", False),
])
def test_which_addresses_are_public(address, public):
    assert is_public_address(address) is public


# --- the scene files a custom API lists ----------------------------------------------------------


def group(*hrefs: str) -> DateGroup:
    scene = Scene(id="LC09_L2SP_190027_20240605_20240606_02_T1", datetime=dt.datetime(2024, 6, 5, 10, tzinfo=dt.UTC),
                  platform="landsat-9", wrs_path=190, wrs_row=27, scene_cloud_pct=20.0, land_cloud_pct=20.0,
                  bbox_lonlat=None, geometry_lonlat=None,
                  assets={f"band{i}": href for i, href in enumerate(hrefs)})
    return DateGroup(date=scene.date, platform=scene.platform, wrs_path=scene.wrs_path, scenes=(scene,))


def test_public_scene_files_pass_and_each_host_is_looked_up_once(dns):
    names, asked = dns
    names["files.example.org"] = [PUBLIC_V4]
    names["more.example.org"] = [PUBLIC_V6]
    hrefs = [f"https://files.example.org/scene/{i}.TIF" for i in range(100)] + ["https://more.example.org/x.TIF"]
    check_asset_hosts([group(*hrefs[:50]), group(*hrefs[50:])], Settings())
    assert asked == Counter({"files.example.org": 1, "more.example.org": 1})
    check_asset_hosts([], Settings())


@pytest.mark.parametrize("href", [
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "http://127.0.0.1:6379/x.TIF", "http://[::1]/x.TIF", "http://2130706433/x.TIF", "https://nowhere.example.org/x.TIF",
])
def test_scene_files_at_private_or_unknown_hosts_are_refused(href, dns):
    names, _ = dns
    names["files.example.org"] = [PUBLIC_V4]
    with pytest.raises(UnknownSourceError, match="private or local network or cannot be looked up"):
        check_asset_hosts([group("https://files.example.org/a.TIF", href)], Settings())


@pytest.mark.parametrize("href", [
    "/etc/passwd", "LC09_B4.TIF", "file:///etc/passwd", "/vsicurl/http://169.254.169.254/", "s3://bucket/key.TIF",
    "",
])
def test_scene_files_that_are_no_web_address_are_refused_without_a_crash(href, dns):
    with pytest.raises(UnknownSourceError, match="not web addresses") as caught:
        check_asset_hosts([group(href)], Settings())
    assert "passwd" not in str(caught.value)


def test_malformed_scene_file_addresses_are_refused(dns):
    for href in ("http://a@127.0.0.1/x.TIF", "http://files.example.org/a b.TIF", "http://%31.0.0.1/"):
        with pytest.raises(UnknownSourceError, match="scene file address"):
            check_asset_hosts([group(href)], Settings())


def test_the_operators_hosts_may_hold_scene_files(dns):
    _, asked = dns
    check_asset_hosts([group("http://minio.internal:9000/a.TIF")], Settings(ui_stac_hosts=("minio.internal:9000",)))
    assert not asked


def test_files_on_too_many_hosts_are_refused_before_any_lookup(dns):
    _, asked = dns
    hrefs = [f"https://h{i}.example.org/x.TIF" for i in range(url_guard.MAX_ASSET_HOSTS + 1)]
    with pytest.raises(UnknownSourceError, match="different hosts"):
        check_asset_hosts([group(*hrefs)], Settings())
    assert not asked


def test_guard_groups_checks_only_stac_api_urls():
    private = [group("http://127.0.0.1:1/x.TIF")]
    assert guard_groups("demo", private) is private
    assert guard_groups("planetary-computer", private) is private
    with pytest.raises(UnknownSourceError):
        guard_groups("http://stac.example.org/v1", private)


# --- dashboard_source ----------------------------------------------------------------------------


def landing(url: str) -> bytes:
    links = [{"rel": rel, "href": url + "/", "type": JSON} for rel in ("self", "root")]
    links.append({"rel": "search", "href": url + "/search", "type": "application/geo+json", "method": "POST"})
    return json.dumps({"type": "Catalog", "id": "fake", "description": "fake", "stac_version": "1.0.0",
                       "conformsTo": ["https://api.stacspec.org/v1.0.0/core", "https://api.stacspec.org/v1.0.0/item-search"],
                       "links": links}).encode()


def an_item(asset_href: str) -> dict:
    ring = [[8.0, 47.0], [9.0, 47.0], [9.0, 48.0], [8.0, 48.0], [8.0, 47.0]]
    return {"type": "Feature", "stac_version": "1.0.0", "id": "LC09_L2SP_194027_20240605_20240606_02_T1",
            "collection": "landsat-c2-l2", "links": [], "bbox": [8.0, 47.0, 9.0, 48.0],
            "geometry": {"type": "Polygon", "coordinates": [ring]},
            "properties": {"datetime": "2024-06-05T10:00:00Z", "platform": "landsat-9", "landsat:wrs_path": "194",
                           "landsat:wrs_row": "027", "eo:cloud_cover": 20.0, "proj:epsg": 32632},
            "assets": {"qa_pixel": {"href": asset_href}}}


@pytest.fixture
def stac_api():
    """A STAC API on loopback whose one item keeps its file at holder['asset'] (default: on the API itself)."""
    holder: dict[str, str] = {}

    def respond(method: str, path: str, body: dict):
        if path.split("?")[0] in ("", "/"):
            return 200, JSON, landing(holder["url"]), {}
        if path.startswith("/search"):
            feature = an_item(holder.get("asset", holder["url"] + "/files/QA_PIXEL.TIF"))
            return 200, "application/geo+json", json.dumps({"type": "FeatureCollection", "features": [feature],
                                                            "links": []}).encode(), {}
        return 404, "text/plain", b"not here", {}

    with fake_api(respond) as (url, recorder):
        holder["url"] = url
        yield url, holder, recorder


def test_the_dashboard_refuses_a_loopback_stac_api_by_default(stac_api, monkeypatch):
    url, _, recorder = stac_api
    monkeypatch.setattr(sources, "open_source", lambda *a, **k: pytest.fail("a refused URL reached open_source"))
    with pytest.raises(UnknownSourceError, match="private or local network"):
        dashboard_source(url)
    assert recorder.requests == []  # the server was never contacted


def test_the_dashboard_opens_a_loopback_stac_api_its_operator_lists(stac_api, monkeypatch):
    url, holder, recorder = stac_api
    monkeypatch.setenv("CLOUDCORE_UI_STAC_HOSTS", url.removeprefix("http://"))
    source = dashboard_source(url)
    scenes = source.search(parse_aoi(AOI_TEXT), dt.date(2024, 6, 1), dt.date(2024, 6, 30))
    assert [s.id for s in scenes] == ["LC09_L2SP_194027_20240605_20240606_02_T1"]
    assert any(r["path"].startswith("/search") for r in recorder.requests)
    assert source.readable_href(scenes[0].assets["qa_pixel"]) == scenes[0].assets["qa_pixel"]

    # The same listed API pointing its files at another loopback port: the search is refused,
    # whoever searches (the dashboard's own search, or one cloudcore makes for a fill).
    holder["asset"] = "http://127.0.0.1:1/QA_PIXEL.TIF"
    with pytest.raises(UnknownSourceError, match="scene files at 127.0.0.1"):
        source.search(parse_aoi(AOI_TEXT), dt.date(2024, 6, 1), dt.date(2024, 6, 30))


# --- the consent gate ----------------------------------------------------------------------------


def _gate_page(spec: str) -> None:
    import streamlit as st

    from ui.source_gate import require_consent

    require_consent(spec)
    st.success("contacted")


def gate(spec: str) -> AppTest:
    return AppTest.from_function(_gate_page, args=(spec,), default_timeout=30).run()


def test_a_public_api_in_a_link_waits_for_the_visitors_consent(dns):
    names, _ = dns
    names["stac.example.org"] = [PUBLIC_V4]
    at = gate("https://stac.example.org/v1?[x](http://phish)")
    assert not at.exception, at.exception
    assert not at.success  # stopped before anything was contacted
    assert "**stac.example.org**" in at.warning[0].value and "phish" not in at.warning[0].value
    assert [b.label for b in at.button] == ["Contact this STAC API", "Use the demo instead"]
    at.button[0].click().run()
    assert at.success and at.success[0].value == "contacted"
    assert at.session_state["_confirmed_stac"] == {"https://stac.example.org"}


def test_use_the_demo_instead_asks_for_the_demo_view(dns):
    names, _ = dns
    names["stac.example.org"] = [PUBLIC_V4]
    at = gate("https://stac.example.org/v1")
    at.button[1].click().run()
    assert not at.exception, at.exception
    assert at.session_state["_pending"]["source_kind"] == "demo"
    assert at.session_state["_pending"]["date"] is None


def test_a_refused_api_shows_why_and_the_way_out():
    at = gate("http://169.254.169.254/latest/meta-data/")
    assert not at.exception, at.exception
    assert not at.success and not at.warning[1:]
    assert "private or local network" in at.warning[0].value
    assert [b.label for b in at.button] == ["Use the demo instead"]


@pytest.mark.parametrize("spec", ["demo", "planetary-computer", "https://planetarycomputer.microsoft.com/api/stac/v1"])
def test_names_and_planetary_computer_pass_the_gate(spec):
    at = gate(spec)
    assert not at.exception, at.exception
    assert at.success and not at.button


def test_a_typed_url_counts_as_confirmed(dns):
    names, _ = dns
    names["stac.example.org"] = [PUBLIC_V4]

    def page() -> None:
        import streamlit as st

        from ui.source_gate import mark_confirmed, require_consent

        mark_confirmed(" https://STAC.example.org:443/other/path ")
        mark_confirmed("not a url at all")
        require_consent("https://stac.example.org/v1")
        st.success("contacted")

    at = AppTest.from_function(page, default_timeout=30).run()
    assert not at.exception, at.exception
    assert at.success and not at.button
