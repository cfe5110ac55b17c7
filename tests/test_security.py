"""Security: the subscription key stays a header, server folders stay inside their root, no
code runs from input, Streamlit's request protections stay on, and uploads are only data.

The key is set to a unique marker; every place a user or a log could see is searched for it:
command-line output, DEBUG logs, error messages, CSV/JSON/GeoTIFF/PNG exports, the dashboard's
elements and its address. The STAC API is a loopback fake that records each request.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import logging
import os
import tomllib
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from cloudcore import cli
from cloudcore.errors import CloudCoreError, InvalidInputError, UnknownSourceError
from cloudcore.geo.aoi import parse_aoi
from cloudcore.settings import Settings
from cloudcore.io.export import rows_to_csv
from cloudcore.masks.qa import CLEAR_BIT, CLOUD_BIT
from cloudcore.sources import stac
from cloudcore.sources.folder import FolderSource
from tests.rasters import UTM33N, lonlat_bbox, write_tif
from tests.stac_server import fake_api, free_port
from ui import config
from ui.folders import shared_folder
from ui.sources import dashboard_source
from ui.uploads import aoi_text_from_upload

REPO = Path(__file__).resolve().parents[1]
APP = str(REPO / "app.py")
MARKER = "sk-MARKER-7f3c1d9e-do-not-leak"
KEY_HEADER = "Ocp-Apim-Subscription-Key"
JSON = "application/json"
SIZE = 64  # pixels a side of the synthetic scenes
PIXEL = 30.0
ORIGIN = (500_015.0, 5_300_025.0)
AOI_TEXT = lonlat_bbox(UTM33N, ORIGIN[0] + 300, ORIGIN[1] - SIZE * PIXEL + 300, ORIGIN[0] + SIZE * PIXEL - 300, ORIGIN[1] - 300)


@pytest.fixture
def key(monkeypatch) -> str:
    monkeypatch.setenv("PC_SDK_SUBSCRIPTION_KEY", MARKER)
    return MARKER


# --- a fake Planetary Computer on loopback --------------------------------------------------------


def landing(url: str) -> bytes:
    links = [{"rel": rel, "href": url + "/", "type": JSON} for rel in ("self", "root")]
    links.append({"rel": "search", "href": url + "/search", "type": "application/geo+json", "method": "POST"})
    return json.dumps({"type": "Catalog", "id": "fake-pc", "description": "fake", "stac_version": "1.0.0",
                       "conformsTo": ["https://api.stacspec.org/v1.0.0/core", "https://api.stacspec.org/v1.0.0/item-search"],
                       "links": links}).encode()


def item(url: str, day: int) -> dict:
    """A landsat-c2-l2 item over AOI_TEXT whose QA_PIXEL lives on the fake (which answers 404)."""
    pid = f"LC09_L2SP_190027_202406{day:02d}_202406{day + 1:02d}_02_T1"
    west, south, east, north = (float(v) for v in AOI_TEXT.split(","))
    ring = [[west - 1, south - 1], [east + 1, south - 1], [east + 1, north + 1], [west - 1, north + 1], [west - 1, south - 1]]
    return {
        "type": "Feature", "stac_version": "1.0.0", "id": pid, "collection": "landsat-c2-l2", "links": [],
        "bbox": [west - 1, south - 1, east + 1, north + 1], "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {"datetime": f"2024-06-{day:02d}T10:00:00Z", "platform": "landsat-9", "landsat:wrs_path": "190",
                       "landsat:wrs_row": "027", "eo:cloud_cover": 20.0, "proj:epsg": 32633},
        "assets": {"qa_pixel": {"href": f"{url}/assets/{pid}_QA_PIXEL.TIF"}},
    }


def fake_pc(search_status: int = 200, search_body: bytes | None = None):
    """A fake PC API: the landing page, then `search_status` (with items over AOI_TEXT when 200)."""
    holder: dict[str, str] = {}

    def respond(method: str, path: str, body: dict):
        if path.split("?")[0] in ("", "/"):
            return 200, JSON, landing(holder["url"]), {}
        if path.startswith("/search"):
            if search_status != 200:
                return search_status, JSON, search_body or b'{"code": "failed"}', {}
            features = [item(holder["url"], 5), item(holder["url"], 21)]
            return 200, "application/geo+json", json.dumps({"type": "FeatureCollection", "features": features,
                                                            "links": []}).encode(), {}
        return 404, "text/plain", b"not here", {}

    return holder, respond


@pytest.fixture
def pc(monkeypatch, key):
    """Start a fake PC; the planetary-computer source points at it. Yields (url, recorder)."""
    started = []

    def start(search_status: int = 200, search_body: bytes | None = None):
        holder, respond = fake_pc(search_status, search_body)
        context = fake_api(respond)
        url, recorder = context.__enter__()
        started.append(context)
        holder["url"] = url
        monkeypatch.setattr(stac, "PLANETARY_COMPUTER_STAC_URL", url)
        monkeypatch.setenv("CLOUDCORE_HTTP_TIMEOUT_S", "3")
        return url, recorder

    yield start
    for context in started:
        context.__exit__(None, None, None)


def run_cli(capsys, *args: str) -> tuple[int, str]:
    code = cli.main(list(args))
    out = capsys.readouterr()
    return code, out.out + out.err


def assert_key_only_in_headers(recorder) -> None:
    searches = [r for r in recorder.requests if r["path"].startswith("/search")]
    assert searches, "the search reached the fake API"
    for request in recorder.requests:
        assert MARKER not in request["path"] and MARKER not in json.dumps(request["body"])
        assert [v for k, v in request["headers"].items() if MARKER in v] in ([], [MARKER])
    for request in searches:
        assert request["headers"].get(KEY_HEADER) == MARKER


# --- (a) the subscription key --------------------------------------------------------------------


@pytest.mark.parametrize("command", ["scenes", "cover"])
def test_the_key_is_a_search_header_and_nowhere_in_output_or_logs(pc, capsys, caplog, command):
    caplog.set_level(logging.DEBUG)
    url, recorder = pc()
    extra = ["--no-cache"] if command == "cover" else []
    code, output = run_cli(capsys, command, "--source", "planetary-computer", f"--aoi={AOI_TEXT}",
                           "--start", "2024-06-01", "--end", "2024-06-30", *extra)
    assert code in (0, 3), output
    assert "LC09_L2SP_190027_20240605" in output  # the answer really went through
    if command == "cover":
        assert code == 3 and '"error"' in output  # the fake's 404 assets: each date says why
    assert MARKER not in output and MARKER not in caplog.text
    assert_key_only_in_headers(recorder)
    # Asset reads (GDAL) carry no key and no key in their URL.
    for request in recorder.requests:
        if request["path"].startswith("/assets"):
            assert KEY_HEADER not in request["headers"]


# A server that echoes the request in its error: the message quotes the answer, never the key.
ECHO = json.dumps({"code": "denied", "description": f"invalid subscription key {MARKER}"}).encode()


@pytest.mark.parametrize("status", [400, 401, 403, 500, 503])
def test_a_failing_search_says_so_without_the_key(pc, capsys, caplog, status):
    caplog.set_level(logging.DEBUG)
    _, recorder = pc(search_status=status, search_body=ECHO)
    code, output = run_cli(capsys, "scenes", "--source", "planetary-computer", f"--aoi={AOI_TEXT}",
                           "--start", "2024-06-01", "--end", "2024-06-30")
    assert code in (1, 2) and "cloudcore:" in output
    if status < 500:
        assert "invalid subscription key [redacted]" in output  # the answer is quoted, scrubbed
    assert MARKER not in output and MARKER not in caplog.text
    assert_key_only_in_headers(recorder)


def test_an_unreachable_service_says_so_without_the_key(monkeypatch, key, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr(stac, "PLANETARY_COMPUTER_STAC_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("CLOUDCORE_HTTP_TIMEOUT_S", "2")
    code, output = run_cli(capsys, "scenes", "--source", "planetary-computer", f"--aoi={AOI_TEXT}",
                           "--start", "2024-06-01", "--end", "2024-06-30")
    assert code == 1 and "could not be reached" in output and "use the demo source, which works offline" in output
    assert output.rstrip().endswith("(to try cloudcore offline: --source demo)"), output
    assert MARKER not in output and MARKER not in caplog.text


def test_source_objects_and_errors_do_not_carry_the_key(pc):
    url, _ = pc(search_status=400)
    source = stac.planetary_computer_source(Settings.from_env())
    assert MARKER not in repr(source) and MARKER not in repr(vars(source))
    with pytest.raises(CloudCoreError) as caught:
        source.search(parse_aoi(AOI_TEXT), dt.date(2024, 6, 1), dt.date(2024, 6, 30))
    assert MARKER not in str(caught.value) and MARKER not in repr(caught.value.args)


# --- exports -------------------------------------------------------------------------------------


def landsat_folder(folder: Path) -> Path:
    """Two synthetic Landsat 8 scenes (QA_PIXEL and the six SR bands), half cloudy and clear."""
    clear, cloud = np.uint16(1 << CLEAR_BIT), np.uint16(1 << CLOUD_BIT)
    qa_half = np.full((SIZE, SIZE), clear)
    qa_half[:, : SIZE // 2] = cloud
    for date, qa in (("20240501", qa_half), ("20240517", np.full((SIZE, SIZE), clear))):
        pid = f"LC08_L2SP_190027_{date}_{date[:6]}{int(date[6:]) + 1:02d}_02_T1"
        scene = folder / pid
        scene.mkdir(parents=True)
        write_tif(scene / f"{pid}_QA_PIXEL.TIF", qa, origin=ORIGIN)
        for band in (2, 3, 4, 5, 6, 7):
            write_tif(scene / f"{pid}_SR_B{band}.TIF", np.full((SIZE, SIZE), 9000 + 100 * band, np.uint16), origin=ORIGIN)
    return folder


def test_exports_never_hold_the_key(key, tmp_path, capsys):
    folder = landsat_folder(tmp_path / "scenes")
    tif, png = tmp_path / "filled.tif", tmp_path / "filled.png"
    code, output = run_cli(capsys, "fill", "--source", str(folder), f"--aoi={AOI_TEXT}", "--date", "2024-05-01",
                           "--window-days", "30", "--out", str(tif), "--png", str(png))
    assert code == 0, output
    code, cover_json = run_cli(capsys, "cover", "--no-cache", "--source", str(folder), f"--aoi={AOI_TEXT}",
                               "--start", "2024-05-01", "--end", "2024-05-31")
    assert code == 0, cover_json
    code, cover_csv = run_cli(capsys, "cover", "--no-cache", "--format", "csv", "--source", str(folder),
                              f"--aoi={AOI_TEXT}", "--start", "2024-05-01", "--end", "2024-05-31")
    assert code == 0 and cover_csv.startswith("date,platform"), cover_csv
    exported = [tif.read_bytes(), png.read_bytes(), output.encode(), cover_json.encode(), cover_csv.encode(),
                rows_to_csv([{"a": os.environ.get("PATH")}], ["a"]).encode()]
    assert tif.stat().st_size > 1000 and '"filled_pct"' in output
    assert not any(MARKER.encode() in blob for blob in exported)


# --- the dashboard -----------------------------------------------------------------------------


def everything_shown(at: AppTest) -> str:
    """Every element's full content (labels, bodies, help, options), the address and session state."""
    parts = [str(getattr(element, "proto", "")) for element in at._tree]
    parts.append(repr(dict(at.query_params)))
    parts.append(repr({k: at.session_state[k] for k in at.session_state}))
    return "\n".join(parts)


