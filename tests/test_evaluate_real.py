"""Fills scored on real dates (`evaluate --real`): real masks stamped on clear real dates.

On the LCMAP folder (../shared/data/real/lcmap-espa-046027: 195 real Landsat 5/7 dates of one
128 x 128 px window): the result's structure, a second run giving the same numbers, the
figures of `nearest` recomputed here from the raw files with rasterio and numpy alone, and the
messages for folders that cannot be evaluated. Runs use 2 targets per kind of mask to stay fast.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
from pathlib import Path

import numpy as np
import pytest
import rasterio

from cloudcore.cli import main
from cloudcore.errors import InvalidInputError, NoScenesError
from cloudcore.evaluation.real import evaluate_real
from cloudcore.evaluation.real_plan import CLEAR_PCT, RealDate, pair_masks, spread
from cloudcore.evaluation.real_scores import Tally, format_real_table, spearman
from cloudcore.gapfill.registry import FILL_METHODS
from cloudcore.masks.qa import CLOUD_BIT, CLOUD_SHADOW_BIT, DILATED_CLOUD_BIT, FILL_BIT
from cloudcore.product import SR_BANDS, SR_OFFSET, SR_SCALE
from cloudcore.settings import Settings
from cloudcore.sources.folder import FolderSource
from cloudcore.sources.scene import DateGroup

LCMAP = "lcmap-espa-046027"
TARGETS = 2
# TM/ETM+ file band of each of cloudcore's SR_BANDS (red, green, blue, nir08, swir16, swir22).
TM_FILE_BANDS = {"red": 3, "green": 2, "blue": 1, "nir08": 4, "swir16": 5, "swir22": 7}
# The default mask policy on Landsat 4-7 (no cirrus band): fill, dilated cloud, cloud, shadow.
REMOVED_BITS = (1 << FILL_BIT) | (1 << DILATED_CLOUD_BIT) | (1 << CLOUD_BIT) | (1 << CLOUD_SHADOW_BIT)
PRODUCT = re.compile(r"^(L[TE]0[57]_L2SP_\d{6}_(\d{8})_\d{8}_02_T1)_QA_PIXEL\.TIF$")


@pytest.fixture(scope="session")
def lcmap(real_data) -> Path:
    folder = real_data / LCMAP
    if not (folder / "scenes").is_dir():
        pytest.skip(f"the LCMAP real time series is not at {folder} (see ../shared/data/real)")
    return folder


@pytest.fixture(scope="session")
def lcmap_source(lcmap) -> FolderSource:
    return FolderSource(lcmap)


@pytest.fixture(scope="session")
def evaluated(lcmap_source):
    stages = []
    result = evaluate_real(lcmap_source, targets=TARGETS, settings=Settings(),
                           progress=lambda stage, done, total: stages.append((stage, done, total)))
    return result, stages


# --- the result on the LCMAP folder ------------------------------------------------------------


def test_the_json_holds_both_variants_every_method_and_band(evaluated):
    result, stages = evaluated
    json.dumps(result, allow_nan=False)  # plain JSON, no NaN
    assert result["data"] == LCMAP
    assert result["dates_read"] == 195 and result["window_px"] == [128, 128] and result["aoi_px"] == 128 * 128
    assert result["window_days"] == 60 and result["skipped_dates"] == []
    assert stages[-1] == ("targets filled", len(result["targets"]), len(result["targets"]))
    assert ("dates read", 195, 195) in stages
    for key in ("cloud", "slc_off"):
        variant = result[key]
        assert variant["note"] is None
        assert len(variant["targets"]) == TARGETS
        assert [m["method"] for m in variant["methods"]] == list(FILL_METHODS)
        assert variant["scored_px"] == sum(t["scored_px"] for t in variant["targets"]) > 1000
        for row in variant["methods"]:
            assert set(row["per_band"]) == set(SR_BANDS)
            assert 0 < row["mae"] <= row["rmse"] < 0.2 and abs(row["bias"]) <= row["mae"]
            assert 0 <= row["unfilled_pct"] < 5
            assert row["leaked_px"] == 0  # no stamped pixel kept from the target itself
            calibration = row["uncertainty"]
            assert calibration is None or (set(calibration) == {"spearman", "mean_ratio", "px"}
                                           and (calibration["spearman"] is None or -1 <= calibration["spearman"] <= 1))
        nearest = next(r for r in variant["methods"] if r["method"] == "nearest")
        assert nearest["rmse_vs_nearest_pct"] == 0.0
        for target in variant["targets"]:
            # A mask comes from another season's date, never from a donor of the target.
            days = abs((dt.date.fromisoformat(target["mask_date"]) - dt.date.fromisoformat(target["date"])).days)
            assert days > 60
            assert 0 < target["scored_px"] <= target["stamped_px"]
            assert target["date"] in result["targets"]
    assert all(t["platform"] != "landsat-7" for t in result["slc_off"]["targets"])
    assert all(t["mask_platform"] == "landsat-7" and t["mask_date"] >= "2003-05-31" for t in result["slc_off"]["targets"])


def test_a_second_run_gives_the_same_result(evaluated, lcmap_source):
    again = evaluate_real(lcmap_source, targets=TARGETS, settings=Settings())
    assert again == evaluated[0]


def test_the_table_shows_every_method_for_both_variants(evaluated):
    table = format_real_table(evaluated[0])
    assert table.startswith(f"Real data: {LCMAP} (195 dates, a 128 x 128 px window")
    assert table.count("| method | RMSE | MAE | bias | unfilled % | RMSE vs nearest | uncertainty rho | mean ratio |") == 2
    assert table.count("| method | red | green | blue | nir08 | swir16 | swir22 |") == 2
    for method in FILL_METHODS:
        assert table.count(f"| {method} |") == 4
    assert "| nearest |" in table and "(base)" in table
    assert "Simulated cloud:" in table and "SLC-off stripes:" in table


def read_folder(folder: Path) -> dict[dt.date, tuple[np.ndarray, np.ndarray]]:
    """date -> (QA, (6, H, W) DN in SR_BANDS order), straight from the files with rasterio."""
    dates = {}
    for path in sorted((folder / "scenes").iterdir()):
        match = PRODUCT.match(path.name)
        if not match:
            continue
        with rasterio.open(path) as src:
            qa = src.read(1)
        bands = []
        for band in SR_BANDS:
            with rasterio.open(folder / "scenes" / f"{match[1]}_SR_B{TM_FILE_BANDS[band]}.TIF") as src:
                bands.append(src.read(1))
        dates[dt.datetime.strptime(match[2], "%Y%m%d").date()] = (qa, np.stack(bands))
    return dates


def test_nearest_figures_match_an_independent_computation(evaluated, lcmap):
    """`nearest` redone from the raw files: stamp, take the nearest usable date, score in numpy."""
    result = evaluated[0]
    files = read_folder(lcmap)
    for key in ("cloud", "slc_off"):
        errors = []
        for target in result[key]["targets"]:
            day, mask_day = dt.date.fromisoformat(target["date"]), dt.date.fromisoformat(target["mask_date"])
            qa, truth = files[day]
            mask_qa = files[mask_day][0]
            mask_fill = (mask_qa & (1 << FILL_BIT)) != 0
            stamp = mask_fill if key == "slc_off" else ((mask_qa & REMOVED_BITS) != 0) & ~mask_fill
            target_removed = (qa & REMOVED_BITS) != 0
            scored = stamp & ~target_removed & (truth != 0).all(axis=0)
            filled = np.zeros_like(truth)
            remaining = scored.copy()
            donors = sorted((d for d in files if d != day and abs((d - day).days) <= 60), key=lambda d: (abs((d - day).days), d))
            for donor in donors:
                take = remaining & ((files[donor][0] & REMOVED_BITS) == 0)
                filled[:, take] = files[donor][1][:, take]
                remaining &= ~take
            done = scored & ~remaining
            error = (filled[:, done] * SR_SCALE + SR_OFFSET) - (truth[:, done] * SR_SCALE + SR_OFFSET)
            errors.append(error)
            row = next(m for m in target["methods"] if m["method"] == "nearest")
            assert target["stamped_px"] == int(stamp.sum()) and target["scored_px"] == int(scored.sum())
            assert row["rmse"] == pytest.approx(math.sqrt((error**2).mean()), abs=1e-5)
            assert row["mae"] == pytest.approx(np.abs(error).mean(), abs=1e-5)
            assert row["bias"] == pytest.approx(error.mean(), abs=1e-5)
            assert row["unfilled_pct"] == pytest.approx(100 * remaining.sum() / scored.sum(), abs=0.01)
        pooled = np.concatenate(errors, axis=1)
        nearest = next(m for m in result[key]["methods"] if m["method"] == "nearest")
        assert nearest["rmse"] == pytest.approx(math.sqrt((pooled**2).mean()), abs=1e-5)
        assert nearest["bias"] == pytest.approx(pooled.mean(), abs=1e-5)
        for i, band in enumerate(SR_BANDS):
            assert nearest["per_band"][band]["rmse"] == pytest.approx(math.sqrt((pooled[i] ** 2).mean()), abs=1e-5)
            assert nearest["per_band"][band]["mae"] == pytest.approx(np.abs(pooled[i]).mean(), abs=1e-5)


# --- folders that cannot be evaluated ------------------------------------------------------------


def subset(lcmap: Path, root: Path, days: list[str]) -> Path:
    """A folder (root/site/scenes) linking the LCMAP files of the given YYYYMMDD dates."""
    scenes = root / "site" / "scenes"
    scenes.mkdir(parents=True)
    for path in (lcmap / "scenes").iterdir():
        if any(f"_{day}_" in path.name for day in days):
            os.symlink(path, scenes / path.name)
    return scenes


def test_a_missing_or_empty_folder_is_refused_with_what_to_give(tmp_path, capsys):
    with pytest.raises(NoScenesError, match="does not exist: give a folder of Landsat Collection 2 Level-2") as missing:
        evaluate_real(tmp_path / "nowhere", settings=Settings())
    assert missing.value.parameter == "folder" and "--" not in str(missing.value)
    with pytest.raises(NoScenesError, match="holds no Landsat Collection 2 Level-2 QA_PIXEL files"):
        evaluate_real(tmp_path, settings=Settings())
    assert main(["evaluate", "--real", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cloudcore: Folder ") and err.rstrip().endswith("(--real)") and err.count("\n") == 1


def test_a_folder_without_clear_or_partly_cloudy_dates_says_which(lcmap, tmp_path, capsys):
    # 2000-03-01 and 2000-03-17 are wholly cloudy, 2000-05-12 a quarter: no clear date.
    cloudy = subset(lcmap, tmp_path / "a", ["20000301", "20000317", "20000512"])
    with pytest.raises(InvalidInputError, match=rf"No date in 'site' has {CLEAR_PCT:g} % of the window clear .*"
                                                r"Add clear dates to the folder"):
        evaluate_real(cloudy, settings=Settings())
    # 2000-06-29 and 2000-07-15 are clear, 2000-07-23 wholly cloudy: no partly cloudy date.
    clear = subset(lcmap, tmp_path / "b", ["20000629", "20000715", "20000723"])
    with pytest.raises(InvalidInputError, match=r"No date in 'site' has 20-80 % of the window removed .*"
                                                r"Add partly cloudy dates to the folder"):
        evaluate_real(clear, settings=Settings())
    assert main(["evaluate", "--real", str(clear)]) == 2
    assert "there is no real cloud mask to stamp" in capsys.readouterr().err


def test_a_small_folder_is_scored_and_its_scenes_folder_named_by_its_parent(lcmap, tmp_path, capsys):
    # Summer 2002: clear and partly cloudy Landsat 5 and 7 dates, no SLC-off date yet.
    days = ["20020611", "20020705", "20020721", "20020806", "20020814", "20020822", "20020830"]
    scenes = subset(lcmap, tmp_path, days)
    assert main(["evaluate", "--real", str(scenes), "--targets", "1", "--format", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["data"] == "site" and result["dates_read"] == len(days)
    assert len(result["cloud"]["targets"]) == 1 and result["cloud"]["methods"]
    assert result["slc_off"]["targets"] == [] and result["slc_off"]["methods"] == []
    assert "no Landsat 7 date from 2003-05-31 on" in result["slc_off"]["note"]
    assert "Not measured: no Landsat 7 date" in format_real_table(result)


def test_a_window_too_large_to_hold_asks_for_a_smaller_aoi(lcmap, tmp_path, monkeypatch):
    from cloudcore.evaluation import real

    monkeypatch.setattr(real, "MAX_WINDOW_PX", 50 * 50)
    scenes = subset(lcmap, tmp_path, ["20020611", "20020806"])
    with pytest.raises(InvalidInputError, match=r"needs a read of 132 x 132 px per date, over the 2,500 px \(50 x 50\) "
                                                r"this evaluation holds per date: give an aoi of at most about 2 x 2 km") as refused:
        evaluate_real(scenes, settings=Settings())
    assert refused.value.parameter == "aoi"


def test_real_runs_refuse_the_demo_options():
    with pytest.raises(InvalidInputError, match="leave out --source, --start"):
        main_raises(["evaluate", "--real", "x", "--source", "demo", "--start", "2020-01-01"])


def main_raises(argv: list[str]) -> None:
    """The CLI's evaluate handler, without main's catch-all (to see the error itself)."""
    from cloudcore.cli import COMMANDS, _build_parser

    args = _build_parser().parse_args(argv)
    COMMANDS[args.command](args, Settings())


# --- the pieces on hand-made inputs --------------------------------------------------------------


def fake_dates(days: list[str]) -> list[RealDate]:
    empty = np.zeros((1, 1), dtype=bool)
    return [
        RealDate(index=i, group=DateGroup(date=dt.date.fromisoformat(d), platform="landsat-5", wrs_path=46, scenes=()),
                 stack=None, removed=empty, fill=empty, removed_pct=0.0, fill_pct=0.0, snow_pct=0.0)  # type: ignore[arg-type]
        for i, d in enumerate(days)
    ]


def test_targets_spread_over_the_record_and_masks_come_from_another_season_first():
    dates = fake_dates([f"2001-{m:02d}-01" for m in range(1, 13)])
    assert [d.date.month for d in spread(dates, 3)] == [3, 7, 11]
    assert spread(dates[:2], 3) == dates[:2]
    masks = fake_dates(["2001-03-10", "2003-02-20", "2004-04-01"])
    # Target 2001-02-01: 2001-03-10 is nearest in day of year but a donor; 2003-02-20 is 19 days of year away.
    pairs = pair_masks([dates[1]], masks, window_days=60)
    assert pairs[0][1].date == dt.date(2003, 2, 20)
    # Then 2001-03-01 takes the mask not used yet, though 2003-02-20 is nearer in day of year.
    pairs = pair_masks([dates[1], dates[2]], masks, window_days=60)
    assert [m.date for _, m in pairs] == [dt.date(2003, 2, 20), dt.date(2004, 4, 1)]


def test_tally_pools_pixels_and_calibrates_a_perfect_prediction():
    truth = np.full((2, 1, 4), 10000, dtype=np.uint16)
    filled = truth.copy()
    filled[0, 0, :] += np.array([0, 100, 200, 300], dtype=np.uint16)  # errors 0 .. 3 x 100 DN in band 1
    scored = np.array([[True, True, True, True]])
    provenance = np.full((1, 4), 20010101, dtype=np.uint32)
    actual = np.array([0, 100, 200, 300]) * SR_SCALE / 2  # the mean over the two bands
    tally = Tally(bands=2)
    own = tally.add(filled, truth, scored, provenance, target_code=20000101, uncertainty=actual[None, :].astype(np.float32))
    summary = tally.summary()
    errors = np.concatenate([np.array([0, 100, 200, 300]) * SR_SCALE, np.zeros(4)])
    assert own["rmse"] == summary["rmse"] == pytest.approx(math.sqrt((errors**2).mean()), abs=1e-5)
    assert summary["per_band"]["green"] == {"rmse": 0.0, "mae": 0.0, "bias": 0.0}
    assert summary["uncertainty"] == {"spearman": 1.0, "mean_ratio": pytest.approx(1.0, abs=1e-3), "px": 4}
    assert summary["leaked_px"] == 0 and summary["unfilled_pct"] == 0.0
    assert spearman(np.ones(5), np.arange(5.0)) is None


def test_a_pixel_kept_from_the_target_counts_as_leaked():
    truth = np.full((1, 1, 2), 10000, dtype=np.uint16)
    tally = Tally(bands=1)
    tally.add(truth, truth, np.array([[True, True]]), np.array([[20000101, 0]], dtype=np.uint32), 20000101)
    summary = tally.summary()
    assert summary["leaked_px"] == 1 and summary["unfilled_pct"] == 50.0 and summary["uncertainty"] is None
