"""Every page runs headless (AppTest) without an exception, with the view seeded from the URL."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cloudcore.demo import DEMO_EXAMPLE_BBOX

APP = str(Path(__file__).resolve().parents[2] / "app.py")
BBOX = ",".join(f"{v:.5f}" for v in DEMO_EXAMPLE_BBOX)


@pytest.fixture(autouse=True)
def _private_demo_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("CLOUDCORE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "demo-cache"))


def _app(**params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    for key, value in params.items():
        at.query_params[key] = value
    return at


def _texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [m.value for m in at.caption] + [e.value for e in at.error]
    parts += [w.value for w in at.warning] + [i.value for i in at.info] + [m.label for m in at.metric] + [m.value for m in at.metric]
    return "\n".join(str(p) for p in parts)


def test_explore_on_the_demo_measures_every_date():
    at = _app(source="demo", bbox=BBOX).run()
    assert not at.exception, at.exception
    labels = {m.label: m.value for m in at.metric}
    assert any(label.startswith("Dates under") for label in labels), labels
    total = next(v for k, v in labels.items() if k.startswith("Dates under")).split(" of ")[1]
    assert int(total) > 60
    assert at.query_params["source"] == ["demo"] or at.query_params["source"] == "demo"


def test_compare_shows_the_fill_of_the_selected_date():
    at = _app(source="demo", bbox=BBOX).run()
    picker = [s for s in at.selectbox if s.label.startswith("Selected date")]
    dates = picker[0].options if picker else []
    assert dates, "explore offers dates to pick"
    at = _app(source="demo", bbox=BBOX, date=dates[len(dates) // 2].split(" ")[0])
    at.run()
    at.switch_page("pages/compare.py").run()
    assert not at.exception, at.exception
    labels = [m.label for m in at.metric]
    assert "Filled from other dates" in labels and "Still unfilled" in labels


def test_about_page_runs():
    at = _app(source="demo", bbox=BBOX).run()
    at.switch_page("pages/about.py").run()
    assert not at.exception
    assert "Obscured %" in _texts(at)


def test_unreachable_planetary_computer_is_one_message_with_a_way_out():
    at = _app(source="planetary-computer", bbox="8.45,47.2,8.6,47.3").run()
    assert not at.exception, at.exception
    assert any("did not answer" in e.value for e in at.error), _texts(at)
    assert any("demo" in b.label for b in at.button)


def test_a_broken_bbox_in_the_url_is_a_message_not_a_crash():
    at = _app(source="demo", bbox="10,95,11,96").run()
    assert not at.exception
    # An invalid bbox in the URL falls back or is reported; never an exception.
    assert at.warning or at.metric


def test_a_folder_path_in_the_url_is_refused_not_read():
    at = _app(source="/etc", bbox="8.45,47.2,8.6,47.3").run()
    assert not at.exception, at.exception
    assert any("command line" in w.value for w in at.warning), _texts(at)


def test_compare_with_the_ml_mask_shows_where_the_masks_disagree():
    # A short range: the explore page runs first and measures every date in range with the model.
    at = _app(source="demo", bbox=BBOX, date="2022-10-12", mask="qa+ml", method="nearest-matched",
              start="2022-10-04", end="2022-10-13").run()
    at.switch_page("pages/compare.py").run()
    assert not at.exception, at.exception
    assert any(m.label == "Masks agree on" for m in at.metric), _texts(at)
    assert at.query_params["mask"] in ("qa+ml", ["qa+ml"])


@pytest.mark.parametrize("kind", ["refused", "blackhole"])
def test_an_unreachable_stac_api_is_one_message_in_the_page_within_5_s(kind, monkeypatch):
    import time

    from tests.servers.silence import unreachable

    with unreachable(kind) as url:
        # A loopback API opens only when the server's operator lists it (a link alone may not).
        monkeypatch.setenv("CLOUDCORE_UI_STAC_HOSTS", url.removeprefix("http://"))
        _app(source=url, bbox=BBOX).run()  # the first run imports the page's libraries: not the wait we time
        started = time.perf_counter()
        at = _app(source=url, bbox=BBOX).run()
        seconds = time.perf_counter() - started
    assert not at.exception, at.exception
    messages = [e.value for e in at.error]
    assert any("could not be reached" in m or "did not answer" in m for m in messages), _texts(at)
    assert seconds < 5.0, f"the page took {seconds:.1f} s to say the API cannot be reached"
