"""Cached cloudcore calls for the pages: the only place pages reach cloudcore's I/O through.

Caches are keyed on canonical inputs (the source spec, the AOI text, dates, mask settings)
and live in the server process, so a colleague opening a shared link on the same server
reuses them. Together they hold at most CLOUDCORE_UI_CACHE_MB (see cache_budget.py): memory
is set by that, not by how many sessions there are. Scenes hold unsigned hrefs only: hrefs
are signed inside each read and never cached.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path

import streamlit as st

from cloudcore import (
    AOI,
    COVER_FIELDS,
    ComparePictures,
    CoverCache,
    DateCover,
    DateGroup,
    MaskPolicy,
    SceneSource,
    compare_pictures,
    date_thumbnail,
    demo_ready,
    fill_image,
    fill_summary_csv,
    fill_summary_rows,
    georeferenced_png,
    grid_bounds_lonlat,
    is_clear,
    iter_cover,
    parse_aoi,
    parse_flags,
    png_bytes,
    rows_to_csv,
    search_dates,
    timelapse,
    to_lonlat,
)

from . import config
from .cache_budget import share_bytes
from .sources import dashboard_source, guard_groups
from .state import View

SETTINGS = config.settings()
"""Read when the pages first load this module (app.py has checked them already)."""
COVER_ITEM_BYTES = 2048
"""Memory one measured date takes in the cover store, with its key: 0.7-1.1 kB measured
(tests/load/test_cache_budget.py checks the bound), so the count below keeps the store in its share."""
COVER_CACHE_DATES = share_bytes("cover", SETTINGS) // COVER_ITEM_BYTES
COVER_FILES = CoverCache.under(SETTINGS.cache_dir)
"""The library's own per-date result files (under CLOUDCORE_CACHE_DIR), written as the pages
measure: a timelapse made by `cloudcore.timelapse` then finds every date the page measured
(minutes of the ML mask) instead of measuring it again, and a restart keeps them."""


@st.cache_resource(max_entries=8, show_spinner=False)
def source_for(spec: str) -> SceneSource:
    """One source object per spec (the demo and folder sources index their files once).

    Only the forms a page address may ask for open (see ui/sources.py): a server folder
    only inside the operator's shared root (CLOUDCORE_FOLDER_ROOT).
    """
    return dashboard_source(spec)


@st.cache_data(max_entries=256, max_size=share_bytes("aois", SETTINGS), show_spinner=False)
def aoi_for(text: str) -> AOI:
    # Text from a page address or a form: never a path to a file on the server.
    return parse_aoi(text, settings=config.settings(), allow_files=False)


@st.cache_data(max_entries=128, max_size=share_bytes("searches", SETTINGS), ttl=3600, show_spinner=False)
def dates_for(spec: str, aoi_text: str, start: dt.date, end: dt.date, max_scene_cloud: float | None) -> list[DateGroup]:
    """The acquisitions over the AOI (a search; an hour old at most, new scenes arrive daily).

    The scenes a STAC API named in a page address answers with must live on public hosts too:
    otherwise the server would read whatever address the API's items point at."""
    groups = search_dates(source_for(spec), aoi_for(aoi_text), start, end, max_scene_cloud, settings=config.settings())
    guard_groups(spec, groups)
    return groups


def searching_text(view: View) -> str:
    """What the spinner says while the scenes are searched; the demo's one-time preparation says so."""
    if view.source == "demo" and not demo_ready(config.settings()):
        return ("Preparing the demo: a synthetic two-year Landsat record (2022–2023) is made once on this "
                "server, which takes about 15 s; after that it opens at once.")
    return f"Searching {view.source} for Landsat scenes over the area..."


def policy_for(view: View) -> MaskPolicy:
    return _policy(*mask_settings(view.flags, view.buffer_m, view.mask), view.mask)


