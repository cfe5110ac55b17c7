"""The calendar of clear days, the page address's `near` and `plot`, and the clear dates nearest a date.

Every expectation is computed here from the records themselves (which day has a record, the
clearest per day, a brute-force nearest search), not by the code under test.
"""

from __future__ import annotations

import datetime as dt
import random

import pytest

from cloudcore import DateCover
from ui.calendar import (
    CLEAREST,
    MOST_OBSCURED,
    NO_ACQUISITION,
    ROW_PX_MIN,
    calendar,
    calendar_key,
    height_px,
    row_px,
)
from ui.charts import FAILED_COLOUR, NEAR_COLOUR, SELECTED_COLOUR, timeline
from ui.near import days_text, near_rows, outside_text, row_label, widened
from ui.url_params import settings_from_params

TODAY = dt.date(2025, 6, 1)
THRESHOLD = 20.0


def measured(date: str, obscured: float, platform: str = "landsat-8", valid: float = 100.0) -> DateCover:
    """A record whose obscured share is `obscured` (obscured = 100 - valid * clear / 100)."""
    clear = (100.0 - obscured) * 100.0 / valid
    return DateCover(date=date, platform=platform, scene_ids=[f"{platform}-{date}"], scene_cloud_pct=None,
                     valid_pct=valid, cloud_pct=100.0 - clear, shadow_pct=0.0, snow_pct=0.0, masked_pct=100.0 - clear,
                     clear_pct=clear, aoi_pixels=100)


def failed(date: str, platform: str = "landsat-9", error: str = "HTTP 503 <b>from</b> the store") -> DateCover:
    return DateCover(date=date, platform=platform, scene_ids=["x"], scene_cloud_pct=None, error=error)


RECORDS = [
    measured("2022-01-03", 0.0),  # a Monday: the first column of 2022 holds 2021-12-27..2022-01-02
    measured("2022-01-11", 55.5, "landsat-9"),
    measured("2022-02-20", 19.99),  # just under the threshold: clear
    measured("2022-02-28", 20.0),  # at the threshold: not clear
    measured("2022-03-08", 100.0),
    # One day, two platforms: coloured by the clearer, both in the hover.
    measured("2022-06-06", 72.25, "landsat-8"),
    measured("2022-06-06", 4.5, "landsat-9"),
    # One day, one failed and one measured: coloured by the measured; a day whose only record failed: ×.
    failed("2022-07-01"), measured("2022-07-01", 33.0, "landsat-8"),
    failed("2022-07-09"),
    measured("2023-12-31", 8.0),
]
START, END = dt.date(2022, 1, 1), dt.date(2023, 12, 31)


def cells(fig) -> dict[str, dict]:
    """Every day's cell as drawn: date -> {value (the colour heatmap's z), grid (the pale cell), data, hover, x, y}."""
    by_name = {t.name: t for t in fig.data}
    colours, grid, day = by_name["obscured"], by_name["days"], by_name["day"]
    out = {}
    for x, y, (date, hover, has_data) in zip(day.x, day.y, day.customdata):
        out[date] = {"value": colours.z[y][x], "grid": grid.z[y][x], "data": has_data, "hover": hover, "x": x, "y": y}
    return out


def rgb(colour: str) -> tuple[int, int, int]:
    colour = colour.lstrip("#")
    return int(colour[0:2], 16), int(colour[2:4], 16), int(colour[4:6], 16)


def colour_at(scale: list, value: float, zmax: float = 100.0) -> tuple[float, float, float]:
    """Plotly's linear interpolation of a colour scale at `value` (a step where two stops share a place)."""
    v = value / zmax
    for (p0, c0), (p1, c1) in zip(scale, scale[1:]):
        if p0 <= v <= p1 and p1 > p0:
            f = (v - p0) / (p1 - p0)
            return tuple(a + (b - a) * f for a, b in zip(rgb(c0), rgb(c1)))
    raise AssertionError(f"{value} is outside the scale")


def is_green(c) -> bool:
    r, g, b = c
    return g > r + 30 and g > b


def is_grey(c) -> bool:
    r, g, b = c
    return abs(r - g) < 20 and b >= g - 5 and b - r < 40


@pytest.fixture(scope="module")
def fig():
    return calendar(RECORDS, THRESHOLD, "2022-06-06", start=START, end=END, near="2022-05-30")


# --- the cells -------------------------------------------------------------------------------------

