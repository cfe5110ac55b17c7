"""The clear dates closest to a date of interest, from the AOI cover of every date.

Browser tools answer "when was it clear near my date?" from the scene-wide cloud of the
metadata; this answers it from what `cover` measured over the area itself, and says in a short
note what a person should know about each date (SLC-off stripes, a scene edge, snow).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from ..dates import DateLike, as_date
from ..errors import InvalidInputError
from ..numbers import as_number
from ..product import SLC_FAILURE
from .cover import DateCover

NEAREST_FIELDS = ("date", "platform", "obscured_pct", "days_from_near", "note")
"""The fields of a row of `best`, in order."""
DEFAULT_COUNT = 5
MAX_COUNT = 1000
DEFAULT_MAX_OBSCURED = 10.0

# Shares below these are not worth a note: rounding, and the odd pixel at an edge.
NO_DATA_NOTE_PCT = 0.5
SNOW_NOTE_PCT = 5.0
CLOUD_NOTE_PCT = 0.5


def is_clear(record: DateCover, max_obscured: float) -> bool:
    """Was the date measured, with at most `max_obscured` % of the AOI obscured? The one rule of
    `best`, of the timelapse's frames and of the dashboard's count of them."""
    return record.error is None and record.obscured_pct is not None and record.obscured_pct <= max_obscured


def nearest_clear_dates(
    records: Iterable[DateCover],
    near: DateLike,
    *,
    max_obscured: float = DEFAULT_MAX_OBSCURED,
    count: int = DEFAULT_COUNT,
) -> list[dict[str, Any]]:
    """The `count` measured dates with `obscured_pct` at most `max_obscured`, nearest `near` first.

    Ties (as many days before as after) list the earlier date first; one day's platforms in
    the order of the records. Dates that failed are never listed. Each row holds `date`,
    `platform`, `obscured_pct`, `days_from_near` (negative: before `near`) and `note`.
    """
    target = as_date(near, "near")
    threshold = as_number(max_obscured, "max_obscured", 0, 100, "a percentage")
    wanted = int(as_number(count, "count", 1, MAX_COUNT, "dates", whole=True))
    candidates = []
    for record in records:
        if not is_clear(record, threshold):
            continue
        days = (dt.date.fromisoformat(record.date) - target).days
        candidates.append((abs(days), days, record))
    candidates.sort(key=lambda c: (c[0], c[1]))  # sort is stable: a day's records keep their order
    return [
        {"date": r.date, "platform": r.platform, "obscured_pct": r.obscured_pct, "days_from_near": days,
         "note": date_note(r)}
        for _, days, r in candidates[:wanted]
    ]


def near_in_range(near: DateLike, start: dt.date, end: dt.date) -> dt.date:
    """`near` as a date, if it lies in start..end (the dates searched); else one clear message."""
    target = as_date(near, "near")
    if not start <= target <= end:
        raise InvalidInputError(
            f"The date of interest {target} is outside the dates searched, {start} to {end}: "
            "choose a date in that range, or widen the range to include it.",
            parameter="near",
        )
    return target


def date_note(record: DateCover) -> str:
    """What a person choosing this date should know, in a few words ("" when nothing)."""
    if record.valid_pct is None:
        return ""
    notes = []
    missing = 100.0 - record.valid_pct
    if missing >= NO_DATA_NOTE_PCT:
        if record.platform == "landsat-7" and dt.date.fromisoformat(record.date) >= SLC_FAILURE:
            notes.append(f"Landsat 7 SLC-off: {missing:.0f} % of the area has no data")
        else:
            notes.append(f"{missing:.0f} % of the area has no data")
    # The class shares are of the valid pixels: the notes give them as shares of the area.
    cloud = _of_area(record.cloud_pct, record.valid_pct)
    shadow = _of_area(record.shadow_pct, record.valid_pct)
    if cloud >= CLOUD_NOTE_PCT or shadow >= CLOUD_NOTE_PCT:
        notes.append(f"cloud {cloud:.0f} %, shadow {shadow:.0f} %" if shadow >= CLOUD_NOTE_PCT else f"cloud {cloud:.0f} %")
    snow = _of_area(record.snow_pct, record.valid_pct)
    if snow >= SNOW_NOTE_PCT:
        notes.append(f"snow on {snow:.0f} % of the area")
    return "; ".join(notes)


def _of_area(pct_of_valid: float | None, valid_pct: float) -> float:
    return 0.0 if pct_of_valid is None else pct_of_valid * valid_pct / 100.0

