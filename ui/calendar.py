"""The calendar of clear days: one band per year, one column per week, one cell per day.

GitHub-contributions style. A day with an acquisition is coloured by the share of the area
obscured (the clearest record when a day has several: two platforms or two paths), on a scale
that breaks at the view's clear threshold: greens under it (darker is clearer), greys over it
(darker is more obscured). A day without one is a pale cell, so the grid still reads; a day whose
every record failed carries a dark ×. The selected date is outlined in the timeline's orange, the
date of interest dashed.

The colours are two heatmaps (their cells scale with the page's width). Heatmaps send Streamlit no
selection, so an invisible scatter point sits on every day's cell: it carries the hover and the
click, with the date in `customdata[0]` as on the timeline chart, and `customdata[2]` is true only
where there is an acquisition to select.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from dataclasses import dataclass

import plotly.graph_objects as go

from cloudcore import DateCover

from .charts import FAILED_COLOUR, NEAR_COLOUR, SELECTED_COLOUR, platform_label

CLEAREST = "#00593c"
"""0 % obscured: the timeline's bluish green (#009E73), darkened so the clearest days stand out."""
CLEAR_EDGE = "#b7e4cc"
"""Just under the threshold: the same green, pale."""
OBSCURED_EDGE = "#b9c0cb"
"""Just over the threshold: a light blue-grey, unlike the greens at any lightness."""
MOST_OBSCURED = "#3b4250"
"""100 % obscured: dark slate."""
NO_ACQUISITION = "#f0f1f3"
"""A day in the range with no acquisition: paler than any obscured grey."""

ROWS_PER_YEAR = 9
"""7 weekdays and 2 rows above them for the month names and the space between years."""
TOP_ROWS = 2
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MAX_COLUMNS = 54
"""A leap year starting on a Sunday touches 54 Monday-to-Sunday weeks."""

ROW_PX_MAX, ROW_PX_MIN = 16, 10
BANDS_PX = 900
"""Up to this tall for the years' bands: 1 to 6 years get 16 px rows, 10 years 10 px rows."""
TOP_PX, BOTTOM_PX = 64, 8
"""The colour bar and its title sit in the top margin."""
COLOURBAR_TOP_PX = 22


@dataclass(frozen=True)
class Day:
    """One day of the calendar and the records taken on it."""

    date: dt.date
    records: tuple[DateCover, ...]

    @property
    def measured(self) -> list[DateCover]:
        return [r for r in self.records if r.error is None and r.obscured_pct is not None]

    @property
    def obscured_pct(self) -> float | None:
        """The clearest record's share of the area obscured; None when none was measured."""
        return min((r.obscured_pct for r in self.measured), default=None)  # type: ignore[type-var]

    @property
    def failed(self) -> bool:
        """Every record of the day failed (a day with one good record is coloured by it)."""
        return bool(self.records) and not self.measured


def year_start(year: int) -> dt.date:
    """The Monday of the week holding 1 January: column 0 of the year's band."""
    first = dt.date(year, 1, 1)
    return first - dt.timedelta(days=first.weekday())


def cell_of(day: dt.date, first_year: int) -> tuple[int, int]:
    """(column, row) of a day: the week of its year, and its weekday within its year's band (oldest year on top)."""
    column = (day - year_start(day.year)).days // 7
    row = (day.year - first_year) * ROWS_PER_YEAR + TOP_ROWS + day.weekday()
    return column, row


def row_px(years: int) -> int:
    """How tall a row of cells is for this many years: big for a few, smaller (never unreadable) for many."""
    return max(ROW_PX_MIN, min(ROW_PX_MAX, math.floor(BANDS_PX / (ROWS_PER_YEAR * max(years, 1)))))


def height_px(years: int) -> int:
    return TOP_PX + BOTTOM_PX + years * ROWS_PER_YEAR * row_px(years)


def colour_scale(threshold: float) -> list[list]:
    """Green to pale green under `threshold` %, light to dark grey over it, with a sharp step between.

    Obscured shares are rounded to 2 decimals, and a date is clear when strictly under the
    threshold: the step sits half a hundredth under it, so the threshold itself is grey.
    """
    step = (threshold - 0.005) / 100.0
    if step <= 0:
        return [[0.0, OBSCURED_EDGE], [1.0, MOST_OBSCURED]]
    if step >= 1:
        return [[0.0, CLEAREST], [1.0, CLEAR_EDGE]]
    return [[0.0, CLEAREST], [step, CLEAR_EDGE], [step, OBSCURED_EDGE], [1.0, MOST_OBSCURED]]


