"""python -m cloudcore: scenes, cover, fill, evaluate and demo from the command line.

JSON (or CSV) goes to stdout; progress and errors go to stderr. Bad input exits with
status 2 and one line saying what was wrong and what to do; a service that cannot be
reached exits with status 1; a `cover` in which some dates failed exits with status 3.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

from .errors import CloudCoreError, InvalidInputError, SceneReadError, SourceUnreachableError
from .options import DEFAULT_FILL_METHOD, DEFAULT_FLAGS, FILL_METHODS, MASK_KINDS, SOURCE_HELP

# Everything heavier (numpy, GDAL, the model) is imported where a command runs, so that
# `--help` and argument errors answer at once.

SCENE_FIELDS = ("id", "datetime", "platform", "wrs_path", "wrs_row", "scene_cloud_pct", "land_cloud_pct")
EXIT_BAD_INPUT = 2
EXIT_FAILED = 1
EXIT_PARTIAL = 3  # the output is complete except for dates that failed (their `error` says why)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line, not a usage dump."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise InvalidInputError(f"{message} (see `python -m cloudcore {self.prog.split()[-1]} --help`)")


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


def _bounded(kind: str, low: float, high: float, unit: str, cast: Callable[[str], float] = float):
    """An argparse type for a number in low..high, saying so when it is not."""

    def parse(text: str):
        try:
            value = cast(text)
        except ValueError as err:
            raise argparse.ArgumentTypeError(f"{text!r} is not {kind}") from err
        if not low <= value <= high:  # also refuses nan
            raise argparse.ArgumentTypeError(f"{text} is outside {low:g}..{high:g} {unit}")
        return value

    return parse


# A buffer wider than this removes whole scenes; a window longer than this is not a fill.
MAX_BUFFER_M = 5000
MAX_WINDOW_DAYS = 3650


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="cloudcore", description="Landsat clouds over an area of interest.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def common(p: argparse.ArgumentParser, dates: bool = True) -> None:
        p.add_argument("--source", default="planetary-computer", help=SOURCE_HELP)
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
    cover.add_argument("--overview", type=_bounded("an overview level", 0, 8, "(0 = full resolution)", int), default=0,
                       help="0: full resolution (default); 1, 2, ...: estimate from the files' overviews (each level "
                            "halves the resolution and moves about a quarter of the bytes), for large areas")
    cover.add_argument("--scheduler", default=None,
                       help="a Dask scheduler address (e.g. tcp://10.0.0.5:8786) to measure the dates on a cluster; "
                            "default: CLOUDCORE_DASK_SCHEDULER, else this machine")
    cover.add_argument("--no-cache", action="store_true",
                       help="measure every date again instead of reusing complete results kept in "
                            "$CLOUDCORE_CACHE_DIR (default ~/.cache/cloudcore)")

    fill = commands.add_parser("fill", help="mask one date and fill its cloudy pixels from other dates")
    common(fill, dates=False)
    fill.add_argument("--date", required=True, type=_date, help="the date to fill, YYYY-MM-DD")
    fill.add_argument("--window-days", type=_bounded("a number of days", 0, MAX_WINDOW_DAYS, "days", int), default=None,
                      help=f"use donor dates up to this many days away (default 60, at most {MAX_WINDOW_DAYS})")
    fill.add_argument("--method", default=DEFAULT_FILL_METHOD, choices=FILL_METHODS,
                      help="nearest-matched (default): the nearest clear date that can be colour-matched to the target, "
                           "matched; nearest: the nearest clear date as it is; median: the median of clear dates; "
                           "best-pixel: the best-scored clear pixel")
    mask_options(fill)
    fill.add_argument("--out", required=True, help="the filled GeoTIFF (COG) to write")
    fill.add_argument("--png", help="also write a true-colour PNG of the filled image")

    evaluate = commands.add_parser("evaluate", help="measure every fill method against a record's cloud-free truth (the demo)")
    evaluate.add_argument("--source", default="demo", help="a source whose items carry a 'truth' asset (the demo does)")
    evaluate.add_argument("--aoi", default=None, help="default: the demo's example area")
    evaluate.add_argument("--start", type=_date, default=None, help="default: the demo record's first date")
    evaluate.add_argument("--end", type=_date, default=None, help="default: the demo record's last date")
    evaluate.add_argument("--window-days", type=_bounded("a number of days", 0, MAX_WINDOW_DAYS, "days", int), default=60)
    evaluate.add_argument("--format", choices=("table", "json"), default="table")

    demo = commands.add_parser("demo", help="write the synthetic demo catalog (COGs, STAC items, truth) to a folder")
    demo.add_argument("--out", required=True, help="folder to write into")
    return parser


def _progress(label: str) -> Callable[[int, int], None]:
    """A one-line progress counter on stderr (rewritten in place on a terminal)."""
    tty = sys.stderr.isatty()

    def report(done: int, total: int) -> None:
        end = "\r" if tty and done < total else "\n"
        if tty or done == total or done % 10 == 0:
            print(f"{label}: {done}/{total}", end=end, file=sys.stderr, flush=True)

    return report


def _check_dates(start: dt.date, end: dt.date) -> None:
    if end < start:
        raise InvalidInputError(f"--start {start} is after --end {end}: swap them.")


def parse_aoi(text: str):
    """The AOI a user gave (cloudcore.aoi, imported when a command needs it)."""
    from .aoi import parse_aoi as parse

    return parse(text)


def open_source(spec: str):
    """The scene source a user named (cloudcore.sources, imported when a command needs it)."""
    from .sources import open_source as open_named

    return open_named(spec)


def _policy(args: argparse.Namespace):
    from .qa import MaskPolicy, parse_flags

    return MaskPolicy(flags=parse_flags(args.flags), buffer_m=args.buffer_m, kind=args.mask)


def _emit(records: list[dict[str, Any]], key: str, fields: Sequence[str], fmt: str) -> None:
    if fmt == "csv":
        from .export import rows_to_csv

        sys.stdout.write(rows_to_csv(records, fields))
    else:
        json.dump({key: records}, sys.stdout, indent=2)
        sys.stdout.write("\n")


def _scene_record(scene) -> dict[str, Any]:
    return {
        "id": scene.id,
        "datetime": scene.datetime.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z"),
        "platform": scene.platform,
        "wrs_path": scene.wrs_path,
        "wrs_row": scene.wrs_row,
        "scene_cloud_pct": scene.scene_cloud_pct,
        "land_cloud_pct": scene.land_cloud_pct,
    }


def _run_scenes(args: argparse.Namespace) -> None:
    from .cover import search_scenes

    _check_dates(args.start, args.end)
    aoi = parse_aoi(args.aoi)
    source = open_source(args.source)
    scenes = search_scenes(source, aoi, args.start, args.end, args.max_scene_cloud)
    _emit([_scene_record(s) for s in scenes], "scenes", SCENE_FIELDS, args.format)
    print(f"{len(scenes)} scenes", file=sys.stderr)


def _run_cover(args: argparse.Namespace) -> int:
    from .cache import CoverCache
    from .cover import COVER_FIELDS, iter_cover, search_dates
    from .distributed import scheduler_from_env

    _check_dates(args.start, args.end)
    aoi = parse_aoi(args.aoi)
    policy = _policy(args)
    source = open_source(args.source)
    groups = search_dates(source, aoi, args.start, args.end, args.max_scene_cloud)
    progress = _progress("dates measured")
    cache = None if args.no_cache else CoverCache()
    scheduler = args.scheduler or scheduler_from_env()
    if scheduler:
        from .distributed import iter_cover_dask

        measured = iter_cover_dask(groups, aoi, source, policy, scheduler=scheduler, overview=args.overview, cache=cache)
    else:
        measured = iter_cover(groups, aoi, source, policy, overview=args.overview, cache=cache)
    records = []
    for record in measured:
        records.append(record)
        progress(len(records), len(groups))
    records.sort(key=lambda r: (r.date, r.platform, r.scene_ids))
    _emit([r.to_dict() for r in records], "dates", COVER_FIELDS, args.format)
    failed = [r for r in records if r.error]
    if failed:
        print(f"{len(failed)} of {len(records)} dates failed; see their 'error' field", file=sys.stderr)
        return EXIT_PARTIAL
    return 0


def _run_fill(args: argparse.Namespace) -> None:
    from .gapfill import DEFAULT_WINDOW_DAYS, fill_date
    from .preview import filled_picture
    from .render import write_png

    out = Path(args.out)
    if not out.parent.exists():
        raise InvalidInputError(f"Folder {str(out.parent)!r} for --out does not exist: create it or choose another path.")
    aoi = parse_aoi(args.aoi)
    policy = _policy(args)
    source = open_source(args.source)
    window = DEFAULT_WINDOW_DAYS if args.window_days is None else args.window_days
    image = fill_date(source, aoi, args.date, window, args.method, policy, progress=_progress("donor dates read"))
    image.write_geotiff(out)
    if args.png:
        write_png(args.png, filled_picture(image))
    for problem in image.donor_errors:
        print(f"skipped donor {problem}", file=sys.stderr)
    for correction in image.result.corrections:
        print(f"colour match {correction.describe()}", file=sys.stderr)
    json.dump(image.summary(), sys.stdout)
    sys.stdout.write("\n")


def _run_evaluate(args: argparse.Namespace) -> None:
    from .demo import DEMO_END, DEMO_EXAMPLE_BBOX, DEMO_START
    from .evaluate import evaluate_fill, format_table

    aoi = parse_aoi(args.aoi or ",".join(str(v) for v in DEMO_EXAMPLE_BBOX))
    start, end = args.start or DEMO_START, args.end or DEMO_END
    _check_dates(start, end)
    result = evaluate_fill(open_source(args.source), aoi, start, end, window_days=args.window_days,
                           progress=_progress("dates evaluated"))
    if args.format == "json":
        json.dump({"dates_evaluated": result["dates_evaluated"], "methods": result["methods"]}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(format_table(result))


def _run_demo(args: argparse.Namespace) -> None:
    from .demo import generate_demo_catalog

    out = generate_demo_catalog(Path(args.out), progress=_progress("demo scenes written"))
    print(json.dumps({"catalog": str(out)}))


COMMANDS = {"scenes": _run_scenes, "cover": _run_cover, "fill": _run_fill, "evaluate": _run_evaluate, "demo": _run_demo}


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _build_parser().parse_args(argv)
        return COMMANDS[args.command](args) or 0
    except (SourceUnreachableError, SceneReadError) as err:
        print(f"cloudcore: {err}", file=sys.stderr)
        return EXIT_FAILED
    except CloudCoreError as err:
        print(f"cloudcore: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("cloudcore: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001 - the last line of defence: one line, not a traceback
        if os.environ.get("CLOUDCORE_DEBUG"):
            raise
        print(f"cloudcore: unexpected {type(err).__name__}: {err} (set CLOUDCORE_DEBUG=1 for details)", file=sys.stderr)
        return EXIT_FAILED
