"""The cloud timeline chart: one mark per date, coloured by platform.

Trace names are what the browser tests and the load test look traces up by: an AOI trace is
named exactly its platform id ("landsat-8"), the metadata trace starts with "scene-wide". The
page reads the date a click picked from `customdata[0]` of any trace. What the marks mean is
said in the legend's title, the axis title and the subtitle instead.
"""

from __future__ import annotations

import html
import textwrap

import plotly.graph_objects as go

from cloudcore import DateCover

# Okabe & Ito's colour-blind-safe palette (https://jfly.uni-koeln.de/color/), minus its orange
# and vermillion (too close to the selected-date line) and its black (the failed mark). Platforms
# flying at the same time (4+5, 5+7, 7+8, 8+9, 7+9) get colours that differ in hue and lightness.
PLATFORM_COLOURS = {
    "landsat-4": "#882255",  # wine (Paul Tol's muted scheme): Okabe-Ito has no sixth usable colour
    "landsat-5": "#56B4E9",  # sky blue
    "landsat-7": "#CC79A7",  # reddish purple
    "landsat-8": "#0072B2",  # blue
    "landsat-9": "#009E73",  # bluish green
}
OTHER_PLATFORM_COLOUR = "#7F7F7F"
SCENE_COLOUR = "#7F7F7F"
FAILED_COLOUR = "#222222"
SELECTED_COLOUR = "#FF7800"
NEAR_COLOUR = "#5E3C99"
"""The date of interest (dotted): a dark violet, unlike the platforms, the selected orange and the failed black."""
THRESHOLD_COLOUR = "#444444"
CLEAR_SHADE = "rgba(0, 158, 115, 0.08)"
"""The band under the threshold: the bluish green of the palette, faint enough to read marks on."""

OBSCURED_MEANS = "obscured = no data, cloud or cloud shadow (and snow, if masked)"
# Two short lines: a title does not wrap, and the page may give the chart ~450 px.
LEGEND_TITLE = "● filled: this area, measured with the QA mask<br>○ hollow: scene-wide cloud from the metadata"
OVERLAP_NOTE = "Classes overlap (a pixel can be cloud and shadow) and obscured<br>also counts missing data, so they need not add up."

_AOI_HOVER = (
    "<b>%{customdata[0]}</b> · %{customdata[1]}<br>"
    "<b>%{y:.1f} % of the area obscured</b><br>"
    "%{customdata[2]}<br>"
    "data over %{customdata[3]} of the area<br>"
    "scene-wide cloud (metadata): %{customdata[4]}<br>"
    f"<i>{OVERLAP_NOTE}</i><extra></extra>"
)
_FAILED_HOVER = "<b>%{customdata[0]}</b> · %{customdata[2]}: not measured<br>%{customdata[3]}<extra></extra>"


def platform_label(platform: str) -> str:
    """ "landsat-8" -> "Landsat 8" (anything else as it is)."""
    prefix = "landsat-"
    return f"Landsat {platform[len(prefix):]}" if platform.startswith(prefix) else platform


def _pct(value: float | None) -> str:
    return "not known" if value is None else f"{value:.1f} %"


def _classes(r: DateCover) -> str:
    parts = [f"cloud {_pct(r.cloud_pct)}", f"shadow {_pct(r.shadow_pct)}"]
    if r.snow_pct is not None:
        parts.append(f"snow {_pct(r.snow_pct)}")
    return ", ".join(parts) + " of the pixels with data"


def _error_lines(error: str) -> str:
    """The error for a hover: escaped (it may quote a remote server) and wrapped to a readable width."""
    return "<br>".join(textwrap.wrap(html.escape(error), 70)) or "unknown error"


