"""Score the fill methods on real Landsat dates: a real mask stamped on a clear date ("simulated cloud").

No real record has a cloud-free truth under its clouds, so the truth is made the other way
round: take a clear date, make some of its pixels unusable with a mask that really occurred on
another date, fill them from the real dates around it, and compare the fill with the values the
clear date really holds there. Two kinds of mask: the cloud and shadow mask of a partly cloudy
date (`cloud`), and the no-data stripes of a Landsat 7 SLC-off date (`slc_off`); which clear
date takes which mask is `evaluation.real_plan`'s choice, the figures `evaluation.real_scores`'.

Donors are every other real date within `window_days`, with their own real masks; the target
keeps its own few masked pixels as holes too, but only stamped pixels on which the target is
clear are scored. Every method runs on the same arrays, through `gapfill.kernel.fill_gaps`.
Everything is deterministic.

The window is the folder's common footprint (the ground every scene covers) unless an `aoi` is
given. Every date's QA is read once (and kept: `MAX_WINDOW_PX` bounds it), the six bands only
of the targets and of the donors that can fill one of their holes, each once while a later
target can still use it.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from shapely import intersection_all, unary_union
from shapely.geometry import MultiPolygon, Polygon, shape

from ..errors import InvalidInputError, NoScenesError
from ..gapfill.base import Layer
from ..gapfill.inputs import DEFAULT_WINDOW_DAYS
from ..gapfill.kernel import fill_gaps
from ..gapfill.registry import FILL_METHODS
from ..geo.aoi import AOI, AOILike, parse_aoi
from ..geo.grid import Grid, inside_mask
from ..io.read import READ_FAILURES
from ..io.stack import DateStack, date_grid, read_date
from ..masks.qa import FILL_BIT, SNOW_BIT, MaskPolicy, bit_set, removed_mask
from ..product import SR_BANDS, SR_NODATA_DN, date_code
from ..settings import Settings
from ..sources.folder import FolderSource
from ..sources.scene import DateGroup
from ..sources.search import search_dates
from .real_plan import RealDate, Variant, plan_variants
from .real_scores import Tally, with_change_against

DEFAULT_TARGETS = 12
"""Clear dates filled per kind of mask, spread over the record."""
MAX_WINDOW_PX = 512 * 512
"""Pixels read per date at most: every date is held in memory (QA) for the whole run."""

StageProgress = Callable[[str, int, int], None]
"""progress(stage, done, total), stage being "dates read" or "targets filled"."""


def evaluate_real(
    folder: str | os.PathLike | FolderSource,
    *,
    targets: int = DEFAULT_TARGETS,
    methods: Sequence[str] | None = None,
    window_days: int = DEFAULT_WINDOW_DAYS,
    policy: MaskPolicy = MaskPolicy(),
    aoi: AOILike | None = None,
    progress: StageProgress | None = None,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """Fill clear real dates under stamped real masks with each method and score the fills.

    Args:
        folder: A folder of Landsat Collection 2 Level-2 files (searched recursively, so a
            download folder or its `scenes` subfolder), or a `FolderSource` already open.
        targets: Clear dates filled per kind of mask, at most.
        methods: Fill methods to compare, in the order of the table; None for all.
        window_days: Donor dates at most this many days from the target fill it.
        policy: The QA mask policy of clear, partly cloudy and donor dates.
        aoi: The window to evaluate; None for the ground every scene in the folder covers.
        progress: Called as progress(stage, done, total).
        settings: Limits and concurrency; None reads the environment.

    Returns:
        `{"data", "dates_read", "window_px": [rows, columns], "aoi_px", "window_days", "mask",
        "targets": [dates], "cloud": VARIANT, "slc_off": VARIANT, "skipped_dates": [text]}`;
        each VARIANT is `{"title", "description", "note", "scored_px", "targets": [{"date",
        "platform", "mask_date", "mask_platform", "stamped_px", "scored_px", "donors", "methods": [{"method",
        "rmse", "mae", "bias", "unfilled_pct"}]}], "methods": [{"method", "rmse", "mae", "bias",
        "unfilled_pct", "rmse_vs_nearest_pct", "scored_px", "leaked_px", "per_band": {band: {"rmse",
        "mae", "bias"}}, "uncertainty": {"spearman", "mean_ratio", "px"} | None}]}` (see
        `evaluation.real_scores`); a variant with no target has empty lists and a `note`.

    Raises:
        NoScenesError: The folder does not exist or holds no Landsat scenes.
        InvalidInputError: An unknown method, a bad number, a window too large or without
            pixels, or no clear date or no partly cloudy date to stamp a mask from.
    """
    settings = Settings.from_env() if settings is None else settings
    methods = _checked(methods, targets, window_days, policy)
    source, name = _open(folder)
    area = _common_footprint(source, name, settings) if aoi is None else parse_aoi(aoi, settings=settings)
    first, last = min(s.date for s in source.scenes), max(s.date for s in source.scenes)
    groups = search_dates(source, area, first, last, settings=settings)
    if not groups:
        raise InvalidInputError(f"No scene in {name!r} covers the area: give an aoi inside the scenes.", parameter="aoi")
    grid = date_grid(groups[0], area, source, settings=settings)
    inside = _checked_window(grid, inside_mask(area, grid))
    dates, skipped = _read_qa(groups, grid, source, policy, inside, progress, settings)
    variants = plan_variants(dates, name, targets, window_days, policy)
    scores = _fill_and_score(
        variants, dates, _BandCache(grid, source, settings), inside, methods, window_days, progress, skipped
    )
    records = {v.key: _variant_record(v, *scores[v.key], methods) for v in variants}
    rows, columns = np.nonzero(inside)
    return {
        "data": name,
        "dates_read": len(dates),
        "window_px": [int(np.ptp(rows)) + 1, int(np.ptp(columns)) + 1],
        "aoi_px": int(inside.sum()),
        "window_days": window_days,
        "mask": policy.describe(),
        "targets": sorted({t["date"] for r in records.values() for t in r["targets"]}),
        **records,
        "skipped_dates": skipped,
    }


def _checked(methods: Sequence[str] | None, targets: int, window_days: int, policy: MaskPolicy) -> tuple[str, ...]:
    chosen = tuple(FILL_METHODS) if methods is None else tuple(methods)
    unknown = [m for m in chosen if m not in FILL_METHODS]
    if unknown or not chosen:
        raise InvalidInputError(
            f"Unknown fill method(s) {', '.join(map(repr, unknown)) or '(none given)'}: use any of {', '.join(FILL_METHODS)}.",
            parameter="method",
        )
    if isinstance(targets, bool) or not isinstance(targets, int) or targets < 1:
        raise InvalidInputError(f"targets={targets!r} is not a count of dates: give 1 or more.", parameter="targets")
    if window_days < 0:
        raise InvalidInputError(f"The window of {window_days} days is negative: give 0 or more days.", parameter="window_days")
    if policy.needs_ml:
        raise InvalidInputError(
            f"The real-data evaluation uses the QA mask only, not {policy.kind!r}: give a QA mask policy.", parameter="mask"
        )
    return chosen


def _open(folder: str | os.PathLike | FolderSource) -> tuple[FolderSource, str]:
    """The folder as a source, and the name to call the data by (a `scenes` folder's parent's)."""
    if isinstance(folder, FolderSource):
        source = folder
    elif not str(folder).strip():
        raise InvalidInputError("No folder given: give the folder of Landsat Collection 2 Level-2 files to evaluate.",
                                parameter="folder")
    else:
        try:
            source = FolderSource(Path(folder))
        except (NoScenesError, InvalidInputError) as err:
            raise type(err)(str(err), parameter="folder") from err
    path = Path(os.path.abspath(Path(source.name).expanduser()))
    name = path.parent.name if path.name == "scenes" and path.parent.name else path.name
    if not source.scenes:
        raise NoScenesError(
            f"No scene in {name!r} can be read ({'; '.join(source.warnings[:3]) or 'no readable QA_PIXEL'}): "
            "give a folder of readable Landsat Collection 2 Level-2 files.",
            parameter="folder",
        )
    return source, name


def _common_footprint(source: FolderSource, name: str, settings: Settings) -> AOI:
    """The ground every georeferenced scene of the folder covers, as an AOI."""
    shapes = [shape(s.geometry_lonlat) for s in source.scenes if s.geometry_lonlat]
    if not shapes:
        raise NoScenesError(
            f"No scene in {name!r} has a georeferenced QA_PIXEL file, so there is no window to read: "
            "give files with their georeferencing, as USGS delivers them.",
            parameter="folder",
        )
    common = intersection_all(shapes)
    if not isinstance(common, (Polygon, MultiPolygon)):  # a collection when scenes only touch
        common = unary_union([g for g in getattr(common, "geoms", []) if isinstance(g, (Polygon, MultiPolygon))])
    if common.is_empty or common.area == 0:
        raise InvalidInputError(
            f"The scenes in {name!r} share no ground (they cover different places): "
            "give an aoi inside the scenes to evaluate, or keep one path/row per folder.",
            parameter="aoi",
        )
    return parse_aoi(common, settings=settings)


def _checked_window(grid: Grid, inside: np.ndarray) -> np.ndarray:
    pixels = grid.width * grid.height
    if pixels > MAX_WINDOW_PX:
        side = math.isqrt(MAX_WINDOW_PX)
        raise InvalidInputError(
            f"The area needs a read of {grid.height:,} x {grid.width:,} px per date, over the {MAX_WINDOW_PX:,} px "
            f"({side} x {side}) this evaluation holds per date: give an aoi of at most about {side * grid.pixel_size / 1000:.0f} x "
            f"{side * grid.pixel_size / 1000:.0f} km inside the scenes.",
            parameter="aoi",
        )
    if not inside.any():
        raise InvalidInputError("No pixel centre lies inside the area: give a larger aoi.", parameter="aoi")
    return inside


def _read_qa(
    groups: list[DateGroup],
    grid: Grid,
    source: FolderSource,
    policy: MaskPolicy,
    inside: np.ndarray,
    progress: StageProgress | None,
    settings: Settings,
) -> tuple[list[RealDate], list[str]]:
    """Every date's QA on the window; dates whose read fails in an expected way are skipped."""

    def read(group: DateGroup) -> DateStack | str:
        try:
            return read_date(group, grid, source, settings=settings, with_radsat=policy.saturated)
        except READ_FAILURES as err:
            return str(err)

    dates: list[RealDate] = []
    skipped: list[str] = []
    inside_px = int(inside.sum())
    with ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="qa") as pool:
        for done, (group, stack) in enumerate(zip(groups, pool.map(read, groups)), start=1):
            if isinstance(stack, str):
                skipped.append(f"{group.date} ({group.platform}): {stack}")
            else:
                removed = removed_mask(stack.qa, group.platform, policy, stack.radsat, grid.pixel_size)
                fill = bit_set(stack.qa, FILL_BIT)
                snow = bit_set(stack.qa, SNOW_BIT) & ~fill
                dates.append(RealDate(
                    index=len(dates), group=group, stack=stack, removed=removed, fill=fill,
                    removed_pct=100.0 * int((removed & inside).sum()) / inside_px,
                    fill_pct=100.0 * int((fill & inside).sum()) / inside_px,
                    snow_pct=100.0 * int((snow & inside).sum()) / inside_px,
                ))
            if progress:
                progress("dates read", done, len(groups))
    return dates, skipped


