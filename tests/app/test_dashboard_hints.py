"""The dashboard adds its own hints to library errors, and lists the registry's fill methods."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

import cloudcore
from ui.feedback import message_for

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def test_an_error_about_an_argument_says_where_the_dashboard_sets_it():
    level, text = message_for(cloudcore.InvalidAOIError("The AOI is empty: give a polygon."))
    assert level == "warning" and text.endswith("upload GeoJSON beside it.")
    _, text = message_for(cloudcore.InvalidInputError("Unknown fill method 'x'.", parameter="method"))
    assert "under Gap filling in the sidebar" in text
    _, text = message_for(cloudcore.SourceUnreachableError("No answer."))
    assert "the demo works offline" in text and "--source" not in text
    _, text = message_for(cloudcore.InvalidInputError("Something else."))
    assert text == "A setting needs a change. Something else."


def test_the_about_page_lists_every_fill_method_from_the_registry(monkeypatch, tmp_path):
    monkeypatch.setenv("CLOUDCORE_CACHE_DIR", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["source"] = "demo"
    at.run()
    at.switch_page("pages/about.py").run()
    assert not at.exception
    text = "\n".join(m.value for m in at.markdown)
    for name, description, _ in cloudcore.describe_methods():
        assert f"`{name}`" in text and description in text
    assert f"`{cloudcore.DEFAULT_FILL_METHOD}` (the default)" in text
