"""The benchmark suite (`make bench`, or `python -m bench.run`): progress on stderr, a markdown
table on stdout, the figures in bench/results/latest.json.

Each contender runs in a fresh process per run (nothing warm is carried over), against files
served through a shaped link on 127.0.0.1; the link's counters, reset before each run, give
its requests and bytes. The median of the runs is reported. Every contender's per-date
numbers must equal cloudcore's exactly, or the suite stops with the dates that differ.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import data, goals, machine, minbytes
from .contender import STAT_KEYS
from .serve import ShapedLink

REPO = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
P1_CONTENDERS = ("cloudcore", "naive", "odc_stac", "odc_stac_pool", "async_geotiff")
SCENARIOS = ("p1", "p2", "p3")


def log(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


class Mismatch(RuntimeError):
    """A contender's per-date numbers differ from the reference's."""


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def _subprocess_json(args: list[str], timeout_s: float = 3600) -> dict:
    done = subprocess.run(
        [sys.executable, *args], cwd=REPO, env=_env(), capture_output=True, text=True, timeout=timeout_s
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


class Runner:
    """Runs contenders in fresh processes against the shaped link and keeps their figures."""

    def __init__(self, link: ShapedLink, workdir: Path, runs: int):
        self.link, self.workdir, self.runs = link, workdir, runs

    def job(self, name: str, **content) -> Path:
        path = self.workdir / f"{name}.json"
        path.write_text(json.dumps(content))
        return path

    def once(self, contender: str, job: Path) -> dict:
        self.link.reset()
        result = _subprocess_json(["-m", "bench.contender", contender, "--job", str(job)])
        result.update(self.link.counts())
        if result.get("errors"):
            raise RuntimeError(f"{contender}: dates failed: {result['errors'][:5]}")
        return result

    def median(self, contender: str, job: Path, runs: int | None = None) -> dict:
        """The median figures of `runs` fresh runs; `dates` from the first (all runs must agree)."""
        results = []
        for i in range(runs or self.runs):
            result = self.once(contender, job)
            log(f"  {contender} run {i + 1}: {result['wall_s']:.2f} s, {result['requests']} requests, "
                f"{result['bytes'] / 1e6:.1f} MB, {result['peak_rss_mb']:.0f} MB peak")
            if results:
                check_equal(results[0]["dates"], result["dates"], f"{contender} run {i + 1}")
            results.append(result)
        summary = {key: _median([r[key] for r in results]) for key in ("wall_s", "bytes", "requests", "peak_rss_mb")}
        summary["not_found"] = max(r["not_found"] for r in results)
        summary["by_method"] = results[0]["by_method"]
        summary["runs_wall_s"] = [r["wall_s"] for r in results]
        if "worker_peak_rss_mb" in results[0]:
            summary["worker_peak_rss_mb"] = [max(r["worker_peak_rss_mb"][i] for r in results) for i in range(len(results[0]["worker_peak_rss_mb"]))]
        if "read_paths" in results[0]:
            summary["read_paths"] = results[0]["read_paths"]
        summary["dates"] = results[0]["dates"]
        return summary


def _median(values: list) -> float | int:
    value = statistics.median(values)
    return int(value) if all(isinstance(v, int) for v in values) and value == int(value) else round(value, 3)


def check_equal(reference: dict, other: dict, label: str) -> None:
    """Raise Mismatch naming the dates whose numbers differ (or that one side lacks)."""
    missing = sorted(set(reference) ^ set(other))
    differ = sorted(d for d in set(reference) & set(other) if any(reference[d][k] != other[d][k] for k in STAT_KEYS))
    if missing or differ:
        detail = [f"{d}: {reference[d]} != {other[d]}" for d in differ[:3]]
        raise Mismatch(f"{label} disagrees with the reference: {len(missing)} dates missing on one side "
                       f"{missing[:3]}, {len(differ)} differ {detail}")


def _public(summary: dict) -> dict:
    """A contender's figures without the per-date numbers (those stay out of latest.json)."""
    return {k: v for k, v in summary.items() if k != "dates"}


def cloud_error(estimate: dict, truth: dict) -> dict:
    """Mean and max absolute cloud_pct difference over dates, in percentage points."""
    diffs = [abs(estimate[d]["cloud_pct"] - truth[d]["cloud_pct"]) for d in truth if truth[d]["cloud_pct"] is not None]
    return {"cloud_pct_error_mean_pp": round(sum(diffs) / len(diffs), 3), "cloud_pct_error_max_pp": round(max(diffs), 3)}


