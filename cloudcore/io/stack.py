"""Read one date's scenes onto a common AOI grid: QA, saturation and reflectance bands.

Adjacent rows of one path overlap; where two scenes cover a pixel, the first scene (by
id) with data there wins, decided on QA_PIXEL's fill bit so bands and QA stay paired.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from ..errors import SceneReadError
from ..geo.aoi import AOI
from ..geo.grid import Grid
from ..masks.qa import FILL_BIT, bit_set
from ..product import QA_BAND, RADSAT_BAND
from ..settings import Settings
from ..sources.base import SceneSource
from ..sources.scene import DateGroup, Scene
from .read import open_grid, read_aoi, read_on_grid, with_retries

T = TypeVar("T")

QA_FILL_VALUE = 1 << FILL_BIT  # what QA_PIXEL holds where a raster has no data
NO_SCENE = 255  # `origin` where no scene of the date has data


@dataclass(frozen=True)
class DateStack:
    """One date on the AOI grid."""

    qa: np.ndarray
    """Merged QA_PIXEL (uint16); fill where no scene has data."""
    radsat: np.ndarray | None
    """Merged QA_RADSAT, when asked for and present."""
    bands: np.ndarray | None
    """(B, H, W) surface reflectance DN in the order asked for, 0 where no data."""
    origin: np.ndarray | None = None
    """Index in the date's scenes of the scene each pixel came from (NO_SCENE: none), so
    bands can be added later without reading QA again."""


def _raw_href(scene: Scene, band: str) -> str:
    try:
        return scene.assets[band]
    except KeyError as err:
        raise SceneReadError(f"Scene {scene.id} has no {band} asset: it cannot be read.") from err


def _read(scene: Scene, band: str, source: SceneSource, read: Callable[[str], T], settings: Settings) -> T:
    """`read` on a scene's band href, signed just before, retried as `read.with_retries` does."""
    raw = _raw_href(scene, band)
    if not raw:
        raise SceneReadError(f"Scene {scene.id} lists a {band} asset without an href: it cannot be read.")

    def href(fresh: bool) -> str:
        return source.readable_href(raw, fresh=True) if fresh else source.readable_href(raw)

    return with_retries(href, read, settings=settings)


def date_grid(
    group: DateGroup, aoi: AOI, source: SceneSource, *, settings: Settings, margin_m: float = 0.0, overview: int = 0
) -> Grid:
    """The AOI grid of a date, aligned with its first scene's QA_PIXEL."""
    return _read(
        group.scenes[0], QA_BAND, source,
        lambda href: open_grid(href, aoi, settings=settings, margin_m=margin_m, overview=overview), settings,
    )


def read_date_on_aoi(
    group: DateGroup,
    aoi: AOI,
    source: SceneSource,
    *,
    settings: Settings,
    margin_m: float = 0.0,
    bands: Sequence[str] = (),
    with_radsat: bool = False,
    overview: int = 0,
) -> tuple[Grid, DateStack]:
    """The date's AOI grid and its stack; the first scene's QA header is fetched once for both."""
    grid, first_qa = _read(
        group.scenes[0], QA_BAND, source,
        lambda href: read_aoi(
            href, aoi, settings=settings, margin_m=margin_m, fill_value=QA_FILL_VALUE, overview=overview
        ),
        settings,
    )
    return grid, read_date(
        group, grid, source, settings=settings, bands=bands, with_radsat=with_radsat, overview=overview,
        first_qa=first_qa,
    )