def mask_settings(flags: str, buffer_m: float, mask: str) -> tuple[str, float]:
    """The QA flags and buffer that shape `mask`: under the ML mask alone they change nothing, so
    they are not part of any cache key (changing them must not measure everything again)."""
    if mask == "ml":
        return "", 0.0
    return flags, buffer_m


def _policy(flags: str, buffer_m: float, mask: str) -> MaskPolicy:
    return MaskPolicy(flags=parse_flags(flags), buffer_m=buffer_m, kind=mask)


class _CoverStore:
    """A bounded, thread-safe LRU of measured dates shared by every session of this server.

    It also knows which dates some session is measuring right now, so that people opening the
    same area at once wait for one measurement instead of each making their own.
    """

    def __init__(self, size: int):
        self._items: OrderedDict[tuple, DateCover] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()
        self._in_flight: dict[tuple, threading.Event] = {}

    def get(self, key: tuple) -> DateCover | None:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def put(self, key: tuple, record: DateCover) -> None:
        if record.error:
            return  # a failure may be passing: measure it again next time
        with self._lock:
            self._items[key] = record
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def claim(self, keys: list[tuple]) -> dict[tuple, threading.Event]:
        """Mark the keys nobody is measuring as the caller's; return the others' (set when they finish)."""
        theirs = {}
        with self._lock:
            for key in keys:
                if key in self._in_flight:
                    theirs[key] = self._in_flight[key]
                else:
                    self._in_flight[key] = threading.Event()
        return theirs

    def release(self, key: tuple) -> None:
        """The caller stopped measuring `key` (done, failed or interrupted): wake whoever waits for it."""
        with self._lock:
            event = self._in_flight.pop(key, None)
        if event is not None:
            event.set()


@st.cache_resource(show_spinner=False)
def _cover_store() -> _CoverStore:
    return _CoverStore(COVER_CACHE_DATES)


def _cover_key(view: View, group: DateGroup) -> tuple:
    # The AOI by digest: a drawn or uploaded polygon can be long, and every date's key would hold it.
    aoi = hashlib.blake2b(view.aoi.encode(), digest_size=16).digest()
    flags, buffer_m = mask_settings(view.flags, view.buffer_m, view.mask)
    return (view.source, aoi, flags, buffer_m, view.mask, group.date, group.platform, group.wrs_path, tuple(group.scene_ids))


def known_cover(view: View, groups: list[DateGroup]) -> dict[tuple[str, str], DateCover]:
    """The dates of `groups` already measured under the view's mask, by (date, platform); nothing is read."""
    store = _cover_store()
    found = {}
    for group in groups:
        hit = store.get(_cover_key(view, group))
        if hit is not None:
            found[(hit.date, hit.platform)] = hit
    return found


ML_SECONDS_PER_DATE = 0.65
"""The ML mask's cost per date before this server has measured its own: 114 s for the demo's
183 dates of a 52 km² area on a 2-core machine (ukis-csmask on onnxruntime's CPU provider)."""


@st.cache_resource(max_entries=1, show_spinner=False)
def _ml_costs() -> dict[str, float]:
    return {"seconds_per_km2_date": ML_SECONDS_PER_DATE / 52.0, "dates": 0}


def ml_seconds_per_date(area_km2: float) -> float:
    """What one date costs under the ML mask on this server, for an area this size: measured on the
    server's own runs once it has some (the model's cost grows with the pixels it classifies)."""
    return max(_ml_costs()["seconds_per_km2_date"] * area_km2, 0.05)


def _record_ml_cost(seconds: float, dates: int, area_km2: float) -> None:
    if dates <= 0 or area_km2 <= 0:
        return
    costs = _ml_costs()
    per = seconds / dates / area_km2
    # A running mean weighted by dates: one slow run on a busy server does not decide alone.
    seen = costs["dates"]
    costs["seconds_per_km2_date"] = (costs["seconds_per_km2_date"] * max(seen, 20) + per * dates) / (max(seen, 20) + dates)
    costs["dates"] = seen + dates


