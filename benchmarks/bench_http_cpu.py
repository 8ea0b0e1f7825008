"""CPU per request of the app itself, in process: tile, /search, /autocomplete, /reverse, no sockets.

Run: ``.venv/bin/python -m benchmarks.bench_http_cpu [--rounds 3] [--dump answers.jsonl] [--database URL]``.
It builds the scratch database of :mod:`benchmarks.bench_http` (the bundled data and 20,000
generated addresses), makes the app with the answer cache off and its lifespan running, and
calls it as uvicorn would (raw ASGI scopes, one request at a time) on the same request lists
as ``bench_http`` (the tiles cached by a first pass). For each endpoint it prints the process
CPU per request (best of ``--rounds`` passes: every thread, the search threads too) and its
ratio to the tile's; beside it, the geocoder's own calls on the same inputs (``search``,
``autocomplete``, ``reverse_in_memory``), so that the rest is what the HTTP layer costs.
Without uvicorn, h11 or wrk, so lower than what a server spends per answer.

``--dump FILE`` writes every answer (path, status, headers, SHA-256 of the body) as JSON
lines: run it from two checkouts (``PYTHONPATH``) and compare the files to show that a change
keeps every answer byte for byte. ``--profile DIR`` writes a cProfile file per endpoint (the
event-loop thread only). For instruction counts, run it under ``valgrind --tool=callgrind``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import hashlib
import json
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from addresses.db import make_engine
from addresses.settings import DatabaseSettings
from api.app import create_app
from api.deps import app_state_of
from api.settings import ApiSettings, GeocodeSettings
from benchmarks.bench_batch import load_data
from benchmarks.bench_http import DEFAULT_ENDPOINTS, get_paths
from benchmarks.scratch import bundled_database
from geocoder.index import IndexState
from geocoder.reverse import ReverseQuery
from geocoder.reverse_memory import reverse_in_memory
from geocoder.search import SearchFilters, autocomplete, search
from tests import databases

BENCH_DB = "diachiso_bench_http_cpu"
ADDRESSES = 20_000
Answer = tuple[int, list[tuple[bytes, bytes]], bytes]


def scope_of(target: str) -> dict[str, Any]:
    """The ASGI scope uvicorn would make for ``GET target`` (wrk's only header: Host)."""
    path, _, query = target.partition("?")
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": urllib.parse.unquote(path),
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8000")],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def call(app: Any, target: str) -> Answer:
    """One request through the whole app: status, headers, body."""
    answer: dict[str, Any] = {"body": b""}
    asked = False

    async def receive() -> dict[str, Any]:
        nonlocal asked
        if not asked:
            asked = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # the client never leaves
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"], answer["headers"] = message["status"], list(message["headers"])
        else:
            answer["body"] += message.get("body", b"")

    await app(scope_of(target), receive, send)
    return answer["status"], answer["headers"], answer["body"]


def no_database() -> AbstractContextManager[Connection]:
    """The geocoder alone never opens a connection here (every point of the lists is inside a ward)."""
    raise RuntimeError("the benchmark's reverse points need no database")


def geocoder_call(endpoint: str, index: IndexState) -> Callable[[str], object]:
    """The geocoder's own call behind a request path of the endpoint."""

    def run(target: str) -> object:
        query = dict(urllib.parse.parse_qsl(target.partition("?")[2]))
        if endpoint == "reverse":
            asked = ReverseQuery(float(query["lon"]), float(query["lat"]))
            return reverse_in_memory(index.reverse, query=asked, connect=no_database, fresh=True)
        find = search if endpoint == "search" else autocomplete
        return find(index, query["q"], limit=int(query["limit"]), filters=SearchFilters())

    return run


def geocoder_cpu_us(endpoint: str, index: IndexState, paths: list[str], rounds: int) -> float:
    """The least process CPU of ``rounds`` passes of the geocoder's own calls, per request, microseconds."""
    own = geocoder_call(endpoint, index)
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for target in paths:
            own(target)
        best = min(best, time.process_time() - started)
    return 1e6 * best / len(paths)


async def http_cpu_us(app: Any, paths: list[str], rounds: int, profile: cProfile.Profile | None) -> float:
    """The least process CPU of ``rounds`` passes of the requests through the app, per request, in µs."""
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        if profile is not None:
            profile.enable()
        for target in paths:
            await call(app, target)
        if profile is not None:
            profile.disable()
        best = min(best, time.process_time() - started)
    return 1e6 * best / len(paths)


def write_dump(path: Path, listings: dict[str, list[str]], answers: dict[str, list[Answer]]) -> None:
    """Every answer as a JSON line: path, status, headers, SHA-256 of the body."""
    with path.open("w", encoding="utf-8") as out:
        for endpoint, paths in listings.items():
            for target, (status, headers, body) in zip(paths, answers[endpoint], strict=True):
                shown = [[name.decode(), value.decode()] for name, value in headers]
                out.write(json.dumps([target, status, shown, hashlib.sha256(body).hexdigest()]) + "\n")


async def measure(app: Any, listings: dict[str, list[str]], args: argparse.Namespace) -> None:
    """Print each endpoint's CPU per request (HTTP, geocoder alone) and write the dump or profiles."""
    index = app_state_of(app).geocoder.state
    answers = {e: [await call(app, target) for target in paths] for e, paths in listings.items()}
    tile_us = None
    for endpoint, paths in listings.items():
        profile = cProfile.Profile() if args.profile else None
        http_us = await http_cpu_us(app, paths, args.rounds, profile)
        tile_us = http_us if endpoint == "tile" else tile_us
        line = f"{endpoint:13s} {len(paths):5d} requests  HTTP {http_us:7.0f} us/request"
        if tile_us:
            line += f" ({http_us / tile_us:5.2f} x tile)"
        if endpoint != "tile":
            geocoder_us = geocoder_cpu_us(endpoint, index, paths, args.rounds)
            line += f"  geocoder alone {geocoder_us:7.0f} us  rest {http_us - geocoder_us:6.0f} us"
        print(line, flush=True)
        if profile is not None:
            profile.dump_stats(Path(args.profile) / f"{endpoint}.prof")
    if args.dump:
        write_dump(Path(args.dump), listings, answers)


async def serve(url: str, listings: dict[str, list[str]], args: argparse.Namespace) -> None:
    """Run the app's lifespan around the measurement."""
    app = create_app(DatabaseSettings(database_url=url), ApiSettings(geocode=GeocodeSettings(answer_cache=0)))
    async with app.router.lifespan_context(app):
        await measure(app, listings, args)


def main() -> None:
    """Build the scratch database, measure, drop it."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--endpoints", nargs="+", choices=DEFAULT_ENDPOINTS, default=list(DEFAULT_ENDPOINTS))
    parser.add_argument("--dump", help="write every answer (path, status, headers, body SHA-256) here")
    parser.add_argument("--profile", help="write a cProfile file per endpoint into this folder")
    parser.add_argument(
        "--database",
        help="an existing scratch database of bench_http (e.g. kept by bench_http_ab --keep): used, kept",
    )
    args = parser.parse_args()
    url = args.database or bundled_database(BENCH_DB)
    engine = make_engine(url)
    try:
        if not args.database:
            with tempfile.TemporaryDirectory() as folder:
                load_data(engine, ADDRESSES, Path(folder))
        listings = {endpoint: get_paths(endpoint, engine) for endpoint in args.endpoints}
        asyncio.run(serve(url, listings, args))
    finally:
        engine.dispose()
        if not args.database:
            databases.drop_database(url)
    print(f"(process CPU of every thread, best of {args.rounds} passes)")


if __name__ == "__main__":
    main()
