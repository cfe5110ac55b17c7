"""The fault-injecting test servers themselves: ranges, shaping, faults, stats, the CLI."""

from __future__ import annotations

import email.parser
import http.client
import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from tests.servers import faults
from tests.servers.blob import BlobServer, parse_range
from tests.servers.stac_faults import StacFaultProxy, carries_page_token
from tests.stac_server import free_port, running_stac_api

REPO = Path(__file__).resolve().parents[1]
SIZE = 1000


@pytest.fixture
def blob_root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "scenes").mkdir(parents=True)
    (root / "scenes" / "a.bin").write_bytes(bytes((i * 7 + 3) % 256 for i in range(SIZE)))
    (tmp_path / "secret.txt").write_bytes(b"outside the root")
    return root


@pytest.fixture
def data(blob_root: Path) -> bytes:
    return (blob_root / "scenes" / "a.bin").read_bytes()


def get(url: str, path: str, headers: dict | None = None, method: str = "GET", timeout: float = 5) -> http.client.HTTPResponse:
    """One request on a fresh connection (the raw path is sent as is, no normalising)."""
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    conn.request(method, path, headers=headers or {})
    response = conn.getresponse()
    response.body = response.read()  # type: ignore[attr-defined]
    conn.close()
    return response


# -- ranges ------------------------------------------------------------------------------

RANGES = {
    "first byte": ("bytes=0-0", slice(0, 1)),
    "middle": ("bytes=100-199", slice(100, 200)),
    "open end": ("bytes=990-", slice(990, None)),
    "end past the file": ("bytes=990-5000", slice(990, None)),
    "suffix": ("bytes=-10", slice(-10, None)),
    "suffix longer than the file": ("bytes=-5000", slice(0, None)),
}


@pytest.mark.parametrize("header, expected", RANGES.values(), ids=RANGES.keys())
def test_single_ranges_are_the_file_bytes(blob_root, data, header, expected):
    with BlobServer(blob_root) as server:
        response = get(server.url, "/scenes/a.bin", {"Range": header})
    wanted = data[expected]
    first = expected.indices(SIZE)[0]
    assert response.status == 206
    assert response.body == wanted
    assert response.getheader("Content-Length") == str(len(wanted))
    assert response.getheader("Content-Range") == f"bytes {first}-{first + len(wanted) - 1}/{SIZE}"


def test_multiple_ranges_come_back_as_multipart_byteranges(blob_root, data):
    with BlobServer(blob_root) as server:
        response = get(server.url, "/scenes/a.bin", {"Range": "bytes=0-9, 500-519,-5"})
    assert response.status == 206
    ctype = response.getheader("Content-Type")
    assert ctype.startswith("multipart/byteranges; boundary=")
    assert int(response.getheader("Content-Length")) == len(response.body)
    message = email.parser.BytesParser().parsebytes(f"Content-Type: {ctype}\r\n\r\n".encode() + response.body)
    parts = [(p["Content-Range"], p.get_payload(decode=True)) for p in message.get_payload()]
    assert parts == [
        (f"bytes 0-9/{SIZE}", data[0:10]),
        (f"bytes 500-519/{SIZE}", data[500:520]),
        (f"bytes 995-999/{SIZE}", data[995:]),
    ]


def test_unsatisfiable_range_is_416_and_a_bad_one_is_ignored(blob_root, data):
    with BlobServer(blob_root) as server:
        beyond = get(server.url, "/scenes/a.bin", {"Range": f"bytes={SIZE}-"})
        backwards = get(server.url, "/scenes/a.bin", {"Range": "bytes=5-2"})
        other_unit = get(server.url, "/scenes/a.bin", {"Range": "items=0-1"})
    assert beyond.status == 416 and beyond.getheader("Content-Range") == f"bytes */{SIZE}"
    assert (backwards.status, backwards.body) == (200, data)
    assert (other_unit.status, other_unit.body) == (200, data)


def test_parse_range_arithmetic():
    assert parse_range("bytes=0-4,10-", 20) == [(0, 4), (10, 19)]
    assert parse_range("bytes=-0", 20) == []
    assert parse_range("bytes=25-30", 20) == []
    assert parse_range("bytes=-3", 0) == []
    assert parse_range("bytes=a-b", 20) is None
    assert parse_range("bytes=-", 20) is None


def test_head_tells_size_and_ranges_without_a_body(blob_root):
    with BlobServer(blob_root) as server:
        response = get(server.url, "/scenes/a.bin", method="HEAD")
        stats = server.stats()
    assert response.status == 200 and response.body == b""
    assert response.getheader("Content-Length") == str(SIZE)
    assert response.getheader("Accept-Ranges") == "bytes"
    assert stats["by_method"] == {"HEAD": 1} and stats["bytes"] == 0


