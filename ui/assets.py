"""Serve Leaflet and Leaflet.draw from the app itself, so the map works with no CDN.

The files come from the `django-leaflet` wheel on PyPI (a requirement), copied at start-up
into ./static/vendor, which Streamlit serves at /app/static/ (server.enableStaticServing).
Nothing third-party is committed; the copy is made on the first run of each install.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

STATIC = Path(__file__).resolve().parent.parent / "static"
VENDOR = STATIC / "vendor" / "leaflet"
URL = "/app/static/vendor/leaflet"


def _package_static() -> Path | None:
    """Where the installed django-leaflet keeps leaflet.js (found without importing Django)."""
    spec = importlib.util.find_spec("leaflet")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "static" / "leaflet"
    return folder if (folder / "leaflet.js").is_file() else None


def install_leaflet() -> bool:
    """Copy Leaflet into ./static/vendor once; True when the local files are in place."""
    if (VENDOR / "leaflet.js").is_file() and (VENDOR / "draw" / "leaflet.draw.js").is_file():
        return True
    source = _package_static()
    if source is None:
        return False
    staging = VENDOR.with_name("leaflet.partial")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(source, staging, ignore=shutil.ignore_patterns("*.map"))
    shutil.rmtree(VENDOR, ignore_errors=True)
    staging.rename(VENDOR)
    return True


def use_local_leaflet() -> None:
    """Point folium's templates at the local files and drop its other CDN scripts (jQuery, Bootstrap)."""
    import folium
    import folium.plugins

    folium.Map.default_js = [("leaflet", f"{URL}/leaflet.js")]
    folium.Map.default_css = [("leaflet_css", f"{URL}/leaflet.css")]
    folium.plugins.Draw.default_js = [("leaflet_draw_js", f"{URL}/draw/leaflet.draw.js")]
    folium.plugins.Draw.default_css = [("leaflet_draw_css", f"{URL}/draw/leaflet.draw.css")]
