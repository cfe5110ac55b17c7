"""Cached cloudcore calls for the pages: the only place pages reach cloudcore's I/O through.

Caches are bounded and keyed on canonical inputs (the source spec, the AOI text, dates,
mask settings), and live in the server process, so a colleague opening a shared link on
the same server reuses them. Scenes hold unsigned hrefs only: hrefs are signed inside each
read and never cached.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Callable, Iterable

import streamlit as st

from cloudcore import AOI, DateCover, DateGroup, MaskPolicy, iter_cover, parse_aoi, search_dates
from cloudcore.export import rows_to_csv
from cloudcore.gapfill import fill_date
from cloudcore.preview import ComparePictures, compare_pictures, date_thumbnail, grid_bounds_lonlat, to_lonlat
from cloudcore.render import png_bytes
from cloudcore.sources.base import SceneSource

from .sources import dashboard_source
from .state import View

COVER_CACHE_DATES = 20_000  # about 1 kB a record: a few MB at most


@st.cache_resource(max_entries=8, show_spinner=False)
def source_for(spec: str) -> SceneSource:
    """One source object per spec (the demo and folder sources index their files once).

    Only the forms a page address may ask for open (see ui/sources.py): a server folder
    only inside the operator's shared root (CLOUDCORE_FOLDER_ROOT).
    """
    return dashboard_source(spec)


@st.cache_data(max_entries=256, show_spinner=False)
def aoi_for(text: str) -> AOI:
    # Text from a page address or a form: never a path to a file on the server.
    return parse_aoi(text, allow_files=False)


@st.cache_data(max_entries=128, ttl=3600, show_spinner=False)
def dates_for(spec: str, aoi_text: str, start: dt.date, end: dt.date, max_scene_cloud: float | None) -> list[DateGroup]:
    """The acquisitions over the AOI (a search; an hour old at most, new scenes arrive daily)."""
    return search_dates(source_for(spec), aoi_for(aoi_text), start, end, max_scene_cloud)


def policy_for(view: View) -> MaskPolicy:
    return _policy(view.flags, view.buffer_m, view.mask)


def _policy(flags: str, buffer_m: float, mask: str) -> MaskPolicy:
    return MaskPolicy(flags=frozenset(flags.split(",")) if flags else frozenset(), buffer_m=buffer_m, kind=mask)


class _CoverStore:
    """A bounded, thread-safe LRU of measured dates shared by every session of this server."""

    def __init__(self, size: int):
        self._items: OrderedDict[tuple, DateCover] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

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


@st.cache_resource(show_spinner=False)
def _cover_store() -> _CoverStore:
    return _CoverStore(COVER_CACHE_DATES)


def _cover_key(view: View, group: DateGroup) -> tuple:
    return (view.source, view.aoi, view.flags, view.buffer_m, view.mask, group.date, group.platform, group.wrs_path, tuple(group.scene_ids))


def cover(view: View, groups: list[DateGroup], on_update: Callable[[list[DateCover], int], None]) -> list[DateCover]:
    """Every date's AOI statistics; cached dates at once, the rest as they are measured."""
    store = _cover_store()
    records, missing = [], []
    for group in groups:
        hit = store.get(_cover_key(view, group))
        (records.append(hit) if hit else missing.append(group))
    on_update(records, len(groups))
    if missing:
        keys = {id(g): _cover_key(view, g) for g in missing}
        by_date = {(g.date.isoformat(), g.platform, tuple(g.scene_ids)): g for g in missing}
        for record in iter_cover(missing, aoi_for(view.aoi), source_for(view.source), policy_for(view)):
            group = by_date[(record.date, record.platform, tuple(record.scene_ids))]
            store.put(keys[id(group)], record)
            records.append(record)
            on_update(records, len(groups))
    return sorted(records, key=lambda r: (r.date, r.platform))


@st.cache_data(max_entries=2000, show_spinner=False)
def thumbnail(spec: str, aoi_text: str, group: DateGroup) -> bytes:
    return png_bytes(date_thumbnail(group, aoi_for(aoi_text), source_for(spec)))


@st.cache_data(max_entries=12, show_spinner=False)
def comparison(spec: str, aoi_text: str, date: dt.date, window_days: int, method: str, flags: str, buffer_m: float,
               mask: str = "qa") -> dict:
    """Fill one date and prepare everything the compare page shows or offers for download."""
    policy = _policy(flags, buffer_m, mask)
    image = fill_date(source_for(spec), aoi_for(aoi_text), date, window_days, method, policy)
    pictures: ComparePictures = compare_pictures(image)
    with tempfile.TemporaryDirectory() as tmp:
        tif = image.write_geotiff(Path(tmp) / "filled.tif").read_bytes()
    overlays = {}
    for name in ("filled", "masked_overlay", "provenance"):
        rgba, bounds = to_lonlat(getattr(pictures, name), image.grid)
        overlays[name] = (png_bytes(rgba), bounds)
    return {
        "summary": image.summary() | {"platform": image.platform, "scene_ids": image.scene_ids, "method": method},
        "donors": [d.isoformat() for d in image.result.donors_used],
        "donor_errors": list(image.donor_errors),
        "png": {name: png_bytes(getattr(pictures, name)) for name in ("original", "masked", "masked_overlay", "filled", "provenance")},
        "disagreement": None if pictures.disagreement is None else png_bytes(pictures.disagreement),
        "agreement": pictures.agreement,
        "corrections": [c.describe() for c in image.result.corrections],
        "legend": pictures.legend,
        "tif": tif,
        "overlays": overlays,
        "bounds": grid_bounds_lonlat(image.grid),
    }


def cover_csv(records: Iterable[DateCover]) -> str:
    from cloudcore.cover import COVER_FIELDS

    return rows_to_csv([r.to_dict() for r in records], COVER_FIELDS)
