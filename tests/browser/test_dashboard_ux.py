"""The dashboard as an analyst meets it, at 1440 and 800 px: no dead ends, no request forgery from a
link, a compare view that compares, every date reachable, honest costs, a legend that scales, a
first run that leads somewhere, downloads that carry their metadata, and a layout that holds.

Every test leaves screenshots in test-artifacts/browser/ (named ux-<item>-<what>-<width>.png).
"""

from __future__ import annotations

import csv
import http.server
import io
import re
import threading
import zipfile
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pytest
import rasterio

from .test_dashboard import (
    DEMO_BBOX,
    FIRST_LOAD_MS,
    MAP,
    RUN_MS,
    metric,
    no_exception,
    query,
    selectbox,
    traces,
    wait_idle,
)

expect = pytest.importorskip("playwright.sync_api", reason="playwright (python) is not installed").expect

BBOX_BOX = "bbox minlon,minlat,maxlon,maxlat (Enter applies it)"
OVERSIZED = "-100,30,-80,45"  # about 2.9 million km²: far over any dashboard's limit
WIDTHS = (1440, 800)


def open_view(fresh_context, url: str, width: int = 1440, height: int = 1800, ready: str | None = "Dates under"):
    page = fresh_context(width, height).new_page()
    page.goto(url)
    if ready:
        expect(metric(page, ready)).to_be_visible(timeout=FIRST_LOAD_MS)
    wait_idle(page)
    no_exception(page)
    return page


def shot(page, artifacts: Path, name: str) -> None:
    width = page.viewport_size["width"]
    page.screenshot(path=str(artifacts / f"ux-{name}-{width}.png"), full_page=True)


