"""Explore: choose the area, see cloud over it for every date, pick a clear date."""

from ui.frame import require_frame

require_frame()


import datetime as dt

import streamlit as st

from cloudcore import DEMO_END, DEMO_START, CloudCoreError, SourceUnreachableError
from ui import config, filmstrip, maps, near, services, source_gate, state, uploads
from ui.calendar import calendar, calendar_key
from ui.charts import timeline
from ui.feedback import message_for, plain, show_error

view = state.current()
st.title("Cloud over your area, date by date")
st.caption("For every Landsat 4–9 acquisition over the area you draw, how much of **that area** is cloud, shadow "
           "or missing (not the scene-wide figure), and any date with its gaps filled from its neighbours.")

try:
    aoi = services.aoi_for(view.aoi)
except CloudCoreError:
    # The settings changed under a kept area (a stricter server limit): start again from the example.
    state.request(aoi=state.DEMO_BBOX if view.source == "demo" else state.PC_EXAMPLE_BBOX, date=None)
rejected = state.rejected_aoi()


def go_to_demo() -> None:
    state.forget_rejected_aoi()
    st.session_state["_pending"] = {"source_kind": "demo", "aoi": state.DEMO_BBOX, "start": DEMO_START,
                                    "end": DEMO_END, "date": None}


def keep_last_good_area() -> None:
    state.forget_rejected_aoi()
    st.session_state.pop("_typed_for", None)  # the box shows the kept area again


map_col, side_col = st.columns([3, 2])
with map_col:
    st.caption("Draw a rectangle or polygon with the tools at the map's top left to set the area of interest.")
    west, south, east, north = aoi.bbox_lonlat
    pad_x, pad_y = (east - west) * 0.6, (north - south) * 0.6
    outline = maps.outline_of(rejected[0]) if rejected else None
    view_bounds = (west - pad_x, south - pad_y, east + pad_x, north + pad_y)
    if outline:  # show what was refused as well as what is kept
        view_bounds = maps.union_bounds(view_bounds, outline)
    m = maps.build_map(aoi.to_geojson(), view_bounds, rejected=outline)
    drawn = maps.show_map(m, key="explore_map")
    if drawn:
        text = maps.geometry_text(drawn)
        # st_folium hands the last drawing back on every run: act on each drawing once.
        if text != st.session_state.get("_last_drawn"):
            st.session_state["_last_drawn"] = text
            if text != view.aoi:
                state.try_aoi(text)
with side_col:
    st.metric("Area of interest", f"{aoi.area_km2:,.1f} km²")
    if rejected:
        _, text = message_for(rejected[1])
        st.error(f"**That area was not used.** {plain(text)}")
        st.caption("The map keeps the last good area (orange)" + ("; the refused one is dashed red." if outline else "."))
        st.button("Keep the last good area", on_click=keep_last_good_area, key="forget_rejected")
    # The box shows the current bbox, and keeps what the user typed while it is refused; one keyed
    # widget throughout, so a change never shows two boxes for a moment.
    if st.session_state.get("_typed_for") != view.aoi:
        st.session_state["_typed_for"] = view.aoi
        st.session_state["typed_bbox"] = "" if view.aoi.lstrip().startswith("{") else view.aoi
    with st.expander("Type a bbox or upload GeoJSON", expanded=rejected is not None):
        with st.form("bbox_form", border=False, enter_to_submit=True):
            typed = st.text_input("bbox minlon,minlat,maxlon,maxlat (Enter applies it)", key="typed_bbox")
            if st.form_submit_button("Use this bbox") and typed.strip() and typed.strip() != view.aoi:
                state.try_aoi(typed.strip())
        upload = st.file_uploader("GeoJSON file", type=["geojson", "json"], help=uploads.upload_help(config.settings()))
        # The uploader keeps its file across reruns: take each file once, so a later drawing wins.
        if upload is not None and st.session_state.get("_upload_id") != upload.file_id:
            st.session_state["_upload_id"], st.session_state["_upload_error"] = upload.file_id, None
            try:
                text = uploads.aoi_text_from_upload(upload.getvalue(), config.settings())
            except CloudCoreError as err:
                st.session_state["_upload_error"] = err
            else:
                if text != view.aoi:
                    state.try_aoi(text)
        if upload is not None and st.session_state.get("_upload_error") is not None:
            show_error(st.session_state["_upload_error"])

source_gate.require_consent(view.source)
try:
    with st.spinner(services.searching_text(view)):
        groups = services.dates_for(view.source, view.aoi, view.start, view.end, view.max_scene_cloud)
except CloudCoreError as err:
    if isinstance(err, SourceUnreachableError) and view.source != "demo":
        st.warning(f"**{view.source} cannot be reached from this server right now.** You can explore the "
                   "built-in demo data instead: a synthetic Landsat record that needs no network.")
        st.button("Explore the demo data", type="primary", on_click=go_to_demo, key="to_demo")
        with st.expander("What went wrong"):
            show_error(err)
    else:
        show_error(err)
    st.stop()

if not groups:
    st.info(f"No Landsat acquisition over this area between {view.start} and {view.end}. Widen the dates or move the area.")
    if view.source == "demo":
        st.caption(f"The demo holds acquisitions from {DEMO_START} to {DEMO_END} over its example area.")
        outside_years = view.end < DEMO_START or view.start > DEMO_END
        if outside_years or view.aoi != state.DEMO_BBOX:
            st.button("Show the demo's dates and area", type="primary", on_click=go_to_demo, key="demo_dates")
    st.stop()

