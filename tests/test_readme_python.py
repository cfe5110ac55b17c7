"""The README's Python section runs as written.

Its code blocks run in order, in one fresh interpreter, on the demo record. The only change:
the Planetary Computer STAC API URL of the pystac-client example points at a real STAC API on
127.0.0.1 serving the demo's items (tests never reach past loopback).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import cloudcore
from tests.demo_record import DEMO_AOI, demo_cache_root, demo_settings  # noqa: F401 - fixtures
from tests.stac_server import running_stac_api

REPO = Path(__file__).resolve().parents[1]
PC_URL = "https://planetarycomputer.microsoft.com/api/stac/v1"


def python_section() -> str:
    text = (REPO / "README.md").read_text()
    start = text.index("\n## Python\n")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", python_section(), re.S)


def test_the_section_shows_the_three_calls_and_your_own_search():
    code = "\n".join(python_blocks())
    for call in ("cloudcore.cover(", "cloudcore.fill(", "cloudcore.search(", ".plot(", "rio.to_raster(",
                 "Client.open(", "item_collection()", "GeoDataFrame("):
        assert call in code, call


def test_the_python_section_runs_as_written(demo_settings, demo_cache_root, tmp_path):
    items = cloudcore.search(DEMO_AOI, "2022-06-01", "2022-08-31", source="demo", settings=demo_settings)
    served = []
    for item in items:
        record = item.to_dict()
        record["collection"] = "landsat-c2-l2"
        served.append(record)
    code = "\n".join(python_blocks())
    assert code.count(PC_URL) == 1
    with running_stac_api(served) as url:
        script = tmp_path / "readme_python.py"
        script.write_text(code.replace(PC_URL, url))
        env = {**os.environ, "CLOUDCORE_CACHE_DIR": str(demo_cache_root), "MPLBACKEND": "Agg"}
        done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    # What the blocks say they make, they make.
    assert "obscured_pct" in done.stdout and "clear dates of" in done.stdout
    assert "EPSG:32616" in done.stdout and "of the grid filled, from" in done.stdout
    assert (tmp_path / "obscured.png").stat().st_size > 5_000
    assert (tmp_path / "filled.tif").stat().st_size > 50_000
    assert "scenes; LC0" in done.stdout
    measured = re.search(r"^(\d+) dates measured from your own search$", done.stdout, re.M)
    assert measured and int(measured.group(1)) > 10
