"""`timelapse`: the clear dates of an AOI as labelled frames, written as GIF or MP4."""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import sys

import av
import numpy as np
import pytest
from PIL import Image

import cloudcore
from cloudcore.api.timelapse import Timelapse
from cloudcore.cli import EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_PARTIAL, FPS_RANGE, WIDTH_RANGE, main
from cloudcore.io.animation import MAX_FPS, MIN_FPS
from cloudcore.render.frames import BAND_RGB, MAX_LONG_PX, MAX_WIDTH, MIN_WIDTH, NO_DATA_RGB, frame_label, frame_size
from cloudcore.sources.demo import DemoSource
from tests.demo_record import DEMO_AOI, demo_cache_root, demo_settings  # noqa: F401 - fixtures

BBOX = ",".join(str(v) for v in DEMO_AOI)
SPRING = ("2022-03-01", "2022-06-30")  # 32 dates of the demo: clear, partly cloudy and overcast


def clear_dates(settings, threshold, start=SPRING[0], end=SPRING[1]):
    table = cloudcore.cover(DEMO_AOI, start, end, source="demo", settings=settings)
    chosen = table[table["error"].isna() & table["obscured_pct"].notna() & (table["obscured_pct"] <= threshold)]
    return [d.date().isoformat() for d in chosen.index], list(chosen["platform"])


def run(capsys, *args):
    code = main(["timelapse", *args])
    out, err = capsys.readouterr()
    return code, out, err


def gif_frames(data: bytes) -> list[np.ndarray]:
    with Image.open(io.BytesIO(data)) as image:
        frames = []
        for index in range(image.n_frames):
            image.seek(index)
            frames.append(np.asarray(image.convert("RGB")))
    return frames


