"""Hosts that do not answer: a refused port, and a blackhole where connects hang."""

from __future__ import annotations

import contextlib
import socket
from typing import Iterator

import pytest

from tests.stac_server import free_port


@contextlib.contextmanager
def blackhole() -> Iterator[str]:
    """A port where connects hang: a listener that never accepts, its backlog filled first.

    Linux drops a SYN when the accept queue is full, so the client's connect waits on
    retransmissions as it would for a host that has vanished. (A server that accepts and
    never answers is the other kind of silence: `tests.stac_server.silent_server`.)
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers: list[socket.socket] = []
    try:
        for _ in range(16):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            fillers.append(sock)
            sock.connect_ex(("127.0.0.1", port))
            if not _connects_within(sock, 0.2):
                break  # this one hangs: so will the client's
        else:
            pytest.fail("could not fill the accept queue: connects never hang here")
        yield f"http://127.0.0.1:{port}"
    finally:
        for sock in fillers:
            sock.close()
        listener.close()


def _connects_within(sock: socket.socket, seconds: float) -> bool:
    import select

    _, writable, _ = select.select([], [sock], [], seconds)
    return bool(writable) and sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0


@contextlib.contextmanager
def unreachable(kind: str) -> Iterator[str]:
    if kind == "refused":
        yield f"http://127.0.0.1:{free_port()}"
    else:
        with blackhole() as url:
            yield url
