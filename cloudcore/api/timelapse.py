"""`timelapse(aoi, start, end)`: the clear dates of an AOI as an animation, GIF or MP4.

The frames are the dates `cover` measures at most `max_obscured` % obscured, oldest first,
each in true colour on one common grid (the first frame date's AOI grid), labelled with its
date and sensor. With `filled=True` every frame is the date gap-filled as `fill` would fill
it, so `max_obscured=100, filled=True` makes a frame of every date with data. The result, a
`Timelapse`, holds the frames once: `.to_gif()`, `.to_mp4()` and `.write(path)` encode them
without reading anything again.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from ..dates import DateLike, as_date_range
from ..errors import InvalidInputError, NoScenesError, SceneReadError
from ..gapfill.base import FillMethod
from ..gapfill.inputs import DEFAULT_WINDOW_DAYS
from ..gapfill.registry import DEFAULT_METHOD, get_method
from ..geo.aoi import AOI, AOILike, parse_aoi
from ..limits import check_date_span
from ..masks.qa import MaskPolicy
from ..numbers import as_number
from ..options import DEFAULT_FLAGS, MaskKind
from ..settings import Settings
from ..sources import SourceLike, open_source
from ..sources.base import SceneSource
from ..sources.scene import DateGroup, Scene, group_by_date
from ..sources.search import search_scenes
from ..stats.cover import DateCover, in_date_order
from ..stats.nearest import is_clear
from .frontdoor import measure_groups, request_attrs
from .inputs import (
    MAX_WINDOW_DAYS,
    CacheLike,
    ProgressLike,
    as_cache,
    as_max_scene_cloud,
    as_policy,
    as_progress,
)

if TYPE_CHECKING:
    import numpy as np

    from ..geo.grid import Grid

DEFAULT_FPS = 3.0
"""Frames per second: a date every third of a second, slow enough to read its label."""
DEFAULT_MAX_OBSCURED = 10.0
RGB = ("red", "green", "blue")
BYTES_PER_GRID_PIXEL = 48
"""Peak bytes per grid pixel while one observed frame is read and drawn (QA, origin, three bands,
their reflectance and the stretch's temporaries)."""
SHARED_READS_SHARE = 0.5
"""The share of the `memory_mb` setting the filled frames' shared donor reads may hold."""


class NoFramesError(NoScenesError):
    """No date of the range is clear enough to be a frame.

    Attributes:
        measured: The dates measured; clearest: the smallest obscured share among them (None
        when none was measured); situation: the message without its advice, for a face to
        add its own (the command line names its flags).
    """

    def __init__(self, situation: str, advice: str, *, measured: int, clearest: float | None) -> None:
        super().__init__(f"{situation}: {advice}", parameter="max_obscured" if measured else None)
        self.situation = situation
        self.measured = measured
        self.clearest = clearest


@dataclass(frozen=True, eq=False)
class Timelapse:
    """The frames of a timelapse, made once; encode them as often as wanted.

    Every frame is an (H, W, 3) uint8 RGB array: the picture (`picture_height` rows) above a
    band of `label_height` rows holding its label.
    """

    frames: tuple[np.ndarray, ...]
    dates: tuple[dt.date, ...]
    platforms: tuple[str, ...]
    """As STAC names them: landsat-8, ..."""
    labels: tuple[str, ...]
    """What each frame's band says, e.g. '2022-06-14 · Landsat 8 · filled 12 %'."""
    obscured_pcts: tuple[float, ...]
    """Each date's `obscured_pct` as `cover` measured it."""
    filled_pcts: tuple[float | None, ...]
    """The AOI share filled from other dates (None for every frame when not `filled`)."""
    unfilled_pcts: tuple[float | None, ...]
    """The AOI share removed and left unfilled (None when not `filled`)."""
    fps: float
    filled: bool
    max_obscured: float
    measured: int
    """Dates measured in the range (frames or not)."""
    label_height: int
    method: str | None = None
    """The fill method when `filled`."""
    skipped: tuple[str, ...] = ()
    """Dates left out because they could not be measured or read, each with why: a complete
    timelapse has none."""
    skipped_donors: tuple[str, ...] = ()
    """Donor dates a fill could not read (the fill went on without them)."""
    request: Mapping[str, Any] = field(default_factory=dict)
    out: Path | None = None
    """The file written, when one was."""

    @property
    def width(self) -> int:
        return int(self.frames[0].shape[1])

    @property
    def height(self) -> int:
        return int(self.frames[0].shape[0])

    @property
    def picture_height(self) -> int:
        return self.height - self.label_height

    def to_gif(self) -> bytes:
        """The frames as a looping GIF."""
        from ..io.animation import gif_bytes

        return gif_bytes(self.frames, self.fps)

    def to_mp4(self) -> bytes:
        """The frames as an H.264 MP4 (yuv420p; an odd side padded by one pixel to even)."""
        from ..io.animation import mp4_bytes

        return mp4_bytes(self.frames, self.fps)

    def write(self, path: str | os.PathLike) -> Path:
        """Write a .gif or .mp4 (the extension decides), whole or not at all; returns the path."""
        from ..io.animation import check_output, output_format, write_atomic

        target = check_output(path)
        data = self.to_gif() if output_format(target) == "GIF" else self.to_mp4()
        return write_atomic(target, data)

    def sheet(self, count: int = 8, columns: int = 4, gap: int = 4) -> np.ndarray:
        """(H, W, 3) uint8: `count` frames spread evenly over the timelapse (first and last
        included), laid out in rows of `columns` with `gap` pixels between them: a still summary."""
        from ..render.frames import contact_sheet

        return contact_sheet(self.frames, count, columns, gap)

    def summary(self) -> dict[str, Any]:
        """The JSON record the command line prints."""
        record: dict[str, Any] = {
            "frames": len(self.frames),
            "dates": [d.isoformat() for d in self.dates],
            "platforms": list(self.platforms),
            "obscured_pct": list(self.obscured_pcts),
        }
        if self.filled:
            record |= {"filled_pct": list(self.filled_pcts), "unfilled_pct": list(self.unfilled_pcts),
                       "method": self.method}
        record |= {
            "filled": self.filled, "max_obscured": self.max_obscured, "measured": self.measured,
            "fps": self.fps, "width": self.width, "height": self.height, "skipped": list(self.skipped),
        }
        if self.skipped_donors:
            record["skipped_donors"] = list(self.skipped_donors)
        if self.out is not None:
            record["out"] = str(self.out)
        return record


def timelapse(
    aoi: AOILike,
    start: DateLike,
    end: DateLike,
    *,
    out: str | os.PathLike | None = None,
    source: SourceLike = "planetary-computer",
    max_obscured: float = DEFAULT_MAX_OBSCURED,
    filled: bool = False,
    method: str | FillMethod = DEFAULT_METHOD,
    window_days: int = DEFAULT_WINDOW_DAYS,
    mask: MaskKind = "qa",
    flags: str | Iterable[str] = DEFAULT_FLAGS,
    buffer_m: float = 0.0,
    max_scene_cloud: float | None = None,
    fps: float = DEFAULT_FPS,
    width: int | None = None,
    cache: CacheLike = True,
    progress: ProgressLike = None,
    measure_progress: ProgressLike = None,
    settings: Settings | None = None,
) -> Timelapse:
    """The dates of `aoi` start..end at most `max_obscured` % obscured, as labelled frames.

    Args:
        aoi, start, end, source, mask, flags, buffer_m, max_scene_cloud, cache, settings: As in
            `cover` (max_scene_cloud leaves out frame dates, never donors of a fill); the
            frame dates are exactly the dates `cover` gives with `obscured_pct` <= max_obscured
            (dates that failed or have no AOI pixel are not frames).
        out: A .gif or .mp4 file to write as well (checked before anything is searched).
        max_obscured: The most of the AOI (%, 0-100) a date may have missing or masked.
        filled: Gap-fill every frame date as `fill` does (`method`, `window_days`); the label
            then says the share filled. Unfilled frames show the date as observed.
        fps: Frames per second of the animation (0.5-30).
        width: The frames' width in pixels (128-3840), the height keeping the aspect; None:
            the AOI's grid enlarged to at least 256 px on the short side (nearest neighbour,
            an integer factor), or reduced to 1280 px on the long side.
        progress: True prints a counter of frames made on stderr; a callable gets
            (frames_done, frames_total).
        measure_progress: Likewise for the dates measured first.

    Returns:
        A `Timelapse`: frames, dates, platforms, labels, shares, `.to_gif()`, `.to_mp4()`,
        `.write(path)` and `.summary()`. A date whose frame could not be read is left out and
        listed in `skipped` (so is a date `cover` could not measure).

    Raises:
        InvalidInputError: A bad argument (before any search or read).
        NoFramesError: No date measured is clear enough (a `NoScenesError`).
        SceneReadError: Dates were found but none could be measured or read.
    """
    from ..io.animation import check_fps, check_output
    from ..render.frames import MAX_WIDTH, MIN_WIDTH

    settings = Settings.from_env() if settings is None else settings
    area = parse_aoi(aoi, settings=settings)
    first, last = as_date_range(start, end)
    check_date_span(first, last, settings)
    threshold = as_number(max_obscured, "max_obscured", 0, 100, "a percentage")
    cloud_cap = as_max_scene_cloud(max_scene_cloud)
    rate = check_fps(fps)
    size = None if width is None else int(as_number(width, "width", MIN_WIDTH, MAX_WIDTH, "pixels", whole=True))
    target = None if out is None else check_output(out)
    strategy = get_method(method)
    window = int(as_number(window_days, "window_days", 0, MAX_WINDOW_DAYS, "days", whole=True))
    if not isinstance(filled, bool):
        raise InvalidInputError(f"filled={filled!r} is not True or False.", parameter="filled")
    policy = as_policy(mask, flags, buffer_m)
    frame_progress = as_progress(progress, "frames made")

    scene_source = open_source(source, settings)
    margin = dt.timedelta(days=window if filled else 0)
    scenes = search_scenes(scene_source, area, first - margin, last + margin,
                           None if filled else cloud_cap, settings=settings)
    if filled and cloud_cap is not None:  # the frame dates as `cover` finds them; the donors as `fill` does
        scenes_of_frames = search_scenes(scene_source, area, first, last, cloud_cap, settings=settings)
    else:
        scenes_of_frames = scenes
    groups = [g for g in group_by_date(scenes_of_frames) if first <= g.date <= last]
    records = in_date_order(measure_groups(groups, area, scene_source, policy, 0, as_cache(cache, settings.cache_dir),
                                     as_progress(measure_progress, "dates measured"), None, settings))
    chosen, skipped = _frame_dates(records, groups, threshold)
    if not chosen:
        _no_frames(records, threshold, first, last)

    maker = _FrameMaker(area, scene_source, policy, settings, size, frame_progress)
    if filled:
        made = maker.filled(chosen, scenes, strategy, window)
    else:
        made = maker.observed(chosen)
    skipped = sorted(skipped + maker.skipped)  # each starts with its date
    if not made:
        raise SceneReadError(
            f"None of the {len(chosen)} frame dates could be read ({'; '.join(maker.skipped[:3])}): "
            "try again later, or check the source.",
            parameter="source",
        )
    result = _assemble(made, rate, filled, threshold, len(records), strategy.name if filled else None,
                       tuple(skipped), tuple(dict.fromkeys(maker.skipped_donors)),
                       request_attrs(area, scene_source, policy, start=first.isoformat(), end=last.isoformat(),
                                **({"method": strategy.name, "window_days": window} if filled else {})))
    if target is not None:
        result = replace(result, out=result.write(target))
    return result


def _frame_dates(
    records: Sequence[DateCover], groups: Sequence[DateGroup], threshold: float
) -> tuple[list[tuple[DateGroup, DateCover]], list[str]]:
    """(group, record) of every date clear enough, oldest first; and the dates not measured."""
    by_key = {(g.date.isoformat(), g.platform, tuple(g.scene_ids)): g for g in groups}
    chosen, skipped = [], []
    for record in records:
        if record.error:
            skipped.append(f"{record.date} ({record.platform}): not measured: {record.error}")
        elif is_clear(record, threshold):
            chosen.append((by_key[(record.date, record.platform, tuple(record.scene_ids))], record))
    return chosen, skipped


def _no_frames(records: Sequence[DateCover], threshold: float, first: dt.date, last: dt.date) -> NoReturn:
    measured = [r for r in records if not r.error and r.obscured_pct is not None]
    failed = [r for r in records if r.error]
    if not records:
        raise NoFramesError(
            f"No Landsat date over this AOI from {first} to {last}",
            "widen the dates or move the area", measured=0, clearest=None,
        )
    if not measured and failed:
        raise SceneReadError(
            f"None of the {len(records)} dates from {first} to {last} could be measured "
            f"({failed[0].date}: {failed[0].error}): try again later, or check the source.",
            parameter="source",
        )
    clearest = min((r.obscured_pct for r in measured if r.obscured_pct is not None), default=None)
    best = "" if clearest is None else f" (the clearest is {clearest:g} % obscured)"
    unmeasured = f"; {len(failed)} more could not be measured" if failed else ""
    situation = (f"None of the {len(measured)} dates measured from {first} to {last} is at most {threshold:g} % "
                 f"obscured{best}{unmeasured}")
    at_least = "" if clearest is None else f" to at least {clearest:g}"
    raise NoFramesError(situation, f"raise max_obscured{at_least}, or set filled=True to gap-fill every date",
                        measured=len(measured), clearest=clearest)


@dataclass
class _Made:
    """One frame before its label band: the scaled picture and what its label says."""

    group: DateGroup
    record: DateCover
    picture: np.ndarray
    filled_pct: float | None = None
    unfilled_pct: float | None = None


class _FrameMaker:
    """Reads frame dates onto one grid and draws them at one size, collecting what failed."""

    def __init__(
        self, aoi: AOI, source: SceneSource, policy: MaskPolicy, settings: Settings, width: int | None,
        progress: Callable[[int, int], None] | None,
    ) -> None:
        self.aoi, self.source, self.policy, self.settings = aoi, source, policy, settings
        self.width, self.progress = width, progress
        self.skipped: list[str] = []
        self.skipped_donors: list[str] = []
        self.grid: Grid | None = None
        self.inside: np.ndarray | None = None
        self.size: tuple[int, int] = (0, 0)

    def _set_grid(self, grid: Grid, frames: int) -> None:
        from ..geo.grid import inside_mask
        from ..render.frames import frame_size

        size = frame_size(grid.shape, self.width)
        # All frames are held at once (to encode them as GIF and MP4 without reading again).
        need = frames * size[0] * size[1] * 3 * 1.2
        budget = self.settings.memory_mb * 2**20
        if need > budget:
            raise InvalidInputError(
                f"{frames} frames of {size[0]} x {size[1]} px would take about {need / 2**20:,.0f} MB, over the "
                f"memory budget of {self.settings.memory_mb:,} MB: give a smaller width or fewer dates (a shorter "
                "range or a lower max_obscured), or raise CLOUDCORE_MEMORY_MB.",
                parameter="width", setting="memory_mb",
            )
        self.grid, self.inside, self.size = grid, inside_mask(self.aoi, grid), size

    def _skip(self, group: DateGroup, err: Exception) -> None:
        self.skipped.append(f"{group.date} ({group.platform}): {err}")

    def _common_grid(self, chosen: Sequence[tuple[DateGroup, DateCover]]) -> list[tuple[DateGroup, DateCover]]:
        """Set the grid from the first date whose grid can be read; the dates from it on."""
        from ..io.read import READ_FAILURES
        from ..io.stack import date_grid

        for index, (group, _) in enumerate(chosen):
            try:
                grid = date_grid(group, self.aoi, self.source, settings=self.settings)
            except READ_FAILURES as err:
                self._skip(group, err)
                continue
            self._set_grid(grid, len(chosen) - index)
            return list(chosen[index:])
        return []

    def _picture(self, bands_dn: np.ndarray) -> np.ndarray:
        from ..render.frames import date_picture, scale_picture

        assert self.inside is not None
        return scale_picture(date_picture(bands_dn, self.inside), self.size)

    def observed(self, chosen: Sequence[tuple[DateGroup, DateCover]]) -> list[_Made]:
        """Each date as observed, read concurrently (in date order)."""
        from ..io.read import READ_FAILURES
        from ..io.stack import read_date

        todo = self._common_grid(chosen)
        if not todo:
            return []
        grid = self.grid
        assert grid is not None
        workers = max(1, min(self.settings.workers,
                             int(self.settings.memory_mb * 2**20 // (grid.width * grid.height * BYTES_PER_GRID_PIXEL))))

        def make(group: DateGroup) -> np.ndarray | Exception:
            try:
                stack = read_date(group, grid, self.source, settings=self.settings, bands=RGB)
            except READ_FAILURES as err:
                return err
            assert stack.bands is not None
            return self._picture(stack.bands)

        made: list[_Made] = []
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="frame")
        try:
            for done, ((group, record), outcome) in enumerate(zip(todo, pool.map(make, [g for g, _ in todo])), 1):
                if isinstance(outcome, Exception):
                    self._skip(group, outcome)
                else:
                    made.append(_Made(group, record, outcome))
                if self.progress:
                    self.progress(done, len(todo))
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        return made

    def filled(
        self, chosen: Sequence[tuple[DateGroup, DateCover]], scenes: list[Scene], method: FillMethod, window: int
    ) -> list[_Made]:
        """Each date gap-filled as `fill` fills it, one after another; donor reads are shared
        between neighbouring dates and the search is done once."""
        from ..gapfill.image import fill_inputs
        from ..gapfill.inputs import read_fill_inputs
        from ..io.read import READ_FAILURES
        from ..io.stack import SharedReads
        from ..render.frames import regrid

        todo = self._common_grid(chosen)
        if not todo:
            return []
        assert self.grid is not None
        budget = int(self.settings.memory_mb * 2**20 * SHARED_READS_SHARE)
        reads = SharedReads(budget)
        found = _FoundScenes(self.source, scenes)
        dates = [g.date for g, _ in todo]
        made: list[_Made] = []
        for done, (group, record) in enumerate(todo, start=1):
            reads.forget_before(group.date - dt.timedelta(days=window))
            # Another platform's or path's scenes of the same day are not this frame's.
            others = {s.id for s in scenes if s.date == group.date} - set(group.scene_ids)
            try:
                inputs = read_fill_inputs(
                    found.without(others), self.aoi, group.date, window, self.policy,
                    all_donors=method.needs_all_donors, read=reads, settings=self.settings,
                )
            except READ_FAILURES as err:
                self._skip(group, err)
            else:
                image = fill_inputs(inputs, method)
                self.skipped_donors += image.donor_errors
                indices = [list(image.band_names).index(name) for name in RGB]
                bands = regrid(image.result.filled[indices], image.grid, self.grid)
                made.append(_Made(group, record, self._picture(bands),
                                  filled_pct=image.result.filled_pct or 0.0, unfilled_pct=image.result.unfilled_pct))
            if self.progress:
                self.progress(done, len(dates))
        return made


def _assemble(
    made: Sequence[_Made], fps: float, filled: bool, threshold: float, measured: int, method: str | None,
    skipped: tuple[str, ...], skipped_donors: tuple[str, ...], request: Mapping[str, Any],
) -> Timelapse:
    from ..render.frames import frame_label, label_band_px, labelled

    labels = [frame_label(m.group.date, m.group.platform, m.filled_pct if filled else None) for m in made]
    width = made[0].picture.shape[1]
    band = max(label_band_px(text, width) for text in labels)
    band += (made[0].picture.shape[0] + band) % 2  # an even height, as MP4 needs (the width is the picture's)
    return Timelapse(
        frames=tuple(labelled(m.picture, text, band) for m, text in zip(made, labels)),
        dates=tuple(m.group.date for m in made),
        platforms=tuple(m.group.platform for m in made),
        labels=tuple(labels),
        obscured_pcts=tuple(float(m.record.obscured_pct or 0.0) for m in made),
        filled_pcts=tuple(m.filled_pct for m in made),
        unfilled_pcts=tuple(m.unfilled_pct for m in made),
        fps=fps, filled=filled, max_obscured=threshold, measured=measured, label_height=band, method=method,
        skipped=skipped, skipped_donors=skipped_donors, request=dict(request),
    )


class _FoundScenes:
    """A source whose search over the AOI was done once: searches within it are answered from
    the scenes found (a timelapse of 100 filled dates asks the STAC API once, not 100 times)."""

    def __init__(self, source: SceneSource, scenes: list[Scene], leave_out: frozenset[str] = frozenset()) -> None:
        self.source, self.scenes, self.leave_out = source, scenes, leave_out
        self.name = source.name

    def without(self, scene_ids: set[str]) -> _FoundScenes:
        return _FoundScenes(self.source, self.scenes, frozenset(scene_ids))

    def search(
        self, aoi: AOI, start: dt.date, end: dt.date, max_scene_cloud_pct: float | None = None
    ) -> list[Scene]:
        # The scenes were searched with no scene-cloud limit over the whole span the fills use.
        kept = [s for s in self.scenes if start <= s.date <= end and s.id not in self.leave_out]
        if max_scene_cloud_pct is not None:
            kept = [s for s in kept if s.scene_cloud_pct is None or s.scene_cloud_pct <= max_scene_cloud_pct]
        return kept

    def readable_href(self, href: str, fresh: bool = False) -> str:
        return self.source.readable_href(href, fresh=fresh)


__all__ = ["DEFAULT_FPS", "DEFAULT_MAX_OBSCURED", "NoFramesError", "Timelapse", "timelapse"]
