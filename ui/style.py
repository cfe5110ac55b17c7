"""The dashboard's few style rules: framed clickable thumbnails, and a layout that holds at 800 px.

Streamlit gives each keyed container a class `st-key-<key>`; the rules below reach only those
containers, so Streamlit's own look stays as it is everywhere else.
"""

from __future__ import annotations

import streamlit as st

CSS = """
<style>
/* Filmstrip: each date is one button holding its picture, framed so white (cloudy, snowy)
   pictures do not melt into the page; the selected date is outlined. */
.st-key-filmstrip button { width: 150px; padding: 4px; height: auto; background: #eef0f3;
  border: 1px solid #b9bec6; color: #31333f; }
.st-key-filmstrip button:hover { border-color: #ff7800; color: #31333f; }
.st-key-filmstrip button[kind="primary"] { background: #fff1e0; border: 3px solid #ff7800; color: #31333f; }
.st-key-filmstrip button img { width: 140px !important; height: auto !important; max-height: none !important;
  border: 1px solid #8a9099; background: #fff; }
.st-key-filmstrip button [data-testid="stMarkdownContainer"] { white-space: normal; overflow: visible; }
.st-key-filmstrip button [data-testid="stMarkdownContainer"] p { margin: 0; font-size: 0.85rem; }

/* Metrics never cut a date or a number short ("2022-0..."). */
[data-testid="stMetricValue"] > div { overflow: visible; text-overflow: clip; white-space: normal; }

/* Narrow windows (800 px): a slimmer sidebar, smaller metric numbers, and rows of columns that
   wrap two to a row instead of squeezing labels, buttons and images (a keyed "row" keeps its
   columns side by side: the date picker's arrows belong beside it). */
@media (max-width: 1000px) {
  section[data-testid="stSidebar"] { width: 240px !important; min-width: 240px !important; }
  [data-testid="stMetricValue"] { font-size: 1.6rem; }
  [data-testid="stMain"] [data-testid="stHorizontalBlock"] { flex-wrap: wrap; row-gap: 0.5rem; }
  [data-testid="stMain"] [data-testid="stColumn"] { min-width: calc(50% - 1rem) !important; flex: 1 1 calc(50% - 1rem) !important; }
  [data-testid="stMain"] .st-key-row [data-testid="stHorizontalBlock"] { flex-wrap: nowrap; }
  [data-testid="stMain"] .st-key-row [data-testid="stColumn"] { min-width: 0 !important; flex: 1 1 auto !important; }
  /* The timelapse plays the page's width, its downloads and dates below it. */
  [data-testid="stMain"] .st-key-timelapse_result [data-testid="stColumn"] { min-width: 100% !important; }
}
@media (max-width: 700px) {
  [data-testid="stMain"] [data-testid="stColumn"] { min-width: 100% !important; }
}
</style>
"""


def apply() -> None:
    """Add the rules to the page (a style-only st.html takes no room)."""
    st.html(CSS)