def missing_dates(view: View, groups: list[DateGroup]) -> int:
    """How many of `groups` no session has measured yet under the view's mask."""
    store = _cover_store()
    return sum(1 for g in groups if store.get(_cover_key(view, g)) is None)


COVER_WAIT_S = 120
"""How long a session waits for a date another session is measuring before measuring it itself."""


def cover(view: View, groups: list[DateGroup], on_update: Callable[[list[DateCover], int], None]) -> list[DateCover]:
    """Every date's AOI statistics; cached dates at once, the rest as they are measured.

    Dates another session is measuring already are waited for, not measured twice: ten people
    opening one shared link cost one measurement of the area, not ten.
    """
    store = _cover_store()
    records, missing = [], []
    for group in groups:
        hit = store.get(_cover_key(view, group))
        (records.append(hit) if hit else missing.append(group))
    on_update(records, len(groups))
    if not missing:
        return sorted(records, key=lambda r: (r.date, r.platform))
    keys = {id(g): _cover_key(view, g) for g in missing}
    theirs = store.claim(list(keys.values()))
    mine = [g for g in missing if keys[id(g)] not in theirs]
    try:
        _measure(view, mine, keys, store, records, lambda: on_update(records, len(groups)), claimed=True)
        unfinished = []
        for group in (g for g in missing if keys[id(g)] in theirs):
            theirs[keys[id(group)]].wait(COVER_WAIT_S)
            hit = store.get(keys[id(group)])
            (records.append(hit) if hit else unfinished.append(group))
            on_update(records, len(groups))
        # What the other session failed on, gave up or took too long for: measure it here after all.
        _measure(view, unfinished, keys, store, records, lambda: on_update(records, len(groups)), claimed=False)
    finally:
        for group in mine:  # a run stopped half way (the user clicked on) frees the dates it held
            store.release(keys[id(group)])
    return sorted(records, key=lambda r: (r.date, r.platform))


def _measure(view: View, groups: list[DateGroup], keys: dict[int, tuple], store: _CoverStore,
             records: list[DateCover], updated: Callable[[], None], claimed: bool) -> None:
    if not groups:
        return
    by_date = {(g.date.isoformat(), g.platform, tuple(g.scene_ids)): g for g in groups}
    aoi = aoi_for(view.aoi)
    started, done = time.monotonic(), 0
    for record in iter_cover(groups, aoi, source_for(view.source), policy_for(view), settings=config.settings(),
                             cache=COVER_FILES):
        done += 1
        group = by_date[(record.date, record.platform, tuple(record.scene_ids))]
        store.put(keys[id(group)], record)
        if claimed:
            store.release(keys[id(group)])  # whoever waits for this date can go on now
        records.append(record)
        updated()
    if view.mask != "qa":
        _record_ml_cost(time.monotonic() - started, done, aoi.area_km2)


# One date's picture never changes (the key holds its scene ids): no expiry, only the size bound.
@st.cache_data(max_entries=4000, max_size=share_bytes("thumbnails", SETTINGS), show_spinner=False)
def thumbnail(spec: str, aoi_text: str, group: DateGroup) -> bytes:
    return png_bytes(date_thumbnail(group, aoi_for(aoi_text), source_for(spec), settings=config.settings()))


# Bounded in bytes, since a fill's size grows with the area (about 0.5 MB for 7 km square); the
# hour lets a fill pick up donor dates published since. The count only caps the bookkeeping.
@st.cache_data(max_entries=256, max_size=share_bytes("comparisons", SETTINGS), ttl=3600, show_spinner=False)
def comparison(spec: str, aoi_text: str, date: dt.date, window_days: int, method: str, flags: str, buffer_m: float,
               mask: str = "qa") -> dict:
    """Fill one date and prepare everything the compare page shows or offers for download."""
    flags, buffer_m = mask_settings(flags, buffer_m, mask)
    return _comparison(spec, aoi_text, date, window_days, method, flags, buffer_m, mask)


