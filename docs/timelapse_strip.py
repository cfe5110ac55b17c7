"""Make docs/timelapse-strip.png, the README's picture of a timelapse: eight clear dates of the demo, March to November.

    .venv/bin/python docs/timelapse_strip.py

Offline and reproducible: the demo record is synthetic and generated the same way every time
(into $CLOUDCORE_CACHE_DIR, default ~/.cache/cloudcore, on first use).
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image

import cloudcore

OUT = Path(__file__).with_name("timelapse-strip.png")


def make_strip(out: Path = OUT) -> Path:
    bbox = ",".join(str(v) for v in cloudcore.DEMO_EXAMPLE_BBOX)
    made = cloudcore.timelapse(bbox, "2022-03-01", "2022-11-30", source="demo", max_obscured=10, width=300)
    Image.fromarray(made.sheet(count=8, columns=4)).save(out, optimize=True)
    return out


if __name__ == "__main__":
    print(make_strip())
