"""A range-capable file server standing in for cloud blob storage, on 127.0.0.1.

    with BlobServer(root, delay_s=0.05, bandwidth_bps=100e6) as server:
        href = server.url_for("scenes/a_QA_PIXEL.TIF")   # read it through /vsicurl/
        server.inject(faults.status(503, "*QA_PIXEL.TIF", times=2))
        server.stats()   # requests, body bytes, 404s, by status and method

Ranges as storage answers them: `bytes=a-b`, `a-`, `-n`, several ranges as
multipart/byteranges, 416 when none is satisfiable. `delay_s` is the time to first byte of
every request and `bandwidth_bps` one cap shared by all connections: a model of a user's
link for the benchmark. Expired signatures: with `valid_signatures` set, a request whose
`sig=` is not in it gets Azure's 403 AuthenticationFailed.

Runs on its own too (the benchmark's server; the first stdout line is its URL):

    python -m tests.servers.blob --root DIR --port 0 --delay-ms 50 --mbps 100 --routes routes.json
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import uuid
from pathlib import Path

from .faults import FaultServer, Request, Response

AUTH_FAILED_BODY = (
    '<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthenticationFailed</Code>'
    "<Message>Server failed to authenticate the request. Make sure the value of Authorization header "
    "is formed correctly including the signature.</Message>"
    "<AuthenticationErrorDetail>Signature not valid in the specified time frame</AuthenticationErrorDetail></Error>"
).encode()


def parse_range(header: str, size: int) -> list[tuple[int, int]] | None:
    """The inclusive byte ranges a Range header asks of a `size`-byte file.

    None: the header is not a valid bytes range, so it is ignored (a 200 with the whole file).
    []: valid but none of its ranges lies in the file (416).
    """
    unit, _, specs = header.partition("=")
    if unit.strip().lower() != "bytes" or not specs.strip():
        return None
    ranges = []
    for spec in specs.split(","):
        first, dash, last = spec.strip().partition("-")
        if not dash or not (first.isdigit() or last.isdigit()) or (first and not first.isdigit()) or (last and not last.isdigit()):
            return None
        if not first:  # suffix: the last n bytes
            n = int(last)
            if n > 0 and size > 0:
                ranges.append((max(0, size - n), size - 1))
            continue
        start = int(first)
        if last and int(last) < start:
            return None  # a backwards range makes the whole header invalid
        if start < size:
            ranges.append((start, min(int(last), size - 1) if last else size - 1))
    return ranges


class BlobServer(FaultServer):
    """Files under `root` (and extra routes) over HTTP/1.1 with ranges, shaping and faults."""

    def __init__(self, root: Path | None = None, *, delay_s: float = 0.0, bandwidth_bps: float | None = None, port: int = 0):
        super().__init__(delay_s=delay_s, bandwidth_bps=bandwidth_bps, port=port)
        self.root = Path(root).resolve() if root is not None else None
        self.routes: dict[str, Path] = {}
        self.valid_signatures: set[str] | None = None
        """When a set: a request carrying `sig=` must carry one of these (else 403)."""
        self.require_signature = False
        """When true, a request with no `sig=` is refused (403) too."""

    def url_for(self, relpath: str) -> str:
        return f"{self.url}/{relpath.lstrip('/')}"

    def add_route(self, url_path: str, file: Path) -> str:
        """Serve `file` also at /url_path (many URLs, one file); the full URL."""
        path = "/" + url_path.lstrip("/")
        self.routes[path] = Path(file)
        return self.url + path

    def respond(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            return Response(405, [("Allow", "GET, HEAD")])
        if not self._signature_ok(request):
            return Response(403, [("Content-Type", "application/xml")], AUTH_FAILED_BODY)
        file = self._file_for(request.path)
        if file is None:
            return Response(404, [("Content-Type", "text/plain")], b"The specified blob does not exist.")
        size = file.stat().st_size
        base = [("Accept-Ranges", "bytes"), ("Content-Type", "application/octet-stream")]
        header = request.headers.get("Range")
        ranges = parse_range(header, size) if header else None
        if ranges is None:
            if request.method == "HEAD":  # the size, without reading the file
                return Response(200, [*base, ("Content-Length", str(size))])
            return Response(200, base, file.read_bytes())
        if not ranges:
            return Response(416, [("Content-Range", f"bytes */{size}")])
        # Only the asked bytes are read: the benchmark's COGs are MBs, its reads a few tiles.
        with file.open("rb") as handle:
            pieces = [_read_at(handle, start, end) for start, end in ranges]
        if len(ranges) == 1:
            start, end = ranges[0]
            return Response(206, [*base, ("Content-Range", f"bytes {start}-{end}/{size}")], pieces[0])
        return _multipart(size, ranges, pieces)

    def _signature_ok(self, request: Request) -> bool:
        sigs = request.query_values("sig")
        if not sigs:
            return not self.require_signature
        return self.valid_signatures is None or sigs[0] in self.valid_signatures

    def _file_for(self, path: str) -> Path | None:
        """The file a URL path names, or None (missing, a folder, or outside the root)."""
        if path in self.routes:
            file = self.routes[path]
            return file if file.is_file() else None
        if self.root is None:
            return None
        file = (self.root / path.lstrip("/")).resolve()
        if not file.is_relative_to(self.root) or not file.is_file():
            return None
        return file


def _read_at(handle, start: int, end: int) -> bytes:
    handle.seek(start)
    return handle.read(end + 1 - start)


def _multipart(size: int, ranges: list[tuple[int, int]], pieces: list[bytes]) -> Response:
    """Several ranges in one multipart/byteranges body (RFC 9110 section 14.6)."""
    boundary = uuid.uuid4().hex
    parts = []
    for (start, end), piece in zip(ranges, pieces):
        head = (
            f"--{boundary}\r\nContent-Type: application/octet-stream\r\n"
            f"Content-Range: bytes {start}-{end}/{size}\r\n\r\n"
        ).encode()
        parts.append(head + piece + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    headers = [("Accept-Ranges", "bytes"), ("Content-Type", f"multipart/byteranges; boundary={boundary}")]
    return Response(206, headers, body)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.servers.blob", description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, help="folder served at /")
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument("--delay-ms", type=float, default=0.0, help="time to first byte of every request")
    parser.add_argument("--mbps", type=float, default=None, help="bandwidth shared by all connections, Mbit/s")
    parser.add_argument("--routes", type=Path, help="JSON object: url path -> file path")
    args = parser.parse_args(argv)
    server = BlobServer(
        args.root, delay_s=args.delay_ms / 1000.0, bandwidth_bps=args.mbps * 1e6 if args.mbps else None, port=args.port
    )
    server.start()
    if args.routes:
        for url_path, file in json.loads(args.routes.read_text()).items():
            server.add_route(url_path, Path(file))
    print(server.url, flush=True)
    stopped = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopped.set())
    while not stopped.wait(0.5):  # a timed wait lets the signal handler run promptly
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
