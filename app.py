"""The dashboard's frame: settings, page setup, the shared sidebar, URL state and navigation."""

import streamlit as st

from cloudcore import SettingsError
from ui import assets, config, state, style

st.set_page_config(page_title="Landsat clouds over your area", layout="wide", initial_sidebar_state="auto")

try:
    config.settings()  # read and checked once at start; every page gets them from ui.config
except SettingsError as err:
    st.error(f"This dashboard cannot start: {err}")
    st.stop()


@st.cache_resource(show_spinner=False)
def _leaflet_ready() -> bool:
    return assets.install_leaflet()


if not _leaflet_ready():
    st.warning("The map's Leaflet files are missing: run `pip install -r requirements.txt` (django-leaflet provides them).")

style.apply()
config.load_key_from_secrets()
state.init_from_url()
state.apply_pending()
state.sidebar()
state.write_url(state.current())

page = st.navigation([
    st.Page("pages/explore.py", title="Explore", default=True),
    st.Page("pages/compare.py", title="Compare"),
    st.Page("pages/timelapse.py", title="Timelapse"),
    st.Page("pages/about.py", title="About"),
])
page.run()
