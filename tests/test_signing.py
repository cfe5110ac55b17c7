"""sign_href_with_deadline against a fake Planetary Computer token endpoint on loopback."""

from __future__ import annotations

import datetime as dt
import json
import threading
from urllib.parse import urlparse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudcore.errors import SceneReadError, SettingsError, SourceUnreachableError
from cloudcore.settings import Settings as CloudcoreSettings
from cloudcore.sources.signing import DeadlineExceeded, needs_signing, run_with_deadline, sign_href_with_deadline
from tests.stac_server import fake_api, free_port, outcome_within, silent_server

GUARD_S = 20.0
KEY = "sub-k3y-for-tests"
HREF = (
    "https://landsateuwest.blob.core.windows.net/landsat-c2/level-2/standard/oli-tirs/2024/089/090/"
    "LC09_L2SP_089090_20240807_20240808_02_T2/LC09_L2SP_089090_20240807_20240808_02_T2_QA_PIXEL.TIF"
)


def token_body(token: str) -> bytes:
    expiry = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=45)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return json.dumps({"msft:expiry": expiry, "token": token}).encode()


TOKEN_A = "st=2026-11-24T14%3A00%3A00Z&se=2026-11-24T15%3A00%3A00Z&sp=rl&sv=2024-05-04&sr=c&sig=AAAA%3D"
TOKEN_B = "st=2026-11-24T14%3A00%3A00Z&se=2026-11-24T15%3A00%3A00Z&sp=rl&sv=2024-05-04&sr=c&sig=BBBB%3D"


@pytest.fixture
def sdk(monkeypatch):
    """Point the planetary-computer SDK at a URL chosen by the test; restore it afterwards."""
    from planetary_computer import sas
    from planetary_computer.settings import Settings

    def use(sas_url: str, key: str | None = KEY) -> None:
        monkeypatch.setenv("PC_SDK_SAS_URL", sas_url)
        if key is None:
            monkeypatch.setenv("PC_SDK_SUBSCRIPTION_KEY", "")
        else:
            monkeypatch.setenv("PC_SDK_SUBSCRIPTION_KEY", key)
        Settings.get.cache_clear()  # the SDK reads the environment once and caches it

    sas.TOKEN_CACHE.clear()
    yield use
    Settings.get.cache_clear()
    sas.TOKEN_CACHE.clear()


@pytest.fixture
def token_endpoint():
    """A fake token service whose token (and status) the test can change."""
    state = {"token": TOKEN_A, "status": 200}

    def respond(method, path, body):
        if state["status"] != 200:
            return state["status"], "application/json", b'{"message": "no"}', {}
        return 200, "application/json", token_body(state["token"]), {}

    with fake_api(respond) as (url, recorder):
        yield url, recorder, state


def test_blob_href_gets_the_token_as_its_query(sdk, token_endpoint):
    url, recorder, _ = token_endpoint
    sdk(url)
    signed = sign_href_with_deadline(HREF, deadline_s=5)
    assert signed == f"{HREF}?{TOKEN_A}"
    parsed, original = urlparse(signed), urlparse(HREF)
    assert (parsed.scheme, parsed.netloc, parsed.path) == (original.scheme, original.netloc, original.path)
    assert [r["path"] for r in recorder.requests] == ["/landsateuwest/landsat-c2"]


def test_key_goes_to_the_token_service_as_a_header_only(sdk, token_endpoint):
    url, recorder, _ = token_endpoint
    sdk(url)
    signed = sign_href_with_deadline(HREF, deadline_s=5)
    assert recorder.requests[0]["headers"].get("Ocp-Apim-Subscription-Key") == KEY
    assert KEY not in recorder.requests[0]["path"]
    assert KEY not in signed


def test_signed_hrefs_are_not_kept_by_us(sdk, token_endpoint):
    url, _, state = token_endpoint
    sdk(url)
    assert sign_href_with_deadline(HREF, deadline_s=5).endswith(TOKEN_A)
    from planetary_computer import sas

    sas.TOKEN_CACHE.clear()  # as when the SDK's token nears expiry
    state["token"] = TOKEN_B
    assert sign_href_with_deadline(HREF, deadline_s=5).endswith(TOKEN_B)


