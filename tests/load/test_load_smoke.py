"""A short load run in the normal suite: two browser users for 20 s, no errors, a sensible summary.

The full run (10 users, two minutes) is `make load`; this one checks the command still works
and that two sessions at once stay clean. It runs the command as a user would, in its own
process, on the demo cache the other dashboard tests share.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

from tests.browser.launch import REPO, find_chromium

SESSIONS, SECONDS = 2, 20


@pytest.fixture(scope="module")
def summary(tmp_path_factory) -> dict:
    if find_chromium() is None:
        pytest.skip("chromium not found on PATH (or at $CHROMIUM): install Debian's chromium (`apt-get install -y chromium`) to run the load test")
    if importlib.util.find_spec("playwright") is None:
        pytest.skip("playwright (python) is not installed: pip install playwright")
    out = tmp_path_factory.mktemp("load") / "summary.json"
    cache = tmp_path_factory.getbasetemp() / "demo-cache"
    done = subprocess.run(
        [sys.executable, "-m", "tests.load.run", "--sessions", str(SESSIONS), "--seconds", str(SECONDS),
         "--out", str(out), "--demo-cache", str(cache)],
        cwd=REPO, capture_output=True, text=True, timeout=240,
    )
    assert out.exists(), f"no summary written (exit {done.returncode}):\n{done.stdout}\n{done.stderr[-3000:]}"
    result = json.loads(out.read_text())
    result["_exit"], result["_stdout"] = done.returncode, done.stdout
    return result


def test_two_sessions_at_once_see_no_error(summary):
    assert summary["errors"] == 0, "\n".join(summary["error_samples"])
    assert summary["_exit"] == 0
    assert "click-to-chart" in summary["_stdout"], "the summary table is printed"


def test_the_summary_holds_sensible_numbers(summary):
    assert summary["sessions"] == SESSIONS and summary["seconds"] == SECONDS
    assert summary["elapsed_s"] >= SECONDS
    assert summary["actions"] >= SESSIONS  # every user at least opened its search
    chart = summary["click_to_chart"]
    assert chart["n"] >= SESSIONS
    assert 0 < chart["p50_s"] <= chart["p95_s"] <= chart["max_s"] < 120
    fill = summary["click_to_fill"]
    if fill["n"]:
        assert 0 < fill["p50_s"] <= fill["p95_s"] <= fill["max_s"] < 120
    srv = summary["server"]
    assert 0 < srv["rss_start_mb"] <= srv["rss_peak_mb"] and srv["rss_end_mb"] <= srv["rss_peak_mb"]
    assert len(srv["samples"]) >= SECONDS // 2, "the server is sampled about once a second"
    assert srv["cpu_s_users"] > 0 and srv["health"]["n"] > 0
    assert all(a["error"] is None and a["seconds"] > 0 for a in summary["actions_log"])
