"""Connections opened at once are accepted one per turn of a worker's loop (api.server.FairAcceptLoop).

The workers of ``diachiso serve`` share one listening socket. asyncio's own loop accepts every
waiting connection when it finds the socket ready, so the first worker awake took all the
connections a client opened at once and the others stayed idle. Here a loop's turns are
counted by a callback that reschedules itself, and the connections it accepted by its
protocol objects: asyncio's loop takes five connections in one turn, the fair one one a turn.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

import uvicorn

from api.server import ACCEPTS_PER_TURN, FairAcceptLoop, server_options
from api.settings import ServerSettings

CLIENTS = 5


async def _accepted_per_turn() -> list[int]:
    """Open CLIENTS connections to a new server at once; the connections made by each turn of the loop."""
    loop = asyncio.get_running_loop()
    made: list[asyncio.Protocol] = []
    per_turn: list[int] = []

    def tick(seen: int) -> None:
        per_turn.append(len(made) - seen)
        if len(made) < CLIENTS:
            loop.call_soon(tick, len(made))

    def protocol() -> asyncio.Protocol:
        made.append(asyncio.Protocol())
        return made[-1]

    listener = socket.create_server(("127.0.0.1", 0))
    server = await loop.create_server(protocol, sock=listener, backlog=2048)
    clients = [socket.create_connection(listener.getsockname()) for _ in range(CLIENTS)]
    # connect() has returned: the kernel holds them all in the accept queue; the loop has not looked yet
    try:
        loop.call_soon(tick, len(made))
        async with asyncio.timeout(5):
            while len(made) < CLIENTS:
                await asyncio.sleep(0)
    finally:
        for client in clients:
            client.close()
        server.close()
    return [count for count in per_turn if count]


def _run(factory: Callable[[], asyncio.AbstractEventLoop]) -> list[int]:
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(_accepted_per_turn())


def test_the_fair_loop_accepts_one_connection_a_turn() -> None:
    """Five connections waiting: five turns of one each (never two in one turn)."""
    assert _run(FairAcceptLoop) == [ACCEPTS_PER_TURN] * CLIENTS


def test_asyncios_own_loop_takes_them_all_at_once() -> None:
    """The behaviour the fair loop replaces (and what shows this test can tell the two apart)."""
    assert max(_run(asyncio.SelectorEventLoop)) > ACCEPTS_PER_TURN


def test_the_server_runs_the_fair_loop() -> None:
    """``diachiso serve``'s options make uvicorn run this loop."""
    config = uvicorn.Config("api.app:app_from_environment", **server_options(ServerSettings()))
    assert config.get_loop_factory() is FairAcceptLoop
