"""Liberal inputs, made canonical once at the front door: dates, numbers, masks, caches, progress.

Everything past here holds a `datetime.date`, an `AOI`, a `SceneSource`, a `MaskPolicy`; nothing
re-parses. Each refusal is an `InvalidInputError` naming the argument and what it accepts.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable

from ..errors import InvalidInputError
from ..io.cache import CoverCache
from ..masks.qa import MaskPolicy, parse_flags
from ..numbers import as_number
from ..options import MaskKind, check_mask_kind

CacheLike = bool | None | str | os.PathLike | CoverCache
"""True: the usual cache under the `cache_dir` setting; False or None: none; a folder; a CoverCache."""
Progress = Callable[[int, int], None]
ProgressLike = None | bool | Progress
"""None or False: silent; True: a counter on stderr; a callable: called as progress(done, total)."""

# A buffer wider than this removes whole scenes; a window longer than this is not a fill.
MAX_BUFFER_M = 5000.0
MAX_WINDOW_DAYS = 3650
MAX_OVERVIEW = 8


def as_policy(mask: MaskKind | str, flags: str | Iterable[str], buffer_m: float) -> MaskPolicy:
    """The mask policy of the front door's `mask`, `flags` and `buffer_m`."""
    kind = check_mask_kind(mask)
    try:
        parsed = parse_flags(flags)
    except InvalidInputError as err:
        raise InvalidInputError(str(err), parameter="flags") from err
    return MaskPolicy(flags=parsed, buffer_m=as_number(buffer_m, "buffer_m", 0, MAX_BUFFER_M, "metres"), kind=kind)


def as_max_scene_cloud(value: float | None) -> float | None:
    return None if value is None else as_number(value, "max_scene_cloud", 0, 100, "a percentage")


def as_cache(cache: CacheLike, cache_root: os.PathLike | str) -> CoverCache | None:
    if cache is True:
        return CoverCache.under(cache_root)
    if cache is False or cache is None:
        return None
    if isinstance(cache, CoverCache):
        return cache
    if isinstance(cache, (str, os.PathLike)):
        return CoverCache(cache)
    raise InvalidInputError(
        f"cache={cache!r} is not a cache: give True (the usual one), False, a folder or a CoverCache.",
        parameter="cache",
    )


def as_progress(progress: ProgressLike, label: str) -> Progress | None:
    if progress is None or progress is False:
        return None
    if progress is True:
        return text_progress(label)
    if callable(progress):
        return progress
    raise InvalidInputError(
        f"progress={progress!r} is not a callable: give True for a counter, or a function of (done, total).",
        parameter="progress",
    )


def text_progress(label: str) -> Progress:
    """A one-line counter on stderr (rewritten in place on a terminal)."""
    tty = sys.stderr.isatty()

    def report(done: int, total: int) -> None:
        end = "\r" if tty and done < total else "\n"
        if tty or done == total or done % 10 == 0:
            print(f"{label}: {done}/{total}", end=end, file=sys.stderr, flush=True)

    return report
