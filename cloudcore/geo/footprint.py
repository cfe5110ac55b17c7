"""The lon/lat footprint of a raster, right at the poles and across the antimeridian.

A scene's grid is a rectangle in its own CRS (UTM, or polar stereographic near the poles).
In lon/lat that rectangle has curved edges, may wrap around a pole, or may straddle the
180th meridian; a plain `transform_bounds` box is wrong in the last two cases. This module
traces the rectangle's densified edge instead and handles both cases explicitly, so a
footprint never excludes ground the scene actually covers.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np
import pyproj
from shapely.affinity import translate
from shapely.geometry import MultiPolygon, Polygon, box

POINTS_PER_EDGE = 21  # enough that a curved UTM/polar edge is within a pixel or two of the truth

_WORLD = box(-180.0, -90.0, 180.0, 90.0)
_EAST_OF_ANTIMERIDIAN = box(180.0, -90.0, 540.0, 90.0)


def footprint_lonlat(
    crs: Any,
    bounds: tuple[float, float, float, float],
    points_per_edge: int = POINTS_PER_EDGE,
) -> Polygon | MultiPolygon | None:
    """The lon/lat (EPSG:4326) outline of the rectangle `bounds` drawn in `crs`.

    Args:
        crs: The raster CRS, anything pyproj understands (a rasterio CRS, 'EPSG:32633', ...).
        bounds: (left, bottom, right, top) in `crs` units.
        points_per_edge: Vertices per side of the rectangle before reprojection.

    Returns:
        A Polygon; a MultiPolygon split at +-180 degrees when the raster straddles the
        antimeridian; a full-longitude polar cap when the raster contains a pole; None when
        the corners do not reproject (then a caller should treat the footprint as unknown).
    """
    left, bottom, right, top = (float(v) for v in bounds)
    xs, ys = _densified_ring(left, bottom, right, top, points_per_edge)
    to_lonlat = _transformer(crs, "EPSG:4326")
    lons, lats = (np.asarray(v, dtype=float) for v in to_lonlat.transform(xs, ys))
    if not (np.isfinite(lons).all() and np.isfinite(lats).all()):
        return None
    pole = _contained_pole(crs, (left, bottom, right, top))
    if pole is not None:
        # Around a pole the edge runs through every longitude, so as a lon/lat ring it is
        # degenerate. The cap from the pole to the edge's farthest latitude covers the
        # scene (and a little more): safe, because over-including only costs a read.
        if pole > 0:
            return box(-180.0, float(lats.min()), 180.0, 90.0)
        return box(-180.0, -90.0, 180.0, float(lats.max()))
    if np.any(np.abs(np.diff(lons)) > 180.0):
        return _split_at_antimeridian(lons, lats)
    return _valid(Polygon(zip(lons, lats, strict=True)))


def bbox_of(geometry: Polygon | MultiPolygon) -> tuple[float, float, float, float]:
    """(west, south, east, north); parts split at the antimeridian span -180..180."""
    west, south, east, north = (float(v) for v in geometry.bounds)
    return (west, south, east, north)


def _densified_ring(left: float, bottom: float, right: float, top: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Closed counter-clockwise ring along the rectangle's four sides, `n` points a side."""
    t = np.linspace(0.0, 1.0, max(n, 2))[:-1]  # each side omits its end: the next side starts there
    width, height = right - left, top - bottom
    xs = np.concatenate([left + t * width, np.full_like(t, right), right - t * width, np.full_like(t, left)])
    ys = np.concatenate([np.full_like(t, bottom), bottom + t * height, np.full_like(t, top), top - t * height])
    return np.append(xs, xs[0]), np.append(ys, ys[0])


_TRANSFORMERS = threading.local()


def _transformer(source: Any, target: Any) -> pyproj.Transformer:
    """A lon/lat <-> `crs` transformer, made once per thread and CRS pair: building one costs
    milliseconds, and a folder of scenes on one grid asks for the same pair again and again
    (pyproj transformers are not shared between threads)."""
    cache = getattr(_TRANSFORMERS, "by_pair", None)
    if cache is None:
        cache = _TRANSFORMERS.by_pair = {}
    key = (_crs_key(source), _crs_key(target))
    found = cache.get(key)
    if found is None:
        if len(cache) > 64:
            cache.clear()
        found = cache[key] = pyproj.Transformer.from_crs(source, target, always_xy=True)
    return found


def _crs_key(crs: Any) -> str:
    return crs if isinstance(crs, str) else crs.to_wkt() if hasattr(crs, "to_wkt") else str(crs)


def _contained_pole(crs: Any, bounds: tuple[float, float, float, float]) -> int | None:
    """+1 or -1 when the north or south pole lies inside the rectangle, else None."""
    to_native = _transformer("EPSG:4326", crs)
    left, bottom, right, top = bounds
    for sign in (1, -1):
        x, y = to_native.transform(0.0, 90.0 * sign, errcheck=False)
        if math.isfinite(x) and math.isfinite(y) and left <= x <= right and bottom <= y <= top:
            return sign
    return None


def _split_at_antimeridian(lons: np.ndarray, lats: np.ndarray) -> Polygon | MultiPolygon:
    """Unwrap the ring to 0..360 degrees east, then cut it at 180 and shift the east part back."""
    unwrapped = _valid(Polygon(zip(np.where(lons < 0, lons + 360.0, lons), lats, strict=True)))
    west_part = unwrapped.intersection(_WORLD)
    east_part = translate(unwrapped.intersection(_EAST_OF_ANTIMERIDIAN), xoff=-360.0)
    parts: list[Polygon] = []
    for piece in (west_part, east_part):
        parts.extend(g for g in getattr(piece, "geoms", [piece]) if isinstance(g, Polygon) and not g.is_empty)
    return parts[0] if len(parts) == 1 else MultiPolygon(parts)


def _valid(polygon: Polygon) -> Polygon | MultiPolygon:
    # Reprojection can pinch a ring at sub-metre scale; buffer(0) mends that without moving edges.
    return polygon if polygon.is_valid else polygon.buffer(0)