def timeline(records: list[DateCover], threshold: float, selected: str | None, near: str | None = None) -> go.Figure:
    """AOI obscured % per date (filled markers), the scene-wide metadata % (hollow), a threshold line;
    the selected date a solid line, the date of interest (`near`) a dotted one."""
    fig = go.Figure()
    fig.add_hrect(y0=0, y1=threshold, fillcolor=CLEAR_SHADE, line_width=0, layer="below")
    # The scene-wide marks go first, under the area's, and take no hover or click: one often sits
    # on another date's mark, and a click there must pick the date of the mark the user sees. The
    # area's hover says the scene-wide figure too.
    scene = [r for r in records if r.scene_cloud_pct is not None]
    if scene:
        fig.add_trace(go.Scatter(
            x=[r.date for r in scene], y=[r.scene_cloud_pct for r in scene], mode="markers",
            name="scene-wide cloud (metadata)",
            marker={"size": 8, "symbol": "circle-open", "color": SCENE_COLOUR, "line": {"width": 1.5}},
            customdata=[[r.date, platform_label(r.platform)] for r in scene], hoverinfo="skip",
        ))
    ok = [r for r in records if r.error is None and r.obscured_pct is not None]
    for platform in sorted({r.platform for r in ok}):
        rows = [r for r in ok if r.platform == platform]
        fig.add_trace(go.Scatter(
            x=[r.date for r in rows], y=[r.obscured_pct for r in rows], mode="markers", name=platform,
            marker={"size": 10, "color": PLATFORM_COLOURS.get(platform, OTHER_PLATFORM_COLOUR),
                    "line": {"width": 1, "color": "white"}},
            customdata=[[r.date, platform_label(platform), _classes(r), _pct(r.valid_pct), _pct(r.scene_cloud_pct)]
                        for r in rows],
            hovertemplate=_AOI_HOVER,
        ))
    failed = [r for r in records if r.error]
    if failed:
        fig.add_trace(go.Scatter(
            x=[r.date for r in failed], y=[100] * len(failed), mode="markers", name="failed (not measured)",
            marker={"size": 10, "symbol": "x", "color": FAILED_COLOUR},
            customdata=[[r.date, r.error, platform_label(r.platform), _error_lines(r.error or "")] for r in failed],
            hovertemplate=_FAILED_HOVER,
        ))
    fig.add_hline(
        y=threshold, line_dash="dash", line_color=THRESHOLD_COLOUR, line_width=1.5,
        annotation_text=f"clear below {threshold:g} %", annotation_font={"size": 12, "color": THRESHOLD_COLOUR},
        # The label sits above the line, inside the plot, unless the line is at the top.
        annotation_position="top left" if threshold < 90 else "bottom left",
    )
    if near:
        fig.add_vline(x=near, line_color=NEAR_COLOUR, line_width=2, line_dash="dot")
        # The label half way up, on a pale ground: the clear dates the user looks for are at the bottom,
        # and a narrow page's legend can reach the top.
        fig.add_annotation(x=near, y=0.55, yref="paper", xanchor="left", text="date of interest", showarrow=False,
                           font={"size": 12, "color": NEAR_COLOUR}, bgcolor="rgba(255,255,255,0.85)")
    if selected:
        fig.add_vline(x=selected, line_color=SELECTED_COLOUR, line_width=2)
    fig.update_layout(
        height=420, font={"size": 13}, hoverlabel={"font_size": 13}, hovermode="closest",
        title={"text": "Share of the area obscured, per date", "subtitle": {"text": OBSCURED_MEANS, "font": {"size": 12}},
               "x": 0, "xanchor": "left", "y": 0.98, "yanchor": "top", "yref": "container", "automargin": True},
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        clickmode="event+select", dragmode=False,
        yaxis={"title": {"text": "% of the area obscured"}, "range": [-3, 103], "ticksuffix": " %"},
        xaxis={"title": None, "hoverformat": "%Y-%m-%d"},
        # Above the plot, under the title: anchored to the plot's top edge so a second row of
        # entries (a narrow page) grows upwards into the margin, which the legend then widens.
        legend={"orientation": "h", "x": 0, "xanchor": "left", "y": 1.02, "yanchor": "bottom",
                "title": {"text": LEGEND_TITLE, "side": "top", "font": {"size": 12}}, "font": {"size": 12}},
    )
    return fig
