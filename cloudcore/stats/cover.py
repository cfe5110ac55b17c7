"""How much of the AOI is cloud, shadow, snow or missing, date by date.

`cover_stats` is the pure kernel (numpy in, numbers out); `iter_cover` reads only the QA
window of every date concurrently and yields each date as soon as it is measured, so a caller
can show results as they arrive. A date whose read fails in an expected way (the declared
`READ_FAILURES`: the storage, the network, a broken file) carries its error instead of
numbers and never stops the others; any other exception is a bug and raises.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..dates import DateLike, as_date_range
from ..geo.aoi import AOI
from ..geo.grid import inside_mask
from ..io.cache import CoverCache
from ..io.read import READ_FAILURES, native_window
from ..io.stack import read_date_on_aoi
from ..masks.date_mask import mask_date
from ..masks.ml import agreement
from ..masks.qa import CLOUD_SHADOW_BIT, FILL_BIT, SNOW_BIT, MaskPolicy, bit_set, flags_bitmask, removed_mask
from ..product import QA_BAND, SR_BANDS
from ..settings import Settings
from ..sources.base import SceneSource
from ..sources.scene import DateGroup
from ..sources.search import search_dates

COVER_FIELDS = (
    "date",
    "platform",
    "scene_ids",
    "scene_cloud_pct",
    "valid_pct",
    "cloud_pct",
    "shadow_pct",
    "snow_pct",
    "masked_pct",
    "clear_pct",
    "error",
    "obscured_pct",
)
"""The fields of a date's JSON and CSV record, in order (`obscured_pct` last: it came last)."""
# Peak bytes per AOI pixel while one date is measured: QA (2), the read buffer (2), the AOI
# and removed masks (2) and counting temporaries (3), rounded up for the read path's copies.
BYTES_PER_AOI_PIXEL = 16
LANDSAT_PIXEL_M = 30.0


@dataclass(frozen=True)
class DateCover:
    """The AOI statistics of one date (percentages rounded to 2 decimals)."""

    date: str
    """UTC acquisition date, YYYY-MM-DD."""
    platform: str
    scene_ids: list[str]
    scene_cloud_pct: float | None
    """Scene-wide eo:cloud_cover from the metadata, for comparison."""
    valid_pct: float | None = None
    """AOI pixels holding data, of all AOI pixels."""
    cloud_pct: float | None = None
    """Valid AOI pixels with cloud, dilated cloud or cirrus, of valid AOI pixels."""
    shadow_pct: float | None = None
    snow_pct: float | None = None
    masked_pct: float | None = None
    """Valid AOI pixels the mask policy removes, of valid AOI pixels."""
    clear_pct: float | None = None
    error: str | None = None
    aoi_pixels: int = field(default=0, compare=False)
    """How many pixel centres fall in the AOI (not part of the JSON contract)."""
    ml_agreement: dict[str, Any] | None = None
    """QA vs ML mask agreement over the AOI (agree_pct, iou, qa_only_pct, ml_only_pct,
    both_pct), when the ML mask was computed; in the JSON only then."""

    @property
    def obscured_pct(self) -> float | None:
        """AOI pixels that are missing or removed by the mask, of all AOI pixels: what a
        person choosing a clear date wants small (a date that is 90 % fill is not clear)."""
        if self.valid_pct is None:
            return None
        if self.clear_pct is None:  # no valid pixel at all
            return 100.0
        return round(100.0 - self.valid_pct * self.clear_pct / 100.0, 2)

    def to_dict(self) -> dict[str, Any]:
        """The JSON record of the `cover` contract, fields in contract order."""
        record = asdict(self) | {"obscured_pct": self.obscured_pct}
        out = {name: record[name] for name in COVER_FIELDS}
        if self.ml_agreement is not None:
            out["ml_agreement"] = self.ml_agreement
        return out


def in_date_order(records: Iterable[DateCover]) -> list[DateCover]:
    """Records oldest first; one day's platforms and paths in a fixed order."""
    return sorted(records, key=lambda r: (r.date, r.platform, r.scene_ids))


def _pct(count: int, total: int) -> float | None:
    return round(100.0 * count / total, 2) if total else None


