"""The cloud timeline chart: one mark per date, coloured by platform."""

from __future__ import annotations

import plotly.graph_objects as go

from cloudcore import DateCover

PLATFORM_COLOURS = {
    "landsat-4": "#8c564b", "landsat-5": "#9467bd", "landsat-7": "#d62728", "landsat-8": "#1f77b4", "landsat-9": "#2ca02c",
}


def timeline(records: list[DateCover], threshold: float, selected: str | None) -> go.Figure:
    """AOI obscured % per date (filled markers), the scene-wide metadata % (hollow), a threshold line."""
    fig = go.Figure()
    ok = [r for r in records if r.error is None and r.obscured_pct is not None]
    for platform in sorted({r.platform for r in ok}):
        rows = [r for r in ok if r.platform == platform]
        fig.add_trace(go.Scatter(
            x=[r.date for r in rows], y=[r.obscured_pct for r in rows], mode="markers", name=platform,
            marker={"size": 10, "color": PLATFORM_COLOURS.get(platform, "#7f7f7f")},
            customdata=[[r.date, r.cloud_pct, r.shadow_pct, r.valid_pct] for r in rows],
            hovertemplate="%{customdata[0]}<br>AOI obscured %{y:.1f} %<br>cloud %{customdata[1]:.1f} %, "
                          "shadow %{customdata[2]:.1f} %<br>data over %{customdata[3]:.1f} % of the AOI<extra>%{fullData.name}</extra>",
        ))
    scene = [r for r in records if r.scene_cloud_pct is not None]
    if scene:
        fig.add_trace(go.Scatter(
            x=[r.date for r in scene], y=[r.scene_cloud_pct for r in scene], mode="markers", name="scene-wide (metadata)",
            marker={"size": 7, "symbol": "circle-open", "color": "#888888"}, customdata=[[r.date] for r in scene],
            hovertemplate="%{customdata[0]}<br>scene-wide cloud %{y:.1f} %<extra></extra>",
        ))
    failed = [r for r in records if r.error]
    if failed:
        fig.add_trace(go.Scatter(
            x=[r.date for r in failed], y=[100] * len(failed), mode="markers", name="failed",
            marker={"size": 11, "symbol": "x", "color": "#d62728"}, customdata=[[r.date, r.error] for r in failed],
            hovertemplate="%{customdata[0]} failed:<br>%{customdata[1]}<extra></extra>",
        ))
    fig.add_hline(y=threshold, line_dash="dash", line_color="#444", annotation_text=f"{threshold:g} %", annotation_position="top left")
    if selected:
        fig.add_vline(x=selected, line_color="#ff7800", line_width=2)
    fig.update_layout(
        height=340, margin={"l": 10, "r": 10, "t": 30, "b": 10}, clickmode="event+select", dragmode=False,
        yaxis={"title": "% of the AOI", "range": [-3, 103]}, xaxis={"title": None},
        legend={"orientation": "h", "y": 1.12},
    )
    return fig
