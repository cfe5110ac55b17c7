"""The view's settings: session state <-> URL query parameters, and the shared sidebar.

Every setting that shapes the view lives in the URL, so a link reproduces it:
source, bbox (or poly), start, end, cc, flags, buffer, thr, date, method, window, order.
Secrets never do. The URL is read once per session, then rewritten from the state on
every run, which also keeps it when the user switches pages.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import streamlit as st

from cloudcore.demo import DEMO_END, DEMO_EXAMPLE_BBOX, DEMO_START
from cloudcore.options import DEFAULT_FILL_METHOD, FILL_METHODS
from cloudcore.gapfill import DEFAULT_WINDOW_DAYS
from cloudcore.mlmask import MASK_KINDS
from cloudcore.qa import DEFAULT_FLAGS, FLAG_BITS

SOURCES = ("planetary-computer", "demo")
CUSTOM = "a STAC API URL"
FLAG_CHOICES = [f for f in FLAG_BITS if f != "fill"]  # fill is always removed
ORDERS = ("clearest first", "time order")
MASK_LABELS = {"qa": "QA_PIXEL (fast)", "ml": "machine-learning model", "qa+ml": "QA_PIXEL or ML (union)"}

# A first visit opens here: a lake-and-farmland area with a record of varied cloud.
PC_EXAMPLE_BBOX = "8.45,47.2,8.6,47.3"
DEMO_BBOX = ",".join(f"{v:.5f}" for v in DEMO_EXAMPLE_BBOX)


def _default_dates(source: str) -> tuple[dt.date, dt.date]:
    if source == "demo":
        return DEMO_START, DEMO_END
    today = dt.date.today()
    return today - dt.timedelta(days=365), today


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


def _bbox_or_none(text: str | None) -> str | None:
    if not text:
        return None
    parts = text.split(",")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        return None
    return ",".join(f"{v:.6f}".rstrip("0").rstrip(".") for v in values) if len(values) == 4 else None


def poly_to_geojson(text: str) -> str | None:
    """'x1,y1,x2,y2,...' (the URL form of a drawn polygon) -> GeoJSON Polygon text."""
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        return None
    if len(values) < 6 or len(values) % 2:
        return None
    ring = [[values[i], values[i + 1]] for i in range(0, len(values), 2)]
    if ring[0] != ring[-1]:
        ring.append(ring[0])
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def geojson_to_poly(text: str) -> str | None:
    """The outer ring of a single GeoJSON Polygon as 'x1,y1,...' (5 decimals, ~1 m)."""
    try:
        geometry = json.loads(text)
    except (TypeError, ValueError):
        return None
    if geometry.get("type") == "Feature":
        geometry = geometry.get("geometry") or {}
    if geometry.get("type") != "Polygon":
        return None
    ring = geometry["coordinates"][0]
    return ",".join(f"{x:.5f},{y:.5f}" for x, y in ring[:-1])


def _date_or(text: str | None, default: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(text) if text else default
    except ValueError:
        return default


def _number_or(text: str | None, default: float, low: float, high: float) -> float:
    try:
        value = float(text) if text not in (None, "") else default
    except ValueError:
        return default
    return min(max(value, low), high)


def init_from_url() -> None:
    """Seed the session from the URL on its first run (unknown or broken values fall back)."""
    if st.session_state.get("_seeded"):
        return
    q = st.query_params
    source = q.get("source", "planetary-computer")
    kind = source if source in SOURCES else CUSTOM
    start_default, end_default = _default_dates(source)
    poly = poly_to_geojson(q.get("poly", "")) if q.get("poly") else None
    bbox = _bbox_or_none(q.get("bbox"))
    state = st.session_state
    state["source_kind"] = kind
    state["stac_url"] = source if kind == CUSTOM else ""
    state["aoi"] = poly or bbox or (DEMO_BBOX if source == "demo" else PC_EXAMPLE_BBOX)
    state["start"] = _date_or(q.get("start"), start_default)
    state["end"] = _date_or(q.get("end"), end_default)
    state["cc"] = int(_number_or(q.get("cc"), 100, 0, 100))
    flags = [f for f in q.get("flags", ",".join(sorted(DEFAULT_FLAGS))).split(",") if f in FLAG_CHOICES]
    state["flags"] = flags
    state["buffer"] = int(_number_or(q.get("buffer"), 0, 0, 5000))
    state["mask"] = q.get("mask") if q.get("mask") in MASK_KINDS else "qa"
    state["thr"] = int(_number_or(q.get("thr"), 10, 0, 100))
    state["date"] = q.get("date") or None
    state["method"] = q.get("method") if q.get("method") in FILL_METHODS else DEFAULT_FILL_METHOD
    state["window"] = int(_number_or(q.get("window"), DEFAULT_WINDOW_DAYS, 1, 365))
    state["order"] = ORDERS[1] if q.get("order") == "time" else ORDERS[0]
    state["_seeded"] = True


def request(**changes: Any) -> None:
    """Ask for settings to change on the next run (widgets cannot change once drawn), then rerun."""
    st.session_state.setdefault("_pending", {}).update(changes)
    st.rerun()


def apply_pending() -> None:
    for key, value in st.session_state.pop("_pending", {}).items():
        st.session_state[key] = value


def current() -> View:
    s = st.session_state
    source = s["stac_url"].strip() if s["source_kind"] == CUSTOM else s["source_kind"]
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
    params.update(method=view.method, window=str(view.window_days), order=view.order)
    if dict(st.query_params) != params:
        st.query_params.from_dict(params)


def _on_source_change() -> None:
    """Switching to the demo moves the view to where the demo has data."""
    if st.session_state["source_kind"] == "demo":
        st.session_state["aoi"] = DEMO_BBOX
        st.session_state["start"], st.session_state["end"] = DEMO_START, DEMO_END
        st.session_state["date"] = None


WIDGET_KEYS = ("source_kind", "stac_url", "start", "end", "cc", "mask", "flags", "buffer", "thr", "method", "window")


def sidebar() -> None:
    """The settings every page shares."""
    # Streamlit drops a widget's state when a page switch renders it anew; writing each value
    # back before the widgets are drawn keeps the settings across pages (Streamlit's own advice).
    for key in WIDGET_KEYS:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]
    with st.sidebar:
        st.selectbox("Data source", (*SOURCES, CUSTOM), key="source_kind", on_change=_on_source_change,
                     help="Planetary Computer searches all of Landsat 4-9 Collection 2 Level-2; the demo is a synthetic record that works offline.")
        if st.session_state["source_kind"] == CUSTOM:
            st.text_input("STAC API URL", key="stac_url", placeholder="https://example.org/stac/v1")
        c1, c2 = st.columns(2)
        c1.date_input("From", key="start", min_value=dt.date(1982, 7, 16))
        c2.date_input("To", key="end", min_value=dt.date(1982, 7, 16))
        st.slider("Skip scenes whose scene-wide cloud is over (%)", 0, 100, key="cc",
                  help="A prefilter on the metadata; 100 keeps every scene.")
        with st.expander("Mask", expanded=False):
            st.selectbox("Cloud mask", MASK_KINDS, key="mask", format_func=MASK_LABELS.get,
                         help="The ML model (ukis-csmask) reads six bands and takes a few seconds per date.")
            st.multiselect("QA flags that remove a pixel", FLAG_CHOICES, key="flags")
            st.number_input("Extra buffer around cloud and shadow (m)", 0, 5000, step=30, key="buffer")
        st.slider("A clear date has under (% of the AOI obscured)", 0, 100, key="thr")
        with st.expander("Gap filling", expanded=False):
            st.selectbox("Method", FILL_METHODS, key="method",
                         help="nearest-matched: the nearest clear date whose colours can be matched to this date's; "
                              "nearest: the nearest clear date as it is; median: the median of clear dates; "
                              "best-pixel: the best-scored clear pixel.")
            st.slider("Window (days either side)", 1, 365, key="window")
