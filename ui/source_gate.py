"""The visitor's consent before this server contacts a STAC API that a page address names.

A link is anyone's to write: a public STAC API named in it is contacted (by this server, with
its address and bandwidth) only after the person looking at the page says so, once per server
per session. An API the visitor typed into the sidebar is theirs already (`mark_confirmed`);
Planetary Computer and the operator's own hosts (CLOUDCORE_UI_STAC_HOSTS) need no consent, and
a refused address (ui/url_guard.py) gets its message and a way out to the demo.
"""

from __future__ import annotations

import streamlit as st

from cloudcore import DEMO_END, DEMO_START, UnknownSourceError

from . import config, state
from .feedback import plain, show_error
from .sources import is_url
from .url_guard import check_stac_url, host_of, origin_of

CONFIRMED_KEY = "_confirmed_stac"
"""Session state: the origins (scheme://host[:port]) this visitor agreed to have contacted."""


def require_consent(spec: str) -> None:
    """Return when the source `spec` may be contacted now; otherwise ask or refuse, and stop the run.

    A name or a folder returns at once (ui/sources.py checks those). A STAC API URL returns when
    it is allowed outright or this session confirmed its server; a public one not yet confirmed
    shows a question with "Contact this STAC API" and "Use the demo instead"; a refused one
    shows why, with the demo button. Both then stop the script (st.stop).
    """
    if not is_url(spec):
        return
    try:
        verdict = check_stac_url(spec, config.settings())
    except UnknownSourceError as err:
        show_error(err)
        _demo_button()
        st.stop()
        return  # st.stop raises; this line is for readers and type checkers
    if verdict == "allowed" or origin_of(spec) in _confirmed():
        return
    st.warning(
        f"This page address asks this server to read Landsat scenes from the STAC API at **{plain(host_of(spec))}** "
        "(an address not chosen by this server's operator). Contact it?"
    )
    if st.button("Contact this STAC API", type="primary", key="_stac_gate_contact"):
        _confirmed().add(origin_of(spec))
        st.rerun()
    _demo_button()
    st.stop()


def mark_confirmed(url: str) -> None:
    """Count `url`'s server as confirmed for this session (the visitor typed it themselves).

    A URL of no usable form is ignored: opening it says what is wrong.
    """
    try:
        origin = origin_of(url.strip())
    except UnknownSourceError:
        return
    _confirmed().add(origin)


def _confirmed() -> set[str]:
    return st.session_state.setdefault(CONFIRMED_KEY, set())


def _demo_button() -> None:
    if st.button("Use the demo instead", key="_stac_gate_demo"):
        state.request(source_kind="demo", aoi=state.DEMO_BBOX, start=DEMO_START, end=DEMO_END, date=None)
