"""Explore: choose the area, see cloud over it for every date, pick a clear date."""

from ui.frame import require_frame

require_frame()


import streamlit as st

from cloudcore import CloudCoreError, SourceUnreachableError
from ui import config, maps, services, state, uploads
from ui.charts import timeline
from ui.feedback import plain, show_error

view = state.current()
st.title("Cloud over your area, date by date")

try:
    aoi = services.aoi_for(view.aoi)
except CloudCoreError as err:
    show_error(err)
    aoi = None

map_col, side_col = st.columns([3, 2])
with map_col:
    st.caption("Draw a rectangle or polygon (tools at the map's top left) to set the area of interest.")
    if aoi is not None:
        west, south, east, north = aoi.bbox_lonlat
        pad_x, pad_y = (east - west) * 0.6, (north - south) * 0.6
        m = maps.build_map(aoi.to_geojson(), (west - pad_x, south - pad_y, east + pad_x, north + pad_y))
        drawn = maps.show_map(m, key="explore_map")
        if drawn:
            text = maps.geometry_text(drawn)
            if text != view.aoi:
                state.request(aoi=text, date=None)
with side_col:
    if aoi is not None:
        st.metric("Area of interest", f"{aoi.area_km2:,.1f} km²")
    with st.expander("Type a bbox or upload GeoJSON", expanded=aoi is None):
        typed = st.text_input("bbox minlon,minlat,maxlon,maxlat", value=view.aoi if not view.aoi.startswith("{") else "")
        if st.button("Use this bbox") and typed.strip() and typed.strip() != view.aoi:
            state.request(aoi=typed.strip(), date=None)
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
                    state.request(aoi=text, date=None)
        if upload is not None and st.session_state.get("_upload_error") is not None:
            show_error(st.session_state["_upload_error"])

if aoi is None:
    st.stop()

try:
    with st.spinner(f"Searching {view.source} for Landsat scenes over the area..."):
        groups = services.dates_for(view.source, view.aoi, view.start, view.end, view.max_scene_cloud)
except CloudCoreError as err:
    show_error(err)
    if isinstance(err, SourceUnreachableError) and view.source != "demo":
        if st.button("Use the demo source instead (works offline)"):
            state.request(source_kind="demo", aoi=state.DEMO_BBOX, start=state.DEMO_START, end=state.DEMO_END, date=None)
    st.stop()

if not groups:
    st.info(f"No Landsat acquisition over this area between {view.start} and {view.end}. Widen the dates or move the area.")
    if view.source == "demo" and view.aoi != state.DEMO_BBOX and st.button("Go to the demo's example area"):
        state.request(aoi=state.DEMO_BBOX, date=None)
    st.stop()

progress = st.progress(0.0, text=f"Measuring cloud over the area on {len(groups)} dates...")
chart_slot = st.empty()


def on_update(records, total):
    progress.progress(len(records) / total, text=f"Measured {len(records)} of {total} dates")
    if len(records) % 8 == 0 or len(records) == total:
        chart_slot.plotly_chart(timeline(sorted(records, key=lambda r: r.date), view.threshold, view.date), key=None)


try:
    records = services.cover(view, groups, on_update)
except CloudCoreError as err:
    show_error(err)
    st.stop()
progress.empty()

event = chart_slot.plotly_chart(
    timeline(records, view.threshold, view.date), key="timeline", on_select="rerun", selection_mode="points"
)
points = (event or {}).get("selection", {}).get("points", []) if event else []
if points:
    picked = points[0].get("customdata", [None])[0] or points[0].get("x")
    if picked and picked != view.date:
        state.request(date=str(picked)[:10])

measured = [r for r in records if r.error is None and r.obscured_pct is not None]
clear = [r for r in measured if r.obscured_pct < view.threshold]
failed = [r for r in records if r.error]
c1, c2, c3 = st.columns(3)
c1.metric(f"Dates under {view.threshold:g} % obscured", f"{len(clear)} of {len(records)}")
best = min(measured, key=lambda r: r.obscured_pct, default=None)
c2.metric("Clearest date", best.date if best else "none",
          help=f"{best.obscured_pct:.1f} % of the area obscured" if best else None)
c3.metric("Dates that failed", len(failed))
if failed:
    with st.expander(f"{len(failed)} dates could not be measured"):
        for r in failed:
            st.write(f"**{r.date}** ({r.platform}): {plain(r.error)}")  # the error may quote a remote server

options = [r.date for r in sorted(measured, key=lambda r: r.obscured_pct)]
if options:
    labels = {r.date: f"{r.date} · {r.platform} · {r.obscured_pct:.1f} % obscured" for r in measured}
    current = view.date if view.date in labels else None
    choice = st.selectbox("Selected date (or click a point on the chart)", options, index=options.index(current) if current else None,
                          format_func=labels.get, placeholder="Pick a date")
    if choice and choice != view.date:
        state.request(date=choice)
    if view.date:
        st.page_link("pages/compare.py", label=f"Compare masked and gap-filled images of {view.date} →")

st.subheader("The dates")
order = st.radio("Order", state.ORDERS, index=0 if view.order == "clearest" else 1, horizontal=True, label_visibility="collapsed")
if order != (state.ORDERS[0] if view.order == "clearest" else state.ORDERS[1]):
    state.request(order=order)
strip = sorted(measured, key=(lambda r: r.obscured_pct) if view.order == "clearest" else (lambda r: r.date))[:12]
by_key = {(g.date.isoformat(), g.platform): g for g in groups}
columns = st.columns(6)
for i, record in enumerate(strip):
    with columns[i % 6]:
        try:
            st.image(services.thumbnail(view.source, view.aoi, by_key[(record.date, record.platform)]), width="stretch")
        except CloudCoreError as err:
            st.caption(f"no picture: {err}")
        if st.button(f"{record.date} · {record.obscured_pct:.0f} %", key=f"pick_{record.date}_{record.platform}",
                     type="primary" if record.date == view.date else "secondary"):
            state.request(date=record.date)

with st.expander("Table of every date"):
    st.dataframe([r.to_dict() for r in records], hide_index=True)
    st.download_button("Download CSV", services.cover_csv(records), file_name="cloud_cover.csv", mime="text/csv")