def days_of(records: list[DateCover], start: dt.date, end: dt.date) -> list[Day]:
    """Every day from start to end (inclusive), each with its records."""
    by_date: dict[str, list[DateCover]] = {}
    for r in records:
        by_date.setdefault(r.date, []).append(r)
    out, day = [], start
    while day <= end:
        out.append(Day(day, tuple(sorted(by_date.get(day.isoformat(), []), key=lambda r: r.platform))))
        day += dt.timedelta(days=1)
    return out


def _record_line(r: DateCover) -> str:
    name = html.escape(platform_label(r.platform))
    if r.error is not None or r.obscured_pct is None:
        reason = html.escape((r.error or "no statistics")[:120])
        return f"{name}: not measured ({reason})"
    return f"{name}: {r.obscured_pct:.1f} % obscured"


def _hover(day: Day, threshold: float) -> str:
    head = f"<b>{day.date.isoformat()}</b> ({WEEKDAYS[day.date.weekday()]})"
    if not day.records:
        return f"{head}<br>no acquisition"
    lines = [_record_line(r) for r in day.records]
    pct = day.obscured_pct
    if pct is not None:
        verdict = f"clear (under {threshold:g} %)" if pct < threshold else f"not clear ({threshold:g} % or more)"
        lines.append(f"<i>{verdict}{', the clearest counts' if len(day.measured) > 1 else ''} · click to select</i>")
    return "<br>".join([head, *lines])


def _outline(day: dt.date, first_year: int, colour: str, dash: str) -> dict:
    column, row = cell_of(day, first_year)
    return {"type": "rect", "xref": "x", "yref": "y", "x0": column - 0.5, "x1": column + 0.5, "y0": row - 0.5,
            "y1": row + 0.5, "line": {"color": colour, "width": 2.5 if dash == "solid" else 2, "dash": dash},
            "fillcolor": "rgba(0,0,0,0)", "layer": "above"}