def test_every_day_of_the_range_has_one_cell_and_only_the_measured_days_are_coloured(fig):
    drawn = cells(fig)
    days = {(START + dt.timedelta(days=i)).isoformat() for i in range((END - START).days + 1)}
    assert set(drawn) == days  # 730 cells: every day of the range, no other
    assert len({(c["x"], c["y"]) for c in drawn.values()}) == len(days), "two days share a cell"
    expected = {}
    for r in RECORDS:
        if r.error is None:
            expected[r.date] = min(expected.get(r.date, 101.0), r.obscured_pct)
    coloured = {date: c["value"] for date, c in drawn.items() if c["value"] is not None}
    assert coloured == expected
    assert {date for date, c in drawn.items() if c["data"]} == {r.date for r in RECORDS}
    assert all(c["grid"] == 0.0 for c in drawn.values()), "every day in the range has its pale cell"


def test_the_grid_reads_like_a_calendar(fig):
    drawn = cells(fig)
    for date, c in drawn.items():
        day = dt.date.fromisoformat(date)
        assert c["y"] % 9 - 2 == day.weekday()  # 7 weekday rows under 2 label rows per year
        assert c["y"] // 9 == day.year - START.year  # the oldest year on top
    # One column per week: Monday to Sunday share a column, the next Monday moves on by one.
    assert drawn["2022-01-03"]["x"] == drawn["2022-01-09"]["x"] == drawn["2022-01-10"]["x"] - 1
    texts = [a.text for a in fig.layout.annotations]
    assert texts.count("<b>2022</b>") == 1 and texts.count("<b>2023</b>") == 1
    assert all(texts.count(m) == 2 for m in ("Jan", "Jun", "Dec"))
    assert set(fig.layout.yaxis.ticktext) == {"Mon", "Wed", "Fri"}


def test_colours_follow_the_obscured_share_green_under_the_threshold_grey_over_it(fig):
    heat = next(t for t in fig.data if t.name == "obscured")
    scale = [[float(p), c] for p, c in heat.colorscale]
    assert (heat.zmin, heat.zmax) == (0, 100)
    assert [round(v * 100, 3) for v in (scale[0][0], scale[-1][0])] == [0, 100]
    for value in sorted({c["value"] for c in cells(fig).values() if c["value"] is not None}):
        colour = colour_at(scale, value)
        if value < THRESHOLD:
            assert is_green(colour), (value, colour)
        else:
            assert is_grey(colour), (value, colour)
    # Darker is clearer among the greens, darker is more obscured among the greys.
    lum = lambda c: sum(c)  # noqa: E731
    assert lum(colour_at(scale, 0)) < lum(colour_at(scale, 10)) < lum(colour_at(scale, 19.99))
    assert lum(colour_at(scale, 20)) > lum(colour_at(scale, 60)) > lum(colour_at(scale, 100))
    assert rgb(CLEAREST) == colour_at(scale, 0) and rgb(MOST_OBSCURED) == colour_at(scale, 100)
    # No acquisition is paler than any colour of the scale.
    assert lum(rgb(NO_ACQUISITION)) > max(lum(colour_at(scale, v)) for v in range(101))
    assert heat.colorbar.orientation == "h" and "% of the area obscured" in fig.layout.title.text


@pytest.mark.parametrize("threshold", [0.0, 100.0, 50.0])
def test_the_scale_holds_at_any_threshold(threshold):
    heat = next(t for t in calendar(RECORDS, threshold, None, start=START, end=END).data if t.name == "obscured")
    scale = [[float(p), c] for p, c in heat.colorscale]
    for value in (0.0, 12.5, 49.99, 50.0, 99.99, 100.0):
        colour = colour_at(scale, value)
        assert is_green(colour) if value < threshold else is_grey(colour), (threshold, value, colour)


def test_failed_days_are_marked_and_a_day_with_several_records_lists_them_all(fig):
    marks = next(t for t in fig.data if t.name == "not measured")
    assert marks.marker.symbol == "x-thin" and marks.marker.line.color == FAILED_COLOUR
    drawn = cells(fig)
    assert {(x, y) for x, y in zip(marks.x, marks.y)} == {(drawn["2022-07-09"]["x"], drawn["2022-07-09"]["y"])}
    two = drawn["2022-06-06"]["hover"]
    assert "Landsat 8: 72.2 % obscured" in two and "Landsat 9: 4.5 % obscured" in two and "the clearest counts" in two
    mixed = drawn["2022-07-01"]["hover"]
    assert "Landsat 8: 33.0 % obscured" in mixed and "Landsat 9: not measured" in mixed
    assert "<b>from</b>" not in mixed and "&lt;b&gt;from" in mixed, "an error is escaped (it may quote a server)"
    assert "no acquisition" in drawn["2022-01-04"]["hover"] and not drawn["2022-01-04"]["data"]
    assert "2022-02-28</b> (Mon)" in drawn["2022-02-28"]["hover"] and "not clear" in drawn["2022-02-28"]["hover"]


def test_the_selected_day_is_outlined_orange_and_the_date_of_interest_dotted(fig):
    drawn = cells(fig)
    shapes = {s.line.color: s for s in fig.layout.shapes}
    for colour, date in ((SELECTED_COLOUR, "2022-06-06"), (NEAR_COLOUR, "2022-05-30")):
        s, c = shapes[colour], drawn[date]
        assert (s.x0, s.x1, s.y0, s.y1) == (c["x"] - 0.5, c["x"] + 0.5, c["y"] - 0.5, c["y"] + 0.5), date
    assert shapes[NEAR_COLOUR].line.dash == "dot" and shapes[SELECTED_COLOUR].line.dash == "solid"
    # Outside the range, or not a date: no outline, no error.
    assert not calendar(RECORDS, THRESHOLD, "2030-01-01", start=START, end=END, near="banana").layout.shapes


def test_a_click_can_select_a_day_the_page_reads_the_date_and_whether_it_has_data(fig):
    day = next(t for t in fig.data if t.name == "day")
    assert fig.layout.clickmode == "event+select" and fig.layout.dragmode is False
    assert day.marker.opacity == 0 and day.hovertemplate.startswith("%{customdata[1]}")
    assert all(t.hoverinfo == "skip" for t in fig.data if t.name != "day")


def test_the_key_names_every_mark():
    key = calendar_key(THRESHOLD)
    for words in ("clear, under 20 %", "obscured", "no acquisition", "not measured", "selected date",
                  "date of interest", "Click a day"):
        assert words in key


# --- heights: one to ten years -----------------------------------------------------------------------

def _years(n: int) -> list[DateCover]:
    rnd = random.Random(n)
    out, day = [], dt.date(2014, 1, 1)
    while day.year < 2014 + n:
        if rnd.random() < 0.12:
            out.append(measured(day.isoformat(), rnd.choice([0.0, 5.0, 40.0, 100.0])))
        day += dt.timedelta(days=1)
    return out


@pytest.mark.parametrize("years", [1, 2, 10])
def test_one_two_and_ten_years_each_get_a_readable_band(years):
    records = _years(years)
    fig = calendar(records, 10.0, None)
    texts = [a.text for a in fig.layout.annotations]
    assert [t for t in texts if t.startswith("<b>")] == [f"<b>{2014 + i}</b>" for i in range(years)]
    assert texts.count("Jan") == years and texts.count("Dec") == years
    assert fig.layout.height == height_px(years)
    plot_px = fig.layout.height - fig.layout.margin.t - fig.layout.margin.b
    row = plot_px / (years * 9)
    assert row >= ROW_PX_MIN, f"{row:.1f} px rows for {years} years"  # a 10 px row: an 8 px cell between 2 px gaps
    assert len({c["x"] for c in cells(fig).values()}) in (53, 54)  # a column per week, whatever the year count
    coloured = sum(1 for c in cells(fig).values() if c["value"] is not None)
    assert coloured == len(records)


def test_height_scales_with_the_years_and_ten_years_fit_a_screen():
    assert height_px(1) < height_px(2) < height_px(5) < height_px(10)
    assert row_px(1) == row_px(2) == 16 and row_px(10) == 10
    assert height_px(10) <= 1000, "ten years read at a glance: about one screen"
    assert height_px(1) >= 200


def test_a_partial_year_has_cells_only_for_its_days():
    fig = calendar(RECORDS, THRESHOLD, None, start=dt.date(2022, 3, 15), end=dt.date(2022, 8, 31))
    drawn = cells(fig)
    assert min(drawn) == "2022-03-15" and max(drawn) == "2022-08-31" and len(drawn) == 170
    months = [a.text for a in fig.layout.annotations if not a.text.startswith("<b>")]
    assert months == ["Mar", "Apr", "May", "Jun", "Jul", "Aug"]


# --- the page address: near and plot ---------------------------------------------------------------

def test_near_in_the_address_is_kept():
    settings, notes = settings_from_params({"near": "2022-06-01", "plot": "calendar"}, today=TODAY)
    assert settings["near"] == "2022-06-01" and settings["plot"] == "calendar" and notes == []
    settings, notes = settings_from_params({}, today=TODAY)
    assert settings["near"] is None and settings["plot"] == "chart" and notes == []


@pytest.mark.parametrize("value", ["2022-13-01", "banana", "2022-06-01T", "[x](http://127.0.0.1/phish)", "1e9"])
def test_a_malformed_near_falls_back_to_none_with_one_note(value):
    settings, notes = settings_from_params({"near": value}, today=TODAY)
    assert settings["near"] is None
    assert len(notes) == 1 and notes[0].startswith("near is not a date") and value not in notes[0]


