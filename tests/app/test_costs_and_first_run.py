"""What the dashboard says a wait will cost: the ML mask's estimate, and whether the demo must be made first."""

from __future__ import annotations

import pytest

from cloudcore import Settings, demo_ready
from tests.demo_record import demo_cache_root, demo_settings  # noqa: F401 - fixtures


def test_demo_ready_is_false_for_an_empty_cache_and_true_once_the_record_is_made(tmp_path, demo_settings):  # noqa: F811
    assert demo_ready(Settings(cache_dir=tmp_path)) is False
    assert demo_ready(demo_settings) is True  # the fixture made the record in its cache


@pytest.mark.parametrize(("seconds", "said"), [
    (0.4, "5 s"), (12, "10 s"), (44, "45 s"), (89, "90 s"), (114, "2 min"), (3000, "50 min"), (7200, "2.0 h"),
])
def test_a_wait_is_said_as_a_person_reads_it(seconds, said):
    from ui.services import duration

    assert duration(seconds) == said


def test_the_ml_cost_per_date_learns_from_this_servers_runs_and_grows_with_the_area():
    from ui import services

    costs = services._ml_costs()
    saved = dict(costs)
    try:
        costs.update(seconds_per_km2_date=services.ML_SECONDS_PER_DATE / 52.0, dates=0)
        first = services.ml_seconds_per_date(52.0)
        assert first == pytest.approx(services.ML_SECONDS_PER_DATE)
        assert services.ml_seconds_per_date(104.0) == pytest.approx(2 * first)
        # This server is four times slower: 40 dates of 52 km² took 4 x 0.65 s each.
        services._record_ml_cost(40 * 4 * services.ML_SECONDS_PER_DATE, 40, 52.0)
        learned = services.ml_seconds_per_date(52.0)
        assert first < learned < 4 * first
        for _ in range(10):
            services._record_ml_cost(40 * 4 * services.ML_SECONDS_PER_DATE, 40, 52.0)
        assert services.ml_seconds_per_date(52.0) == pytest.approx(4 * first, rel=0.1)
        services._record_ml_cost(5.0, 0, 52.0)  # nothing measured: nothing learned
        assert costs["dates"] == 440
    finally:
        costs.clear()
        costs.update(saved)


def test_under_the_ml_mask_alone_qa_flags_and_buffer_are_not_part_of_what_is_cached():
    from ui.services import mask_settings

    assert mask_settings("cloud,shadow", 90.0, "ml") == mask_settings("snow", 0.0, "ml")
    assert mask_settings("cloud,shadow", 90.0, "qa") == ("cloud,shadow", 90.0)
    assert mask_settings("cloud,shadow", 90.0, "qa+ml") == ("cloud,shadow", 90.0)
