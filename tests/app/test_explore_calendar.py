"""Explore on the demo with the calendar and a date of interest, run headless (AppTest).

The expectations come from the page's own table of every date (its records, shown as they were
measured), recomputed here independently of ui.calendar and ui.near.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cloudcore.demo import DEMO_EXAMPLE_BBOX

APP = str(Path(__file__).resolve().parents[2] / "app.py")
BBOX = ",".join(f"{v:.5f}" for v in DEMO_EXAMPLE_BBOX)
NEAR = "2022-06-01"


@pytest.fixture(autouse=True)
def _private_demo_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("CLOUDCORE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "demo-cache"))


def _run(**params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    for key, value in {"source": "demo", "bbox": BBOX, **params}.items():
        at.query_params[key] = value
    return at.run()


def _param(at: AppTest, name: str):
    value = at.query_params.get(name)
    return value[0] if isinstance(value, list) else value


def _figure(at: AppTest) -> dict:
    (chart,) = at.get("plotly_chart")
    return json.loads(chart.proto.spec)


def _table(at: AppTest) -> list[dict]:
    return at.dataframe[0].value.to_dict("records")


def _obscured(row: dict) -> float | None:
    value = row.get("obscured_pct")
    return None if value is None or value != value else float(value)  # NaN: not measured


@pytest.fixture(scope="module")
def calendar_page():
    return _run(plot="calendar", near=NEAR, date="2022-03-10")


def test_the_calendar_shows_a_cell_for_each_day_and_colours_exactly_the_measured_dates(calendar_page):
    at = calendar_page
    assert not at.exception, at.exception
    assert _param(at, "plot") == "calendar" and _param(at, "near") == NEAR
    fig = _figure(at)
    traces = {t["name"]: t for t in fig["data"]}
    assert {"days", "obscured", "day"} <= set(traces), "the calendar is drawn, not the chart"
    day, heat = traces["day"], traces["obscured"]
    assert len(day["customdata"]) == 730  # 2022-01-01 .. 2023-12-31
    rows = _table(at)
    expected = {}
    for row in rows:
        if _obscured(row) is not None and not row.get("error"):
            expected[row["date"]] = min(expected.get(row["date"], 101.0), _obscured(row))
    colour = {}
    for x, y, (date, _hover, has_data) in zip(day["x"], day["y"], day["customdata"]):
        value = heat["z"][y][x]
        if value is not None:
            colour[date] = value
        assert has_data == (date in {r["date"] for r in rows}), date
    assert colour == pytest.approx(expected)
    assert len(colour) == len(rows) == 183
    # What the marks mean is said above the calendar.
    assert any("no acquisition" in c.value and "Click a day" in c.value for c in at.caption)


def test_the_near_list_names_the_five_clear_dates_closest_to_the_date_of_interest(calendar_page):
    at = calendar_page
    threshold = float(_param(at, "thr"))
    target = dt.date.fromisoformat(NEAR)
    clear = [r for r in _table(at) if _obscured(r) is not None and _obscured(r) < threshold and not r.get("error")]
    clear.sort(key=lambda r: (abs((dt.date.fromisoformat(r["date"]) - target).days), r["date"]))
    expected = [r["date"] for r in clear[:5]]
    assert len(expected) == 5
    listed = [b for b in at.button if b.key and b.key.startswith("near_20")]
    assert [b.key.split("_")[1] for b in listed] == expected
    for button, row in zip(listed, clear):
        days = (dt.date.fromisoformat(row["date"]) - target).days
        assert f"{abs(days)} day" in button.label and ("after" if days > 0 else "before") in button.label
        assert f"{_obscured(row):.1f} % obscured" in button.label
    assert any(f"Clear dates closest to {NEAR}" in m.value for m in at.markdown)
    # The date of interest is outlined on the calendar.
    assert any(s["line"]["dash"] == "dot" for s in _figure(at)["layout"]["shapes"])


def test_the_chart_marks_the_date_of_interest_and_the_list_marks_the_selected_date():
    # (Clicks on a page's widgets do not reach the page under AppTest with st.navigation: the browser
    # tests click; here the address says what was clicked.)
    at = _run(near=NEAR, date="2022-05-14")
    assert not at.exception, at.exception
    shapes = _figure(at)["layout"]["shapes"]
    assert any(s.get("line", {}).get("dash") == "dot" and s.get("x0") == NEAR for s in shapes)
    listed = {b.key.split("_")[1]: b for b in at.button if b.key and b.key.startswith("near_20")}
    assert listed["2022-05-14"].proto.type == "primary"
    assert all(b.proto.type == "secondary" for date, b in listed.items() if date != "2022-05-14")
    assert at.button(key="near_clear").label == "Clear the date of interest"


def test_a_near_outside_the_dates_shown_is_one_line_with_a_way_to_widen():
    at = _run(near="2021-06-01")
    assert not at.exception, at.exception
    lines = [i.value for i in at.info if "outside the dates shown" in i.value]
    assert len(lines) == 1 and "2021-06-01" in lines[0] and "\n" not in lines[0]
    assert not [b for b in at.button if b.key and b.key.startswith("near_20")]
    assert at.button(key="near_widen").label == "Widen the dates to 2021-05-02 – 2023-12-31"
    # Outside the range, the date of interest stretches neither the chart nor the calendar.
    assert not [s for s in _figure(at)["layout"]["shapes"] if s.get("line", {}).get("dash") == "dot"]


def test_a_malformed_near_is_one_note_and_the_page_goes_on():
    at = _run(near="2022-02-30", plot="pie")
    assert not at.exception, at.exception
    (note,) = [w.value for w in at.warning if w.value.startswith("Some settings in the page address")]
    assert "- near is not a date" in note and "- plot is none of chart, calendar" in note
    assert _param(at, "near") is None and _param(at, "plot") == "chart"
    assert any(m.label.startswith("Dates under") for m in at.metric)
