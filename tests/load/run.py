"""Load test: N concurrent browser users on the demo source for a while; timings, errors, server memory.

    python -m tests.load.run --sessions 10 --seconds 120

Starts `streamlit run app.py` on a free loopback port, one Chromium with a context per user
(each its own Streamlit session), and samples the server's RSS, CPU time and health-check
answer time every second. Prints a summary
table and writes it with every sample to test-artifacts/load/latest.json. Exits 1 when any
action failed or the page logged an error, 2 when it could not start at all.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from cloudcore.settings import Settings, SettingsError
from tests.browser.launch import CHROMIUM_ARGS, REPO, TILE_HOSTS, DashboardDidNotStart, find_chromium, start_dashboard

from .choices import AOIS, PERIODS, THRESHOLDS, Search
from .ready import ready_at
from .server_probe import ServerSampler
from .summary import machine, summarise, table
from .user import ACTION_TIMEOUT_MS, VIEWPORT, Action, User, UserLog

OUT = REPO / "test-artifacts" / "load" / "latest.json"
STAGGER_S = 2.0
"""Users arrive this far apart, as people do (all ten are on within 20 s), not as one burst of page loads."""


def _blank_tile() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGBA", (1, 1), (0, 0, 0, 0)).save(buf, format="PNG")
    return buf.getvalue()


async def _warm_up(browser, url: str, fake_tile) -> float:
    """One untimed visit to the example area: the server's first run imports the map and chart
    libraries and measures that area, which no user after the first would wait for."""
    context = await browser.new_context(viewport=VIEWPORT, reduced_motion="reduce")
    await context.route(lambda u: (urlsplit(u).hostname or "") in TILE_HOSTS, fake_tile)
    page = await context.new_page()
    search = Search(AOIS[0], *PERIODS[0], THRESHOLDS[0])
    started = time.time()
    await page.goto(search.url(url))
    at = await ready_at(page, ACTION_TIMEOUT_MS, page_kind="explore", bbox=search.bbox)
    await context.close()
    return at - started


async def _drive(url: str, chromium: str, sessions: int, seconds: float, think_s: float, seed: int,
                 warm_up: bool, shots: Path) -> tuple[list, float | None]:
    from playwright.async_api import async_playwright

    tile = _blank_tile()

    async def fake_tile(route):
        # Basemap tiles come from the internet, which this test neither has nor measures.
        await route.fulfill(status=200, content_type="image/png", body=tile)

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            try:
                warmup_s = await _warm_up(browser, url, fake_tile) if warm_up else None
            except Exception as err:  # the server cannot show its first page: no point sending users
                failed = UserLog(-1)
                failed.actions.append(Action(-1, "warm-up", "chart", time.time(), error=f"{type(err).__name__}: {err}"[:2000]))
                return [failed], None
            until = time.monotonic() + seconds
            contexts, users = [], []
            for number in range(sessions):
                context = await browser.new_context(viewport=VIEWPORT, reduced_motion="reduce")
                await context.route(lambda u: (urlsplit(u).hostname or "") in TILE_HOSTS, fake_tile)
                contexts.append(context)
                users.append(User(number, context, url, seed, think_s, shots))

            async def start(user: User):
                await asyncio.sleep(user.number * STAGGER_S)
                return await user.run(until)

            logs = await asyncio.gather(*(start(u) for u in users))
            for context in contexts:
                await context.close()
            return list(logs), warmup_s
        finally:
            await browser.close()


def server_settings(env: dict[str, str]) -> Settings:
    """The dashboard's settings: this environment with `env` on top, as start_dashboard gives it.

    Raises:
        SettingsError: a CLOUDCORE_* variable the server would refuse (the message names it).
    """
    return Settings.from_env(os.environ | env)


def run_load(sessions: int, seconds: float, *, think_s: float = 1.0, seed: int = 1, out: Path = OUT,
             demo_cache: Path | None = None, cache_mb: str | None = None, warm_up: bool = True) -> dict:
    """Run the load test and return its summary (also written to `out`)."""
    chromium = find_chromium()
    if chromium is None:
        raise DashboardDidNotStart("chromium not found on PATH (or at $CHROMIUM): apt-get install -y chromium")
    env = {"CLOUDCORE_UI_CACHE_MB": cache_mb} if cache_mb else {}
    # The settings the server will start with (it refuses bad ones with one error box, which
    # would fail every action): refused here instead, before anything starts.
    settings = server_settings(env)
    if demo_cache is None:
        demo_cache = settings.cache_dir  # $CLOUDCORE_CACHE_DIR, else ~/.cache/cloudcore
    # Generate the demo record here, before the clock starts: a first visit would otherwise spend
    # its first 15 s on it and every user would wait on that, which is not what is measured.
    # (start_dashboard gives the server the same folder as its CLOUDCORE_CACHE_DIR.)
    from cloudcore.demo import ensure_demo_catalog

    ensure_demo_catalog(demo_cache)
    out.parent.mkdir(parents=True, exist_ok=True)
    shots = out.parent / "failures"
    for old in shots.glob("user*.png"):  # screenshots of an earlier run's failures
        old.unlink()
    dashboard = start_dashboard(demo_cache, out.parent / "server.log", env)
    before = machine()
    try:
        started = time.monotonic()
        with ServerSampler(dashboard.proc.pid, dashboard.url) as probe:
            logs, warmup_s = asyncio.run(_drive(dashboard.url, chromium, sessions, seconds, think_s, seed, warm_up,
                                                shots))
        elapsed = time.monotonic() - started - (warmup_s or 0.0)
    finally:
        dashboard.stop()
    configured = f"{settings.ui_cache_mb:g}"
    summary = summarise(logs, probe.samples, sessions=sessions, seconds=seconds, elapsed_s=elapsed,
                        cache_mb=configured, machine_before=before, warmup_s=warmup_s)
    summary["actions_log"] = [vars(a) for log in logs for a in log.actions]
    out.write_text(json.dumps(summary, indent=2))
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.load.run", description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10, help="concurrent browser users (default 10)")
    parser.add_argument("--seconds", type=float, default=120, help="how long users keep starting actions (default 120)")
    parser.add_argument("--think", type=float, default=1.0, help="mean pause between a user's actions, s (default 1)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the users' choices (default 1)")
    parser.add_argument("--out", type=Path, default=OUT, help=f"summary JSON (default {OUT.relative_to(REPO)})")
    parser.add_argument("--demo-cache", type=Path, default=None,
                        help="CLOUDCORE_CACHE_DIR for the server (default: $CLOUDCORE_CACHE_DIR, else ~/.cache/cloudcore)")
    parser.add_argument("--cache-mb", default=None, help="CLOUDCORE_UI_CACHE_MB for the server (default: the app's)")
    parser.add_argument("--no-warm-up", dest="warm_up", action="store_false",
                        help="let the first user meet a cold server (default: one untimed visit first)")
    args = parser.parse_args(argv)
    if args.sessions < 1 or args.seconds <= 0:
        parser.error("--sessions must be at least 1 and --seconds positive")
    try:
        summary = run_load(args.sessions, args.seconds, think_s=args.think, seed=args.seed, out=args.out,
                           demo_cache=args.demo_cache, cache_mb=args.cache_mb, warm_up=args.warm_up)
    except (DashboardDidNotStart, SettingsError) as err:
        print(err, file=sys.stderr)
        return 2
    print(table(summary))
    print(f"(written to {args.out})")
    return 0 if summary["errors"] == 0 and summary["actions"] > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
