"""The size limits on one request, each a field of `Settings` (and so a CLOUDCORE_* variable).

A limit protects the machine (and a shared dashboard's other users) from a request that would
take hours or all its memory; none of the defaults stops a real use, and the area's admits the
bounding box of any whole WRS-2 scene at any latitude. Every refusal names the limit, the value
seen and the setting that changes it.

The date span counts only the part of the range from Landsat 4's launch (1982-07-16) on: an
earlier start finds nothing more, so "1900-01-01 to today" is as good as the whole record and
passes, while "0001-01-01 to 9999-12-31" does not.
"""

from __future__ import annotations

import datetime as dt

from .errors import InvalidAOIError, InvalidInputError
from .product import LANDSAT_RECORD_START
from .settings import Settings

_DAYS_PER_YEAR = 365.25
_BYTES_PER_MB = 1_000_000


def max_geojson_bytes(settings: Settings) -> int:
    """The GeoJSON text or upload limit in bytes."""
    return int(settings.max_geojson_mb * _BYTES_PER_MB)


def check_area(area_km2: float, settings: Settings) -> None:
    """Refuse an AOI larger than the area limit."""
    limit = settings.max_aoi_km2
    if area_km2 > limit:
        # A dashboard holds areas to the smaller of its own limit and the library's: when its own is
        # the one that binds, the operator's variable is the one to change.
        variable = (
            "CLOUDCORE_UI_MAX_AOI_KM2 on a dashboard, CLOUDCORE_MAX_AOI_KM2 elsewhere"
            if limit == settings.ui_max_aoi_km2 else "CLOUDCORE_MAX_AOI_KM2"
        )
        raise InvalidAOIError(
            f"The AOI spans {area_km2:,.0f} km², over the {limit:,.0f} km² limit: give a smaller area, "
            f"or raise the limit ({variable}).",
            parameter="aoi", setting="max_aoi_km2",
        )


def check_vertices(count: int, settings: Settings) -> None:
    """Refuse an AOI with more vertices (ring closures included) than the vertex limit."""
    limit = settings.max_aoi_vertices
    if count > limit:
        raise InvalidAOIError(
            f"The AOI has {count:,} vertices, over the {limit:,} vertex limit: simplify the outline "
            "(30 m pixels need no finer detail), or raise the limit (CLOUDCORE_MAX_AOI_VERTICES).",
            parameter="aoi", setting="max_aoi_vertices",
        )


def check_geojson_size(size_bytes: int, settings: Settings) -> None:
    """Refuse GeoJSON text or an upload of more bytes than the size limit, before parsing it."""
    limit = max_geojson_bytes(settings)
    if size_bytes > limit:
        raise InvalidAOIError(
            f"The GeoJSON is {size_bytes / _BYTES_PER_MB:,.1f} MB, over the {limit / _BYTES_PER_MB:g} MB limit: "
            "simplify or clip it to the area you need, or raise the limit (CLOUDCORE_MAX_GEOJSON_MB).",
            parameter="aoi", setting="max_geojson_mb",
        )


def check_date_span(start: dt.date, end: dt.date, settings: Settings) -> None:
    """Refuse dates in the wrong order or spanning more of the Landsat record than the span limit."""
    for name, value in (("start", start), ("end", end)):
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            raise InvalidInputError(f"The {name} date {value!r} is not a date: give it as YYYY-MM-DD.", parameter=name)
    if end < start:
        raise InvalidInputError(f"The start date {start} is after the end date {end}: swap them.", parameter="start")
    counted_from = max(start, LANDSAT_RECORD_START)
    years = (end - counted_from).days / _DAYS_PER_YEAR
    limit = settings.max_date_span_years
    if years > limit:
        raise InvalidInputError(
            f"The dates {start}..{end} span {years:,.0f} years of the Landsat record (it starts {LANDSAT_RECORD_START}), "
            f"over the {limit:g}-year limit: narrow the dates, or raise the limit (CLOUDCORE_MAX_DATE_SPAN_YEARS).",
            parameter="start", setting="max_date_span_years",
        )


def check_scene_count(count: int, settings: Settings) -> None:
    """Refuse a search that found more scenes than one request may measure."""
    limit = settings.max_scenes
    if count > limit:
        raise InvalidInputError(
            f"The search found {count:,} scenes, over the {limit:,} scenes-per-request limit: "
            "narrow the dates or the area (or skip cloudy scenes), or raise the limit (CLOUDCORE_MAX_SCENES).",
            parameter="start", setting="max_scenes",
        )
