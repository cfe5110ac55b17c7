"""The same per-date measurement on a Dask cluster, for areas or records one machine outgrows.

Each date is one task running `cover.measure_date` on a worker, so the numbers are the very
ones the single-machine path gives. The AOI, source and policy are sent to the cluster once.
Results stream back as they finish; a task that dies (a worker lost) becomes that date's
`error`, like any other failed date.

The scheduler is `--scheduler` on the command line or CLOUDCORE_DASK_SCHEDULER, e.g.
`tcp://10.0.0.5:8786`. Workers need cloudcore and its requirements installed.
"""

from __future__ import annotations

import os
from typing import Any, Iterator

from .aoi import AOI
from .cache import CoverCache
from .cover import DateCover, measure_date, split_cached, store_record
from .errors import SourceUnreachableError
from .qa import MaskPolicy
from .scene import DateGroup
from .sources.base import SceneSource

SCHEDULER_ENV = "CLOUDCORE_DASK_SCHEDULER"
CONNECT_TIMEOUT_S = 10


def scheduler_from_env() -> str | None:
    """The scheduler address in CLOUDCORE_DASK_SCHEDULER, or None to run on this machine."""
    return os.environ.get(SCHEDULER_ENV, "").strip() or None


def connect(scheduler: Any):
    """A distributed.Client for an address (or the Client given)."""
    from distributed import Client

    if isinstance(scheduler, Client):
        return scheduler
    try:
        return Client(scheduler, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError) as err:
        raise SourceUnreachableError(
            f"No Dask scheduler answered at {scheduler} within {CONNECT_TIMEOUT_S} s: start one "
            f"(`dask scheduler`), check the address, or leave --scheduler and {SCHEDULER_ENV} unset to run here."
        ) from err


def iter_cover_dask(
    groups: list[DateGroup],
    aoi: AOI,
    source: SceneSource,
    policy: MaskPolicy = MaskPolicy(),
    *,
    scheduler: Any,
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
        shared = client.scatter([aoi, source, policy], broadcast=True)
        group_of = {
            client.submit(measure_date, group, *shared, overview, pure=False): group for group in todo
        }
        for future in as_completed(group_of):
            group = group_of[future]
            record = _result(future, group)
            store_record(cache, group, record, aoi, policy, overview)
            yield record
    finally:
        if owned:
            client.close()


def _result(future, group: DateGroup) -> DateCover:
    """The task's record; a task that failed outright (e.g. its worker died) is that date's error."""
    try:
        return future.result()
    except Exception as err:  # noqa: BLE001 - one lost task must not sink the timeline
        return DateCover(
            date=group.date.isoformat(),
            platform=group.platform,
            scene_ids=group.scene_ids,
            scene_cloud_pct=group.scene_cloud_pct,
            error=f"the cluster could not measure this date ({type(err).__name__}: {err})",
        )
