"""P2, the fill step: a 1,000 x 1,000 px target with 10 candidate dates and 6 bands.

The dates are small COGs (six Collection 2 Level-2 bands as DN, plus QA_PIXEL) written once
into the cache. `python -m bench.fillcase --dir DIR` reads the target and its donors with
`gapfill.inputs.read_fill_inputs` (not timed), then times `gapfill.image.fill_inputs` with the default
method and reports the process's peak memory during that step: Linux's peak-RSS mark
(VmHWM) is reset after the reads (`/proc/self/clear_refs`), so the figure is the highest
the whole process stood at while filling, reads' buffers included.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

import numpy as np

SIZE_PX = 1000
DATES = 10
TARGET_INDEX = 4
WINDOW_DAYS = 60
BANDS = ("red", "green", "blue", "nir08", "swir16", "swir22")
# Surface reflectance -> Collection 2 Level-2 DN: DN = (reflectance + 0.2) / 2.75e-5.
SR_SCALE, SR_OFFSET = 2.75e-5, -0.2
# Typical reflectance of (vegetation, bare soil) and of cloud tops, per band.
GROUND = np.array([[0.04, 0.07, 0.03, 0.35, 0.18, 0.08], [0.20, 0.16, 0.12, 0.28, 0.33, 0.27]], dtype=np.float32)
CLOUD_TOP = np.array([0.55, 0.56, 0.58, 0.53, 0.42, 0.30], dtype=np.float32)


def _dn(reflectance: np.ndarray) -> np.ndarray:
    return np.clip(np.round((reflectance - SR_OFFSET) / SR_SCALE), 1, 65535).astype(np.uint16)


def write_dates(folder: Path, log=print) -> Path:
    """The 10 dates' band and QA COGs, and scenes.json describing them (made once)."""
    import rasterio
    import rasterio.shutil
    from rasterio.io import MemoryFile

    from .data import COG_OPTIONS, EPSG, ORIGIN, PIXEL_M
    from .synth import CLEAR, CLOUD, DILATED, SHADOW_BITS, fractal, upsample

    marker = folder / "scenes.json"
    if marker.exists():
        return marker
    folder.mkdir(parents=True, exist_ok=True)
    log(f"generating the fill case ({DATES} dates x 7 bands of {SIZE_PX} px) into {folder} (once)")
    size = SIZE_PX + 48  # a margin around the AOI, as a real scene has
    transform = rasterio.Affine(PIXEL_M, 0, ORIGIN[0], 0, -PIXEL_M, ORIGIN[1])
    rng = np.random.default_rng(5)
    soil = (upsample(fractal(rng, (size // 4, size // 4), beta=3.0), (size, size)) > 0).astype(np.float32)
    ground = GROUND[0][:, None, None] * (1 - soil) + GROUND[1][:, None, None] * soil
    scenes = []
    for i in range(DATES):
        date = dt.date(2023, 5, 2) + dt.timedelta(days=8 * i)
        cover = 0.4 if i == TARGET_INDEX else float(rng.uniform(0.05, 0.6))
        field = upsample(fractal(rng, (size // 4, size // 4), beta=3.0), (size, size))
        threshold = float(np.quantile(field, 1 - cover))
        cloud = field >= threshold
        dilated = ~cloud & (field >= threshold - 0.15)
        shadow = np.roll(cloud, (20, -25), axis=(0, 1)) & ~cloud & ~dilated
        brightness = np.float32(rng.uniform(0.9, 1.12))  # sun angle and haze differ by date
        opacity = np.clip((field - threshold + 0.3) / 0.6, 0, 1)[None]
        reflectance = ground * brightness * (1 - opacity) + CLOUD_TOP[:, None, None] * opacity
        reflectance[:, shadow] *= 0.45
        qa = np.full((size, size), CLEAR, dtype=np.uint16)
        qa[shadow] |= SHADOW_BITS
        qa[dilated] = DILATED
        qa[cloud] = CLOUD
        scene_id = f"LC08_L2SP_190027_{date:%Y%m%d}_{date + dt.timedelta(days=9):%Y%m%d}_02_T1"
        assets = {}
        for name, array in [("qa_pixel", qa)] + [(b, _dn(reflectance[k])) for k, b in enumerate(BANDS)]:
            path = folder / f"{scene_id}_{name}.TIF"
            profile = dict(driver="GTiff", width=size, height=size, count=1, dtype="uint16",
                           crs=f"EPSG:{EPSG}", transform=transform, nodata=1 if name == "qa_pixel" else 0)
            with MemoryFile() as memory:
                with memory.open(**profile) as dataset:
                    dataset.write(array, 1)
                with memory.open() as source:
                    rasterio.shutil.copy(source, path, driver="COG", **COG_OPTIONS)
            assets[name] = path.name
        scenes.append({"id": scene_id, "date": date.isoformat(), "assets": assets})
    centre = (ORIGIN[0] + size * PIXEL_M / 2, ORIGIN[1] - size * PIXEL_M / 2)
    marker.write_text(json.dumps({"scenes": scenes, "centre": centre, "target": scenes[TARGET_INDEX]["date"]}, indent=1))
    return marker


def _hwm_mb() -> float:
    """Peak resident memory since the last reset (VmHWM), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def _warm_up(method: str) -> None:
    """Run the method once on a tiny grid, so the libraries it loads on first use (scipy.stats for
    a matched fit: about 0.5 s) are loaded before the clock starts: imports are not the work timed."""
    import numpy as np

    from cloudcore.gapfill.base import Layer
    from cloudcore.gapfill.kernel import fill_gaps

    rng = np.random.default_rng(0)
    shape = (6, 40, 40)
    usable = np.ones(shape[1:], bool)
    usable[:10] = False
    target = Layer(dt.date(2023, 5, 2), rng.integers(7000, 20000, shape, dtype=np.uint16), usable)
    donor = Layer(dt.date(2023, 5, 10), rng.integers(7000, 20000, shape, dtype=np.uint16), np.ones(shape[1:], bool))
    fill_gaps(target, [donor], np.ones(shape[1:], bool), method=method)


def run(folder: Path) -> dict:
    """Read once, fill once (timed); the figures as a dict."""
    from cloudcore.gapfill.image import fill_inputs
    from cloudcore.gapfill.inputs import read_fill_inputs
    from cloudcore.gapfill.registry import DEFAULT_METHOD
    from cloudcore.geo.aoi import parse_aoi
    from cloudcore.settings import Settings
    from cloudcore.sources.local import LocalScenes
    from cloudcore.sources.scene import Scene

    from .data import EPSG, PIXEL_M

    meta = json.loads((folder / "scenes.json").read_text())
    scenes = [
        Scene(
            id=s["id"], datetime=dt.datetime.fromisoformat(s["date"] + "T10:00:00+00:00"), platform="landsat-8",
            wrs_path=190, wrs_row=27, scene_cloud_pct=None, land_cloud_pct=None, bbox_lonlat=None,
            geometry_lonlat=None, assets={k: str(folder / v) for k, v in s["assets"].items()}, epsg=EPSG,
        )
        for s in meta["scenes"]
    ]
    source = LocalScenes()
    source.name, source.scenes = "bench-fill", scenes
    from pyproj import Transformer

    to_lonlat = Transformer.from_crs(f"EPSG:{EPSG}", "EPSG:4326", always_xy=True)
    cx, cy = meta["centre"]
    # grid_for_aoi pads a pixel on each side; 1 m less keeps float error from adding a 1,001st.
    h = (SIZE_PX - 2) * PIXEL_M / 2 - 1.0
    ring = [list(to_lonlat.transform(cx + dx, cy + dy)) for dx, dy in ((-h, -h), (h, -h), (h, h), (-h, h), (-h, -h))]
    settings = Settings.from_env()
    aoi = parse_aoi(json.dumps({"type": "Polygon", "coordinates": [ring]}), settings=settings)

    inputs = read_fill_inputs(
        source, aoi, dt.date.fromisoformat(meta["target"]), WINDOW_DAYS, all_donors=True, settings=settings
    )
    _warm_up(DEFAULT_METHOD)
    rss_before = _rss_mb()
    Path("/proc/self/clear_refs").write_text("5")  # from here VmHWM is the fill step's peak
    started = time.perf_counter()
    filled = fill_inputs(inputs, DEFAULT_METHOD)
    wall = time.perf_counter() - started
    peak = _hwm_mb()
    return {
        "wall_s": round(wall, 3),
        "peak_rss_mb": peak,
        "rss_before_fill_mb": rss_before,
        "fill_increase_mb": round(peak - rss_before, 1),
        "method": DEFAULT_METHOD,
        "grid_px": list(inputs.grid.shape),
        "donors": len(inputs.donors),
        "bands": int(inputs.target.bands.shape[0]),
        "summary": filled.summary(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="P2: time the fill step on data read beforehand.")
    parser.add_argument("--dir", required=True, type=Path, help="the fill case's folder (made when missing)")
    args = parser.parse_args(argv)
    write_dates(args.dir, log=lambda text: print(text, file=sys.stderr))
    json.dump(run(args.dir), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