def cover_stats(
    qa: np.ndarray,
    platform: str,
    inside: np.ndarray,
    policy: MaskPolicy = MaskPolicy(),
    radsat: np.ndarray | None = None,
    pixel_size_m: float = 30.0,
    removed: np.ndarray | None = None,
) -> dict[str, float | int | None]:
    """AOI percentages for one QA_PIXEL array.

    The class shares (cloud, shadow, snow) come from QA_PIXEL's bits; `masked_pct` from
    `removed` when given (e.g. an ML or combined mask), else from the QA policy. The mask is
    computed on the whole array before counting inside the AOI, so a buffer grows clouds that
    sit just outside the AOI into it.
    """
    qa = np.asarray(qa, dtype=np.uint16)
    if removed is None:
        removed = removed_mask(qa, platform, policy, radsat=radsat, pixel_size_m=pixel_size_m)
    total = int(np.count_nonzero(inside))
    # Counted one class at a time on the valid AOI pixels, so no layer per class is ever held.
    valid = inside & ~bit_set(qa, FILL_BIT)
    n_valid = int(np.count_nonzero(valid))

    def share(bits: int) -> float | None:
        return _pct(int(np.count_nonzero(((qa & np.uint16(bits)) != 0) & valid)), n_valid)

    cloud_bits = flags_bitmask(("cloud", "dilated", "cirrus"), platform)
    masked = _pct(int(np.count_nonzero(removed & valid)), n_valid)
    return {
        "aoi_pixels": total,
        "valid_pct": _pct(n_valid, total),
        "cloud_pct": share(cloud_bits),
        "shadow_pct": share(1 << CLOUD_SHADOW_BIT),
        "snow_pct": share(1 << SNOW_BIT),
        "masked_pct": masked,
        "clear_pct": None if masked is None else round(100.0 - masked, 2),
    }


def measure_date(
    group: DateGroup,
    aoi: AOI,
    source: SceneSource,
    policy: MaskPolicy = MaskPolicy(),
    overview: int = 0,
    *,
    settings: Settings | None = None,
) -> DateCover:
    """Read one date's QA window and measure it; an expected read failure becomes the record's `error`.

    `overview` > 0 reads the file's overview of that level (1 = half resolution): an estimate
    for large areas that moves a quarter of the bytes per level.
    """
    settings = Settings.from_env() if settings is None else settings
    base: dict[str, Any] = {
        "date": group.date.isoformat(),
        "platform": group.platform,
        "scene_ids": group.scene_ids,
        "scene_cloud_pct": group.scene_cloud_pct,
    }
    try:
        grid, stack = read_date_on_aoi(
            group, aoi, source, settings=settings, margin_m=policy.buffer_m,
            bands=SR_BANDS if policy.needs_ml else (), with_radsat=policy.saturated, overview=overview,
        )
        inside = inside_mask(aoi, grid)
        mask = mask_date(stack, group.platform, policy, grid.pixel_size)
        stats: dict[str, Any] = cover_stats(
            stack.qa, group.platform, inside, policy, stack.radsat, grid.pixel_size, removed=mask.removed
        )
        if mask.ml_removed is not None:
            valid = ~bit_set(stack.qa, FILL_BIT)
            agreed = agreement(mask.qa_removed, mask.ml_removed, inside, valid=valid)
            stats["ml_agreement"] = {k: agreed[k] for k in ("agree_pct", "iou", "qa_only_pct", "ml_only_pct", "both_pct")}
    except READ_FAILURES as err:
        return DateCover(**base, error=str(err))
    return DateCover(**base, **stats)