@pytest.mark.parametrize(
    "href",
    [
        "https://example.com/landsat/LC09_QA_PIXEL.TIF",
        "/data/landsat/LC09_QA_PIXEL.TIF",
        "relative/LC09_QA_PIXEL.TIF",
        "https://blob.core.windows.net.evil.example/x/y.TIF",  # suffix must be the real host suffix
        f"{HREF}?{TOKEN_A}",  # already signed
        "https://ai4edatasetspublicassets.blob.core.windows.net/assets/thumb.png",  # public account
    ],
)
def test_other_hrefs_pass_through_without_a_request(sdk, token_endpoint, href):
    url, recorder, _ = token_endpoint
    sdk(url)
    assert sign_href_with_deadline(href, deadline_s=5) == href
    assert recorder.requests == []


@settings(max_examples=50, deadline=None)
@given(st.from_regex(r"https?://[a-z]{1,12}\.(com|org|net|io)/[A-Za-z0-9_/.-]{0,40}", fullmatch=True))
def test_non_blob_urls_never_need_signing(href):
    assert not needs_signing(href)
    assert sign_href_with_deadline(href, deadline_s=0.01) == href


def test_hanging_token_service_raises_within_the_deadline(sdk):
    with silent_server() as url:
        sdk(url)
        err = outcome_within(GUARD_S, lambda: sign_href_with_deadline(HREF, deadline_s=0.5))
    assert isinstance(err, SourceUnreachableError)
    assert "within 0.5 s" in str(err) and "use the demo source, which works offline" in str(err)
    assert "--source" not in str(err)  # the library names no CLI flag; the CLI adds its own hint
    assert KEY not in str(err)


def test_deadline_comes_from_the_settings_the_source_was_made_with(sdk):
    from cloudcore.sources.stac import planetary_computer_source

    source = planetary_computer_source(CloudcoreSettings(sign_timeout_s=0.3))
    with silent_server() as url:
        sdk(url)
        err = outcome_within(GUARD_S, lambda: source.readable_href(HREF))
    assert isinstance(err, SourceUnreachableError) and "within 0.3 s" in str(err)


def test_deadline_variable_is_read_once_by_the_front_door(sdk, monkeypatch):
    from cloudcore.sources import open_source

    monkeypatch.setenv("CLOUDCORE_SIGN_TIMEOUT_S", "0.3")
    source = open_source("planetary-computer")  # reads the environment here, once
    monkeypatch.setenv("CLOUDCORE_SIGN_TIMEOUT_S", "-1")  # a later change is not read by a sign
    with silent_server() as url:
        sdk(url)
        err = outcome_within(GUARD_S, lambda: source.readable_href(HREF))
    assert isinstance(err, SourceUnreachableError) and "within 0.3 s" in str(err)


def test_signing_reads_no_environment(sdk, monkeypatch):
    monkeypatch.setenv("CLOUDCORE_SIGN_TIMEOUT_S", "-1")  # would be refused if it were read
    with silent_server() as url:
        sdk(url)
        err = outcome_within(GUARD_S, lambda: sign_href_with_deadline(HREF, deadline_s=0.3))
    assert isinstance(err, SourceUnreachableError) and "within 0.3 s" in str(err)


@pytest.mark.parametrize("raw", ["-1", "0", "abc", "3601"])
def test_bad_deadline_variable_is_named(monkeypatch, raw):
    from cloudcore.sources import open_source

    monkeypatch.setenv("CLOUDCORE_SIGN_TIMEOUT_S", raw)
    with pytest.raises(SettingsError, match="CLOUDCORE_SIGN_TIMEOUT_S") as raised:
        CloudcoreSettings.from_env()
    message = str(raised.value)
    assert repr(raw) in message and "0.1" in message and "3,600" in message  # what it held, what it may hold
    assert "\n" not in message and raised.value.setting == "sign_timeout_s"
    with pytest.raises(SettingsError, match="CLOUDCORE_SIGN_TIMEOUT_S"):
        open_source("planetary-computer")  # refused at the front door, before any sign


def test_closed_token_port_raises_unreachable(sdk):
    sdk(f"http://127.0.0.1:{free_port()}")
    err = outcome_within(GUARD_S, lambda: sign_href_with_deadline(HREF, deadline_s=10))
    assert isinstance(err, SourceUnreachableError)
    assert KEY not in str(err)


