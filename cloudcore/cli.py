"""python -m cloudcore (or `cloudcore`): scenes, cover, best, fill, timelapse, evaluate and demo from the command line.

JSON (or CSV) goes to stdout; progress and errors go to stderr. Bad input, a bad setting
included, exits with status 2 and one line saying what was wrong and what to do; a service
that cannot be reached exits with status 1; a `cover` (or `timelapse`) in which some dates failed
exits with status 3. The settings (CLOUDCORE_* variables) are read once, when a command starts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import CloudCoreError, InvalidInputError, SceneReadError, SourceUnreachableError
from .options import DEFAULT_FLAGS, MASK_KINDS, PLANETARY_COMPUTER
from .settings import Settings

if TYPE_CHECKING:
    from .sources.scene import Scene

# Everything heavier (numpy, GDAL, the model) is imported where a command runs, so that
# `--help` and argument errors answer at once. The fill methods' registry is light.

SCENE_FIELDS = ("id", "datetime", "platform", "wrs_path", "wrs_row", "scene_cloud_pct", "land_cloud_pct")
EXIT_BAD_INPUT = 2
EXIT_FAILED = 1
EXIT_PARTIAL = 3  # the output is complete except for dates that failed (their `error` says why)
EXIT_INTERRUPTED = 130

SOURCE_HELP = "planetary-computer (default), demo, an http(s):// STAC API root, or a folder of Landsat C2 L2 files"
# The flag that sets each front-door argument: an error about an argument names its flag.
FLAGS = {
    "aoi": "--aoi", "start": "--start", "end": "--end", "date": "--date", "source": "--source",
    "window_days": "--window-days", "method": "--method", "mask": "--mask", "flags": "--flags",
    "buffer_m": "--buffer-m", "max_scene_cloud": "--max-scene-cloud", "overview": "--overview",
    "scheduler": "--scheduler", "out": "--out", "png": "--png", "folder": "--real", "targets": "--targets",
    "near": "--near", "max_obscured": "--max-obscured", "count": "--count",
    "fps": "--fps", "width": "--width", "filled": "--filled",
}
# Bounds the CLI checks while parsing, so a bad number is refused before anything loads.
MAX_BUFFER_M = 5000
MAX_WINDOW_DAYS = 3650
MAX_OVERVIEW = 8
MAX_TARGETS = 100
MAX_COUNT = 1000
# timelapse: frames per second and width in pixels (the library's io.animation and render.frames bounds).
FPS_RANGE = (0.5, 30.0)
WIDTH_RANGE = (128, 3840)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line, not a usage dump."""

    def error(self, message: str) -> None:  # type: ignore[override]
        command = self.prog.split()[-1]
        see = "cloudcore --help" if command == "cloudcore" else f"cloudcore {command} --help"
        raise InvalidInputError(f"{message} (see `{see}`)")


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: write it as YYYY-MM-DD") from err


def _percent(text: str) -> float:
    try:
        value = float(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from err
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"{value:g} is not a percentage between 0 and 100")
    return value


def _bounded(kind: str, low: float, high: float, unit: str, cast: Callable[[str], Any] = float) -> Callable[[str], Any]:
    """An argparse type for a number in low..high, saying so when it is not."""

    def parse(text: str) -> Any:
        try:
            value = cast(text)
        except ValueError as err:
            raise argparse.ArgumentTypeError(f"{text!r} is not {kind}") from err
        if not low <= value <= high:  # also refuses nan
            raise argparse.ArgumentTypeError(f"{text} is outside {low:g}..{high:g} {unit}")
        return value

    return parse


