"""Numbers as users give them (strings, numpy scalars, bools by mistake), checked once at the edge."""

from __future__ import annotations

import math
from typing import Any

from .errors import InvalidInputError


def as_number(value: Any, parameter: str, low: float, high: float, unit: str, *, whole: bool = False) -> float:
    """`value` as a finite number in low..high (a whole one when `whole`)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{parameter}={value!r} is not a number: give {unit} from {low:g} to {high:g}.",
                                parameter=parameter) from None
    if isinstance(value, bool) or not math.isfinite(number) or not low <= number <= high or (
        whole and not number.is_integer()
    ):
        kind = "a whole number of " if whole else ""
        raise InvalidInputError(f"{parameter}={value!r} is outside {low:g}..{high:g}: give {kind}{unit} in that range.",
                                parameter=parameter)
    return number
