"""Reverse geocoding in process: the database path beside the in-memory path, on the dev set's points.

Run: ``.venv/bin/python -m benchmarks.bench_reverse [--addresses 20000] [--rounds 3] [--every 1]``
(prints one markdown table)

It builds a scratch database (``diachiso_bench_reverse_<pid>`` on the server of
``DIACHISO_DATABASE_URL``: migrated, the bundled Hoa Binh data; dropped at the end) and
works inside one transaction: ``--addresses N`` first loads N generated
addresses (:func:`importers.synth.generate`, through the importer) so the nearest-address
step has something to find. The index is built from that same transaction, then each path
answers the 400 reverse points of the development set (every ``--every``-th of them)
``--rounds`` times (after one warm-up round), one call at a time; the table gives the
latency per call and the calls per second.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Connection

from addresses.db import make_engine
from benchmarks.scratch import bundled_database
from geocoder.index import GeocoderIndex
from geocoder.results import ReverseResult
from geocoder.reverse import DEFAULT_RADIUS_M, ReverseQuery, reverse
from geocoder.reverse_memory import reverse_in_memory
from importers import synth
from tests import databases

DATA = Path(__file__).resolve().parent.parent / "data" / "hoabinh"
Point = tuple[float, float]
BENCH_DB = "diachiso_bench_reverse"


def dev_points() -> list[Point]:
    """The reverse points of the generated development set."""
    lines = (DATA / "geocoding_dev_queries.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    return [(row["lon"], row["lat"]) for row in rows if row["kind"] == "reverse"]


def timed(answer: Callable[[float, float], ReverseResult], points: list[Point], rounds: int) -> list[float]:
    """Seconds per call over ``rounds`` passes (after a warm-up pass)."""
    for lon, lat in points:
        answer(lon, lat)
    times = []
    for _round in range(rounds):
        for lon, lat in points:
            started = time.perf_counter()
            answer(lon, lat)
            times.append(time.perf_counter() - started)
    return times


def row(name: str, times: list[float]) -> tuple[str, float, float, float]:
    """(path, p50 ms, p95 ms, calls/s)."""
    cuts = statistics.quantiles(times, n=100)
    return name, cuts[49] * 1e3, cuts[94] * 1e3, len(times) / sum(times)


def measure(
    conn: Connection, *, addresses: int, rounds: int, every: int = 1
) -> list[tuple[str, float, float, float]]:
    """Load the generated addresses (if any), build the index, time both paths."""
    if addresses:
        synth.load(conn, synth.generate(DATA, addresses, seed=2025), name="bench-reverse")
    started = time.perf_counter()
    index = GeocoderIndex.load(conn, check_every_s=1e9).state.reverse
    print(f"index built in {time.perf_counter() - started:.1f} s (with {addresses} generated addresses)")

    @contextmanager
    def connect() -> Iterator[Connection]:
        yield conn

    points = dev_points()[::every]
    near = sum(
        any(
            metres <= DEFAULT_RADIUS_M
            for metres, _row in index.address_points.nearest(lon, lat, DEFAULT_RADIUS_M)
        )
        for lon, lat in points
    )
    print(
        f"an address lies within {DEFAULT_RADIUS_M:g} m of {near} of {len(points)} points; "
        "the in-memory path reads the nearest address from the database at every point"
    )
    in_db = timed(lambda lon, lat: reverse(conn, query=ReverseQuery(lon, lat)), points, rounds)
    in_memory = timed(
        lambda lon, lat: reverse_in_memory(index, query=ReverseQuery(lon, lat), connect=connect),
        points,
        rounds,
    )
    return [row("database (PostGIS)", in_db), row("in memory", in_memory)]


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addresses", type=int, default=0, help="generated addresses to load first")
    parser.add_argument("--rounds", type=int, default=3, help="timed passes over the 400 points")
    parser.add_argument("--every", type=int, default=1, help="only every N-th point (a quicker, rougher run)")
    args = parser.parse_args()
    url = bundled_database(BENCH_DB)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            transaction = conn.begin()
            try:
                rows = measure(conn, addresses=args.addresses, rounds=args.rounds, every=args.every)
            finally:
                transaction.rollback()
    finally:
        engine.dispose()
        databases.drop_database(url)
    print()
    print(table(args.addresses, rows))


def table(addresses: int, rows: list[tuple[str, float, float, float]]) -> str:
    """One markdown table: both paths, the in-memory path's calls per second over the database's.

    >>> print(table(0, [("database (PostGIS)", 4.0, 8.0, 200.0), ("in memory", 1.0, 2.0, 900.0)]))
    | addresses | path | p50 ms | p95 ms | calls/s | in memory / database |
    |---:|---|---:|---:|---:|---:|
    | 0 (bundled data) | database (PostGIS) | 4.00 | 8.00 | 200 |  |
    | 0 (bundled data) | in memory | 1.00 | 2.00 | 900 | 4.5x |
    """
    label = "0 (bundled data)" if addresses == 0 else f"{addresses:,} generated"
    lines = [
        "| addresses | path | p50 ms | p95 ms | calls/s | in memory / database |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for number, (name, p50, p95, rate) in enumerate(rows):
        ratio = f"{rate / rows[0][3]:.1f}x" if number else ""
        lines.append(f"| {label} | {name} | {p50:.2f} | {p95:.2f} | {rate:.0f} | {ratio} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
