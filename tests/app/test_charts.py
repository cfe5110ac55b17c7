"""The timeline says what it shows: obscured of what, filled vs hollow, distinct colours, honest hovers."""

from __future__ import annotations

import pytest

from cloudcore import DateCover
from ui.charts import FAILED_COLOUR, PLATFORM_COLOURS, SELECTED_COLOUR, timeline

THRESHOLD = 30.0
SELECTED = "2022-03-09"


def _measured(date: str, platform: str, *, valid: float, cloud: float, shadow: float, scene: float | None,
              snow: float | None = 0.0) -> DateCover:
    clear = 100.0 - max(cloud, shadow)
    return DateCover(date=date, platform=platform, scene_ids=[f"{platform}-{date}"], scene_cloud_pct=scene,
                     valid_pct=valid, cloud_pct=cloud, shadow_pct=shadow, snow_pct=snow, masked_pct=100.0 - clear,
                     clear_pct=clear, aoi_pixels=1000)


RECORDS = [
    _measured("2022-01-04", "landsat-8", valid=100.0, cloud=81.0, shadow=20.5, scene=64.0),
    _measured("2022-01-12", "landsat-9", valid=100.0, cloud=2.0, shadow=0.5, scene=10.0, snow=None),
    _measured("2022-02-05", "landsat-7", valid=72.0, cloud=10.0, shadow=3.0, scene=None),
    _measured("2022-03-09", "landsat-8", valid=100.0, cloud=0.0, shadow=0.0, scene=1.5),
    DateCover(date="2022-02-13", platform="landsat-9", scene_ids=["x"], scene_cloud_pct=40.0,
              error="HTTP 503 from the storage <after 3 tries>"),
    DateCover(date="2022-02-21", platform="landsat-8", scene_ids=["y"], scene_cloud_pct=None,
              error="The file is truncated."),
]


@pytest.fixture(scope="module")
def fig():
    return timeline(RECORDS, THRESHOLD, SELECTED)


def _aoi_traces(fig):
    return [t for t in fig.data if t.name.startswith("landsat")]


def _trace(fig, prefix: str):
    (found,) = [t for t in fig.data if t.name.startswith(prefix)]
    return found


def test_the_axis_and_subtitle_say_what_obscured_means(fig):
    assert fig.layout.yaxis.title.text == "% of the area obscured"
    subtitle = fig.layout.title.subtitle.text
    for part in ("no data", "cloud", "shadow", "snow"):
        assert part in subtitle


def test_the_legend_explains_filled_and_hollow_marks(fig):
    legend = fig.layout.legend.title.text
    assert "filled" in legend and "this area" in legend and "QA mask" in legend
    assert "hollow" in legend and "scene-wide" in legend and "metadata" in legend
    assert all(t.marker.symbol in (None, "circle") for t in _aoi_traces(fig))
    assert _trace(fig, "scene-wide").marker.symbol == "circle-open"


def test_the_legend_sits_above_the_plot_and_the_title_does_not_collide(fig):
    legend = fig.layout.legend
    assert legend.orientation == "h" and legend.yanchor == "bottom" and legend.y >= 1
    # The title lives in the container's margin and pushes the plot down, the legend grows upwards
    # from the plot's top edge: neither is placed at a fixed spot inside the other.
    assert fig.layout.title.yref == "container" and fig.layout.title.automargin


def test_platform_colours_are_distinct_and_unlike_the_failed_and_selected_marks(fig):
    colours = [c.lower() for c in PLATFORM_COLOURS.values()]
    assert set(PLATFORM_COLOURS) == {"landsat-4", "landsat-5", "landsat-7", "landsat-8", "landsat-9"}
    assert len(set(colours)) == len(colours)
    assert FAILED_COLOUR.lower() not in colours and SELECTED_COLOUR.lower() not in colours
    assert "#d62728" not in colours  # Landsat 7's old red, the failed mark's old colour
    drawn = {t.name: t.marker.color.lower() for t in _aoi_traces(fig)}
    assert drawn == {p: PLATFORM_COLOURS[p].lower() for p in ("landsat-7", "landsat-8", "landsat-9")}
    failed = _trace(fig, "failed")
    assert failed.marker.symbol == "x" and failed.marker.color.lower() == FAILED_COLOUR.lower()
    (selected,) = [s for s in fig.layout.shapes if s.type == "line" and s.x0 == SELECTED]
    assert selected.line.color.lower() == SELECTED_COLOUR.lower()


def test_one_point_per_record_in_each_trace(fig):
    measured = [r for r in RECORDS if r.error is None]
    by_platform = {t.name: list(t.x) for t in _aoi_traces(fig)}
    assert by_platform == {p: [r.date for r in measured if r.platform == p] for p in {r.platform for r in measured}}
    for trace in _aoi_traces(fig):
        assert list(trace.y) == [r.obscured_pct for r in measured if r.platform == trace.name]
        # The page reads the clicked date from customdata[0].
        assert [row[0] for row in trace.customdata] == list(trace.x)
    scene = _trace(fig, "scene-wide")
    assert list(scene.x) == [r.date for r in RECORDS if r.scene_cloud_pct is not None]
    assert list(scene.y) == [r.scene_cloud_pct for r in RECORDS if r.scene_cloud_pct is not None]


def test_failed_dates_are_drawn_at_100_with_their_error(fig):
    failed = _trace(fig, "failed")
    wanted = [r for r in RECORDS if r.error]
    assert list(failed.x) == [r.date for r in wanted] and list(failed.y) == [100] * len(wanted)
    assert [tuple(row[:2]) for row in failed.customdata] == [(r.date, r.error) for r in wanted]
    # What the hover shows is escaped: an error quoting a server cannot put markup in the page.
    assert "&lt;after 3 tries&gt;" in failed.customdata[0][3]
    assert "not measured" in failed.hovertemplate


def test_the_hover_explains_why_the_classes_need_not_add_up(fig):
    for trace in _aoi_traces(fig):
        template = trace.hovertemplate
        assert "overlap" in template and "need not add up" in template and "missing data" in template
        assert "% of the area obscured" in template
    first = next(t for t in _aoi_traces(fig) if t.name == "landsat-8").customdata[0]
    date, platform, classes, valid, scene = first
    assert date == "2022-01-04" and platform == "Landsat 8"
    assert classes == "cloud 81.0 %, shadow 20.5 %, snow 0.0 % of the pixels with data"
    assert valid == "100.0 %" and scene == "64.0 %"
    landsat9 = next(t for t in _aoi_traces(fig) if t.name == "landsat-9").customdata[0]
    assert "snow" not in landsat9[2]  # not measured, not claimed
    landsat7 = next(t for t in _aoi_traces(fig) if t.name == "landsat-7").customdata[0]
    assert landsat7[1] == "Landsat 7" and landsat7[4] == "not known"


def test_the_threshold_line_and_the_clear_band(fig):
    (line,) = [s for s in fig.layout.shapes if s.type == "line" and s.y0 == THRESHOLD == s.y1]
    assert line.line.dash == "dash"
    assert any(a.text == f"clear below {THRESHOLD:g} %" for a in fig.layout.annotations)
    (band,) = [s for s in fig.layout.shapes if s.type == "rect"]
    assert (band.y0, band.y1) == (0, THRESHOLD) and band.layer == "below"


def test_an_empty_timeline_still_draws_the_threshold():
    fig = timeline([], THRESHOLD, None)
    assert list(fig.data) == []
    assert any(a.text == f"clear below {THRESHOLD:g} %" for a in fig.layout.annotations)
    assert not any(s.line.color == SELECTED_COLOUR for s in fig.layout.shapes)  # no date selected, no line
