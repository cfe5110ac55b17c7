"""Explore's "date of interest": the clear dates closest to a date the user names (URL `near`).

cloudcore.nearest_clear_dates finds them; this module asks it with the view's threshold (a clear
date is strictly under it, as everywhere on the dashboard), says the result in words, and offers
each date as a button that selects it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import streamlit as st

from cloudcore import LANDSAT_RECORD_START, DateCover, nearest_clear_dates

from . import state
from .charts import platform_label
from .state import View
from .url_params import latest_date

COUNT = 5
"""How many clear dates the list names."""
WIDEN_DAYS = 30
"""A range widened to take in the date of interest reaches this far past it."""


def near_rows(records: list[DateCover], near: str | dt.date, threshold: float, count: int = COUNT) -> list[dict[str, Any]]:
    """The `count` clear dates (strictly under `threshold` % obscured) nearest `near`, nearest first.

    The library lists dates at most its `max_obscured`; the dashboard calls a date clear only
    under the threshold, so dates exactly at it are asked for in addition and left out.
    """
    at_threshold = sum(1 for r in records if r.error is None and r.obscured_pct == threshold)
    rows = nearest_clear_dates(records, near, max_obscured=threshold, count=min(count + at_threshold, 1000))
    return [row for row in rows if row["obscured_pct"] < threshold][:count]


def days_text(days: int) -> str:
    """-3 -> "3 days before", 1 -> "1 day after", 0 -> "the same day"."""
    if days == 0:
        return "the same day"
    unit = "day" if abs(days) == 1 else "days"
    return f"{abs(days)} {unit} {'before' if days < 0 else 'after'}"


def row_label(row: dict[str, Any]) -> str:
    """One clear date for a button: date, how far, platform, obscured share (and a note, if any)."""
    text = (f"**{row['date']}** · {days_text(row['days_from_near'])} · {platform_label(row['platform'])} · "
            f"{row['obscured_pct']:.1f} % obscured")
    return text + (f" · {row['note']}" if row["note"] else "")


def outside_text(near: dt.date, start: dt.date, end: dt.date) -> str:
    return (f"The date of interest, {near}, is outside the dates shown ({start} to {end}): "
            "widen the dates in the sidebar to list the clear dates near it.")


def widened(near: dt.date, start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The range grown to take in `near` and a month past it, within the Landsat record."""
    low, high = LANDSAT_RECORD_START, latest_date(dt.date.today())
    pad = dt.timedelta(days=WIDEN_DAYS)
    return max(min(start, near - pad), low), min(max(end, near + pad), high)


def show(view: View, measured: list[DateCover]) -> None:
    """The date-of-interest box and, when one is set, the clear dates closest to it."""
    near = dt.date.fromisoformat(view.near) if view.near else None
    with st.container(key="near"):
        # The box and its clear button on one row, the list under them at the page's full width
        # (beside the box, a narrow page squeezed each date into three lines).
        with st.container(horizontal=True, vertical_alignment="bottom", key="near_row"):
            picked = st.date_input(
                "Date of interest (optional)", value=near, min_value=LANDSAT_RECORD_START,
                max_value=latest_date(dt.date.today()), format="YYYY-MM-DD", width=220,
                help="Lists the clear dates closest to it (a field visit, an event) and marks it on the chart and calendar.",
            )
            if picked != near:
                state.request(near=picked.isoformat() if picked else None)
            if near and st.button("Clear the date of interest", key="near_clear"):
                state.request(near=None)
            if near is None:
                st.caption("Give a date of interest to list the clear dates closest to it.")
        if near is None:
            return
        if not view.start <= near <= view.end:
            st.info(outside_text(near, view.start, view.end))
            start, end = widened(near, view.start, view.end)
            st.button(f"Widen the dates to {start} – {end}", key="near_widen",
                      on_click=lambda: st.session_state.update(_pending={"start": start, "end": end}))
            return
        rows = near_rows(measured, near, view.threshold)
        if not rows:
            st.info(f"No date from {view.start} to {view.end} is clear (under {view.threshold:g} % of the area "
                    "obscured): raise the threshold in the sidebar, or widen the dates.")
            return
        st.markdown(f"**Clear dates closest to {near}** (under {view.threshold:g} % of the area obscured, "
                    "nearest first; the dotted line on the chart and calendar): click one to select it.")
        with st.container(key="near_list", gap="small"):  # one under the other: nearest first reads down
            for row in rows:
                if st.button(row_label(row), key=f"near_{row['date']}_{row['platform']}",
                             type="primary" if row["date"] == view.date else "secondary"):
                    state.request(date=row["date"])