def test_missing_files_and_paths_outside_the_root_are_404(blob_root):
    with BlobServer(blob_root) as server:
        statuses = [
            get(server.url, path).status
            for path in ("/scenes/missing.bin", "/../secret.txt", "/scenes/%2e%2e/%2e%2e/secret.txt", "/scenes")
        ]
        stats = server.stats()
    assert statuses == [404, 404, 404, 404]
    assert stats["not_found"] == 4 and stats["by_status"] == {404: 4}


def test_routes_serve_one_file_at_many_urls(blob_root, data, tmp_path):
    with BlobServer() as server:  # no root: routes only
        first = server.add_route("x/one.TIF", blob_root / "scenes" / "a.bin")
        second = server.add_route("/y/two.TIF", blob_root / "scenes" / "a.bin")
        assert (first, second) == (server.url + "/x/one.TIF", server.url + "/y/two.TIF")
        bodies = [get(server.url, "/x/one.TIF").body, get(server.url, "/y/two.TIF").body]
        assert get(server.url, "/scenes/a.bin").status == 404
    assert bodies == [data, data]


def test_connections_are_kept_alive(blob_root, data):
    with BlobServer(blob_root) as server:
        host, port = server.url.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=5)
        bodies, sockets = [], set()
        for header in ("bytes=0-9", "bytes=10-19"):
            conn.request("GET", "/scenes/a.bin", headers={"Range": header})
            bodies.append(conn.getresponse().read())
            sockets.add(conn.sock)
        conn.close()
    assert bodies == [data[0:10], data[10:20]]
    assert len(sockets) == 1


# -- stats and the log -------------------------------------------------------------------


def test_stats_count_requests_bytes_and_statuses_until_reset(blob_root):
    with BlobServer(blob_root) as server:
        get(server.url, "/scenes/a.bin")
        get(server.url, "/scenes/a.bin", {"Range": "bytes=0-99"})
        get(server.url, "/nope")
        first = server.stats()
        server.reset_stats()
        after_reset = server.stats()
        log_after_reset = server.log
    assert first["requests"] == 3
    assert first["bytes"] == SIZE + 100 + len(b"The specified blob does not exist.")
    assert first["not_found"] == 1
    assert first["by_status"] == {200: 1, 206: 1, 404: 1}
    assert first["by_method"] == {"GET": 3}
    assert after_reset == {"requests": 0, "bytes": 0, "not_found": 0, "by_status": {}, "by_method": {}}
    assert log_after_reset == []


# -- shaping -----------------------------------------------------------------------------


def test_delay_is_added_once_per_request(blob_root):
    with BlobServer(blob_root, delay_s=0.5) as server:
        started = time.monotonic()
        get(server.url, "/scenes/a.bin")
        one = time.monotonic() - started
        started = time.monotonic()
        get(server.url, "/_control/stats")  # control requests are never shaped
        control = time.monotonic() - started
    assert 0.5 <= one < 1.2
    assert control < 0.4


