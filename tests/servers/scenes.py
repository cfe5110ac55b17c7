"""Small Landsat-like scenes as STAC items, for a STAC API and a blob server on loopback.

Item asset hrefs start with ASSET_HOST, a placeholder that a StacFaultProxy rewrites to a
test's own blob server: one rustac catalogue then serves fresh URLs to every test, and
GDAL's per-URL cache never answers a read that a test meant to send to the server.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import rasterio
from pyproj import Transformer

from cloudcore.sources.scene import Scene

ASSET_HOST = "http://assets.placeholder.invalid"
COLLECTION = "landsat-c2-l2"
# rustac refuses an asset without an href, so such an asset is stored with this one and a
# proxy drops it on the way out (rustac writes compact JSON, href first).
NO_HREF = f"{ASSET_HOST}/no-href"


def asset_rewrites(blob_url: str) -> dict[str, str]:
    """StacFaultProxy rewrites that drop the NO_HREF hrefs and point assets at `blob_url`."""
    return {f'"href":"{NO_HREF}",': "", ASSET_HOST: blob_url}


def footprint_lonlat(tif: Path) -> dict[str, Any]:
    """The raster's bounds as a lon/lat GeoJSON polygon (its four corners)."""
    with rasterio.open(tif) as src:
        left, bottom, right, top = src.bounds
        to_ll = Transformer.from_crs(src.crs, "EPSG:4326", always_xy=True)
    xs, ys = to_ll.transform([left, right, right, left, left], [bottom, bottom, top, top, bottom])
    return {"type": "Polygon", "coordinates": [[[x, y] for x, y in zip(xs, ys)]]}


def stac_item(scene: Scene, root: Path, hrefs: dict[str, str | None] | None = None) -> dict[str, Any]:
    """A landsat-c2-l2 item for `scene` whose assets live under ASSET_HOST, at their path
    relative to `root`. `hrefs` overrides assets: a relative path, or None for no href
    (served through `asset_rewrites`)."""
    footprint = footprint_lonlat(Path(scene.assets["qa_pixel"]))
    ring = footprint["coordinates"][0]
    assets: dict[str, Any] = {}
    for key, local in scene.assets.items():
        assets[key] = {"href": f"{ASSET_HOST}/{Path(local).relative_to(root).as_posix()}", "type": "image/tiff"}
    for key, relpath in (hrefs or {}).items():
        assets[key] = {"href": NO_HREF if relpath is None else f"{ASSET_HOST}/{relpath}", "type": "image/tiff"}
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": scene.id,
        "collection": COLLECTION,
        "geometry": footprint,
        "bbox": [min(p[0] for p in ring), min(p[1] for p in ring), max(p[0] for p in ring), max(p[1] for p in ring)],
        "properties": {
            "datetime": scene.datetime.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z"),
            "platform": scene.platform,
            "eo:cloud_cover": scene.scene_cloud_pct,
            "proj:epsg": scene.epsg,
            "landsat:wrs_path": f"{scene.wrs_path:03d}",
            "landsat:wrs_row": f"{scene.wrs_row:03d}",
        },
        "links": [],
        "assets": assets,
    }
