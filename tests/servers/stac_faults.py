"""A fault-injecting reverse proxy in front of a real STAC API (rustac on loopback).

    with faulty_stac_api(items) as proxy:
        proxy.inject(faults.status(503, "/search", times=2))
        proxy.inject(faults.status(500, "/search", when=carries_page_token))  # the 2nd page
        StacSource(proxy.url).search(...)

Requests go to the upstream unchanged; the upstream's base URL is rewritten to the proxy's
in every answer, so the landing page's `search` link and the `next` links of later pages
come back through the proxy (and its faults). Same fault vocabulary, stats and request
log as the blob server (`tests.servers.faults`).
"""

from __future__ import annotations

import contextlib
import http.client
import json
from typing import Any, Iterable, Iterator, Mapping
from urllib.parse import urlsplit

from tests.stac_server import running_stac_api

from .faults import FaultServer, Request, Response, json_response

UPSTREAM_TIMEOUT_S = 30.0
# Not forwarded: they describe one hop, and an encoded answer could not be rewritten.
_HOP_HEADERS = frozenset(
    {"host", "connection", "keep-alive", "transfer-encoding", "content-length", "accept-encoding", "upgrade", "te"}
)
# STAC APIs page with one of these in the query or the POST body (rustac uses `skip`).
PAGE_KEYS = ("skip", "token", "page", "next")


def carries_page_token(request: Request) -> bool:
    """True for a request for a later page of a search (not the first one)."""
    if any(request.query_values(key) for key in PAGE_KEYS):
        return True
    try:
        body = json.loads(request.body) if request.body else {}
    except ValueError:
        return False
    return isinstance(body, dict) and any(key in body for key in PAGE_KEYS)


class StacFaultProxy(FaultServer):
    """Forwards to `upstream` (an API root URL) unless a fault takes the request."""

    def __init__(
        self, upstream: str, *, rewrite: Mapping[str, str] | None = None, delay_s: float = 0.0, port: int = 0
    ):
        """
        Args:
            upstream: Root URL of the real API.
            rewrite: More text to replace in answers, e.g. a placeholder asset host ->
                this test's blob server, so one catalogue serves many servers.
        """
        super().__init__(delay_s=delay_s, port=port)
        self.upstream = upstream.rstrip("/")
        self.rewrite = dict(rewrite or {})
        parts = urlsplit(self.upstream)
        self._host, self._port_up = parts.hostname or "127.0.0.1", parts.port or 80

    def respond(self, request: Request) -> Response:
        path = request.path + (f"?{request.query}" if request.query else "")
        body = request.body.replace(self.url.encode(), self.upstream.encode()) if request.body else None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS}
        conn = http.client.HTTPConnection(self._host, self._port_up, timeout=UPSTREAM_TIMEOUT_S)
        try:
            conn.request(request.method, path, body=body, headers=headers)
            answer = conn.getresponse()
            payload = answer.read()
        except (OSError, http.client.HTTPException) as err:
            return json_response(502, {"code": "BadGateway", "message": f"upstream failed: {err}"})
        finally:
            conn.close()
        kept = [(k, v) for k, v in answer.getheaders() if k.lower() not in _HOP_HEADERS]
        for old, new in {self.upstream: self.url, **self.rewrite}.items():
            payload = payload.replace(old.encode(), new.encode())
        return Response(answer.status, kept, payload)


@contextlib.contextmanager
def faulty_stac_api(
    items: Iterable[Mapping[str, Any]], collections: Iterable[Mapping[str, Any]] = (), rewrite: Mapping[str, str] | None = None
) -> Iterator[StacFaultProxy]:
    """rustac serving `items`, behind a StacFaultProxy (yielded, running)."""
    with running_stac_api(items, collections) as upstream, StacFaultProxy(upstream, rewrite=rewrite) as proxy:
        yield proxy