def dashboard(**params) -> AppTest:
    # Sources and searches are cached per server process: a fake API from an earlier test is gone.
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=120)
    for name, value in params.items():
        at.query_params[name] = value
    return at.run()


@pytest.mark.parametrize("status", [200, 500, 400])
def test_the_dashboard_never_shows_the_key(pc, status, tmp_path, monkeypatch):
    monkeypatch.setenv("CLOUDCORE_CACHE_DIR", str(tmp_path / "cache"))
    _, recorder = pc(search_status=status, search_body=ECHO)
    at = dashboard(source="planetary-computer", bbox=AOI_TEXT, start="2024-06-01", end="2024-06-30")
    assert not at.exception, at.exception
    shown = everything_shown(at)
    assert MARKER not in shown
    if status == 200:
        assert "Dates that failed" in shown  # the search answered and each date was tried
    else:
        assert at.error or at.warning
    assert_key_only_in_headers(recorder)


# --- (b) the shared folder root ------------------------------------------------------------------


@pytest.fixture
def shared(tmp_path, monkeypatch):
    """A shared root holding scenes/ (two synthetic scenes), beside a private folder it must not reach."""
    root = tmp_path / "shared"
    landsat_folder(root / "scenes")
    private = landsat_folder(tmp_path / "private")
    (private / "secret.txt").write_text("private")
    (root / "link-out").symlink_to(private, target_is_directory=True)
    monkeypatch.setenv("CLOUDCORE_FOLDER_ROOT", str(root))
    return root, private