def _build_parser() -> argparse.ArgumentParser:
    from .gapfill.registry import DEFAULT_METHOD, FILL_METHODS, describe_methods

    parser = _Parser(prog="cloudcore", description="Landsat clouds over an area of interest.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def common(p: argparse.ArgumentParser, dates: bool = True) -> None:
        p.add_argument("--source", default=PLANETARY_COMPUTER, help=SOURCE_HELP)
        p.add_argument(
            "--aoi", required=True,
            help="bbox minlon,minlat,maxlon,maxlat (use --aoi=-76,0,-75,1 for negative numbers), GeoJSON text or a .geojson file",
        )
        if dates:
            p.add_argument("--start", required=True, type=_date, help="first date, YYYY-MM-DD")
            p.add_argument("--end", required=True, type=_date, help="last date, YYYY-MM-DD (inclusive)")

    def mask_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--flags", default=",".join(sorted(DEFAULT_FLAGS)),
                       help="QA flags that remove a pixel: any of fill,dilated,cirrus,cloud,shadow,snow,water")
        p.add_argument("--buffer-m", type=_bounded("a distance in metres", 0, MAX_BUFFER_M, "m"), default=0.0,
                       help=f"grow removed cloud and shadow by this many metres (0..{MAX_BUFFER_M})")
        p.add_argument("--mask", default="qa", choices=MASK_KINDS,
                       help="qa: QA_PIXEL (default); ml: the machine-learning model (slower: reads 6 bands and runs "
                            "the model per date); qa+ml: their union")

    scenes = commands.add_parser("scenes", help="list the Landsat scenes over an AOI")
    common(scenes)
    scenes.add_argument("--max-scene-cloud", type=_percent, help="drop scenes whose scene-wide cloud cover is above this %%")
    scenes.add_argument("--format", choices=("json", "csv"), default="json")

    cover = commands.add_parser("cover", help="cloud, shadow and missing data over the AOI for every date")
    common(cover)
    mask_options(cover)
    cover.add_argument("--max-scene-cloud", type=_percent, help="skip scenes whose scene-wide cloud cover is above this %%")
    cover.add_argument("--format", choices=("json", "csv"), default="json")
    cover.add_argument("--overview", type=_bounded("an overview level", 0, MAX_OVERVIEW, "(0 = full resolution)", int),
                       default=0,
                       help="0: full resolution (default); 1, 2, ...: estimate from the files' overviews (each level "
                            "halves the resolution and moves about a quarter of the bytes), for large areas")
    cover.add_argument("--scheduler", default=None,
                       help="a Dask scheduler address (e.g. tcp://10.0.0.5:8786) to measure the dates on a cluster; "
                            "default: CLOUDCORE_DASK_SCHEDULER, else this machine")
    cover.add_argument("--no-cache", action="store_true",
                       help="measure every date again instead of reusing complete results kept in "
                            "$CLOUDCORE_CACHE_DIR (default ~/.cache/cloudcore)")

    best = commands.add_parser("best", help="the clear dates closest to a date of interest, judged over the AOI")
    common(best)
    mask_options(best)
    best.add_argument("--near", required=True, type=_date, help="the date of interest, YYYY-MM-DD, within --start..--end")
    best.add_argument("--max-obscured", type=_percent, default=10.0,
                      help="a date is clear when at most this %% of the AOI is cloud, shadow or missing (default 10)")
    best.add_argument("--count", type=_bounded("a number of dates", 1, MAX_COUNT, "dates", int), default=5,
                      help=f"how many dates to list (default 5, at most {MAX_COUNT})")
    best.add_argument("--max-scene-cloud", type=_percent, help="skip scenes whose scene-wide cloud cover is above this %%")
    best.add_argument("--format", choices=("json", "csv"), default="json")

    fill = commands.add_parser("fill", help="mask one date and fill its cloudy pixels from other dates")
    common(fill, dates=False)
    fill.add_argument("--date", required=True, type=_date, help="the date to fill, YYYY-MM-DD")
    fill.add_argument("--window-days", type=_bounded("a number of days", 0, MAX_WINDOW_DAYS, "days", int), default=None,
                      help=f"use donor dates up to this many days away (default 60, at most {MAX_WINDOW_DAYS})")
    fill.add_argument("--method", default=DEFAULT_METHOD, choices=FILL_METHODS,
                      help="; ".join(f"{name}{' (default)' if name == DEFAULT_METHOD else ''}: {text}"
                                     for name, text, _ in describe_methods()))
    mask_options(fill)
    fill.add_argument("--out", required=True, help="the filled GeoTIFF (COG) to write")
    fill.add_argument("--png", help="also write a true-colour PNG of the filled image")

    timelapse = commands.add_parser("timelapse", help="the clear dates over the AOI as a labelled GIF or MP4 animation")
    common(timelapse)
    timelapse.add_argument("--max-obscured", type=_percent, default=10.0,
                           help="a date is a frame when at most this %% of the AOI is cloud, shadow or missing "
                                "(default 10; 100 with --filled: every date with data)")
    timelapse.add_argument("--filled", action="store_true",
                           help="gap-fill every frame date from the dates within 60 days (as `fill` does)")
    timelapse.add_argument("--method", default=DEFAULT_METHOD, choices=FILL_METHODS,
                           help=f"the fill method with --filled (default {DEFAULT_METHOD}; see `cloudcore fill --help`)")
    timelapse.add_argument("--mask", default="qa", choices=MASK_KINDS,
                           help="qa: QA_PIXEL (default); ml: the machine-learning model; qa+ml: their union")
    timelapse.add_argument("--fps", type=_bounded("a frame rate", *FPS_RANGE, "frames per second"), default=3.0,
                           help=f"frames per second (default 3, {FPS_RANGE[0]:g} to {FPS_RANGE[1]:g})")
    timelapse.add_argument("--width", type=_bounded("a width in pixels", *WIDTH_RANGE, "px", int), default=None,
                           help=f"frame width in pixels ({WIDTH_RANGE[0]} to {WIDTH_RANGE[1]}; the height keeps the "
                                "aspect); default: the AOI at 30 m enlarged to at least 256 px on the short side")
    timelapse.add_argument("--out", required=True, help="the animation to write: FILE.gif or FILE.mp4")

    evaluate = commands.add_parser(
        "evaluate", help="measure every fill method against a record's cloud-free truth (the demo), or on real dates (--real)"
    )
    evaluate.add_argument("--source", default=None,
                          help="a source whose items carry a 'truth' asset (default: demo, which does)")
    evaluate.add_argument("--real", metavar="DIR", default=None,
                          help="instead: a folder of real Landsat C2 L2 dates (or its scenes/ subfolder); real cloud "
                               "masks and SLC-off stripes are stamped on its clear dates, filled, and the fills "
                               "compared with the true values")
    evaluate.add_argument("--targets", type=_bounded("a number of dates", 1, MAX_TARGETS, "dates", int), default=None,
                          help=f"with --real: clear dates filled per kind of mask (default 12, at most {MAX_TARGETS})")
    evaluate.add_argument("--aoi", default=None,
                          help="default: the demo's example area; with --real, the ground all the folder's scenes cover")
    evaluate.add_argument("--start", type=_date, default=None, help="default: the demo record's first date")
    evaluate.add_argument("--end", type=_date, default=None, help="default: the demo record's last date")
    evaluate.add_argument("--window-days", type=_bounded("a number of days", 0, MAX_WINDOW_DAYS, "days", int), default=60)
    evaluate.add_argument("--format", choices=("table", "json"), default="table")

    demo = commands.add_parser("demo", help="write the synthetic demo catalog (COGs, STAC items, truth) to a folder")
    demo.add_argument("--out", required=True, help="folder to write into")
    return parser


