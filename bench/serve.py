"""The user's link: the test suite's shaped blob server (tests/servers/blob.py) run in this
process, with the benchmark's files on distinct URLs.

The server adds a delay to every request and caps the bandwidth of all connections together,
and counts requests, bytes and 404s; the benchmark resets the counts before each run.
"""

from __future__ import annotations

from pathlib import Path


class ShapedLink:
    """A started BlobServer; `with ShapedLink(...) as link:` stops it at the end."""

    def __init__(self, root: Path, delay_s: float, bandwidth_bps: float):
        from tests.servers.blob import BlobServer  # run from the repository root
        # A delay of 0 and no cap: the smoke test's plain loopback.
        self._server = BlobServer(root, delay_s=delay_s, bandwidth_bps=bandwidth_bps or None)

    def __enter__(self) -> "ShapedLink":
        self._server.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.stop()

    def add_route(self, url_path: str, file: Path | str) -> str:
        """Serve `file` at `url_path`; the full URL."""
        return self._server.add_route(url_path, Path(file))

    def reset(self) -> None:
        self._server.reset_stats()

    def counts(self) -> dict:
        """{requests, bytes, not_found, by_method} since the last reset."""
        stats = self._server.stats()
        return {
            "requests": int(stats["requests"]),
            "bytes": int(stats["bytes"]),
            "not_found": int(stats["not_found"]),
            "by_method": dict(stats.get("by_method", {})),
        }
