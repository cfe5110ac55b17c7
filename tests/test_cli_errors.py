"""Bad input: exit status 2 and one line on stderr that names the problem, never a traceback.

A bad setting (a CLOUDCORE_* variable) is bad input too: read once when a command starts, it is
refused before anything else happens, in one line naming the variable, its value and its range.
"""

import subprocess
import sys

import pytest

from cloudcore.cli import main


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["cover", "--source", "demo", "--aoi", "not-an-aoi", "--start", "2024-01-01", "--end", "2024-02-01"], "neither a bbox"),
        (["cover", "--source", "demo", "--aoi", "not-an-aoi", "--start", "2024-01-01", "--end", "2024-02-01"],
         "nor an existing file. (--aoi)"),  # the library's message, then the flag it is about
        (["cover", "--source", "demo", "--aoi", "10,50,11,51", "--start", "2024-03-01", "--end", "2024-02-01"], "swap them"),
        (["cover", "--source", "demo", "--aoi", "10,50,11,51", "--start", "2024-03-01", "--end", "2024-02-01"],
         "swap them. (--start)"),
        (["scenes", "--source", "nowhere-like-this", "--aoi", "10,50,11,51", "--start", "2024-01-01", "--end", "2024-02-01"], "Unknown source 'nowhere-like-this'"),
        (["scenes", "--source", "nowhere-like-this", "--aoi", "10,50,11,51", "--start", "2024-01-01", "--end", "2024-02-01"], "(--source)"),
        (["cover", "--source", "demo", "--aoi", "50,10,51,11x", "--start", "2024-01-01", "--end", "2024-02-01"], "AOI"),
        (["cover", "--source", "demo", "--aoi", "10,95,11,96", "--start", "2024-01-01", "--end", "2024-02-01"], "outside -90..90"),
        (["cover", "--source", "demo", "--aoi", "10,50,11,51", "--start", "2024-13-01", "--end", "2024-02-01"], "YYYY-MM-DD"),
        (["cover", "--source", "demo", "--aoi", "10,50,11,51", "--start", "2024-13-01", "--end", "2024-02-01"],
         "(see `cloudcore cover --help`)"),
        (["cover", "--source", "demo", "--aoi", "10,50,11,51", "--start", "2024-01-01", "--end", "2024-02-01", "--flags", "cloud,fog"], "fog"),
        (["cover", "--source", "demo", "--aoi", "10,50,11,51", "--start", "2024-01-01", "--end", "2024-02-01", "--flags", "cloud,fog"],
         "(--flags)"),
        (["cover", "--source", "demo", "--aoi", "0,0,5,5", "--start", "2024-01-01", "--end", "2024-02-01"], "limit"),
        (["cover", "--source", "demo", "--aoi", "0,0,5,5", "--start", "2024-01-01", "--end", "2024-02-01"],
         "over the 100,000 km² limit: give a smaller area, or raise the limit (CLOUDCORE_MAX_AOI_KM2). (--aoi)"),
        (["fill", "--source", "demo", "--aoi", "10,50,11,51", "--date", "2024-01-01", "--method", "mean", "--out", "x.tif"], "invalid choice: 'mean'"),
        (["fill", "--source", "demo", "--aoi", "10,50,11,51", "--date", "2024-01-01", "--method", "mean", "--out", "x.tif"],
         "(see `cloudcore fill --help`)"),
        (["fill", "--source", "demo", "--aoi", "10,50,11,51", "--date", "2024-01-01", "--out", "/no/such/folder/x.tif"],
         "does not exist: create it or choose another path. (--out)"),
        (["bogus"], "invalid choice"),
        (["bogus"], "(see `cloudcore --help`)"),
        (["fill", "--source", "demo", "--aoi", "10,50,11,51", "--date", "2024-01-01", "--out", "x.tif",
          "--window-days", "999999999"], "999999999 is outside 0..3650 days"),
        (["evaluate", "--window-days", "-1"], "-1 is outside 0..3650 days"),
        (["cover", "--source", "demo", "--aoi", "10,50,11,51", "--start", "2024-01-01", "--end", "2024-02-01",
          "--buffer-m", "1e12"], "1e12 is outside 0..5000 m"),
        (["cover", "--source", "demo", "--aoi", "10,50,11,51", "--start", "2024-01-01", "--end", "2024-02-01",
          "--buffer-m", "nan"], "nan is outside 0..5000 m"),
        (["cover", "--source", "demo", "--aoi", "10,50,11,51", "--start", "2024-01-01", "--end", "2024-02-01",
          "--overview", "9"], "9 is outside 0..8 (0 = full resolution)"),
        (["cover", "--source", "demo", "--aoi", "10,50,11,51", "--start", "2024-01-01", "--end", "2024-02-01",
          "--overview", "half"], "'half' is not an overview level"),
        (["scenes", "--source", "demo", "--aoi", "10,50,11,51", "--start", "0001-01-01", "--end", "9999-01-01"],
         "CLOUDCORE_MAX_DATE_SPAN_YEARS"),
    ],
)
def test_bad_input_exits_2_with_one_clear_line(argv, expected, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert expected in err
    assert len(err.splitlines()) == 1 and "Traceback" not in err


SCENES = ["scenes", "--source", "nowhere-like-this", "--aoi", "10,50,11,51", "--start", "2024-01-01", "--end", "2024-02-01"]


@pytest.mark.parametrize(
    "variable, raw, expected",
    [
        ("CLOUDCORE_HTTP_TIMEOUT_S", "lots", "is not a number of seconds: set a number from 0.1 to 3,600 seconds"),
        ("CLOUDCORE_SEARCH_DEADLINE_S", "0", "is outside the allowed range: set a number from 0.1 to"),
        ("CLOUDCORE_MAX_AOI_KM2", "-5", "is outside the allowed range: set a number from"),
        ("CLOUDCORE_MAX_SCENES", "2.5", "is not a whole number: set a whole number from 1 to"),
        ("CLOUDCORE_WORKERS", "nan", "is not a number of threads"),
        ("CLOUDCORE_DEBUG", "maybe", "is not a yes/no value: set it to 1 or 0"),
    ],
)
def test_a_bad_setting_exits_2_with_one_line_naming_it_before_anything_runs(monkeypatch, capsys, variable, raw, expected):
    monkeypatch.setenv(variable, raw)
    # The source named is unknown too: the setting is refused first, when the command starts.
    assert main(SCENES) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"cloudcore: {variable}={raw!r} {expected}"), err
    assert err.endswith("or unset it for the default.") or err.endswith("or unset it."), err
    assert len(err.splitlines()) == 1 and "Traceback" not in err and "Unknown source" not in err


