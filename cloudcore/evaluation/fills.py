"""Score the fill methods against the ground they should restore: the demo's cloud-free truth.

Every scene of the synthetic demo carries a `truth` asset: its surface without cloud,
shadow, cirrus or haze, under that date's sun. `evaluate_fill` fills every partly cloudy
date of a record with each method and compares the filled pixels with that date's truth.

- Partly cloudy: the date's AOI pixels missing or removed by the mask policy (the `cover`
  statistic `obscured_pct`, what a fill has to restore) make up `PARTLY_CLOUDY_PCT`, 10 to
  80 %. Clearer dates have too few holes to score; cloudier ones leave too little of the
  target to judge a seam by.
- Scored pixels: those masked on the target date that have truth.
- `rmse`, `bias`: root mean square and mean of (filled - truth) in surface reflectance, over
  the filled scored pixels and the six bands.
- `unfilled_pct`: share of the scored pixels no donor could fill.
- `seam`: the mean absolute reflectance step between 4-neighbours of which one was kept from
  the target and the other filled, minus the same mean in the truth at those pairs: 0 when a
  fill is as smooth as the ground, above 0 when its patches show.

Each figure is the mean over the dates, every date weighing the same; `dates` in the result
keeps every date's own figures, since a few dates (e.g. snow on one date and not the next)
can outweigh all the others. The target and its
donors are read once per date (`gapfill.read_fill_inputs`) and every method runs on the same
arrays; reads are also shared between targets while a date can still be a donor.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..demo import TRUTH_KEY
from ..errors import InvalidInputError, SceneReadError
from ..gapfill.image import fill_inputs
from ..gapfill.inputs import DEFAULT_WINDOW_DAYS, FillInputs, read_fill_inputs
from ..gapfill.registry import FILL_METHODS
from ..geo.aoi import AOI
from ..geo.grid import Grid
from ..io.read import read_on_grid
from ..io.stack import SharedReads
from ..masks.qa import MaskPolicy
from ..product import SR_BANDS
from ..render.colour import reflectance
from ..settings import Settings
from ..sources.base import SceneSource
from ..sources.scene import DateGroup
from ..stats.cover import compute_cover

PARTLY_CLOUDY_PCT: tuple[float, float] = (10.0, 80.0)
"""AOI share (%) missing or removed on a date for it to be scored, both ends included."""

Progress = Callable[[int, int], None]


def score_fill(
    filled: np.ndarray, truth: np.ndarray, holes: np.ndarray, kept: np.ndarray, nodata: int = 0
) -> dict[str, float | int | None]:
    """Error, gaps and seams of one filled date against its truth (pure numpy).

    Args:
        filled: (B, H, W) the filled date, Collection 2 Level-2 DN; `nodata` where unfilled.
        truth: (B, H, W) the cloud-free truth, DN; `nodata` where unknown.
        holes: (H, W) pixels masked on the target date (inside the AOI).
        kept: (H, W) pixels kept from the target date (inside the AOI).
        nodata: The DN of no data in both rasters.

    Returns:
        `rmse`, `bias` and `seam` in reflectance (None without a filled scored pixel, or
        for the seam without a kept-filled pair), `unfilled_pct` of the scored pixels (None
        without any), and `scored_px`.
    """
    has_truth = (truth != nodata).all(axis=0)
    scored = holes & has_truth
    filled_ok = scored & (filled != nodata).all(axis=0)
    scored_px = int(scored.sum())
    result: dict[str, float | int | None] = {
        "rmse": None,
        "bias": None,
        "unfilled_pct": 100.0 * (scored_px - int(filled_ok.sum())) / scored_px if scored_px else None,
        "seam": None,
        "scored_px": scored_px,
    }
    if filled_ok.any():
        error = reflectance(filled[:, filled_ok]).astype(np.float64) - reflectance(truth[:, filled_ok])
        result["rmse"] = float(np.sqrt(np.mean(error**2)))
        result["bias"] = float(np.mean(error))
    result["seam"] = seam_score(filled, truth, kept & has_truth, filled_ok)
    return result


def seam_score(filled: np.ndarray, truth: np.ndarray, kept: np.ndarray, filled_px: np.ndarray) -> float | None:
    """Mean |step| in reflectance across kept/filled 4-neighbour pairs, less the truth's there.

    Args:
        filled: (B, H, W) DN of the filled date.
        truth: (B, H, W) DN of the truth.
        kept: (H, W) pixels kept from the target (with truth).
        filled_px: (H, W) pixels filled from a donor (with truth).

    Returns:
        The score, or None when no kept pixel touches a filled one.
    """
    steps_filled, steps_truth, pairs = 0.0, 0.0, 0
    observed, ground = reflectance(filled).astype(np.float64), reflectance(truth).astype(np.float64)
    # Right-hand and lower neighbours cover every 4-neighbour pair exactly once.
    for a, b in (((slice(None), slice(None, -1)), (slice(None), slice(1, None))),
                 ((slice(None, -1), slice(None)), (slice(1, None), slice(None)))):
        pair = (kept[a] & filled_px[b]) | (filled_px[a] & kept[b])
        if not pair.any():
            continue
        steps_filled += float(np.abs(observed[(slice(None), *a)][:, pair] - observed[(slice(None), *b)][:, pair]).sum())
        steps_truth += float(np.abs(ground[(slice(None), *a)][:, pair] - ground[(slice(None), *b)][:, pair]).sum())
        pairs += int(pair.sum())
    if not pairs:
        return None
    values = pairs * filled.shape[0]
    return steps_filled / values - steps_truth / values


def read_truth(group: DateGroup, grid: Grid, source: SceneSource, *, settings: Settings) -> np.ndarray:
    """(6, H, W) the cloud-free truth DN of one date on `grid`, 0 where unknown.

    Scenes merge as in `stack.read_date`: the first scene with truth at a pixel wins.

    Raises:
        SceneReadError: A scene has no truth asset (only the demo has one).
    """
    for scene in group.scenes:
        if TRUTH_KEY not in scene.assets:
            raise SceneReadError(
                f"Scene {scene.id} has no {TRUTH_KEY!r} asset: fills can only be scored on the demo record.",
                parameter="source",
            )
    truth = np.zeros((len(SR_BANDS),) + grid.shape, dtype=np.uint16)
    for scene in group.scenes:
        href = source.readable_href(scene.assets[TRUTH_KEY])
        missing = (truth == 0).all(axis=0)
        for index in range(len(SR_BANDS)):
            band = read_on_grid(href, grid, settings=settings, band=index + 1)
            if index == 0:
                missing &= band != 0  # the pixels this scene adds, decided on its first band
            truth[index][missing] = band[missing]
    return truth


def evaluate_fill(
    source: SceneSource,
    aoi: AOI,
    start: dt.date,
    end: dt.date,
    methods: Sequence[str] = FILL_METHODS,
    window_days: int = DEFAULT_WINDOW_DAYS,
    policy: MaskPolicy = MaskPolicy(),
    progress: Progress | None = None,
    partly_cloudy_pct: tuple[float, float] = PARTLY_CLOUDY_PCT,
    *,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """Fill every partly cloudy date in start..end with each method and score it against the truth.

    Args:
        source: A source whose scenes carry a `truth` asset (the demo).
        aoi: The area to fill and score.
        start: First target date; donors may lie up to `window_days` before it.
        end: Last target date.
        methods: Fill methods to compare, in the order of the table.
        window_days: Donor window of every fill.
        policy: Mask policy of the targets and donors.
        progress: Called as progress(dates_scored, dates_to_score).
        partly_cloudy_pct: (low, high) AOI share missing or removed for a date to count.

    Returns:
        `{"dates_evaluated": N, "methods": [{"method", "rmse", "bias", "unfilled_pct", "seam"}, ...],
        "dates": [{"date", "platform", "masked_pct", "methods": [...]}, ...]}`: the means over
        the dates, then each date's own figures (oldest first). A figure is None when no date
        (or, per date, no pixel) gave it.

    Raises:
        InvalidInputError: An unknown method, or no partly cloudy date in the range.
        SceneReadError: The source's scenes have no truth.
    """
    settings = Settings.from_env() if settings is None else settings
    unknown = [m for m in methods if m not in FILL_METHODS]
    if unknown or not methods:
        raise InvalidInputError(
            f"Unknown fill method(s) {', '.join(map(repr, unknown)) or '(none given)'}: use any of {', '.join(FILL_METHODS)}.",
            parameter="method",
        )
    dates = _partly_cloudy_dates(source, aoi, start, end, policy, partly_cloudy_pct, settings)
    reads = SharedReads()
    per_method: dict[str, list[dict[str, float | int | None]]] = {m: [] for m in methods}
    per_date = []
    for done, date in enumerate(dates, start=1):
        reads.forget_before(date - dt.timedelta(days=window_days))
        inputs = read_fill_inputs(source, aoi, date, window_days, policy, all_donors=True, read=reads, settings=settings)
        scores = _score_methods(inputs, source, methods, settings)
        for method in methods:
            per_method[method].append(scores[method])
        per_date.append(_date_record(inputs, scores))
        if progress:
            progress(done, len(dates))
    return {
        "dates_evaluated": len(dates),
        "methods": [{"method": m, **_mean_scores(per_method[m])} for m in methods],
        "dates": per_date,
    }


def _partly_cloudy_dates(
    source: SceneSource,
    aoi: AOI,
    start: dt.date,
    end: dt.date,
    policy: MaskPolicy,
    bounds: tuple[float, float],
    settings: Settings,
) -> list[dt.date]:
    low, high = bounds
    # A QA-only pass: cheap next to the band reads, and the same statistic the timeline shows.
    records = compute_cover(source, aoi, start, end, policy, settings=settings)
    dates = sorted(
        {dt.date.fromisoformat(r.date) for r in records if r.error is None and r.obscured_pct is not None and low <= r.obscured_pct <= high}
    )
    if not dates:
        raise InvalidInputError(
            f"No date between {start} and {end} has {low:g}-{high:g} % of the AOI masked: "
            "widen the dates or pick an AOI that clouds cross."
        )
    return dates


def _score_methods(
    inputs: FillInputs, source: SceneSource, methods: Sequence[str], settings: Settings
) -> dict[str, dict]:
    """Every method run on the same target and donors, scored against the date's truth."""
    truth = read_truth(inputs.group, inputs.grid, source, settings=settings)
    holes = inputs.removed & inputs.inside
    kept = inputs.inside & ~inputs.removed
    return {m: score_fill(fill_inputs(inputs, m).result.filled, truth, holes, kept) for m in methods}


def _date_record(inputs: FillInputs, scores: dict[str, dict]) -> dict[str, Any]:
    inside_px = int(inputs.inside.sum())
    masked_px = int((inputs.removed & inputs.inside).sum())
    return {
        "date": inputs.target.date.isoformat(),
        "platform": inputs.group.platform,
        "masked_pct": round(100.0 * masked_px / inside_px, 2) if inside_px else None,
        "methods": [{"method": m, **_mean_scores([s])} for m, s in scores.items()],
    }


def _mean_scores(scores: list[dict[str, float | int | None]]) -> dict[str, float | None]:
    def mean(name: str, digits: int) -> float | None:
        values = [float(value) for s in scores if (value := s[name]) is not None]
        return round(float(np.mean(values)), digits) if values else None

    return {"rmse": mean("rmse", 5), "bias": mean("bias", 5), "unfilled_pct": mean("unfilled_pct", 2), "seam": mean("seam", 5)}


def format_table(result: dict[str, Any]) -> str:
    """The result of `evaluate_fill` as a markdown table, with the change against `nearest`."""
    rows = result["methods"]
    base = next((r for r in rows if r["method"] == "nearest"), None)

    def number(value: float | None, digits: int) -> str:
        return "n/a" if value is None else f"{value:.{digits}f}"

    def change(row: dict, name: str) -> str:
        if base is None or row is base or not base[name] or row[name] is None:
            return ""
        return f" ({100 * (row[name] - base[name]) / abs(base[name]):+.1f} %)"

    lines = [
        f"Fill methods scored against the cloud-free truth on {result['dates_evaluated']} partly cloudy dates "
        "(reflectance; means over dates; % change against nearest):",
        "",
        "| method | RMSE | bias | unfilled % | seam |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['method']} | {number(row['rmse'], 4)}{change(row, 'rmse')} | {number(row['bias'], 4)} "
            f"| {number(row['unfilled_pct'], 2)} | {number(row['seam'], 4)}{change(row, 'seam')} |"
        )
    return "\n".join(lines)
