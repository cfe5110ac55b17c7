"""The leafmap maps: the AOI with a draw control (Explore), and a swipe map of computed images (Compare).

leafmap (and through it folium) is imported here, lazily, on the pages that show a map.
The map is rebuilt from small cached data each run; map objects are never cached. The few
lines of JavaScript below (the swipe, the opacity slider, the note on a missing basemap) are
this project's own, rendered by folium's template elements inside the map's frame.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from .assets import use_local_leaflet

AOI_STYLE = {"color": "#ff7800", "weight": 2, "fillOpacity": 0.05}
REJECTED_STYLE = {"color": "#d00000", "weight": 2, "dashArray": "6 4", "fillOpacity": 0.04}
BASEMAP_NOTE = ("No basemap: the background map comes from OpenStreetMap and cannot load here "
                "(offline?). The area and the images are not affected.")

Bounds = tuple[float, float, float, float]
"""west, south, east, north in degrees."""


def _base_map(bounds: Bounds):
    use_local_leaflet()
    import leafmap.foliumap as leafmap

    return leafmap.Map(
        location=[(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2], zoom=11,
        draw_control=False, fullscreen_control=False, measure_control=False, search_control=False,
        layers_control=False, scale_control=True,
    )


def _element(script: str, header: str = ""):
    """A folium element whose JavaScript runs after the map exists (`MAP` names the Leaflet map)."""
    from branca.element import MacroElement, Template

    element = MacroElement()
    element._template = Template(
        "{% macro header(this, kwargs) %}" + header + "{% endmacro %}"
        "{% macro script(this, kwargs) %}"
        + script.replace("MAP", "{{ this._parent.get_name() }}")
        + "{% endmacro %}"
    )
    return element


def _basemap_note():
    """Say why the map is grey when its tiles cannot load, instead of leaving a user to wonder."""
    text = json.dumps(BASEMAP_NOTE)
    return _element(
        """
(function () {
  const map = MAP;
  let shown = false;
  map.eachLayer(function (layer) {
    if (!(layer instanceof L.TileLayer)) return;
    layer.on('tileerror', function () {
      if (shown) return;
      shown = true;
      const note = L.control({position: 'bottomleft'});
      note.onAdd = function () {
        const box = L.DomUtil.create('div', 'cc-basemap-note');
        box.textContent = NOTE_TEXT;
        box.style.cssText = 'background:rgba(255,255,255,.9);padding:3px 6px;font:12px sans-serif;max-width:300px;border-radius:3px';
        return box;
      };
      note.addTo(map);
    });
  });
})();
""".replace("NOTE_TEXT", text)
    )


def build_map(aoi_geojson: dict[str, Any], bounds: Bounds, rejected: dict[str, Any] | None = None):
    """The Explore map: fitted to `bounds`, the AOI outlined, a rectangle/polygon draw tool, and
    a refused area (`rejected`, GeoJSON) drawn dashed red beside the AOI that is kept."""
    use_local_leaflet()
    import folium
    import folium.plugins

    m = _base_map(bounds)
    folium.GeoJson(aoi_geojson, name="AOI", style_function=lambda _: AOI_STYLE).add_to(m)
    if rejected is not None:
        folium.GeoJson(rejected, name="refused area", style_function=lambda _: REJECTED_STYLE,
                       tooltip="This area was not used (see beside the map)").add_to(m)
    folium.plugins.Draw(
        export=False,
        draw_options={"polyline": False, "circle": False, "marker": False, "circlemarker": False,
                      "rectangle": {"shapeOptions": {"color": "#0078ff"}}, "polygon": {"allowIntersection": False}},
        edit_options={"edit": False, "remove": False},
    ).add_to(m)
    _basemap_note().add_to(m)
    m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    return m


def swipe_map(aoi_geojson: dict[str, Any], left: tuple[str, bytes], right: tuple[str, bytes], image_bounds: Bounds):
    """The Compare map: image `left` and image `right` (label, PNG) over the same place, split by a
    swipe bar; one map, so zoom and pan are shared. A slider sets both images' opacity."""
    import folium

    west, south, east, north = image_bounds
    m = _base_map(image_bounds)
    # The two panes come first: a layer can only be put in a pane that exists.
    m.add_child(_element("MAP.createPane('ccLeft').style.zIndex = 410; MAP.createPane('ccRight').style.zIndex = 411;"))
    for pane, (label, png) in (("ccLeft", left), ("ccRight", right)):
        url = "data:image/png;base64," + base64.b64encode(png).decode()
        folium.raster_layers.ImageOverlay(url, bounds=[[south, west], [north, east]], name=label, pane=pane,
                                          opacity=1.0).add_to(m)
    folium.GeoJson(aoi_geojson, name="AOI", style_function=lambda _: {**AOI_STYLE, "fillOpacity": 0}).add_to(m)
    m.add_child(_swipe_control(left[0], right[0]))
    _basemap_note().add_to(m)
    m.fit_bounds([[south, west], [north, east]])
    return m