@pytest.mark.parametrize("attempt", [
    "../private", "scenes/../../private", "..", "link-out", "link-out/LC08_L2SP_190027_20240501_20240502_02_T1",
    "~", "~root", "%2e%2e/private", "..%2fprivate", "scenes\x00", "/etc", "/", "..\\private", "scenes/" + "a/" * 600,
])
def test_traversal_out_of_the_shared_root_is_refused(shared, attempt):
    root, private = shared
    with pytest.raises(InvalidInputError, match="give a folder inside the folder this server shares"):
        shared_folder(attempt, os.path.realpath(root))
    with pytest.raises(CloudCoreError) as caught:
        dashboard_source(attempt)
    assert str(private) not in str(caught.value)


def test_an_absolute_path_elsewhere_is_refused_by_its_real_location(shared):
    root, private = shared
    with pytest.raises(InvalidInputError, match="lies outside the folder this server shares"):
        shared_folder(str(private), os.path.realpath(root))
    assert shared_folder(str(root / "scenes"), os.path.realpath(root)) == os.path.realpath(root / "scenes")
    assert shared_folder("scenes", os.path.realpath(root)) == os.path.realpath(root / "scenes")


def test_folders_are_off_unless_the_server_shares_a_root(monkeypatch, tmp_path):
    monkeypatch.delenv("CLOUDCORE_FOLDER_ROOT", raising=False)
    landsat_folder(tmp_path / "scenes")
    with pytest.raises(UnknownSourceError, match="shares no folder .*CLOUDCORE_FOLDER_ROOT.*command line"):
        dashboard_source(str(tmp_path / "scenes"))
    monkeypatch.setenv("CLOUDCORE_FOLDER_ROOT", str(tmp_path / "missing"))
    with pytest.raises(InvalidInputError, match="CLOUDCORE_FOLDER_ROOT names no folder"):
        dashboard_source("scenes")


