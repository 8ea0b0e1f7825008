"""Provincial and national size on one machine: 1 and 5 million generated addresses, end to end.

Run: ``.venv/bin/python -m benchmarks.bench_sizes [--addresses 1000000 5000000] [--queries 1000]``
(about 5 minutes for 1 million on the 2-core machine and 25 for 5 million; ``make bench``
runs it as the "sizes" benchmark).

For each size N, a scratch database ``diachiso_bench_sizes`` on the server of
``DIACHISO_DATABASE_URL`` is created, migrated and given the bundled Hoa Binh data, then:

* ``diachiso synth`` generates N addresses (:func:`importers.synth.generate`, seed 2025,
  every record labelled generated) and the normal importer loads them in one transaction
  (validation, the commune of every point, both digital codes, history; ``synth.load``);
  the table then holds N rows, every one with both codes (checked, not assumed);
* ``diachiso serve --workers 2`` starts on it (127.0.0.1): "start" is the time until it
  answers, i.e. the index load of its workers; then the resident memory (RSS) and the
  proportional share (PSS, shared pages divided among the processes) of each worker;
* in this process, the index is loaded again (timed), and ``--queries`` addresses drawn
  from the generated set are geocoded by their written address ("số 12, đường Cù Chính
  Lan, phường Hòa Bình, tỉnh Phú Thọ"): a *house hit* is an answer carrying the house
  number within 10 m of the house; and as many points, each a few metres from a house,
  are reverse geocoded (in memory, the nearest address read from the database): p50 and
  p95 per call.

A second table projects every measured figure to 30 million addresses with a straight
line through the two largest sizes measured (value = a + b x N). The database is dropped
after each size.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import geopandas as gpd
import httpx
import numpy as np
from sqlalchemy import Connection, Engine, func, select

from addresses.db import make_engine
from addresses.schema import address
from addresses.settings import DatabaseSettings
from benchmarks.common import DATA, drop_database, fresh_database, load_bundled
from geocoder.index import GeocoderIndex
from geocoder.reverse_memory import reverse_in_memory
from geocoder.search import search
from importers import synth
from tests.api.live import live_server

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "diachiso_bench_sizes"
SEED = 2025
HOUSE_M = 10.0
"""A forward answer lands on the house when it is within this many metres of it."""
JITTER_M = 8.0
"""Reverse points lie up to this far from a generated house."""
METRES_PER_DEGREE = 111_320.0
TARGET = 30_000_000
SERVER_WORKERS = 2
READY_TIMEOUT_S = 3600
"""Workers loading the index of millions of addresses on a busy machine take minutes."""


@dataclass(frozen=True)
class Memory:
    """Resident and proportional memory of one process, in MB."""

    rss_mb: float
    pss_mb: float


@dataclass(frozen=True)
class Size:
    """Everything measured at one size."""

    addresses: int
    generate_s: float
    import_s: float
    coded: int
    server_start_s: float
    workers: tuple[Memory, ...]
    index_load_s: float
    house_hits: float
    forward_ms: tuple[float, float]
    reverse_ms: tuple[float, float]
    reverse_with_address: float

    @property
    def import_rate(self) -> float:
        """Rows imported per second."""
        return self.addresses / self.import_s

    @property
    def worker_rss_mb(self) -> float:
        """The largest RSS of the server's workers."""
        return max(memory.rss_mb for memory in self.workers)

    @property
    def worker_pss_mb(self) -> float:
        """The largest PSS of the server's workers."""
        return max(memory.pss_mb for memory in self.workers)


def memory_of(pid: int) -> Memory:
    """RSS and PSS of a process (Linux ``/proc``), in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, _, value = line.partition(":")
        fields[name.strip()] = float(value.split()[0]) / 1024
    return Memory(fields["Rss"], fields["Pss"])


def descendants(pid: int) -> list[int]:
    """The processes below ``pid`` (children, grandchildren...)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # gone meanwhile
                continue
            parent = int(stat.rpartition(")")[2].split()[1])
            parents.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found += children
        todo += children
    return found


def server_pid(port: int) -> int:
    """The ``diachiso serve`` process listening on ``port`` (found by its command line)."""
    wanted = f"--port\0{port}\0".encode()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if wanted in (entry / "cmdline").read_bytes():
                    return int(entry.name)
            except OSError:
                continue
    raise RuntimeError(f"no server process found for port {port}")


def measure_server(url: str) -> tuple[float, tuple[Memory, ...]]:
    """Seconds until ``diachiso serve --workers 2`` answers; memory of each worker after a search."""
    started = time.perf_counter()
    with live_server(url, workers=SERVER_WORKERS, ready_timeout_s=READY_TIMEOUT_S) as base:
        start_s = time.perf_counter() - started
        for _ in range(4 * SERVER_WORKERS):  # each worker answers at least once, most likely
            httpx.get(base + "/search", params={"q": "phường Hòa Bình"}, timeout=30).raise_for_status()
        port = int(base.rpartition(":")[2])
        memories = settled_memory(server_pid(port))
    return start_s, memories


