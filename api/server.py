"""The HTTP server of ``diachiso serve``: uvicorn on h11 with a bounded request head and JSON errors.

uvicorn answers a request it cannot parse (a malformed or over-long request line, bytes
that are not HTTP, a request head over :data:`MAX_HEAD_BYTES`) itself, before the app
sees it; :class:`JsonErrorProtocol` makes that answer the app's JSON error shape.

With several workers, uvicorn's supervisor pings each worker twice a second and kills
(SIGKILL) and replaces one that has not answered within ``timeout_worker_healthcheck``
seconds. A worker answers from a thread it starts only once it has unpickled its
configuration, which imports this module (the protocol class is part of it): so this module
imports nothing heavy (not FastAPI, not the app; a worker imports the app later, with the
thread answering). uvicorn's default of 5 s was not enough on a loaded 2-core machine: every
worker was killed while still importing, and replaced, for minutes, the server never ready
(``benchmarks/bench_http.py``, load average 11; the server's log said only "Child process
died"). ``DIACHISO_SERVER_WORKER_TIMEOUT_S`` (:class:`api.settings.ServerSettings`, 60 s)
leaves a starved worker time; a hung one is still replaced.

The event loop is asyncio's own, not uvloop (which uvicorn picks when it is installed, as
``uvicorn[standard]`` does). Under load uvloop let new connections wait in the listen
socket's accept queue while it served the connections it already had: with 50 keep-alive
connections busy on a cached tile, 200 new connections opened at once waited up to 7.4 s
for their first answer (57 over 5 s; the accept queue, ``ss -ltn``'s Recv-Q, drained at
about 30 a second), and at 200 connections wrk counted 104 time-outs in 15 s while up to
158 connections waited to be accepted (the accepted ones were answered within 1.5 s). On asyncio's
loop, same machine and load, the accept queue stayed at 0-1, the 200 new connections were
all answered within 1.3 s, and 200 connections ran 15 s without a time-out at the same
rate (274 against 261 answers/s); see BENCHMARKS.md, "HTTP load".
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any, Final

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from api.error_shape import error_body

if TYPE_CHECKING:
    from api.settings import ServerSettings

MAX_HEAD_BYTES: Final = 16 * 1024
"""Most bytes of a request line and all its header fields together."""
ACCEPTS_PER_TURN: Final = 1
"""Most connections a worker accepts each time its loop finds the listening socket ready."""
LOOP: Final = "api.server:FairAcceptLoop"
"""uvicorn's event loop: asyncio's (which keeps accepting new connections under load), fair in accepts."""
PROTOCOL_ERROR: Final = (
    "not a valid HTTP/1.1 request: a malformed request line or header field, bytes that are not "
    f"ASCII, or a request line and header fields over {MAX_HEAD_BYTES} bytes"
)


def protocol_error_body(reason: str) -> bytes:
    """The JSON answer to a request the server could not parse (``reason``: what the server said)."""
    return json.dumps(error_body(400, "BadRequest", f"{reason.rstrip('.')}: {PROTOCOL_ERROR}")).encode()


class JsonErrorProtocol(H11Protocol):
    """uvicorn's h11 protocol whose answer to an unparsable request is the app's JSON error."""

    def send_400_response(self, msg: str) -> None:
        """Answer 400 in the JSON error shape and close the connection (``msg`` is uvicorn's text)."""
        body = protocol_error_body(msg)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        for event in (
            h11.Response(status_code=400, headers=headers, reason=b"Bad Request"),
            h11.Data(data=body),
            h11.EndOfMessage(),
        ):
            self.transport.write(self.conn.send(event) or b"")
        self.transport.close()


class FairAcceptLoop(asyncio.SelectorEventLoop):
    """asyncio's selector loop that accepts :data:`ACCEPTS_PER_TURN` connection per turn, not 2,048.

    The workers share one listening socket and all wake when it is ready. asyncio's own loop
    then accepts up to the server's backlog (uvicorn: 2,048) connections in one go, so the
    first worker awake takes every connection opened at once: with wrk's 10 connections on 2
    workers, one worker got all 10 in some runs and the other stayed idle, half the rate
    (/search at 695 answers a second against 1,162-1,332 in the runs around it, 2026-12-06).
    Accepting one per turn lets the other workers, woken too, take their share; a worker busy
    with a request accepts less, so new connections go where there is time for them.
    """

    def _accept_connection(
        self,
        protocol_factory: Any,
        sock: Any,
        sslcontext: Any = None,
        server: Any = None,
        backlog: int = 100,
        *args: Any,
    ) -> None:
        """asyncio's accept, at most :data:`ACCEPTS_PER_TURN` at a time (the rest at later turns)."""
        accept = super()._accept_connection  # type: ignore[misc]
        accept(protocol_factory, sock, sslcontext, server, min(backlog, ACCEPTS_PER_TURN), *args)


def server_options(settings: ServerSettings) -> dict[str, Any]:
    """The uvicorn options of ``diachiso serve`` besides host, port and workers."""
    return {
        "http": JsonErrorProtocol,
        "h11_max_incomplete_event_size": MAX_HEAD_BYTES,
        "timeout_worker_healthcheck": settings.worker_timeout_s,
        "loop": LOOP,
    }