PICTURES = {"original": "As observed", "masked": "Cloud-masked", "masked_overlay": "Cloud-masked (tinted)",
            "filled": "Gap-filled", "provenance": "Where each pixel came from",
            "uncertainty": "Predicted error of each pixel"}
"""The pictures of a comparison, by the name ComparePictures gives them, with what the page calls them."""


def _comparison(spec: str, aoi_text: str, date: dt.date, window_days: int, method: str, flags: str, buffer_m: float,
                mask: str) -> dict:
    image = fill_image(aoi_for(aoi_text), date, source=source_for(spec), method=method, window_days=window_days,
                       mask=mask, flags=flags, buffer_m=buffer_m, settings=config.settings())
    pictures: ComparePictures = compare_pictures(image)
    with tempfile.TemporaryDirectory() as tmp:
        tif = image.write_geotiff(Path(tmp) / "filled.tif").read_bytes()
    overlays = {}
    for name in PICTURES:
        rgba, bounds = to_lonlat(getattr(pictures, name), image.grid)
        overlays[name] = (png_bytes(rgba), bounds)
    return {
        "summary": image.summary() | {"platform": image.platform, "scene_ids": image.scene_ids, "method": method},
        "donors": [d.isoformat() for d in image.result.donors_used],
        "donor_errors": list(image.donor_errors),
        "png": {name: png_bytes(getattr(pictures, name)) for name in PICTURES},
        "rgba": {name: getattr(pictures, name) for name in PICTURES},
        "grid": image.grid,
        "disagreement": None if pictures.disagreement is None else png_bytes(pictures.disagreement),
        "agreement": pictures.agreement,
        "corrections": correction_rows(image),
        "legend": pictures.legend,
        "ramp": png_bytes(pictures.provenance_ramp),
        "top": pictures.provenance_top,
        "ramp_days": pictures.provenance_window_days,
        "uncertainty_ramp": png_bytes(pictures.uncertainty_ramp),
        "uncertainty_top": pictures.uncertainty_top,
        "uncertainty_mean": pictures.uncertainty_mean,
        "tif": tif,
        "summary_csv": fill_summary_csv(image),
        "overlays": overlays,
        "bounds": grid_bounds_lonlat(image.grid),
    }


def correction_rows(image) -> list[dict]:
    """The colour matching of each donor date, one row per donor with its gain and offset (in
    reflectance) per named band: the fill summary's donor rows (`cloudcore.fill_summary_rows`)."""
    rows = []
    for row in fill_summary_rows(image):
        if row.get("role") != "donor":
            continue
        shown = {"donor date": row["date"], "share of the area %": row["share_of_area_pct"]}
        shown |= {k.replace("_", " "): v for k, v in row.items() if k.startswith(("gain_", "offset_")) and v != ""}
        if row.get("correction_note"):
            shown["note"] = row["correction_note"]
        rows.append(shown)
    return rows


@st.cache_data(max_entries=64, max_size=share_bytes("downloads", SETTINGS), ttl=3600, show_spinner=False)
def picture_zip(spec: str, aoi_text: str, date: dt.date, window_days: int, method: str, flags: str, buffer_m: float,
                mask: str, picture: str, scale: int, name: str) -> bytes:
    """One picture of a comparison as a georeferenced PNG (zipped with its world file and projection)."""
    result = comparison(spec, aoi_text, date, window_days, method, flags, buffer_m, mask)
    return georeferenced_png(result["rgba"][picture], result["grid"], scale=scale, name=name)


def duration(seconds: float) -> str:
    """'about 40 s', '3 min', '1.5 h': a wait as a person reads it."""
    if seconds < 90:
        return f"{max(round(seconds / 5) * 5, 5):.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


