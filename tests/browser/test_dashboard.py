"""The dashboard in a real Chromium: draw an area, click a date, compare, share the link, stay offline.

The tests follow one user's journey and run in file order: the rectangle drawn in the first
sets the area the second clicks a date in, and the third opens the second's URL in a fresh
browser context. Each step leaves a screenshot in test-artifacts/browser/.
"""

from __future__ import annotations

import io
import math
import re
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from PIL import Image

from cloudcore.demo import DEMO_EXAMPLE_BBOX

from .conftest import TILE_HOSTS

expect = pytest.importorskip("playwright.sync_api", reason="playwright (python) is not installed").expect

MAP = 'iframe[title="streamlit_folium.st_folium"]'
DEMO_BBOX = ",".join(f"{v:.5f}" for v in DEMO_EXAMPLE_BBOX)
FIRST_LOAD_MS = 150_000  # a cold cache generates the demo record (~15 s), then ~180 dates are measured
RUN_MS = 90_000  # any later rerun (cached searches, one area measured, one date filled)
COMPARE_LABELS = ("Masked", "Filled from other dates", "Still unfilled")
CAPTIONS = ("As observed", "Cloud-masked", "Gap-filled", "Where each pixel came from")

journey: dict = {}  # what one test hands the next (the drawn bbox, the picked date, URLs, numbers)


@pytest.fixture(scope="module")
def app_page(fresh_context):
    return fresh_context().new_page()


# --- helpers -------------------------------------------------------------------------------------

def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def shot(page, artifacts, name: str) -> None:
    page.screenshot(path=str(artifacts / f"{name}.png"))


def wait_idle(page, timeout: int = RUN_MS) -> None:
    """Until Streamlit has finished its runs: no 'running' widget and no stale (greyed) element for 0.75 s."""
    page.evaluate("() => { window.__idleSince = null; }")
    page.wait_for_function(
        """() => {
            const busy = document.querySelector('[data-testid="stStatusWidget"], [data-stale="true"], [data-testid="stSkeleton"]');
            const now = performance.now();
            if (busy) { window.__idleSince = null; return false; }
            if (window.__idleSince === null) window.__idleSince = now;
            return now - window.__idleSince > 750;
        }""",
        timeout=timeout, polling=100,
    )


def no_exception(page) -> None:
    errors = page.locator('[data-testid="stException"]')
    assert errors.count() == 0, "the page shows an exception:\n" + "\n---\n".join(errors.all_inner_texts())


def metric(page, label: str):
    """The value element of the metric whose label starts with `label`."""
    box = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]', has_text=re.compile("^" + re.escape(label))))
    return box.locator('[data-testid="stMetricValue"]')


def selectbox(page, label: str):
    """The text box of the select box whose label starts with `label` (its value is the choice shown)."""
    return page.get_by_role("combobox", name=re.compile("^" + re.escape(label)))


def traces(page) -> list[dict]:
    """The timeline's scatter traces as drawn: name, the dates and values behind them, and the marks in the SVG."""
    return page.evaluate(
        """() => {
            const gd = document.querySelector('.js-plotly-plot');
            return [...gd.querySelectorAll('.scatterlayer .trace')].map(tr => {
                const trace = tr.__data__[0].trace;
                const marks = [...tr.querySelectorAll('.point')].map(p => {
                    const r = p.getBoundingClientRect();
                    return [r.x + r.width / 2, r.y + r.height / 2];
                });
                return {name: trace.name, x: trace.x, y: trace.y, marks: marks};
            });
        }"""
    )


def percent(text: str) -> float:
    return float(text.strip().rstrip("%").strip())


def bbox_area_km2(w: float, s: float, e: float, n: float) -> float:
    return (e - w) * 111.32 * math.cos(math.radians((s + n) / 2)) * (n - s) * 110.57


def image_pixels(locator) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(locator.screenshot())).convert("RGB"), dtype=float)


# --- the journey ---------------------------------------------------------------------------------