def workers_for(aoi: AOI, settings: Settings, overview: int = 0, *, native_http: bool = False) -> int:
    """Dates measured at once: the `workers` setting (`http_in_flight` when the native COG reader
    reads them over HTTP: it waits on round trips, not on the CPU), fewer when the AOI is so large
    that that many dates in memory together would pass the `memory_mb` setting (at least one)."""
    pixels = _grid_km2(aoi) * 1e6 / (LANDSAT_PIXEL_M * 2**overview) ** 2
    per_date = max(pixels, 1.0) * BYTES_PER_AOI_PIXEL
    wanted = max(settings.workers, settings.http_in_flight) if native_http else settings.workers
    return max(1, min(wanted, int(settings.memory_mb * 2**20 // per_date)))


def _native_http(groups: list[DateGroup], aoi: AOI, settings: Settings, overview: int) -> bool:
    """Whether the dates' QA files will be read by the native COG reader (http(s), full
    resolution, a window small enough: `io.read.native_window`)."""
    if overview or settings.gdal_reads or not native_window(_grid_km2(aoi) * 1e6 / LANDSAT_PIXEL_M**2):
        return False
    return any(g.scenes[0].assets.get(QA_BAND, "").startswith(("http://", "https://")) for g in groups)


def _grid_km2(aoi: AOI) -> float:
    """About the area a date's grid covers: the AOI's bounding box (per part), not the polygon."""
    parts = getattr(aoi.geometry, "geoms", [aoi.geometry])
    return sum(AOI(part.envelope).area_km2 for part in parts)


def iter_cover(
    groups: list[DateGroup],
    aoi: AOI,
    source: SceneSource,
    policy: MaskPolicy = MaskPolicy(),
    max_workers: int | None = None,
    *,
    settings: Settings | None = None,
    overview: int = 0,
    cache: CoverCache | None = None,
) -> Iterator[DateCover]:
    """Measure every date concurrently, yielding each as it finishes (not in date order).

    Dates found in `cache` come first, without a read; complete new records are stored there.
    Closing the generator early (or Ctrl-C) cancels the dates not yet started. `settings`
    (None: read from the environment) sets the concurrency, memory budget and deadlines.
    """
    settings = Settings.from_env() if settings is None else settings
    done, todo = split_cached(cache, groups, aoi, policy, overview)
    yield from done
    if not todo:
        return
    workers = max_workers or workers_for(aoi, settings, overview, native_http=_native_http(todo, aoi, settings, overview))
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cover")
    group_of: dict[Future, DateGroup] = {
        pool.submit(measure_date, g, aoi, source, policy, overview, settings=settings): g for g in todo
    }
    pending = set(group_of)
    try:
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                record = future.result()
                store_record(cache, group_of[future], record, aoi, policy, overview)
                yield record
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def split_cached(
    cache: CoverCache | None, groups: list[DateGroup], aoi: AOI, policy: MaskPolicy, overview: int
) -> tuple[list[DateCover], list[DateGroup]]:
    """(records found in `cache`, the dates still to measure)."""
    found, todo = [], []
    for group in groups:
        record = cached_record(cache, group, aoi, policy, overview)
        if record is None:
            todo.append(group)
        else:
            found.append(record)
    return found, todo


def cached_record(
    cache: CoverCache | None, group: DateGroup, aoi: AOI, policy: MaskPolicy, overview: int
) -> DateCover | None:
    """The date's record from `cache`, or None."""
    if cache is None:
        return None
    stored = cache.get(cache.key(group, aoi, policy, overview))
    if stored is None:
        return None
    try:
        return DateCover(**stored)
    except TypeError:
        return None  # written by another version: measure again


def store_record(
    cache: CoverCache | None, group: DateGroup, record: DateCover, aoi: AOI, policy: MaskPolicy, overview: int
) -> None:
    """Keep a complete record in `cache` under its date's key (failures are never kept)."""
    if cache is None or record.error:
        return
    cache.put(cache.key(group, aoi, policy, overview), asdict(record))


def compute_cover(
    source: SceneSource,
    aoi: AOI,
    start: DateLike,
    end: DateLike,
    policy: MaskPolicy = MaskPolicy(),
    max_scene_cloud_pct: float | None = None,
    progress: Callable[[int, int], None] | None = None,
    *,
    settings: Settings | None = None,
    overview: int = 0,
    cache: CoverCache | None = None,
) -> list[DateCover]:
    """Search and measure every date; the records oldest first (`cloudcore.cover` gives a DataFrame)."""
    settings = Settings.from_env() if settings is None else settings
    first, last = as_date_range(start, end)
    groups = search_dates(source, aoi, first, last, max_scene_cloud_pct, settings=settings)
    results = []
    for record in iter_cover(groups, aoi, source, policy, settings=settings, overview=overview, cache=cache):
        results.append(record)
        if progress:
            progress(len(results), len(groups))
    return in_date_order(results)
