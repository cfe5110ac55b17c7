"""Fault rules and the HTTP server machinery the test servers share.

A server answers each request from `respond(request) -> Response`; this module decides
whether a fault takes the request instead, shapes the body (time to first byte, one
bandwidth cap shared by every connection), counts what was sent and logs each request
with its arrival time, so tests can check retry pacing as well as outcomes.

Faults are rules: a kind, a path pattern (fnmatch), optionally only from the Nth
matching request on, firing `times` times (None: for ever); after that the request is
served normally. Rules are tried in the order injected; the first that fires takes
the request, and later rules do not see it.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import json
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Mapping
from urllib.parse import parse_qs, unquote, urlsplit

CHUNK_BYTES = 32 * 1024  # one bandwidth reservation: small enough that parallel downloads interleave
IDLE_CONNECTION_S = 30.0  # a kept-alive connection nobody uses is closed after this
CONTROL_PREFIX = "/_control/"

KINDS = ("status", "reset", "truncate", "stall", "malformed")


class Headers(dict):
    """Request headers by name, case-insensitively (RFC 9110 5.1): Rust's HTTP clients (obstore's
    reqwest) send `range`, Python's send `Range`."""

    def __init__(self, items: Any = ()):
        super().__init__((str(k).lower(), v) for k, v in items)

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(key.lower(), default)


@dataclass(frozen=True)
class Request:
    """What a client asked, as the fault rules and `respond` see it."""

    method: str
    path: str
    """Percent-decoded path without the query."""
    query: str
    """The raw query string (without '?')."""
    headers: Mapping[str, str]
    body: bytes = b""

    def query_values(self, key: str) -> list[str]:
        return parse_qs(self.query, keep_blank_values=True).get(key, [])


@dataclass(frozen=True)
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""


@dataclass
class Fault:
    """One rule: break matching requests in one way, `times` times (None: always)."""

    kind: str
    path: str = "*"
    times: int | None = 1
    nth: int = 1
    """Fire from the nth matching request on (1: the first)."""
    method: str | None = None
    when: Callable[[Request], bool] | None = None
    """Extra condition on the request (e.g. it carries a paging token)."""
    status: int = 503
    retry_after: int | None = None
    seconds: float = 0.0
    """How long a stall lasts before the request is answered normally."""
    keep_bytes: int | None = None
    """Body bytes sent before a reset or truncation (default: half the body)."""
    seen: int = 0
    fired: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}: one of {KINDS}")
        if self.nth < 1:
            raise ValueError("nth counts from 1")

    def matches(self, request: Request) -> bool:
        if self.method is not None and request.method != self.method.upper():
            return False
        if not fnmatch.fnmatchcase(request.path, self.path):
            return False
        return self.when is None or bool(self.when(request))

    @property
    def spent(self) -> bool:
        return self.times is not None and self.fired >= self.times


def status(code: int, path: str = "*", *, times: int | None = 1, retry_after: int | None = None, **match: Any) -> Fault:
    """Answer HTTP `code` (429, 5xx ...), optionally with a Retry-After of whole seconds."""
    return Fault("status", path, times=times, status=code, retry_after=retry_after, **match)


def reset(path: str = "*", *, times: int | None = 1, keep_bytes: int | None = None, **match: Any) -> Fault:
    """Send the headers and part of the body, then reset the connection (RST)."""
    return Fault("reset", path, times=times, keep_bytes=keep_bytes, **match)


def truncate(path: str = "*", *, times: int | None = 1, keep_bytes: int | None = None, **match: Any) -> Fault:
    """Announce the full Content-Length, send less, close the connection cleanly (FIN)."""
    return Fault("truncate", path, times=times, keep_bytes=keep_bytes, **match)


def stall(seconds: float, path: str = "*", *, times: int | None = 1, **match: Any) -> Fault:
    """Wait `seconds` before answering (ends early when the server stops)."""
    return Fault("stall", path, times=times, seconds=seconds, **match)


def malformed(path: str = "*", *, times: int | None = 1, **match: Any) -> Fault:
    """200 with Content-Type application/json and a body that is not JSON."""
    return Fault("malformed", path, times=times, **match)


MALFORMED_BODY = b'{"type": "FeatureCollection", "features": [{"id": "cut-off'


class Link:
    """One bandwidth cap shared by every connection: a FIFO of transmission slots.

    Each chunk reserves the next `n / rate` seconds of the link and sleeps until its slot
    ends, so parallel downloads split the rate between them and nobody spins on a CPU.
    An idle link banks no credit: a burst after a pause is still capped.
    """

    def __init__(self, bandwidth_bps: float | None):
        self.bytes_per_s = bandwidth_bps / 8.0 if bandwidth_bps else None
        self._lock = threading.Lock()
        self._free_at = 0.0

    def wait_for(self, nbytes: int, stop: threading.Event) -> bool:
        """Sleep until `nbytes` may have crossed the link; False if the server stopped meanwhile."""
        if self.bytes_per_s is None or nbytes <= 0:
            return not stop.is_set()
        with self._lock:
            start = max(time.monotonic(), self._free_at)
            self._free_at = start + nbytes / self.bytes_per_s
            done_at = self._free_at
        pause = done_at - time.monotonic()
        return not stop.wait(pause) if pause > 0 else not stop.is_set()


