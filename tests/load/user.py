"""One simulated user: searches, clicks a date on the chart, opens Compare, goes back; again until time is up.

Each user has its own browser context (cookies, so its own Streamlit session) and a seeded
random choice of searches. Every action is timed from the click (or the address being opened)
to the moment the chart or the filled picture was visible; anything a user should not see is
recorded as an error with the action it happened in.
"""

from __future__ import annotations

import asyncio
import math
import random
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from .choices import DATE_PICKS, Search, bbox_text, other_aoi, pick_search
from .ready import PageFault, alerts, ready_at

VIEWPORT = {"width": 1280, "height": 1000}
"""A laptop screen. The users' browsers share the machine with the server, so they paint no more
than needed, and their contexts ask for reduced motion: spinners animated in software for ten
pages cost more CPU than the server's own work (measured with the browser CPU the summary shows)."""
ACTION_TIMEOUT_MS = 120_000
"""Longer than any action takes on a loaded 2-core machine; past it the page counts as not rendered."""


@dataclass
class Action:
    user: int
    kind: str
    """search (opened a link), retype (typed a bbox in the page), date (clicked a mark), compare, back;
    step: something between those broke (finding a mark, typing), which also counts as an error."""
    target: str
    """chart or fill: what the user waited for."""
    started: float
    seconds: float | None = None
    error: str | None = None
    what: str = ""
    """The bbox searched or the date clicked, to tell a cold search from a warm one afterwards."""


@dataclass
class UserLog:
    user: int
    actions: list[Action] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def _marks(page) -> list[tuple[float, float, str, float]]:
    """(x, y, date, obscured %) of every AOI mark on the timeline, in page pixels."""
    return await page.evaluate(
        """() => {
            const gd = document.querySelector('.js-plotly-plot');
            const out = [];
            for (const tr of gd.querySelectorAll('.scatterlayer .trace')) {
                const trace = tr.__data__[0].trace;
                if (!trace.name.startsWith('landsat')) continue;
                [...tr.querySelectorAll('.point')].forEach((p, i) => {
                    const r = p.getBoundingClientRect();
                    out.push([r.x + r.width / 2, r.y + r.height / 2, String(trace.x[i]).slice(0, 10), trace.y[i]]);
                });
            }
            return out;
        }"""
    )


def _pick_mark(marks, rng: random.Random, current: str | None):
    """One of the few roomiest partly cloudy marks (easy to hit, something to fill), not the current date."""
    partly = [m for m in marks if 15 <= m[3] <= 85 and m[2] != current] or [m for m in marks if m[2] != current]

    def room(mark):
        return min((math.dist(mark[:2], o[:2]) for o in marks if o[2] != mark[2]), default=1e9)

    roomy = sorted(partly, key=room, reverse=True)[:DATE_PICKS]
    return rng.choice(roomy) if roomy else None


