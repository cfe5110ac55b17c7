"""Real-browser fixtures: the dashboard on a loopback port, Debian's Chromium, and a request log.

Chromium is the system one (/usr/bin/chromium, `apt-get install chromium`); `playwright install`
is never needed. Without it the browser tests skip and say why.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
ARTIFACTS = REPO / "test-artifacts" / "browser"
# Hosts the page may ask besides the app itself: only the map's basemap tiles (leafmap's default
# basemap is OpenStreetMap; its tiles never load offline, and that is fine).
TILE_HOSTS = frozenset({"tile.openstreetmap.org", "a.tile.openstreetmap.org", "b.tile.openstreetmap.org",
                        "c.tile.openstreetmap.org"})
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
SERVER_START_S = 60


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no server log)"


@pytest.fixture(scope="session")
def app_url(tmp_path_factory) -> str:
    """The dashboard served by `streamlit run app.py` on a free 127.0.0.1 port, for the whole session."""
    port = _free_port()
    # The same demo cache as the AppTest smoke tests, so the synthetic record is generated once per run.
    cache = tmp_path_factory.getbasetemp() / "demo-cache"
    log_path = tmp_path_factory.mktemp("streamlit") / "server.log"
    env = os.environ | {"CLOUDCORE_CACHE_DIR": str(cache), "PYTHONUNBUFFERED": "1"}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.address", "127.0.0.1",
             "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited with {proc.returncode} before answering:\n{_tail(log_path)}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit did not answer /_stcore/health within {SERVER_START_S} s:\n{_tail(log_path)}")
            time.sleep(0.25)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="session")
def chromium_browser():
    """Debian's Chromium driven by Playwright (skips when either is missing)."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium (`apt-get install -y chromium`) to run the browser tests")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (python) is not installed: pip install playwright")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class RequestLog:
    """Every request any page, frame or worker of the watched contexts made, and every uncaught page error."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []  # (url, the frame's url or "")
        self.page_errors: list[str] = []

    def watch(self, context) -> None:
        context.on("request", self._on_request)
        context.on("weberror", lambda error: self.page_errors.append(str(error.error)))

    def _on_request(self, request) -> None:
        try:
            frame_url = request.frame.url
        except Exception:  # service-worker requests have no frame
            frame_url = ""
        self.requests.append((request.url, frame_url))

    def outside(self) -> list[tuple[str, str]]:
        """Requests to anything but loopback and the basemap tile hosts."""
        bad = []
        for url, frame_url in self.requests:
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob", "about"):
                continue
            host = (parts.hostname or "").lower()
            if host in LOOPBACK_HOSTS or host.startswith("127.") or host in TILE_HOSTS:
                continue
            bad.append((url, frame_url))
        return bad


@pytest.fixture(scope="session")
def request_log() -> RequestLog:
    return RequestLog()


@pytest.fixture(scope="session")
def fresh_context(chromium_browser, request_log):
    """A factory of fresh browser contexts (each a new Streamlit session), all watched by the request log."""
    contexts = []

    def make():
        context = chromium_browser.new_context(viewport={"width": 1400, "height": 2200})
        context.set_default_timeout(30_000)
        request_log.watch(context)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