def settled_memory(server: int, every_s: float = 10.0, looks: int = 3) -> tuple[Memory, ...]:
    """The memory of each worker once no worker's RSS moved by 2% over ``looks`` looks.

    The server answers as soon as one worker is ready; the other may still be loading
    (and a worker waiting for a long query holds still for a while: hence several looks).
    """
    deadline = time.monotonic() + READY_TIMEOUT_S
    seen: list[tuple[Memory, ...]] = []
    while time.monotonic() < deadline:
        workers = sorted(pid for pid in descendants(server) if _is_python(pid))
        seen = [*seen[-(looks - 1) :], tuple(memory_of(pid) for pid in workers)]
        if len(seen) == looks and _steady(seen):
            return seen[-1]
        time.sleep(every_s)
    return seen[-1] if seen else ()


def _steady(looks: list[tuple[Memory, ...]]) -> bool:
    """Whether the same number of workers kept their RSS within 2% of the first look."""
    first = looks[0]
    return all(
        len(look) == len(first)
        and all(
            abs(now.rss_mb - then.rss_mb) <= 0.02 * then.rss_mb for now, then in zip(look, first, strict=True)
        )
        for look in looks[1:]
    )


def _is_python(pid: int) -> bool:
    """Whether ``pid`` runs a Python interpreter holding the app (not a resource tracker)."""
    try:
        line = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"spawn_main" in line or b"api.cli" in line


def percentiles(seconds: Sequence[float]) -> tuple[float, float]:
    """(p50, p95) in milliseconds."""
    cuts = statistics.quantiles(seconds, n=100)
    return cuts[49] * 1e3, cuts[94] * 1e3


def timed_calls(call: Callable[[int], bool], count: int) -> tuple[list[float], int]:
    """Time ``call(i)`` for i < count; return the seconds of each call and how many returned True."""
    seconds, good = [], 0
    for number in range(count):
        started = time.perf_counter()
        good += call(number)
        seconds.append(time.perf_counter() - started)
    return seconds, good


def metres(lon: float, lat: float, lon2: float, lat2: float) -> float:
    """Distance in metres (equirectangular: fine at the scale of a house).

    >>> round(metres(105.0, 20.0, 105.0, 20.001))
    111
    """
    dx = (lon2 - lon) * np.cos(np.radians((lat + lat2) / 2))
    return float(np.hypot(dx, lat2 - lat) * METRES_PER_DEGREE)


def forward(index: GeocoderIndex, sample: gpd.GeoDataFrame) -> tuple[list[float], int]:
    """Geocode each sampled written address; count answers with its house number on the house."""
    texts = sample["address"].tolist()
    numbers = sample["house_number"].tolist()
    xs, ys = sample.geometry.x.to_numpy(), sample.geometry.y.to_numpy()

    def call(number: int) -> bool:
        found = search(index, texts[number], limit=1)
        if not found:
            return False
        top = found[0]
        near = metres(top.lon, top.lat, float(xs[number]), float(ys[number])) <= HOUSE_M
        return near and str(top.house_number).casefold() == str(numbers[number]).casefold()

    return timed_calls(call, len(texts))


def reverse(conn: Connection, index: GeocoderIndex, sample: gpd.GeoDataFrame) -> tuple[list[float], int]:
    """Reverse geocode a point a few metres from each sampled house; count answers naming an address."""
    rng = np.random.default_rng(SEED)
    offsets = rng.uniform(-JITTER_M, JITTER_M, size=(len(sample), 2)) / METRES_PER_DEGREE
    xs = sample.geometry.x.to_numpy() + offsets[:, 0]
    ys = sample.geometry.y.to_numpy() + offsets[:, 1]
    state = index.state.reverse

    @contextmanager
    def connect() -> Iterator[Connection]:
        yield conn

    def call(number: int) -> bool:
        answer = reverse_in_memory(state, float(xs[number]), float(ys[number]), connect=connect)
        return answer.address is not None

    return timed_calls(call, len(sample))


def load_data(engine: Engine, count: int) -> tuple[float, float, gpd.GeoDataFrame]:
    """Bundled data, then ``count`` generated addresses; (generate s, import s, the generated frame)."""
    load_bundled(engine)
    started = time.perf_counter()
    frame = synth.generate(DATA, count, seed=SEED)
    generate_s = time.perf_counter() - started
    started = time.perf_counter()
    with engine.begin() as conn:
        synth.load(conn, frame, name=f"bench-sizes-{count}")
    return generate_s, time.perf_counter() - started, frame


