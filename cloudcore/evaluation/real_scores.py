"""The figures of the real-data evaluation (`evaluation.real`): pure numpy in, plain numbers out.

A `Tally` pools the scored pixels of every target one method filled, so each figure weighs
every stamped pixel the same (a target with a large mask counts for more than one with a
small mask). Errors are filled - truth in surface reflectance (reflectance = DN x SR_SCALE +
SR_OFFSET), over the scored pixels a donor filled:

- `rmse`, `mae`, `bias`: over those pixels and the six bands; `per_band`: the same per band.
- `unfilled_pct`: scored pixels no donor could fill, % of the scored pixels.
- `leaked_px`: scored pixels whose provenance is the target date itself. A stamped pixel is
  unusable on the target, so any such pixel is a bug (the target's true value shown as a fill).
- `uncertainty` (only for a method whose `FillResult` carries one): Spearman's rank
  correlation between the predicted uncertainty of a pixel and its actual absolute error,
  the mean over the six bands of |filled - truth| (the uncertainty is one number per pixel),
  and mean(predicted) / mean(actual), over the filled scored pixels whose prediction is finite.

`format_real_table` shows the result of `evaluate_real` as markdown tables.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..product import SR_BANDS, SR_OFFSET, SR_SCALE

NO_FIGURE = "n/a"


def to_reflectance(dn: np.ndarray) -> np.ndarray:
    """Collection 2 Level-2 DN as surface reflectance, float64."""
    return dn.astype(np.float64) * SR_SCALE + SR_OFFSET


class Tally:
    """The pooled errors of one method over the targets it filled."""

    def __init__(self, bands: int = len(SR_BANDS)) -> None:
        self.sum_sq = np.zeros(bands)
        self.sum_abs = np.zeros(bands)
        self.sum = np.zeros(bands)
        self.filled_px = 0
        self.scored_px = 0
        self.leaked_px = 0
        self._predicted: list[np.ndarray] = []
        self._actual: list[np.ndarray] = []
        self.has_uncertainty = False

    def add(
        self,
        filled: np.ndarray,
        truth: np.ndarray,
        scored: np.ndarray,
        provenance: np.ndarray,
        target_code: int,
        uncertainty: np.ndarray | None = None,
    ) -> dict[str, float | None]:
        """Add one filled target; return its own `rmse`, `mae`, `bias` and `unfilled_pct`.

        Args:
            filled: (B, H, W) DN the method wrote.
            truth: (B, H, W) DN of the clear target as observed.
            scored: (H, W) stamped pixels with a true value on the target.
            provenance: (H, W) YYYYMMDD each value came from, 0 where unfilled.
            target_code: The target date's YYYYMMDD.
            uncertainty: (H, W) predicted absolute error in reflectance, or None.
        """
        done = scored & (provenance != 0)
        error = to_reflectance(filled[:, done]) - to_reflectance(truth[:, done])
        self.sum_sq += (error**2).sum(axis=1)
        self.sum_abs += np.abs(error).sum(axis=1)
        self.sum += error.sum(axis=1)
        scored_px, filled_px = int(scored.sum()), int(done.sum())
        self.scored_px += scored_px
        self.filled_px += filled_px
        self.leaked_px += int((scored & (provenance == target_code)).sum())
        if uncertainty is not None:
            self.has_uncertainty = True
            self._predicted.append(np.asarray(uncertainty, dtype=np.float64)[done])
            self._actual.append(np.abs(error).mean(axis=0))
        return {
            "rmse": _rounded(math.sqrt(float((error**2).mean()))) if filled_px else None,
            "mae": _rounded(float(np.abs(error).mean())) if filled_px else None,
            "bias": _rounded(float(error.mean())) if filled_px else None,
            "unfilled_pct": round(100.0 * (scored_px - filled_px) / scored_px, 2) if scored_px else None,
        }

    def summary(self) -> dict[str, Any]:
        """The pooled figures (None where no pixel gave them)."""
        n = self.filled_px
        values = n * len(self.sum)

        def band(i: int) -> dict[str, float | None]:
            return {
                "rmse": _rounded(math.sqrt(self.sum_sq[i] / n)) if n else None,
                "mae": _rounded(self.sum_abs[i] / n) if n else None,
                "bias": _rounded(self.sum[i] / n) if n else None,
            }

        return {
            "rmse": _rounded(math.sqrt(self.sum_sq.sum() / values)) if n else None,
            "mae": _rounded(self.sum_abs.sum() / values) if n else None,
            "bias": _rounded(self.sum.sum() / values) if n else None,
            "unfilled_pct": round(100.0 * (self.scored_px - n) / self.scored_px, 2) if self.scored_px else None,
            "scored_px": self.scored_px,
            "leaked_px": self.leaked_px,
            "per_band": {name: band(i) for i, name in enumerate(SR_BANDS[: len(self.sum)])},
            "uncertainty": self._calibration() if self.has_uncertainty else None,
        }

    def _calibration(self) -> dict[str, float | int | None]:
        predicted = np.concatenate(self._predicted) if self._predicted else np.empty(0)
        actual = np.concatenate(self._actual) if self._actual else np.empty(0)
        finite = np.isfinite(predicted)
        predicted, actual = predicted[finite], actual[finite]
        return {
            "spearman": spearman(predicted, actual),
            "mean_ratio": _rounded(predicted.mean() / actual.mean(), 3) if actual.size and actual.mean() > 0 else None,
            "px": int(predicted.size),
        }


def spearman(predicted: np.ndarray, actual: np.ndarray) -> float | None:
    """Spearman's rank correlation, or None when it is undefined (under 3 pixels, or a constant)."""
    if predicted.size < 3 or np.ptp(predicted) == 0 or np.ptp(actual) == 0:
        return None
    from scipy.stats import spearmanr  # loaded only when a method predicts its uncertainty

    rho = float(spearmanr(predicted, actual).statistic)
    return round(rho, 3) if math.isfinite(rho) else None


