"""Vector tiles side by side: diachiso against tipg (Development Seed), both served by uvicorn.

Both servers run as separate uvicorn processes on 127.0.0.1 over the same database
(the project's main database, bundled data loaded). One client process requests the
same tile list from each over HTTP with httpx, at the same concurrency: every tile of
zooms 8-14 (from each layer's minzoom) covering Hòa Bình city and Mai Châu, for the
layers units, villages and places (and addresses when the database has any).

- cold: diachiso's cache is emptied first the way any edit empties it (a change covering
  the world is recorded in ``tile_invalidation``; the server polls it within a second),
  so every tile is built in PostGIS; for tipg, which has no cache, the same pass
- cached: the same list three times more (``--cached-passes``; diachiso answers from its
  cache; tipg builds every tile again, on warm PostgreSQL buffers)

Both servers start once and are warmed up on tiles outside the list; each round is
one cold pass and ``--cached-passes`` (3) cached passes per server. The change records the benchmark
writes into ``tile_invalidation`` are harmless (they only evict tiles).

tipg asks for the same rows and attributes (``properties`` and a CQL2 ``filter``);
it does not simplify geometry unless a client passes ``simplify``, which a MapLibre
style cannot do per zoom. tipg runs in its own virtual environment
(``.diachiso/bench/tipg-venv``, created with pip when missing) so its pins never touch
the project's; both servers run uvicorn with uvloop and httptools, one worker each.

    .venv/bin/python -m benchmarks.bench_tiles [--concurrency 8] [--rounds 3] [--cached-passes 3] [--every 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import httpx
import mapbox_vector_tile
from sqlalchemy import Engine, func, insert, inspect, select
from sqlalchemy.engine import make_url

from addresses import pgcluster
from addresses.changes import CHANGE_LAYERS
from addresses.db import make_engine
from addresses.schema import SRID, address, tile_invalidation
from addresses.settings import DatabaseSettings
from tiles.layers import LAYERS
from tiles.tilematrix import TileId, tile_range

ROOT = Path(__file__).resolve().parent.parent
TIPG_VENV = ROOT / ".diachiso" / "bench" / "tipg-venv"
TIPG_PACKAGES: Final = ("tipg==1.6.1", "uvicorn[standard]")
"""tipg, and uvicorn with uvloop and httptools as diachiso's server has them."""
AREAS: Final = {
    "Hòa Bình city": (105.28, 20.76, 105.42, 20.88),
    "Mai Châu": (104.98, 20.60, 105.14, 20.72),
}
ZOOMS: Final = range(8, 15)
POLL_WAIT_SECONDS: Final = 1.5
"""Longer than diachiso's default DIACHISO_TILE_POLL_SECONDS (1 s)."""
#: tipg's request for each layer: its table, attributes and the rows the layer draws.
TIPG_QUERIES: Final = {
    "units": ("public.admin_unit", "code,name,full_name,unit_type", "level=3 AND valid_to IS NULL"),
    "villages": ("public.village", "id,name,village_type", "status<>'retired'"),
    "places": ("public.place", "id,name,kind", "status<>'retired'"),
    "addresses": (
        "public.address",
        "registry_code,location_code,house_number,street",
        "status<>'retired'",
    ),
}


@dataclass(frozen=True)
class Request:
    """One tile of one layer."""

    layer: str
    tile: TileId


@dataclass
class Pass:
    """The timings of one pass over the tile list."""

    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    by_request: dict[int, float] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)
    bytes: int = 0

    @property
    def rate(self) -> float:
        """Tiles per second."""
        return len(self.latencies) / self.seconds


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def tile_list(with_addresses: bool) -> list[Request]:
    """Every tile of zooms 8-14 (from each layer's minzoom) covering the two areas, per layer."""
    layers = ["units", "villages", "places", *(["addresses"] if with_addresses else [])]
    requests: list[Request] = []
    for name in layers:
        zooms = [z for z in ZOOMS if LAYERS[name].serves(z)]
        tiles = {tile for bbox in AREAS.values() for z in zooms for tile in tile_range(bbox, z)}
        requests += [Request(name, tile) for tile in sorted(tiles)]
    return requests


def diachiso_url(request: Request) -> str:
    """The tile's path on diachiso."""
    return f"/tiles/{request.layer}/{request.tile}.mvt"


def tipg_url(request: Request) -> str:
    """The same tile's path and query on tipg."""
    table, properties, where = TIPG_QUERIES[request.layer]
    query = httpx.QueryParams({"properties": properties, "filter": where, "filter-lang": "cql2-text"})
    return f"/collections/{table}/tiles/WebMercatorQuad/{request.tile}?{query}"


