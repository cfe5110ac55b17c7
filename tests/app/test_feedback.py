"""What the dashboard says about an error speaks to its visitor, never of the server's variables.

Each library message that tells its reader to change a CLOUDCORE_* variable is produced here by
the real function a page request reaches, with small limits or a silent server, and the page's
text for it is checked: the number and the fix stay, the variable and any CLI flag go, the limit
is said to be this server's, and the full message goes to the operator's log.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

import cloudcore
from cloudcore import InvalidAOIError, InvalidInputError, Settings, SettingsError, SourceUnreachableError
from cloudcore.limits import check_date_span
from cloudcore.sources import stac
from cloudcore.sources.signing import sign_href_with_deadline
from cloudcore.sources.stac import StacSource
from tests.stac_server import outcome_within, silent_server
from ui import config, uploads
from ui.feedback import MISCONFIGURED, message_for, plain, web_text

REPO = Path(__file__).resolve().parents[2]
APP = str(REPO / "app.py")
GUARD_S = 20.0
HUGE_BBOX = "-20,-20,20,20"  # about 19 million km²
SMALL_AOI = "10.0,45.0,10.1,45.1"
BLOB_HREF = "https://landsateuwest.blob.core.windows.net/landsat-c2/level-2/x/LC09_QA_PIXEL.TIF"
CLI_FLAG = re.compile(r"(?<![\w-])--[a-z]")


def raised(call) -> BaseException:
    err = outcome_within(GUARD_S, call)
    assert isinstance(err, BaseException), f"expected an error, got {err!r}"
    return err


def web(err: BaseException) -> str:
    level, text = message_for(err)
    assert level in ("warning", "error")
    return text


def assert_for_a_visitor(text: str, *, number: str, fix: str) -> None:
    """No server variable or CLI flag, km² not km2, the number and the fix kept, the limit the server's."""
    assert "CLOUDCORE_" not in text, text
    assert not CLI_FLAG.search(text), text
    assert "km2" not in text, text
    assert number in text and fix in text, text
    assert "raise the limit" not in text and "raise " not in text.split(":", 1)[-1], text
    assert "this server's" in text, text
    assert "()" not in text and " ." not in text and ",." not in text and ", or." not in text, text


# -- the limits (cloudcore/limits.py), reached the way the pages reach them ------------------------


def test_the_dashboards_area_limit(monkeypatch):
    monkeypatch.setenv("CLOUDCORE_UI_MAX_AOI_KM2", "50000")
    err = raised(lambda: cloudcore.parse_aoi(HUGE_BBOX, settings=config.settings(), allow_files=False))
    assert "CLOUDCORE_UI_MAX_AOI_KM2" in str(err)  # the library's own message keeps it
    text = web(err)
    assert_for_a_visitor(text, number="50,000 km²", fix="give a smaller area")
    assert "over this server's 50,000 km² limit: give a smaller area." in text


def test_the_librarys_area_limit():
    err = raised(lambda: cloudcore.parse_aoi(HUGE_BBOX, settings=Settings(max_aoi_km2=1_000.0, ui_max_aoi_km2=2_000.0)))
    assert "CLOUDCORE_MAX_AOI_KM2" in str(err)
    assert_for_a_visitor(web(err), number="1,000 km²", fix="give a smaller area")


def test_the_vertex_limit():
    ring = [[10 + 0.01 * i, 45 + (0.01 if i % 2 else 0)] for i in range(30)] + [[10.3, 44.9], [10, 44.9], [10, 45]]
    geojson = json.dumps({"type": "Polygon", "coordinates": [ring]})
    err = raised(lambda: cloudcore.parse_aoi(geojson, settings=Settings(max_aoi_vertices=10), allow_files=False))
    assert "CLOUDCORE_MAX_AOI_VERTICES" in str(err)
    text = web(err)
    assert_for_a_visitor(text, number="10 vertex limit", fix="simplify the outline")
    assert "(30 m pixels need no finer detail)" in text  # an aside without a variable stays


def test_the_geojson_size_limit_of_an_upload():
    data = json.dumps({"type": "Polygon", "coordinates": [[[10, 45], [10.1, 45], [10.1, 45.1], [10, 45]]]}).encode()
    err = raised(lambda: uploads.aoi_text_from_upload(data, Settings(max_geojson_mb=0.00001)))
    assert "CLOUDCORE_MAX_GEOJSON_MB" in str(err)
    assert_for_a_visitor(web(err), number="1e-05 MB", fix="simplify or clip it to the area you need")


def test_the_date_span_limit():
    err = raised(lambda: check_date_span(dt.date(1900, 1, 1), dt.date(2024, 1, 1), Settings(max_date_span_years=10)))
    assert "CLOUDCORE_MAX_DATE_SPAN_YEARS" in str(err)
    text = web(err)
    assert_for_a_visitor(text, number="10-year limit", fix="narrow the dates")
    assert "(it starts 1982-07-16)" in text and text.endswith("Change the dates in the sidebar.")