Scores = dict[str, tuple[dict[str, Tally], list[dict[str, Any]]]]
"""Per variant: a tally per method, and one record per target."""


def _fill_and_score(
    variants: list[Variant],
    dates: list[RealDate],
    bands: _BandCache,
    inside: np.ndarray,
    methods: tuple[str, ...],
    window_days: int,
    progress: StageProgress | None,
    errors: list[str],
) -> Scores:
    """Fill every target under each of its masks with every method, oldest target first; dates
    whose bands cannot be read are left out and said in `errors`."""
    scores: Scores = {v.key: ({m: Tally() for m in methods}, []) for v in variants}
    work: dict[int, list[tuple[Variant, RealDate]]] = {}
    for variant in variants:
        for target, mask in variant.pairs:
            work.setdefault(target.index, []).append((variant, mask))
    for done, index in enumerate(sorted(work), start=1):
        target = dates[index]
        bands.forget_before(target.date - dt.timedelta(days=window_days))
        stamps = [(variant, mask, variant.stamp(mask) & inside) for variant, mask in work[index]]
        # Donors that can fill a hole of any of the target's masks: their bands are read once for all.
        nearby = [
            d for d in dates
            if d.date != target.date and abs((d.date - target.date).days) <= window_days
            and any((~d.removed & ((target.removed | stamp) & inside)).any() for _, _, stamp in stamps)
        ]
        read = bands.get([target, *nearby], errors)
        if target.index in read:  # a target whose bands cannot be read is left out (its error is listed)
            for variant, mask, stamp in stamps:
                tallies, records = scores[variant.key]
                records.append(_fill_target(target, mask, stamp, nearby, read, inside, methods, window_days, tallies))
        if progress:
            progress("targets filled", done, len(work))
    return scores