def time_help(runs: int) -> float:
    """Median wall time of `python -m cloudcore --help`, interpreter start included."""
    times = []
    for _ in range(max(3, runs)):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "cloudcore", "--help"], cwd=REPO, env=_env(), capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return round(statistics.median(times), 3)


def run_p1(runner: Runner, items: list[dict], files: list[str], aoi: dict, results: dict) -> None:
    from cloudcore.geo.aoi import parse_aoi

    job = runner.job("p1", items=items, aoi=aoi)
    p1 = {}
    for name in P1_CONTENDERS:
        log(f"P1 timeline: {name}, {runner.runs} runs of {len(items)} scenes")
        p1[name] = runner.median(name, job)
        if name != "cloudcore":
            check_equal(p1["cloudcore"]["dates"], p1[name]["dates"], name)
    cc = p1["cloudcore"]
    cc["scenes"] = len(items)
    cc["min_bytes"] = minbytes.min_bytes(files, parse_aoi(json.dumps(aoi)))
    cc["requests_per_scene"] = round(cc["requests"] / len(items), 2)
    cc["bytes_over_min"] = round(cc["bytes"] / cc["min_bytes"], 3)

    log("P1 timeline: cloudcore with a cache, cold then warm")
    cache_job = runner.job("p1-cache", items=items, aoi=aoi, cache_dir=str(runner.workdir / "cover-cache"))
    cold = runner.once("cloudcore", cache_job)
    warm = runner.once("cloudcore", cache_job)
    check_equal(cc["dates"], warm["dates"], "cloudcore from its cache")
    cc["cold_cache_wall_s"] = cold["wall_s"]
    cc["warm_wall_s"] = warm["wall_s"]
    cc["warm_requests"] = warm["requests"]

    few = max(1, len(items) // 5)
    log(f"P1 timeline: cloudcore's memory over {few} scenes, against {len(items)}")
    small = runner.once("cloudcore", runner.job("p1-few", items=items[:few], aoi=aoi))
    results["memory_vs_dates"] = {
        "scenes": [few, len(items)],
        "peak_rss_mb": [small["peak_rss_mb"], cc["peak_rss_mb"]],
        "ratio": round(cc["peak_rss_mb"] / small["peak_rss_mb"], 3),
    }
    results["p1"] = {name: _public(summary) for name, summary in p1.items()}


def run_p1_large(runner: Runner, items: list[dict], files: list[str], aoi: dict, results: dict) -> dict:
    """Full resolution, then overview estimates; returns the full-resolution dates for P3."""
    from cloudcore.geo.aoi import parse_aoi

    large = {}
    log(f"P1 large: cloudcore at full resolution, {runner.runs} runs")
    full = runner.median("cloudcore", runner.job("p1-large", items=items, aoi=aoi))
    full["min_bytes"] = minbytes.min_bytes(files, parse_aoi(json.dumps(aoi)))
    large["cloudcore"] = full
    for level in (1, 2):
        log(f"P1 large: cloudcore on overview {level}, {runner.runs} runs")
        estimate = runner.median("cloudcore", runner.job(f"p1-large-ov{level}", items=items, aoi=aoi, overview=level))
        estimate.update(cloud_error(estimate["dates"], full["dates"]))
        large[f"overview_{level}"] = estimate
    results["p1_large"] = {name: _public(summary) for name, summary in large.items()}
    return full["dates"]


def run_p3(runner: Runner, items: list[dict], aoi: dict, reference: dict | None, results: dict, workers: int) -> None:
    log(f"P3 scale: the P1-large work on a LocalCluster of {workers} workers, {runner.runs} runs")
    job = runner.job("p3", items=items, aoi=aoi, workers=workers, threads_per_worker=4, worker_memory="2GB")
    summary = runner.median("cloudcore_dask", job)
    if reference is None:
        log("P3: no single-machine run to compare with (P1 was not run): running it once")
        reference = runner.once("cloudcore", runner.job("p3-reference", items=items, aoi=aoi))["dates"]
    check_equal(reference, summary["dates"], "cloudcore on dask.distributed")
    summary["equal_to_single_machine"] = True
    summary["workers"] = workers
    results["p3"] = {"cloudcore": _public(summary)}


def run_p2(runs: int, root: Path, results: dict) -> None:
    folder = root / "fill-1000"
    from .fillcase import write_dates

    write_dates(folder, log=log)
    figures = []
    for i in range(runs):
        figures.append(_subprocess_json(["-m", "bench.fillcase", "--dir", str(folder)]))
        log(f"  fill run {i + 1}: {figures[-1]['wall_s']:.2f} s, peak {figures[-1]['peak_rss_mb']:.0f} MB during the step")
    summary = {key: _median([f[key] for f in figures]) for key in ("wall_s", "peak_rss_mb", "fill_increase_mb", "rss_before_fill_mb")}
    summary.update({k: figures[0][k] for k in ("method", "grid_px", "donors", "bands")})
    summary["runs_wall_s"] = [f["wall_s"] for f in figures]
    results["p2"] = {"cloudcore": summary}


def code_version() -> dict:
    """The commit measured, and whether the tree had uncommitted changes: figures belong to code."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()

    try:
        return {"commit": git("rev-parse", "HEAD"), "uncommitted_changes": bool(git("status", "--porcelain", "--", "cloudcore"))}
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "uncommitted_changes": None}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description="cloudcore's benchmark suite.")
    parser.add_argument("--runs", type=int, default=3, help="fresh-process runs per contender; the median is reported")
    parser.add_argument("--scenes", type=int, default=150)
    parser.add_argument("--only", default=",".join(SCENARIOS), help="scenarios to run, e.g. p1,p3 (p1 includes P1 large)")
    parser.add_argument("--delay-ms", type=float, default=50.0, help="added to every request")
    parser.add_argument("--mbps", type=float, default=100.0, help="bandwidth shared by all connections, Mbit/s")
    parser.add_argument("--aoi-km", type=float, default=20.0)
    parser.add_argument("--large-km", type=float, default=100.0)
    parser.add_argument("--workers", type=int, default=2, help="P3's LocalCluster workers")
    parser.add_argument("--tiny", action="store_true", help="small files (2,048 px, 3 distinct): a quick check, not figures")
    parser.add_argument("--out", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    unknown = only - set(SCENARIOS)
    if unknown:
        raise SystemExit(f"--only: unknown scenario(s) {', '.join(sorted(unknown))}; use any of {', '.join(SCENARIOS)}")
    layout = data.TINY if args.tiny else data.FULL
    results: dict = {"machine": machine.describe(), "code": code_version()}
    if results["code"]["uncommitted_changes"]:
        log("cloudcore/ has uncommitted changes: these figures will belong to no commit")
    results["settings"] = {
        "delay_ms": args.delay_ms, "bandwidth_mbps": args.mbps, "runs": args.runs, "scenes": args.scenes,
        "aoi_km": args.aoi_km, "large_aoi_km": args.large_km, "distinct_files": layout.files,
        "file_px": [layout.width, layout.height], "scenarios": sorted(only),
        "wall_s": "the work only: from items and AOI in memory to every date's numbers (no interpreter start or imports)",
    }
    root = data.cache_root()
    files = [str(p) for p in data.qa_files(layout, root, log=log)]
    items, routes = data.make_items(layout, [Path(f) for f in files], args.scenes, base_url="")
    scene_files = [routes[item["assets"]["qa_pixel"]["href"]] for item in items]
    aoi = data.aoi_square(layout, args.aoi_km * 1000)
    large_aoi = data.aoi_square(layout, args.large_km * 1000)

    with tempfile.TemporaryDirectory(prefix="cloudcore-bench-") as tmp, ShapedLink(
        Path(files[0]).parent, delay_s=args.delay_ms / 1000, bandwidth_bps=args.mbps * 1e6
    ) as link:
        for item in items:
            asset = item["assets"]["qa_pixel"]
            asset["href"] = link.add_route(asset["href"], routes[asset["href"]])
        runner = Runner(link, Path(tmp), args.runs)
        reference_large = None
        if "p1" in only:
            run_p1(runner, items, scene_files, aoi, results)
            reference_large = run_p1_large(runner, items, scene_files, large_aoi, results)
            results["cli"] = {"help_s": time_help(args.runs)}
        if "p2" in only:
            log(f"P2 fill: {args.runs} runs")
            run_p2(args.runs, root, results)
        if "p3" in only:
            run_p3(runner, items, large_aoi, reference_large, results, args.workers)

    results["goals"] = goals.evaluate(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    print(goals.markdown(results))
    log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Mismatch as err:
        log(f"FAILED: {err}")
        sys.exit(1)