def test_drawing_a_rectangle_sets_the_area_and_charts_one_mark_per_date(app_page, app_url, artifacts):
    page = app_page
    page.goto(f"{app_url}/?source=demo")
    map_frame = page.frame_locator(MAP)
    expect(map_frame.locator(".leaflet-draw-draw-rectangle")).to_be_visible(timeout=FIRST_LOAD_MS)
    expect(metric(page, "Dates under")).to_be_visible(timeout=FIRST_LOAD_MS)
    wait_idle(page)
    no_exception(page)
    shot(page, artifacts, "1-explore-demo")
    assert query(page.url).get("bbox") == DEMO_BBOX, page.url
    area_before = metric(page, "Area of interest").inner_text()

    # A rectangle in the middle of the map: inside the example area, so the demo still covers it.
    box = page.locator(MAP).bounding_box()
    x0, y0 = box["width"] * 0.38, box["height"] * 0.36
    x1, y1 = box["width"] * 0.58, box["height"] * 0.62
    frame = page.locator(MAP).element_handle().content_frame()
    corners = frame.evaluate(
        """([x0, y0, x1, y1]) => {
            const map = window.map;  // streamlit-folium's Leaflet map (filling the frame at 0,0)
            if (!(map instanceof L.Map)) return null;
            const a = map.containerPointToLatLng([x0, y0]), b = map.containerPointToLatLng([x1, y1]);
            const c = map.containerPointToLatLng([x0 + 1, y0 + 1]);
            return {w: a.lng, n: a.lat, e: b.lng, s: b.lat, px_lng: c.lng - a.lng, px_lat: a.lat - c.lat};
        }""",
        [x0, y0, x1, y1],
    )
    assert corners, "no Leaflet map found in the st_folium frame"
    map_frame.locator(".leaflet-draw-draw-rectangle").click()
    page.mouse.move(box["x"] + x0, box["y"] + y0)
    page.mouse.down()
    page.mouse.move(box["x"] + (x0 + x1) / 2, box["y"] + (y0 + y1) / 2, steps=5)
    page.mouse.move(box["x"] + x1, box["y"] + y1, steps=5)
    shot(page, artifacts, "2-drawing-rectangle")
    page.mouse.up()

    page.wait_for_url(lambda url: query(url).get("bbox") not in (None, DEMO_BBOX), timeout=RUN_MS)
    w, s, e, n = (float(v) for v in query(page.url)["bbox"].split(","))
    # Within two screen pixels of the drawn corners (plus the URL's rounding).
    tol_lng, tol_lat = 2 * abs(corners["px_lng"]) + 1e-4, 2 * abs(corners["px_lat"]) + 1e-4
    for got, want, tol in ((w, corners["w"], tol_lng), (e, corners["e"], tol_lng),
                           (s, corners["s"], tol_lat), (n, corners["n"], tol_lat)):
        assert abs(got - want) <= tol, f"bbox {w},{s},{e},{n} is not the drawn rectangle {corners}"

    expect(metric(page, "Area of interest")).not_to_have_text(area_before, timeout=RUN_MS)
    expect(metric(page, "Dates under")).to_be_visible(timeout=RUN_MS)
    wait_idle(page)
    no_exception(page)
    shot(page, artifacts, "3-explore-drawn-area")
    after = tuple(float(v) for v in query(page.url)["bbox"].split(","))
    assert after == (w, s, e, n), "the URL's bbox changed after the rerun"
    area = float(metric(page, "Area of interest").inner_text().split()[0].replace(",", ""))
    assert area == pytest.approx(bbox_area_km2(w, s, e, n), rel=0.03)

    # One mark per measured date: the AOI marks (a trace per platform) match the metric's "N of M".
    label = page.locator('[data-testid="stMetricLabel"]', has_text="Dates under").inner_text()
    threshold = float(re.search(r"Dates under ([\d.]+) %", label).group(1))
    clear, total = (int(v) for v in metric(page, "Dates under").inner_text().split(" of "))
    drawn = traces(page)
    aoi = [t for t in drawn if t["name"].startswith("landsat")]
    assert aoi, f"no platform traces on the chart: {[t['name'] for t in drawn]}"
    for t in aoi:
        assert len(t["marks"]) == len(t["x"]), f"{t['name']}: {len(t['marks'])} marks for {len(t['x'])} dates"
    assert sum(len(t["marks"]) for t in aoi) == total > 0
    assert sum(1 for t in aoi for y in t["y"] if y < threshold) == clear
    scene = [t for t in drawn if t["name"].startswith("scene-wide")]
    assert scene and len(scene[0]["marks"]) == total, "one scene-wide mark per date"

    journey.update(bbox=query(page.url)["bbox"], dates_under=f"{clear} of {total}")


