"""Compare: the selected date as observed, masked and gap-filled, and where each fill came from."""

from ui.frame import require_frame

require_frame()


import datetime as dt

import pandas as pd
import streamlit as st

from cloudcore import DEFAULT_FILL_METHOD, DISAGREEMENT_COLOURS, CloudCoreError, describe_methods
from ui import maps, services, source_gate, state
from ui.feedback import show_error
from ui.filmstrip import short_platform

METHOD_TEXT = {name: description for name, description, _ in describe_methods()}

view = state.current()
st.title("Compare: masked and gap-filled")
st.caption("The selected date as observed, with cloud, shadow and missing pixels removed, and with those pixels "
           "filled from other dates of the window. Swipe between any two on the map; zoom and pan are shared.")

source_gate.require_consent(view.source)
try:
    aoi = services.aoi_for(view.aoi)
    with st.spinner(services.searching_text(view)):
        groups = services.dates_for(view.source, view.aoi, view.start, view.end, view.max_scene_cloud)
except CloudCoreError as err:
    show_error(err)
    st.stop()

dates = sorted({g.date.isoformat() for g in groups})
if not dates:
    st.info("No dates over this area yet: set the area and dates on the Explore page.")
    st.stop()

# Each date's obscured share in the picker: measured here under QA_PIXEL (seconds, and cached for
# Explore too); under the ML mask only what is measured already, since measuring costs minutes.
if view.mask == "qa":
    try:
        with st.spinner("Measuring the obscured share of each date..."):
            measured = {(r.date, r.platform): r for r in services.cover(view, groups, lambda *_: None) if r.error is None}
    except CloudCoreError:
        measured = {}
else:
    measured = services.known_cover(view, groups)
labels = {}
for day in dates:
    shares = [f"{short_platform(p)} {r.obscured_pct:.1f} % obscured" for (d, p), r in sorted(measured.items())
              if d == day and r.obscured_pct is not None]
    labels[day] = " · ".join([day, *shares])


def ramp_legend(bar_png: bytes, caption: str):
    """A colour ramp with its caption on the left; returns the column beside it for the details."""
    left, right = st.columns([2, 3])
    left.image(bar_png, width="stretch")
    left.caption(caption)
    return right


def set_date(day: str) -> None:
    st.session_state["date"] = day


index = dates.index(view.date) if view.date in dates else None
st.session_state["_compare_pick"] = view.date if index is not None else None
with st.container(key="row"):
    p1, p2, p3 = st.columns([2, 5, 2], vertical_alignment="bottom")
p1.button("◀ Previous", key="prev_date", disabled=not index, width="stretch",
          on_click=set_date, args=(dates[index - 1] if index else "",))
p2.selectbox("Date", dates, key="_compare_pick", format_func=labels.get, placeholder="Pick a date",
             on_change=lambda: set_date(st.session_state["_compare_pick"]))
p3.button("Next ▶", key="next_date", disabled=index is None or index >= len(dates) - 1, width="stretch",
          on_click=set_date, args=(dates[index + 1] if index is not None and index + 1 < len(dates) else "",))
if not view.date:
    st.info("Pick a date above, or click one on the Explore page's chart.")
    st.stop()
if view.date not in dates:
    st.warning(f"{view.date} has no acquisition over this area in the chosen date range: pick another date.")
    st.stop()

body = st.empty()
# Replace the previous date's view at once, so old images never pass for the new date's.
body.info(f"Filling the clouds of {view.date} from dates within {view.window_days} days...")
waiting = f"Filling the clouds of {view.date} from dates within {view.window_days} days..."
if view.mask != "qa":
    target = dt.date.fromisoformat(view.date)
    near = sum(1 for g in groups if abs((g.date - target).days) <= view.window_days)
    waiting += (f" The machine-learning mask runs on each of the {near} dates in the window: about "
                f"{services.duration(near * services.ml_seconds_per_date(aoi.area_km2))} the first time.")
try:
    with st.spinner(waiting):
        result = services.comparison(view.source, view.aoi, dt.date.fromisoformat(view.date), view.window_days,
                                     view.method, view.flags, view.buffer_m, view.mask)
except CloudCoreError as err:
    body.empty()
    show_error(err)
    st.stop()

summary = result["summary"]
stem = services.file_stem(view, "filled")
ask = (view.source, view.aoi, dt.date.fromisoformat(view.date), view.window_days, view.method, view.flags,
       view.buffer_m, view.mask)
