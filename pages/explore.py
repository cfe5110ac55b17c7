"""Placeholder explore page: the cloud timeline of the demo record over its example area."""

import datetime as dt

import pandas as pd
import streamlit as st

from cloudcore import compute_cover, open_source, parse_aoi
from cloudcore.demo import DEMO_EXAMPLE_BBOX, DEMO_END, DEMO_START


@st.cache_data(show_spinner=False, max_entries=16)
def demo_cover(bbox_text: str, start: dt.date, end: dt.date) -> pd.DataFrame:
    records = compute_cover(open_source("demo"), parse_aoi(bbox_text), start, end)
    return pd.DataFrame([r.to_dict() for r in records])


st.title("Landsat clouds over your area")
st.caption("Cloud, shadow and missing data over the area of interest for every date, from QA_PIXEL.")
bbox_text = ",".join(str(v) for v in DEMO_EXAMPLE_BBOX)
st.write(f"Demo record over the example area `{bbox_text}`, {DEMO_START} to {DEMO_END}.")
with st.spinner("Measuring every date (the first run generates the demo record, a few seconds)..."):
    table = demo_cover(bbox_text, DEMO_START, DEMO_END)
st.bar_chart(table, x="date", y=["masked_pct", "scene_cloud_pct"], stack=False)
st.dataframe(table, hide_index=True)