def test_clicking_a_date_selects_it_and_compare_shows_its_fill(app_page, app_url, artifacts):
    page = app_page
    if "bbox" not in journey:  # run alone: start from the demo's example area
        page.goto(f"{app_url}/?source=demo")
        expect(metric(page, "Dates under")).to_be_visible(timeout=FIRST_LOAD_MS)
        wait_idle(page)
    bbox = query(page.url)["bbox"]

    # A partly cloudy date (so there is something to fill), the mark farthest from any other date's.
    drawn = traces(page)
    everything = [(x, y, date) for t in drawn for (x, y), date in zip(t["marks"], t["x"])]
    candidates = [(x, y, date) for t in drawn if t["name"].startswith("landsat")
                  for (x, y), date, value in zip(t["marks"], t["x"], t["y"]) if 15 <= value <= 85]
    assert candidates, "no partly cloudy date on the chart"

    def room(mark):
        return min((math.dist(mark[:2], other[:2]) for other in everything if other[2] != mark[2]), default=1e9)

    x, y, date = max(candidates, key=room)
    date = date[:10]
    page.mouse.move(x, y)
    page.mouse.click(x, y)
    page.wait_for_url(lambda url: query(url).get("date") == date, timeout=RUN_MS)
    expect(selectbox(page, "Selected date")).to_have_value(re.compile("^" + date), timeout=RUN_MS)
    wait_idle(page)
    no_exception(page)
    assert query(page.url)["bbox"] == bbox
    expect(selectbox(page, "Selected date")).to_have_value(re.compile("^" + date))
    shot(page, artifacts, "4-date-selected")
    journey.update(date=date, explore_url=page.url, dates_under=metric(page, "Dates under").inner_text())

    compare = page.get_by_role("button", name=f"Compare {date}")
    assert compare.get_attribute("kind") == "primary", "Compare is the page's primary action"
    compare.click()
    page.wait_for_url(re.compile(r"/compare\?"), timeout=RUN_MS)
    expect(metric(page, "Still unfilled")).to_be_visible(timeout=RUN_MS)
    wait_idle(page)
    no_exception(page)
    assert query(page.url).get("date") == date and query(page.url).get("bbox") == bbox, page.url
    expect(selectbox(page, "Date")).to_have_value(re.compile("^" + date + r" · L\d .* % obscured"))

    images = page.locator('.st-key-pictures [data-testid="stImage"]')
    expect(images).to_have_count(4)
    for i, caption in enumerate(CAPTIONS):
        expect(images.nth(i)).to_contain_text(caption)
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=stImage] img')].every(i => i.complete && i.naturalWidth > 0)",
        timeout=RUN_MS)
    expect(page.get_by_text(f"{date} (this date)")).to_be_visible()
    shot(page, artifacts, "5-compare")

    values = {label: percent(metric(page, label).inner_text()) for label in COMPARE_LABELS}
    assert 0 < values["Masked"] <= 100
    assert values["Filled from other dates"] + values["Still unfilled"] == pytest.approx(values["Masked"], abs=0.15)

    pixels = {}
    for i, caption in enumerate(CAPTIONS):
        img = images.nth(i).locator("img")
        img.screenshot(path=str(artifacts / f"5-image-{i + 1}-{caption.split()[0].lower()}.png"))
        pixels[caption] = image_pixels(img)
        assert pixels[caption].std() > 5, f"'{caption}' looks blank (pixel std {pixels[caption].std():.1f})"
    # Masking blanks part of the picture and filling paints it back: the three must differ.
    observed, masked, filled = (pixels[c] for c in CAPTIONS[:3])
    if observed.shape == masked.shape == filled.shape:
        assert np.abs(observed - masked).mean() > 1, "the cloud-masked image is the observed one"
        if values["Filled from other dates"] > 1:
            assert np.abs(filled - masked).mean() > 1, "the gap-filled image is the masked one"
    legend = page.locator('[data-testid="stMarkdownContainer"] span[style*="background"]')
    assert legend.count() >= (2 if values["Filled from other dates"] > 0 else 1), "the provenance legend lists the donor dates"

    journey.update(compare_url=page.url, compare=values)


