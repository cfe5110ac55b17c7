"""What cloudcore knows about one Landsat scene, and how scenes become dates.

A `Scene` is built from a STAC Item shaped like Planetary Computer's `landsat-c2-l2`
(the STAC, demo and folder sources all produce such items), so everything downstream
sees one shape whatever the source.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Scene:
    """One Landsat Collection 2 Level-2 scene and where its bands live."""

    id: str
    datetime: dt.datetime
    """Acquisition time, timezone-aware UTC."""
    platform: str
    """As STAC names it: landsat-4 ... landsat-9."""
    wrs_path: int | None
    wrs_row: int | None
    scene_cloud_pct: float | None
    """Scene-wide eo:cloud_cover from the metadata."""
    land_cloud_pct: float | None
    """landsat:cloud_cover_land; None where the metadata says -1 (no land)."""
    bbox_lonlat: tuple[float, float, float, float] | None
    geometry_lonlat: Mapping[str, Any] | None
    """GeoJSON footprint in lon/lat, when known."""
    assets: Mapping[str, str] = field(default_factory=dict)
    """Band key (red, qa_pixel, ...) -> unsigned href or local path."""
    epsg: int | None = None
    sun_azimuth: float | None = None
    sun_elevation: float | None = None
    item: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)
    """The STAC Item (as a dict) the scene was built from, when it came from one: what
    `cloudcore.search` hands back, with hrefs unsigned."""

    @property
    def date(self) -> dt.date:
        return self.datetime.astimezone(dt.UTC).date()

    @property
    def date_key(self) -> tuple[str, int | None, dt.date]:
        """Scenes sharing platform, WRS path and UTC date are one acquisition (rows merge)."""
        return (self.platform, self.wrs_path, self.date)


@dataclass(frozen=True)
class DateGroup:
    """The scenes of one platform, path and UTC date: one point of the timeline."""

    date: dt.date
    platform: str
    wrs_path: int | None
    scenes: tuple[Scene, ...]

    @property
    def scene_ids(self) -> list[str]:
        return [s.id for s in self.scenes]

    @property
    def scene_cloud_pct(self) -> float | None:
        """Mean of the scenes' metadata cloud cover (None when none has one)."""
        values = [s.scene_cloud_pct for s in self.scenes if s.scene_cloud_pct is not None]
        return round(sum(values) / len(values), 2) if values else None


def group_by_date(scenes: list[Scene]) -> list[DateGroup]:
    """Merge scenes into acquisitions, oldest first (ties broken by platform, path)."""
    groups: dict[tuple, list[Scene]] = {}
    for scene in scenes:
        groups.setdefault(scene.date_key, []).append(scene)
    ordered = sorted(groups.items(), key=lambda kv: (kv[0][2], kv[0][0], kv[0][1] or 0))
    return [
        DateGroup(date=key[2], platform=key[0], wrs_path=key[1], scenes=tuple(sorted(items, key=lambda s: s.id)))
        for key, items in ordered
    ]


def _as_float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if number < 0 else number


def _as_angle(value: Any) -> float | None:
    """Degrees, sign kept: a sun below the horizon has a negative elevation, not none."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _bbox2d(bbox: Any) -> tuple[float, float, float, float] | None:
    """A STAC bbox (2D or 3D) as (west, south, east, north)."""
    if not bbox:
        return None
    if len(bbox) == 4:
        west, south, east, north = (float(v) for v in bbox)
        return (west, south, east, north)
    if len(bbox) == 6:
        return (float(bbox[0]), float(bbox[1]), float(bbox[3]), float(bbox[4]))
    return None


def parse_datetime(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def scene_from_item(item: Mapping[str, Any], base_href: str | None = None) -> Scene:
    """Build a Scene from a landsat-c2-l2 STAC Item dict.

    `base_href` resolves relative asset hrefs (local catalogs); absolute ones pass through.
    Assets without an href are left out, so a read of them fails for that date only.
    """
    props = item.get("properties", {})
    assets = {}
    item_assets = {}
    for key, asset in (item.get("assets") or {}).items():
        href = asset.get("href") if isinstance(asset, Mapping) else None
        if not href:
            continue
        if base_href and "://" not in href and not href.startswith("/"):
            href = f"{base_href.rstrip('/')}/{href}"
        assets[key] = href
        item_assets[key] = {**asset, "href": href}
    epsg = props.get("proj:epsg")
    if epsg is None and isinstance(props.get("proj:code"), str) and props["proj:code"].upper().startswith("EPSG:"):
        epsg = props["proj:code"].split(":", 1)[1]
    bbox = item.get("bbox")
    return Scene(
        id=str(item["id"]),
        datetime=parse_datetime(props["datetime"]),
        platform=str(props.get("platform", "")).lower(),
        wrs_path=_as_int(props.get("landsat:wrs_path")),
        wrs_row=_as_int(props.get("landsat:wrs_row")),
        scene_cloud_pct=_as_float(props.get("eo:cloud_cover")),
        land_cloud_pct=_as_float(props.get("landsat:cloud_cover_land")),
        bbox_lonlat=_bbox2d(bbox),
        geometry_lonlat=item.get("geometry"),
        assets=assets,
        epsg=_as_int(epsg),
        sun_azimuth=_as_angle(props.get("view:sun_azimuth")),
        sun_elevation=_as_angle(props.get("view:sun_elevation")),
        # Kept with resolved hrefs, so a search hands back Items whose assets open as they are.
        item={**item, "assets": item_assets},
    )
