"""Scoring fills against the truth: the metrics on hand-made arrays, then a short run on the demo."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from cloudcore.demo import DEMO_EXAMPLE_BBOX
from cloudcore.errors import InvalidInputError, SceneReadError
from cloudcore.evaluation.fills import evaluate_fill, format_table, read_truth, score_fill, seam_score
from cloudcore.gapfill.image import fill_date, fill_inputs
from cloudcore.gapfill.inputs import read_fill_inputs
from cloudcore.gapfill.registry import FILL_METHODS
from cloudcore.geo.aoi import parse_aoi
from cloudcore.product import SR_OFFSET, SR_SCALE
from cloudcore.settings import Settings
from cloudcore.sources.demo import DemoSource
from cloudcore.sources.scene import DateGroup, Scene

T, F = True, False


def dn(reflectance: float) -> int:
    """The Collection 2 Level-2 DN nearest a reflectance (within 0.000014, well inside the tolerances)."""
    return round((reflectance - SR_OFFSET) / SR_SCALE)


def bands(*rows: list[float]) -> np.ndarray:
    """(1, H, W) DN from rows of reflectance; None is no data (0)."""
    return np.array([[[0 if v is None else dn(v) for v in row] for row in rows]], dtype=np.uint16)


# --- the metrics on hand-made arrays -----------------------------------------------------------


def test_rmse_bias_and_unfilled_share():
    # Four holes with truth: two filled 0.01 too bright and 0.03 too dark, one unfilled, one exact.
    truth = bands([0.10, 0.10, 0.10, 0.10, 0.10])
    filled = bands([0.10, 0.11, 0.07, None, 0.10])
    holes = np.array([[F, T, T, T, T]])
    kept = ~holes
    scores = score_fill(filled, truth, holes, kept)
    errors = np.array([0.01, -0.03, 0.0])
    assert scores["rmse"] == pytest.approx(np.sqrt((errors**2).mean()), abs=1e-4)
    assert scores["bias"] == pytest.approx(errors.mean(), abs=1e-4)
    assert scores["unfilled_pct"] == pytest.approx(25.0)
    assert scores["scored_px"] == 4


def test_holes_without_truth_are_not_scored():
    truth = bands([0.10, None, 0.10])
    filled = bands([0.10, 0.50, None])
    holes = np.array([[F, T, T]])
    scores = score_fill(filled, truth, holes, ~holes)
    assert scores["scored_px"] == 1
    assert scores["unfilled_pct"] == 100.0
    assert scores["rmse"] is None and scores["bias"] is None


def test_seam_of_a_known_step():
    # Kept left half at 0.10; the filled right half is 0.04 brighter than the truth, which is flat.
    truth = bands([0.10] * 4, [0.10] * 4)
    filled = bands([0.10, 0.10, 0.14, 0.14], [0.10, 0.10, 0.14, 0.14])
    kept = np.array([[T, T, F, F], [T, T, F, F]])
    assert seam_score(filled, truth, kept, ~kept) == pytest.approx(0.04, abs=1e-4)
    assert score_fill(filled, truth, ~kept, kept)["seam"] == pytest.approx(0.04, abs=1e-4)


def test_a_step_the_ground_has_is_no_seam():
    # The truth itself steps by 0.05 where the fill begins: a perfect fill scores 0.
    truth = bands([0.10, 0.10, 0.15], [0.10, 0.10, 0.15])
    kept = np.array([[T, T, F], [T, T, F]])
    assert seam_score(truth.copy(), truth, kept, ~kept) == pytest.approx(0.0, abs=1e-4)
    # A fill smoother than the ground (it lost the step) scores below 0, by the step it lost.
    flattened = bands([0.10, 0.10, 0.10], [0.10, 0.10, 0.10])
    assert seam_score(flattened, truth, kept, ~kept) == pytest.approx(-0.05, abs=1e-4)


def test_seam_counts_vertical_pairs_and_none_without_pairs():
    truth = bands([0.10], [0.10], [0.10])
    filled = bands([0.10], [0.12], [0.16])
    kept = np.array([[T], [F], [F]])
    # Only the pair (row 0, row 1) joins a kept and a filled pixel.
    assert seam_score(filled, truth, kept, ~kept) == pytest.approx(0.02, abs=1e-4)
    assert seam_score(filled, truth, np.zeros_like(kept), ~kept) is None


def test_format_table_shows_every_method_and_the_change_against_nearest():
    result = {
        "dates_evaluated": 3,
        "methods": [
            {"method": "nearest", "rmse": 0.02, "bias": 0.001, "unfilled_pct": 1.5, "seam": 0.01},
            {"method": "nearest-matched", "rmse": 0.01, "bias": -0.0005, "unfilled_pct": 1.5, "seam": 0.004},
            {"method": "median", "rmse": None, "bias": None, "unfilled_pct": None, "seam": None},
        ],
    }
    table = format_table(result)
    lines = table.splitlines()
    assert "3 partly cloudy dates" in lines[0]
    assert lines[2] == "| method | RMSE | bias | unfilled % | seam |"
    assert lines[4] == "| nearest | 0.0200 | 0.0010 | 1.50 | 0.0100 |"
    assert lines[5] == "| nearest-matched | 0.0100 (-50.0 %) | -0.0005 | 1.50 | 0.0040 (-60.0 %) |"
    assert lines[6] == "| median | n/a | n/a | n/a | n/a |"


def test_scenes_without_truth_are_refused(tmp_path):
    scene = Scene(
        id="LC08_L2SP_024030_20240105_02_T1", datetime=dt.datetime(2024, 1, 5, tzinfo=dt.timezone.utc),
        platform="landsat-8", wrs_path=24, wrs_row=30, scene_cloud_pct=None, land_cloud_pct=None,
        bbox_lonlat=None, geometry_lonlat=None, assets={"red": str(tmp_path / "red.tif")},
    )
    group = DateGroup(date=scene.date, platform="landsat-8", wrs_path=24, scenes=(scene,))
    with pytest.raises(SceneReadError, match=r"no 'truth' asset: fills can only be scored on the demo record\.$") as refused:
        read_truth(group, grid=None, source=None, settings=Settings())
    assert refused.value.parameter == "source" and "--" not in str(refused.value)  # the CLI adds its own hint


# --- a short run on the demo -------------------------------------------------------------------

# Six partly cloudy dates of the growing season in the example AOI.
SUMMER = (dt.date(2022, 7, 1), dt.date(2022, 8, 12))


@pytest.fixture(scope="session")
def demo_source(tmp_path_factory) -> DemoSource:
    """The demo record, in the session's shared demo cache (generated once, about 15-30 s)."""
    return DemoSource(settings=Settings(cache_dir=tmp_path_factory.getbasetemp() / "demo-cache"))