def test_a_shared_folder_does_not_follow_links_out_of_the_root(shared):
    root, private = shared
    (root / "scenes" / "link-out").symlink_to(private, target_is_directory=True)
    scene_dir = next((root / "scenes").glob("LC08_L2SP_190027_20240517*"))
    qa = next(scene_dir.glob("*_QA_PIXEL.TIF"))
    qa.unlink()
    qa.symlink_to(next(private.glob("LC08_L2SP_190027_20240517*/*_QA_PIXEL.TIF")))  # a file link out
    source = dashboard_source("scenes")
    assert isinstance(source, FolderSource)
    assert source.product_ids == ["LC08_L2SP_190027_20240501_20240502_02_T1"]
    assert sum("links outside the shared folder" in w for w in source.warnings) >= 2
    # The command line is a scientist's own machine: there the same folder follows its links.
    assert len(FolderSource(root / "scenes").product_ids) == 2


def test_an_allowed_folder_works_in_the_dashboard(shared, tmp_path, monkeypatch):
    monkeypatch.setenv("CLOUDCORE_CACHE_DIR", str(tmp_path / "cache"))
    at = dashboard(source="scenes", bbox=AOI_TEXT, start="2024-04-01", end="2024-06-30")
    assert not at.exception, at.exception
    labels = {m.label: m.value for m in at.metric}
    assert labels.get("Dates under 10 % obscured") == "1 of 2", labels
    assert at.session_state["source_kind"] == "a folder on this server"


@pytest.mark.parametrize("attempt", ["../private", "link-out", "/etc"])
def test_traversal_in_the_page_address_is_one_message(shared, attempt, tmp_path, monkeypatch):
    monkeypatch.setenv("CLOUDCORE_CACHE_DIR", str(tmp_path / "cache"))
    at = dashboard(source=attempt, bbox=AOI_TEXT)
    assert not at.exception, at.exception
    assert any("this server shares" in w.value for w in at.warning), [w.value for w in at.warning]
    assert not at.metric or all(not m.label.startswith("Dates under") for m in at.metric)


# --- (c) no code from input, Streamlit's protections on ------------------------------------------------

BANNED_MODULES = {"pickle", "cPickle", "marshal", "shelve", "dill", "cloudpickle"}
BANNED_CALLS = {"eval", "exec"}
SKIPPED_DIRS = {".venv", ".git", "node_modules", "test-artifacts", "__pycache__"}


def repo_python_files() -> list[Path]:
    files = []
    for path in REPO.rglob("*.py"):
        parts = path.relative_to(REPO).parts
        if not any(part in SKIPPED_DIRS or part.startswith(".") for part in parts):
            files.append(path)
    return files


