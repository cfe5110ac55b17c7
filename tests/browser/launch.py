"""Start the dashboard and find Chromium: shared by the browser tests and the load test.

Plain functions with no pytest in them, so `python -m tests.load.run` can use them too.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
# Hosts the page may ask besides the app itself: only the map's basemap tiles (leafmap's default
# basemap is OpenStreetMap; its tiles never load offline, and that is fine).
TILE_HOSTS = frozenset({"tile.openstreetmap.org", "a.tile.openstreetmap.org", "b.tile.openstreetmap.org",
                        "c.tile.openstreetmap.org"})
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
SERVER_START_S = 60


def find_chromium() -> str | None:
    """The system Chromium (`apt-get install chromium`): $CHROMIUM if set, else the first on PATH."""
    explicit = os.environ.get("CHROMIUM")
    if explicit:
        return explicit if os.path.exists(explicit) else None
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no server log)"


class DashboardDidNotStart(RuntimeError):
    pass


@dataclass
class Dashboard:
    """A running `streamlit run app.py` on loopback."""

    url: str
    proc: subprocess.Popen
    log_path: Path

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


def start_dashboard(demo_cache: Path, log_path: Path, env: dict[str, str] | None = None) -> Dashboard:
    """Serve app.py on a free 127.0.0.1 port and wait until it answers its health check.

    `demo_cache` becomes CLOUDCORE_CACHE_DIR, so callers sharing it generate the demo record once.
    """
    port = free_port()
    full_env = os.environ | {"CLOUDCORE_CACHE_DIR": str(demo_cache), "PYTHONUNBUFFERED": "1"} | (env or {})
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.address", "127.0.0.1",
             "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            cwd=REPO, env=full_env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        )
    dashboard = Dashboard(f"http://127.0.0.1:{port}", proc, log_path)
    deadline = time.monotonic() + SERVER_START_S
    while True:
        if proc.poll() is not None:
            raise DashboardDidNotStart(f"streamlit exited with {proc.returncode} before answering:\n{tail(log_path)}")
        try:
            with urllib.request.urlopen(f"{dashboard.url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return dashboard
        except OSError:
            pass
        if time.monotonic() > deadline:
            dashboard.stop()
            raise DashboardDidNotStart(f"streamlit did not answer /_stcore/health within {SERVER_START_S} s:\n{tail(log_path)}")
        time.sleep(0.25)