def partly_cloudy_date(page) -> str:
    """A date of the Explore chart with 20-80 % of the area obscured (something to fill, something kept)."""
    dates = sorted(date[:10] for t in traces(page) if t["name"].startswith("landsat")
                   for date, value in zip(t["x"], t["y"]) if 20 <= value <= 80)
    assert dates, "no partly cloudy date on the chart"
    return dates[len(dates) // 2]


@pytest.fixture(scope="module")
def demo_date(fresh_context, app_url) -> str:
    page = open_view(fresh_context, f"{app_url}/?source=demo")
    return partly_cloudy_date(page)


# --- 1. never a dead end -----------------------------------------------------------------------

@pytest.mark.parametrize("width", WIDTHS)
def test_a_bad_area_keeps_the_map_and_the_last_good_area_and_says_why(fresh_context, app_url, artifacts, width):
    page = open_view(fresh_context, f"{app_url}/?source=demo", width)
    good_url = page.url
    page.get_by_text("Type a bbox or upload GeoJSON").click()

    box = page.get_by_label(BBOX_BOX)
    box.fill("banana")
    box.press("Enter")  # Enter applies a typed bbox
    expect(page.get_by_text("That area was not used.")).to_be_visible(timeout=RUN_MS)
    wait_idle(page)
    no_exception(page)
    expect(page.locator(MAP)).to_be_visible()
    assert query(page.url)["bbox"] == DEMO_BBOX, "nothing invalid is written to the page address"
    shot(page, artifacts, "1-banana")

    box = page.get_by_label(BBOX_BOX)
    box.fill(OVERSIZED)
    box.press("Enter")
    expect(page.get_by_text("km² limit")).to_be_visible(timeout=RUN_MS)
    wait_idle(page)
    error = page.locator('[data-testid="stAlert"]').filter(has_text="That area was not used").inner_text()
    assert "CLOUDCORE_" not in error and "km2" not in error and "--" not in error, error
    assert query(page.url)["bbox"] == DEMO_BBOX
    refused = page.frame_locator(MAP).locator('path[stroke="#d00000"]')
    expect(refused).to_have_count(1, timeout=RUN_MS)  # the refused outline, dashed red
    expect(page.frame_locator(MAP).locator('path[stroke="#ff7800"]')).to_have_count(1)  # the kept area
    expect(metric(page, "Dates under")).to_be_visible()  # the page goes on with the last good area
    shot(page, artifacts, "1-oversized")

    page.get_by_role("button", name="Keep the last good area").click()
    expect(page.get_by_text("That area was not used.")).to_have_count(0, timeout=RUN_MS)
    expect(refused).to_have_count(0, timeout=RUN_MS)
    wait_idle(page)
    expect(page.get_by_label(BBOX_BOX)).to_have_value(DEMO_BBOX)
    assert query(page.url) == query(good_url)

    # A good bbox typed and entered becomes the area.
    box = page.get_by_label(BBOX_BOX)
    if not box.is_visible():
        page.get_by_text("Type a bbox or upload GeoJSON").click()
    box.fill("-89.43,43.05,-89.38,43.09")
    box.press("Enter")
    page.wait_for_url(lambda url: query(url).get("bbox") == "-89.43,43.05,-89.38,43.09", timeout=RUN_MS)


def test_a_link_with_an_unusable_area_opens_on_the_example_area_with_the_reason(fresh_context, app_url, artifacts):
    page = open_view(fresh_context, f"{app_url}/?source=demo&bbox={quote(OVERSIZED)}")
    assert query(page.url)["bbox"] == DEMO_BBOX
    expect(page.get_by_text("That area was not used.")).to_be_visible()
    expect(page.frame_locator(MAP).locator('path[stroke="#d00000"]')).to_have_count(1)
    shot(page, artifacts, "1-link-oversized")


# --- 2. no request forgery ---------------------------------------------------------------------

class _Counting(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 - the standard library's name
        type(self).hits.append(self.path)
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_link_naming_a_loopback_stac_api_is_refused_without_contacting_it(fresh_context, app_url, artifacts):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Counting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        for target in (f"http://127.0.0.1:{server.server_port}/", f"http://localhost:{server.server_port}/stac",
                       "http://169.254.169.254/latest/meta-data/", "http://0x7f000001/"):
            page = open_view(fresh_context, f"{app_url}/?source={quote(target, safe='')}", ready=None)
            expect(page.get_by_text("private or local network")).to_be_visible(timeout=RUN_MS)
            expect(page.get_by_role("button", name="Use the demo instead")).to_be_visible()
            no_exception(page)
        shot(page, artifacts, "2-loopback-refused")
        assert _Counting.hits == [], f"the server contacted the loopback API: {_Counting.hits}"
        page.get_by_role("button", name="Use the demo instead").click()
        expect(metric(page, "Dates under")).to_be_visible(timeout=FIRST_LOAD_MS)
        assert query(page.url)["source"] == "demo"
    finally:
        server.shutdown()


# --- 3. compare that compares ------------------------------------------------------------------

def _panes(page) -> dict:
    frame = page.locator(MAP).element_handle().content_frame()
    return frame.evaluate("""() => {
        const l = map.getPane('ccLeft'), r = map.getPane('ccRight');
        return {left: l.style.clip, right: r.style.clip, opacity: r.style.opacity || '1',
                line: document.querySelector('.cc-swipe-line').getBoundingClientRect().x};
    }""")


@pytest.mark.parametrize("width", WIDTHS)
def test_compare_swipes_on_one_map_with_opacity_and_steps_through_dates(fresh_context, app_url, artifacts, demo_date, width):
    page = open_view(fresh_context, f"{app_url}/compare?source=demo&date={demo_date}", width, ready="Still unfilled")
    picker = selectbox(page, "Date")
    expect(picker).to_have_value(re.compile(rf"^{demo_date} · L\d \d+\.\d % obscured"))
    map_frame = page.frame_locator(MAP)
    expect(map_frame.locator("img.leaflet-image-layer")).to_have_count(2)
    expect(map_frame.locator(".leaflet-draw")).to_have_count(0)
    expect(map_frame.get_by_text("As observed")).to_be_visible()
    expect(map_frame.get_by_text("Gap-filled")).to_be_visible()
    expect(page.get_by_text("How the gaps are filled")).to_be_visible()  # the method in one sentence
    expect(page.get_by_text("How sure each filled pixel is")).to_be_visible()
    uncertainty = page.locator('[data-testid="stImage"]').filter(has_text="Predicted error of each pixel")
    expect(uncertainty.locator("img")).to_be_visible()
    map_box = page.locator(MAP).bounding_box()
    assert map_box["width"] > 0.6 * (width - 300), "the swipe map takes the page's width"
    shot(page, artifacts, "3-compare-swipe")

    before = _panes(page)
    map_frame.locator("input.cc-swipe").fill("20")
    after = _panes(page)
    assert after["left"] != before["left"] and after["line"] < before["line"], (before, after)
    map_frame.locator("input.cc-opacity").fill("40")
    assert _panes(page)["opacity"] == "0.4"
    shot(page, artifacts, "3-compare-swiped")

    # Next: the following date, with one picker all along and the old images gone at once.
    page.get_by_role("button", name="Next ▶").click()
    page.wait_for_url(lambda url: query(url).get("date", "") > demo_date, timeout=RUN_MS)
    for _ in range(10):
        assert selectbox(page, "Date").count() == 1, "two Date pickers during the change"
        page.wait_for_timeout(50)
    wait_idle(page)
    nxt = query(page.url)["date"]
    expect(picker).to_have_value(re.compile("^" + nxt))
    expect(page.get_by_text(f"{nxt} · landsat")).to_be_visible()  # the caption names the new date
    page.get_by_role("button", name="◀ Previous").click()
    page.wait_for_url(lambda url: query(url).get("date") == demo_date, timeout=RUN_MS)
    wait_idle(page)
    no_exception(page)


# --- 4. every date reachable -------------------------------------------------------------------

def _strip(page) -> list[dict]:
    # Streamlit keeps a zero-size copy of a button with a tooltip (for measuring): only the shown ones count.
    return page.evaluate("""() => [...document.querySelectorAll('.st-key-filmstrip button')].map(b => {
        const r = b.getBoundingClientRect();
        return {text: b.innerText, kind: b.getAttribute('kind'), x: r.x, y: r.y, w: r.width, img: !!b.querySelector('img')};
    }).filter(b => b.w > 0)""")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_filmstrip_pages_through_every_date_and_a_picture_click_picks_it(fresh_context, app_url, artifacts, width):
    page = open_view(fresh_context, f"{app_url}/?source=demo&order=time", width, height=2400)
    total = int(metric(page, "Dates under").inner_text().split(" of ")[1])
    pager = page.locator(".st-key-strip_pager")
    expect(pager).to_contain_text(f"Dates 1–12 of {total}")
    first = _strip(page)
    assert len(first) == 12 and all(b["img"] for b in first)
    dates = [re.search(r"\d{4}-\d\d-\d\d", b["text"]).group(0) for b in first]
    # Reading order (top to bottom, left to right) is time order, however narrow the window.
    reading = sorted(first, key=lambda b: (round(b["y"]), b["x"]))
    assert [re.search(r"\d{4}-\d\d-\d\d", b["text"]).group(0) for b in reading] == sorted(dates)
    assert all("% obscured" in b["text"] for b in first)
    shot(page, artifacts, "4-filmstrip")

    page.get_by_role("button", name="Later page ▶").click()
    expect(pager).to_contain_text(f"Dates 13–24 of {total}", timeout=RUN_MS)
    wait_idle(page)
    second = _strip(page)
    later = [re.search(r"\d{4}-\d\d-\d\d", b["text"]).group(0) for b in second]
    assert min(later) > max(dates)

    target = page.locator(".st-key-filmstrip button").filter(visible=True).nth(2)
    target.locator("img").click()  # the picture itself
    page.wait_for_url(lambda url: query(url).get("date") == later[2], timeout=RUN_MS)
    wait_idle(page)
    expect(page.locator(".st-key-filmstrip button[kind=primary]").filter(visible=True)).to_contain_text(later[2])
    expect(pager).to_contain_text(f"Dates 13–24 of {total}")  # the strip stays where the user is
    shot(page, artifacts, "4-filmstrip-picked")


# --- 5. honest costs ---------------------------------------------------------------------------

def test_the_ml_mask_says_its_cost_first_and_disables_the_qa_controls(fresh_context, app_url, artifacts):
    page = open_view(fresh_context, f"{app_url}/?source=demo&mask=ml", ready=None)
    notice = page.get_by_text("The machine-learning mask runs a model on every date")
    expect(notice).to_be_visible(timeout=FIRST_LOAD_MS)
    text = notice.inner_text()
    assert re.search(r"\d+ of \d+ dates", text) and re.search(r"about \*?\*?\d", text.replace("**", "")), text
    page.locator('[data-testid="stSidebar"]').get_by_text("Mask", exact=True).click()
    flags = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]')
    expect(flags.locator("input")).to_be_disabled()
    expect(page.locator('[data-testid="stSidebar"]').get_by_text("apply to QA_PIXEL only")).to_be_visible()
    shot(page, artifacts, "5-ml-cost")
    page.get_by_role("button", name="Use QA_PIXEL instead").click()
    page.wait_for_url(lambda url: query(url).get("mask") == "qa", timeout=RUN_MS)
    expect(metric(page, "Dates under")).to_be_visible(timeout=RUN_MS)


def test_an_ml_run_shows_progress_and_stops_when_asked(fresh_context, app_url, artifacts):
    pytest.importorskip("ukis_csmask", reason="the ML mask needs ukis-csmask (pip install '.[ml]')")
    page = open_view(fresh_context, f"{app_url}/?source=demo&mask=ml&start=2022-03-01&end=2022-06-30", ready=None)
    notice = page.get_by_text("The machine-learning mask runs a model on every date")
    expect(notice).to_be_visible(timeout=FIRST_LOAD_MS)
    todo = int(re.search(r"(\d+) of \d+ dates", notice.inner_text()).group(1))
    page.get_by_role("button", name="Measure with the ML mask").click()
    progress = page.locator('[data-testid="stProgress"]')
    expect(progress).to_contain_text(re.compile(r"Measured [1-9]\d* of \d+ dates · about"), timeout=RUN_MS)
    shot(page, artifacts, "5-ml-progress")
    page.get_by_role("button", name=re.compile("^Stop measuring")).click()
    expect(notice).to_be_visible(timeout=RUN_MS)
    left = int(re.search(r"(\d+) of \d+ dates", notice.inner_text()).group(1))
    assert 0 < left < todo, f"{left} of {todo} dates left after stopping: what was measured is kept"


# --- 6. a legend that scales -------------------------------------------------------------------

def test_the_provenance_legend_stays_short_for_a_year_of_median_donors(fresh_context, app_url, artifacts, demo_date):
    page = open_view(fresh_context, f"{app_url}/compare?source=demo&date={demo_date}&method=median&window=365",
                     ready="Still unfilled")
    entries = page.locator('[data-testid="stMarkdownContainer"] span[style*="background"]')
    assert 1 <= entries.count() <= 6, f"{entries.count()} legend entries"
    expect(page.get_by_text(re.compile(r"days from \d{4}-\d\d-\d\d: −365"))).to_be_visible()
    next_top = page.get_by_text("How sure each filled pixel is").bounding_box()["y"]  # what follows the legend
    legend_top = page.get_by_text("Where each pixel came from:").bounding_box()["y"]
    assert next_top - legend_top < 400, "the legend pushes the page down"
    shot(page, artifacts, "6-legend-median-365")


# --- 7. first run ------------------------------------------------------------------------------

def test_a_first_visit_offline_leads_to_the_demo_in_one_click(fresh_context, app_url, artifacts):
    page = open_view(fresh_context, f"{app_url}/", ready=None)
    expect(page.get_by_text("how much of")).to_be_visible(timeout=RUN_MS)  # one line on what the tool does
    go = page.get_by_role("button", name="Explore the demo data")
    expect(go).to_be_visible(timeout=RUN_MS)  # Planetary Computer cannot be reached from the test machine
    assert go.get_attribute("kind") == "primary"
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert "--source" not in body and "CLOUDCORE_" not in body, body
    map_frame = page.frame_locator(MAP)
    note, tiles = map_frame.locator(".cc-basemap-note"), map_frame.locator("img.leaflet-tile-loaded")
    expect(note.or_(tiles.first)).to_be_visible(timeout=RUN_MS)  # grey only with a note saying why
    shot(page, artifacts, "7-first-run")
    go.click()
    expect(metric(page, "Dates under")).to_be_visible(timeout=FIRST_LOAD_MS)
    assert query(page.url)["source"] == "demo"


# --- 8. downloads people can use ---------------------------------------------------------------

def _download(page, button_name: str) -> tuple[str, bytes]:
    with page.expect_download(timeout=RUN_MS) as info:
        page.get_by_role("button", name=button_name).click()
    download = info.value
    return download.suggested_filename, Path(download.path()).read_bytes()


def test_compare_downloads_carry_their_tags_georeference_and_summary(fresh_context, app_url, artifacts, demo_date, tmp_path):
    page = open_view(fresh_context, f"{app_url}/compare?source=demo&date={demo_date}", ready="Still unfilled")
    downloads = page.get_by_role("button", name="Downloads")
    top = downloads.bounding_box()["y"]
    assert top < page.locator(MAP).bounding_box()["y"], "downloads sit above the map"
    downloads.click()
    shot(page, artifacts, "8-downloads")

    name, data = _download(page, "Gap-filled GeoTIFF (reflectance + provenance)")
    assert name.endswith(".tif") and demo_date in name
    (tmp_path / name).write_bytes(data)
    with rasterio.open(tmp_path / name) as tif:
        tags = tif.tags()
        assert tags["CLOUDCORE_DATE"] == demo_date and tags["CLOUDCORE_SOURCE"] == "demo"
        assert tags["CLOUDCORE_METHOD"] and tags["CLOUDCORE_MASK"].startswith("qa") and tags["CLOUDCORE_VERSION"]
        assert tif.descriptions == ("red", "green", "blue", "nir08", "swir16", "swir22", "provenance", "uncertainty")

    name, data = _download(page, "PNG with world file (.zip)")
    folder = tmp_path / "png"
    zipfile.ZipFile(io.BytesIO(data)).extractall(folder)
    png = next(folder.glob("*.png"))
    with rasterio.open(png) as image:
        assert image.crs is not None and image.crs.to_epsg() == 32616  # the demo's UTM zone
        assert image.width >= 500, "PNGs are made big enough to look at"
        assert np.asarray(image.read()).std() > 5

    name, data = _download(page, "Fill summary (CSV)")
    rows = list(csv.DictReader(io.StringIO(data.decode())))
    assert sum(float(r["share_of_area_pct"]) for r in rows) == pytest.approx(100, abs=0.05)
    assert {r["target_date"] for r in rows} == {demo_date}


def test_the_explore_csv_names_area_and_dates_and_carries_the_settings(fresh_context, app_url):
    page = open_view(fresh_context, f"{app_url}/?source=demo")
    name, data = _download(page, "Download the table (CSV)")
    assert re.fullmatch(r"cloud-cover_(-?\d+\.\d{3}_){4}2022-01-01_2023-12-31\.csv", name), name
    rows = list(csv.DictReader(io.StringIO(data.decode())))
    assert {"obscured_pct", "source", "mask", "flags", "aoi_bbox"} <= set(rows[0])
    total = int(metric(page, "Dates under").inner_text().split(" of ")[1])
    assert len(rows) == total and {r["source"] for r in rows} == {"demo"}


# --- 9. readable charts -------------------------------------------------------------------------

def test_the_chart_says_what_it_plots_and_its_colours_differ(fresh_context, app_url):
    page = open_view(fresh_context, f"{app_url}/?source=demo")
    layout = page.evaluate("""() => {
        const gd = document.querySelector('.js-plotly-plot');
        return {y: gd.layout.yaxis.title.text, traces: gd.data.map(t => ({name: t.name,
                colour: t.marker && t.marker.color, hover: t.hovertemplate || ''}))};
    }""")
    assert "area obscured" in layout["y"]
    platforms = [t for t in layout["traces"] if t["name"].startswith("landsat")]
    assert platforms and all("overlap" in t["hover"] for t in platforms)
    colours = [t["colour"] for t in layout["traces"] if isinstance(t["colour"], str)]
    assert len(colours) == len(set(colours)), f"two traces share a colour: {layout['traces']}"
    assert all(t["name"] for t in traces(page))


# --- 10. narrow screens and polish --------------------------------------------------------------

@pytest.mark.parametrize("width", WIDTHS)
def test_the_layout_holds_and_nothing_is_cut(fresh_context, app_url, artifacts, server_log, demo_date, width):
    for path, ready in ((f"/?source=demo&date={demo_date}", "Dates under"), (f"/compare?source=demo&date={demo_date}", "Still unfilled")):
        page = open_view(fresh_context, app_url + path, width, ready=ready)
        cut = page.evaluate("""() => [...document.querySelectorAll('[data-testid=stMetricValue] div, [data-testid=stDateInputField]')]
            .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.innerText || e.value)""")
        assert not cut, f"cut at {width} px: {cut}"
        sidebar = page.locator('[data-testid="stSidebar"]').bounding_box()
        assert sidebar["width"] <= (310 if width > 1000 else 250)
        assert page.get_by_text("Deploy", exact=True).count() == 0, "Streamlit's Deploy button is shown"
        images = page.locator('.st-key-pictures [data-testid="stImage"] img')
        if images.count():
            assert min(images.nth(i).bounding_box()["width"] for i in range(images.count())) >= 180
        shot(page, artifacts, f"10-{'compare' if 'compare' in path else 'explore'}")
    log = server_log.read_text(errors="replace")
    assert "ScriptRunContext" not in log, "the server printed missing-ScriptRunContext warnings"


# --- 11. a calendar of clear days, and the clear dates nearest a date of interest ----------------

def _calendar(page) -> dict | None:
    """The calendar as drawn: each day's date, hover, whether it has data, and its centre on the screen."""
    return page.evaluate("""() => {
        const gd = [...document.querySelectorAll('.js-plotly-plot')].find(g => (g.data || []).some(t => t.name === 'day'));
        if (!gd) return null;
        const day = gd.data.find(t => t.name === 'day'), fl = gd._fullLayout, box = gd.getBoundingClientRect();
        const at = i => [box.x + fl._size.l + fl.xaxis.l2p(day.x[i]), box.y + fl._size.t + fl.yaxis.l2p(day.y[i])];
        const cellAt = (x, y) => [box.x + fl._size.l + fl.xaxis.l2p(x), box.y + fl._size.t + fl.yaxis.l2p(y)];
        return {days: day.customdata.map((c, i) => ({date: c[0], hover: c[1], data: c[2], xy: at(i)})),
                outlines: (fl.shapes || []).map(s => ({colour: s.line.color, dash: s.line.dash,
                                                        xy: cellAt((s.x0 + s.x1) / 2, (s.y0 + s.y1) / 2)})),
                cell: [fl.xaxis._length / 54, Math.abs(fl.yaxis.l2p(1) - fl.yaxis.l2p(0))], height: box.height};
    }""")


def _colour_share(pixels: np.ndarray, hex_colour: str, tolerance: float = 12) -> float:
    target = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)], dtype=float)
    return float((np.abs(pixels - target).max(axis=2) <= tolerance).mean())


