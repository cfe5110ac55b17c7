"""The same per-date measurement on a Dask cluster, for areas or records one machine outgrows.

Each date is one task running `cover.measure_date` on a worker, so the numbers are the very
ones the single-machine path gives. The AOI, source and policy are sent to the cluster once.
Results stream back as they finish; a task that dies (a worker lost) becomes that date's
`error`, like any other failed date.

The scheduler is the `dask_scheduler` setting (CLOUDCORE_DASK_SCHEDULER) or an argument, e.g.
`tcp://10.0.0.5:8786`. Workers need cloudcore installed (with the `dask` extra).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import CancelledError
from typing import Any

from ..errors import SourceUnreachableError
from ..geo.aoi import AOI
from ..io.cache import CoverCache
from ..masks.qa import MaskPolicy
from ..settings import Settings
from ..sources.base import SceneSource
from ..sources.scene import DateGroup
from .cover import DateCover, measure_date, split_cached, store_record

CONNECT_TIMEOUT_S = 10


def connect(scheduler: Any) -> Any:
    """A distributed.Client for an address (or the Client given)."""
    from distributed import Client

    if isinstance(scheduler, Client):
        return scheduler
    try:
        return Client(scheduler, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError) as err:
        raise SourceUnreachableError(
            f"No Dask scheduler answered at {scheduler} within {CONNECT_TIMEOUT_S} s: start one "
            "(`dask scheduler`), check the address, or leave the scheduler unset (CLOUDCORE_DASK_SCHEDULER) "
            "to measure on this machine.",
            parameter="scheduler",
        ) from err


def iter_cover_dask(
    groups: list[DateGroup],
    aoi: AOI,
    source: SceneSource,
    policy: MaskPolicy = MaskPolicy(),
    *,
    scheduler: Any,
    settings: Settings,
    overview: int = 0,
    cache: CoverCache | None = None,
) -> Iterator[DateCover]:
    """`cover.iter_cover`, with each date measured as a task on the cluster at `scheduler`."""
    from distributed import as_completed

    done, todo = split_cached(cache, groups, aoi, policy, overview)
    yield from done
    if not todo:
        return
    client = connect(scheduler)
    owned = client is not scheduler
    try:
        # hash=False: each call scatters its own copies; equal objects under one name would be released
        # by one call while the next still needs them.
        shared = client.scatter([aoi, source, policy], broadcast=True, hash=False)
        group_of = {
            client.submit(measure_date, group, *shared, overview, settings=settings, pure=False): group
            for group in todo
        }
        for future in as_completed(group_of):
            group = group_of[future]
            record = _result(future, group)
            store_record(cache, group, record, aoi, policy, overview)
            yield record
    finally:
        if owned:
            client.close()


def _cluster_failures() -> tuple[type[BaseException], ...]:
    """What a task may fail with that says the cluster lost it (a worker died, the connection
    closed), not that the code is wrong: such a date gets an `error`; anything else raises."""
    from distributed import KilledWorker

    return (KilledWorker, CancelledError, OSError, TimeoutError)


def _result(future: Any, group: DateGroup) -> DateCover:
    """The task's record; a task the cluster lost (e.g. its worker died) is that date's error."""
    try:
        result: DateCover = future.result()
        return result
    except _cluster_failures() as err:
        return DateCover(
            date=group.date.isoformat(),
            platform=group.platform,
            scene_ids=group.scene_ids,
            scene_cloud_pct=group.scene_cloud_pct,
            error=f"the cluster could not measure this date ({type(err).__name__}: {err})",
        )