@pytest.mark.parametrize("value", ["1970-01-01", "2099-01-01"])
def test_a_near_outside_the_landsat_record_falls_back_with_one_note(value):
    settings, notes = settings_from_params({"near": value}, today=TODAY)
    assert settings["near"] is None and len(notes) == 1 and notes[0].startswith("near lies outside")


def test_a_bad_plot_falls_back_to_the_chart_with_one_note():
    settings, notes = settings_from_params({"plot": "<b>map</b>"}, today=TODAY)
    assert settings["plot"] == "chart" and len(notes) == 1 and "<b>" not in notes[0]


def test_a_near_outside_the_view_is_said_in_one_line_with_a_way_to_widen():
    text = outside_text(dt.date(2021, 6, 1), START, END)
    assert "\n" not in text and "2021-06-01" in text and "outside the dates shown" in text
    assert widened(dt.date(2021, 6, 1), START, END) == (dt.date(2021, 5, 2), END)
    assert widened(dt.date(2024, 2, 1), START, END) == (START, dt.date(2024, 3, 2))


# --- the clear dates nearest a date ------------------------------------------------------------------

def brute_nearest(records, near: str, threshold: float, count: int = 5) -> list[tuple[str, str, int]]:
    target = dt.date.fromisoformat(near)
    clear = [r for r in records if r.error is None and r.obscured_pct is not None and r.obscured_pct < threshold]
    ranked = sorted(clear, key=lambda r: (abs((dt.date.fromisoformat(r.date) - target).days),
                                          dt.date.fromisoformat(r.date)))
    return [(r.date, r.platform, (dt.date.fromisoformat(r.date) - target).days) for r in ranked[:count]]


def test_the_nearest_clear_dates_match_a_brute_force_search():
    rnd = random.Random(7)
    records = [measured((dt.date(2022, 1, 1) + dt.timedelta(days=rnd.randrange(730))).isoformat(),
                        rnd.choice([0.0, 3.3, 9.99, 10.0, 10.01, 50.0, 100.0])) for _ in range(150)]
    records += [failed("2022-06-02")]
    seen, unique = set(), []
    for r in records:  # one record a day: the order of a day's platforms is the library's business
        if r.date not in seen:
            seen.add(r.date)
            unique.append(r)
    for near in ("2022-06-01", "2021-01-01", "2023-12-31", "2022-12-25"):
        rows = near_rows(unique, near, 10.0)
        assert [(r["date"], r["platform"], r["days_from_near"]) for r in rows] == brute_nearest(unique, near, 10.0), near
        assert all(r["obscured_pct"] < 10.0 for r in rows)


def test_a_date_exactly_at_the_threshold_is_not_clear_and_ties_list_the_earlier_first():
    records = [measured("2022-06-03", 10.0), measured("2022-05-30", 1.0), measured("2022-06-03", 2.0, "landsat-9"),
               measured("2022-06-05", 0.0), failed("2022-06-01")]
    rows = near_rows(records, "2022-06-01", 10.0)
    assert [(r["date"], r["platform"]) for r in rows] == [("2022-05-30", "landsat-8"), ("2022-06-03", "landsat-9"),
                                                          ("2022-06-05", "landsat-8")]
    assert [r["days_from_near"] for r in rows] == [-2, 2, 4]
    assert near_rows(records, "2022-06-01", 0.0) == []


def test_a_row_says_date_distance_platform_and_share():
    row = {"date": "2022-06-03", "platform": "landsat-8", "obscured_pct": 1.234, "days_from_near": 2, "note": ""}
    assert row_label(row) == "**2022-06-03** · 2 days after · Landsat 8 · 1.2 % obscured"
    assert row_label(row | {"note": "cloud 1 %"}).endswith(" · cloud 1 %")
    assert [days_text(d) for d in (-1, 0, 1, -14)] == ["1 day before", "the same day", "1 day after", "14 days before"]


def test_the_timeline_marks_the_date_of_interest_dotted():
    fig = timeline(RECORDS, THRESHOLD, "2022-06-06", "2022-05-30")
    near = [s for s in fig.layout.shapes if s.line.color == NEAR_COLOUR]
    assert len(near) == 1 and near[0].x0 == "2022-05-30" and near[0].line.dash == "dot"
    assert any(a.text == "date of interest" for a in fig.layout.annotations)
    assert not [s for s in timeline(RECORDS, THRESHOLD, None).layout.shapes if s.line.color == NEAR_COLOUR]
