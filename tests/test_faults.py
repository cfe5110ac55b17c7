"""The fault matrix: cloudcore against a STAC API and blob storage that fail on command.

Four small dates of real GeoTIFFs are served over HTTP by a BlobServer (reads go through
GDAL's /vsicurl/), their STAC items by rustac behind a StacFaultProxy. Every test starts
its own blob server and proxy, so GDAL's per-URL cache never hides a request from a
fault. The reference numbers come from the same files read locally, without HTTP.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pytest

from cloudcore.errors import CloudCoreError, SettingsError, SourceUnreachableError
from cloudcore.geo.aoi import AOI, parse_aoi
from cloudcore.io.cache import CoverCache
from cloudcore.io.cog_http import read_path_counts, reset_read_path_counts
from cloudcore.masks.qa import CLEAR_BIT, CLOUD_BIT, CLOUD_SHADOW_BIT
from cloudcore.settings import Settings
from cloudcore.sources import open_source, stac
from cloudcore.sources.stac import StacSource
from cloudcore.stats.cover import DateCover, compute_cover
from tests.rasters import ORIGIN, UTM33N, ListSource, lonlat_bbox, make_scene
from tests.servers import faults
from tests.servers.blob import BlobServer
from tests.servers.scenes import asset_rewrites, stac_item
from tests.servers.silence import blackhole, unreachable
from tests.servers.stac_faults import StacFaultProxy, carries_page_token
from tests.stac_server import outcome_within, running_stac_api, silent_server

REPO = Path(__file__).resolve().parents[1]
PIXELS = 64
CLEAR = 1 << CLEAR_BIT
CLOUD = 1 << CLOUD_BIT
SHADOW = (1 << CLOUD_SHADOW_BIT) | CLEAR
DATES = [dt.date(2024, 5, 1), dt.date(2024, 5, 17), dt.date(2024, 6, 2), dt.date(2024, 6, 18)]
START, END = dt.date(2024, 4, 1), dt.date(2024, 7, 31)
NO_HREF_DATE, MISSING_DATE = dt.date(2024, 7, 4), dt.date(2024, 7, 20)
STATS = ("valid_pct", "cloud_pct", "shadow_pct", "snow_pct", "masked_pct", "clear_pct")
# Whatever the machine's load, a test that should end in seconds and has not after this hangs.
GUARD_S = 60.0
# What the library's messages say to do next when the API cannot be reached (the CLI adds
# its own "--source demo"; the library names no flag).
DEMO_HINT = "use the demo source, which works offline"


def _qa(kind: str) -> np.ndarray:
    qa = np.full((PIXELS, PIXELS), CLEAR, dtype=np.uint16)
    if kind == "cloud":
        qa[:] = CLOUD
    elif kind == "left half cloud":
        qa[:, : PIXELS // 2] = CLOUD
    elif kind == "shadow stripes":
        qa[::4] = SHADOW
    return qa


@dataclass
class World:
    root: Path
    aoi: AOI
    scenes: list
    expected: dict[str, tuple]
    """Date -> the cover numbers from the local files (no HTTP, no faults)."""
    items: list[dict[str, Any]]
    broken_items: list[dict[str, Any]]
    """`items` plus a date whose QA asset has no href and one whose file is missing."""

    def qa_name(self, date: dt.date) -> str:
        return next(Path(s.assets["qa_pixel"]).name for s in self.scenes if s.date == date)


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    root = tmp_path_factory.mktemp("blobs")
    folder = root / "scenes"
    folder.mkdir()
    kinds = ["clear", "cloud", "left half cloud", "shadow stripes"]
    scenes = [
        make_scene(folder, f"LC08_L2SP_190027_{d:%Y%m%d}_02_T1", _qa(kind), date=d)
        for d, kind in zip(DATES, kinds)
    ]
    side = PIXELS * 30.0
    aoi = parse_aoi(lonlat_bbox(UTM33N, ORIGIN[0] + 200, ORIGIN[1] - side + 200, ORIGIN[0] + side - 200, ORIGIN[1] - 200))
    baseline = compute_cover(ListSource(scenes), aoi, START, END)
    expected = {r.date: _numbers(r) for r in baseline}
    # The reference itself is right: independent of any reader, a clear date has no cloud
    # and a cloudy one nothing else; the half-cloudy date lies between.
    assert [r.error for r in baseline] == [None] * 4
    assert expected["2024-05-01"][:2] == (100.0, 0.0) and expected["2024-05-17"][:2] == (100.0, 100.0)
    assert 30 < expected["2024-06-02"][1] < 70 and 0 < expected["2024-06-18"][2] < 50
    items = [stac_item(s, root) for s in scenes]
    extra = [
        make_scene(folder, f"LC08_L2SP_190027_{d:%Y%m%d}_02_T1", _qa("clear"), date=d) for d in (NO_HREF_DATE, MISSING_DATE)
    ]
    broken = [
        stac_item(extra[0], root, hrefs={"qa_pixel": None}),
        stac_item(extra[1], root, hrefs={"qa_pixel": "scenes/LC08_NOT_THERE_QA_PIXEL.TIF"}),
    ]
    return World(root, aoi, scenes, expected, items, items + broken)


@pytest.fixture(scope="module")
def clean_api(world) -> Iterator[str]:
    with running_stac_api(world.items) as url:
        yield url


@pytest.fixture(scope="module")
def broken_api(world) -> Iterator[str]:
    with running_stac_api(world.broken_items) as url:
        yield url


@dataclass
class Servers:
    blob: BlobServer
    stac: StacFaultProxy


@contextlib.contextmanager
def serving(world: World, upstream: str) -> Iterator[Servers]:
    """A fresh blob server for the world's files and a proxy pointing items at it."""
    with BlobServer(world.root) as blob, StacFaultProxy(upstream, rewrite=asset_rewrites(blob.url)) as stac:
        yield Servers(blob, stac)


