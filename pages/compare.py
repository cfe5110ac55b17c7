"""Compare: the selected date as observed, masked and gap-filled, and where each fill came from."""

from ui.frame import require_frame

require_frame()


import datetime as dt

import streamlit as st

from cloudcore import DISAGREEMENT_COLOURS, CloudCoreError
from ui import maps, services, state
from ui.feedback import show_error

view = state.current()
st.title("Compare: masked and gap-filled")

try:
    aoi = services.aoi_for(view.aoi)
    with st.spinner(f"Searching {view.source} for Landsat scenes over the area..."):
        groups = services.dates_for(view.source, view.aoi, view.start, view.end, view.max_scene_cloud)
except CloudCoreError as err:
    show_error(err)
    st.stop()

dates = sorted({g.date.isoformat() for g in groups})
if not dates:
    st.info("No dates over this area yet: set the area and dates on the Explore page.")
    st.stop()
choice = st.selectbox("Date", dates, index=dates.index(view.date) if view.date in dates else None, placeholder="Pick a date")
if choice and choice != view.date:
    state.request(date=choice)
if not view.date:
    st.info("Pick a date above, or click one on the Explore page's chart.")
    st.stop()
if view.date not in dates:
    st.warning(f"{view.date} has no acquisition over this area in the chosen date range: pick another date.")
    st.stop()

try:
    with st.spinner(f"Filling the clouds of {view.date} from dates within {view.window_days} days..."):
        result = services.comparison(view.source, view.aoi, dt.date.fromisoformat(view.date), view.window_days,
                                     view.method, view.flags, view.buffer_m, view.mask)
except CloudCoreError as err:
    show_error(err)
    st.stop()

summary = result["summary"]
st.caption(f"{view.date} · {summary['platform']} · {', '.join(summary['scene_ids'])} · fill method: {summary['method']}"
           f" · mask: {view.mask}")
m1, m2, m3 = st.columns(3)
m1.metric("Masked (cloud, shadow, no data)", f"{summary['masked_pct']:.1f} %")
m2.metric("Filled from other dates", f"{summary['filled_pct']:.1f} %")
m3.metric("Still unfilled", f"{summary['unfilled_pct']:.1f} %")

show_holes = st.toggle("Show masked pixels as grey holes (off: tinted magenta over the image)", value=True)
c1, c2, c3, c4 = st.columns(4)
c1.image(result["png"]["original"], caption="As observed", width="stretch")
c2.image(result["png"]["masked" if show_holes else "masked_overlay"], caption="Cloud-masked", width="stretch")
c3.image(result["png"]["filled"], caption="Gap-filled", width="stretch")
c4.image(result["png"]["provenance"], caption="Where each pixel came from", width="stretch")
with c4:
    for code, colour in result["legend"]:
        label = f"{str(code)[:4]}-{str(code)[4:6]}-{str(code)[6:]}"
        note = " (this date)" if label == view.date else ""
        st.markdown(
            f"<span style='display:inline-block;width:12px;height:12px;background:rgb{tuple(colour)};"
            f"margin-right:6px'></span>{label}{note}", unsafe_allow_html=True,
        )
if result["corrections"]:
    with st.expander("Colour matching of the donor dates"):
        for line in result["corrections"]:
            st.write(line)
if result["disagreement"] is not None:
    st.subheader("Where QA_PIXEL and the ML mask disagree")
    agreed = result["agreement"]
    a1, a2 = st.columns([1, 3])
    a1.image(result["disagreement"], width="stretch")
    with a2:
        st.metric("Masks agree on", f"{agreed['agree_pct']:.1f} % of the area")
        st.write(f"IoU of removed pixels: {agreed['iou'] if agreed['iou'] is not None else 'n/a (neither removes any)'}")
        for code, (label, colour) in DISAGREEMENT_COLOURS.items():
            share = {1: agreed["qa_only_pct"], 2: agreed["ml_only_pct"], 3: agreed["both_pct"]}[code]
            st.markdown(f"<span style='display:inline-block;width:12px;height:12px;background:rgb{tuple(colour)};"
                        f"margin-right:6px'></span>{label}: {share:.1f} %", unsafe_allow_html=True)
if result["donor_errors"]:
    with st.expander(f"{len(result['donor_errors'])} donor dates could not be read and were skipped"):
        for line in result["donor_errors"]:
            st.write(line)

st.subheader("On the map")
west, south, east, north = result["bounds"]
overlays = {
    "gap-filled": result["overlays"]["filled"],
    "masked": result["overlays"]["masked_overlay"],
    "provenance": result["overlays"]["provenance"],
}
maps.show_map(maps.build_map(aoi.to_geojson(), (west, south, east, north), overlays), key="compare_map", height=460)

d1, d2, d3 = st.columns(3)
d1.download_button("Filled GeoTIFF (COG)", result["tif"], file_name=f"filled_{view.date}.tif", mime="image/tiff")
d2.download_button("Filled PNG", result["png"]["filled"], file_name=f"filled_{view.date}.png", mime="image/png")
d3.download_button("Masked PNG", result["png"]["masked_overlay"], file_name=f"masked_{view.date}.png", mime="image/png")
