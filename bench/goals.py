"""The benchmark's goals checked against the measured figures, and the markdown table of them."""

from __future__ import annotations

from typing import Any, Callable

WARM_S = 0.5
HELP_S = 1.0
FILL_S = 1.0
FILL_MB = 500
WORKER_MB = 2000
MEMORY_GROWTH = 1.15
"""'Memory does not grow with the number of dates': the peak at N scenes stays within this
factor of the peak at N/5 (room for noise, far below the 5x a per-date leak would give)."""


def _get(results: dict, *path: str) -> Any:
    value: Any = results
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _goal(goal: str, target: str, measured: Any, met: Callable[[Any], bool]) -> dict:
    return {"goal": goal, "target": target, "measured": measured, "met": None if measured is None else bool(met(measured))}


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or not b else round(a / b, 2)


def evaluate(results: dict) -> list[dict]:
    """Every goal with its target, what was measured (None when its scenario was not run) and
    whether it was met."""
    p1 = results.get("p1", {})
    cc = p1.get("cloudcore", {})
    wall = cc.get("wall_s")
    not_found = sum(
        v.get("not_found", 0)
        for scenario in ("p1", "p1_large", "p3")
        for v in (results.get(scenario) or {}).values()
        if isinstance(v, dict)
    )
    goals = [
        _goal("P1: cloudcore vs naive", ">= 30x faster", _ratio(_get(p1, "naive", "wall_s"), wall), lambda x: x >= 30),
        _goal("P1: cloudcore vs odc_stac", ">= 3x faster", _ratio(_get(p1, "odc_stac", "wall_s"), wall), lambda x: x >= 3),
        _goal("P1: cloudcore vs odc_stac_pool", ">= 2x faster", _ratio(_get(p1, "odc_stac_pool", "wall_s"), wall), lambda x: x >= 2),
        _goal("P1: cloudcore vs async_geotiff", "no slower (>= 1x)", _ratio(_get(p1, "async_geotiff", "wall_s"), wall), lambda x: x >= 1),
        _goal("P1: requests per scene", "<= 2.5", cc.get("requests_per_scene"), lambda x: x <= 2.5),
        _goal("P1: bytes vs min_bytes", "<= 1.15x", cc.get("bytes_over_min"), lambda x: x <= 1.15),
        _goal("P1: files read through GDAL instead of the native COG reader", "reported",
              _get(cc, "read_paths", "gdal_fallback"), lambda x: True),
        _goal("P1: warm cache, same request again", f"< {WARM_S} s", cc.get("warm_wall_s"), lambda x: x < WARM_S),
        _goal("404s, all scenarios", "0", not_found if results.get("p1") or results.get("p3") else None, lambda x: x == 0),
        _goal("P1 large: overview-1 estimate, cloud % error mean/max (pp)", "reported",
              _pair(_get(results, "p1_large", "overview_1")), lambda x: True),
        _goal("P2: fill step time", f"< {FILL_S} s", _get(results, "p2", "cloudcore", "wall_s"), lambda x: x < FILL_S),
        _goal("P2: peak memory during the fill step", f"< {FILL_MB} MB", _get(results, "p2", "cloudcore", "peak_rss_mb"), lambda x: x < FILL_MB),
        _goal("P3: peak memory per worker", f"< {WORKER_MB} MB", _max(_get(results, "p3", "cloudcore", "worker_peak_rss_mb")), lambda x: x < WORKER_MB),
        _goal("P3: results equal to the single-machine path", "equal", _get(results, "p3", "cloudcore", "equal_to_single_machine"), lambda x: x is True),
        _goal("Memory does not grow with the number of dates", f"peak at N / peak at N/5 <= {MEMORY_GROWTH}",
              _get(results, "memory_vs_dates", "ratio"), lambda x: x <= MEMORY_GROWTH),
        _goal("python -m cloudcore --help", f"< {HELP_S} s", _get(results, "cli", "help_s"), lambda x: x < HELP_S),
    ]
    return goals


def _pair(estimate: dict | None) -> list[float] | None:
    if not estimate:
        return None
    return [estimate["cloud_pct_error_mean_pp"], estimate["cloud_pct_error_max_pp"]]


def _max(values: list | None) -> float | None:
    return max(values) if values else None


def _mb(n: int | None) -> str:
    return "" if n is None else f"{n / 1e6:.1f}"


def markdown(results: dict) -> str:
    """The figures as markdown tables: contenders per scenario, then the goals."""
    settings = results["settings"]
    lines = [
        f"Median of {settings['runs']} fresh-process runs; {settings['scenes']} scenes; link {settings['delay_ms']:g} ms "
        f"per request, {settings['bandwidth_mbps']:g} Mbit/s shared; AOI {settings['aoi_km']:g} km (large "
        f"{settings['large_aoi_km']:g} km). Wall time is the work only (no interpreter start or imports).",
        "",
        "| scenario | contender | wall s | MB moved | requests | peak RSS MB | notes |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for name, figures in (results.get("p1") or {}).items():
        notes = ""
        if name == "cloudcore":
            notes = (f"{figures['requests_per_scene']} req/scene, {figures['bytes_over_min']}x min_bytes "
                     f"({_mb(figures['min_bytes'])} MB), warm cache {figures['warm_wall_s']} s")
            paths = figures.get("read_paths")
            if paths:
                notes += f"; {paths['native']} files native, {paths['gdal_fallback']} through GDAL"
        lines.append(f"| P1 timeline | {name} | {figures['wall_s']} | {_mb(figures['bytes'])} | {figures['requests']} | "
                     f"{figures['peak_rss_mb']} | {notes} |")
    for name, figures in (results.get("p1_large") or {}).items():
        label = "cloudcore" if name == "cloudcore" else f"cloudcore, {name.replace('_', ' ')}"
        notes = ""
        if "cloud_pct_error_mean_pp" in figures:
            notes = f"cloud % error vs full resolution: mean {figures['cloud_pct_error_mean_pp']}, max {figures['cloud_pct_error_max_pp']} pp"
        lines.append(f"| P1 large | {label} | {figures['wall_s']} | {_mb(figures['bytes'])} | {figures['requests']} | "
                     f"{figures['peak_rss_mb']} | {notes} |")
    p2 = _get(results, "p2", "cloudcore")
    if p2:
        lines.append(f"| P2 fill | cloudcore ({p2['method']}) | {p2['wall_s']} | | | {p2['peak_rss_mb']} | "
                     f"{p2['grid_px'][0]} x {p2['grid_px'][1]} px, {p2['donors']} donors, {p2['bands']} bands; "
                     f"peak during the step (+{p2['fill_increase_mb']} MB over the reads) |")
    p3 = _get(results, "p3", "cloudcore")
    if p3:
        lines.append(f"| P3 scale | cloudcore on {p3['workers']} dask workers | {p3['wall_s']} | {_mb(p3['bytes'])} | "
                     f"{p3['requests']} | {p3['peak_rss_mb']} | workers' peak {p3['worker_peak_rss_mb']} MB; "
                     f"equal to single machine: {p3['equal_to_single_machine']} |")
    lines += ["", "| goal | target | measured | met |", "|---|---|---|---|"]
    for goal in results.get("goals", []):
        met = {True: "yes", False: "**no**", None: "not run"}[goal["met"]]
        lines.append(f"| {goal['goal']} | {goal['target']} | {goal['measured']} | {met} |")
    return "\n".join(lines)
