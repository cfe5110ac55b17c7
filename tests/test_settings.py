"""One settings object: every CLOUDCORE_* variable parsed and checked once, then passed down."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

import cloudcore
from cloudcore.geo.aoi import parse_aoi
from cloudcore.settings import Settings, SettingsError
from tests.demo_record import DEMO_AOI, demo_cache_root, demo_settings  # noqa: F401 - fixtures

REPO = Path(__file__).resolve().parents[1]
VARIABLES = {variable for variable, *_ in Settings.variables()}


def test_unset_variables_give_the_documented_defaults():
    settings = Settings.from_env({})
    assert settings == Settings()
    assert settings.http_timeout_s == 10 and settings.workers == 16 and settings.memory_mb == 1024
    assert settings.max_aoi_km2 == 100_000 and settings.ui_max_aoi_km2 == 50_000
    assert settings.cache_dir == Path.home() / ".cache" / "cloudcore"


def test_the_readme_table_is_the_settings_table():
    from cloudcore.settings import settings_markdown

    assert settings_markdown() in (REPO / "README.md").read_text()


def test_every_field_has_its_own_variable():
    names = [variable for variable, *_ in Settings.variables()]
    assert len(names) == len(set(names)) == len(fields(Settings))
    assert all(name.startswith("CLOUDCORE_") for name in names)


def test_values_are_parsed_by_kind():
    settings = Settings.from_env({
        "CLOUDCORE_HTTP_TIMEOUT_S": " 2.5 ", "CLOUDCORE_WORKERS": "4", "CLOUDCORE_CACHE_DIR": "~/somewhere",
        "CLOUDCORE_DEBUG": "yes", "CLOUDCORE_DASK_SCHEDULER": "tcp://10.0.0.5:8786", "CLOUDCORE_MAX_SCENES": "",
    })
    assert settings.http_timeout_s == 2.5 and settings.workers == 4 and settings.debug is True
    assert settings.cache_dir == Path("~/somewhere").expanduser()
    assert settings.dask_scheduler == "tcp://10.0.0.5:8786"
    assert settings.max_scenes == Settings().max_scenes  # blank: the default


@pytest.mark.parametrize("raw", ["abc", "-5", "0", "nan", "inf", "1e9", ""])
def test_a_bad_timeout_is_one_message_naming_the_variable_and_the_range(raw):
    if raw == "":
        assert Settings.from_env({"CLOUDCORE_HTTP_TIMEOUT_S": raw}).http_timeout_s == 10
        return
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"CLOUDCORE_HTTP_TIMEOUT_S": raw})
    message = str(caught.value)
    assert message.startswith(f"CLOUDCORE_HTTP_TIMEOUT_S={raw!r} ")
    assert "from 0.1 to 3,600 seconds" in message and "\n" not in message
    assert caught.value.setting == "http_timeout_s"
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    "variable, raw, allowed",
    [
        ("CLOUDCORE_WORKERS", "1.5", "a whole number from 1 to 1,024 threads"),
        ("CLOUDCORE_WORKERS", "0", "a whole number from 1 to 1,024 threads"),
        ("CLOUDCORE_MEMORY_MB", "lots", "a whole number from 1 to"),
        ("CLOUDCORE_MAX_AOI_KM2", "-1", "km²"),
        ("CLOUDCORE_DEBUG", "maybe", "1 or 0"),
        ("CLOUDCORE_UI_CACHE_MB", "0", "MB"),
    ],
)
def test_each_kind_of_bad_value_names_what_is_allowed(variable, raw, allowed):
    with pytest.raises(SettingsError, match=re.escape(variable)) as caught:
        Settings.from_env({variable: raw})
    assert allowed in str(caught.value)


def test_stac_hosts_are_a_canonical_lower_case_tuple():
    assert Settings().ui_stac_hosts == () and Settings.from_env({"CLOUDCORE_UI_STAC_HOSTS": " "}).ui_stac_hosts == ()
    settings = Settings.from_env({"CLOUDCORE_UI_STAC_HOSTS": " STAC.Example.org, 10.0.0.5:8080,, [::1]:8611, ::1,"
                                                             " stac.example.org, host.internal."})
    assert settings.ui_stac_hosts == ("stac.example.org", "10.0.0.5:8080", "[::1]:8611", "[::1]", "host.internal")
    # Built in Python: a tuple, a list or the same comma-separated text; checked alike.
    assert Settings(ui_stac_hosts=["A.org", "b.org:81"]).ui_stac_hosts == ("a.org", "b.org:81")
    assert Settings(ui_stac_hosts="a.org,[0:0::1]:9").ui_stac_hosts == ("a.org", "[::1]:9")
    assert Settings().replace(ui_stac_hosts=("x.org",)) == Settings(ui_stac_hosts="X.org")


@pytest.mark.parametrize("raw", [
    "http://stac.example.org", "stac.example.org/v1", "*.example.org", "a b", "a:0", "a:65536", "a:port", "[::1",
    "[zz::1]:80", "a..b", "-a.org", "a" * 64 + ".org", "user@host",
])
def test_a_malformed_stac_host_is_one_message_naming_the_variable(raw):
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"CLOUDCORE_UI_STAC_HOSTS": f"ok.example.org,{raw}"})
    message = str(caught.value)
    assert message.startswith(f"CLOUDCORE_UI_STAC_HOSTS='ok.example.org,{raw}' holds {raw.lower()!r}")
    assert "host names, each optionally with :port" in message and "\n" not in message
    assert caught.value.setting == "ui_stac_hosts"
    with pytest.raises(SettingsError, match=r"Settings\(ui_stac_hosts=.*\(CLOUDCORE_UI_STAC_HOSTS\)"):
        Settings(ui_stac_hosts=(raw,))


def test_settings_built_in_python_are_checked_too():
    with pytest.raises(SettingsError, match=r"Settings\(workers=0\) \(CLOUDCORE_WORKERS\)"):
        Settings(workers=0)
    with pytest.raises(SettingsError, match="http_timeout_s"):
        Settings().replace(http_timeout_s=-1)


def test_the_cli_refuses_a_bad_setting_with_exit_2_and_one_line(tmp_path):
    env = {**os.environ, "CLOUDCORE_HTTP_TIMEOUT_S": "abc", "CLOUDCORE_CACHE_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "cloudcore", "cover", "--source", "demo", "--aoi=-89.44,43.03,-89.35,43.10",
         "--start", "2022-06-01", "--end", "2022-06-30"],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=60,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "CLOUDCORE_HTTP_TIMEOUT_S='abc'" in lines[0] and "from 0.1 to 3,600 seconds" in lines[0]
    assert not (tmp_path / "demo-v1").exists()  # refused before anything ran


def test_help_answers_whatever_the_settings(tmp_path):
    env = {**os.environ, "CLOUDCORE_WORKERS": "many"}
    done = subprocess.run([sys.executable, "-m", "cloudcore", "fill", "--help"], capture_output=True, text=True,
                          env=env, cwd=REPO, timeout=60)
    assert done.returncode == 0 and "--method" in done.stdout


def test_the_dashboard_shows_one_error_box_for_a_bad_setting(monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("CLOUDCORE_SEARCH_DEADLINE_S", "-5")
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    app.run()
    assert not app.exception
    assert len(app.error) == 1
    assert "CLOUDCORE_SEARCH_DEADLINE_S='-5'" in app.error[0].value


def test_a_call_given_settings_does_not_read_the_environment(demo_settings, monkeypatch):
    monkeypatch.setenv("CLOUDCORE_MAX_AOI_KM2", "0.001")  # would refuse the demo's area
    table = cloudcore.cover(DEMO_AOI, "2022-06-01", "2022-06-15", source="demo", cache=False, settings=demo_settings)
    assert len(table) > 0
    with pytest.raises(cloudcore.InvalidAOIError, match="CLOUDCORE_MAX_AOI_KM2"):
        cloudcore.cover(DEMO_AOI, "2022-06-01", "2022-06-15", source="demo", cache=False)  # given none: read


def test_a_call_given_none_reads_the_environment_once_at_the_call(monkeypatch):
    monkeypatch.setenv("CLOUDCORE_SCENES_TYPO", "1")  # unknown names are no setting and are ignored
    monkeypatch.setenv("CLOUDCORE_MAX_DATE_SPAN_YEARS", "1")
    with pytest.raises(cloudcore.InvalidInputError, match="1-year limit"):
        cloudcore.search(DEMO_AOI, "2020-01-01", "2022-12-31", source="nowhere-that-exists")
    monkeypatch.setenv("CLOUDCORE_MAX_DATE_SPAN_YEARS", "ten")
    with pytest.raises(SettingsError, match="CLOUDCORE_MAX_DATE_SPAN_YEARS"):
        cloudcore.search(DEMO_AOI, "2020-01-01", "2022-12-31", source="demo")


def _environment_reads(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, variable) of every os.environ[...] / os.environ.get(...) / os.getenv(...) of a literal name."""
    reads = []
    for node in ast.walk(tree):
        name = None
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = ast.unparse(node.func)
            if func in ("os.environ.get", "os.getenv", "environ.get", "getenv", "os.environ.setdefault"):
                name = node.args[0].value
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value) in ("os.environ", "environ"):
            if isinstance(node.slice, ast.Constant):
                name = node.slice.value
        if isinstance(name, str):
            reads.append((node.lineno, name))
    return reads


