"""What a load run measured: click-to-view percentiles, errors, server memory; as JSON and a table."""

from __future__ import annotations

import math
import os
import platform

from .user import UserLog

MB = 1024 * 1024


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (an observed value, not an interpolation); None when there is none."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(p / 100 * len(ordered)) - 1, 0)]


def timing(values: list[float]) -> dict:
    def r(v):
        return None if v is None else round(v, 2)

    return {"n": len(values), "p50_s": r(percentile(values, 50)), "p95_s": r(percentile(values, 95)),
            "max_s": r(max(values, default=None))}


def server(samples: list[tuple[float, int, float, float | None, float]], users_from_s: float = 0.0) -> dict:
    """RSS start, peak and end, how much the second half of the users' time added over the first
    half's peak, the CPU the server used while users were on, and its health-check answer times.

    `users_from_s`: when the users started (after the warm-up visit), in the samples' seconds.
    """
    if not samples:
        return {}
    values = [s[1] for s in samples]
    users = [s for s in samples if s[0] >= users_from_s] or samples
    half = (users[0][0] + users[-1][0]) / 2
    first = [s[1] for s in users if s[0] <= half] or values
    second = [s[1] for s in users if s[0] > half] or values
    health = [s[3] for s in users]
    answered = [h for h in health if h is not None]
    return {
        "rss_start_mb": round(values[0] / MB, 1),
        "rss_users_start_mb": round(users[0][1] / MB, 1),
        "rss_peak_mb": round(max(values) / MB, 1),
        "rss_end_mb": round(values[-1] / MB, 1),
        "rss_second_half_growth_mb": round((max(second) - max(first)) / MB, 1),
        "cpu_s_users": round(users[-1][2] - users[0][2], 1),
        "browser_cpu_s_users": round(users[-1][4] - users[0][4], 1),
        "health": timing(answered) | {"unanswered": len(health) - len(answered)},
        "samples": [[t, round(b / MB, 1), c, None if h is None else round(h, 3), bc] for t, b, c, h, bc in samples],
        "samples_columns": ["t_s", "rss_mb", "cpu_s", "health_s", "browser_cpu_s"],
    }


def machine() -> dict:
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / MB
    except (ValueError, OSError, AttributeError):
        total = None
    return {"cpus": os.cpu_count(), "memory_mb": round(total) if total else None,
            "load_avg_1m": round(load[0], 2) if load else None, "system": platform.platform(),
            "python": platform.python_version()}


def summarise(logs: list[UserLog], samples: list[tuple[float, int]], *, sessions: int, seconds: float,
              elapsed_s: float, cache_mb: str, machine_before: dict, warmup_s: float | None = None) -> dict:
    actions = [a for log in logs for a in log.actions]
    errors = [f"user {a.user} {a.kind}: {a.error}" for a in actions if a.error]
    errors += [f"user {log.user} console: {text}" for log in logs for text in log.console_errors]
    done = [a for a in actions if a.error is None and a.seconds is not None]
    by_kind = {kind: timing([a.seconds for a in done if a.kind == kind])
               for kind in ("search", "retype", "date", "compare", "back")}
    return {
        "sessions": sessions,
        "seconds": seconds,
        "elapsed_s": round(elapsed_s, 1),
        "actions": len(actions),
        "errors": len(errors),
        "error_samples": errors[:30],
        "click_to_chart": timing([a.seconds for a in done if a.target == "chart"]),
        "click_to_fill": timing([a.seconds for a in done if a.target == "fill"]),
        "by_action": by_kind,
        "warmup_s": None if warmup_s is None else round(warmup_s, 2),
        "server": server(samples, warmup_s or 0.0),
        "cache_mb": cache_mb,
        "machine": machine_before | {"load_avg_1m_after": machine()["load_avg_1m"]},
    }


def table(summary: dict) -> str:
    chart, fill, srv = summary["click_to_chart"], summary["click_to_fill"], summary["server"]
    health = srv.get("health", {})

    def s(v):
        return "-" if v is None else f"{v:.2f}"

    rows = [
        ("sessions", str(summary["sessions"])),
        ("seconds", f"{summary['seconds']:g} (ran {summary['elapsed_s']:g})"),
        ("actions", str(summary["actions"])),
        ("errors", str(summary["errors"])),
        ("click-to-chart p50 / p95 / max s", f"{s(chart['p50_s'])} / {s(chart['p95_s'])} / {s(chart['max_s'])}  (n={chart['n']})"),
        ("click-to-fill p50 / p95 / max s", f"{s(fill['p50_s'])} / {s(fill['p95_s'])} / {s(fill['max_s'])}  (n={fill['n']})"),
        ("warm-up visit s", s(summary["warmup_s"])),
        ("server RSS start / users' start / peak / end MB",
         f"{srv.get('rss_start_mb', '-')} / {srv.get('rss_users_start_mb', '-')} / {srv.get('rss_peak_mb', '-')}"
         f" / {srv.get('rss_end_mb', '-')}  (second half added {srv.get('rss_second_half_growth_mb', '-')} MB)"),
        ("CPU s while users were on: server / browsers",
         f"{srv.get('cpu_s_users', '-')} / {srv.get('browser_cpu_s_users', '-')}"),
        ("health check p50 / p95 / max s",
         f"{s(health.get('p50_s'))} / {s(health.get('p95_s'))} / {s(health.get('max_s'))}"
         f"  ({health.get('unanswered', '-')} unanswered in 10 s)"),
        ("UI cache size MB (CLOUDCORE_UI_CACHE_MB)", summary["cache_mb"]),
        ("machine", f"{summary['machine']['cpus']} CPUs, load {summary['machine']['load_avg_1m']}"
                    f" -> {summary['machine']['load_avg_1m_after']}"),
    ]
    width = max(len(k) for k, _ in rows)
    lines = [f"{k.ljust(width)}  {v}" for k, v in rows]
    lines += [f"  ! {e}" for e in summary["error_samples"][:10]]
    return "\n".join(lines)