def read_date(
    group: DateGroup,
    grid: Grid,
    source: SceneSource,
    *,
    settings: Settings,
    bands: Sequence[str] = (),
    with_radsat: bool = False,
    overview: int = 0,
    known: DateStack | None = None,
    first_qa: np.ndarray | None = None,
) -> DateStack:
    """Read and merge the scenes of one date onto `grid`.

    Args:
        known: A stack of this date on this grid read before (its QA, origin and radsat are
            reused, so only `bands` are read).
        first_qa: The first scene's QA on `grid`, already read.
    """
    if known is not None and known.origin is not None and (known.radsat is not None or not with_radsat):
        qa, radsat, origin = known.qa, known.radsat, known.origin
    else:
        qa, radsat, origin = _merge_qa(group, grid, source, with_radsat, overview, first_qa, settings)
    stacked = np.zeros((len(bands),) + grid.shape, dtype=np.uint16) if bands else None
    for index, scene in enumerate(group.scenes):
        take = origin == index
        if not take.any():
            continue
        for i, band in enumerate(bands):
            values = _read(
                scene, band, source,
                lambda href: read_on_grid(href, grid, settings=settings, overview=overview), settings,
            )
            np.copyto(stacked[i], values, where=take)  # type: ignore[index]  # stacked exists when bands do
    return DateStack(qa=qa, radsat=radsat, bands=stacked, origin=origin)


def _merge_qa(
    group: DateGroup,
    grid: Grid,
    source: SceneSource,
    with_radsat: bool,
    overview: int,
    first_qa: np.ndarray | None,
    settings: Settings,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    qa = np.full(grid.shape, QA_FILL_VALUE, dtype=np.uint16)
    radsat = np.zeros(grid.shape, dtype=np.uint16) if with_radsat else None
    origin = np.full(grid.shape, NO_SCENE, dtype=np.uint8)
    for index, scene in enumerate(group.scenes[:NO_SCENE]):
        missing = origin == NO_SCENE
        if not missing.any():
            break  # earlier scenes already cover the whole AOI
        if index == 0 and first_qa is not None:
            scene_qa = first_qa
        else:
            scene_qa = _read(
                scene, QA_BAND, source,
                lambda href: read_on_grid(
                    href, grid, settings=settings, fill_value=QA_FILL_VALUE, overview=overview
                ),
                settings,
            )
        take = missing & ~bit_set(scene_qa, FILL_BIT)
        if not take.any():
            continue
        # copyto(where=) is several times faster than boolean-index assignment on big windows.
        np.copyto(qa, scene_qa, where=take)
        np.copyto(origin, np.uint8(index), where=take)
        if radsat is not None and RADSAT_BAND in scene.assets:
            scene_radsat = _read(
                scene, RADSAT_BAND, source,
                lambda href: read_on_grid(href, grid, settings=settings, overview=overview), settings,
            )
            np.copyto(radsat, scene_radsat, where=take)
    return qa, radsat, origin


class SharedReads:
    """`read_date` with memory, for work over many dates in time order (evaluations, filled
    timelapses): a date read for one target is not read again for the next. `forget_before` drops
    the dates no later target can use; past `budget` bytes (None: no bound) the oldest go first."""

    def __init__(self, budget: int | None = None) -> None:
        self._stacks: dict[tuple, DateStack] = {}
        self._lock = threading.Lock()  # donors are read from a thread pool
        self._budget = budget

    def __call__(
        self,
        group: DateGroup,
        grid: Grid,
        source: SceneSource,
        *,
        settings: Settings,
        bands: Sequence[str] = (),
        with_radsat: bool = False,
        known: DateStack | None = None,
    ) -> DateStack:
        key = (group.date, group.platform, group.wrs_path, tuple(group.scene_ids), grid, tuple(bands), with_radsat)
        with self._lock:
            stack = self._stacks.get(key)
        if stack is None:
            stack = read_date(group, grid, source, settings=settings, bands=bands, with_radsat=with_radsat, known=known)
            with self._lock:
                self._stacks[key] = stack
                self._trim()
        return stack

    def _trim(self) -> None:
        def size(stack: DateStack) -> int:
            arrays = (stack.qa, stack.radsat, stack.bands, stack.origin)
            return sum(a.nbytes for a in arrays if a is not None)

        total = sum(size(s) for s in self._stacks.values())
        for key in sorted(self._stacks, key=lambda k: k[0]):
            if self._budget is None or total <= self._budget or len(self._stacks) <= 1:
                break
            total -= size(self._stacks.pop(key))

    def forget_before(self, date: dt.date) -> None:
        with self._lock:
            self._stacks = {key: stack for key, stack in self._stacks.items() if key[0] >= date}
