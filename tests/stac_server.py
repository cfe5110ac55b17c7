"""A real STAC API on loopback for tests: `rustac serve` over given item dicts.

    from tests.stac_server import running_stac_api

    with running_stac_api(items) as url:
        StacSource(url).search(...)

or, in a test module, `from tests.stac_server import stac_api_factory` and ask for the
`stac_api_factory` fixture: `url = stac_api_factory(items)`; servers stop at teardown.

Also small loopback helpers for failure tests: `fake_api` (answers from a function),
`silent_server` (accepts, never answers) and `outcome_within` (a hang guard).

rustac's memory backend honours collections, bbox, intersects and datetime; it does not
advertise the query extension and answers any POST `query` with zero items.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

import pytest

STARTUP_TIMEOUT_S = 20.0

# The recorded Planetary Computer responses used as a test catalogue (see ../shared/data/real).
L2_PAGES = (
    "pc-stac-pystac-client/landsat-c2-l2_items_2024-08-09_LC09_path089.json",
    "pc-stac-pystac-client/landsat-c2-l2_items_2025-07-17_LC09_path085.json",
    "pc-stac-pystac-client/landsat-c2-l2_items_2025-07-31_LC09_path084.json",
    "pc-stac-stac-geoparquet/landsat-c2-l2_items_limit1_response.json",
)
L2_LIST = "pc-stac-stac-geoparquet/landsat-c2-l2-pc.json"
L1_LIST = "pc-stac-stac-geoparquet/landsat-c2-l1-pc.json"


def rustac_executable() -> str | None:
    """The rustac CLI of this venv (beside the interpreter), else one on PATH."""
    beside = Path(sys.executable).with_name("rustac")
    return str(beside) if beside.exists() else shutil.which("rustac")


def load_recorded_items(real_data: Path, include_l1: bool = True) -> list[dict[str, Any]]:
    """The recorded PC items: 35 landsat-c2-l2 (+ 4 landsat-c2-l1 MSS when include_l1)."""
    items: list[dict[str, Any]] = []
    for name in L2_PAGES:
        items.extend(json.loads((real_data / name).read_text())["features"])
    items.extend(json.loads((real_data / L2_LIST).read_text()))
    if include_l1:
        items.extend(json.loads((real_data / L1_LIST).read_text()))
    return items


def free_port() -> int:
    """A port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_stac_api(
    items: Iterable[Mapping[str, Any]],
    collections: Iterable[Mapping[str, Any]] = (),
    workdir: Path | None = None,
) -> Iterator[str]:
    """Serve `items` (and optional collection dicts) with rustac; yield the API root URL.

    Collections missing from `collections` are created from the items' `collection` ids.
    Skips the test when rustac is not installed.
    """
    exe = rustac_executable()
    if exe is None:
        pytest.skip("rustac CLI not installed (pip install rustac)")
    with contextlib.ExitStack() as stack:
        folder = workdir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="stac-api-")))
        folder.mkdir(parents=True, exist_ok=True)
        hrefs = []
        for n, collection in enumerate(collections):
            path = folder / f"collection-{n}.json"
            path.write_text(json.dumps(collection))
            hrefs.append(str(path))
        ndjson = folder / "items.ndjson"
        ndjson.write_text("".join(json.dumps(item) + "\n" for item in items))
        hrefs.append(str(ndjson))
        port = free_port()
        log = stack.enter_context(open(folder / "rustac.log", "wb"))
        process = subprocess.Popen(
            [exe, "serve", "--create-collections", "--addr", f"127.0.0.1:{port}", *hrefs],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        stack.callback(_stop, process)
        url = f"http://127.0.0.1:{port}"
        _wait_until_serving(url, process, folder / "rustac.log")
        yield url


def _wait_until_serving(url: str, process: subprocess.Popen, log: Path) -> None:
    """Poll the landing page until it answers 200 (items load before the port opens)."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"rustac serve exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url + "/", timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.05)
    raise RuntimeError(f"rustac serve did not answer at {url} within {STARTUP_TIMEOUT_S:g} s: {log.read_text()[-2000:]}")


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


@pytest.fixture
def stac_api_factory(tmp_path: Path):
    """Start rustac servers for this test: `url = stac_api_factory(items, collections=())`."""
    with contextlib.ExitStack() as stack:
        count = iter(range(1_000))

        def start(items: Iterable[Mapping[str, Any]], collections: Iterable[Mapping[str, Any]] = ()) -> str:
            workdir = tmp_path / f"stac-api-{next(count)}"
            return stack.enter_context(running_stac_api(items, collections, workdir=workdir))

        yield start


# -- small loopback helpers for failure tests -------------------------------------------


def outcome_within(seconds: float, call: Callable[[], Any]) -> Any:
    """Run `call` in a thread; return its result or the exception it raised; fail if it hangs."""
    box_: dict[str, Any] = {}

    def run() -> None:
        try:
            box_["value"] = call()
        except Exception as err:  # the test inspects it
            box_["value"] = err

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"call did not return within {seconds:g} s"
    return box_["value"]


@contextlib.contextmanager
def silent_server(accepted: list[float] | None = None) -> Iterator[str]:
    """Accepts connections and never answers (a hung API); appends each accept's
    `time.monotonic()` to `accepted` when given."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except (socket.timeout, OSError):
                continue
            if accepted is not None:
                accepted.append(time.monotonic())
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(2)
        for conn in held:
            conn.close()
        listener.close()


class Recorder:
    """What a fake server was asked: method, path, headers and JSON body of each request."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []


@contextlib.contextmanager
def fake_api(respond: Callable[[str, str, dict], tuple[int, str, bytes, dict]]) -> Iterator[tuple[str, Recorder]]:
    """An HTTP server on 127.0.0.1 whose answers come from `respond(method, path, body)`."""
    recorder = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else {}
            recorder.requests.append({"method": method, "path": self.path, "headers": dict(self.headers), "body": body})
            status, ctype, payload, extra = respond(method, self.path, body)
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(payload)))
            for key, value in extra.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            self._answer("GET")

        def do_POST(self) -> None:
            self._answer("POST")

        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", recorder
    finally:
        server.shutdown()
        server.server_close()
