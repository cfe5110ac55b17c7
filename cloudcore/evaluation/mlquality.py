"""How good is the ML cloud mask? Two measurements on the real reference data.

(a) Agreement with QA_PIXEL (default flags: dilated, cirrus, cloud, shadow) on every real
    Landsat 8 Collection 2 Level-2 scene in the data folder, with the 6-band `l2a` model.
    These scenes are whole-scene thumbnails resampled (nearest) to about 450-600 m pixels,
    while the model was trained on about 30 m pixels: the numbers say how the two masks
    compare on these files, not how either performs at 30 m.
(b) Accuracy of the cloud class against the hand-drawn 38-Cloud label (255 = cloud,
    0 = clear) with the 4-band `l1c` model on top-of-atmosphere reflectance.

Nothing is tuned to the label: the numbers are reported as they come out.

Run: python -m cloudcore.mlquality [--data DIR]   (default $CLOUDCORE_REAL_DATA, else
../shared/data/real beside the repository).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rasterio.errors import NotGeoreferencedWarning

from ..errors import SettingsError
from ..masks.ml import agreement, ml_classes
from ..masks.qa import MaskPolicy, decode_qa, removed_mask
from ..product import parse_product_id
from ..settings import Settings

# A checkout keeps the shared reference data beside itself (../shared/data/real).
REPO = Path(__file__).resolve().parents[2]

# Landsat 8 OLI Collection 2 Level-2 file suffix per band key.
L2_BAND_FILES: dict[str, str] = {
    "blue": "SR_B2",
    "green": "SR_B3",
    "red": "SR_B4",
    "nir08": "SR_B5",
    "swir16": "SR_B6",
    "swir22": "SR_B7",
}
L2_SCENE_GLOBS = ("stactools-landsat-c2l2/assets*/*_QA_PIXEL.TIF", "rio-tiler-pds-c2l2/*_QA_PIXEL.TIF")

CLOUD38_FOLDER = "38cloud-sample"
CLOUD38_BANDS: dict[str, str] = {"blue": "blue", "green": "green", "red": "red", "nir08": "nir"}
CLOUD38_CLOUD = 255  # 38-Cloud ground truth: 255 = cloud, 0 = clear

# ref: Landsat 8 Data Users Handbook (LSDS-1574), "Conversion to TOA Reflectance":
# rho' = M_rho x Qcal + A_rho, with REFLECTANCE_MULT_BAND_n = 2.0E-05 and
# REFLECTANCE_ADD_BAND_n = -0.1 in every OLI Level-1 MTL; rho = rho' / sin(sun elevation).
L1_REFLECTANCE_MULT = 2.0e-5
L1_REFLECTANCE_ADD = -0.1
SUN_ELEVATION = re.compile(r'SUN_ELEVATION"?\s*[=:]\s*"?(-?\d+(?:\.\d+)?)')


def default_data_dir(settings: Settings) -> Path:
    """The `real_data` setting (CLOUDCORE_REAL_DATA), else ../shared/data/real beside the checkout."""
    return settings.real_data or REPO.parent / "shared" / "data" / "real"


def toa_reflectance(dn: np.ndarray, sun_elevation_deg: float | None = None) -> np.ndarray:
    """Landsat 8 OLI Level-1 top-of-atmosphere reflectance (float32) from DN.

    Without a sun elevation the result is rho' (no sun-angle correction).
    """
    rho = np.asarray(dn).astype(np.float32) * np.float32(L1_REFLECTANCE_MULT) + np.float32(L1_REFLECTANCE_ADD)
    if sun_elevation_deg is not None:
        rho /= np.float32(math.sin(math.radians(sun_elevation_deg)))
    return rho


def segmentation_scores(predicted: np.ndarray, truth: np.ndarray, counted: np.ndarray) -> dict[str, Any]:
    """Precision, recall, IoU and accuracy of a boolean prediction over the counted pixels."""
    p = predicted & counted
    t = truth & counted
    tp = int((p & t).sum())
    fp = int((p & ~t).sum())
    fn = int((~p & t).sum())
    total = int(counted.sum())

    def ratio(num: int, den: int) -> float | None:
        return round(num / den, 4) if den else None

    return {
        "pixels": total,
        "label_cloud_pct": round(100.0 * int(t.sum()) / total, 2) if total else None,
        "predicted_cloud_pct": round(100.0 * int(p.sum()) / total, 2) if total else None,
        "precision": ratio(tp, tp + fp),
        "recall": ratio(tp, tp + fn),
        "iou": ratio(tp, tp + fp + fn),
        "accuracy": ratio(total - fp - fn, total),
    }


def _read(path: Path) -> tuple[np.ndarray, float]:
    """Band 1 and the mean pixel size in CRS units."""
    with warnings.catch_warnings():
        # The 38-Cloud TIFs carry no georeferencing, by design of the dataset.
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(path) as ds:
            return ds.read(1), (abs(ds.res[0]) + abs(ds.res[1])) / 2.0


def find_l2_scenes(data_dir: Path) -> list[Path]:
    """QA_PIXEL files of the real Level-2 scenes, in a stable order."""
    return sorted(path for pattern in L2_SCENE_GLOBS for path in data_dir.glob(pattern))


def l2_agreement(qa_path: Path) -> dict[str, Any]:
    """QA_PIXEL (default flags) vs the ML mask on one Level-2 scene, over its valid pixels."""
    product_id = qa_path.name.removesuffix("_QA_PIXEL.TIF")
    platform = parse_product_id(product_id)["platform"]
    qa, pixel_m = _read(qa_path)
    names = list(L2_BAND_FILES)
    bands = np.stack([_read(qa_path.with_name(f"{product_id}_{L2_BAND_FILES[b]}.TIF"))[0] for b in names])
    valid = decode_qa(qa, platform).valid
    qa_removed = removed_mask(qa, platform, MaskPolicy())
    ml = ml_classes(bands, names, valid, level="l2")
    stats = agreement(qa_removed, ml.removed, np.ones_like(valid), valid)
    n = stats["pixels"] or 1
    return {
        "scene": product_id,
        "folder": qa_path.parent.name,
        "shape": list(qa.shape),
        "pixel_m": round(pixel_m),
        "model": "6-band l2a",
        "valid_pixels": stats["pixels"],
        "qa_removed_pct": round(100.0 * int((qa_removed & valid).sum()) / n, 2),
        "ml_removed_pct": round(100.0 * int((ml.removed & valid).sum()) / n, 2),
        "ml_cloud_pct": round(100.0 * int(ml.cloud.sum()) / n, 2),
        "ml_shadow_pct": round(100.0 * int(ml.shadow.sum()) / n, 2),
        **{k: v for k, v in stats.items() if k != "pixels"},
    }


def _sun_elevation(folder: Path) -> float | None:
    """SUN_ELEVATION from an MTL file (text or JSON) in `folder`, if there is one."""
    for path in sorted(folder.glob("*MTL*")):
        match = SUN_ELEVATION.search(path.read_text(errors="replace"))
        if match:
            return float(match.group(1))
    return None


def cloud38_accuracy(folder: Path) -> dict[str, Any]:
    """The ML cloud class vs the 38-Cloud hand-drawn label on the sample patch."""
    gt_path = next(folder.glob("gt_patch_*.TIF"))
    stem = gt_path.name.removeprefix("gt_")
    names = list(CLOUD38_BANDS)
    dn = np.stack([_read(folder / f"{CLOUD38_BANDS[b]}_{stem}")[0] for b in names])
    truth = _read(gt_path)[0] == CLOUD38_CLOUD
    sun_elevation = _sun_elevation(folder)  # None for the sample: it carries no MTL
    valid = np.all(dn != 0, axis=0)  # DN 0 is Level-1 fill
    ml = ml_classes(toa_reflectance(dn, sun_elevation), names, valid, level="l1")
    return {
        "patch": stem.removesuffix(".TIF"),
        "shape": list(truth.shape),
        "model": "4-band l1c",
        "reflectance": "DN x 2.0e-5 - 0.1 (Landsat 8 OLI Level-1 rescaling)",
        "sun_angle": (
            "no sun-angle correction applied (no MTL with SUN_ELEVATION in the sample)"
            if sun_elevation is None
            else f"divided by sin(sun elevation {sun_elevation} deg) from the MTL"
        ),
        **segmentation_scores(ml.cloud, truth, valid),
    }


def measure(data_dir: Path) -> dict[str, Any]:
    """Both measurements as one JSON-ready dict."""
    scenes = [l2_agreement(path) for path in find_l2_scenes(data_dir)]
    folder = data_dir / CLOUD38_FOLDER
    cloud38 = cloud38_accuracy(folder) if folder.is_dir() else None
    return {
        "qa_flags": sorted(MaskPolicy().flags),
        "l2_note": (
            "Level-2 scenes are whole-scene thumbnails resampled (nearest) to ~450-600 m pixels, "
            "not 30 m; the model was trained on ~30 m pixels."
        ),
        "l2_scenes": scenes,
        "cloud38": cloud38,
    }


def _fmt(value: Any) -> str:
    return "n/a" if value is None else f"{value}"


def to_markdown(result: dict[str, Any]) -> str:
    """Markdown tables of `measure`'s result."""
    lines = [
        "### ML mask (ukis-csmask 6-band l2a) vs QA_PIXEL "
        f"({', '.join(result['qa_flags'])}), valid pixels of whole scenes",
        "",
        f"{result['l2_note']}",
        "",
        "| scene | pixel | QA removes % | ML removes % (cloud / shadow) | agree % | IoU | QA only % | ML only % |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in result["l2_scenes"]:
        lines.append(
            f"| {s['scene']} | {s['pixel_m']} m | {s['qa_removed_pct']} | "
            f"{s['ml_removed_pct']} ({s['ml_cloud_pct']} / {s['ml_shadow_pct']}) | "
            f"{_fmt(s['agree_pct'])} | {_fmt(s['iou'])} | {_fmt(s['qa_only_pct'])} | {_fmt(s['ml_only_pct'])} |"
        )
    c = result["cloud38"]
    if c is None:
        lines += ["", "38-Cloud sample not found: accuracy against the hand-drawn label not measured."]
    else:
        lines += [
            "",
            f"### ML cloud class (ukis-csmask {c['model']}) vs the 38-Cloud hand-drawn label",
            "",
            f"Patch {c['patch']} ({c['shape'][0]}x{c['shape'][1]} px, 30 m, Collection 1 L1TP DN); "
            f"TOA reflectance = {c['reflectance']}; {c['sun_angle']}.",
            "",
            "| pixels | label cloud % | ML cloud % | precision | recall | IoU | accuracy |",
            "|---|---|---|---|---|---|---|",
            f"| {c['pixels']} | {c['label_cloud_pct']} | {c['predicted_cloud_pct']} | {_fmt(c['precision'])} | "
            f"{_fmt(c['recall'])} | {_fmt(c['iou'])} | {_fmt(c['accuracy'])} |",
        ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cloudcore.mlquality", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help="real reference data folder")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as err:
        print(f"cloudcore.mlquality: {err}", file=sys.stderr)
        return 2
    data_dir = args.data or default_data_dir(settings)
    if not data_dir.is_dir():
        print(f"Real data folder {data_dir} not found: pass --data DIR or set CLOUDCORE_REAL_DATA.", file=sys.stderr)
        return 2
    started = time.perf_counter()
    result = measure(data_dir)
    print(to_markdown(result))
    print()
    print(json.dumps(result, indent=2))
    print(f"measured in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
