"""The dashboard's frame. For now one page that measures the demo record with cloudcore;
the full dashboard (map drawing, chart selection, compare, share links) builds on it."""

import streamlit as st

st.set_page_config(page_title="Landsat clouds over your area", layout="wide")

page = st.navigation([st.Page("pages/explore.py", title="Explore", default=True)])
page.run()
