"""Read a page address's query parameters into the view's settings, whatever they hold.

A link is anyone's to write, so every value is parsed defensively: a value that cannot be
used falls back to the default (or is clamped into range) and adds one note naming the
parameter and the form it takes. The notes never repeat the value itself, so a crafted
link cannot put its own text (or links) in the page. Pure Python: no Streamlit here.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any, Mapping

from cloudcore import (
    DEFAULT_FILL_METHOD,
    DEFAULT_FLAGS,
    DEFAULT_WINDOW_DAYS,
    DEMO_END,
    DEMO_EXAMPLE_BBOX,
    DEMO_START,
    FILL_METHODS,
    LANDSAT_RECORD_START,
    MASK_KINDS,
    QA_FLAGS,
)

SOURCES = ("planetary-computer", "demo")
CUSTOM = "a STAC API URL"
FOLDER = "a folder on this server"
FLAG_CHOICES = [f for f in QA_FLAGS if f != "fill"]  # fill is always removed
ORDERS = ("clearest first", "time order")
PLOTS = ("chart", "calendar")
"""How Explore shows the dates: the timeline chart or the calendar of days (URL `plot`)."""

# A first visit opens here: a lake-and-farmland area with a record of varied cloud.
PC_EXAMPLE_BBOX = "8.45,47.2,8.6,47.3"
DEMO_BBOX = ",".join(f"{v:.5f}" for v in DEMO_EXAMPLE_BBOX)

# Longer values are no setting of this app; they are dropped before any parsing.
MAX_VALUE_LENGTH = 100_000


def latest_date(today: dt.date) -> dt.date:
    """The last date a view may name: a year ahead leaves room to plan, and keeps dates sane."""
    return today + dt.timedelta(days=366)


def default_dates(source: str, today: dt.date) -> tuple[dt.date, dt.date]:
    if source == "demo":
        return DEMO_START, DEMO_END
    return today - dt.timedelta(days=365), today


def _finite_numbers(text: str) -> list[float] | None:
    try:
        values = [float(p) for p in text.split(",")]
    except ValueError:
        return None
    return values if all(math.isfinite(v) for v in values) else None


def bbox_or_none(text: str | None) -> str | None:
    """'w,s,e,n' with 4 finite numbers, written canonically; None otherwise."""
    values = _finite_numbers(text) if text else None
    if values is None or len(values) != 4:
        return None
    return ",".join(f"{v:.6f}".rstrip("0").rstrip(".") for v in values)


def poly_to_geojson(text: str) -> str | None:
    """'x1,y1,x2,y2,...' (the URL form of a drawn polygon) -> GeoJSON Polygon text; None if not that."""
    values = _finite_numbers(text)
    if values is None or len(values) < 6 or len(values) % 2:
        return None
    ring = [[values[i], values[i + 1]] for i in range(0, len(values), 2)]
    if ring[0] != ring[-1]:
        ring.append(ring[0])
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def geojson_to_poly(text: str) -> str | None:
    """The outer ring of a single GeoJSON Polygon as 'x1,y1,...' (5 decimals, ~1 m); None if not that."""
    try:
        geometry = json.loads(text)
        if geometry.get("type") == "Feature":
            geometry = geometry.get("geometry") or {}
        if geometry.get("type") != "Polygon":
            return None
        ring = geometry["coordinates"][0]
        if len(ring) < 4:
            return None  # no closed ring: not something the poly form can carry
        return ",".join(f"{float(x):.5f},{float(y):.5f}" for x, y in ring[:-1])
    except (TypeError, ValueError, AttributeError, KeyError, IndexError, RecursionError):
        return None  # not a plain polygon: the caller keeps the GeoJSON as it is


class _Reader:
    """Takes values from the parameters, collecting a note for each one it cannot use."""

    def __init__(self, params: Mapping[str, Any]):
        self.params = params
        self.notes: list[str] = []

    def text(self, name: str) -> str | None:
        value = self.params.get(name)
        if value is None:
            return None
        if isinstance(value, (list, tuple)):  # a repeated parameter: the last one counts, as in Streamlit
            value = value[-1] if value else ""
        value = str(value)
        if len(value) > MAX_VALUE_LENGTH:
            self.notes.append(f"{name} is over {MAX_VALUE_LENGTH:,} characters, so it was ignored.")
            return None
        return value

    def date(self, name: str, default: dt.date, today: dt.date) -> dt.date:
        text = self.text(name)
        if not text:
            return default
        try:
            value = dt.date.fromisoformat(text)
        except ValueError:
            self.notes.append(f"{name} is not a date, so the default was used: write it as YYYY-MM-DD.")
            return default
        low, high = LANDSAT_RECORD_START, latest_date(today)
        if not low <= value <= high:
            self.notes.append(f"{name} lies outside {low}..{high} (the Landsat record), so it was moved into it.")
            return min(max(value, low), high)
        return value

    def number(self, name: str, default: float, low: float, high: float) -> float:
        text = self.text(name)
        if text is None or text == "":
            return default
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            self.notes.append(f"{name} is not a number, so the default was used: give a number from {low:g} to {high:g}.")
            return default
        if not low <= value <= high:
            self.notes.append(f"{name} lies outside {low:g}..{high:g}, so it was moved into that range.")
            return min(max(value, low), high)
        return value

    def choice(self, name: str, choices: tuple[str, ...] | list[str], default: str) -> str:
        text = self.text(name)
        if text is None:
            return default
        if text not in choices:
            self.notes.append(f"{name} is none of {', '.join(choices)}, so {default} was used.")
            return default
        return text


def settings_from_params(
    params: Mapping[str, Any], *, folder_sharing: bool = False, today: dt.date | None = None
) -> tuple[dict[str, Any], list[str]]:
    """The session settings a page address asks for, and a note for each value that was not usable.

    Args:
        params: Query parameter name -> value (str; a list means a repeated parameter).
        folder_sharing: The server shares a folder, so a source that is no name or URL is a folder.
        today: For the default dates (defaults to today).

    Never raises on any parameter value: what cannot be used becomes the default.
    """
    today = today or dt.date.today()
    read = _Reader(params)
    source = (read.text("source") or "planetary-computer").strip() or "planetary-computer"
    if source in SOURCES:
        kind = source
    elif source.lower().startswith(("http://", "https://")) or not folder_sharing:
        kind = CUSTOM  # anything else is opened (and refused with a message) by ui.sources
    else:
        kind = FOLDER
    start_default, end_default = default_dates(source, today)

    aoi = None
    poly_text, bbox_text = read.text("poly"), read.text("bbox")
    if poly_text:
        aoi = poly_to_geojson(poly_text)
        if aoi is None:
            read.notes.append("poly is not an even list of 6 or more numbers (x1,y1,x2,y2,...), so it was ignored.")
    if aoi is None and bbox_text:
        aoi = bbox_or_none(bbox_text)
        if aoi is None:
            read.notes.append("bbox is not 4 numbers minlon,minlat,maxlon,maxlat, so the example area was used.")

    flags_text = read.text("flags")
    flags = sorted(DEFAULT_FLAGS) if flags_text is None else [f for f in flags_text.split(",") if f]
    unknown = [f for f in flags if f not in FLAG_CHOICES]
    if unknown:
        read.notes.append(f"flags holds {len(unknown)} unknown name(s), left out: the flags are {', '.join(FLAG_CHOICES)}.")

    date_text = read.text("date")
    picked = None
    if date_text:
        try:
            picked = dt.date.fromisoformat(date_text).isoformat()
        except ValueError:
            read.notes.append("date is not a date (YYYY-MM-DD), so no date is selected.")

    near = None
    near_text = read.text("near")
    if near_text:
        try:
            near_day = dt.date.fromisoformat(near_text)
        except ValueError:
            read.notes.append("near is not a date (YYYY-MM-DD), so no date of interest is set.")
        else:
            low, high = LANDSAT_RECORD_START, latest_date(today)
            if low <= near_day <= high:
                near = near_day.isoformat()
            else:
                read.notes.append(f"near lies outside {low}..{high} (the Landsat record), so no date of interest is set.")

    settings = {
        "source_kind": kind,
        "stac_url": source if kind == CUSTOM else "",
        "folder": source if kind == FOLDER else "",
        "aoi": aoi or (DEMO_BBOX if source == "demo" else PC_EXAMPLE_BBOX),
        "start": read.date("start", start_default, today),
        "end": read.date("end", end_default, today),
        "cc": int(read.number("cc", 100, 0, 100)),
        "flags": [f for f in dict.fromkeys(flags) if f in FLAG_CHOICES],
        "buffer": int(read.number("buffer", 0, 0, 5000)),
        "mask": read.choice("mask", MASK_KINDS, "qa"),
        "thr": int(read.number("thr", 10, 0, 100)),
        "date": picked,
        "method": read.choice("method", FILL_METHODS, DEFAULT_FILL_METHOD),
        "window": int(read.number("window", DEFAULT_WINDOW_DAYS, 1, 365)),
        "order": ORDERS[1] if read.choice("order", ("clearest", "time"), "clearest") == "time" else ORDERS[0],
        "plot": read.choice("plot", PLOTS, PLOTS[0]),
        "near": near,
        "tl_filled": read.choice("filled", ("0", "1"), "0") == "1",
        "tl_fps": int(read.number("fps", 3, 1, 10)),
    }
    return settings, read.notes