def ensure_tipg() -> Path:
    """The Python of tipg's own virtual environment, created with pip when missing."""
    python = TIPG_VENV / "bin" / "python"
    if not python.exists():
        print(f"creating tipg's virtual environment: pip install {' '.join(TIPG_PACKAGES)}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(TIPG_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *TIPG_PACKAGES], check=True)
    return python


def server_environments(database_url: str) -> dict[str, dict[str, str]]:
    """The environment of each server: the same database, one worker, no access log."""
    plain = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DIACHISO_", "TIPG_", "DATABASE_URL"))}
    return {
        "diachiso": {**base, "DIACHISO_DATABASE_URL": database_url, "DIACHISO_TILE_CACHE_MB": "256"},
        "tipg": {
            **base,
            "DATABASE_URL": plain,
            "TIPG_DB_SCHEMAS": '["public"]',
            "TIPG_DB_TABLES": json.dumps([table for table, _, _ in TIPG_QUERIES.values()]),
            "TIPG_CATALOG_TTL": "0",
            "TIPG_SET_MVT_LAYERNAME": "true",
            "TIPG_DB_MAX_CONN_SIZE": "10",
            "TIPG_TILE_BUFFER": "64",
        },
    }


@contextmanager
def serving(name: str, python: Path, app: list[str], env: dict[str, str]) -> Iterator[str]:
    """Run one uvicorn server on a free loopback port until the block ends; yield its base URL."""
    port = free_port()
    command = [str(python), "-m", "uvicorn", *app, "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", "1", "--no-access-log", "--log-level", "warning"]
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, "/healthz" if name == "tipg" else "/health", process)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


def wait_until_up(base: str, path: str, process: subprocess.Popen[bytes]) -> None:
    """Wait (at most 60 s) until the server answers 200."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server at {base} exited with {process.returncode}")
        try:
            if httpx.get(base + path, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server at {base} did not start")


async def run_pass(base: str, paths: list[str], concurrency: int) -> Pass:
    """Request every path once with ``concurrency`` requests in flight; time each one.

    The requests go straight to httpx's connection pool (``AsyncHTTPTransport``): the
    client's own cost per request is half that of ``AsyncClient``, so the numbers say
    more about the servers. Bodies are read as sent (gzip), not decoded.
    """
    result = Pass()
    queue = iter(enumerate(paths))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = [(b"Host", base.removeprefix("http://").encode()), (b"Accept-Encoding", b"gzip")]
    async with httpx.AsyncHTTPTransport(limits=limits) as transport:

        async def worker() -> None:
            for index, path in queue:
                started = time.perf_counter()
                response = await transport.handle_async_request(
                    httpx.Request("GET", base + path, headers=headers)
                )
                body = b"".join([chunk async for chunk in response.aiter_raw()])
                await response.aclose()
                result.latencies.append(time.perf_counter() - started)
                result.by_request[index] = result.latencies[-1]
                result.statuses[response.status_code] = result.statuses.get(response.status_code, 0) + 1
                result.bytes += len(body)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        result.seconds = time.perf_counter() - started
    return result


def same_features(diachiso: str, tipg: str, requests: list[Request]) -> tuple[int, int]:
    """How many tiles of a sample hold the same number of features on both servers (and the sample size)."""
    sample = requests[:: max(1, len(requests) // 40)]
    same = 0
    for request in sample:
        ours = httpx.get(diachiso + diachiso_url(request), timeout=30)
        theirs = httpx.get(tipg + tipg_url(request), timeout=30)
        count_ours = sum(len(v["features"]) for v in mapbox_vector_tile.decode(ours.content).values())
        count_theirs = sum(len(v["features"]) for v in mapbox_vector_tile.decode(theirs.content).values())
        same += count_ours == count_theirs
    return same, len(sample)


@dataclass
class Results:
    """Every pass of every server, by phase."""

    passes: dict[tuple[str, str], list[Pass]] = field(default_factory=dict)
    agreement: tuple[int, int] = (0, 0)

    def add(self, server: str, phase: str, result: Pass) -> None:
        """Keep one pass."""
        self.passes.setdefault((server, phase), []).append(result)


def clear_caches(engine: Engine) -> None:
    """Make every diachiso process evict every tile, as an edit of everything would, and wait for it."""
    with engine.begin() as conn:
        everywhere = func.ST_MakeEnvelope(-180.0, -85.06, 180.0, 85.06, SRID)
        for layer in CHANGE_LAYERS:
            conn.execute(insert(tile_invalidation).values(layer=layer, bbox=everywhere))
    time.sleep(POLL_WAIT_SECONDS)


def run_rounds(
    engine: Engine, requests: list[Request], concurrency: int, rounds: int, cached_passes: int = 3
) -> Results:
    """Start both servers, warm them up off the list, then per round: clear, a cold pass, the cached ones."""
    results = Results()
    environments = server_environments(engine.url.render_as_string(hide_password=False))
    diachiso_app = ["api.app:app_from_environment", "--factory"]
    with (
        serving("diachiso", Path(sys.executable), diachiso_app, environments["diachiso"]) as ours,
        serving("tipg", ensure_tipg(), ["tipg.main:app"], environments["tipg"]) as theirs,
    ):
        warm_up = [Request(name, TileId(7, 100, 56)) for name in ("units", "villages")]
        servers = {
            "tipg": (theirs, [tipg_url(r) for r in requests], [tipg_url(r) for r in warm_up]),
            "diachiso": (ours, [diachiso_url(r) for r in requests], [diachiso_url(r) for r in warm_up]),
        }
        for base, _, warm in servers.values():
            asyncio.run(run_pass(base, warm, 1))
        for _ in range(rounds):
            clear_caches(engine)
            for server, (base, paths, _) in servers.items():
                results.add(server, "cold", asyncio.run(run_pass(base, paths, concurrency)))
            for _ in range(cached_passes):
                for server, (base, paths, _) in servers.items():
                    results.add(server, "cached", asyncio.run(run_pass(base, paths, concurrency)))
        results.agreement = same_features(ours, theirs, requests)
    return results


def summary(passes: list[Pass]) -> tuple[float, float, float, float]:
    """Median tiles/s over passes, p50 and p95 latency (ms) over all requests, mean kB per tile."""
    latencies = sorted(x for p in passes for x in p.latencies)
    p50 = latencies[len(latencies) // 2] * 1000
    p95 = latencies[int(len(latencies) * 0.95)] * 1000
    kilobytes = sum(p.bytes for p in passes) / len(latencies) / 1024
    return statistics.median(p.rate for p in passes), p50, p95, kilobytes


def row(*cells: object) -> str:
    """One markdown table row."""
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def print_table(results: Results, requests: list[Request], concurrency: int, rounds: int) -> None:
    """The markdown tables: both servers per phase with diachiso's ratios, then cold latency per layer."""
    counts = {
        name: sum(1 for r in requests if r.layer == name) for name in dict.fromkeys(r.layer for r in requests)
    }
    same, sample = results.agreement
    print(f"### Vector tiles: diachiso vs tipg {tipg_version()}")
    print()
    print(f"{len(requests)} tiles ({', '.join(f'{n} {c}' for n, c in counts.items())}), zooms 8-14 over")
    print(f"{' and '.join(AREAS)}; concurrency {concurrency}; {rounds} rounds (caches cleared each).")
    print(f"Same feature count on both servers: {same} of {sample} sampled tiles (the others differ by")
    print("features in the 64-unit tile buffer, which diachiso draws and tipg's tile filter leaves out).")
    print(f"Machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end of the run.")
    print()
    print(
        row(
            "phase", "server", "tiles/s", "p50 ms", "p95 ms", "kB/tile sent", "tiles/s vs tipg", "p50 vs tipg"
        )
    )
    print(row("---", "---", "---:", "---:", "---:", "---:", "---:", "---:"))
    for phase in ("cold", "cached"):
        rate_tipg, p50_tipg, p95_tipg, kb_tipg = summary(results.passes["tipg", phase])
        rate, p50, p95, kb = summary(results.passes["diachiso", phase])
        print(
            row(
                phase,
                "tipg",
                f"{rate_tipg:.0f}",
                f"{p50_tipg:.2f}",
                f"{p95_tipg:.2f}",
                f"{kb_tipg:.2f}",
                "1",
                "1",
            )
        )
        ratios = f"{rate / rate_tipg:.2f}x", f"{p50_tipg / p50:.2f}x"
        print(row(phase, "diachiso", f"{rate:.0f}", f"{p50:.2f}", f"{p95:.2f}", f"{kb:.2f}", *ratios))
    print()
    print(row("cold p50 ms by layer", "tipg", "diachiso", "tipg / diachiso"))
    print(row("---", "---:", "---:", "---:"))
    for name in counts:
        theirs = layer_p50(results.passes["tipg", "cold"], requests, name)
        ours = layer_p50(results.passes["diachiso", "cold"], requests, name)
        print(row(name, f"{theirs:.2f}", f"{ours:.2f}", f"{theirs / ours:.2f}x"))