def coded_rows(engine: Engine) -> int:
    """Generated rows carrying both digital codes."""
    query = select(func.count()).where(
        address.c.is_generated, address.c.location_code.is_not(None), address.c.registry_code.is_not(None)
    )
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def queried(engine: Engine, frame: gpd.GeoDataFrame, queries: int) -> dict[str, object]:
    """Index load time and size in this process, forward and reverse over a sample."""
    sample = frame.sample(n=min(queries, len(frame)), random_state=SEED)
    gc.collect()
    with engine.connect() as conn:
        started = time.perf_counter()
        index = GeocoderIndex.load(conn, check_every_s=1e9)
        load_s = time.perf_counter() - started
        forward_s, hits = forward(index, sample)
        reverse_s, named = reverse(conn, index, sample)
        conn.rollback()
    return {
        "index_load_s": load_s,
        "house_hits": hits / len(sample),
        "forward_ms": percentiles(forward_s),
        "reverse_ms": percentiles(reverse_s),
        "reverse_with_address": named / len(sample),
    }


def note(text: str) -> None:
    """Progress on standard error (standard output carries only the tables)."""
    print(text, file=sys.stderr, flush=True)


def measure(settings: DatabaseSettings, count: int, queries: int) -> Size:
    """One size, end to end, in a fresh scratch database (dropped afterwards)."""
    url = fresh_database(BENCH_DB, settings)
    engine = make_engine(url)
    try:
        generate_s, import_s, frame = load_data(engine, count)
        coded = coded_rows(engine)
        note(f"{count:,}: generated in {generate_s:.1f} s, imported in {import_s:.1f} s")
        start_s, workers = measure_server(url)
        note(f"{count:,}: server up in {start_s:.1f} s, workers {workers}")
        figures = queried(engine, frame, queries)
        del frame
    finally:
        engine.dispose()
        drop_database(url)
    return Size(count, generate_s, import_s, coded, start_s, workers, **figures)  # type: ignore[arg-type]


def table(sizes: Sequence[Size]) -> str:
    """The measured sizes as one markdown table."""
    lines = [
        "| addresses | generate s | import s | import rows/s | coded | server start s (2 workers) "
        "| worker RSS MB | worker PSS MB | index load s | house hits | forward p50 ms "
        "| forward p95 ms | reverse p50 ms | reverse p95 ms | reverse with address |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {s.addresses:,} | {s.generate_s:.1f} | {s.import_s:.1f} | {s.import_rate:,.0f} | {s.coded:,} "
        f"| {s.server_start_s:.1f} | {s.worker_rss_mb:,.0f} | {s.worker_pss_mb:,.0f} | {s.index_load_s:.1f} "
        f"| {s.house_hits:.1%} | {s.forward_ms[0]:.2f} | {s.forward_ms[1]:.2f} "
        f"| {s.reverse_ms[0]:.2f} | {s.reverse_ms[1]:.2f} | {s.reverse_with_address:.1%} |"
        for s in sizes
    ]
    return "\n".join(lines)


PROJECTED: tuple[tuple[str, Callable[[Size], float], str], ...] = (
    ("import s", lambda s: s.import_s, "{:,.0f}"),
    ("server start s (2 workers)", lambda s: s.server_start_s, "{:,.0f}"),
    ("index load s", lambda s: s.index_load_s, "{:,.0f}"),
    ("worker RSS MB", lambda s: s.worker_rss_mb, "{:,.0f}"),
    ("worker PSS MB", lambda s: s.worker_pss_mb, "{:,.0f}"),
)


def line_through(small: tuple[float, float], large: tuple[float, float]) -> tuple[float, float]:
    """(a, b) of the straight line value = a + b * n through two (n, value) points.

    >>> line_through((1.0, 3.0), (3.0, 7.0))
    (1.0, 2.0)
    """
    slope = (large[1] - small[1]) / (large[0] - small[0])
    return small[1] - slope * small[0], slope


def projection(sizes: Sequence[Size], target: int = TARGET) -> str:
    """Each figure at ``target`` addresses by the line through the two largest sizes measured."""
    small, large = sorted(sizes, key=lambda s: s.addresses)[-2:]
    millions = (small.addresses / 1e6, large.addresses / 1e6)
    lines = [
        f"| figure | {small.addresses:,} | {large.addresses:,} | formula (N in millions) "
        f"| {target:,} (projected) |",
        "|---|---:|---:|---|---:|",
    ]
    for name, value, shape in PROJECTED:
        a, b = line_through((millions[0], value(small)), (millions[1], value(large)))
        lines.append(
            f"| {name} | {shape.format(value(small))} | {shape.format(value(large))} "
            f"| {a:,.2f} + {b:,.3f} x N | {shape.format(a + b * target / 1e6)} |"
        )
    return "\n".join(lines)


def main() -> int:
    """Measure each size; print the table and the projection; status 1 if a size failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addresses", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--queries", type=int, default=1_000, help="forward and reverse calls per size")
    args = parser.parse_args()
    settings = DatabaseSettings()
    sizes, failed = [], []
    for count in sorted(args.addresses):
        try:
            sizes.append(measure(settings, count, args.queries))
        except Exception as error:  # the sizes measured still get printed
            note(f"{count:,}: FAILED: {error!r}")
            failed.append(count)
            continue
        note(table(sizes[-1:]).splitlines()[-1])
    if sizes:
        print()
        print(table(sizes))
    if len(sizes) > 1:
        print(f"\nProjected to {TARGET:,} addresses:\n")
        print(projection(sizes))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
