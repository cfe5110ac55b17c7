"""When a page is done: the moment it first showed what the user asked for and stayed quiet.

Timing a click needs the instant the chart (or picture) became visible, not the instant a poll
noticed it after a quiet period, so the page itself records when the wanted state began and
Python reads that timestamp (epoch ms, the same clock as `time.time()`).
"""

from __future__ import annotations

QUIET_MS = 750
"""The wanted state must hold this long with no run in progress: Streamlit reruns in bursts."""

# Resolves to {"at": epoch ms the state began} once it has held QUIET_MS, or {"error": text}
# at once when the page shows an exception (no point waiting for a chart then).
_PREDICATE = """
([want, quietMs]) => {
    const ex = document.querySelector('[data-testid="stException"]');
    if (ex) return {error: 'exception: ' + ex.innerText.slice(0, 500)};
    const busy = document.querySelector('[data-testid="stStatusWidget"], [data-stale="true"], [data-testid="stSkeleton"]');
    const q = new URLSearchParams(location.search);
    const sameBbox = (text) => {
        const a = (q.get('bbox') || '').split(',').map(Number), b = text.split(',').map(Number);
        return a.length === 4 && a.every((v, i) => Math.abs(v - b[i]) < 1e-6);
    };
    const combo = (label) => [...document.querySelectorAll('[role="combobox"]')]
        .find(c => (c.getAttribute('aria-label') || '').startsWith(label));
    let ok = !busy;
    if (ok && want.page === 'explore') {
        ok = !location.pathname.endsWith('/compare')
            && !!document.querySelector('.js-plotly-plot .scatterlayer .trace .point')
            && [...document.querySelectorAll('[data-testid="stMetricLabel"]')].some(m => m.innerText.startsWith('Dates under'));
        if (ok && want.date) {
            const box = combo('Selected date');
            ok = q.get('date') === want.date && !!box && box.value.startsWith(want.date);
        }
    }
    if (ok && want.page === 'compare') {
        const imgs = [...document.querySelectorAll('.st-key-pictures [data-testid="stImage"] img')];
        const box = combo('Date');
        ok = location.pathname.endsWith('/compare') && q.get('date') === want.date && !!box && box.value.startsWith(want.date)
            && imgs.length >= 4 && imgs.every(i => i.complete && i.naturalWidth > 0)
            && [...document.querySelectorAll('[data-testid="stMetricLabel"]')].some(m => m.innerText.startsWith('Still unfilled'));
    }
    if (ok && want.bbox) ok = sameBbox(want.bbox);
    const now = performance.now();
    if (!ok) { window.__readySince = null; return false; }
    if (window.__readySince == null) window.__readySince = now;
    return now - window.__readySince >= quietMs ? {at: performance.timeOrigin + window.__readySince} : false;
}
"""


class PageFault(Exception):
    """The page showed something a user should never see."""


async def ready_at(page, timeout_ms: float, *, page_kind: str, date: str | None = None, bbox: str | None = None) -> float:
    """Epoch seconds at which the page started showing the wanted view (waits for it to settle)."""
    await page.evaluate("() => { window.__readySince = null; }")
    handle = await page.wait_for_function(
        _PREDICATE, arg=[{"page": page_kind, "date": date, "bbox": bbox}, QUIET_MS], timeout=timeout_ms, polling=100,
    )
    result = await handle.json_value()
    if "error" in result:
        raise PageFault(result["error"])
    return result["at"] / 1000.0


async def alerts(page) -> list[str]:
    """Error and warning boxes on the page: the load test's searches never deserve one."""
    return await page.evaluate(
        """() => [...document.querySelectorAll('[data-testid="stAlertContentError"], [data-testid="stAlertContentWarning"]')]
                 .map(a => a.innerText.slice(0, 300))"""
    )