def test_no_module_but_settings_reads_a_cloudcore_variable():
    offenders = []
    for path in sorted((REPO / "cloudcore").rglob("*.py")):
        if path.name == "settings.py" and path.parent.name == "cloudcore":
            continue
        for line, name in _environment_reads(ast.parse(path.read_text())):
            if name.startswith("CLOUDCORE_"):
                offenders.append(f"{path.relative_to(REPO)}:{line} reads {name}")
    assert offenders == []


def test_every_variable_a_message_or_document_names_is_a_setting():
    named = set()
    for path in [*sorted((REPO / "cloudcore").rglob("*.py")), *sorted((REPO / "ui").rglob("*.py")), REPO / "README.md"]:
        named |= set(re.findall(r"CLOUDCORE_[A-Z0-9_]*[A-Z0-9]", path.read_text()))
    # A filled GeoTIFF's own tags share the prefix; they are file metadata, not settings.
    from cloudcore.gapfill.metadata import METADATA_KEYS, TAG_PREFIX

    tags = {f"{TAG_PREFIX}{key.upper()}" for key in METADATA_KEYS}
    assert named - VARIABLES - tags == set()


@pytest.mark.parametrize(
    "name, bbox",
    [
        # The footprint bbox of a real scene (LC08_L2SP_008059_20191201) and the README's example.
        ("008/059 footprint", "-76.07632641828408,0.3999174881025329,-74.07497868901508,2.4880311127958152"),
        ("008/059 raster, padded", "-76.1,0.3,-73.9,2.6"),
        # A whole raster grid at 80 N, rotated 45 degrees in UTM (about 60,000 km2 as a lon/lat box).
        ("80 N", "-6.5,78.7,6.5,81.3"),
        # Antarctica, polar stereographic (about 85,000 km2, the largest of any WRS-2 scene).
        ("82 S", "-8.5,-83.2,8.5,-80.6"),
        # Across the antimeridian: minlon > maxlon.
        ("antimeridian", "178.9,-17.2,-179.1,-15.1"),
    ],
)
def test_the_bbox_of_any_whole_scene_passes_the_default_limits(name, bbox):
    aoi = parse_aoi(bbox, settings=Settings())
    assert 30_000 < aoi.area_km2 < Settings().max_aoi_km2, name
    # A hosted dashboard keeps its stricter default (its operator can change it).
    if aoi.area_km2 > Settings().ui_max_aoi_km2:
        with pytest.raises(cloudcore.InvalidAOIError, match="limit"):
            parse_aoi(bbox, settings=Settings().replace(max_aoi_km2=Settings().ui_max_aoi_km2))