@pytest.mark.parametrize("width", (1440,))  # one width keeps the suite short; the layout test covers both
def test_the_calendar_shows_every_day_and_a_click_on_a_day_selects_it(fresh_context, app_url, artifacts, width):
    from PIL import Image

    from ui.calendar import CLEAREST, MOST_OBSCURED, NO_ACQUISITION, SELECTED_COLOUR

    page = open_view(fresh_context, f"{app_url}/?source=demo", width)
    # The choice between chart and calendar is a toggle above the chart, kept in the page address.
    page.locator('[data-testid="stButtonGroup"] button').filter(has_text="Calendar").click()
    page.wait_for_url(lambda url: query(url).get("plot") == "calendar", timeout=RUN_MS)
    expect(page.get_by_text("Click a day to select it.")).to_be_visible(timeout=RUN_MS)
    wait_idle(page)
    no_exception(page)
    plot = page.locator(".js-plotly-plot").first
    plot.scroll_into_view_if_needed()
    drawn = _calendar(page)
    assert drawn, "no calendar on the page"
    total = int(metric(page, "Dates under").inner_text().split(" of ")[1])
    assert len(drawn["days"]) == 730 and sum(d["data"] for d in drawn["days"]) == total  # the demo: one date a day
    cell_w, cell_h = drawn["cell"]
    assert cell_w >= 7 and cell_h >= 10, f"cells of {cell_w:.1f} x {cell_h:.1f} px at {width} px"
    # The picture holds the clearest green, the most obscured grey and pale days without data.
    pixels = np.asarray(Image.open(io.BytesIO(plot.screenshot())).convert("RGB"), dtype=float)
    for colour, least in ((CLEAREST, 0.002), (MOST_OBSCURED, 0.005), (NO_ACQUISITION, 0.05)):
        assert _colour_share(pixels, colour) >= least, f"{colour} covers {_colour_share(pixels, colour):.4f} of the calendar"
    shot(page, artifacts, "calendar")

    clear = [d for d in drawn["days"] if d["data"] and "clear (under" in d["hover"]]
    target = clear[len(clear) // 2]
    page.mouse.move(*target["xy"])
    expect(page.locator(".hoverlayer").get_by_text(target["date"])).to_be_visible()
    page.mouse.click(*target["xy"])
    page.wait_for_url(lambda url: query(url).get("date") == target["date"], timeout=RUN_MS)
    wait_idle(page)
    no_exception(page)
    expect(selectbox(page, "Selected date")).to_have_value(re.compile("^" + target["date"]))
    plot.scroll_into_view_if_needed()
    after = _calendar(page)
    (outline,) = [o for o in after["outlines"] if o["colour"] == SELECTED_COLOUR]
    (cell,) = [d for d in after["days"] if d["date"] == target["date"]]
    assert np.allclose(outline["xy"], cell["xy"], atol=1), "the selected day is outlined"
    shot(page, artifacts, "calendar-picked")

    # A day without an acquisition selects nothing.
    empty = next(d for d in after["days"] if not d["data"] and d["date"] > target["date"])
    page.mouse.click(*empty["xy"])
    page.wait_for_timeout(500)
    wait_idle(page)
    assert query(page.url)["date"] == target["date"]
    no_exception(page)


def _near_buttons(page) -> list[str]:
    return [b.inner_text() for b in page.locator(".st-key-near_list button").filter(visible=True).all()]


@pytest.mark.parametrize("width", (800,))  # one width keeps the suite short; the layout test covers both
def test_the_clear_dates_nearest_a_date_of_interest_are_listed_and_selectable(fresh_context, app_url, artifacts, width):
    from ui.charts import NEAR_COLOUR

    page = open_view(fresh_context, f"{app_url}/?source=demo&near=2022-06-01", width)
    expect(page.get_by_text("Clear dates closest to 2022-06-01")).to_be_visible()
    listed = _near_buttons(page)
    assert len(listed) == 5, listed
    distances = [int(re.search(r"(\d+) days? (before|after)", text).group(1)) for text in listed]
    assert distances == sorted(distances), listed
    assert all(re.search(r"Landsat \d · \d+\.\d % obscured", text) for text in listed), listed
    # The chart marks the date of interest with a dotted line.
    shapes = page.evaluate("() => document.querySelector('.js-plotly-plot')._fullLayout.shapes.map(s => [s.line.color, s.x0])")
    assert [NEAR_COLOUR.lower(), "2022-06-01"] in [[(c or "").lower(), str(x)[:10]] for c, x in shapes]
    page.locator(".st-key-near").scroll_into_view_if_needed()
    shot(page, artifacts, "near")

    second = re.search(r"\d{4}-\d\d-\d\d", listed[1]).group(0)
    page.locator(".st-key-near_list button").filter(visible=True).nth(1).click()
    page.wait_for_url(lambda url: query(url).get("date") == second, timeout=RUN_MS)
    wait_idle(page)
    expect(page.locator(".st-key-near_list button[kind=primary]").filter(visible=True)).to_contain_text(second)
    assert query(page.url)["near"] == "2022-06-01", "the date of interest stays in the link"

    if width == WIDTHS[0]:  # the date box and the clear button (once is enough)
        # Streamlit's date box is three segments (year, month, day): typing one moves on to the next,
        # and the date is sent when the box loses focus.
        page.get_by_role("spinbutton", name="year, Date of interest (optional)").click()
        page.keyboard.type("20230115")
        page.keyboard.press("Escape")
        page.get_by_role("heading", name="Cloud over your area, date by date").click()
        page.wait_for_url(lambda url: query(url).get("near") == "2023-01-15", timeout=RUN_MS)
        expect(page.get_by_text("Clear dates closest to 2023-01-15")).to_be_visible(timeout=RUN_MS)
        wait_idle(page)
        page.get_by_role("button", name="Clear the date of interest").click()
        page.wait_for_url(lambda url: "near" not in query(url), timeout=RUN_MS)
        expect(page.locator(".st-key-near_list")).to_have_count(0, timeout=RUN_MS)
    no_exception(page)


def test_a_date_of_interest_outside_the_dates_says_so_and_widens_them(fresh_context, app_url, artifacts):
    page = open_view(fresh_context, f"{app_url}/?source=demo&near=2021-06-01&plot=calendar")
    expect(page.get_by_text("is outside the dates shown")).to_be_visible()
    shot(page, artifacts, "near-outside")
    page.get_by_role("button", name=re.compile("^Widen the dates to")).click()
    page.wait_for_url(lambda url: query(url).get("start") == "2021-05-02", timeout=RUN_MS)
    expect(page.get_by_text("Clear dates closest to 2021-06-01")).to_be_visible(timeout=FIRST_LOAD_MS)
    wait_idle(page)
    no_exception(page)


# --- 13. the timelapse --------------------------------------------------------------------------

def _demo_cover_table(tmp_path_factory):
    """The demo's cover, measured here by the library itself (the same cache as the served dashboard)."""
    import cloudcore

    settings = cloudcore.Settings(cache_dir=tmp_path_factory.getbasetemp() / "demo-cache")
    return cloudcore.cover(DEMO_BBOX, cloudcore.DEMO_START, cloudcore.DEMO_END, source="demo", settings=settings)


@pytest.mark.parametrize("width", (800,))  # one width keeps the suite short; the layout test covers both
def test_the_timelapse_plays_in_the_page_with_a_frame_per_clear_date_and_downloads(
    fresh_context, app_url, artifacts, tmp_path_factory, width
):
    from PIL import Image

    threshold = 5
    table = _demo_cover_table(tmp_path_factory)
    expected = sorted(d.strftime("%Y-%m-%d") for d in table.index[table["obscured_pct"] <= threshold])
    page = open_view(fresh_context, f"{app_url}/timelapse?source=demo&thr={threshold}", width, ready=None)
    expect(page.get_by_text(f"{len(expected)} frames", exact=False).first).to_be_visible(timeout=FIRST_LOAD_MS)
    assert query(page.url)["fps"] == "3", "the speed is in the page address"
    page.get_by_role("button", name=f"Make the timelapse ({len(expected)} frames)").click()
    expect(page.get_by_role("button", name="Download the GIF")).to_be_visible(timeout=RUN_MS)
    wait_idle(page)
    no_exception(page)
    player = page.locator(".st-key-timelapse_player img")
    expect(player).to_be_visible()
    assert player.evaluate("img => img.naturalWidth") >= 256
    shot(page, artifacts, "timelapse")

    name, gif = _download(page, "Download the GIF")
    assert name.endswith(".gif") and "timelapse" in name
    with Image.open(io.BytesIO(gif)) as animation:
        assert animation.n_frames == len(expected), "one frame per date under the threshold"
        assert min(animation.size) >= 256
        pictures = []
        for index in (0, animation.n_frames - 1):
            animation.seek(index)
            pictures.append(np.asarray(animation.convert("RGB"), dtype=float))
        assert np.abs(pictures[0] - pictures[1]).mean() > 1, "the frames differ: the area changes through time"
    name, mp4 = _download(page, "Download the MP4")
    assert name.endswith(".mp4") and mp4[4:8] == b"ftyp"
    av = pytest.importorskip("av", reason="PyAV decodes the MP4")
    with av.open(io.BytesIO(mp4)) as container:
        assert sum(1 for _ in container.decode(video=0)) == len(expected)
    # The rows beside the player name exactly those dates.
    cells = page.locator(".stDataFrame").first
    expect(cells).to_be_visible()


def test_the_timelapse_stops_when_asked_and_when_the_user_leaves(fresh_context, app_url, artifacts):
    page = open_view(fresh_context, f"{app_url}/timelapse?source=demo&thr=100&filled=1", ready=None)
    make = page.get_by_role("button", name=re.compile(r"Make the timelapse \(\d+ frames\)"))
    expect(make).to_be_visible(timeout=FIRST_LOAD_MS)
    assert query(page.url)["filled"] == "1"
    make.click()
    expect(page.get_by_text(re.compile(r"Made \d+ of \d+ frames"))).to_be_visible(timeout=RUN_MS)
    shot(page, artifacts, "timelapse-progress")
    page.get_by_role("button", name="Stop").click()
    expect(make).to_be_visible(timeout=RUN_MS)
    expect(page.get_by_text(re.compile(r"Made \d+ of"))).to_have_count(0)
    # Leaving while frames are made ends the work; coming back offers Make again, not a restart.
    make.click()
    expect(page.get_by_text(re.compile(r"Made \d+ of \d+ frames"))).to_be_visible(timeout=RUN_MS)
    page.get_by_role("link", name="Explore").click()
    expect(metric(page, "Dates under")).to_be_visible(timeout=RUN_MS)
    page.get_by_role("link", name="Timelapse").click()
    expect(make).to_be_visible(timeout=RUN_MS)
    expect(page.get_by_role("button", name="Download the GIF")).to_have_count(0)
    no_exception(page)
