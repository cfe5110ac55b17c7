"""Real-browser fixtures: the dashboard on a loopback port, Debian's Chromium, and a request log.

Chromium is the system one (`apt-get install chromium`, found on PATH or at $CHROMIUM);
`playwright install` is never needed. Without it the browser tests skip and say why.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from .launch import CHROMIUM_ARGS, LOOPBACK_HOSTS, REPO, TILE_HOSTS, DashboardDidNotStart, find_chromium, start_dashboard

__all__ = ["TILE_HOSTS"]  # test_dashboard.py takes it from here

ARTIFACTS = REPO / "test-artifacts" / "browser"


@pytest.fixture(scope="session")
def dashboard(tmp_path_factory):
    """The dashboard served by `streamlit run app.py` on a free 127.0.0.1 port, for the whole session."""
    # The same demo cache as the AppTest smoke tests, so the synthetic record is generated once per run.
    cache = tmp_path_factory.getbasetemp() / "demo-cache"
    log_path = tmp_path_factory.mktemp("streamlit") / "server.log"
    try:
        dashboard = start_dashboard(cache, log_path)
    except DashboardDidNotStart as err:
        pytest.fail(str(err))
    try:
        yield dashboard
    finally:
        dashboard.stop()


@pytest.fixture(scope="session")
def app_url(dashboard) -> str:
    return dashboard.url


@pytest.fixture(scope="session")
def server_log(dashboard) -> Path:
    """What the dashboard's server printed (stdout and stderr)."""
    return dashboard.log_path


@pytest.fixture(scope="session")
def chromium_browser():
    """Debian's Chromium driven by Playwright (skips when either is missing)."""
    executable = find_chromium()
    if executable is None:
        pytest.skip("chromium not found on PATH (or at $CHROMIUM): install Debian's chromium (`apt-get install -y chromium`) to run the browser tests")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (python) is not installed: pip install playwright")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
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

    def make(width: int = 1400, height: int = 2200):
        context = chromium_browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
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
