"""One demo record per test session, for the tests that need real reads but not a fresh cache.

    from tests.demo_record import demo_settings   # a fixture: Settings whose cache holds the demo

Generating the demo takes about 15 s; the tests that share it pay once. The folder is the one the
dashboard's headless and browser tests use too (the session's base temp folder's demo-cache), and
a fixed path: a session fixture imported into several modules is set up once per module, and each
set-up then finds the record made.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cloudcore.demo import ensure_demo_catalog
from cloudcore.settings import Settings

DEMO_AOI = (-89.4443, 43.0377, -89.3555, 43.1025)
"""The demo's example area (cloudcore.DEMO_EXAMPLE_BBOX)."""


@pytest.fixture(scope="session")
def demo_cache_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.getbasetemp() / "demo-cache"
    ensure_demo_catalog(root)  # at once when made (the lock makes a second maker wait for the first)
    return root


@pytest.fixture
def demo_settings(demo_cache_root: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings whose cache folder holds the demo record; the environment says the same, so a
    call given no settings finds it too."""
    monkeypatch.setenv("CLOUDCORE_CACHE_DIR", str(demo_cache_root))
    return Settings(cache_dir=demo_cache_root)