def test_settings_are_read_from_the_environment_at_the_start_of_each_command(monkeypatch, capsys):
    monkeypatch.setenv("CLOUDCORE_MAX_AOI_KM2", "10")
    argv = ["scenes", "--source", "nowhere-like-this", "--aoi", "10,50,10.1,50.1", "--start", "2024-01-01", "--end", "2024-02-01"]
    assert main(argv) == 2
    assert "over the 10 km² limit" in capsys.readouterr().err
    monkeypatch.setenv("CLOUDCORE_MAX_AOI_KM2", "1000")  # the next command reads the new value
    assert main(argv) == 2
    assert "Unknown source 'nowhere-like-this'" in capsys.readouterr().err


def test_a_search_that_finds_nothing_says_so_and_exits_0(monkeypatch, capsys):
    import json

    import cloudcore.api.frontdoor
    from tests.rasters import ListSource

    monkeypatch.setattr(cloudcore.api.frontdoor, "open_source", lambda spec, settings=None: ListSource([]))
    assert main(["scenes", "--source", "empty", "--aoi", "10,50,11,51", "--start", "2024-01-01", "--end", "2024-02-01"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out) == {"scenes": []}
    assert "No Landsat scene over this AOI between 2024-01-01 and 2024-02-01" in out.err and "Traceback" not in out.err


def test_empty_folder_is_bad_input(tmp_path, capsys):
    code = main(["scenes", "--source", str(tmp_path), "--aoi", "10,50,11,51", "--start", "2024-01-01", "--end", "2024-02-01"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "QA_PIXEL" in err and len(err.splitlines()) == 1


def test_module_entry_point_reports_without_traceback():
    run = subprocess.run(
        [sys.executable, "-m", "cloudcore", "cover", "--aoi", "1,2,3", "--start", "2024-01-01", "--end", "2024-01-02"],
        capture_output=True, text=True, timeout=60,
    )
    assert run.returncode == 2
    assert "Traceback" not in run.stderr and run.stderr.startswith("cloudcore:")


def test_cloudcore_never_imports_streamlit():
    code = "import sys, cloudcore, cloudcore.cli, cloudcore.gapfill; print('streamlit' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.stdout.strip() == "False", run.stderr


def test_cover_with_a_failed_date_exits_3_and_reports_it(tmp_path, monkeypatch, capsys):
    """A partial result is still printed in full, the failed date says why, and the status says partial."""
    import datetime as dt
    import json

    import numpy as np

    import cloudcore.api.frontdoor
    from cloudcore.masks.qa import CLEAR_BIT
    from tests.rasters import ORIGIN, UTM33N, ListSource, lonlat_bbox, make_scene

    clear = np.full((50, 50), 1 << CLEAR_BIT, np.uint16)
    good = make_scene(tmp_path, "GOOD", clear)
    broken = make_scene(tmp_path, "BROKEN", clear, date=dt.date(2024, 5, 17))
    (tmp_path / "BROKEN_QA_PIXEL.TIF").write_bytes(b"truncated")

    def open_source(spec, settings=None):
        assert spec == "x"
        return ListSource([good, broken])

    # The command line measures through the front door, which opens the source it is given.
    monkeypatch.setattr(cloudcore.api.frontdoor, "open_source", open_source)
    monkeypatch.setenv("CLOUDCORE_CACHE_DIR", str(tmp_path / "cache"))  # not the user's cache
    x0, y0 = ORIGIN
    bbox = lonlat_bbox(UTM33N, x0 + 150, y0 - 1350, x0 + 1350, y0 - 150)
    code = main(["cover", "--source", "x", f"--aoi={bbox}", "--start", "2024-05-01", "--end", "2024-05-31"])
    out = capsys.readouterr()
    assert code == 3
    dates = json.loads(out.out)["dates"]
    assert [d["error"] is None for d in dates] == [True, False]
    assert "BROKEN_QA_PIXEL.TIF" in dates[1]["error"] and dates[0]["clear_pct"] == 100.0
    assert list(dates[0])[-1] == "obscured_pct" and dates[0]["obscured_pct"] == 0.0
    assert "1 of 2 dates failed" in out.err


def test_help_loads_no_heavy_library():
    """--help and the parser must answer at once: no numpy, GDAL or model at import."""
    code = "import sys, cloudcore, cloudcore.cli; print(sorted(m for m in ('numpy', 'rasterio', 'onnxruntime', 'scipy') if m in sys.modules))"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.stdout.strip() == "[]", run.stdout + run.stderr
    run = subprocess.run([sys.executable, "-m", "cloudcore", "--help"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and "evaluate" in run.stdout