@dataclass
class Stats:
    requests: int = 0
    bytes: int = 0
    not_found: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    by_method: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "bytes": self.bytes,
            "not_found": self.not_found,
            "by_status": dict(self.by_status),
            "by_method": dict(self.by_method),
        }


@dataclass(frozen=True)
class LogEntry:
    method: str
    path: str
    query: str
    status: int
    t: float
    """time.monotonic() when the request arrived."""
    fault: str | None
    bytes: int
    """Body bytes actually sent."""
    range: str | None


class FaultServer:
    """Base of the test servers: a threaded HTTP/1.1 server on 127.0.0.1 with fault rules.

    Subclasses implement `respond(request)`. Use as a context manager, or start()/stop().
    """

    def __init__(self, *, delay_s: float = 0.0, bandwidth_bps: float | None = None, port: int = 0):
        self.delay_s = delay_s
        self.link = Link(bandwidth_bps)
        self._port = port
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._stats = Stats()
        self._log: list[LogEntry] = []
        self._arrivals: list[tuple[str, str, float]] = []
        self._stop = threading.Event()
        self._connections: set[socket.socket] = set()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # -- life cycle ----------------------------------------------------------------------

    def start(self) -> "FaultServer":
        if self._httpd is not None:
            return self
        self._stop.clear()
        httpd = _Listener(("127.0.0.1", self._port), _handler_for(self))
        self._httpd = httpd
        self.url = f"http://127.0.0.1:{httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=f"{type(self).__name__}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._stop.set()  # ends stalls, delays and bandwidth waits at once
        self._httpd.shutdown()
        self._httpd.server_close()
        with self._lock:
            open_connections = list(self._connections)
        for conn in open_connections:  # wake handler threads blocked reading a kept-alive socket
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(5)
        self._httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def stopping(self) -> threading.Event:
        return self._stop

    # -- faults, stats and the log -------------------------------------------------------

    def inject(self, fault: Fault) -> Fault:
        """Add a rule (returned, so a test can read its `fired` count)."""
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def take_fault(self, request: Request) -> Fault | None:
        """The first rule that fires for `request` (counting it), else None."""
        with self._lock:
            for fault in self._faults:
                if fault.spent or not fault.matches(request):
                    continue
                fault.seen += 1
                if fault.seen >= fault.nth:
                    fault.fired += 1
                    return fault
            return None

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return self._stats.as_dict()

    def reset_stats(self) -> None:
        with self._lock:
            self._stats = Stats()
            self._log.clear()
            self._arrivals.clear()

    @property
    def log(self) -> list[LogEntry]:
        with self._lock:
            return list(self._log)

    def requests_to(self, pattern: str) -> list[LogEntry]:
        """Answered requests whose path matches `pattern` (fnmatch), in the order answered."""
        return [entry for entry in self.log if fnmatch.fnmatchcase(entry.path, pattern)]

    def arrivals_to(self, pattern: str) -> list[tuple[str, str, float]]:
        """(method, path, time.monotonic()) of every request that arrived for `pattern`,
        answered or not yet (a stalled request is logged only when it ends)."""
        with self._lock:
            return [a for a in self._arrivals if fnmatch.fnmatchcase(a[1], pattern)]

    def arrive(self, request: Request, arrived: float) -> None:
        with self._lock:
            self._arrivals.append((request.method, request.path, arrived))

    def record(self, request: Request, status_code: int, sent: int, arrived: float, fault: Fault | None) -> LogEntry:
        with self._lock:
            stats = self._stats
            stats.requests += 1
            stats.bytes += sent
            stats.not_found += status_code == 404
            stats.by_status[status_code] = stats.by_status.get(status_code, 0) + 1
            stats.by_method[request.method] = stats.by_method.get(request.method, 0) + 1
            self._log.append(
                LogEntry(
                    request.method, request.path, request.query, status_code, arrived,
                    fault.kind if fault else None, sent, request.headers.get("Range"),
                )
            )
            return self._log[-1]

    def correct(self, entry: LogEntry, sent: int) -> None:
        """Fix the body bytes of a logged request that were not all delivered."""
        with self._lock:
            self._stats.bytes += sent - entry.bytes
            for i in range(len(self._log) - 1, -1, -1):
                if self._log[i] is entry:
                    self._log[i] = dataclasses.replace(entry, bytes=sent)
                    break

    def track(self, conn: socket.socket, open_: bool) -> None:
        with self._lock:
            (self._connections.add if open_ else self._connections.discard)(conn)

    # -- for subclasses ------------------------------------------------------------------

    def respond(self, request: Request) -> Response:
        raise NotImplementedError

    def control(self, request: Request) -> Response:
        """/_control/stats (GET) and /_control/reset (POST): never counted, never shaped."""
        name = request.path[len(CONTROL_PREFIX) :]
        if name == "stats" and request.method in ("GET", "HEAD"):
            return json_response(200, self.stats())
        if name == "reset" and request.method == "POST":
            self.reset_stats()
            return json_response(200, {"reset": True})
        return json_response(404, {"error": f"no control endpoint {request.method} {request.path}"})