def _progress(label: str) -> Callable[[int, int], None]:
    from .api.inputs import text_progress

    return text_progress(label)


def _emit(records: list[dict[str, Any]], key: str, fields: Sequence[str], fmt: str) -> None:
    if fmt == "csv":
        from .io.export import rows_to_csv

        sys.stdout.write(rows_to_csv(records, fields))
    else:
        json.dump({key: records}, sys.stdout, indent=2)
        sys.stdout.write("\n")


def _scene_record(scene: Scene) -> dict[str, Any]:
    return {
        "id": scene.id,
        "datetime": scene.datetime.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "platform": scene.platform,
        "wrs_path": scene.wrs_path,
        "wrs_row": scene.wrs_row,
        "scene_cloud_pct": scene.scene_cloud_pct,
        "land_cloud_pct": scene.land_cloud_pct,
    }


def _none_found(count: int, what: str, args: argparse.Namespace) -> None:
    """Say on stderr that a search found nothing, and where to look next (the table stays valid)."""
    if count == 0:
        print(f"No Landsat {what} over this AOI between {args.start} and {args.end} in {args.source}: "
              "widen the dates, move the AOI, or raise --max-scene-cloud.", file=sys.stderr)


def _run_scenes(args: argparse.Namespace, settings: Settings) -> None:
    from .api.frontdoor import find_scenes

    scenes = find_scenes(args.aoi, args.start, args.end, source=args.source, max_scene_cloud=args.max_scene_cloud,
                         settings=settings)
    _emit([_scene_record(s) for s in scenes], "scenes", SCENE_FIELDS, args.format)
    print(f"{len(scenes)} scenes", file=sys.stderr)
    _none_found(len(scenes), "scene", args)


