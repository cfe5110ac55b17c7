"""The leafmap map: the AOI, a draw control, and computed images laid on it.

leafmap (and through it folium) is imported here, lazily, on the pages that show a map.
The map is rebuilt from small cached data each run; map objects are never cached.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from .assets import use_local_leaflet

AOI_STYLE = {"color": "#ff7800", "weight": 2, "fillOpacity": 0.05}


def build_map(aoi_geojson: dict[str, Any], bounds: tuple[float, float, float, float],
              overlays: dict[str, tuple[bytes, tuple[float, float, float, float]]] | None = None):
    """A map fitted to `bounds` (w, s, e, n) with the AOI outlined and a rectangle/polygon draw tool."""
    use_local_leaflet()
    import folium
    import folium.plugins
    import leafmap.foliumap as leafmap

    m = leafmap.Map(
        location=[(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2], zoom=11,
        draw_control=False, fullscreen_control=False, measure_control=False, search_control=False,
        layers_control=False, scale_control=True,
    )
    folium.GeoJson(aoi_geojson, name="AOI", style_function=lambda _: AOI_STYLE).add_to(m)
    for i, (name, (png, (west, south, east, north))) in enumerate((overlays or {}).items()):
        url = "data:image/png;base64," + base64.b64encode(png).decode()
        # Only the first overlay starts visible; the layer control switches the others on.
        folium.raster_layers.ImageOverlay(url, bounds=[[south, west], [north, east]], name=name, opacity=0.9,
                                          show=i == 0).add_to(m)
    folium.plugins.Draw(
        export=False,
        draw_options={"polyline": False, "circle": False, "marker": False, "circlemarker": False,
                      "rectangle": {"shapeOptions": {"color": "#0078ff"}}, "polygon": {"allowIntersection": False}},
        edit_options={"edit": False, "remove": False},
    ).add_to(m)
    if overlays:
        folium.LayerControl(collapsed=False).add_to(m)
    m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    return m


def show_map(m, key: str, height: int = 420) -> dict | None:
    """Render the map; returns the last drawn GeoJSON geometry, if the user drew one."""
    from streamlit_folium import st_folium

    out = st_folium(m, key=key, height=height, use_container_width=True, returned_objects=["last_active_drawing"])
    drawing = (out or {}).get("last_active_drawing")
    return drawing.get("geometry") if isinstance(drawing, dict) else None


def _coordinate(value: float) -> str:
    """Five decimals (about 1 m), trailing zeros dropped: short URLs without losing precision."""
    return f"{value:.5f}".rstrip("0").rstrip(".")


def geometry_text(geometry: dict) -> str:
    """A drawn rectangle becomes a bbox (short, readable URLs); any other polygon stays GeoJSON."""
    ring = geometry.get("coordinates", [[]])[0]
    xs = sorted({round(x, 5) for x, _ in ring})
    ys = sorted({round(y, 5) for _, y in ring})
    if geometry.get("type") == "Polygon" and len(ring) == 5 and len(xs) == 2 and len(ys) == 2:
        return ",".join(_coordinate(v) for v in (xs[0], ys[0], xs[1], ys[1]))
    return json.dumps(geometry)