with body.container():
    st.caption(f"{view.date} · {summary['platform']} · {', '.join(summary['scene_ids'])} · fill method: "
               f"{summary['method']} · mask: {view.mask}")
    st.markdown(f"**How the gaps are filled** (`{summary['method']}`"
                f"{', the default' if summary['method'] == DEFAULT_FILL_METHOD else ''}): "
                f"{METHOD_TEXT.get(summary['method'], '')}")
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("Masked (cloud, shadow, no data)", f"{summary['masked_pct']:.1f} %")
    m2.metric("Filled from other dates", f"{summary['filled_pct']:.1f} %")
    m3.metric("Still unfilled", f"{summary['unfilled_pct']:.1f} %")
    with m4.popover("Downloads", width="stretch"):
        st.download_button("Gap-filled GeoTIFF (reflectance + provenance)", result["tif"], file_name=f"{stem}.tif",
                           mime="image/tiff", on_click="ignore", help="A Cloud-Optimized GeoTIFF: the six bands, the provenance band "
                           "(YYYYMMDD), and tags saying date, method, mask, area, source and version.")
        picture = st.selectbox("Picture", list(services.PICTURES), index=3, format_func=services.PICTURES.get,
                               key="zip_picture")
        height, width = result["rgba"][picture].shape[:2]
        scale = st.select_slider("PNG size", [1, 2, 4, 8], value=4, key="zip_scale",
                                 format_func=lambda s: f"{s}x: {width * s} x {height * s} px")
        st.download_button("PNG with world file (.zip)", services.picture_zip(*ask, picture, scale, f"{picture}_{view.date}"),
                           file_name=f"{picture}_{stem}.zip", mime="application/zip", on_click="ignore",
                           help="The PNG, its world file (.pgw), projection (.prj) and .aux.xml: GIS software "
                                "and GDAL place it on the map.")
        st.download_button("Fill summary (CSV)", result["summary_csv"], file_name=f"fill-summary_{stem}.csv",
                           mime="text/csv", on_click="ignore", help="One row per source date: its share of the area, days from "
                           "the target, and its colour matching per band.")

    names = list(services.PICTURES)
    s1, s2, _ = st.columns([2, 2, 3], vertical_alignment="bottom")
    left = s1.selectbox("Left of the swipe", names, index=0, format_func=services.PICTURES.get, key="swipe_left")
    right = s2.selectbox("Right of the swipe", names, index=3, format_func=services.PICTURES.get, key="swipe_right")
    west, south, east, north = result["bounds"]
    swipe = maps.swipe_map(aoi.to_geojson(), (services.PICTURES[left], result["overlays"][left][0]),
                           (services.PICTURES[right], result["overlays"][right][0]), (west, south, east, north))
    maps.show_static_map(swipe, key="compare_map", height=560)

    st.markdown("**Where each pixel came from**: grey is the date itself; blue shades are earlier dates, red shades "
                "later ones, darker the farther away.")
    l2 = ramp_legend(result["ramp"], f"days from {view.date}: −{result['ramp_days']} (left) · 0 · "
                                     f"+{result['ramp_days']} (right)")
    with l2:
        for code, colour, share in result["top"]:
            label = "other dates" if code == 0 else f"{str(code)[:4]}-{str(code)[4:6]}-{str(code)[6:]}"
            note = " (this date)" if label == view.date else ""
            st.markdown(
                f"<span style='display:inline-block;width:12px;height:12px;background:rgb{tuple(colour)};"
                f"margin-right:6px;border:1px solid #888'></span>{label}{note}: {share:.1f} % of the area",
                unsafe_allow_html=True,
            )

    st.markdown("**How sure each filled pixel is**: the predicted absolute error in reflectance, 0 where the "
                "date itself was seen, darker where a fill is less sure (measured against real Landsat dates: "
                "see the README).")
    u2 = ramp_legend(result["uncertainty_ramp"], f"predicted error: 0 (left) … {result['uncertainty_top']:.3f} "
                                                 "or more (right)")
    with u2:
        if result["uncertainty_mean"] is not None:
            st.markdown(f"Filled pixels: **{result['uncertainty_mean']:.3f}** predicted error on average "
                        f"(reflectance runs from 0 to about 0.5 over land).")
        st.image(result["png"]["uncertainty"], caption="Predicted error of each pixel", width=220)

    with st.container(key="pictures"):
        c1, c2, c3, c4 = st.columns(4)
        c1.image(result["png"]["original"], caption="As observed", width="stretch")
        c2.image(result["png"]["masked"], caption="Cloud-masked", width="stretch")
        c3.image(result["png"]["filled"], caption="Gap-filled", width="stretch")
        c4.image(result["png"]["provenance"], caption="Where each pixel came from", width="stretch")

    if result["corrections"]:
        with st.expander("Colour matching of the donor dates (per band: target = gain x donor + offset, in reflectance)"):
            st.dataframe(pd.DataFrame(result["corrections"]), hide_index=True)
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