class _ManyScenes:
    """A scene source whose search finds more scenes than the limit (only their number matters)."""

    name = "many"

    def search(self, aoi: Any, start: dt.date, end: dt.date, max_scene_cloud_pct: float | None = None) -> list:
        return [object()] * 3

    def readable_href(self, href: str, fresh: bool = False) -> str:
        return href


def test_the_scene_count_limit():
    aoi = cloudcore.parse_aoi(SMALL_AOI)
    err = raised(lambda: cloudcore.search_dates(_ManyScenes(), aoi, dt.date(2024, 1, 1), dt.date(2024, 2, 1),
                                                settings=Settings(max_scenes=2)))
    assert "CLOUDCORE_MAX_SCENES" in str(err)
    assert_for_a_visitor(web(err), number="2 scenes-per-request limit", fix="narrow the dates or the area (or skip cloudy scenes)")


# -- the deadlines of a STAC search and of signing -------------------------------------------------


def test_a_stac_api_that_does_not_answer_its_first_request(monkeypatch):
    # The contact deadline (two connect tries) runs out long before the whole search's.
    monkeypatch.setattr(stac, "DEFAULT_CONTACT_DEADLINE_S", 0.3)
    aoi = cloudcore.parse_aoi(SMALL_AOI)
    with silent_server() as url:
        source = StacSource(url, settings=Settings(connect_timeout_s=0.1, search_deadline_s=30.0))
        err = raised(lambda: source.search(aoi, dt.date(2024, 1, 1), dt.date(2024, 2, 1)))
    assert isinstance(err, SourceUnreachableError) and "CLOUDCORE_CONNECT_TIMEOUT_S" in str(err)
    text = web(err)
    assert_for_a_visitor(text, number="0.7 s", fix="check the connection and try again, or use the demo source")
    assert "within this server's 0.7 s limit: check the connection" in text


def test_a_stac_search_over_its_deadline():
    aoi = cloudcore.parse_aoi(SMALL_AOI)
    with silent_server() as url:
        source = StacSource(url, settings=Settings(search_deadline_s=0.3))
        err = raised(lambda: source.search(aoi, dt.date(2024, 1, 1), dt.date(2024, 2, 1)))
    assert isinstance(err, SourceUnreachableError) and "CLOUDCORE_SEARCH_DEADLINE_S" in str(err)
    text = web(err)
    assert_for_a_visitor(text, number="0.3 s", fix="search a shorter period or smaller area")
    assert "which works offline, or search a shorter period or smaller area." in text  # the list keeps its "or"


@pytest.fixture
def sdk_at(monkeypatch):
    """Point the planetary-computer SDK's token service at a URL (as tests/test_signing.py does)."""
    from planetary_computer import sas
    from planetary_computer.settings import Settings as SdkSettings

    def use(sas_url: str) -> None:
        monkeypatch.setenv("PC_SDK_SAS_URL", sas_url)
        monkeypatch.setenv("PC_SDK_SUBSCRIPTION_KEY", "")
        SdkSettings.get.cache_clear()

    sas.TOKEN_CACHE.clear()
    yield use
    SdkSettings.get.cache_clear()
    sas.TOKEN_CACHE.clear()


def test_a_token_service_that_does_not_answer(sdk_at):
    with silent_server() as url:
        sdk_at(url)
        err = raised(lambda: sign_href_with_deadline(BLOB_HREF, deadline_s=0.3))
    assert isinstance(err, SourceUnreachableError) and "CLOUDCORE_SIGN_TIMEOUT_S" in str(err)
    text = web(err)
    assert_for_a_visitor(text, number="0.3 s", fix="check the connection and try again, or use the demo source")


# -- the rest of the table -------------------------------------------------------------------------


def test_the_operator_gets_the_full_message_in_the_log(monkeypatch, caplog):
    monkeypatch.setenv("CLOUDCORE_UI_MAX_AOI_KM2", "50000")
    err = raised(lambda: cloudcore.parse_aoi(HUGE_BBOX, settings=config.settings(), allow_files=False))
    with caplog.at_level(logging.INFO, logger="cloudcore.dashboard"):
        message_for(err)
    (record,) = [r for r in caplog.records if r.name == "cloudcore.dashboard"]
    assert record.levelno == logging.INFO and str(err) in record.getMessage()


def test_a_message_without_server_advice_is_shown_as_it_is(caplog):
    with caplog.at_level(logging.INFO, logger="cloudcore.dashboard"):
        level, text = message_for(InvalidAOIError("The AOI has no area (a point or a line?): give a polygon."))
    assert level == "warning"
    assert text.startswith("The area of interest needs a change. The AOI has no area (a point or a line?): give a polygon.")
    assert "this server" not in text and not caplog.records


def test_a_settings_error_keeps_its_variable_for_the_operator():
    err = raised(lambda: Settings.from_env({"CLOUDCORE_MAX_AOI_KM2": "lots"}))
    assert isinstance(err, SettingsError)
    level, text = message_for(err)
    assert level == "error" and "CLOUDCORE_MAX_AOI_KM2" in text and text.startswith("This server is misconfigured")