@pytest.fixture(scope="session")
def summer_scores(demo_source):
    calls = []
    result = evaluate_fill(demo_source, parse_aoi(DEMO_EXAMPLE_BBOX), *SUMMER, progress=lambda d, n: calls.append((d, n)))
    return result, calls


def test_evaluation_on_the_demo_scores_every_method(summer_scores):
    result, calls = summer_scores
    n = result["dates_evaluated"]
    assert n >= 4
    assert calls == [(i, n) for i in range(1, n + 1)]
    assert [m["method"] for m in result["methods"]] == list(FILL_METHODS)
    for row in result["methods"]:
        assert row["unfilled_pct"] < 1  # a 60-day window of 8-day revisits leaves hardly any hole
        assert 0 < row["rmse"] < 0.03
        assert abs(row["bias"]) < 0.01
        assert row["seam"] is not None
    by_method = {m["method"]: m for m in result["methods"]}
    # What matching is for: the patches blend in (seam measured on this season: about half).
    assert by_method["nearest-matched"]["seam"] < 0.8 * by_method["nearest"]["seam"]
    assert len(result["dates"]) == n
    for record in result["dates"]:
        assert SUMMER[0].isoformat() <= record["date"] <= SUMMER[1].isoformat()
        assert 10 <= record["masked_pct"] <= 80
        assert [m["method"] for m in record["methods"]] == list(FILL_METHODS)
    assert "| nearest-matched |" in format_table(result)


def test_one_read_serves_every_method_as_fill_date_would(demo_source):
    aoi = parse_aoi(DEMO_EXAMPLE_BBOX)
    date = dt.date(2022, 8, 9)
    inputs = read_fill_inputs(demo_source, aoi, date, all_donors=True, settings=Settings())
    for method in ("nearest", "nearest-matched"):
        # fill_date stops reading once every hole has a donor; the nearest methods cannot tell.
        alone = fill_date(demo_source, aoi, date, method=method).result
        shared = fill_inputs(inputs, method).result
        assert (alone.filled == shared.filled).all()
        assert (alone.provenance == shared.provenance).all()
        assert alone.corrections == shared.corrections
    matched = fill_inputs(inputs, "nearest-matched").result
    assert matched.corrections and all(c.date in matched.donors_used for c in matched.corrections)


def test_truth_reads_the_six_bands_on_the_target_grid(demo_source):
    inputs = read_fill_inputs(demo_source, parse_aoi(DEMO_EXAMPLE_BBOX), dt.date(2022, 8, 9), window_days=0,
                              settings=Settings())
    truth = read_truth(inputs.group, inputs.grid, demo_source, settings=Settings())
    assert truth.shape == inputs.target.bands.shape and truth.dtype == np.uint16
    assert (truth[:, inputs.inside] > 0).all()
    assert len({int(np.median(b[inputs.inside])) for b in truth}) == 6  # six different bands, not band 1 six times
    # Where the target is clear its observation is the truth plus a little haze.
    clear = inputs.inside & ~inputs.removed
    difference = (inputs.target.bands[:, clear].astype(float) - truth[:, clear]) * SR_SCALE
    assert np.abs(np.median(difference, axis=1)).max() < 0.03


def test_bad_requests_say_what_to_do(demo_source):
    aoi = parse_aoi(DEMO_EXAMPLE_BBOX)
    with pytest.raises(InvalidInputError, match="'mean'.*use any of nearest"):
        evaluate_fill(demo_source, aoi, *SUMMER, methods=("nearest", "mean"))
    # 2022-02-22 is clear over the AOI: nothing to score.
    with pytest.raises(InvalidInputError, match="No date between 2022-02-22 and 2022-02-22 has 10-80 %"):
        evaluate_fill(demo_source, aoi, dt.date(2022, 2, 22), dt.date(2022, 2, 22))