def calendar(records: list[DateCover], threshold: float, selected: str | None, *, start: dt.date | None = None,
             end: dt.date | None = None, near: str | None = None) -> go.Figure:
    """The calendar of `records` from start to end (defaults: the records' first and last years).

    Args:
        records: Every date's statistics (failed ones included).
        threshold: A day is clear when under this share of the area obscured (%).
        selected: The selected date (YYYY-MM-DD), outlined; None for none.
        start, end: The days the grid covers; days outside them have no cell.
        near: The date of interest (YYYY-MM-DD), outlined dashed when it lies in the grid.
    """
    dates = sorted(dt.date.fromisoformat(r.date) for r in records)
    if start is None:
        start = dt.date(dates[0].year, 1, 1) if dates else dt.date.today().replace(month=1, day=1)
    if end is None:
        end = dt.date(dates[-1].year, 12, 31) if dates else start.replace(month=12, day=31)
    first_year, years = start.year, end.year - start.year + 1
    days = days_of(records, start, end)

    rows, height = years * ROWS_PER_YEAR, height_px(years)
    grid: list[list[float | None]] = [[None] * MAX_COLUMNS for _ in range(rows)]
    values: list[list[float | None]] = [[None] * MAX_COLUMNS for _ in range(rows)]
    for day in days:
        column, row = cell_of(day.date, first_year)
        grid[row][column] = 0.0
        values[row][column] = day.obscured_pct

    fig = go.Figure()
    cells = {"x": list(range(MAX_COLUMNS)), "y": list(range(rows)), "xgap": 2, "ygap": 2, "hoverinfo": "skip"}
    fig.add_trace(go.Heatmap(z=grid, name="days", colorscale=[[0, NO_ACQUISITION], [1, NO_ACQUISITION]],
                             showscale=False, **cells))
    fig.add_trace(go.Heatmap(
        z=values, name="obscured", colorscale=colour_scale(threshold), zmin=0, zmax=100, **cells,
        # Under the figure's title (the theme's fonts make a colour bar's own title overlap the bar).
        colorbar={"orientation": "h", "x": 0, "xanchor": "left", "xref": "paper", "y": 1 - COLOURBAR_TOP_PX / height,
                  "yanchor": "top", "yref": "container", "ypad": 0, "len": 320, "lenmode": "pixels", "thickness": 10,
                  "tickvals": sorted({0, 50, 100, round(threshold)}), "ticksuffix": " %", "tickfont": {"size": 11},
                  "outlinewidth": 0},
    ))
    failed = [d for d in days if d.failed]
    if failed:
        spots = [cell_of(d.date, first_year) for d in failed]
        fig.add_trace(go.Scatter(x=[c for c, _ in spots], y=[r for _, r in spots], mode="markers",
                                 name="not measured", hoverinfo="skip", showlegend=False,
                                 marker={"symbol": "x-thin", "size": 7, "line": {"width": 1.8, "color": FAILED_COLOUR}}))
    spots = [cell_of(d.date, first_year) for d in days]
    fig.add_trace(go.Scatter(
        x=[c for c, _ in spots], y=[r for _, r in spots], mode="markers", name="day", showlegend=False,
        marker={"symbol": "square", "size": row_px(years), "opacity": 0, "color": "#000000"},
        customdata=[[d.date.isoformat(), _hover(d, threshold), bool(d.records)] for d in days],
        hovertemplate="%{customdata[1]}<extra></extra>",
        hoverlabel={"bgcolor": "white", "bordercolor": "#8a9099", "font": {"color": "#31333f", "size": 13}},
        selected={"marker": {"opacity": 0}}, unselected={"marker": {"opacity": 0}},
    ))

    shapes = []
    if near:
        try:
            near_day = dt.date.fromisoformat(near)
        except ValueError:
            near_day = None
        if near_day is not None and start <= near_day <= end:
            shapes.append(_outline(near_day, first_year, NEAR_COLOUR, "dot"))
    if selected:
        try:
            picked = dt.date.fromisoformat(selected)
        except ValueError:
            picked = None
        if picked is not None and start <= picked <= end:
            shapes.append(_outline(picked, first_year, SELECTED_COLOUR, "solid"))

    annotations = []
    for i in range(years):
        year = first_year + i
        label_row = i * ROWS_PER_YEAR + TOP_ROWS - 1.1
        annotations.append({"text": f"<b>{year}</b>", "x": 0, "xref": "paper", "xanchor": "right", "xshift": -4,
                            "y": label_row, "yref": "y", "showarrow": False, "font": {"size": 13}})
        for month in range(1, 13):
            first = dt.date(year, month, 1)
            last = dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)
            if first > end or last < start:
                continue
            column = max(0, (max(first, start) - year_start(year)).days // 7)
            annotations.append({"text": MONTHS[month - 1], "x": column - 0.5, "xref": "x", "xanchor": "left",
                                "y": label_row, "yref": "y", "showarrow": False, "font": {"size": 11, "color": "#555"}})
    weekday_rows = [i * ROWS_PER_YEAR + TOP_ROWS + d for i in range(years) for d in (0, 2, 4)]

    fig.update_layout(
        height=height, font={"size": 12},
        title={"text": f"% of the area obscured (clear: under {threshold:g} %)", "font": {"size": 12}, "x": 0,
               "xref": "paper", "xanchor": "left", "y": 1, "yref": "container", "yanchor": "top", "pad": {"t": 2}}, hoverlabel={"font_size": 13}, hovermode="closest",
        hoverdistance=max(row_px(years), 10), margin={"l": 48, "r": 8, "t": TOP_PX, "b": BOTTOM_PX},
        plot_bgcolor="rgba(0,0,0,0)", paper_bgcolor="rgba(0,0,0,0)", showlegend=False,
        clickmode="event+select", dragmode=False, shapes=shapes, annotations=annotations,
        xaxis={"range": [-0.6, MAX_COLUMNS - 0.4], "visible": False, "fixedrange": True},
        yaxis={"range": [rows - 0.5, -0.6], "fixedrange": True, "showgrid": False, "zeroline": False,
               "tickvals": weekday_rows, "ticktext": [WEEKDAYS[(r % ROWS_PER_YEAR) - TOP_ROWS] for r in weekday_rows],
               "tickfont": {"size": 10, "color": "#555"}, "ticks": ""},
    )
    return fig


def _swatch(colour: str, border: str = "#8a9099") -> str:
    return (f'<span style="display:inline-block;width:0.8em;height:0.8em;background:{colour};'
            f'border:1px solid {border};vertical-align:-0.05em"></span>')


def calendar_key(threshold: float) -> str:
    """What the calendar's marks mean, as one line of HTML for a caption (it wraps on a narrow page)."""
    outline = '<span style="display:inline-block;width:0.8em;height:0.8em;border:2px {} {};vertical-align:-0.1em"></span>'
    return (
        "Each cell is a day, coloured by the share of the area obscured (a day with two acquisitions: the clearer). "
        f"{_swatch(CLEAREST)}{_swatch(CLEAR_EDGE)} clear, under {threshold:g} % · "
        f"{_swatch(OBSCURED_EDGE)}{_swatch(MOST_OBSCURED)} obscured · {_swatch(NO_ACQUISITION, '#d5d8de')} no acquisition · "
        f"<b>×</b> not measured · {outline.format('solid', SELECTED_COLOUR)} selected date · "
        f"{outline.format('dotted', NEAR_COLOUR)} date of interest. **Click a day to select it.**"
    )