def test_failing_token_service_raises_unreachable(sdk, token_endpoint):
    url, _, state = token_endpoint
    state["status"] = 503
    sdk(url)
    err = outcome_within(GUARD_S, lambda: sign_href_with_deadline(HREF, deadline_s=10))
    assert isinstance(err, SourceUnreachableError)
    assert KEY not in str(err)


def test_refused_token_names_the_key_variable_not_the_key(sdk, token_endpoint):
    url, _, state = token_endpoint
    state["status"] = 401
    sdk(url)
    err = outcome_within(GUARD_S, lambda: sign_href_with_deadline(HREF, deadline_s=10))
    assert isinstance(err, SceneReadError)
    assert "PC_SDK_SUBSCRIPTION_KEY" in str(err) and KEY not in str(err)


def test_run_with_deadline_returns_raises_or_times_out():
    assert run_with_deadline(lambda: 42, 1) == 42
    with pytest.raises(ZeroDivisionError):
        run_with_deadline(lambda: 1 / 0, 1)
    release = threading.Event()
    with pytest.raises(DeadlineExceeded):
        run_with_deadline(lambda: release.wait(10), 0.05)
    release.set()


def test_a_timeout_inside_the_call_is_not_a_deadline():
    def times_out() -> None:
        raise TimeoutError("socket timed out")

    with pytest.raises(TimeoutError) as raised:
        run_with_deadline(times_out, 1)
    assert not isinstance(raised.value, DeadlineExceeded)


# -- fresh signatures after the storage refused one --------------------------------------

OTHER_CONTAINER_HREF = HREF.replace("/landsat-c2/", "/other-container/")


def test_fresh_fetches_a_new_token_instead_of_the_cached_one(sdk, token_endpoint):
    url, recorder, state = token_endpoint
    sdk(url)
    assert sign_href_with_deadline(HREF, deadline_s=5).endswith(TOKEN_A)
    state["token"] = TOKEN_B  # the service now hands out a new token; the SDK still caches A
    assert sign_href_with_deadline(HREF, deadline_s=5).endswith(TOKEN_A)
    assert len(recorder.requests) == 1
    assert sign_href_with_deadline(HREF, deadline_s=5, fresh=True) == f"{HREF}?{TOKEN_B}"
    assert len(recorder.requests) == 2
    assert sign_href_with_deadline(HREF, deadline_s=5).endswith(TOKEN_B)  # the new one is cached
    assert len(recorder.requests) == 2


def test_fresh_drops_only_that_containers_token(sdk, token_endpoint):
    url, recorder, state = token_endpoint
    sdk(url)
    sign_href_with_deadline(HREF, deadline_s=5)
    sign_href_with_deadline(OTHER_CONTAINER_HREF, deadline_s=5)
    state["token"] = TOKEN_B
    assert sign_href_with_deadline(HREF, deadline_s=5, fresh=True).endswith(TOKEN_B)
    assert sign_href_with_deadline(OTHER_CONTAINER_HREF, deadline_s=5).endswith(TOKEN_A)
    assert [r["path"] for r in recorder.requests] == [
        "/landsateuwest/landsat-c2", "/landsateuwest/other-container", "/landsateuwest/landsat-c2",
    ]


def test_stac_source_asks_its_signer_for_a_fresh_token_only_when_told(sdk, token_endpoint):
    from cloudcore.sources.stac import StacSource

    url, recorder, state = token_endpoint
    sdk(url)
    source = StacSource("http://127.0.0.1:9", signer=sign_href_with_deadline)
    assert source.readable_href(HREF).endswith(TOKEN_A)
    state["token"] = TOKEN_B
    assert source.readable_href(HREF).endswith(TOKEN_A)
    assert source.readable_href(HREF, fresh=True).endswith(TOKEN_B)
    assert len(recorder.requests) == 2

    calls = []
    plain = StacSource("http://127.0.0.1:9", signer=lambda href, **kw: calls.append(kw) or href + "?sig=x")
    plain.readable_href(HREF)
    plain.readable_href(HREF, fresh=True)
    assert calls == [{}, {"fresh": True}]  # one-argument signers keep working when fresh is not asked
