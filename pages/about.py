"""About: what the numbers mean and where the data comes from."""

from ui.frame import require_frame

require_frame()


import streamlit as st

from cloudcore import DEFAULT_FILL_METHOD, describe_methods

st.title("About")
st.markdown(
    """
**Obscured %** is the share of the area of interest (pixel centres inside it, on the scene's
native 30 m grid) that is cloud, cloud shadow, masked by your flags, or holds no data (outside
the swath, a Landsat 7 SLC-off gap). The **scene-wide** figure is the metadata's `eo:cloud_cover`
for the whole 185 km scene, shown beside it so the difference is visible.

Masks come from the QA_PIXEL band of Landsat Collection 2 Level-2, decoded per the USGS product
guides (Landsat 4-7 have no cirrus bits), or from a machine-learning model (ukis-csmask), or
both (sidebar: Mask). Gap filling fills each removed pixel from other dates in the window, by
the method chosen under Gap filling (below); the provenance view shows which date filled which
pixel.

Data: Microsoft Planetary Computer (`landsat-c2-l2`), any STAC API serving such items, or the
synthetic demo record. Every setting lives in the page address: copy it to share the view.
A folder of downloaded scenes on the server can be read only when the server's operator shares
one (`CLOUDCORE_FOLDER_ROOT`); only that folder and what lies inside it can be opened.
"""
)
st.markdown("**Gap-filling methods**\n\n" + "\n".join(
    f"- `{name}`{' (the default)' if name == DEFAULT_FILL_METHOD else ''}: {description}"
    for name, description, _ in describe_methods()
))