def with_change_against(rows: list[dict[str, Any]], base_method: str = "nearest") -> None:
    """Add `rmse_vs_nearest_pct` to each row: its RMSE change against `base_method`'s, in %."""
    base = next((r for r in rows if r["method"] == base_method), None)
    for row in rows:
        change = None
        if base is not None and base["rmse"] and row["rmse"] is not None:
            change = round(100.0 * (row["rmse"] - base["rmse"]) / base["rmse"], 1)
        row["rmse_vs_nearest_pct"] = change


def _rounded(value: float, digits: int = 5) -> float:
    return round(float(value), digits)


# --- the table ---------------------------------------------------------------------------------


def format_real_table(result: dict[str, Any]) -> str:
    """The result of `evaluate_real` as markdown: per variant, the methods, then RMSE per band."""
    lines = [
        f"Real data: {result['data']} ({result['dates_read']} dates, a {result['window_px'][0]} x "
        f"{result['window_px'][1]} px window, mask {result['mask']}, donors within {result['window_days']} days). "
        "Reflectance, pooled over the stamped pixels of every target.",
    ]
    for key in ("cloud", "slc_off"):
        lines += ["", *_variant_lines(result[key])]
    return "\n".join(lines)


def _variant_lines(variant: dict[str, Any]) -> list[str]:
    head = f"{variant['title']}: {variant['description']}"
    if not variant["methods"]:
        return [head, "", f"Not measured: {variant['note']}"]
    lines = [
        f"{head} {len(variant['targets'])} targets, {variant['scored_px']:,} px scored.",
        "",
        "| method | RMSE | MAE | bias | unfilled % | RMSE vs nearest | uncertainty rho | mean ratio |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in variant["methods"]:
        calibration = row["uncertainty"] or {}
        change = row["rmse_vs_nearest_pct"]
        lines.append(
            f"| {row['method']} | {_number(row['rmse'], 4)} | {_number(row['mae'], 4)} | {_number(row['bias'], 4)} "
            f"| {_number(row['unfilled_pct'], 2)} | {_change(row['method'], change)} "
            f"| {_number(calibration.get('spearman'), 2)} | {_number(calibration.get('mean_ratio'), 2)} |"
        )
    lines += ["", "RMSE per band:", "", "| method | " + " | ".join(SR_BANDS) + " |", "|---|" + "---:|" * len(SR_BANDS)]
    for row in variant["methods"]:
        lines.append(
            f"| {row['method']} | " + " | ".join(_number(row["per_band"][b]["rmse"], 4) for b in SR_BANDS) + " |"
        )
    leaked = [f"{row['method']} ({row['leaked_px']:,} px)" for row in variant["methods"] if row["leaked_px"]]
    lines += [
        "",
        f"Kept from the target at a stamped pixel (must be none): {', '.join(leaked)}." if leaked
        else "No stamped pixel was kept from the target date by any method (provenance checked).",
    ]
    return lines


def _change(method: str, change: float | None) -> str:
    if method == "nearest":
        return "(base)"
    return NO_FIGURE if change is None else f"{change:+.1f} %"


def _number(value: float | None, digits: int) -> str:
    return NO_FIGURE if value is None else f"{value:.{digits}f}"
