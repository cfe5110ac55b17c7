"""The view's settings: session state <-> URL query parameters, and the shared sidebar.

Every setting that shapes the view lives in the URL, so a link reproduces it:
source, bbox (or poly), start, end, cc, flags, buffer, thr, date, method, window, order, plot
(chart or calendar), near (the date of interest, when one is set), and the timelapse's filled
(1 for gap-filled frames) and fps.
Secrets never do. The URL is read once per session (ui/url_params.py parses it: no value
can break the page), then rewritten from the state on every run, which also keeps it when
the user switches pages.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import streamlit as st

from cloudcore import (
    DEMO_END,
    DEMO_START,
    FILL_METHODS,
    LANDSAT_RECORD_START,
    MASK_KINDS,
    CloudCoreError,
    describe_methods,
    parse_aoi,
)

from . import config
from .url_params import (  # DEMO_BBOX and ORDERS: pages use them from here
    CUSTOM,
    DEMO_BBOX,
    FLAG_CHOICES,
    FOLDER,
    ORDERS,
    PC_EXAMPLE_BBOX,
    PLOTS,
    SOURCES,
    geojson_to_poly,
    latest_date,
    settings_from_params,
)

MASK_LABELS = {"qa": "QA_PIXEL (fast)", "ml": "machine-learning model (slow)", "qa+ml": "QA_PIXEL or ML (union, slow)"}
NOT_UNDER_ML = "The machine-learning mask decides alone under this choice: QA flags and the buffer apply to QA_PIXEL only."
METHODS_HELP = "  \n".join(f"**{name}**: {text}" for name, text, _ in describe_methods())


@dataclass(frozen=True)
class View:
    """The canonical settings of the current view (small, hashable, serialisable)."""

    source: str
    aoi: str
    """A bbox 'w,s,e,n' or GeoJSON text; what cloudcore.parse_aoi takes."""
    start: dt.date
    end: dt.date
    max_scene_cloud: float | None
    flags: str
    buffer_m: float
    mask: str
    """qa, ml or qa+ml."""
    threshold: float
    date: str | None
    method: str
    window_days: int
    order: str
    plot: str = "chart"
    """How Explore shows the dates: chart or calendar."""
    near: str | None = None
    """The date of interest (YYYY-MM-DD) whose closest clear dates Explore names; None for none."""
    tl_filled: bool = False
    """Timelapse frames gap-filled (URL `filled=1`) or as observed."""
    tl_fps: int = 3
    """Timelapse frames per second (URL `fps`)."""


def folder_sharing() -> bool:
    """Does this server share a folder (CLOUDCORE_FOLDER_ROOT set)? A broken setting counts as
    no: opening the folder then says what the operator must fix."""
    try:
        return config.folder_root() is not None
    except CloudCoreError:  # reported where a folder is opened, not here
        return False


def init_from_url() -> None:
    """Seed the session from the URL on its first run (unknown or broken values fall back,
    and the page says which were not used)."""
    if st.session_state.get("_seeded"):
        return
    params = {name: st.query_params.get(name) for name in st.query_params}
    settings, notes = settings_from_params(params, folder_sharing=folder_sharing())
    try:
        parse_aoi(settings["aoi"], settings=config.settings(), allow_files=False)
    except CloudCoreError as err:
        # Numbers the dashboard cannot use (too large, inverted...): open on the example area and
        # show the problem beside the map, with the outline in red where it can be drawn.
        st.session_state["_aoi_rejected"] = (settings["aoi"], err)
        settings["aoi"] = DEMO_BBOX if settings["source_kind"] == "demo" else PC_EXAMPLE_BBOX
        notes.append("The area in the page address cannot be used here, so the example area is shown: see beside the map.")
    st.session_state.update(settings)
    st.session_state["_seeded"] = True
    if notes:
        st.warning("Some settings in the page address could not be used:\n\n" + "\n".join(f"- {n}" for n in notes))


def request(**changes: Any) -> None:
    """Ask for settings to change on the next run (widgets cannot change once drawn), then rerun."""
    st.session_state.setdefault("_pending", {}).update(changes)
    st.rerun()


def try_aoi(text: str) -> None:
    """Make `text` the area if cloudcore takes it; otherwise keep the last good area (and the page
    address) and remember what was refused and why, for the page to show beside the map."""
    try:
        parse_aoi(text, settings=config.settings(), allow_files=False)
    except CloudCoreError as err:
        st.session_state["_aoi_rejected"] = (text, err)
        st.rerun()
    st.session_state.pop("_aoi_rejected", None)
    request(aoi=text, date=None)


def rejected_aoi() -> tuple[str, CloudCoreError] | None:
    """The last area the user gave that was refused (text, why), until they give a good one."""
    return st.session_state.get("_aoi_rejected")


def forget_rejected_aoi() -> None:
    st.session_state.pop("_aoi_rejected", None)


def apply_pending() -> None:
    for key, value in st.session_state.pop("_pending", {}).items():
        st.session_state[key] = value


def current() -> View:
    s = st.session_state
    kind = s["source_kind"]
    source = s["stac_url"].strip() if kind == CUSTOM else s.get("folder", "").strip() if kind == FOLDER else kind
    return View(
        source=source,
        aoi=s["aoi"],
        start=s["start"],
        end=s["end"],
        max_scene_cloud=None if s["cc"] >= 100 else float(s["cc"]),
        flags=",".join(sorted(s["flags"])),
        buffer_m=float(s["buffer"]),
        mask=s["mask"],
        threshold=float(s["thr"]),
        date=s.get("date"),
        method=s["method"],
        window_days=int(s["window"]),
        order="time" if s["order"] == ORDERS[1] else "clearest",
        plot=s.get("plot") if s.get("plot") in PLOTS else PLOTS[0],
        near=s.get("near"),
        tl_filled=bool(s.get("tl_filled", False)),
        tl_fps=int(s.get("tl_fps", 3)),
    )


def write_url(view: View) -> None:
    """Mirror the view into the URL (only what differs from nothing; never a secret)."""
    params: dict[str, str] = {"source": view.source}
    poly = geojson_to_poly(view.aoi) if view.aoi.lstrip().startswith("{") else None
    if poly:
        params["poly"] = poly
    else:
        params["bbox"] = view.aoi
    params.update(start=view.start.isoformat(), end=view.end.isoformat())
    if view.max_scene_cloud is not None:
        params["cc"] = f"{view.max_scene_cloud:g}"
    params.update(flags=view.flags, buffer=f"{view.buffer_m:g}", mask=view.mask, thr=f"{view.threshold:g}")
    if view.date:
        params["date"] = view.date
    params.update(method=view.method, window=str(view.window_days), order=view.order, plot=view.plot)
    if view.near:
        params["near"] = view.near
    if view.tl_filled:
        params["filled"] = "1"
    params["fps"] = str(view.tl_fps)
    if dict(st.query_params) != params:
        st.query_params.from_dict(params)


def _on_source_change() -> None:
    """Switching to the demo moves the view to where the demo has data."""
    if st.session_state["source_kind"] == "demo":
        st.session_state["aoi"] = DEMO_BBOX
        st.session_state["start"], st.session_state["end"] = DEMO_START, DEMO_END
        st.session_state["date"] = None


def _on_url_typed() -> None:
    """A URL the user typed here is their own choice: no confirmation asked (a link's is asked)."""
    from .source_gate import mark_confirmed

    mark_confirmed(st.session_state["stac_url"].strip())


WIDGET_KEYS = ("source_kind", "stac_url", "folder", "start", "end", "cc", "mask", "flags", "buffer", "thr", "method", "window",
               "tl_filled", "tl_fps")


def sidebar() -> None:
    """The settings every page shares."""
    # Streamlit drops a widget's state when a page switch renders it anew; writing each value
    # back before the widgets are drawn keeps the settings across pages (Streamlit's own advice).
    for key in WIDGET_KEYS:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]
    with st.sidebar:
        kinds = (*SOURCES, CUSTOM, FOLDER) if folder_sharing() else (*SOURCES, CUSTOM)
        if st.session_state.get("source_kind") not in kinds:
            st.session_state["source_kind"] = CUSTOM  # the server stopped sharing its folder
        st.selectbox("Data source", kinds, key="source_kind", on_change=_on_source_change,
                     help="Planetary Computer searches all of Landsat 4-9 Collection 2 Level-2; the demo is a synthetic record that works offline.")
        if st.session_state["source_kind"] == CUSTOM:
            st.text_input("STAC API URL", key="stac_url", placeholder="https://example.org/stac/v1", on_change=_on_url_typed)
        if st.session_state["source_kind"] == FOLDER:
            st.text_input("Folder (inside the folder this server shares)", key="folder", placeholder="landsat/2021")
        latest = latest_date(dt.date.today())
        # One above the other: side by side, a 300 px sidebar cuts the dates ("2022/01/0").
        st.date_input("From", key="start", min_value=LANDSAT_RECORD_START, max_value=latest, format="YYYY-MM-DD")
        st.date_input("To", key="end", min_value=LANDSAT_RECORD_START, max_value=latest, format="YYYY-MM-DD")
        st.slider("Skip scenes whose scene-wide cloud is over (%)", 0, 100, key="cc",
                  help="A prefilter on the metadata; 100 keeps every scene.")
        with st.expander("Mask", expanded=False):
            st.selectbox("Cloud mask", MASK_KINDS, key="mask", format_func=MASK_LABELS.get,
                         help="The ML model (ukis-csmask) reads six bands and takes a few seconds per date.")
            ml_only = st.session_state.get("mask") == "ml"
            st.multiselect("QA flags that remove a pixel", FLAG_CHOICES, key="flags", disabled=ml_only,
                           help=NOT_UNDER_ML if ml_only else "QA_PIXEL classes whose pixels count as obscured and get filled.")
            st.number_input("Extra buffer around cloud and shadow (m)", 0, 5000, step=30, key="buffer", disabled=ml_only,
                            help=NOT_UNDER_ML if ml_only else "Grows QA_PIXEL's cloud and shadow by this distance.")
            if ml_only:
                st.caption(NOT_UNDER_ML)
        st.slider("A clear date has under (% of the area obscured)", 0, 100, key="thr",
                  help="Obscured: cloud, shadow, the QA flags you chose, or no data, as a share of your area.")
        with st.expander("Gap filling", expanded=False):
            st.selectbox("Method", FILL_METHODS, key="method", help=METHODS_HELP)
            st.slider("Window (days either side)", 1, 365, key="window")
