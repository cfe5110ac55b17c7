"""The server as users see it from outside, sampled once a second in a background thread.

Resident memory and CPU time of the streamlit process and any children it starts (none today,
but a worker pool would hide its memory from a single-process reading), and how long the
server takes to answer its health check: a slow answer there means the server itself is
starved (its event loop waits for the GIL), not that one page is slow.
"""

from __future__ import annotations

import os
import threading
import time
import urllib.request

import psutil

HEALTH_TIMEOUT_S = 10.0


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def tree_usage(pid: int, skip: frozenset[int] = frozenset(), cpu_seen: dict[int, float] | None = None) -> tuple[int, float]:
    """(RSS bytes, CPU seconds) of a process and its children, leaving out the `skip` pids.

    With `cpu_seen` (pid -> CPU seconds, kept by the caller) the CPU of processes that have
    ended since an earlier call still counts: Chromium closes a renderer with each context.
    """
    procs = [p for p in _tree(pid) if p.pid not in skip]
    seen = {} if cpu_seen is None else cpu_seen
    rss = 0
    for proc in procs:
        try:
            rss += proc.memory_info().rss
            times = proc.cpu_times()
            seen[proc.pid] = times.user + times.system
        except psutil.NoSuchProcess:
            pass  # a child that ended between listing and reading
    return rss, sum(seen.values())


def health_seconds(url: str) -> float | None:
    """Seconds the server took to answer /_stcore/health; None when it did not within the timeout."""
    started = time.monotonic()
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=HEALTH_TIMEOUT_S) as resp:
            resp.read()
    except OSError:
        return None
    return time.monotonic() - started


class ServerSampler:
    """[(seconds since start, RSS bytes, CPU seconds, health-check seconds or None, browser CPU seconds)]
    every `interval_s`.

    The browser's CPU (this process's other children: Playwright's driver and Chromium) is kept
    too: on a small machine the browsers that play the users compete with the server for it.
    """

    def __init__(self, pid: int, url: str, interval_s: float = 1.0):
        self.pid = pid
        self.url = url
        self.interval_s = interval_s
        self.samples: list[tuple[float, int, float, float | None, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="server-sampler", daemon=True)
        self._t0 = time.monotonic()
        self._server_cpu: dict[int, float] = {}
        self._client_cpu: dict[int, float] = {}

    def __enter__(self) -> "ServerSampler":
        self._t0 = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()  # the end value, after the last action

    def _sample(self) -> None:
        t = round(time.monotonic() - self._t0, 2)
        rss, cpu = tree_usage(self.pid, cpu_seen=self._server_cpu)
        server = frozenset(p.pid for p in _tree(self.pid))
        _, client_cpu = tree_usage(os.getpid(), skip=server | {os.getpid()}, cpu_seen=self._client_cpu)
        self.samples.append((t, rss, round(cpu, 2), health_seconds(self.url), round(client_cpu, 2)))

    def _run(self) -> None:
        while not self._stop.is_set():
            began = time.monotonic()
            self._sample()
            # A slow health check already took part of the second.
            self._stop.wait(max(self.interval_s - (time.monotonic() - began), 0.0))