@pytest.fixture
def servers(world, clean_api) -> Iterator[Servers]:
    with serving(world, clean_api) as both:
        yield both


@pytest.fixture(autouse=True)
def _default_settings(monkeypatch, tmp_path):
    """Every test starts from the defaults a user has (no overrides from the caller's shell)."""
    for variable in list(os.environ):
        if variable.startswith("CLOUDCORE_"):
            monkeypatch.delenv(variable)
    monkeypatch.setenv("CLOUDCORE_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture(params=["native", "gdal"])
def read_path(request, monkeypatch) -> Iterator[str]:
    """Blob reads through each read path: the native COG reader (http COGs, the default) and GDAL
    (CLOUDCORE_GDAL_READS, and every file the native reader hands over); neither may hand a
    read to the other here."""
    if request.param == "gdal":
        monkeypatch.setenv("CLOUDCORE_GDAL_READS", "1")
    reset_read_path_counts()
    yield request.param
    counts = read_path_counts()
    assert counts["gdal_fallback"] == 0 if request.param == "native" else counts["native"] == 0, counts


def _numbers(record: DateCover) -> tuple:
    return tuple(getattr(record, name) for name in STATS)


def by_date(records: list[DateCover]) -> dict[str, DateCover]:
    return {r.date: r for r in records}


def cover(url: str, world: World, **kwargs: Any) -> list[DateCover]:
    return compute_cover(StacSource(url, **kwargs), world.aoi, START, END)


def timed(call) -> tuple[Any, float]:
    """The result (or the exception raised) of `call` and how long it took."""
    started = time.monotonic()
    value = outcome_within(GUARD_S, call)
    return value, time.monotonic() - started


def assert_complete(records: list[DateCover], world: World) -> None:
    """Every date measured, with exactly the numbers of the local, fault-free read."""
    assert [r.error for r in records] == [None] * len(world.expected)
    assert {r.date: _numbers(r) for r in records} == world.expected


def scene_ids(world: World) -> list[str]:
    return [s.id for s in world.scenes]


# -- STAC search -------------------------------------------------------------------------


def test_search_429_waits_the_retry_after_then_finds_the_same_scenes(world, servers):
    servers.stac.inject(faults.status(429, "/search", retry_after=1))
    scenes, _ = timed(lambda: StacSource(servers.stac.url).search(world.aoi, START, END))
    assert [s.id for s in scenes] == scene_ids(world)
    first, second = servers.stac.requests_to("/search")
    assert (first.status, second.status) == (429, 200)
    assert second.t - first.t >= 1.0


def test_search_rides_out_a_short_503_504_burst(world, servers):
    servers.stac.inject(faults.status(503, "/search"))
    servers.stac.inject(faults.status(504, "/search"))
    scenes, _ = timed(lambda: StacSource(servers.stac.url).search(world.aoi, START, END))
    assert [s.id for s in scenes] == scene_ids(world)
    assert [e.status for e in servers.stac.requests_to("/search")] == [503, 504, 200]


def test_search_outage_longer_than_the_retries_is_unreachable_with_a_next_step(world, servers):
    servers.stac.inject(faults.status(503, "/search", times=None))
    err, seconds = timed(lambda: StacSource(servers.stac.url).search(world.aoi, START, END))
    assert isinstance(err, SourceUnreachableError)
    assert "kept failing" in str(err) and DEMO_HINT in str(err)
    assert "--source" not in str(err)  # the library names no CLI flag
    assert len(servers.stac.requests_to("/search")) == 4  # the first try and 3 retries, no more
    assert seconds < 10  # backoff 0 + 1 + 2 s, far inside the 60 s search deadline


def test_malformed_search_answer_is_fetched_again(world, servers):
    servers.stac.inject(faults.malformed("/search"))
    scenes, _ = timed(lambda: StacSource(servers.stac.url).search(world.aoi, START, END))
    assert [s.id for s in scenes] == scene_ids(world)


def test_search_that_stays_malformed_is_a_clear_error(world, servers, monkeypatch):
    monkeypatch.setattr(stac, "RETRY_BACKOFF_S", 0.05)  # what is under test is the outcome, not the pacing
    servers.stac.inject(faults.malformed("/search", times=None))
    err, seconds = timed(lambda: StacSource(servers.stac.url).search(world.aoi, START, END))
    assert isinstance(err, CloudCoreError)
    assert "broken answer" in str(err) and "JSON cut off or garbled" in str(err) and servers.stac.url in str(err)
    assert len(servers.stac.requests_to("/search")) == 3 and seconds < 10


ONCE_ON_PAGE_2 = {
    "500": lambda: faults.status(500, "/search", when=carries_page_token),
    "reset": lambda: faults.reset("/search", when=carries_page_token),
    "truncated": lambda: faults.truncate("/search", when=carries_page_token),
    "malformed": lambda: faults.malformed("/search", when=carries_page_token),
}


@pytest.mark.parametrize("kind", ONCE_ON_PAGE_2)
def test_second_page_failing_once_is_fetched_again(world, servers, kind):
    fault = servers.stac.inject(ONCE_ON_PAGE_2[kind]())
    scenes, _ = timed(lambda: StacSource(servers.stac.url, page_limit=2).search(world.aoi, START, END))
    assert [s.id for s in scenes] == scene_ids(world)
    assert fault.fired == 1


def test_second_page_that_keeps_failing_is_an_error_not_half_the_scenes(world, servers, monkeypatch):
    monkeypatch.setattr(stac, "RETRY_BACKOFF_S", 0.05)  # what is under test is the outcome, not the pacing
    servers.stac.inject(faults.status(502, "/search", times=None, when=carries_page_token))
    err, _ = timed(lambda: StacSource(servers.stac.url, page_limit=2).search(world.aoi, START, END))
    assert isinstance(err, SourceUnreachableError)
    assert "on page 2" in str(err) and "not used" in str(err)
    pages = [e.status for e in servers.stac.requests_to("/search")]
    assert pages[0] == 200 and set(pages[1:]) == {502}


def test_search_stalled_past_the_timeout_fails_within_timeout_times_tries(world, servers):
    servers.stac.inject(faults.stall(30, "/search", times=None))
    source = StacSource(servers.stac.url, settings=Settings(http_timeout_s=1))
    assert source.timeout_s == 1
    err, seconds = timed(lambda: source.search(world.aoi, START, END))
    assert isinstance(err, SourceUnreachableError) and "did not answer in time" in str(err)
    assert 1.0 <= seconds < 1.0 * 2 + 1.5  # one read retry: two timeouts and a little
    assert len(servers.stac.arrivals_to("/search")) == 2


def test_asset_without_href_or_file_fails_that_date_only(world, broken_api, read_path):
    with serving(world, broken_api) as both:
        records, _ = timed(lambda: cover(both.stac.url, world))
    dates = by_date(records)
    assert set(dates) == set(world.expected) | {NO_HREF_DATE.isoformat(), MISSING_DATE.isoformat()}
    no_href, missing = dates.pop(NO_HREF_DATE.isoformat()), dates.pop(MISSING_DATE.isoformat())
    assert "qa_pixel" in no_href.error and no_href.cloud_pct is None
    assert "LC08_NOT_THERE_QA_PIXEL.TIF" in missing.error and missing.cloud_pct is None
    assert_complete(list(dates.values()), world)


# -- blob reads during cover -------------------------------------------------------------


def test_reads_ride_out_503_bursts_and_429(world, servers, read_path):
    servers.blob.inject(faults.status(503, f"*{world.qa_name(DATES[1])}", times=2))
    servers.blob.inject(faults.status(429, f"*{world.qa_name(DATES[2])}", retry_after=1))
    records, _ = timed(lambda: cover(servers.stac.url, world))
    assert_complete(records, world)
    statuses = servers.blob.stats()["by_status"]
    assert statuses[503] == 2 and statuses[429] == 1


def test_read_throttled_with_retry_after_waits_that_long(world, servers, read_path):
    # The native reader sees the Retry-After itself; GDAL's error does not carry headers, so that
    # path asks again (a HEAD). Either way the server throttles twice here and the read after
    # that must come 2 s later.
    throttled = world.qa_name(DATES[2])
    servers.blob.inject(faults.status(429, f"*{throttled}", retry_after=2, times=2))
    records, _ = timed(lambda: cover(servers.stac.url, world))
    assert_complete(records, world)
    asked = servers.blob.requests_to(f"*{throttled}")
    assert [e.status for e in asked[:2]] == [429, 429] and asked[2].status in (200, 206)
    assert asked[2].t - asked[1].t >= 2.0


@pytest.mark.parametrize("kind", ["reset", "truncate"])
def test_read_cut_mid_body_is_retried(world, servers, kind, read_path):
    # Cut the first ranged GET of that file: a HEAD has no body to cut.
    rule = getattr(faults, kind)(f"*{world.qa_name(DATES[2])}", when=lambda r: "Range" in r.headers)
    servers.blob.inject(rule)
    records, _ = timed(lambda: cover(servers.stac.url, world))
    assert rule.fired == 1
    assert_complete(records, world)


def test_read_stalled_past_the_timeout_fails_that_date_within_bounded_time(world, servers, monkeypatch, read_path):
    monkeypatch.setenv("CLOUDCORE_HTTP_TIMEOUT_S", "1")
    stalled = world.qa_name(DATES[3])
    servers.blob.inject(faults.stall(30, f"*{stalled}", times=None))
    records, seconds = timed(lambda: cover(servers.stac.url, world))
    dates = by_date(records)
    failed = dates.pop(DATES[3].isoformat())
    assert failed.error and stalled in failed.error and failed.cloud_pct is None
    assert "timed out" in failed.error.lower() or "timeout" in failed.error.lower()
    assert set(dates) == set(world.expected) - {DATES[3].isoformat()}
    assert {d: _numbers(r) for d, r in dates.items()} == {d: world.expected[d] for d in dates}
    assert all(r.error is None for r in dates.values())
    # 1 s timeouts: GDAL's 4 tries and backoff times our 2 (about 16 s), the native reader's 2 tries
    # (about 2 s); not the 30 s stall
    assert seconds < (25 if read_path == "gdal" else 6)


class Signer:
    """Signs like Planetary Computer: a cached token, a new one only when asked for fresh."""

    def __init__(self, cached: str, fresh: str):
        self.cached, self.fresh = cached, fresh
        self.fresh_calls = 0

    def __call__(self, href: str, fresh: bool = False) -> str:
        self.fresh_calls += fresh
        return f"{href}?se=2026-01-01&sig={self.fresh if fresh else self.cached}"


def test_expired_signature_is_signed_again_once_then_reads(world, servers, read_path):
    servers.blob.valid_signatures = {"new"}
    signer = Signer(cached="expired", fresh="new")
    records, _ = timed(lambda: cover(servers.stac.url, world, signer=signer))
    assert_complete(records, world)
    refused = [e for e in servers.blob.log if e.status == 403]
    assert len(refused) == len(DATES) and all("sig=expired" in e.query for e in refused)
    assert signer.fresh_calls == len(DATES)  # one re-sign per refused read
    assert all("sig=new" in e.query for e in servers.blob.log if e.status != 403)


def test_signature_refused_even_when_fresh_fails_each_date_with_its_reason(world, servers, read_path):
    servers.blob.valid_signatures = {"never-issued"}
    signer = Signer(cached="expired", fresh="also-refused")
    records, _ = timed(lambda: cover(servers.stac.url, world, signer=signer))
    assert sorted(r.date for r in records) == sorted(world.expected)
    for record in records:
        assert record.cloud_pct is None
        assert f"refused {record.scene_ids[0]}_QA_PIXEL.TIF" in record.error  # which file, and why
        assert "signature" in record.error
        assert "also-refused" not in record.error and "sig=" not in record.error  # never the token
    assert signer.fresh_calls == len(DATES)  # one re-sign per date, not a loop
    assert len([e for e in servers.blob.log if e.status == 403]) == 2 * len(DATES)


# -- partial results: the CLI's exit status and the cache --------------------------------


def cli_args(url: str, world: World) -> list[str]:
    west, south, east, north = world.aoi.geometry.bounds
    return ["cover", "--source", url, f"--aoi={west},{south},{east},{north}", "--start", START.isoformat(), "--end", END.isoformat()]


def test_cli_exits_3_when_a_date_failed_and_0_when_all_succeed(world, servers, broken_api, capsys):
    # In this process (the CLI's main, as `python -m cloudcore` runs it): two more interpreter
    # start-ups would cost more than the whole matrix on a busy machine; the subprocess test
    # below covers what only a real process shows (one line on stderr, no traceback).
    import json

    from cloudcore.cli import main

    assert main(cli_args(servers.stac.url, world)) == 0
    complete = capsys.readouterr()
    assert {r["date"]: tuple(r[k] for k in STATS) for r in json.loads(complete.out)["dates"]} == world.expected
    with serving(world, broken_api) as both:
        assert main(cli_args(both.stac.url, world)) == 3
    partial = capsys.readouterr()
    errors = {r["date"]: r["error"] for r in json.loads(partial.out)["dates"]}
    assert sorted(d for d, e in errors.items() if e) == [NO_HREF_DATE.isoformat(), MISSING_DATE.isoformat()]
    assert "2 of 6 dates failed" in partial.err


@pytest.mark.parametrize(
    "code",
    [
        500,
        404,
    ],
)
def test_failed_date_is_not_cached_and_a_later_run_measures_it(world, servers, tmp_path, code, read_path):
    cache = CoverCache(tmp_path / "cover-cache")
    failing = world.qa_name(DATES[0])
    servers.blob.inject(faults.status(code, f"*{failing}", times=None))
    source = StacSource(servers.stac.url)
    first, _ = timed(lambda: compute_cover(source, world.aoi, START, END, cache=cache))
    assert [r.date for r in first if r.error] == [DATES[0].isoformat()]
    assert len(list(cache.directory.glob("**/*.json"))) == len(DATES) - 1
    servers.blob.clear_faults()
    servers.blob.reset_stats()
    second, _ = timed(lambda: compute_cover(source, world.aoi, START, END, cache=cache))
    asked = {Path(e.path).name for e in servers.blob.log}
    assert asked == {failing}  # the other dates came from the cache, the failed one from the server
    assert_complete(second, world)


# -- Planetary Computer unreachable: a clear message within 5 s ---------------------------

UNREACHABLE_S = 5.0


@pytest.mark.parametrize("kind", ["refused", "blackhole"])
def test_unreachable_api_is_reported_within_5_s_with_default_settings(world, kind):
    with unreachable(kind) as url:
        err, seconds = timed(lambda: StacSource(url).search(world.aoi, START, END))
    assert isinstance(err, SourceUnreachableError), err
    assert url in str(err) and DEMO_HINT in str(err)
    assert seconds < UNREACHABLE_S


def test_cli_reports_an_api_that_never_answers_in_one_line_within_5_s(world):
    # Timed from the CLI's first connection to its message, not from its start or to its exit:
    # importing numpy and GDAL, and unloading them, on this shared machine is not the network's doing.
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDCORE_") or k == "CLOUDCORE_CACHE_DIR"}
    accepted: list[float] = []
    with silent_server(accepted) as url:
        process = subprocess.Popen(
            [sys.executable, "-m", "cloudcore", *cli_args(url, world)],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        try:
            first_line = process.stderr.readline()  # blocks until the message (or the end)
            said = time.monotonic()
            rest, code = process.stderr.read(), process.wait(timeout=GUARD_S)
        finally:
            process.kill()
        out = process.stdout.read()
    assert code == 1, first_line + rest
    assert first_line.startswith(f"cloudcore: The STAC API at {url} did not answer") and "--source demo" in first_line
    assert rest == "" and out == ""  # one line, no traceback, no partial JSON
    assert accepted and said - accepted[0] < UNREACHABLE_S


def test_connect_timeout_comes_from_the_settings(world):
    with blackhole() as url:
        source = StacSource(url, settings=Settings(connect_timeout_s=0.4))
        assert source.connect_timeout_s == 0.4
        err, seconds = timed(lambda: source.search(world.aoi, START, END))
    assert isinstance(err, SourceUnreachableError) and "did not answer in time" in str(err)
    assert 0.8 <= seconds < 2.0  # two connect tries of 0.4 s, not the default 1.5 s each


def test_connect_timeout_variable_is_read_once_by_the_front_door(world, monkeypatch):
    monkeypatch.setenv("CLOUDCORE_CONNECT_TIMEOUT_S", "0.4")
    with blackhole() as url:
        source = open_source(url)  # the front door reads the environment here, once
        monkeypatch.setenv("CLOUDCORE_CONNECT_TIMEOUT_S", "soon")  # not read again by the search
        err, seconds = timed(lambda: source.search(world.aoi, START, END))
    assert isinstance(err, SourceUnreachableError) and "did not answer in time" in str(err)
    assert 0.8 <= seconds < 2.0  # two connect tries of 0.4 s, not the default 1.5 s each


@pytest.mark.parametrize("raw", ["soon", "0", "-5", "601"])
def test_bad_connect_timeout_variable_is_refused_naming_it(monkeypatch, raw):
    monkeypatch.setenv("CLOUDCORE_CONNECT_TIMEOUT_S", raw)
    with pytest.raises(SettingsError, match="CLOUDCORE_CONNECT_TIMEOUT_S") as raised:
        Settings.from_env()
    message = str(raised.value)
    assert repr(raw) in message and "0.1" in message and "600" in message  # what it held, what it may hold
    assert "\n" not in message and raised.value.setting == "connect_timeout_s"
    with pytest.raises(SettingsError, match="CLOUDCORE_CONNECT_TIMEOUT_S"):
        open_source("http://127.0.0.1:9")  # the front door refuses it before any request


def test_token_service_down_fails_each_date_but_a_signer_bug_raises(world, servers):
    def unreachable_signer(href: str, fresh: bool = False) -> str:
        raise SourceUnreachableError("The token service could not be reached: check the connection.")

    records, _ = timed(lambda: cover(servers.stac.url, world, signer=unreachable_signer))
    assert sorted(r.date for r in records) == sorted(world.expected)
    assert all(r.cloud_pct is None and "token service could not be reached" in r.error for r in records)

    def broken_signer(href: str, fresh: bool = False) -> str:
        raise KeyError("a bug, not a fact of a date")

    err, _ = timed(lambda: cover(servers.stac.url, world, signer=broken_signer))
    assert isinstance(err, KeyError)  # raised, not turned into per-date errors
