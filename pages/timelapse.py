"""Timelapse: the area through time, one frame per clear date (or every date, gap-filled)."""

from ui.frame import require_frame

require_frame()


import streamlit as st

from cloudcore import CloudCoreError
from ui import services, source_gate, state
from ui.feedback import plain, show_error

view = state.current()
st.title("Timelapse of your area")
st.caption("One frame per date whose share of the area obscured is at most the clear-date threshold (sidebar), "
           "in time order, each labelled with its date and sensor. Gap-filled frames fill each date's cloud from "
           "its neighbours, so with the threshold at 100 % every date with data becomes a frame.")

source_gate.require_consent(view.source)
try:
    with st.spinner(services.searching_text(view)):
        groups = services.dates_for(view.source, view.aoi, view.start, view.end, view.max_scene_cloud)
    if view.mask == "qa":
        with st.spinner("Measuring the obscured share of each date..."):
            records = services.cover(view, groups, lambda *_: None)
    else:  # measuring under the ML mask costs minutes: Explore asks first, and the frames use what it measured
        records = list(services.known_cover(view, groups).values())
except CloudCoreError as err:
    show_error(err)
    st.stop()

if not groups:
    st.info("No dates over this area yet: set the area and dates on the Explore page.")
    st.stop()
if view.mask != "qa" and len(records) < len(groups):
    st.info(f"The machine-learning mask has measured {len(records)} of {len(groups)} dates so far: measure them on the "
            "Explore page first, or choose QA_PIXEL under Mask in the sidebar.")
    st.stop()

frames = services.timelapse_dates(records, view.threshold)
c1, c2, _ = st.columns([2, 2, 3], vertical_alignment="bottom")
c1.toggle("Gap-filled frames", key="tl_filled",
          help="Fill each date's cloud, shadow and gaps from its neighbours (the Gap filling method in the sidebar). "
               "Slower: a fill per frame.")
c2.slider("Frames per second", 1, 10, key="tl_fps")
view = state.current()
if not frames:
    st.info(f"No date has at most {view.threshold:g} % of the area obscured. Raise the clear-date threshold in the "
            "sidebar (with gap-filled frames, 100 % makes every date a frame).")
    st.stop()
seconds = len(frames) * (services.FILLED_FRAME_S if view.tl_filled else services.FRAME_S)
st.caption(f"**{len(frames)} frames**, {frames[0]} to {frames[-1]}: about {services.duration(seconds)} to make.")

request = services.timelapse_request(view)
made = st.session_state.get("_timelapse")
if made is None or made["request"] != request:
    action = st.empty()  # one widget, Make then Stop, so the one not wanted never lingers
    if st.session_state.pop("_timelapse_go", None) != request:
        action.button(f"Make the timelapse ({len(frames)} frames)", type="primary", key="timelapse_action",
                      on_click=lambda: st.session_state.update(_timelapse_go=request))
        st.stop()
    # The go-ahead is used up above: any click (Stop, a setting, another page) starts a new run of
    # this script, which ends this one at its next progress update, and the page then offers Make
    # again. So the frames stop being made when the user leaves, and do not start by themselves on return.
    action.button("Stop", key="timelapse_action", help="Stop making frames (nothing is kept).")
    bar = st.progress(0.0, text=f"Making frame 1 of {len(frames)}...")

    def on_frame(done: int, total: int) -> None:
        text = f"Made {done} of {total} frames" if done < total else f"Made {total} frames; writing the GIF and the MP4..."
        bar.progress(done / max(total, 1), text=text)

    try:
        made = services.make_timelapse(view, request, on_frame)
    except CloudCoreError as err:
        show_error(err)
        st.stop()
    st.session_state["_timelapse"] = made
    st.rerun()  # draw the result without the progress bar and the Stop button

summary = made["summary"]
with st.container(key="timelapse_result"):
    left, right = st.columns([3, 2])
with left, st.container(key="timelapse_player"):
    st.image(made["gif"], caption=f"{summary['frames']} frames at {view.tl_fps} per second", width="stretch")
with right:
    stem = services.file_stem(view, "timelapse")
    st.download_button("Download the GIF", made["gif"], file_name=stem + ".gif", mime="image/gif", on_click="ignore",
                       type="primary", width="stretch")
    st.download_button("Download the MP4", made["mp4"], file_name=stem + ".mp4", mime="video/mp4", on_click="ignore",
                       width="stretch")
    st.caption(f"{summary['width']} × {summary['height']} px · {'gap-filled' if view.tl_filled else 'as observed'}")
    st.dataframe(made["rows"], hide_index=True, height=280)
    for problem in summary.get("skipped", []):
        st.warning(f"**{problem['date']}** was left out: {plain(problem['error'])}")
