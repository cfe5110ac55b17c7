"""Make every page run inside app.py's frame, even on a server's very first deep link.

Streamlit starts in its legacy "pages/ directory" mode when a `pages/` folder sits beside
the entry point, and a first request for /compare would then run pages/compare.py alone,
without app.py's sidebar and URL state. `st.navigation` ends that mode for the process; a
page that finds itself run the legacy way switches the mode off and reruns, so app.py runs
first and hands over to the same page.
"""

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager


def require_frame() -> None:
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
