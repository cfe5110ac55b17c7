"""The size limits on one request, in one place, each changeable by an environment variable.

A limit protects the machine (and a shared dashboard's other users) from a request that
would take hours or all its memory; none of the defaults stops a real use. Each is read
from its variable at call time, so a test or a server can change it without a restart,
and every refusal names the limit, the value seen and the variable that changes it.

| limit                    | variable                        | default              |
|--------------------------|---------------------------------|----------------------|
| AOI area                 | CLOUDCORE_MAX_AOI_KM2           | 50,000 km2           |
| AOI vertices             | CLOUDCORE_MAX_AOI_VERTICES      | 10,000               |
| GeoJSON text or upload   | CLOUDCORE_MAX_GEOJSON_MB        | 5 MB                 |
| date span of a search    | CLOUDCORE_MAX_DATE_SPAN_YEARS   | 100 years            |
| scenes per search        | CLOUDCORE_MAX_SCENES            | 5,000                |

The date span counts only the part of the range from Landsat 4's launch (1982-07-16) on:
an earlier start finds nothing more, so "1900-01-01 to today" is as good as the whole
record and passes, while "0001-01-01 to 9999-12-31" does not.
"""

from __future__ import annotations

import datetime as dt
import math
import os

from .errors import CloudCoreError, InvalidAOIError, InvalidInputError

AREA_VARIABLE = "CLOUDCORE_MAX_AOI_KM2"
VERTICES_VARIABLE = "CLOUDCORE_MAX_AOI_VERTICES"
GEOJSON_VARIABLE = "CLOUDCORE_MAX_GEOJSON_MB"
DATE_SPAN_VARIABLE = "CLOUDCORE_MAX_DATE_SPAN_YEARS"
SCENES_VARIABLE = "CLOUDCORE_MAX_SCENES"

DEFAULT_MAX_AREA_KM2 = 50_000.0
# A hand-drawn area has tens of vertices and a detailed county outline a few thousand; past
# this, polygon tests on every pixel grid get slow while the outline adds nothing at 30 m.
DEFAULT_MAX_VERTICES = 10_000
DEFAULT_MAX_GEOJSON_MB = 5.0
# The whole Landsat 4-9 record (1982 on) fits with decades to spare.
DEFAULT_MAX_DATE_SPAN_YEARS = 100.0
# A small area over the whole record is 2,000-3,000 scenes; more is many hours of reads.
DEFAULT_MAX_SCENES = 5_000

# Landsat 4's launch: no Landsat 4-9 scene is older, so time before it costs nothing.
LANDSAT_RECORD_START = dt.date(1982, 7, 16)
_DAYS_PER_YEAR = 365.25
_BYTES_PER_MB = 1_000_000


def env_number(
    variable: str, default: float, unit: str, error: type[CloudCoreError] = InvalidInputError
) -> float:
    """A positive, finite number from `variable`, else `default` when unset or blank (every
    setting cloudcore reads from the environment goes through here, so all say the same)."""
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError as err:
        raise error(
            f"{variable}={raw!r} is not a number of {unit}: set a positive number, e.g. {variable}={default:g}."
        ) from err
    if not (math.isfinite(value) and value > 0):
        raise error(f"{variable}={raw!r} must be a positive number of {unit}: set e.g. {variable}={default:g}.")
    return value


def max_area_km2() -> float:
    """The AOI area limit in km2, from CLOUDCORE_MAX_AOI_KM2 (default 50,000)."""
    return env_number(AREA_VARIABLE, DEFAULT_MAX_AREA_KM2, "km2", InvalidAOIError)


def max_vertices() -> int:
    """The AOI vertex limit, from CLOUDCORE_MAX_AOI_VERTICES (default 10,000)."""
    return int(env_number(VERTICES_VARIABLE, DEFAULT_MAX_VERTICES, "vertices", InvalidAOIError))


def max_geojson_bytes() -> int:
    """The GeoJSON text or upload limit in bytes, from CLOUDCORE_MAX_GEOJSON_MB (default 5 MB)."""
    return int(env_number(GEOJSON_VARIABLE, DEFAULT_MAX_GEOJSON_MB, "MB", InvalidAOIError) * _BYTES_PER_MB)


def max_date_span_years() -> float:
    """The longest search in years, from CLOUDCORE_MAX_DATE_SPAN_YEARS (default 100)."""
    return env_number(DATE_SPAN_VARIABLE, DEFAULT_MAX_DATE_SPAN_YEARS, "years", InvalidInputError)


def max_scenes() -> int:
    """The most scenes one search may return, from CLOUDCORE_MAX_SCENES (default 5,000)."""
    return int(env_number(SCENES_VARIABLE, DEFAULT_MAX_SCENES, "scenes", InvalidInputError))


def check_area(area_km2: float, limit_km2: float | None = None) -> None:
    """Refuse an AOI larger than the area limit (or `limit_km2` when given)."""
    limit = max_area_km2() if limit_km2 is None else limit_km2
    if area_km2 > limit:
        raise InvalidAOIError(
            f"AOI spans {area_km2:,.0f} km2, over the {limit:,.0f} km2 limit: "
            f"draw a smaller area or raise {AREA_VARIABLE}."
        )


def check_vertices(count: int) -> None:
    """Refuse an AOI with more vertices (ring closures included) than the vertex limit."""
    limit = max_vertices()
    if count > limit:
        raise InvalidAOIError(
            f"The AOI has {count:,} vertices, over the {limit:,} vertex limit: simplify the outline "
            f"(30 m pixels need no finer detail) or raise {VERTICES_VARIABLE}."
        )


def check_geojson_size(size_bytes: int) -> None:
    """Refuse GeoJSON text or an upload of more bytes than the size limit, before parsing it."""
    limit = max_geojson_bytes()
    if size_bytes > limit:
        raise InvalidAOIError(
            f"The GeoJSON is {size_bytes / _BYTES_PER_MB:,.1f} MB, over the {limit / _BYTES_PER_MB:g} MB limit: "
            f"simplify or clip it to the area you need, or raise {GEOJSON_VARIABLE}."
        )


def check_date_span(start: dt.date, end: dt.date) -> None:
    """Refuse dates in the wrong order or spanning more of the Landsat record than the span limit."""
    for name, value in (("start", start), ("end", end)):
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            raise InvalidInputError(f"The {name} date {value!r} is not a date: give it as YYYY-MM-DD.")
    if end < start:
        raise InvalidInputError(f"The start date {start} is after the end date {end}: swap them.")
    counted_from = max(start, LANDSAT_RECORD_START)
    years = (end - counted_from).days / _DAYS_PER_YEAR
    limit = max_date_span_years()
    if years > limit:
        raise InvalidInputError(
            f"The dates {start}..{end} span {years:,.0f} years of the Landsat record (it starts {LANDSAT_RECORD_START}), "
            f"over the {limit:g}-year limit: narrow the dates or raise {DATE_SPAN_VARIABLE}."
        )


def check_scene_count(count: int) -> None:
    """Refuse a search that found more scenes than one request may measure."""
    limit = max_scenes()
    if count > limit:
        raise InvalidInputError(
            f"The search found {count:,} scenes, over the {limit:,} scenes-per-request limit: "
            f"narrow the dates or the area (or skip cloudy scenes), or raise {SCENES_VARIABLE}."
        )