def test_a_shared_link_opens_the_same_view_in_a_fresh_session(fresh_context, artifacts):
    if "compare_url" not in journey:
        pytest.skip("needs the URL the previous test reached")
    date = journey["date"]

    page = fresh_context().new_page()
    page.goto(journey["compare_url"])
    expect(metric(page, "Still unfilled")).to_be_visible(timeout=FIRST_LOAD_MS)
    wait_idle(page)
    no_exception(page)
    shot(page, artifacts, "6-shared-compare")
    expect(selectbox(page, "Date")).to_have_value(re.compile("^" + date))
    assert query(page.url).get("date") == date
    values = {label: percent(metric(page, label).inner_text()) for label in COMPARE_LABELS}
    assert values == journey["compare"]

    page = fresh_context().new_page()
    page.goto(journey["explore_url"])
    expect(metric(page, "Dates under")).to_be_visible(timeout=FIRST_LOAD_MS)
    wait_idle(page)
    no_exception(page)
    shot(page, artifacts, "7-shared-explore")
    expect(selectbox(page, "Selected date")).to_have_value(re.compile("^" + date))
    assert metric(page, "Dates under").inner_text() == journey["dates_under"]
    assert query(page.url) == query(journey["explore_url"])


def test_the_pages_ask_nothing_of_the_internet_but_basemap_tiles(fresh_context, request_log, app_url, artifacts):
    """Every request of every test's pages and frames goes to loopback, or to a basemap tile host."""
    page = fresh_context().new_page()
    page.goto(f"{app_url}/?source=demo")
    expect(metric(page, "Dates under")).to_be_visible(timeout=FIRST_LOAD_MS)
    wait_idle(page)
    clearest = metric(page, "Clearest date").inner_text().strip()
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="Compare").click()
    page.wait_for_url(re.compile(r"/compare\?"), timeout=RUN_MS)
    picker = selectbox(page, "Date")
    expect(picker).to_be_visible(timeout=RUN_MS)
    picker.click()
    picker.fill(clearest)  # the list is virtual: type to reach the date
    page.get_by_role("option", name=re.compile("^" + clearest)).click()
    page.wait_for_url(lambda url: query(url).get("date") == clearest, timeout=RUN_MS)
    expect(metric(page, "Still unfilled")).to_be_visible(timeout=RUN_MS)
    # The swipe map: the two sides of the swipe, and nothing to draw on a map where drawing does nothing.
    expect(page.frame_locator(MAP).locator("img.leaflet-image-layer")).to_have_count(2, timeout=RUN_MS)
    expect(page.frame_locator(MAP).locator(".leaflet-draw")).to_have_count(0)
    wait_idle(page)
    no_exception(page)
    shot(page, artifacts, "8-compare-from-sidebar")

    from_map = [url for url, frame_url in request_log.requests if "streamlit_folium" in frame_url]
    assert from_map, "the map frame's requests were not recorded"
    outside = request_log.outside()
    assert not outside, (f"requests beyond loopback and the tile hosts {sorted(TILE_HOSTS)}:\n"
                         + "\n".join(f"{url} (from {frame})" for url, frame in outside[:20]))
    assert not request_log.page_errors, "uncaught errors in the page:\n" + "\n".join(request_log.page_errors)