def _swipe_control(left_label: str, right_label: str):
    labels = json.dumps([left_label, right_label])
    return _element(
        """
(function () {
  const map = MAP;
  const [leftLabel, rightLabel] = LABELS;
  const left = map.getPane('ccLeft'), right = map.getPane('ccRight');
  const container = map.getContainer();
  const line = L.DomUtil.create('div', 'cc-swipe-line', container);
  const bar = L.DomUtil.create('div', 'cc-swipe-bar', container);
  const name = function (text, cls) { const s = L.DomUtil.create('span', cls, bar); s.textContent = text; return s; };
  name('\\u25C0 ' + leftLabel, 'cc-left-label');
  const swipe = L.DomUtil.create('input', 'cc-swipe', bar);
  swipe.type = 'range'; swipe.min = 0; swipe.max = 100; swipe.value = 50; swipe.step = 0.5;
  swipe.setAttribute('aria-label', 'Swipe between ' + leftLabel + ' and ' + rightLabel);
  name(rightLabel + ' \\u25B6', 'cc-right-label');
  name('opacity', 'cc-opacity-label');
  const opacity = L.DomUtil.create('input', 'cc-opacity', bar);
  opacity.type = 'range'; opacity.min = 0; opacity.max = 100; opacity.value = 100;
  opacity.setAttribute('aria-label', 'Opacity of the images');
  // Dragging a slider must not drag the map underneath.
  L.DomEvent.disableClickPropagation(bar);
  L.DomEvent.disableScrollPropagation(bar);
  ['pointerdown', 'mousedown', 'touchstart'].forEach(function (type) {
    bar.addEventListener(type, function (e) { e.stopPropagation(); });
  });
  function clip() {
    const size = map.getSize();
    const x = size.x * swipe.value / 100;
    const nw = map.containerPointToLayerPoint([0, 0]);
    const se = map.containerPointToLayerPoint(size);
    const cut = map.containerPointToLayerPoint([x, 0]).x;
    left.style.clip = 'rect(' + [nw.y, cut, se.y, nw.x].join('px,') + 'px)';
    right.style.clip = 'rect(' + [nw.y, se.x, se.y, cut].join('px,') + 'px)';
    line.style.left = x + 'px';
  }
  function fade() { left.style.opacity = right.style.opacity = opacity.value / 100; }
  swipe.addEventListener('input', clip);
  opacity.addEventListener('input', fade);
  map.on('move zoom zoomend viewreset resize', clip);
  clip();
})();
""".replace("LABELS", labels),
        header="""
<style>
.cc-swipe-line { position:absolute; top:0; bottom:0; width:3px; margin-left:-1px; background:#fff;
  box-shadow:0 0 3px rgba(0,0,0,.6); z-index:800; pointer-events:none; }
.cc-swipe-bar { position:absolute; left:50px; right:10px; top:10px; z-index:1000; display:flex; gap:8px;
  align-items:center; background:rgba(255,255,255,.92); padding:4px 8px; border-radius:4px;
  font:13px sans-serif; flex-wrap:wrap; }
.cc-swipe { flex:1 1 200px; min-width:120px; }
.cc-opacity { width:90px; }
</style>
""",
    )


def show_map(m, key: str, height: int = 420) -> dict | None:
    """Render the map; returns the last drawn GeoJSON geometry, if the user drew one."""
    from streamlit_folium import st_folium

    out = st_folium(m, key=key, height=height, use_container_width=True, returned_objects=["last_active_drawing"])
    drawing = (out or {}).get("last_active_drawing")
    return drawing.get("geometry") if isinstance(drawing, dict) else None


def show_static_map(m, key: str, height: int = 420) -> None:
    """Render a map that returns nothing to the app: panning it never reruns the page."""
    from streamlit_folium import st_folium

    st_folium(m, key=key, height=height, use_container_width=True, returned_objects=[])


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


def union_bounds(bounds: Bounds, geometry: dict[str, Any]) -> Bounds:
    """`bounds` grown to hold every vertex of a GeoJSON polygon or multipolygon."""
    points: list[list[float]] = []

    def walk(node: Any) -> None:
        if isinstance(node, list) and len(node) >= 2 and all(isinstance(v, (int, float)) for v in node[:2]):
            points.append(node)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(geometry.get("coordinates", []))
    xs, ys = [p[0] for p in points] + [bounds[0], bounds[2]], [p[1] for p in points] + [bounds[1], bounds[3]]
    return min(xs), min(ys), max(xs), max(ys)


def outline_of(text: str) -> dict[str, Any] | None:
    """A refused area's outline as GeoJSON, when it is drawable at all (4 finite numbers within
    the globe, or a GeoJSON polygon); None for text that is no place ('banana')."""
    values = text.split(",")
    if len(values) == 4:
        try:
            w, s, e, n = (float(v) for v in values)
        except ValueError:
            return None
        if not all(-180 <= x <= 180 for x in (w, e)) or not all(-90 <= y <= 90 for y in (s, n)):
            return None
        return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}
    try:
        geometry = json.loads(text)
    except ValueError:
        return None
    if isinstance(geometry, dict) and geometry.get("type") == "Feature":
        geometry = geometry.get("geometry")
    if isinstance(geometry, dict) and geometry.get("type") in ("Polygon", "MultiPolygon"):
        return geometry
    return None