def test_bandwidth_is_one_cap_shared_by_parallel_downloads(tmp_path):
    size = 200_000
    (tmp_path / "big.bin").write_bytes(bytes(size))
    bps = 8_000_000  # 1 MB/s: two 200 kB downloads together need 0.4 s, each alone 0.2 s
    durations: list[float] = []

    with BlobServer(tmp_path, bandwidth_bps=bps) as server:

        def download() -> None:
            started = time.monotonic()
            assert len(get(server.url, "/big.bin", timeout=10).body) == size
            durations.append(time.monotonic() - started)

        started = time.monotonic()
        threads = [threading.Thread(target=download) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        total = time.monotonic() - started
    expected = 2 * size * 8 / bps
    assert len(durations) == 2
    assert expected * 0.9 <= total <= expected * 1.5
    # Shared, not per connection: each download took about as long as both together.
    assert min(durations) >= expected * 0.75


# -- faults ------------------------------------------------------------------------------


def test_status_fault_fires_k_times_then_serves(blob_root):
    with BlobServer(blob_root) as server:
        rule = server.inject(faults.status(503, "/scenes/*", times=2))
        statuses = [get(server.url, "/scenes/a.bin").status for _ in range(4)]
        other = get(server.url, "/scenes/missing.bin").status
    assert statuses == [503, 503, 200, 200]
    assert other == 404  # the rule was spent
    assert (rule.fired, rule.seen) == (2, 2)


def test_nth_request_and_retry_after(blob_root):
    with BlobServer(blob_root) as server:
        server.inject(faults.status(429, "*.bin", nth=2, retry_after=3))
        answers = [get(server.url, "/scenes/a.bin") for _ in range(3)]
        log = server.log
    assert [a.status for a in answers] == [200, 429, 200]
    assert answers[1].getheader("Retry-After") == "3"
    assert [entry.fault for entry in log] == [None, "status", None]
    assert log[0].t <= log[1].t <= log[2].t


def test_fault_matches_method_and_path_only(blob_root):
    with BlobServer(blob_root) as server:
        server.inject(faults.status(500, "/scenes/a.bin", method="HEAD", times=None))
        assert get(server.url, "/scenes/a.bin").status == 200
        assert get(server.url, "/scenes/a.bin", method="HEAD").status == 500
        assert get(server.url, "/scenes/a.bin", method="HEAD").status == 500


def _raw_get(url: str, path: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=5)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    return sock


def test_reset_sends_part_of_the_body_then_rst(blob_root):
    with BlobServer(blob_root) as server:
        server.inject(faults.reset("/scenes/a.bin", keep_bytes=100))
        sock = _raw_get(server.url, "/scenes/a.bin")
        received = b""
        with pytest.raises(ConnectionResetError):
            for _ in range(100):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received += chunk
                time.sleep(0.02)  # let the RST arrive
        sock.close()
        after = get(server.url, "/scenes/a.bin")
        stats = server.stats()
    assert after.status == 200 and len(after.body) == SIZE
    assert stats["bytes"] == 100 + SIZE


def test_truncate_announces_the_full_length_and_sends_less(blob_root, data):
    with BlobServer(blob_root) as server:
        server.inject(faults.truncate("/scenes/a.bin", keep_bytes=300))
        sock = _raw_get(server.url, "/scenes/a.bin")
        received = b""
        while chunk := sock.recv(65536):  # a clean close: recv returns b""
            received += chunk
        sock.close()
    head, _, body = received.partition(b"\r\n\r\n")
    assert f"Content-Length: {SIZE}".encode() in head
    assert body == data[:300]


def test_stall_outlasts_a_client_timeout_and_ends_when_the_server_stops(blob_root):
    server = BlobServer(blob_root).start()
    server.inject(faults.stall(30, "/scenes/a.bin"))
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        get(server.url, "/scenes/a.bin", timeout=0.3)
    assert time.monotonic() - started < 2
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 2


def test_malformed_answers_200_json_that_does_not_parse(blob_root):
    with BlobServer(blob_root) as server:
        server.inject(faults.malformed("/scenes/a.bin"))
        response = get(server.url, "/scenes/a.bin")
    assert response.status == 200 and response.getheader("Content-Type") == "application/json"
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.body)


def test_expired_signature_is_403_until_signed_with_a_valid_one(blob_root):
    with BlobServer(blob_root) as server:
        server.valid_signatures = {"fresh"}
        expired = get(server.url, "/scenes/a.bin?se=x&sig=old")
        fresh = get(server.url, "/scenes/a.bin?se=x&sig=fresh")
        unsigned = get(server.url, "/scenes/a.bin")
        server.require_signature = True
        unsigned_required = get(server.url, "/scenes/a.bin")
    assert expired.status == 403 and b"<Code>AuthenticationFailed</Code>" in expired.body
    assert (fresh.status, unsigned.status, unsigned_required.status) == (200, 200, 403)


def test_unknown_fault_kind_is_refused():
    with pytest.raises(ValueError, match="unknown fault kind"):
        faults.Fault("explode")


# -- as its own process (the benchmark's server) -----------------------------------------


def test_command_line_server_prints_its_url_and_has_control_endpoints(blob_root, data, tmp_path):
    routes = tmp_path / "routes.json"
    routes.write_text(json.dumps({"r/LC08_QA_PIXEL.TIF": str(blob_root / "scenes" / "a.bin")}))
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.servers.blob", "--root", str(blob_root), "--port", "0",
         "--delay-ms", "1", "--mbps", "1000", "--routes", str(routes)],
        cwd=REPO, stdout=subprocess.PIPE, text=True,
    )
    try:
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert get(url, "/r/LC08_QA_PIXEL.TIF").body == data
        assert get(url, "/scenes/a.bin", {"Range": "bytes=0-9"}).body == data[:10]
        stats = json.loads(get(url, "/_control/stats").body)
        assert stats["requests"] == 2 and stats["bytes"] == SIZE + 10
        assert stats["by_status"] == {"200": 1, "206": 1}  # JSON keys are strings
        assert get(url, "/_control/reset", method="POST").status == 200
        assert json.loads(get(url, "/_control/stats").body)["requests"] == 0
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0


