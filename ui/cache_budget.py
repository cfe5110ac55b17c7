"""One memory budget for the dashboard's server-side caches, shared out between them.

`CLOUDCORE_UI_CACHE_MB` (default 512) is what every cache of the server together may hold,
however many people use it: the caches are shared by all sessions, so a new session adds
reuse, not memory. Each cache gets a fixed share, enforced in bytes where Streamlit can
(`st.cache_data(max_size=...)` counts the pickled bytes it stores) and as a count of items of
measured size where the cache holds Python objects. Read once when the app's modules load:
change it and restart the server.
"""

from __future__ import annotations

import logging
import math
import os

ENV = "CLOUDCORE_UI_CACHE_MB"
DEFAULT_MB = 512.0

# Gap-filled comparisons are by far the largest items (about 0.5 MB for a 7 km square, growing
# with the area), then the per-date statistics that make every chart; searches, thumbnails and
# parsed areas are small.
SHARES = {"comparisons": 0.55, "cover": 0.20, "thumbnails": 0.10, "searches": 0.10, "aois": 0.05}

_log = logging.getLogger(__name__)


def budget_mb(environ=None) -> float:
    """The configured total in MB; a missing or unusable value gives the default (and says so)."""
    text = (os.environ if environ is None else environ).get(ENV, "").strip()
    if not text:
        return DEFAULT_MB
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        _log.warning("%s=%r is not a positive number of MB: using %g", ENV, text, DEFAULT_MB)
        return DEFAULT_MB
    return value


def share_bytes(name: str, environ=None) -> int:
    """The bytes one cache may hold (at least 1 MB, so every cache can keep something)."""
    return max(int(budget_mb(environ) * SHARES[name] * 1024 * 1024), 1024 * 1024)
