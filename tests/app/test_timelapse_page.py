"""The Timelapse page headless (AppTest): the frames it announces are the dates the library's
`cover` puts under the threshold, and its two settings live in the page address."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import cloudcore
from ui.url_params import settings_from_params

APP = str(Path(__file__).resolve().parents[2] / "app.py")
BBOX = ",".join(f"{v:.5f}" for v in cloudcore.DEMO_EXAMPLE_BBOX)


@pytest.fixture(autouse=True)
def _private_demo_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("CLOUDCORE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "demo-cache"))


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    settings = cloudcore.Settings(cache_dir=tmp_path_factory.getbasetemp() / "demo-cache")
    return cloudcore.cover(BBOX, cloudcore.DEMO_START, cloudcore.DEMO_END, source="demo", settings=settings)


def _timelapse_page(**params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    for key, value in {"source": "demo", "bbox": BBOX, **params}.items():
        at.query_params[key] = value
    at.run()
    at.switch_page("pages/timelapse.py").run()
    assert not at.exception, at.exception
    return at


def _announced(at: AppTest) -> tuple[int, str, str]:
    text = next(c.value for c in at.caption if "frames**" in c.value)
    count, first, last = re.match(r"\*\*(\d+) frames\*\*, (\S+) to (\S+):", text).groups()
    return int(count), first, last


@pytest.mark.parametrize("threshold", [0])
def test_the_frames_announced_are_the_dates_cover_puts_under_the_threshold(table, threshold):
    at = _timelapse_page(thr=str(threshold))
    clear = sorted(d.strftime("%Y-%m-%d") for d in table.index[table["obscured_pct"] <= threshold])
    assert _announced(at) == (len(clear), clear[0], clear[-1])
    assert [b.label for b in at.button if b.key == "timelapse_action"] == [f"Make the timelapse ({len(clear)} frames)"]


def test_filled_frames_at_100_make_every_date_a_frame_and_stay_in_the_address(table):
    at = _timelapse_page(thr="100", filled="1", fps="7")
    assert _announced(at)[0] == len(set(table.index))
    assert at.toggle(key="tl_filled").value is True and at.slider(key="tl_fps").value == 7
    params = {k: (v[0] if isinstance(v, list) else v) for k, v in at.query_params.items()}
    assert params["filled"] == "1" and params["fps"] == "7"


@pytest.mark.parametrize(
    ("params", "filled", "fps", "note"),
    [({"filled": "1", "fps": "5"}, True, 5, None),
     ({}, False, 3, None),
     ({"filled": "yes"}, False, 3, "filled is none of 0, 1"),
     ({"fps": "99"}, False, 10, "fps lies outside 1..10"),
     ({"fps": "fast"}, False, 3, "fps is not a number")],
)
def test_the_timelapse_settings_from_a_link(params, filled, fps, note):
    settings, notes = settings_from_params(params)
    assert (settings["tl_filled"], settings["tl_fps"]) == (filled, fps)
    assert (note is None and not notes) or any(note in n for n in notes)