def mp4_frames(data: bytes) -> list[np.ndarray]:
    with av.open(io.BytesIO(data)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def observed_picture(date: str, settings) -> np.ndarray:
    """The date in true colour on its AOI grid, drawn by the thumbnail code (not the frame code):
    transparent pixels (outside the AOI, no data) become the neutral grey."""
    source = cloudcore.open_source("demo", settings)
    aoi = cloudcore.parse_aoi(BBOX)
    day = dt.date.fromisoformat(date)
    group = next(g for g in cloudcore.search_dates(source, aoi, day, day, settings=settings))
    rgba = cloudcore.date_thumbnail(group, aoi, source, max_px=100_000, settings=settings)
    rgb = rgba[..., :3].copy()
    rgb[rgba[..., 3] == 0] = NO_DATA_RGB
    return rgb


def enlarged(rgb: np.ndarray, factor: int) -> np.ndarray:
    return np.repeat(np.repeat(rgb, factor, axis=0), factor, axis=1)


@pytest.fixture
def spring(demo_settings):
    return cloudcore.timelapse(DEMO_AOI, *SPRING, source="demo", max_obscured=30, settings=demo_settings)


# --- which dates are frames ------------------------------------------------------------------

@pytest.mark.parametrize("threshold", [5.0, 30.0])
def test_the_frames_are_exactly_the_dates_cover_finds_clear_enough(demo_settings, threshold):
    dates, platforms = clear_dates(demo_settings, threshold)
    made = cloudcore.timelapse(DEMO_AOI, *SPRING, source="demo", max_obscured=threshold, settings=demo_settings)
    assert [d.isoformat() for d in made.dates] == dates
    assert list(made.platforms) == platforms
    assert len(made.frames) == len(dates) and made.skipped == ()
    assert made.summary()["dates"] == dates and made.summary()["frames"] == len(dates)
    assert all(o <= threshold for o in made.obscured_pcts)
    assert made.measured == len(cloudcore.cover(DEMO_AOI, *SPRING, source="demo", settings=demo_settings))


@pytest.mark.parametrize("filled", [False, True])
def test_a_scene_cloud_cap_leaves_out_frame_dates_as_cover_does(demo_settings, filled):
    table = cloudcore.cover(DEMO_AOI, *SPRING, source="demo", max_scene_cloud=20, settings=demo_settings)
    expected = [d.date().isoformat() for d in table.index[table["obscured_pct"] <= 60]]
    everything = cloudcore.cover(DEMO_AOI, *SPRING, source="demo", settings=demo_settings)
    assert len(expected) < (everything["obscured_pct"] <= 60).sum(), "the cap leaves some date out"
    made = cloudcore.timelapse(DEMO_AOI, *SPRING, source="demo", max_obscured=60, max_scene_cloud=20, filled=filled,
                               settings=demo_settings)
    assert [d.isoformat() for d in made.dates] == expected


def test_the_two_thresholds_differ_on_the_demo(demo_settings):
    # Otherwise the test above would not tell the thresholds apart.
    assert len(clear_dates(demo_settings, 5.0)[0]) < len(clear_dates(demo_settings, 30.0)[0])


# --- the pictures ----------------------------------------------------------------------------

def test_frames_are_the_dates_true_colour_enlarged_with_a_label_band(spring, demo_settings):
    picture_rows = spring.picture_height
    first = observed_picture(spring.dates[0].isoformat(), demo_settings)
    factor = picture_rows // first.shape[0]
    assert factor >= 2 and min(first.shape[:2]) * factor >= 256  # the demo AOI is 250 px: enlarged to 500
    assert (spring.width, picture_rows) == (first.shape[1] * factor, first.shape[0] * factor)
    for frame, date, platform, label in zip(spring.frames, spring.dates, spring.platforms, spring.labels):
        assert frame.dtype == np.uint8 and frame.shape == (spring.height, spring.width, 3)
        expected = enlarged(observed_picture(date.isoformat(), demo_settings), factor)
        assert np.array_equal(frame[:picture_rows], expected), date
        assert label == f"{date.isoformat()} · Landsat {platform.split('-')[1]}"
        band = frame[picture_rows:]
        text = (np.abs(band.astype(int) - BAND_RGB).sum(axis=-1) > 200).sum()
        assert text > 100, f"no label text on {date}"
    # Different dates have different labels: the bands differ.
    assert not np.array_equal(spring.frames[0][picture_rows:], spring.frames[1][picture_rows:])


def test_the_label_says_date_sensor_and_filled_share():
    assert frame_label(dt.date(2022, 6, 14), "landsat-8") == "2022-06-14 · Landsat 8"
    assert frame_label(dt.date(2022, 6, 14), "landsat-9", 12.4) == "2022-06-14 · Landsat 9 · filled 12 %"


def test_frame_sizes_enlarge_small_areas_cap_large_ones_and_follow_width():
    assert frame_size((250, 250)) == (500, 500)
    assert frame_size((100, 60)) == (300, 500)  # factor 5: short side 300 >= 256
    assert frame_size((300, 400)) == (400, 300)  # big enough already
    big = frame_size((5000, 2500))
    assert big == (MAX_LONG_PX // 2, MAX_LONG_PX)
    assert frame_size((250, 500), width=301) == (301, 150)
    assert frame_size((1, 1)) == (256, 256)


# --- GIF and MP4 -----------------------------------------------------------------------------

def test_the_cli_writes_a_gif_of_every_frame_and_prints_the_summary(demo_settings, capsys, tmp_path):
    out = tmp_path / "spring.gif"
    code, stdout, stderr = run(capsys, "--source", "demo", f"--aoi={BBOX}", "--start", SPRING[0], "--end", SPRING[1],
                               "--max-obscured", "30", "--fps", "4", "--out", str(out))
    assert code == 0, stderr
    summary = json.loads(stdout)
    dates, _ = clear_dates(demo_settings, 30.0)
    assert summary["frames"] == len(dates) and summary["dates"] == dates
    assert summary["out"] == str(out) and summary["fps"] == 4 and summary["skipped"] == []
    assert summary["max_obscured"] == 30 and summary["filled"] is False
    assert "frames made" in stderr
    with Image.open(out) as image:
        assert image.n_frames == len(dates)
        assert image.size == (summary["width"], summary["height"])
        assert image.info["duration"] == 250 and image.info["loop"] == 0
    assert min(summary["width"], summary["height"]) >= 256
    # Each GIF frame is the date's picture (up to the GIF's 256-colour palette).
    frames = gif_frames(out.read_bytes())
    made = cloudcore.timelapse(DEMO_AOI, *SPRING, source="demo", max_obscured=30, settings=demo_settings)
    for gif, frame in zip(frames, made.frames):
        difference = np.abs(gif.astype(int) - frame.astype(int))
        assert difference.mean() < 3 and np.percentile(difference, 99) < 24
    assert list(tmp_path.iterdir()) == [out]  # no partial file left beside it


def test_one_timelapse_gives_gif_and_mp4_without_reading_again(spring, tmp_path, monkeypatch):
    import cloudcore.io.stack

    def no_reads(*args, **kwargs):
        raise AssertionError("encoding read a date again")

    monkeypatch.setattr(cloudcore.io.stack, "read_date", no_reads)
    gif, mp4 = spring.to_gif(), spring.to_mp4()
    assert gif[:6] == b"GIF89a" and mp4[4:8] == b"ftyp"
    decoded = mp4_frames(mp4)
    assert len(decoded) == len(spring.frames) == len(gif_frames(gif))
    assert decoded[0].shape == (spring.height, spring.width, 3)  # the demo's frames are even: no padding
    # H.264 is lossy but close: the picture of each frame is recognisable.
    for frame, original in zip(decoded, spring.frames):
        assert np.abs(frame.astype(int) - original.astype(int)).mean() < 6
    written = spring.write(tmp_path / "again.mp4")
    assert len(mp4_frames(written.read_bytes())) == len(spring.frames)


def test_width_sets_the_frame_width_and_an_odd_one_still_makes_an_mp4(demo_settings, capsys, tmp_path):
    out = tmp_path / "narrow.mp4"
    code, stdout, stderr = run(capsys, "--source", "demo", f"--aoi={BBOX}", "--start", "2022-06-01", "--end", "2022-07-31",
                               "--width", "301", "--out", str(out))
    assert code == 0, stderr
    summary = json.loads(stdout)
    assert summary["width"] == 301
    decoded = mp4_frames(out.read_bytes())
    assert len(decoded) == summary["frames"] > 0
    # yuv420p needs even sides: the odd width is padded by one pixel.
    assert decoded[0].shape[1] == 302 and decoded[0].shape[0] == summary["height"] + summary["height"] % 2
    made = cloudcore.timelapse(DEMO_AOI, "2022-06-01", "2022-07-31", source="demo", width=301, settings=demo_settings)
    assert made.width == 301 and made.picture_height == round(301 * 250 / 250)


# --- filled ----------------------------------------------------------------------------------

def test_filled_frames_are_the_dates_as_fill_fills_them(demo_settings):
    start, end = "2022-06-01", "2022-07-15"
    every, _ = clear_dates(demo_settings, 100.0, start, end)
    made = cloudcore.timelapse(DEMO_AOI, start, end, source="demo", max_obscured=100, filled=True,
                               settings=demo_settings)
    assert [d.isoformat() for d in made.dates] == every  # every date with data is a frame
    summary = made.summary()
    assert summary["filled"] is True and summary["method"] == cloudcore.DEFAULT_FILL_METHOD
    assert len(summary["filled_pct"]) == len(every)
    cloudiest = sorted(range(len(every)), key=lambda i: -made.obscured_pcts[i])[:3]
    assert made.obscured_pcts[cloudiest[0]] > 50
    for index in cloudiest:
        image = cloudcore.fill_image(DEMO_AOI, every[index], source="demo", settings=demo_settings)
        rgba = cloudcore.filled_picture(image)
        rgb = rgba[..., :3].copy()
        rgb[rgba[..., 3] == 0] = NO_DATA_RGB
        expected = enlarged(rgb, made.picture_height // rgb.shape[0])
        assert np.array_equal(made.frames[index][: made.picture_height], expected), every[index]
        assert summary["filled_pct"][index] == image.result.filled_pct > 20
        assert made.labels[index].endswith(f"filled {image.result.filled_pct:.0f} %")
        # Where a fill exists nothing is left as a hole or a cloud: holes are only where fill found nothing.
        holes = (rgba[..., 3] == 0) & image.inside
        assert holes.sum() == image.result.unfilled_px


def test_without_fill_a_cloudy_date_shows_its_clouds(demo_settings):
    made = cloudcore.timelapse(DEMO_AOI, "2022-06-01", "2022-07-15", source="demo", max_obscured=100,
                               settings=demo_settings)
    cloudiest = int(np.argmax(made.obscured_pcts))
    picture = made.frames[cloudiest][: made.picture_height]
    bright = (picture.min(axis=-1) > 200).mean()
    assert bright > 0.3 and made.filled_pcts[cloudiest] is None and "filled" not in made.labels[cloudiest]


# --- bad input: one line, exit 2, nothing searched (the default source is unreachable here) ---

GOOD = [f"--aoi={BBOX}", "--start", "2022-01-01", "--end", "2022-03-01"]


@pytest.mark.parametrize(("args", "message"), [
    (["--max-obscured", "150"], "argument --max-obscured: 150 is not a percentage between 0 and 100"),
    (["--max-obscured", "-1"], "argument --max-obscured: -1 is not a percentage between 0 and 100"),
    (["--fps", "100"], "argument --fps: 100 is outside 0.5..30 frames per second"),
    (["--fps", "0"], "argument --fps: 0 is outside 0.5..30 frames per second"),
    (["--width", "50"], "argument --width: 50 is outside 128..3840 px"),
    (["--width", "9999"], "argument --width: 9999 is outside 128..3840 px"),
    (["--start", "2022-02-30"], "argument --start: '2022-02-30' is not a date: write it as YYYY-MM-DD"),
])
def test_bad_numbers_and_dates_are_refused_while_parsing(capsys, tmp_path, args, message):
    code, out, err = run(capsys, *GOOD, *args, "--out", str(tmp_path / "t.gif"))
    assert code == EXIT_BAD_INPUT and out == ""
    assert err.startswith(f"cloudcore: {message}") and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "t.gif").exists()


@pytest.mark.parametrize(("name", "message"), [
    ("t.avi", "its extension '.avi' is not .gif or .mp4; name the file .gif or .mp4"),
    ("t.GIFF", "its extension '.giff' is not .gif or .mp4"),
    ("t", "it has no extension; name the file .gif or .mp4"),
    ("missing/t.gif", "does not exist: create it or choose another path. (--out)"),
])
def test_bad_output_paths_are_refused_before_any_search(capsys, tmp_path, name, message):
    code, out, err = run(capsys, *GOOD, "--out", str(tmp_path / name))
    assert code == EXIT_BAD_INPUT and out == "", err
    assert message in err and err.startswith("cloudcore: ") and "dates measured" not in err
    assert list(tmp_path.iterdir()) == []


def test_a_folder_that_cannot_be_written_is_refused_before_any_search(capsys, tmp_path):
    import tempfile

    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        tempfile.TemporaryFile(dir=locked).close()
        locked = None  # root writes anywhere: try a folder the kernel refuses instead
    except OSError:
        pass
    folder = locked if locked is not None else "/sys"
    try:
        tempfile.TemporaryFile(dir=folder).close()
        pytest.skip("no unwritable folder on this machine")
    except OSError:
        pass
    code, out, err = run(capsys, *GOOD, "--out", f"{folder}/t.gif")
    assert code == EXIT_BAD_INPUT and out == ""
    assert f"Cannot write into folder '{folder}'" in err and "choose a folder you can write to. (--out)" in err


def test_start_after_end_is_refused(capsys, tmp_path):
    code, _, err = run(capsys, f"--aoi={BBOX}", "--start", "2022-03-01", "--end", "2022-01-01",
                       "--out", str(tmp_path / "t.gif"))
    assert code == EXIT_BAD_INPUT
    assert "The start date 2022-03-01 is after the end date 2022-01-01: swap them. (--start)" in err


def test_the_library_refuses_the_same_before_any_search(tmp_path):
    for kwargs, parameter in (({"max_obscured": 101}, "max_obscured"), ({"fps": 31}, "fps"),
                              ({"width": MAX_WIDTH + 1}, "width"), ({"width": 200.5}, "width"),
                              ({"out": tmp_path / "t.webm"}, "out"), ({"out": tmp_path / "no" / "t.gif"}, "out"),
                              ({"method": "nope"}, "method"), ({"filled": "yes"}, "filled")):
        with pytest.raises(cloudcore.InvalidInputError) as caught:
            cloudcore.timelapse(BBOX, "2022-01-01", "2022-03-01", **kwargs)  # planetary-computer: never reached
        assert caught.value.parameter == parameter, kwargs


def test_no_date_clear_enough_says_how_many_were_measured_and_what_to_do(demo_settings, capsys, tmp_path):
    code, out, err = run(capsys, "--source", "demo", f"--aoi={BBOX}", "--start", "2022-01-15", "--end", "2022-02-20",
                         "--max-obscured", "1", "--out", str(tmp_path / "t.gif"))
    assert code == EXIT_BAD_INPUT and out == ""
    last = err.strip().splitlines()[-1]
    assert last.startswith("cloudcore: None of the 8 dates measured from 2022-01-15 to 2022-02-20 is at most 1 % obscured")
    assert "raise --max-obscured to at least" in last and "or add --filled" in last
    with pytest.raises(cloudcore.NoFramesError, match="raise max_obscured to at least") as caught:
        cloudcore.timelapse(DEMO_AOI, "2022-01-15", "2022-02-20", source="demo", max_obscured=1, settings=demo_settings)
    assert caught.value.measured == 8 and isinstance(caught.value, cloudcore.NoScenesError)
    assert not (tmp_path / "t.gif").exists()


def test_the_cli_bounds_are_the_librarys():
    assert FPS_RANGE == (MIN_FPS, MAX_FPS) and WIDTH_RANGE == (MIN_WIDTH, MAX_WIDTH)


# --- failures: per date, never a half file, never a bug turned into data ---------------------

def _break_red_of(monkeypatch, scene_date: str):
    """The red band of the scenes acquired on `scene_date` (YYYYMMDD) cannot be read."""
    import re

    original = DemoSource.readable_href

    def broken(self, href, fresh=False):
        if re.search(rf"_\d{{6}}_{scene_date}_", href) and href.endswith("_SR_B4.TIF"):
            return href + ".missing"
        return original(self, href, fresh)

    monkeypatch.setattr(DemoSource, "readable_href", broken)


def test_a_date_whose_frame_cannot_be_read_is_skipped_and_the_cli_exits_3(demo_settings, capsys, tmp_path, monkeypatch):
    dates, _ = clear_dates(demo_settings, 30.0)
    lost = dates[2]
    _break_red_of(monkeypatch, lost.replace("-", ""))
    out = tmp_path / "partial.gif"
    code, stdout, stderr = run(capsys, "--source", "demo", f"--aoi={BBOX}", "--start", SPRING[0], "--end", SPRING[1],
                               "--max-obscured", "30", "--out", str(out))
    assert code == EXIT_PARTIAL
    summary = json.loads(stdout)
    assert summary["dates"] == [d for d in dates if d != lost]
    assert len(summary["skipped"]) == 1 and summary["skipped"][0].startswith(f"{lost} (landsat-")
    assert f"skipped {lost} (landsat-" in stderr
    with Image.open(out) as image:
        assert image.n_frames == len(dates) - 1


def test_a_bug_in_a_read_raises_instead_of_becoming_a_skipped_date(demo_settings, monkeypatch):
    import cloudcore.io.stack

    real = cloudcore.io.stack.read_date

    def buggy(group, grid, source, **kwargs):
        if kwargs.get("bands") == ("red", "green", "blue"):
            raise ZeroDivisionError("a bug")
        return real(group, grid, source, **kwargs)

    monkeypatch.setattr(cloudcore.io.stack, "read_date", buggy)
    with pytest.raises(ZeroDivisionError):
        cloudcore.timelapse(DEMO_AOI, *SPRING, source="demo", max_obscured=30, settings=demo_settings)


def test_an_interrupted_write_leaves_no_file(demo_settings, capsys, tmp_path, monkeypatch):
    from types import SimpleNamespace

    import cloudcore.io.animation

    def interrupted(*args):
        raise KeyboardInterrupt

    # Ctrl-C after the bytes are written, before the rename: the part file must go.
    monkeypatch.setattr(cloudcore.io.animation, "os", SimpleNamespace(replace=interrupted))
    code, out, err = run(capsys, "--source", "demo", f"--aoi={BBOX}", "--start", "2022-06-01", "--end", "2022-07-31",
                         "--out", str(tmp_path / "t.mp4"))
    assert code == EXIT_INTERRUPTED and "interrupted" in err and out == ""
    assert list(tmp_path.iterdir()) == []


def test_an_interrupt_while_reading_frames_stops_the_timelapse(demo_settings, monkeypatch):
    import cloudcore.io.stack

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cloudcore.io.stack, "read_date", interrupted)
    with pytest.raises(KeyboardInterrupt):
        cloudcore.timelapse(DEMO_AOI, *SPRING, source="demo", max_obscured=30, settings=demo_settings)


# --- the API's shape -------------------------------------------------------------------------

def test_the_timelapse_is_exported_and_the_help_stays_light():
    assert cloudcore.Timelapse is Timelapse and callable(cloudcore.timelapse)
    code = ("import sys, cloudcore.cli as c\n"
            "try:\n    c.main(['timelapse', '--help'])\nexcept SystemExit:\n    pass\n"
            "print('loaded:' + ','.join(m for m in ('av', 'PIL', 'rasterio', 'pandas') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "--max-obscured" in done.stdout and "--filled" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "loaded:"


def test_sheet_lays_out_frames_spread_over_the_timelapse(spring):
    sheet = spring.sheet(count=4, columns=2, gap=4)
    assert sheet.shape == (2 * spring.height + 4, 2 * spring.width + 4, 3)
    assert np.array_equal(sheet[: spring.height, : spring.width], spring.frames[0])
    assert np.array_equal(sheet[-spring.height :, -spring.width :], spring.frames[-1])


# --- the README ------------------------------------------------------------------------------

def test_the_readme_shows_the_strip_the_script_makes(demo_settings, tmp_path):
    import importlib.util
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    readme = (repo / "README.md").read_text()
    assert "](docs/timelapse-strip.png)" in readme and "python -m cloudcore timelapse --source demo" in readme
    spec = importlib.util.spec_from_file_location("timelapse_strip", repo / "docs" / "timelapse_strip.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    made = module.make_strip(tmp_path / "strip.png")
    with Image.open(made) as fresh, Image.open(repo / "docs" / "timelapse-strip.png") as committed:
        assert np.array_equal(np.asarray(fresh.convert("RGB")), np.asarray(committed.convert("RGB")))


def test_the_readme_timelapse_python_runs_as_written(demo_cache_root, tmp_path):
    import os
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme[readme.index("### Timelapse (`timelapse`)"):]
    code = re.findall(r"```python\n(.*?)```", section, re.S)[0]
    script = tmp_path / "readme_timelapse.py"
    script.write_text(
        f"import cloudcore\naoi = {DEMO_AOI!r}\n{code}\n"
        "print(made.frames[0].shape, made.dates[0].isoformat(), made.labels[0], len(made.frames), sep='|')\n"
    )
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "CLOUDCORE_CACHE_DIR": str(demo_cache_root)})
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "(540, 500, 3)|2022-01-06|2022-01-06 · Landsat 8|58"
    assert len(mp4_frames((tmp_path / "clear.mp4").read_bytes())) == 58