class User:
    def __init__(self, number: int, context, base_url: str, seed: int, think_s: float, shots: Path | None = None):
        self.number = number
        self.shots = shots
        self.context = context
        self.base_url = base_url
        self.rng = random.Random(seed * 1000 + number)
        self.think_s = think_s
        self.log = UserLog(number)
        self.page = None

    async def _timed(self, kind: str, target: str, act, **want) -> bool:
        """Run `act` (a click or a goto), wait for the wanted view, record the time or the error."""
        action = Action(self.number, kind, target, started=time.time(), what=want.get("bbox") or want.get("date") or "")
        self.log.actions.append(action)
        try:
            await act()
            at = await ready_at(self.page, ACTION_TIMEOUT_MS, **want)
            action.seconds = max(at - action.started, 0.0)
            boxes = await alerts(self.page)
            if boxes:
                action.error = "alert: " + " | ".join(boxes)
        except PageFault as fault:
            action.error = str(fault)
        except Exception as err:  # a timeout or a closed page: the page did not render
            action.error = f"{type(err).__name__}: {str(err).splitlines()[0][:300]}"
        if action.error:
            await self._keep_evidence(action)
        return action.error is None

    async def _keep_evidence(self, action: Action) -> None:
        """Where the page was and what it showed when the action failed."""
        try:
            action.error += f" (at {self.page.url})"
            if self.shots is not None:
                self.shots.mkdir(parents=True, exist_ok=True)
                shot = self.shots / f"user{self.number}-action{len(self.log.actions)}-{action.kind}.png"
                await self.page.screenshot(path=str(shot), timeout=15_000)
        except Exception:
            pass  # evidence is a courtesy: the error itself is already recorded

    async def _think(self) -> None:
        await asyncio.sleep(self.think_s * self.rng.uniform(0.5, 1.5))

    async def _open(self, search: Search) -> bool:
        # Only until the server answers: the page is ready when the chart is, whatever the load event does.
        return await self._timed("search", "chart",
                                 lambda: self.page.goto(search.url(self.base_url), wait_until="commit", timeout=ACTION_TIMEOUT_MS),
                                 page_kind="explore", bbox=search.bbox)

    async def _retype(self, aoi) -> bool:
        """A new area typed into the Explore page's bbox box: a search within the same session."""
        page, text = self.page, bbox_text(aoi)
        box = page.get_by_label("bbox minlon,minlat,maxlon,maxlat")
        if not await box.is_visible():
            await page.get_by_text("Type a bbox or upload GeoJSON").click()
        await box.fill(text)

        async def use():
            await page.get_by_role("button", name="Use this bbox").click()

        return await self._timed("retype", "chart", use, page_kind="explore", bbox=text)

    async def _click_date(self) -> str | None:
        page = self.page
        await page.locator(".js-plotly-plot").first.scroll_into_view_if_needed()
        mark = _pick_mark(await _marks(page), self.rng, _query(page.url).get("date"))
        if mark is None:
            self.log.actions.append(Action(self.number, "date", "chart", time.time(), error="no mark on the chart"))
            return None
        x, y, date, _ = mark

        async def click():
            await page.mouse.move(x, y)
            await page.mouse.click(x, y)

        ok = await self._timed("date", "chart", click, page_kind="explore", date=date)
        return date if ok else None

    async def _compare(self, date: str) -> bool:
        button = self.page.get_by_role("button", name=f"Compare {date}")
        return await self._timed("compare", "fill", button.click, page_kind="compare", date=date)

    async def _back(self, date: str) -> bool:
        link = self.page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=re.compile("^Explore"))
        return await self._timed("back", "chart", link.click, page_kind="explore", date=date)

    async def run(self, until: float) -> UserLog:
        """Loop until the monotonic deadline; a failed step restarts the loop from a fresh link."""
        self.page = await self.context.new_page()
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda err: self.log.console_errors.append(f"pageerror: {err}"))
        loops, fresh = 0, True
        search = pick_search(self.rng)
        while time.monotonic() < until:
            try:
                search, fresh = await self._loop(search, fresh or loops % 3 == 0, until)
            except Exception as err:  # a step between the timed ones (finding a mark, typing) broke
                action = Action(self.number, "step", "chart", time.time(),
                                error=f"{type(err).__name__}: {str(err).splitlines()[0][:300]}")
                self.log.actions.append(action)
                await self._keep_evidence(action)
                fresh = True
            loops += 1
        return self.log

    async def _loop(self, search: Search, open_link: bool, until: float) -> tuple[Search, bool]:
        """One round: search, date, Compare, back. Returns the search and whether the next round
        should start from a fresh link (after a failure)."""
        if open_link:
            search = pick_search(self.rng)
            ok = await self._open(search)
        else:
            search = Search(other_aoi(self.rng, search.aoi), search.start, search.end, search.threshold)
            ok = await self._retype(search.aoi)
        await self._think()  # after a failure too, as a person would before trying again
        if not ok or time.monotonic() >= until:
            return search, not ok
        date = await self._click_date()
        if date is None or time.monotonic() >= until:
            return search, date is None
        await self._think()
        if not await self._compare(date):
            return search, True
        if time.monotonic() >= until:
            return search, False
        await self._think()
        ok = await self._back(date)
        await self._think()
        return search, not ok

    def _on_console(self, message) -> None:
        if message.type == "error":
            where = (message.location or {}).get("url", "")
            self.log.console_errors.append(f"{message.text[:300]} ({where})")
