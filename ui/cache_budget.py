"""One memory budget for the dashboard's server-side caches, shared out between them.

The `ui_cache_mb` setting (CLOUDCORE_UI_CACHE_MB, default 512) is what every cache of the server
together may hold, however many people use it: the caches are shared by all sessions, so a new
session adds reuse, not memory. Each cache gets a fixed share, enforced in bytes where Streamlit
can (`st.cache_data(max_size=...)` counts the pickled bytes it stores) and as a count of items of
measured size where the cache holds Python objects. Read once when the app's modules load:
change it and restart the server.
"""

from __future__ import annotations

from cloudcore import Settings

# Gap-filled comparisons are by far the largest items (about 0.5 MB for a 7 km square, growing
# with the area), then the per-date statistics that make every chart; searches, thumbnails and
# parsed areas are small; a georeferenced PNG is made only when someone downloads one.
SHARES = {"comparisons": 0.50, "cover": 0.20, "thumbnails": 0.10, "searches": 0.10, "downloads": 0.05, "aois": 0.05}


def share_bytes(name: str, settings: Settings) -> int:
    """The bytes one cache may hold (at least 1 MB, so every cache can keep something)."""
    return max(int(settings.ui_cache_mb * SHARES[name] * 1024 * 1024), 1024 * 1024)