def _fill_target(
    target: RealDate,
    mask: RealDate,
    stamp: np.ndarray,
    nearby: list[RealDate],
    read: dict[int, np.ndarray],
    inside: np.ndarray,
    methods: tuple[str, ...],
    window_days: int,
    tallies: dict[str, Tally],
) -> dict[str, Any]:
    """One target under one mask, filled by every method; its record (the tallies take its pixels)."""
    truth = read[target.index]
    unusable = target.removed | stamp
    holes = unusable & inside
    # As `gapfill.read_fill_inputs` does: only donors usable on at least one hole.
    donors = [
        Layer(date=d.date, bands=read[d.index], usable=~d.removed, label=d.group.platform)
        for d in nearby if d.index in read and (~d.removed & holes).any()
    ]
    # The stamped pixels lose their values too, so no method can read the truth it is scored against.
    observed = truth.copy()
    observed[:, stamp] = SR_NODATA_DN
    layer = Layer(date=target.date, bands=observed, usable=~unusable, label=target.group.platform)
    scored = stamp & ~target.removed & (truth != 0).all(axis=0)
    rows = []
    for method in methods:
        result = fill_gaps(layer, donors, inside, method=method, window_days=window_days)
        figures = tallies[method].add(
            result.filled, truth, scored, result.provenance, date_code(target.date),
            getattr(result, "uncertainty", None),  # only methods that predict their error have one
        )
        rows.append({"method": method, **figures})
    return {
        "date": target.date.isoformat(), "platform": target.group.platform,
        "mask_date": mask.date.isoformat(), "mask_platform": mask.group.platform,
        "stamped_px": int(stamp.sum()), "scored_px": int(scored.sum()), "donors": len(donors), "methods": rows,
    }


