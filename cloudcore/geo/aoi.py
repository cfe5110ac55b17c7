"""Parse and validate an area of interest once, at the edge.

Accepted: a GeoJSON Polygon, MultiPolygon, Feature or FeatureCollection (as a dict, a
JSON string or a path to a file); a bbox 'minlon,minlat,maxlon,maxlat' (text or 4 numbers);
a shapely geometry or anything else with `__geo_interface__` (in lon/lat); a GeoDataFrame or
GeoSeries in any CRS (the union of its geometries, reprojected to lon/lat). A bbox whose west
edge is east of its east edge crosses the antimeridian and is split in two there.
Past this module everything holds an `AOI`; nothing re-parses. The size limits (area,
vertices, GeoJSON bytes) are `Settings` fields checked by `cloudcore.limits`; text is
size-checked before it is parsed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Union

import numpy as np
import pyproj
import shapely
from shapely.geometry import MultiPolygon, Polygon, box, mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient
from shapely.validation import explain_validity, make_valid

from ..errors import InvalidAOIError
from ..limits import check_area, check_geojson_size, check_vertices
from ..settings import Settings

__all__ = ["AOI", "AOILike", "parse_aoi"]

AOILike = Union[str, os.PathLike, Mapping[str, Any], Sequence[float], BaseGeometry, Any, "AOI"]
"""Text (bbox, GeoJSON or a file path), a GeoJSON dict, 4 numbers, a shapely geometry, anything
with `__geo_interface__`, or a GeoDataFrame / GeoSeries."""

MIN_AREA_KM2 = 1e-4  # 100 m2: anything smaller holds no 30 m pixel centre worth measuring
# A geometry inside a FeatureCollection or Feature may be only these: anything deeper is not
# GeoJSON, and refusing it keeps the parse's recursion shallow whatever the input.
_POLYGONAL = ("Polygon", "MultiPolygon")
_IN_COLLECTION = ("Feature", *_POLYGONAL)
_ANY_KIND = ("FeatureCollection", *_IN_COLLECTION)

_GEOD = pyproj.Geod(ellps="WGS84")


@dataclass(frozen=True)
class AOI:
    """A valid lon/lat (EPSG:4326) polygon or multipolygon."""

    geometry: Polygon | MultiPolygon

    @cached_property
    def area_km2(self) -> float:
        # Geod sums signed ring areas, so a clockwise part would cancel a counter-clockwise one
        # (and a hole wound like its shell would add): orient each part before measuring.
        parts = self.geometry.geoms if isinstance(self.geometry, MultiPolygon) else [self.geometry]
        return sum(abs(_GEOD.geometry_area_perimeter(orient(part, 1.0))[0]) for part in parts) / 1e6

    @property
    def bbox_lonlat(self) -> tuple[float, float, float, float]:
        """(west, south, east, north); parts split at the antimeridian span -180..180."""
        west, south, east, north = (float(v) for v in self.geometry.bounds)
        return (west, south, east, north)

    @property
    def crosses_antimeridian(self) -> bool:
        west, _, east, _ = self.bbox_lonlat
        return west <= -179.999 and east >= 179.999

    def to_geojson(self) -> dict[str, Any]:
        return mapping(self.geometry)

    def to_bbox_text(self) -> str:
        return ",".join(f"{v:.6f}".rstrip("0").rstrip(".") for v in self.bbox_lonlat)

    @cached_property
    def centroid_lonlat(self) -> tuple[float, float]:
        if self.crosses_antimeridian:
            shifted = shapely.transform(self.geometry, lambda x, y: ((x + 360) % 360, y), interleaved=False)
            c = shifted.centroid
            return ((c.x + 180) % 360 - 180, c.y)
        c = self.geometry.centroid
        return (c.x, c.y)

    def in_crs(self, crs: Any) -> Polygon | MultiPolygon:
        """The AOI projected to `crs` (anything pyproj understands, e.g. 'EPSG:32633')."""
        transformer = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        projected = shapely.transform(self.geometry, transformer.transform, interleaved=False)
        return projected if projected.is_valid else make_valid(projected)


def parse_aoi(value: AOILike, *, settings: Settings | None = None, allow_files: bool = True) -> AOI:
    """Turn any accepted AOI form into a validated `AOI`.

    Args:
        value: The AOI in any form the module docstring lists.
        settings: Its limits (area, vertices, GeoJSON size); None reads them from the environment.
        allow_files: False refuses file paths: the dashboard parses text anyone can type or put
            in a link, and must not read the server's files.

    Raises:
        InvalidAOIError: with a message that names the problem and the fix.
    """
    settings = Settings.from_env() if settings is None else settings
    if isinstance(value, AOI):
        check_area(value.area_km2, settings)
        return value
    geometry = _to_geometry(value, allow_files, settings)
    check_vertices(int(shapely.get_num_coordinates(geometry)), settings)
    geometry = _validated(geometry)
    aoi = AOI(geometry)
    if not aoi.area_km2 >= MIN_AREA_KM2:  # also catches a NaN area
        raise InvalidAOIError("The AOI has no area (a point or a line?): give a polygon.", parameter="aoi")
    check_area(aoi.area_km2, settings)
    return aoi


def _to_geometry(value: Any, allow_files: bool, settings: Settings) -> Polygon | MultiPolygon:
    if isinstance(value, Mapping):
        return _from_geojson(value, settings)
    if isinstance(value, os.PathLike):
        if not allow_files:
            raise InvalidAOIError("Give the AOI as a bbox or GeoJSON text here, not a file path.")
        return _from_file(Path(value), settings)
    if isinstance(value, BaseGeometry):
        return _from_shapely(value)
    if hasattr(value, "to_crs") and hasattr(value, "crs"):
        return _from_geodataframe(value)
    if hasattr(value, "__geo_interface__"):
        return _from_geojson(_geo_interface(value), settings)
    if isinstance(value, np.ndarray) and value.ndim == 1:
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        if len(value) != 4:
            raise InvalidAOIError(f"A bbox needs 4 numbers (minlon, minlat, maxlon, maxlat), got {len(value)}.")
        text = ",".join(str(v) for v in value)
        if not _looks_like_bbox(text):
            raise InvalidAOIError(f"A bbox needs 4 numbers (minlon, minlat, maxlon, maxlat), got {text[:80]!r}.")
        return _from_bbox(text)
    if not isinstance(value, str):
        raise InvalidAOIError(f"Cannot read an AOI from a {type(value).__name__}: give GeoJSON or a bbox.")
    # Before anything else touches it: the size limit is what keeps the parse cheap.
    check_geojson_size(len(value.encode("utf-8", errors="replace")), settings)
    text = value.strip()
    if not text:
        raise InvalidAOIError("The AOI is empty: give a bbox 'minlon,minlat,maxlon,maxlat' or GeoJSON.")
    if text.startswith("{"):
        return _from_geojson(_json_or_error(text, "The AOI looks like JSON but"), settings)
    if _looks_like_bbox(text):
        return _from_bbox(text)
    if allow_files:
        path = _existing_path(text)
        if path is not None:
            return _from_file(path, settings)
        raise InvalidAOIError(
            f"AOI {text[:60]!r} is neither a bbox 'minlon,minlat,maxlon,maxlat', GeoJSON, nor an existing file."
        )
    raise InvalidAOIError(f"AOI {text[:60]!r} is neither a bbox 'minlon,minlat,maxlon,maxlat' nor GeoJSON.")


def _geo_interface(value: Any) -> Any:
    """`value.__geo_interface__` (pystac Items, fiona records, other libraries' geometries)."""
    try:
        return value.__geo_interface__
    except Exception as err:
        raise InvalidAOIError(
            f"The {type(value).__name__}'s __geo_interface__ failed ({type(err).__name__}): give GeoJSON or a bbox."
        ) from err


def _from_shapely(geometry: BaseGeometry) -> Polygon | MultiPolygon:
    """A shapely geometry in lon/lat: its polygonal parts, coordinates checked."""
    if geometry.is_empty:
        raise InvalidAOIError(f"The AOI {geometry.geom_type} is empty: give a polygon.")
    polygonal = _as_polygonal(geometry)
    _check_coordinates(polygonal)
    return polygonal


def _from_geodataframe(frame: Any) -> Polygon | MultiPolygon:
    """The union of a GeoDataFrame's or GeoSeries' geometries, reprojected to lon/lat."""
    if frame.crs is None:
        raise InvalidAOIError(
            f"The {type(frame).__name__} has no CRS, so its coordinates cannot be placed: set one first, "
            "e.g. frame.set_crs('EPSG:4326') for longitude/latitude."
        )
    if len(frame) == 0:
        raise InvalidAOIError(f"The {type(frame).__name__} is empty: give at least one polygon.")
    lonlat = frame.to_crs("EPSG:4326")
    series = getattr(lonlat, "geometry", lonlat)
    # union_all since geopandas 1.0; unary_union before it.
    union = series.union_all() if hasattr(series, "union_all") else series.unary_union
    if union is None or union.is_empty:
        raise InvalidAOIError(f"The {type(frame).__name__}'s geometries are empty: give at least one polygon.")
    return _from_shapely(union)


def _json_or_error(text: str, lead: str) -> Any:
    """The parsed JSON, or one InvalidAOIError whatever json.loads objects to."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise InvalidAOIError(f"{lead} does not parse ({err.msg} at char {err.pos}).") from err
    except RecursionError as err:
        raise InvalidAOIError(f"{lead} is nested too deeply to be GeoJSON: give a Polygon or MultiPolygon.") from err
    except ValueError as err:  # e.g. an integer of more digits than Python converts
        raise InvalidAOIError(f"{lead} does not parse ({str(err)[:100]}).") from err


def _existing_path(text: str) -> Path | None:
    """The file `text` names when it exists; None for text that cannot be a path at all."""
    try:
        path = Path(text).expanduser()
        return path if path.exists() else None
    except (OSError, ValueError, RuntimeError):  # NUL bytes, names too long, an unknown ~user
        return None


def _looks_like_bbox(text: str) -> bool:
    parts = [p for p in text.replace(" ", ",").split(",") if p]
    if len(parts) != 4:
        return False
    try:
        [float(p) for p in parts]
    except ValueError:
        return False
    return True


def _from_file(path: Path, settings: Settings) -> Polygon | MultiPolygon:
    if not path.is_file():
        raise InvalidAOIError(f"AOI file {str(path)!r} does not exist: check the path.")
    try:
        size = path.stat().st_size
    except OSError as err:
        raise InvalidAOIError(f"AOI file {path.name!r} cannot be read ({type(err).__name__}): check the path.") from err
    check_geojson_size(size, settings)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise InvalidAOIError(f"AOI file {path.name!r} is not GeoJSON: {err}.") from err
    except OSError as err:
        raise InvalidAOIError(f"AOI file {path.name!r} cannot be read ({type(err).__name__}): check the path.") from err
    return _from_geojson(_json_or_error(text, f"AOI file {path.name!r} is not GeoJSON: it"), settings)


def _from_bbox(text: str) -> Polygon | MultiPolygon:
    west, south, east, north = (float(p) for p in text.replace(" ", ",").split(",") if p)
    for name, lon in (("minlon", west), ("maxlon", east)):
        if not -180 <= lon <= 180:
            raise InvalidAOIError(f"bbox {name} {lon} is outside -180..180: longitude comes first.")
    for name, lat in (("minlat", south), ("maxlat", north)):
        if not -90 <= lat <= 90:
            raise InvalidAOIError(f"bbox {name} {lat} is outside -90..90: the order is minlon,minlat,maxlon,maxlat.")
    if south >= north:
        raise InvalidAOIError(f"bbox minlat {south} is not below maxlat {north}: the order is minlon,minlat,maxlon,maxlat.")
    if west == east:
        raise InvalidAOIError("bbox minlon equals maxlon: the box has no width.")
    if west > east:
        # A box drawn across the antimeridian: keep both halves.
        return MultiPolygon([box(west, south, 180.0, north), box(-180.0, south, east, north)])
    return box(west, south, east, north)


def _from_geojson(
    data: Any, settings: Settings, allowed: tuple[str, ...] = _ANY_KIND, within: str = ""
) -> Polygon | MultiPolygon:
    if not isinstance(data, Mapping) or "type" not in data:
        raise InvalidAOIError("The AOI GeoJSON has no 'type': give a Polygon, MultiPolygon, Feature or FeatureCollection.")
    kind = data["type"]
    if not isinstance(kind, str):
        raise InvalidAOIError(f"The AOI GeoJSON 'type' is {str(kind)[:40]!r}, not a name: give a Polygon or MultiPolygon.")
    if within and kind not in allowed:
        raise InvalidAOIError(
            f"The AOI {within} holds a {kind[:40]}: a FeatureCollection holds Features, and a Feature's geometry "
            "is a Polygon or MultiPolygon."
        )
    if kind == "FeatureCollection":
        features = data.get("features") or []
        if not isinstance(features, list):
            raise InvalidAOIError("The AOI FeatureCollection's 'features' is not a list: give a list of Features.")
        _check_position_count(features, settings)
        parts = [_from_geojson(f, settings, _IN_COLLECTION, "FeatureCollection") for f in features]
        if not parts:
            raise InvalidAOIError("The AOI FeatureCollection has no features: draw or give at least one polygon.")
        try:
            return _as_polygonal(shapely.union_all(parts))
        except shapely.errors.GEOSException as err:
            raise InvalidAOIError(f"The AOI's features cannot be joined into one area ({err}): redraw them.") from err
    if kind == "Feature":
        if not data.get("geometry"):
            raise InvalidAOIError("The AOI Feature has no geometry: give a polygon.")
        return _from_geojson(data["geometry"], settings, _POLYGONAL, "Feature")
    if kind not in _POLYGONAL:
        raise InvalidAOIError(f"The AOI is a {kind[:40]}: only Polygon and MultiPolygon areas can be measured.")
    _check_position_count([data], settings)
    try:
        geometry = shape(data)
    except (ValueError, TypeError, AttributeError, IndexError, KeyError, OverflowError, RecursionError,
            shapely.errors.GEOSException) as err:
        raise InvalidAOIError(f"The AOI {kind} has malformed coordinates ({str(err)[:120]}).") from err
    if geometry.is_empty:
        raise InvalidAOIError(f"The AOI {kind} is empty: give at least one ring of coordinates.")
    _check_coordinates(geometry)
    return geometry


def _check_position_count(items: list, settings: Settings) -> None:
    """Apply the vertex limit before shapely builds anything: counting lists is cheap, building
    a million-vertex polygon is not. Malformed coordinates count as nothing here; shape() says
    what is wrong with them."""
    total = 0
    for item in items:
        geometry = item.get("geometry") if isinstance(item, Mapping) and item.get("type") == "Feature" else item
        coordinates = geometry.get("coordinates") if isinstance(geometry, Mapping) else None
        rings = coordinates if isinstance(coordinates, (list, tuple)) else []
        if isinstance(geometry, Mapping) and geometry.get("type") == "MultiPolygon":
            rings = [ring for polygon in rings if isinstance(polygon, (list, tuple)) for ring in polygon]
        total += sum(len(ring) for ring in rings if isinstance(ring, (list, tuple)))
    check_vertices(total, settings)


def _check_coordinates(geometry: Polygon | MultiPolygon) -> None:
    west, south, east, north = geometry.bounds
    if not all(map(_finite, (west, south, east, north))):
        raise InvalidAOIError("The AOI has non-numeric or infinite coordinates.")
    if west < -180 or east > 180:
        raise InvalidAOIError(
            f"AOI longitudes {west:g}..{east:g} leave -180..180: give lon/lat (EPSG:4326) coordinates, longitude first."
        )
    if south < -90 or north > 90:
        raise InvalidAOIError(
            f"AOI latitudes {south:g}..{north:g} leave -90..90: coordinates must be lon,lat (EPSG:4326), longitude first."
        )
    # Per part: a MultiPolygon already split at 180 degrees (what the message below asks for,
    # and what to_geojson() gives for an antimeridian bbox) spans 360 degrees as a whole.
    parts = geometry.geoms if isinstance(geometry, MultiPolygon) else [geometry]
    if any(part.bounds[2] - part.bounds[0] > 180 for part in parts):
        raise InvalidAOIError(
            "The AOI spans more than 180 degrees of longitude, which usually means it crosses the antimeridian: "
            "split it at 180 degrees into a MultiPolygon, or give a bbox whose minlon is greater than its maxlon."
        )


def _finite(v: float) -> bool:
    return v == v and abs(v) != float("inf")


def _validated(geometry: Polygon | MultiPolygon) -> Polygon | MultiPolygon:
    """Repair self-intersections (bow-ties, duplicate rings) when the repair keeps an area."""
    if geometry.is_valid:
        return geometry
    try:
        reason = explain_validity(geometry)
        repaired = _as_polygonal(make_valid(geometry))
    except shapely.errors.GEOSException as err:
        raise InvalidAOIError(f"The AOI polygon is invalid and cannot be repaired ({err}): redraw it.") from err
    if repaired.is_empty or repaired.area <= 0:
        raise InvalidAOIError(f"The AOI polygon is invalid ({reason}) and cannot be repaired: redraw it.")
    return repaired


def _as_polygonal(geometry: Any) -> Polygon | MultiPolygon:
    """Keep only the polygon parts of a geometry (make_valid can return collections)."""
    if isinstance(geometry, (Polygon, MultiPolygon)):
        return geometry
    polygons = [g for g in getattr(geometry, "geoms", []) if isinstance(g, (Polygon, MultiPolygon))]
    flat: list[Polygon] = []
    for g in polygons:
        flat.extend(g.geoms if isinstance(g, MultiPolygon) else [g])
    if not flat:
        raise InvalidAOIError("The AOI has no area (a point or a line?): draw or give a polygon.")
    return flat[0] if len(flat) == 1 else MultiPolygon(flat)