def test_a_broken_shared_folder_is_the_operators_to_fix(monkeypatch, tmp_path, caplog):
    monkeypatch.setenv("CLOUDCORE_FOLDER_ROOT", str(tmp_path / "gone"))
    err = raised(config.folder_root)
    assert isinstance(err, InvalidInputError) and str(err).startswith("CLOUDCORE_FOLDER_ROOT")
    with caplog.at_level(logging.INFO, logger="cloudcore.dashboard"):
        assert message_for(err) == ("error", MISCONFIGURED)
    assert any(r.levelno == logging.WARNING and str(err) in r.getMessage() for r in caplog.records)


def test_an_unexpected_error_names_no_variable_and_is_logged_with_its_traceback(caplog):
    try:
        raise KeyError("CLOUDCORE_SOMETHING")
    except KeyError as err:
        with caplog.at_level(logging.INFO, logger="cloudcore.dashboard"):
            level, text = message_for(err)
    assert level == "error" and "CLOUDCORE_" not in text and "Something went wrong (KeyError" in text
    (record,) = caplog.records
    assert record.levelno == logging.WARNING and record.exc_info is not None


def test_km2_is_written_km_squared_and_the_styles_example_reads_well():
    text = web_text("AOI spans 41,200 km2, over the 10,000 km2 limit: draw a smaller area or raise CLOUDCORE_MAX_AOI_KM2.")
    assert text == "AOI spans 41,200 km², over this server's 10,000 km² limit: draw a smaller area."


def test_a_timelapse_over_the_memory_budget_asks_for_fewer_frames_not_for_a_setting(tmp_path_factory):
    # The demo cache the other dashboard tests share: the record is made once per run.
    cache = tmp_path_factory.getbasetemp() / "demo-cache"
    settings = Settings.from_env({"CLOUDCORE_MEMORY_MB": "1", "CLOUDCORE_CACHE_DIR": str(cache)})
    with pytest.raises(InvalidInputError) as caught:
        cloudcore.timelapse(cloudcore.DEMO_EXAMPLE_BBOX, "2022-03-01", "2022-06-30", source="demo", max_obscured=100,
                            settings=settings)
    err = caught.value
    assert "CLOUDCORE_MEMORY_MB" in str(err)
    level, text = message_for(err)
    assert "CLOUDCORE_" not in text and "raise" not in text
    assert text.endswith("give a smaller width or fewer dates (a shorter range or a lower max_obscured).")


def test_every_variable_a_library_message_names_is_covered_here():
    """A new message naming a CLOUDCORE_ variable makes this fail: add a case above for it."""
    covered = {
        "CLOUDCORE_UI_MAX_AOI_KM2", "CLOUDCORE_MAX_AOI_KM2", "CLOUDCORE_MAX_AOI_VERTICES", "CLOUDCORE_MAX_GEOJSON_MB",
        "CLOUDCORE_MAX_DATE_SPAN_YEARS", "CLOUDCORE_MAX_SCENES", "CLOUDCORE_CONNECT_TIMEOUT_S",
        "CLOUDCORE_SEARCH_DEADLINE_S", "CLOUDCORE_SIGN_TIMEOUT_S", "CLOUDCORE_MEMORY_MB",
    }
    # The Dask scheduler's message: the dashboard never measures on a cluster (the CLI and library do);
    # web_text would still drop its aside.
    not_reachable_from_the_dashboard = {"CLOUDCORE_DASK_SCHEDULER"}
    variables = {variable for variable, *_ in Settings.variables()}
    named: dict[str, str] = {}
    for path in sorted((REPO / "cloudcore").rglob("*.py")):
        # settings.py defines the variables (its SettingsError keeps them); the CLI and the
        # evaluation scripts speak to a person at a terminal.
        if path.name in ("settings.py", "cli.py") or "evaluation" in path.parts:
            continue
        tree = ast.parse(path.read_text())
        docstrings = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                for variable in set(re.findall(r"CLOUDCORE_[A-Z0-9_]+", node.value)) & variables:
                    named.setdefault(variable, str(path.relative_to(REPO)))
    assert set(named) <= covered | not_reachable_from_the_dashboard, named
    assert covered <= set(named)  # and each case above still has its message


# -- what a visitor sees on the page ---------------------------------------------------------------


def test_the_explore_page_states_the_area_limit_without_the_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("CLOUDCORE_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("CLOUDCORE_UI_MAX_AOI_KM2", "50000")
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["source"] = "demo"
    at.query_params["bbox"] = HUGE_BBOX
    at.run()
    assert not at.exception, at.exception
    said = [str(m.value) for m in [*at.warning, *at.error, *at.info]]
    assert any(plain("over this server's 50,000 km² limit: give a smaller area.") in text for text in said), said
    assert not any("CLOUDCORE_" in text for text in said)
