"""`best`: the clear dates closest to a date of interest, from the cloud over the AOI itself."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest

import cloudcore
from cloudcore import DateCover, InvalidInputError, nearest_clear_dates
from cloudcore.cli import main
from cloudcore.demo import DEMO_END, DEMO_EXAMPLE_BBOX, DEMO_START
from tests.demo_record import demo_cache_root, demo_settings  # noqa: F401 - fixtures

BBOX = ",".join(str(v) for v in DEMO_EXAMPLE_BBOX)


def record(date: str, obscured: float, platform: str = "landsat-8", *, valid: float = 100.0, cloud: float | None = None,
           shadow: float = 0.0, snow: float = 0.0, error: str | None = None) -> DateCover:
    """A measured date whose obscured_pct comes out as `obscured` (all of it cloud unless told)."""
    if error:
        return DateCover(date=date, platform=platform, scene_ids=[f"S{date}"], scene_cloud_pct=None, error=error)
    clear = 100.0 * (1 - (obscured - (100 - valid)) / valid) if valid else None
    masked = None if clear is None else 100 - clear
    return DateCover(date=date, platform=platform, scene_ids=[f"S{date}"], scene_cloud_pct=None, valid_pct=valid,
                     cloud_pct=masked if cloud is None else cloud, shadow_pct=shadow, snow_pct=snow, masked_pct=masked,
                     clear_pct=clear)


def test_nearest_first_ties_earlier_first_and_only_under_the_threshold():
    records = [record("2022-06-01", 2), record("2022-06-09", 50), record("2022-06-11", 0), record("2022-06-19", 10),
               record("2022-05-30", 10.01), record("2022-06-21", 3, error="read timed out")]
    rows = nearest_clear_dates(records, "2022-06-10", max_obscured=10, count=10)
    assert [(r["date"], r["days_from_near"]) for r in rows] == [("2022-06-11", 1), ("2022-06-01", -9), ("2022-06-19", 9)]
    # 2022-06-01 and 2022-06-19 are both 9 days away: the earlier comes first.
    assert list(rows[0]) == list(cloudcore.NEAREST_FIELDS)
    assert rows[0]["obscured_pct"] == 0.0 and rows[2]["obscured_pct"] == 10.0
    assert [r["date"] for r in nearest_clear_dates(records, "2022-06-10", max_obscured=10, count=2)] == [
        "2022-06-11", "2022-06-01"]
    assert nearest_clear_dates(records, "2022-06-10", max_obscured=0) == [rows[0]]


def test_one_day_two_platforms_both_listed_in_record_order():
    records = [record("2022-06-01", 1, "landsat-7", valid=100), record("2022-06-01", 0, "landsat-9")]
    rows = nearest_clear_dates(records, dt.date(2022, 6, 1))
    assert [(r["date"], r["platform"], r["days_from_near"]) for r in rows] == [
        ("2022-06-01", "landsat-7", 0), ("2022-06-01", "landsat-9", 0)]


def test_notes_say_what_a_person_should_know():
    slc_off = record("2012-06-01", 22.0, "landsat-7", valid=78.0)
    assert nearest_clear_dates([slc_off], "2012-06-01", max_obscured=30)[0]["note"] == (
        "Landsat 7 SLC-off: 22 % of the area has no data")
    # Before the scan line corrector failed, a Landsat 7 gap is the scene's edge, not SLC-off.
    edge = record("2001-06-01", 15.0, "landsat-7", valid=85.0)
    assert cloudcore.date_note(edge) == "15 % of the area has no data"
    assert cloudcore.date_note(record("2022-06-01", 0.0)) == ""
    # Shares of the valid pixels become shares of the area: 4 % cloud of half the area is 2 %.
    cloudy = record("2022-06-01", 54.0, valid=50.0, cloud=4.0, shadow=4.0, snow=20.0)
    assert cloudcore.date_note(cloudy) == "50 % of the area has no data; cloud 2 %, shadow 2 %; snow on 10 % of the area"


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [({"max_obscured": 101}, "max_obscured=101 is outside 0..100"),
     ({"max_obscured": "x"}, "max_obscured='x' is not a number"),
     ({"count": 0}, "count=0 is outside 1..1000"),
     ({"count": 2.5}, "whole number")],
)
def test_bad_settings_are_refused_with_their_name(kwargs, words):
    with pytest.raises(InvalidInputError, match=words):
        nearest_clear_dates([record("2022-06-01", 0)], "2022-06-01", **kwargs)


@pytest.fixture
def demo_table(demo_settings):
    return demo_settings, cloudcore.cover(BBOX, DEMO_START, DEMO_END, source="demo", settings=demo_settings)


def test_front_door_agrees_with_an_independent_reading_of_cover(demo_table):
    settings, table = demo_table
    near = dt.date(2022, 7, 1)
    frame = cloudcore.best_dates(BBOX, DEMO_START, DEMO_END, near, source="demo", max_obscured=5, count=8,
                                 settings=settings)
    # Independently: the cover rows under 5 %, by distance to the date, earlier first on ties.
    clear = table[table["obscured_pct"] <= 5]
    days = [(d.date() - near).days for d in clear.index]
    expected = sorted(zip(days, clear.index), key=lambda p: (abs(p[0]), p[0]))[:8]
    assert list(frame["days_from_near"]) == [d for d, _ in expected]
    assert list(frame["date"]) == [t for _, t in expected]
    assert list(frame.columns) == list(cloudcore.NEAREST_FIELDS)
    assert str(frame["date"].dtype) == "datetime64[ns]" and frame["obscured_pct"].max() <= 5
    assert frame.attrs["near"] == "2022-07-01" and frame.attrs["source"] == "demo"


def test_front_door_refuses_a_date_outside_the_range_before_searching():
    with pytest.raises(InvalidInputError, match=r"2024-01-05 is outside the dates searched, 2022-01-01 to 2023-12-31"):
        cloudcore.best_dates(BBOX, DEMO_START, DEMO_END, "2024-01-05", source="no-such-source")


def test_cli_json_and_csv(demo_table, capsys, monkeypatch):
    settings, table = demo_table
    monkeypatch.setenv("CLOUDCORE_CACHE_DIR", str(settings.cache_dir))
    args = ["best", "--source", "demo", f"--aoi={BBOX}", "--start", "2022-01-01", "--end", "2023-12-31",
            "--near", "2023-03-15", "--count", "4"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["near"] == "2023-03-15" and out["max_obscured"] == 10
    assert [list(row) for row in out["dates"]] == [list(cloudcore.NEAREST_FIELDS)] * 4
    for row in out["dates"]:
        measured = table.loc[row["date"]]
        assert row["obscured_pct"] == measured["obscured_pct"] <= 10
        assert row["days_from_near"] == (dt.date.fromisoformat(row["date"]) - dt.date(2023, 3, 15)).days
    distances = [abs(r["days_from_near"]) for r in out["dates"]]
    assert distances == sorted(distances)
    assert main([*args, "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["date"] for r in rows] == [r["date"] for r in out["dates"]]


@pytest.mark.parametrize(
    ("extra", "words"),
    [(["--near", "2025-01-01"], "The date of interest 2025-01-01 is outside the dates searched"),
     (["--near", "2022-13-01"], "'2022-13-01' is not a date: write it as YYYY-MM-DD"),
     (["--near", "2022-06-01", "--max-obscured", "-1"], "-1 is not a percentage between 0 and 100"),
     (["--near", "2022-06-01", "--count", "0"], "0 is outside 1..1000 dates")],
)
def test_cli_bad_input_is_one_line_and_exit_2(extra, words, capsys):
    code = main(["best", "--source", "demo", f"--aoi={BBOX}", "--start", "2022-01-01", "--end", "2023-12-31", *extra])
    err = capsys.readouterr().err
    assert code == 2 and words in err and err.count("\n") == 1
