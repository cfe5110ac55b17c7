"""The filmstrip: every measured date as a framed, clickable picture with its obscured share, in pages.

Each picture is the label of a real button (Streamlit renders Markdown images in labels), so a
click anywhere on it picks the date, and keyboards reach it too. The buttons sit in one wrapping
row, so a narrow window shows them in the same order, only in more rows.
"""

from __future__ import annotations

import base64
import math

import streamlit as st

from cloudcore import CloudCoreError, DateCover, DateGroup

from . import services, state
from .state import View

PER_PAGE = 12


def badge(obscured_pct: float, threshold: float) -> str:
    """The obscured share as a coloured tag: green under the clear threshold, orange up to half, grey above."""
    colour = "green" if obscured_pct < threshold else "orange" if obscured_pct < 50 else "gray"
    return f":{colour}-background[{obscured_pct:.0f} % obscured]"


def short_platform(platform: str) -> str:
    return "L" + platform.rsplit("-", 1)[-1] if platform.startswith("landsat-") else platform


def ordered(records: list[DateCover], order: str) -> list[DateCover]:
    if order == "clearest":
        return sorted(records, key=lambda r: (r.obscured_pct, r.date))
    return sorted(records, key=lambda r: (r.date, r.platform))


def page_of(records: list[DateCover], date: str | None) -> int | None:
    for i, record in enumerate(records):
        if record.date == date:
            return i // PER_PAGE
    return None


def show(view: View, measured: list[DateCover], groups: list[DateGroup]) -> None:
    """The strip of `measured` dates in the view's order, one page at a time."""
    records = ordered(measured, view.order)
    pages = max(math.ceil(len(records) / PER_PAGE), 1)
    # Open on the page holding the selected date; the arrows move on from there.
    if st.session_state.get("_strip_for") != (view.order, view.date, len(records)):
        st.session_state["_strip_for"] = (view.order, view.date, len(records))
        st.session_state["_strip_page"] = page_of(records, view.date) or 0
    page = min(st.session_state.get("_strip_page", 0), pages - 1)

    def turn(step: int) -> None:
        st.session_state["_strip_page"] = min(max(page + step, 0), pages - 1)

    first, last = page * PER_PAGE, min((page + 1) * PER_PAGE, len(records))
    with st.container(horizontal=True, vertical_alignment="center", key="strip_pager"):
        st.button("◀ Earlier page" if view.order == "time" else "◀ Clearer", on_click=turn, args=(-1,),
                  disabled=page == 0, key="strip_prev")
        st.markdown(f"Dates **{first + 1}–{last}** of {len(records)} · page {page + 1} of {pages}")
        st.button("Later page ▶" if view.order == "time" else "Cloudier ▶", on_click=turn, args=(1,),
                  disabled=page >= pages - 1, key="strip_next")
    by_key = {(g.date.isoformat(), g.platform): g for g in groups}
    with st.container(horizontal=True, key="filmstrip"):
        for record in records[first:last]:
            try:
                png = services.thumbnail(view.source, view.aoi, by_key[(record.date, record.platform)])
                picture = f"![{record.date}](data:image/png;base64,{base64.b64encode(png).decode()})\n\n"
            except CloudCoreError:
                picture = "*(no picture)*\n\n"
            label = f"{picture}**{record.date}** {short_platform(record.platform)}\n\n{badge(record.obscured_pct, view.threshold)}"
            if st.button(label, key=f"pick_{record.date}_{record.platform}",
                         type="primary" if record.date == view.date else "secondary",
                         help=f"{record.date}, {record.platform}: {record.obscured_pct:.1f} % of the area obscured"):
                state.request(date=record.date)
