"""The dashboard's CSV and table carry obscured_pct, as the CLI's `cover --format csv` does."""

from __future__ import annotations

import csv
import io

import pytest

from cloudcore.stats.cover import COVER_FIELDS, compute_cover
from tests.demo_record import DEMO_AOI, demo_cache_root, demo_settings  # noqa: F401 - fixtures


def test_the_explore_csv_has_the_cli_fields_and_obscured_pct(demo_settings):
    from cloudcore import open_source, parse_aoi
    from ui.services import cover_csv

    records = compute_cover(open_source("demo", demo_settings), parse_aoi(DEMO_AOI, settings=demo_settings),
                            "2022-06-01", "2022-07-31", settings=demo_settings)
    rows = list(csv.DictReader(io.StringIO(cover_csv(records))))
    assert list(rows[0]) == list(COVER_FIELDS) and "obscured_pct" in rows[0]
    assert len(rows) == len(records) > 5
    for row, record in zip(rows, records):
        assert row["date"] == record.date
        assert float(row["obscured_pct"]) == pytest.approx(record.obscured_pct)
        assert float(row["obscured_pct"]) == pytest.approx(
            100 - float(row["valid_pct"]) * float(row["clear_pct"]) / 100, abs=0.01)
