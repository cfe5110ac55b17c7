"""Shared test fixtures: where the real reference data lives, a private cache, and a network guard."""

from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# The suite never writes into the user's ~/.cache: a run without CLOUDCORE_CACHE_DIR gets a folder
# of its own (inherited by the CLI and dashboard processes the tests start).
if not os.environ.get("CLOUDCORE_CACHE_DIR"):
    os.environ["CLOUDCORE_CACHE_DIR"] = tempfile.mkdtemp(prefix="cloudcore-test-cache-")
REAL_DATA = Path(os.environ.get("CLOUDCORE_REAL_DATA", REPO.parent / "shared" / "data" / "real"))


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The folder of real recorded responses and rasters (beside the checkout)."""
    if not REAL_DATA.is_dir():
        pytest.skip(f"real reference data not found at {REAL_DATA} (set CLOUDCORE_REAL_DATA to its folder)")
    return REAL_DATA


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch):
    """Unit tests never reach past 127.0.0.1: any other connection fails loudly."""
    real_connect = socket.socket.connect

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and host not in ("127.0.0.1", "localhost", "::1") and not host.startswith("127."):
            raise OSError(f"test tried to reach {host}: tests may only use loopback")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