def dangerous_uses(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if a.name.split(".")[0] in BANNED_MODULES]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in BANNED_MODULES:
            found.append(f"from {node.module} import")
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else ""
            if isinstance(func, ast.Name) and name in BANNED_CALLS:
                found.append(f"{name}()")
            if owner == "os" and name in ("system", "popen") or name.startswith("spawn") and owner == "os":
                found.append(f"os.{name}()")
            for keyword in node.keywords:
                if keyword.arg == "shell" and not (isinstance(keyword.value, ast.Constant) and keyword.value.value is False):
                    found.append(f"{owner}.{name}(shell=...)")
    return found


def test_the_static_check_finds_what_it_looks_for():
    sample = "import pickle\nfrom marshal import loads\neval('1')\nexec('x=1')\nimport os, subprocess\n" \
             "os.system('ls')\nsubprocess.run('ls', shell=True)\nsubprocess.run(['ls'], shell=False)\n"
    assert dangerous_uses(ast.parse(sample)) == [
        "import pickle", "from marshal import", "eval()", "exec()", "os.system()", "subprocess.run(shell=...)"]


def test_no_eval_pickle_or_shell_anywhere_in_the_repo():
    files = repo_python_files()
    assert len(files) > 40 and any(p.name == "aoi.py" for p in files)
    problems = {str(p.relative_to(REPO)): uses for p in files if (uses := dangerous_uses(ast.parse(p.read_text(), str(p))))}
    assert problems == {}


def test_streamlit_request_protections_stay_on():
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    server = config.get("server", {})
    assert server.get("enableXsrfProtection", True) is True
    assert server.get("enableCORS", True) is True


# --- (d) uploads are data --------------------------------------------------------------------------


HOSTILE_PROPERTIES = {
    "__proto__": {"polluted": True}, "constructor": {"prototype": {"x": 1}},
    "name": "<script>alert('x')</script>", "link": "javascript:alert(1)", "md": "[click](http://127.0.0.1/phish)",
    "huge": 1e308, "bigint": 10 ** 300, "code": "__import__('os').system('touch pwned')",
}


def hostile_upload() -> bytes:
    west, south, east, north = (float(v) for v in AOI_TEXT.split(","))
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    feature = {"type": "Feature", "properties": HOSTILE_PROPERTIES, "__proto__": {"type": "Point"},
               "geometry": {"type": "Polygon", "coordinates": [ring], "__proto__": "x"}}
    return json.dumps({"type": "FeatureCollection", "features": [feature], "__proto__": {"admin": True}}).encode()


def test_an_upload_is_parsed_as_data_and_only_its_geometry_is_kept(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = aoi_text_from_upload(hostile_upload(), config.settings())
    kept = json.loads(text)
    assert set(kept) == {"type", "coordinates"} and kept["type"] == "Polygon"
    for needle in ("script", "javascript", "__proto__", "prototype", "phish", "__import__", "1e+308"):
        assert needle not in text
    assert not (tmp_path / "pwned").exists()


def test_an_upload_in_the_page_shows_nothing_from_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("CLOUDCORE_FOLDER_ROOT", str(landsat_folder(tmp_path / "shared" / "scenes").parent))
    monkeypatch.setenv("CLOUDCORE_CACHE_DIR", str(tmp_path / "cache"))
    at = dashboard(source="scenes", bbox=AOI_TEXT, start="2024-04-01", end="2024-06-30")
    at.file_uploader[0].set_value(("area.geojson", hostile_upload(), "application/geo+json")).run()
    at.run()  # the upload asks for a rerun with the new area
    assert not at.exception, at.exception
    shown = everything_shown(at)
    # (The map itself is HTML with scripts: look for what only the file holds.)
    for needle in ("alert('x')", "alert(1)", "__proto__", "prototype", "phish", "__import__", "1e+308"):
        assert needle not in shown, needle
    assert at.session_state["aoi"].startswith('{"type": "Polygon"')


def test_a_hostile_upload_error_is_shown_as_text(tmp_path, monkeypatch):
    monkeypatch.setenv("CLOUDCORE_FOLDER_ROOT", str(landsat_folder(tmp_path / "shared" / "scenes").parent))
    monkeypatch.setenv("CLOUDCORE_CACHE_DIR", str(tmp_path / "cache"))
    at = dashboard(source="scenes", bbox=AOI_TEXT, start="2024-04-01", end="2024-06-30")
    bad = json.dumps({"type": "[click](http://127.0.0.1/phish)"}).encode()
    at.file_uploader[0].set_value(("area.geojson", bad, "application/geo+json")).run()
    assert not at.exception, at.exception
    warnings = [w.value for w in at.warning]
    assert any("only Polygon and MultiPolygon" in w for w in warnings), warnings
    assert not any("[click](" in w for w in warnings)