class _BandCache:
    """The six bands of each date, read once while a later target can still use the date as a donor."""

    def __init__(self, grid: Grid, source: FolderSource, settings: Settings) -> None:
        self._grid, self._source, self._settings = grid, source, settings
        self._bands: dict[int, tuple[dt.date, np.ndarray]] = {}
        self._failed: set[int] = set()

    def get(self, dates: list[RealDate], errors: list[str]) -> dict[int, np.ndarray]:
        """Bands by date index; a date whose read fails is left out, and said in `errors` once."""
        missing = [d for d in dates if d.index not in self._bands and d.index not in self._failed]

        def read(date: RealDate) -> np.ndarray | str:
            try:
                stack = read_date(date.group, self._grid, self._source, settings=self._settings, bands=SR_BANDS,
                                  known=date.stack)
            except READ_FAILURES as err:
                return str(err)
            assert stack.bands is not None  # read with SR_BANDS just above
            return stack.bands

        with ThreadPoolExecutor(max_workers=self._settings.workers, thread_name_prefix="bands") as pool:
            for date, outcome in zip(missing, pool.map(read, missing)):
                if isinstance(outcome, str):
                    errors.append(f"{date.date} ({date.group.platform}): {outcome}")
                    self._failed.add(date.index)  # said once, not tried again for the next target
                else:
                    self._bands[date.index] = (date.date, outcome)
        return {d.index: self._bands[d.index][1] for d in dates if d.index in self._bands}

    def forget_before(self, day: dt.date) -> None:
        self._bands = {i: entry for i, entry in self._bands.items() if entry[0] >= day}


def _variant_record(
    variant: Variant, tallies: dict[str, Tally], records: list[dict[str, Any]], methods: tuple[str, ...]
) -> dict[str, Any]:
    rows = [{"method": m, **tallies[m].summary()} for m in methods] if records else []
    with_change_against(rows)
    order = ("method", "rmse", "mae", "bias", "unfilled_pct", "rmse_vs_nearest_pct", "scored_px", "leaked_px",
             "per_band", "uncertainty")
    return {
        "title": variant.title,
        "description": variant.description,
        "note": variant.note if records else (variant.note or "no target could be read."),
        "scored_px": sum(r["scored_px"] for r in records),
        "targets": records,
        "methods": [{key: row[key] for key in order} for row in rows],
    }