if view.mask != "qa":
    todo = services.missing_dates(view, groups)
    per_date = services.ml_seconds_per_date(aoi.area_km2)
    gate = (view.source, view.aoi, view.start, view.end, view.mask, view.max_scene_cloud)
    if todo and todo * per_date > 10 and st.session_state.get("_ml_go") != gate:
        st.info(f"The machine-learning mask runs a model on every date: **{todo} of {len(groups)} dates** still to "
                f"measure here, about **{services.duration(todo * per_date)}** on this server "
                f"({per_date:.1f} s a date for this area, measured). QA_PIXEL measures them in seconds.")
        g1, g2, _ = st.columns([2, 2, 3])
        g1.button("Measure with the ML mask", type="primary", key="ml_go",
                  on_click=lambda: st.session_state.update(_ml_go=gate))
        g2.button("Use QA_PIXEL instead", key="ml_to_qa", on_click=lambda: st.session_state.update(mask="qa"))
        st.stop()
    if todo:
        st.button("Stop measuring (what is measured is kept)", key="ml_stop",
                  on_click=lambda: st.session_state.pop("_ml_go", None))

progress = st.progress(0.0, text=f"Measuring cloud over the area on {len(groups)} dates...")
PLOT_LABELS = {"chart": ":material/scatter_plot: Chart", "calendar": ":material/calendar_month: Calendar"}
plot = st.segmented_control("Show the dates as", state.PLOTS, default=view.plot, required=True,
                            format_func=PLOT_LABELS.get, label_visibility="collapsed",
                            help="The chart: one mark per date. The calendar: one cell per day, year by year.")
if plot and plot != view.plot:
    state.request(plot=plot)
near_day = dt.date.fromisoformat(view.near) if view.near else None
near_shown = view.near if near_day and view.start <= near_day <= view.end else None  # never stretch the axes
if view.plot == "calendar":
    st.caption(calendar_key(view.threshold), unsafe_allow_html=True)
chart_slot = st.empty()
per_date = services.ml_seconds_per_date(aoi.area_km2) if view.mask != "qa" else None


def figure(records):
    if view.plot == "calendar":
        return calendar(records, view.threshold, view.date, start=view.start, end=view.end, near=near_shown)
    return timeline(records, view.threshold, view.date, near_shown)


def on_update(records, total):
    left = f" · about {services.duration((total - len(records)) * per_date)} left" if per_date else ""
    progress.progress(len(records) / total, text=f"Measured {len(records)} of {total} dates{left}")
    if records and (len(records) % 8 == 0 or len(records) == total):
        chart_slot.plotly_chart(figure(sorted(records, key=lambda r: r.date)), key=None)


try:
    records = services.cover(view, groups, on_update)
except CloudCoreError as err:
    show_error(err)
    st.stop()
progress.empty()

event = chart_slot.plotly_chart(figure(records), key=view.plot, on_select="rerun", selection_mode="points")
points = (event or {}).get("selection", {}).get("points", []) if event else []
if points:
    data = points[0].get("customdata") or [None]
    if view.plot == "calendar":  # a day without an acquisition has nothing to select
        picked = data[0] if len(data) > 2 and data[2] else None
    else:
        picked = data[0] or points[0].get("x")
    if picked and str(picked)[:10] != view.date:
        state.request(date=str(picked)[:10])

measured = [r for r in records if r.error is None and r.obscured_pct is not None]
clear = [r for r in measured if r.obscured_pct < view.threshold]
failed = [r for r in records if r.error]
c1, c2, c3, c4 = st.columns(4)
c1.metric(f"Dates under {view.threshold:g} % obscured", f"{len(clear)} of {len(records)}")
best = min(measured, key=lambda r: r.obscured_pct, default=None)
c2.metric("Clearest date", best.date if best else "none",
          help=f"{best.obscured_pct:.1f} % of the area obscured" if best else None)
c3.metric("Dates that failed", len(failed))
with c4:
    st.download_button("Download the table (CSV)", services.cover_csv(records, view),
                       file_name=services.file_stem(view, "cloud-cover") + ".csv", mime="text/csv", on_click="ignore",
                       help="Every date's statistics, with the settings that made them.")
if failed:
    with st.expander(f"{len(failed)} dates could not be measured"):
        for r in failed:
            st.write(f"**{r.date}** ({r.platform}): {plain(r.error)}")  # the error may quote a remote server

options = [r.date for r in sorted(measured, key=lambda r: r.obscured_pct)]
if options:
    labels = {r.date: f"{r.date} · {r.platform} · {r.obscured_pct:.1f} % obscured" for r in measured}
    current = view.date if view.date in labels else None
    pick_col, go_col = st.columns([3, 2], vertical_alignment="bottom")
    choice = pick_col.selectbox("Selected date (or click a point on the chart, a day on the calendar or a picture below)", options,
                                index=options.index(current) if current else None, format_func=labels.get,
                                placeholder="Pick a date")
    if choice and choice != view.date:
        state.request(date=choice)
    if view.date and go_col.button(f"Compare {view.date}: masked and gap-filled →", type="primary", key="to_compare"):
        st.switch_page("pages/compare.py")

near.show(view, measured)

st.subheader("The dates")
order = st.radio("Order", state.ORDERS, index=0 if view.order == "clearest" else 1, horizontal=True, label_visibility="collapsed")
if order != (state.ORDERS[0] if view.order == "clearest" else state.ORDERS[1]):
    state.request(order=order)
filmstrip.show(view, measured, groups)

with st.expander("Table of every date"):
    st.dataframe([r.to_dict() for r in records], hide_index=True)
