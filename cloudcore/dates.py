"""Dates as users hold them, made calendar dates once at the edge."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from .errors import InvalidInputError

DateLike = str | dt.date | dt.datetime | np.datetime64 | Any
"""'YYYY-MM-DD' (or an ISO date-time), a date or datetime, a pandas.Timestamp, a numpy.datetime64."""


def as_date(value: DateLike, parameter: str) -> dt.date:
    """The calendar date (UTC for an aware date-time) any of the `DateLike` forms names."""
    if isinstance(value, dt.datetime):  # pandas.Timestamp is one too
        if value != value:  # NaT
            raise InvalidInputError(f"The {parameter} date is missing (NaT): give a date, e.g. 2022-06-30.",
                                    parameter=parameter)
        return (value.astimezone(dt.UTC) if value.tzinfo else value).date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, np.datetime64):
        if np.isnat(value):
            raise InvalidInputError(f"The {parameter} date is missing (NaT): give a date, e.g. 2022-06-30.",
                                    parameter=parameter)
        return dt.date.fromisoformat(str(value.astype("datetime64[D]")))
    if isinstance(value, str):
        text = value.strip()
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
        try:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInputError(
                f"The {parameter} date {value[:40]!r} is not a date: give it as YYYY-MM-DD, e.g. 2022-06-30.",
                parameter=parameter,
            ) from None
        return as_date(parsed, parameter)
    raise InvalidInputError(
        f"The {parameter} date is a {type(value).__name__}: give 'YYYY-MM-DD', a date, a datetime, "
        "a pandas.Timestamp or a numpy.datetime64.",
        parameter=parameter,
    )


def as_date_range(start: DateLike, end: DateLike) -> tuple[dt.date, dt.date]:
    """(start, end) as dates, in order."""
    first, last = as_date(start, "start"), as_date(end, "end")
    if last < first:
        raise InvalidInputError(f"The start date {first} is after the end date {last}: swap them.", parameter="start")
    return first, last