VIEW_COLUMNS = ("source", "aoi_bbox", "start", "end", "mask", "flags", "buffer_m", "max_scene_cloud_pct", "clear_below_pct")
"""What was asked, repeated on every row of the Explore CSV: a file that travels alone still says
what it measured (a column each, so any CSV reader takes it as it is)."""


def cover_csv(records: Iterable[DateCover], view: View | None = None) -> str:
    """The Explore table as CSV: the CLI's `cover --format csv` fields (obscured_pct included),
    then the view's settings when `view` is given."""
    rows = [r.to_dict() for r in records]
    if view is None:
        return rows_to_csv(rows, COVER_FIELDS)
    flags, buffer_m = mask_settings(view.flags, view.buffer_m, view.mask)
    asked = {
        "source": view.source, "aoi_bbox": " ".join(f"{v:.5f}" for v in aoi_for(view.aoi).bbox_lonlat),
        "start": view.start.isoformat(), "end": view.end.isoformat(), "mask": view.mask, "flags": flags.replace(",", " "),
        "buffer_m": f"{buffer_m:g}", "max_scene_cloud_pct": "" if view.max_scene_cloud is None else f"{view.max_scene_cloud:g}",
        "clear_below_pct": f"{view.threshold:g}",
    }
    return rows_to_csv([row | asked for row in rows], (*COVER_FIELDS, *VIEW_COLUMNS))


def file_stem(view: View, what: str) -> str:
    """A download's name that says what it holds: `what`, the area's bbox and the dates, e.g.
    cloud-cover_-89.444_43.038_-89.356_43.103_2022-01-01_2023-12-31."""
    west, south, east, north = aoi_for(view.aoi).bbox_lonlat
    place = "_".join(f"{v:.3f}" for v in (west, south, east, north))
    when = view.date if (view.date and what != "cloud-cover") else f"{view.start}_{view.end}"
    return f"{what}_{place}_{when}"


# What one frame costs on this server, measured on the demo's 7 km area (2 cores): a date read and
# drawn, or a date gap-filled (its donors' reads shared with the neighbouring frames).
FRAME_S = 0.05
FILLED_FRAME_S = 0.4


def timelapse_dates(records: Iterable[DateCover], threshold: float) -> list[str]:
    """The dates that become frames: measured, and at most `threshold` % obscured (as the library picks them)."""
    return sorted({r.date for r in records if is_clear(r, threshold)})


def timelapse_request(view: View) -> tuple:
    """Everything a timelapse depends on: a new request makes new frames."""
    flags, buffer_m = mask_settings(view.flags, view.buffer_m, view.mask)
    filled = (view.method, view.window_days) if view.tl_filled else None
    return (view.source, view.aoi, view.start, view.end, view.max_scene_cloud, view.mask, flags, buffer_m,
            view.threshold, filled, view.tl_fps)


def make_timelapse(view: View, request: tuple, on_frame: Callable[[int, int], None]) -> dict:
    """Make the frames once (progress through `on_frame`, called between frames on this thread,
    so a new run of the page stops the work there) and encode them as GIF and MP4."""
    flags, buffer_m = mask_settings(view.flags, view.buffer_m, view.mask)
    result = timelapse(
        aoi_for(view.aoi), view.start, view.end, source=source_for(view.source), max_obscured=view.threshold,
        filled=view.tl_filled, method=view.method, window_days=view.window_days, mask=view.mask, flags=flags,
        buffer_m=buffer_m, max_scene_cloud=view.max_scene_cloud, fps=view.tl_fps, progress=on_frame,
        settings=config.settings(),
    )
    rows = [{"date": d.isoformat(), "platform": platform, "obscured %": obscured}
            | ({"filled %": filled} if view.tl_filled else {})
            for d, platform, obscured, filled in zip(result.dates, result.platforms, result.obscured_pcts,
                                                     result.filled_pcts)]
    return {"request": request, "gif": result.to_gif(), "mp4": result.to_mp4(), "summary": result.summary(), "rows": rows}