def layer_p50(passes: list[Pass], requests: list[Request], layer: str) -> float:
    """The median latency (ms) of one layer's tiles over passes."""
    return 1000 * statistics.median(
        latency for p in passes for index, latency in p.by_request.items() if requests[index].layer == layer
    )


def tipg_version() -> str:
    """The installed tipg's version."""
    python = ensure_tipg()
    out = subprocess.run(
        [str(python), "-c", "import tipg; print(tipg.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def main() -> None:
    """Run the benchmark on the main database and print the markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cached-passes", type=int, default=3, help="cached passes per round and server")
    parser.add_argument("--every", type=int, default=1, help="only every N-th tile of the list (rougher)")
    args = parser.parse_args()
    engine = make_engine(pgcluster.database_url(DatabaseSettings()))
    if not inspect(engine).has_table(tile_invalidation.name):
        raise SystemExit("the database has no tile_invalidation table: run `diachiso db start` (migrations)")
    with engine.connect() as conn:
        with_addresses = bool(conn.execute(select(func.count()).select_from(address)).scalar_one())
    requests = tile_list(with_addresses)[:: args.every]
    results = run_rounds(engine, requests, args.concurrency, args.rounds, args.cached_passes)
    engine.dispose()
    print_table(results, requests, args.concurrency, args.rounds)


if __name__ == "__main__":
    main()