# -- the STAC fault proxy ----------------------------------------------------------------


def _items(n: int) -> list[dict]:
    """n point-like items one day apart, each with an asset under a placeholder host."""
    items = []
    for i in range(n):
        x = 10.0 + i * 0.01
        items.append({
            "type": "Feature", "stac_version": "1.0.0", "id": f"item-{i}", "collection": "c",
            "geometry": {"type": "Polygon", "coordinates": [[[x, 45], [x + 0.1, 45], [x + 0.1, 45.1], [x, 45.1], [x, 45]]]},
            "bbox": [x, 45, x + 0.1, 45.1],
            "properties": {"datetime": f"2024-05-{i + 1:02d}T10:00:00Z"},
            "links": [],
            "assets": {"qa_pixel": {"href": f"http://placeholder.invalid/item-{i}.TIF"}},
        })
    return items


@pytest.fixture(scope="module")
def stac_upstream():
    with running_stac_api(_items(5)) as url:
        yield url


def _follow_pages(url: str, limit: int = 2) -> list[dict]:
    """A paged POST search done by hand with requests, following `next` links."""
    pages = []
    answer = requests.post(f"{url}/search", json={"collections": ["c"], "limit": limit}, timeout=5)
    while True:
        answer.raise_for_status()
        page = answer.json()
        pages.append(page)
        nxt = next((link for link in page["links"] if link["rel"] == "next"), None)
        if nxt is None or not page["features"]:
            return pages
        assert nxt["href"].startswith(url)  # paging comes back through whoever answered
        answer = requests.request(nxt.get("method", "GET"), nxt["href"], json=nxt.get("body"), timeout=5)


def test_proxy_forwards_and_rewrites_links_so_every_page_comes_through_it(stac_upstream):
    direct = _follow_pages(stac_upstream)
    with StacFaultProxy(stac_upstream, rewrite={"http://placeholder.invalid": "http://blob.example"}) as proxy:
        landing = json.loads(get(proxy.url, "/").body)
        through = _follow_pages(proxy.url)
        searches = proxy.requests_to("/search")
    assert {link["href"] for link in landing["links"] if link["rel"] == "search"} == {proxy.url + "/search"}
    ids = lambda pages: [f["id"] for p in pages for f in p["features"]]  # noqa: E731
    assert ids(through) == ids(direct) and len(set(ids(direct))) == 5
    assert len(through) == len(direct) >= 3 and len(searches) == len(through)
    hrefs = {f["assets"]["qa_pixel"]["href"] for p in through for f in p["features"]}
    assert hrefs == {f"http://blob.example/item-{i}.TIF" for i in range(5)}


def test_proxy_fails_the_second_page_only(stac_upstream):
    with StacFaultProxy(stac_upstream) as proxy:
        rule = proxy.inject(faults.status(502, "/search", when=carries_page_token))
        with pytest.raises(requests.HTTPError, match="502"):
            _follow_pages(proxy.url)
        statuses = [entry.status for entry in proxy.requests_to("/search")]
        again = _follow_pages(proxy.url)  # the rule fired once: now every page comes back
    assert statuses == [200, 502]
    assert rule.fired == 1 and sum(len(p["features"]) for p in again) == 5


def test_proxy_malformed_search_and_dead_upstream():
    with StacFaultProxy(f"http://127.0.0.1:{free_port()}") as proxy:
        dead = get(proxy.url, "/search")
        proxy.inject(faults.malformed("/search"))
        broken = get(proxy.url, "/search")
    assert dead.status == 502 and b"upstream failed" in dead.body
    assert broken.status == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(broken.body)


def test_many_connections_at_once_are_all_answered_without_a_syn_retransmission(blob_root, data):
    # 32 clients connecting together: with a small listen backlog some SYNs are dropped and
    # those clients wait a 1 s retransmission before they are even heard.
    with BlobServer(blob_root) as server:
        host, port = server.url.removeprefix("http://").split(":")
        barrier = threading.Barrier(32)
        waits: list[float] = []

        def connect() -> None:
            barrier.wait()
            started = time.monotonic()
            with socket.create_connection((host, int(port)), timeout=5) as sock:
                sock.sendall(b"GET /scenes/a.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                while sock.recv(65536):
                    pass
            waits.append(time.monotonic() - started)

        threads = [threading.Thread(target=connect) for _ in range(32)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        stats = server.stats()
    assert len(waits) == 32 and stats["requests"] == 32
    assert max(waits) < 0.9  # no one waited out a SYN retransmission (1 s)
