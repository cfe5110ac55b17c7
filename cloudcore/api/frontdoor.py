"""cloudcore's front door: one call per job, keyword options, ecosystem types out.

- `search(aoi, start, end)` -> `pystac.ItemCollection` of the scenes over the area;
- `cover(aoi, start, end)` -> `pandas.DataFrame`, one row per date, indexed by `date`;
- `best_dates(aoi, start, end, near)` -> `pandas.DataFrame` of the clear dates closest to `near`;
- `fill(aoi, date)` -> `xarray.Dataset` of the date cloud-masked and gap-filled;
- `fill_image(aoi, date)` -> the same fill as a `FilledImage` (arrays, grid, pictures).

Every call takes its inputs in any of the forms users have (see `api.inputs`, `geo.aoi`,
`sources.open_source`) and an optional `settings`; given none, it reads the CLOUDCORE_*
environment once, at the call, and passes it down.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..dates import DateLike, as_date, as_date_range
from ..gapfill.base import FillMethod
from ..gapfill.image import FilledImage, fill_date
from ..gapfill.inputs import DEFAULT_WINDOW_DAYS
from ..gapfill.registry import DEFAULT_METHOD, get_method
from ..geo.aoi import AOI, AOILike, parse_aoi
from ..io.cache import CoverCache
from ..limits import check_date_span
from ..masks.qa import MaskPolicy
from ..numbers import as_number
from ..options import DEFAULT_FLAGS, MaskKind
from ..settings import Settings
from ..sources import SourceLike, open_source
from ..sources.base import SceneSource
from ..sources.scene import DateGroup, Scene
from ..sources.search import search_dates, search_scenes
from ..stats.cover import COVER_FIELDS, DateCover, in_date_order, iter_cover
from ..stats.nearest import (
    DEFAULT_COUNT,
    DEFAULT_MAX_OBSCURED,
    MAX_COUNT,
    NEAREST_FIELDS,
    near_in_range,
    nearest_clear_dates,
)
from .inputs import (
    MAX_OVERVIEW,
    MAX_WINDOW_DAYS,
    CacheLike,
    ProgressLike,
    as_cache,
    as_max_scene_cloud,
    as_policy,
    as_progress,
)

if TYPE_CHECKING:
    import pandas as pd
    import pystac
    import xarray as xr

PERCENT_FIELDS = ("scene_cloud_pct", "valid_pct", "cloud_pct", "shadow_pct", "snow_pct", "masked_pct", "clear_pct",
                  "obscured_pct")


def search(
    aoi: AOILike,
    start: DateLike,
    end: DateLike,
    *,
    source: SourceLike = "planetary-computer",
    max_scene_cloud: float | None = None,
    settings: Settings | None = None,
) -> pystac.ItemCollection:
    """The Landsat 4-9 Collection 2 Level-2 scenes over `aoi`, start..end (UTC days, inclusive).

    Args:
        aoi: A bbox, GeoJSON, a file, a shapely geometry, anything with `__geo_interface__`,
            or a GeoDataFrame/GeoSeries in any CRS.
        start: First day: 'YYYY-MM-DD', a date, a datetime, a pandas.Timestamp or numpy.datetime64.
        end: Last day, likewise.
        source: "planetary-computer", "demo", a STAC API URL, a folder, a SceneSource, or STAC Items.
        max_scene_cloud: Skip scenes whose scene-wide cloud cover (metadata) is above this %.
        settings: Limits and deadlines; None reads the CLOUDCORE_* environment.

    Returns:
        The scenes' STAC Items, oldest first, asset hrefs unsigned (sign them with
        `planetary_computer.sign` to open them yourself; cloudcore signs its own reads).
    """
    import pystac

    scenes = find_scenes(aoi, start, end, source=source, max_scene_cloud=max_scene_cloud, settings=settings)
    return pystac.ItemCollection([pystac.Item.from_dict(dict(_item_of(scene))) for scene in scenes])


def find_scenes(
    aoi: AOILike,
    start: DateLike,
    end: DateLike,
    *,
    source: SourceLike = "planetary-computer",
    max_scene_cloud: float | None = None,
    settings: Settings | None = None,
) -> list[Scene]:
    """`search` as cloudcore's Scene records (what the CLI's `scenes` prints). Arguments as `search`."""
    settings = Settings.from_env() if settings is None else settings
    area = parse_aoi(aoi, settings=settings)
    first, last = as_date_range(start, end)
    check_date_span(first, last, settings)  # before a source is opened: refuse absurd requests first
    return search_scenes(
        open_source(source, settings), area, first, last, as_max_scene_cloud(max_scene_cloud), settings=settings
    )


def cover(
    aoi: AOILike,
    start: DateLike,
    end: DateLike,
    *,
    source: SourceLike = "planetary-computer",
    mask: MaskKind = "qa",
    flags: str | Iterable[str] = DEFAULT_FLAGS,
    buffer_m: float = 0.0,
    max_scene_cloud: float | None = None,
    overview: int = 0,
    cache: CacheLike = True,
    progress: ProgressLike = None,
    scheduler: Any = None,
    settings: Settings | None = None,
) -> pd.DataFrame:
    """How much of the AOI is cloud, shadow, snow or missing on every date start..end.

    Args:
        aoi, start, end, source, max_scene_cloud, settings: As in `search`.
        mask: "qa" (QA_PIXEL), "ml" (the machine-learning model; needs the `ml` extra) or "qa+ml".
        flags: QA_PIXEL flags that remove a pixel: any of fill, dilated, cirrus, cloud, shadow,
            snow, water (a comma-separated string or a list).
        buffer_m: Grow removed cloud and shadow by this many metres (0-5000).
        overview: 0 for full resolution; 1, 2, ... estimates from the files' overviews.
        cache: True keeps complete dates under the `cache_dir` setting and reuses them; False
            measures everything afresh; or a folder or a CoverCache.
        progress: True prints a counter on stderr; a callable gets (dates_done, dates_total).
        scheduler: A Dask scheduler address or distributed.Client to measure the dates on;
            None takes the `dask_scheduler` setting, else this machine.

    Returns:
        One row per date (a platform's scenes of one UTC day), oldest first, indexed by `date`
        (datetime64). Columns: platform, scene_ids, the percentages of the CLI's JSON
        (scene_cloud_pct, valid_pct, cloud_pct, shadow_pct, snow_pct, masked_pct, clear_pct),
        error (None when measured) and obscured_pct (the AOI share missing or removed, what a
        person choosing a clear date wants small); ml_agreement too with an ML mask.
        `attrs` holds the request. A date whose read failed has its reason in `error` (and a
        warning says how many failed).
    """
    records, request = measure_cover(
        aoi, start, end, source=source, mask=mask, flags=flags, buffer_m=buffer_m, max_scene_cloud=max_scene_cloud,
        overview=overview, cache=cache, progress=progress, scheduler=scheduler, settings=settings,
    )
    frame = cover_frame(records)
    frame.attrs.update(request)
    failed = sum(1 for r in records if r.error)
    if failed:
        warnings.warn(f"{failed} of {len(records)} dates could not be measured: see their 'error' column.",
                      RuntimeWarning, stacklevel=2)
    return frame


def best_dates(
    aoi: AOILike,
    start: DateLike,
    end: DateLike,
    near: DateLike,
    *,
    max_obscured: float = DEFAULT_MAX_OBSCURED,
    count: int = DEFAULT_COUNT,
    source: SourceLike = "planetary-computer",
    mask: MaskKind = "qa",
    flags: str | Iterable[str] = DEFAULT_FLAGS,
    buffer_m: float = 0.0,
    max_scene_cloud: float | None = None,
    cache: CacheLike = True,
    progress: ProgressLike = None,
    settings: Settings | None = None,
) -> pd.DataFrame:
    """The clear dates closest to a date of interest, judged by the cloud over the AOI itself.

    Args:
        aoi, start, end, source, mask, flags, buffer_m, max_scene_cloud, cache, progress,
            settings: As in `cover`.
        near: The date of interest; it must lie in start..end.
        max_obscured: A date is clear when at most this % of the AOI is obscured (0-100).
        count: How many dates to list (1-1000).

    Returns:
        Up to `count` rows, nearest first (ties: the earlier date first), with columns date
        (datetime64), platform, obscured_pct, days_from_near (negative: before `near`) and
        note (e.g. "Landsat 7 SLC-off: 22 % of the area has no data"). `attrs` holds `near`
        and the request. Dates that could not be measured are never listed (a warning says
        how many).
    """
    import pandas as pd

    first, last = as_date_range(start, end)
    target = near_in_range(near, first, last)
    threshold = as_number(max_obscured, "max_obscured", 0, 100, "a percentage")
    wanted = int(as_number(count, "count", 1, MAX_COUNT, "dates", whole=True))
    records, request = measure_cover(
        aoi, first, last, source=source, mask=mask, flags=flags, buffer_m=buffer_m, max_scene_cloud=max_scene_cloud,
        cache=cache, progress=progress, settings=settings,
    )
    rows = nearest_clear_dates(records, target, max_obscured=threshold, count=wanted)
    frame = pd.DataFrame(rows, columns=list(NEAREST_FIELDS))
    frame["date"] = pd.to_datetime(frame["date"]).astype("datetime64[ns]")
    frame["obscured_pct"] = frame["obscured_pct"].astype("float64")
    frame["days_from_near"] = frame["days_from_near"].astype("int64")
    frame.attrs.update(request, near=target.isoformat(), max_obscured=threshold)
    failed = sum(1 for r in records if r.error)
    if failed:
        warnings.warn(f"{failed} of {len(records)} dates could not be measured and are not listed.",
                      RuntimeWarning, stacklevel=2)
    return frame


def measure_cover(
    aoi: AOILike,
    start: DateLike,
    end: DateLike,
    *,
    source: SourceLike = "planetary-computer",
    mask: MaskKind = "qa",
    flags: str | Iterable[str] = DEFAULT_FLAGS,
    buffer_m: float = 0.0,
    max_scene_cloud: float | None = None,
    overview: int = 0,
    cache: CacheLike = True,
    progress: ProgressLike = None,
    scheduler: Any = None,
    settings: Settings | None = None,
) -> tuple[list[DateCover], dict[str, Any]]:
    """`cover` as records (oldest first) and the request they answer: what the CLI prints."""
    settings = Settings.from_env() if settings is None else settings
    area = parse_aoi(aoi, settings=settings)
    first, last = as_date_range(start, end)
    check_date_span(first, last, settings)  # before a source is opened: refuse absurd requests first
    policy = as_policy(mask, flags, buffer_m)
    level = int(as_number(overview, "overview", 0, MAX_OVERVIEW, "an overview level", whole=True))
    scene_source = open_source(source, settings)
    groups = search_dates(scene_source, area, first, last, as_max_scene_cloud(max_scene_cloud), settings=settings)
    records = list(measure_groups(groups, area, scene_source, policy, level, as_cache(cache, settings.cache_dir),
                            as_progress(progress, "dates measured"), scheduler, settings))
    request = request_attrs(area, scene_source, policy, start=first.isoformat(), end=last.isoformat(), overview=level)
    return in_date_order(records), request


def fill(
    aoi: AOILike,
    date: DateLike,
    *,
    source: SourceLike = "planetary-computer",
    method: str | FillMethod = DEFAULT_METHOD,
    window_days: int = DEFAULT_WINDOW_DAYS,
    mask: MaskKind = "qa",
    flags: str | Iterable[str] = DEFAULT_FLAGS,
    buffer_m: float = 0.0,
    progress: ProgressLike = None,
    settings: Settings | None = None,
) -> xr.Dataset:
    """The date cloud-masked and gap-filled from other dates, as an xarray Dataset.

    Args:
        aoi, source, mask, flags, buffer_m, progress, settings: As in `cover`.
        date: The date to fill: it must have an acquisition over the AOI (`cover` lists them).
        method: A fill method's name (`cloudcore.FILL_METHODS`) or a FillMethod.
        window_days: Donor dates up to this many days either side (0-3650).

    Returns:
        Variables `red green blue nir08 swir16 swir22` (float32 surface reflectance, NaN where
        nothing could fill and outside the AOI), `filled` (bool: the value came from another
        date) and `uncertainty` (float32 predicted absolute error in reflectance: 0 where
        observed, NaN where nothing could fill and outside the AOI); the coordinate
        `provenance` (datetime64 of each value's acquisition, NaT where unfilled); pixel-centre `x`/`y` in the scene's CRS, which `ds.rio.crs` reads and
        `ds.rio.to_raster(...)` writes. `attrs`: date, method, platform, scene_ids, the shares
        masked/filled/unfilled, donors, the colour corrections (JSON) and the request.
    """
    image = fill_image(aoi, date, source=source, method=method, window_days=window_days, mask=mask, flags=flags,
                       buffer_m=buffer_m, progress=progress, settings=settings)
    return image.to_xarray()


def fill_image(
    aoi: AOILike,
    date: DateLike,
    *,
    source: SourceLike = "planetary-computer",
    method: str | FillMethod = DEFAULT_METHOD,
    window_days: int = DEFAULT_WINDOW_DAYS,
    mask: MaskKind = "qa",
    flags: str | Iterable[str] = DEFAULT_FLAGS,
    buffer_m: float = 0.0,
    progress: ProgressLike = None,
    settings: Settings | None = None,
) -> FilledImage:
    """`fill` as a FilledImage: the arrays on the AOI grid, with pictures, GeoTIFF and summary.

    What the dashboard's Compare page and the command line's `fill` use. Arguments as `fill`.
    """
    settings = Settings.from_env() if settings is None else settings
    area = parse_aoi(aoi, settings=settings)
    target = as_date(date, "date")
    strategy = get_method(method)
    window = int(as_number(window_days, "window_days", 0, MAX_WINDOW_DAYS, "days", whole=True))
    policy = as_policy(mask, flags, buffer_m)
    scene_source = open_source(source, settings)
    image = fill_date(scene_source, area, target, window, strategy, policy,
                      as_progress(progress, "donor dates read"), settings=settings)
    return replace(image, request=request_attrs(area, scene_source, policy, window_days=window))


def cover_frame(records: Iterable[DateCover]) -> pd.DataFrame:
    """Cover records as the DataFrame `cover` returns (oldest first, indexed by `date`)."""
    import pandas as pd

    rows = [r.to_dict() for r in in_date_order(records)]
    columns = [name for name in COVER_FIELDS if name != "date"]
    if any("ml_agreement" in row for row in rows):
        columns.append("ml_agreement")
    frame = pd.DataFrame(rows, columns=["date", *columns])
    for name in PERCENT_FIELDS:
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
    frame["error"] = frame["error"].astype(object).where(frame["error"].notna(), None)
    frame.index = pd.DatetimeIndex(pd.to_datetime(frame.pop("date")).astype("datetime64[ns]"), name="date")
    return frame


def measure_groups(
    groups: list[DateGroup],
    aoi: AOI,
    source: SceneSource,
    policy: MaskPolicy,
    overview: int,
    cache: CoverCache | None,
    progress: Any,
    scheduler: Any,
    settings: Settings,
) -> Iterator[DateCover]:
    """Measure the dates already found (here or on a Dask cluster), yielding each as it is done:
    `cover`'s and `timelapse`'s one way to the numbers, so both agree date by date."""
    cluster = scheduler if scheduler is not None else settings.dask_scheduler
    if cluster:
        from ..stats.distributed import iter_cover_dask

        measured = iter_cover_dask(groups, aoi, source, policy, scheduler=cluster, settings=settings,
                                   overview=overview, cache=cache)
    else:
        measured = iter_cover(groups, aoi, source, policy, settings=settings, overview=overview, cache=cache)
    for done, record in enumerate(measured, start=1):
        if progress:
            progress(done, len(groups))
        yield record


def _item_of(scene: Scene) -> dict[str, Any]:
    """The scene's STAC Item dict (a minimal one when the source had none)."""
    if scene.item is not None:
        return dict(scene.item)
    return {
        "type": "Feature", "stac_version": "1.0.0", "id": scene.id, "bbox": list(scene.bbox_lonlat or []) or None,
        "geometry": scene.geometry_lonlat,
        "properties": {"datetime": scene.datetime.isoformat(), "platform": scene.platform},
        "assets": {key: {"href": href} for key, href in scene.assets.items()}, "links": [],
    }


def request_attrs(area: AOI, source: SceneSource, policy: MaskPolicy, **extra: Any) -> dict[str, Any]:
    """What was asked for, as attribute values a DataFrame, netCDF or GeoTIFF tags can hold."""
    from .. import __version__

    is_box = area.geometry.equals(area.geometry.envelope)
    return {
        "aoi": area.to_bbox_text() if is_box else json.dumps(area.to_geojson()),
        "source": source.name, "mask": policy.kind, "flags": sorted(policy.flags), "buffer_m": policy.buffer_m,
        **extra, "cloudcore_version": __version__,
    }


__all__ = ["best_dates", "cover", "cover_frame", "fill", "fill_image", "find_scenes", "measure_cover", "search"]
