"""The server's resident memory, sampled once a second in a background thread.

The server is the streamlit process and any children it starts (none today, but a worker pool
would hide its memory from a single-process reading).
"""

from __future__ import annotations

import threading
import time

import psutil


def tree_rss_bytes(pid: int) -> int:
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            pass  # a child that ended between listing and reading
    return total


class RssSampler:
    """[(seconds since start, RSS bytes)] of a process tree, every `interval_s`."""

    def __init__(self, pid: int, interval_s: float = 1.0):
        self.pid = pid
        self.interval_s = interval_s
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._t0 = time.monotonic()

    def __enter__(self) -> "RssSampler":
        self._t0 = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()  # the end value, after the last action

    def _sample(self) -> None:
        self.samples.append((round(time.monotonic() - self._t0, 2), tree_rss_bytes(self.pid)))

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval_s)