class _Listener(ThreadingHTTPServer):
    # The default backlog of 5 drops SYNs when 16 readers connect at once, and a dropped SYN
    # costs the client a 1 s retransmission: a delay the benchmark would blame on the reader.
    request_queue_size = 128
    daemon_threads = True
    block_on_close = False  # kept-alive client connections must not hold up stop()


def json_response(code: int, payload: Any, headers: list[tuple[str, str]] | None = None) -> Response:
    return Response(code, [("Content-Type", "application/json"), *(headers or [])], json.dumps(payload).encode())


def fault_response(fault: Fault) -> Response:
    """The answer a `status` or `malformed` rule gives instead of the real one."""
    if fault.kind == "malformed":
        return Response(200, [("Content-Type", "application/json")], MALFORMED_BODY)
    headers = [("Retry-After", str(int(fault.retry_after)))] if fault.retry_after is not None else []
    return json_response(fault.status, {"code": "InjectedFault", "message": f"injected HTTP {fault.status}"}, headers)


def _handler_for(server: FaultServer) -> type[BaseHTTPRequestHandler]:
    class Handler(_FaultyHandler):
        owner = server

    return Handler


class _FaultyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as GDAL and requests expect from storage
    timeout = IDLE_CONNECTION_S
    # Headers and body leave in separate writes: with Nagle's algorithm on, the body waited for
    # the client's delayed ACK, adding ~40 ms to every ranged GET on top of the modelled delay.
    disable_nagle_algorithm = True
    owner: FaultServer

    def setup(self) -> None:
        super().setup()
        self.owner.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.owner.track(self.connection, False)

    def do_GET(self) -> None:
        self._handle()

    do_HEAD = do_POST = do_PUT = do_DELETE = do_OPTIONS = do_GET

    def log_message(self, *args: Any) -> None:  # the request log replaces stderr lines
        pass

    def _handle(self) -> None:
        arrived = time.monotonic()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        request = Request(self.command, unquote(parts.path), parts.query, Headers(self.headers.items()), body)
        owner = self.owner
        if request.path.startswith(CONTROL_PREFIX):
            self._send(owner.control(request), request, shaped=False)
            return
        owner.arrive(request, arrived)
        fault = owner.take_fault(request)
        if fault is not None and fault.kind == "stall" and owner.stopping.wait(fault.seconds):
            self._abort(request, arrived, fault)
            return
        if owner.delay_s > 0 and owner.stopping.wait(owner.delay_s):
            self._abort(request, arrived, fault)
            return
        if fault is not None and fault.kind in ("status", "malformed"):
            response = fault_response(fault)
        else:
            response = owner.respond(request)
        cut = fault.kind if fault is not None and fault.kind in ("reset", "truncate") else None
        keep = None
        if cut:
            keep = fault.keep_bytes if fault.keep_bytes is not None else len(response.body) // 2
            keep = max(0, min(keep, len(response.body) - 1))  # always short of the announced length
        # Counted before the body goes out, so a client that has its answer also sees it in
        # stats(); corrected below if the client went away before the body was all sent.
        planned = 0 if request.method == "HEAD" else len(response.body) if keep is None else keep
        entry = owner.record(request, response.status, planned, arrived, fault)
        sent = self._send(response, request, shaped=True, keep=keep)
        if sent != planned:
            owner.correct(entry, sent)
        if cut == "reset":
            self._reset_connection()
        elif cut == "truncate":
            self.close_connection = True  # the server then closes the socket with a FIN

    def _send(self, response: Response, request: Request, shaped: bool, keep: int | None = None) -> int:
        """Write status, headers (Content-Length always) and the body; return body bytes sent."""
        sent = 0
        try:
            self.send_response(response.status)
            for name, value in response.headers:
                self.send_header(name, value)
            if not any(name.lower() == "content-length" for name, _ in response.headers):
                self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if request.method == "HEAD":
                return 0
            body = response.body if keep is None else response.body[:keep]
            for start in range(0, len(body), CHUNK_BYTES):
                chunk = body[start : start + CHUNK_BYTES]
                if shaped and not self.owner.link.wait_for(len(chunk), self.owner.stopping):
                    self.close_connection = True
                    return sent
                self.wfile.write(chunk)
                sent += len(chunk)
            if keep is not None:
                self.wfile.flush()
            return sent
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            self.close_connection = True  # the client went away (e.g. it timed out first)
            return sent

    def _abort(self, request: Request, arrived: float, fault: Fault | None) -> None:
        """The server is stopping during a wait: drop the connection without an answer."""
        self.owner.record(request, 0, 0, arrived, fault)
        self.close_connection = True

    def _reset_connection(self) -> None:
        """Close with SO_LINGER 0 so the kernel sends RST, not FIN: a connection reset by peer."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass
