"""Where a filled date's pixels came from, one row per source date: the summary CSV of a fill.

Shares are of the AOI's pixels, so the observed row, the donor rows and the final `unfilled`
row add up to 100 %: every AOI pixel was kept from the target date, filled from exactly one
donor (the date its provenance names), or left unfilled. Each row also carries the request
(target date, platform, scenes, method, mask, window, source), so a row read on its own, or
a file of several fills concatenated, still says what it belongs to.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np

from ..io.export import rows_to_csv
from ..product import SR_OFFSET, SR_SCALE, date_code
from .base import Correction
from .metadata import fill_metadata

if TYPE_CHECKING:
    from .image import FilledImage

SHARE_DECIMALS = 3
"""Shares are given to 0.001 % (`pixels` is exact), rounded so that they add up to 100 exactly."""
REQUEST_COLUMNS = ("target_date", "platform", "scene_ids", "method", "mask", "window_days", "source")
"""The columns that repeat the request on every row."""


def fill_summary_columns(band_names: tuple[str, ...] | list[str]) -> list[str]:
    """The summary's columns, in order, for an image with these band names."""
    return [
        "date", "role", "days_from_target", "share_of_area_pct", "pixels",
        *(f"gain_{band}" for band in band_names), *(f"offset_{band}" for band in band_names), "correction_note",
        *REQUEST_COLUMNS,
    ]


def fill_summary_rows(image: FilledImage) -> list[dict[str, Any]]:
    """One row per source date of the filled picture, in date order, then one `unfilled` row.

    Columns (`fill_summary_columns`): `date` (YYYY-MM-DD; empty on the unfilled row); `role`
    ("observed" for the target date's own kept pixels, "donor", or "unfilled");
    `days_from_target`; `share_of_area_pct` and `pixels` (AOI pixels this date supplied; the
    shares sum to 100); `gain_<band>` and `offset_<band>` (the colour correction applied to a
    donor, offsets in surface reflectance; empty when none was applied) and `correction_note`
    (why none was, when a method tried); then the request, repeated: `target_date`,
    `platform`, `scene_ids` (space-separated), `method`, `mask`, `window_days`, `source`.

    A donor that contributed to a blend (median) but names no pixel's provenance has a row with
    0 pixels. Shares are empty for an AOI of no pixels.
    """
    result, inside = image.result, np.asarray(image.inside, dtype=bool)
    inside_px = int(inside.sum())
    codes, code_counts = np.unique(result.provenance[inside], return_counts=True)
    pixels = {int(code): int(count) for code, count in zip(codes, code_counts)}
    target_code = date_code(image.date)
    corrections = {c.date: c for c in result.corrections}
    dates = {image.date, *result.donors_used, *(_code_date(code) for code in pixels if code)}

    ordered = sorted(dates)
    counts = [pixels.get(date_code(day), 0) for day in ordered] + [pixels.get(0, 0)]
    shares = _shares(counts, inside_px)
    request = _request_columns(image)
    rows = [
        {
            "date": day.isoformat(),
            "role": "observed" if date_code(day) == target_code else "donor",
            "days_from_target": (day - image.date).days,
            "share_of_area_pct": share,
            "pixels": count,
            **_correction_columns(corrections.get(day), image.band_names),
            **request,
        }
        for day, count, share in zip(ordered, counts, shares)
    ]
    rows.append({"date": None, "role": "unfilled", "days_from_target": None, "share_of_area_pct": shares[-1],
                 "pixels": counts[-1], **request})
    return rows


def fill_summary_csv(image: FilledImage) -> str:
    """`fill_summary_rows` as CSV text, with a header of `fill_summary_columns`."""
    return rows_to_csv(fill_summary_rows(image), fill_summary_columns(image.band_names))


def _shares(counts: list[int], total: int) -> list[float | None]:
    """Percentages of `total` to SHARE_DECIMALS that add up to exactly 100 (largest remainders
    round up), so no row is off by more than one last digit; None each when `total` is 0."""
    if not total:
        return [None] * len(counts)
    units = 100 * 10**SHARE_DECIMALS
    exact = [count * units / total for count in counts]
    whole = [int(value) for value in exact]
    by_remainder = sorted(range(len(counts)), key=lambda i: whole[i] - exact[i])  # largest remainder first
    for i in by_remainder[: units - sum(whole)]:
        whole[i] += 1
    return [round(value / 10**SHARE_DECIMALS, SHARE_DECIMALS) for value in whole]


def _request_columns(image: FilledImage) -> dict[str, Any]:
    text = fill_metadata(image)
    return {
        "target_date": image.date.isoformat(),
        "platform": image.platform,
        "scene_ids": text.get("scenes"),
        "method": text["method"],
        "mask": text.get("mask"),
        "window_days": text.get("window_days"),
        "source": text.get("source"),
    }


def _correction_columns(correction: Correction | None, band_names: tuple[str, ...]) -> dict[str, Any]:
    if correction is None:
        return {}
    if correction.gains is None:  # tried and not applied: say why
        return {"correction_note": correction.reason}
    offsets = correction.offsets_reflectance(SR_SCALE, SR_OFFSET) or ()
    return {
        **{f"gain_{band}": round(gain, 6) for band, gain in zip(band_names, correction.gains)},
        **{f"offset_{band}": round(offset, 6) for band, offset in zip(band_names, offsets)},
    }


def _code_date(code: int) -> dt.date:
    """The date of a YYYYMMDD provenance code."""
    return dt.date(code // 10_000, code // 100 % 100, code % 100)
