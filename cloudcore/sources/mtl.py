"""Read the few facts cloudcore needs from a Landsat Collection 2 MTL metadata file.

USGS delivers the same metadata as `_MTL.json`, `_MTL.txt` (ODL: `GROUP = ...` /
`KEY = value` / `END_GROUP = ...`) and `_MTL.xml`; the JSON and ODL forms share one
nested structure, so both are parsed to a dict and read by one function.
ref: LSDS-1619 / LSDS-1618, "Level-2 Metadata File" (group IMAGE_ATTRIBUTES).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InvalidInputError

ROOT_GROUP = "LANDSAT_METADATA_FILE"
IMAGE_GROUP = "IMAGE_ATTRIBUTES"


@dataclass(frozen=True)
class MtlFacts:
    """What the MTL adds to the product id. Any field may be None when absent."""

    datetime: dt.datetime | None
    """Scene centre time, timezone-aware UTC (DATE_ACQUIRED + SCENE_CENTER_TIME)."""
    scene_cloud_pct: float | None
    """CLOUD_COVER; None where USGS writes -1 (not computed)."""
    land_cloud_pct: float | None
    """CLOUD_COVER_LAND; None where USGS writes -1 (no land in the scene)."""
    sun_azimuth: float | None
    """Degrees clockwise from north, 0..360 (USGS writes -180..180; STAC uses 0..360)."""
    sun_elevation: float | None
    """Degrees above the horizon."""


def read_mtl(path: str | Path) -> MtlFacts:
    """Parse an `_MTL.json` or `_MTL.txt` file.

    Raises:
        InvalidInputError: the file cannot be read or is not a Landsat C2 MTL.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix.lower() == ".json" else parse_odl(text)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InvalidInputError(f"Cannot read MTL file {path.name!r} ({err}): re-download it or delete it.") from err
    return mtl_facts(data, path.name)


def parse_odl(text: str) -> dict[str, Any]:
    """Nest the ODL text of an `_MTL.txt` into dicts, values as strings without quotes."""
    root: dict[str, Any] = {}
    stack = [root]
    for raw in text.splitlines():
        key, sep, value = raw.partition("=")
        if not sep:
            continue  # the closing END line, blank lines
        key, value = key.strip(), value.strip()
        if key == "GROUP":
            group: dict[str, Any] = {}
            stack[-1][value] = group
            stack.append(group)
        elif key == "END_GROUP":
            if len(stack) > 1:
                stack.pop()
        else:
            stack[-1][key] = value.strip('"')
    return root


def mtl_facts(data: Mapping[str, Any], name: str = "MTL") -> MtlFacts:
    """Pick the IMAGE_ATTRIBUTES facts out of a parsed MTL (JSON or ODL)."""
    image = (data.get(ROOT_GROUP) or {}).get(IMAGE_GROUP) if isinstance(data, Mapping) else None
    if not isinstance(image, Mapping):
        raise InvalidInputError(
            f"{name} has no {ROOT_GROUP}/{IMAGE_GROUP} group: it is not a Landsat Collection 2 MTL file."
        )
    azimuth = _number(image.get("SUN_AZIMUTH"))
    return MtlFacts(
        datetime=_scene_time(image.get("DATE_ACQUIRED"), image.get("SCENE_CENTER_TIME")),
        scene_cloud_pct=_percent(image.get("CLOUD_COVER")),
        land_cloud_pct=_percent(image.get("CLOUD_COVER_LAND")),
        sun_azimuth=None if azimuth is None else azimuth % 360.0,
        sun_elevation=_number(image.get("SUN_ELEVATION")),
    )


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _percent(value: Any) -> float | None:
    number = _number(value)
    return None if number is None or number < 0 else number  # -1 means "not computed"


def _scene_time(date_text: Any, time_text: Any) -> dt.datetime | None:
    """'2019-11-29' + '01:00:37.5764700Z' -> aware UTC datetime (date only when no time)."""
    try:
        day = dt.date.fromisoformat(str(date_text).strip())
    except ValueError:
        return None
    midnight = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    if not time_text:
        return midnight
    clock = str(time_text).strip().rstrip("Z")
    whole, _, fraction = clock.partition(".")
    try:
        hours, minutes, seconds = (int(p) for p in whole.split(":"))
        # USGS writes 7 fractional digits; a datetime holds 6.
        micro = int((fraction + "000000")[:6]) if fraction else 0
        return midnight + dt.timedelta(hours=hours, minutes=minutes, seconds=seconds, microseconds=micro)
    except ValueError:
        return midnight