def _run_cover(args: argparse.Namespace, settings: Settings) -> int:
    from .api.frontdoor import measure_cover
    from .stats.cover import COVER_FIELDS

    records, _ = measure_cover(
        args.aoi, args.start, args.end, source=args.source, mask=args.mask, flags=args.flags, buffer_m=args.buffer_m,
        max_scene_cloud=args.max_scene_cloud, overview=args.overview, cache=not args.no_cache,
        progress=_progress("dates measured"), scheduler=args.scheduler, settings=settings,
    )
    _emit([r.to_dict() for r in records], "dates", COVER_FIELDS, args.format)
    _none_found(len(records), "acquisition", args)
    failed = [r for r in records if r.error]
    if failed:
        print(f"{len(failed)} of {len(records)} dates failed; see their 'error' field", file=sys.stderr)
        return EXIT_PARTIAL
    return 0


def _run_best(args: argparse.Namespace, settings: Settings) -> int:
    from .api.frontdoor import measure_cover
    from .io.export import rows_to_csv
    from .stats.nearest import NEAREST_FIELDS, near_in_range, nearest_clear_dates

    near = near_in_range(args.near, args.start, args.end)  # before anything is searched
    records, _ = measure_cover(
        args.aoi, args.start, args.end, source=args.source, mask=args.mask, flags=args.flags, buffer_m=args.buffer_m,
        max_scene_cloud=args.max_scene_cloud, progress=_progress("dates measured"), settings=settings,
    )
    rows = nearest_clear_dates(records, near, max_obscured=args.max_obscured, count=args.count)
    if args.format == "csv":
        sys.stdout.write(rows_to_csv(rows, NEAREST_FIELDS))
    else:
        json.dump({"near": near.isoformat(), "max_obscured": args.max_obscured, "dates": rows}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    _none_found(len(records), "acquisition", args)
    if records and not rows:
        print(f"None of the {len(records)} dates has at most {args.max_obscured:g} % of the AOI obscured: "
              "raise --max-obscured or widen the dates.", file=sys.stderr)
    failed = [r for r in records if r.error]
    if failed:
        print(f"{len(failed)} of {len(records)} dates failed and are not listed: "
              f"`cloudcore cover` shows their 'error'", file=sys.stderr)
        return EXIT_PARTIAL
    return 0


def _run_fill(args: argparse.Namespace, settings: Settings) -> None:
    from .api.frontdoor import fill_image
    from .gapfill.inputs import DEFAULT_WINDOW_DAYS
    from .render.colour import write_png
    from .render.pictures import filled_picture

    out = Path(args.out)
    if not out.parent.exists():
        raise InvalidInputError(f"Folder {str(out.parent)!r} does not exist: create it or choose another path.",
                                parameter="out")
    image = fill_image(
        args.aoi, args.date, source=args.source, method=args.method,
        window_days=DEFAULT_WINDOW_DAYS if args.window_days is None else args.window_days,
        mask=args.mask, flags=args.flags, buffer_m=args.buffer_m, progress=_progress("donor dates read"),
        settings=settings,
    )
    image.write_geotiff(out)
    if args.png:
        write_png(args.png, filled_picture(image))
    for problem in image.donor_errors:
        print(f"skipped donor {problem}", file=sys.stderr)
    for correction in image.result.corrections:
        print(f"colour match {correction.describe()}", file=sys.stderr)
    json.dump(image.summary(), sys.stdout)
    sys.stdout.write("\n")


def _run_timelapse(args: argparse.Namespace, settings: Settings) -> int:
    from .api.timelapse import NoFramesError, timelapse
    from .errors import NoScenesError

    try:
        made = timelapse(
            args.aoi, args.start, args.end, out=args.out, source=args.source, max_obscured=args.max_obscured,
            filled=args.filled, method=args.method, mask=args.mask, fps=args.fps, width=args.width,
            progress=_progress("frames made"), measure_progress=_progress("dates measured"), settings=settings,
        )
    except NoFramesError as err:
        if not err.measured:
            raise
        at_least = "" if err.clearest is None else f" to at least {err.clearest:g}"
        raise NoScenesError(f"{err.situation}: raise --max-obscured{at_least}, or add --filled to gap-fill every date."
                            ) from None
    for problem in made.skipped:
        print(f"skipped {problem}", file=sys.stderr)
    for problem in made.skipped_donors:
        print(f"skipped donor {problem}", file=sys.stderr)
    json.dump(made.summary(), sys.stdout)
    sys.stdout.write("\n")
    if made.skipped:
        print(f"{len(made.skipped)} dates are missing from the timelapse: see 'skipped'", file=sys.stderr)
        return EXIT_PARTIAL
    return 0


def _run_evaluate(args: argparse.Namespace, settings: Settings) -> None:
    from .dates import as_date_range
    from .demo import DEMO_END, DEMO_EXAMPLE_BBOX, DEMO_START
    from .evaluation.fills import evaluate_fill, format_table
    from .geo.aoi import parse_aoi
    from .sources import open_source

    if args.real is not None:
        _run_evaluate_real(args, settings)
        return
    if args.targets is not None:
        raise InvalidInputError("--targets counts the real dates of --real: give --real DIR too, or leave it out.")
    aoi = parse_aoi(args.aoi or ",".join(str(v) for v in DEMO_EXAMPLE_BBOX), settings=settings)
    start, end = as_date_range(args.start or DEMO_START, args.end or DEMO_END)
    result = evaluate_fill(open_source(args.source or "demo", settings), aoi, start, end, window_days=args.window_days,
                           progress=_progress("dates evaluated"), settings=settings)
    if args.format == "json":
        json.dump({"dates_evaluated": result["dates_evaluated"], "methods": result["methods"]}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(format_table(result))


def _run_evaluate_real(args: argparse.Namespace, settings: Settings) -> None:
    from .evaluation.real import DEFAULT_TARGETS, evaluate_real
    from .evaluation.real_scores import format_real_table
    from .geo.aoi import parse_aoi

    given = [flag for flag, value in (("--source", args.source), ("--start", args.start), ("--end", args.end)) if value]
    if given:
        raise InvalidInputError(
            f"--real evaluates every date of its folder: leave out {', '.join(given)} (--aoi may narrow the area)."
        )
    counters: dict[str, Callable[[int, int], None]] = {}

    def progress(stage: str, done: int, total: int) -> None:
        counters.setdefault(stage, _progress(stage))(done, total)

    result = evaluate_real(
        args.real, targets=DEFAULT_TARGETS if args.targets is None else args.targets, window_days=args.window_days,
        aoi=None if args.aoi is None else parse_aoi(args.aoi, settings=settings), progress=progress, settings=settings,
    )
    for problem in result["skipped_dates"]:
        print(f"skipped {problem}", file=sys.stderr)
    if args.format == "json":
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(format_real_table(result))


def _run_demo(args: argparse.Namespace, settings: Settings) -> None:
    from .demo import generate_demo_catalog

    out = generate_demo_catalog(Path(args.out), progress=_progress("demo scenes written"))
    print(json.dumps({"catalog": str(out)}))


COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int | None]] = {
    "scenes": _run_scenes, "cover": _run_cover, "best": _run_best, "fill": _run_fill, "timelapse": _run_timelapse, "evaluate": _run_evaluate, "demo": _run_demo,
}


def hint(err: CloudCoreError) -> str:
    """What the command line adds to an error: the flag it is about, or the way out."""
    if isinstance(err, SourceUnreachableError) and err.parameter == "source":
        return " (to try cloudcore offline: --source demo)"
    flag = FLAGS.get(err.parameter or "")
    return f" ({flag})" if flag else ""


def main(argv: Sequence[str] | None = None) -> int:
    debug = False
    try:
        args = _build_parser().parse_args(argv)
        settings = Settings.from_env()  # once, here; passed down from now on
        debug = settings.debug
        return COMMANDS[args.command](args, settings) or 0
    except (SourceUnreachableError, SceneReadError) as err:
        print(f"cloudcore: {err}{hint(err)}", file=sys.stderr)
        return EXIT_FAILED
    except CloudCoreError as err:
        print(f"cloudcore: {err}{hint(err)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("cloudcore: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as err:  # noqa: BLE001 - the last line of defence: one line, not a traceback
        if debug:
            traceback.print_exc()
        else:
            print(f"cloudcore: unexpected {type(err).__name__}: {err} (set CLOUDCORE_DEBUG=1 for details)",
                  file=sys.stderr)
        return EXIT_FAILED
