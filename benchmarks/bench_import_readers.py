"""A large import with readers running: import time and what readers wait, indexes rebuilt or kept.

Run: ``.venv/bin/python benchmarks/bench_import_readers.py [--rows 200000] [--readers 12] [--rounds 2]``.

Each round loads the same generated address points (labelled generated in the data)
into an empty ``address`` table of a throwaway database (units imported first), once
with ``--rebuild-indexes`` (rows go into a fresh copy of the table, indexed once and
swapped in: addresses.swap) and once with ``--keep-indexes``, while reader threads run
the queries of /health and /reverse through the library, each call on its own
connection as a request does. Prints the import's seconds and the readers' calls,
errors, median, 99th percentile and longest wait.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import geopandas as gpd
from sqlalchemy import Engine

from addresses import queries
from addresses.db import make_engine
from addresses.settings import DatabaseSettings
from benchmarks.common import DATA, drop_database, fresh_database, load_bundled
from geocoder.reverse import reverse
from importers.mapping import default_mapping
from importers.pipeline import ImportOptions, import_file
from importers.synthetic import generate_addresses

BENCH_DB = "diachiso_bench_import_readers"
POINTS = [(105.338, 20.817), (105.0833, 20.6601), (105.5300, 20.8500)]


@dataclass
class Waits:
    """Every reader call's duration, and the errors."""

    seconds: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def read_loop(engine: Engine, point: tuple[float, float], stop: threading.Event, waits: Waits) -> None:
    """Ask what /health and /reverse ask until told to stop."""
    while not stop.is_set():
        for health in (True, False):
            started = time.perf_counter()
            error = None
            try:
                with engine.connect() as conn:
                    if health:
                        queries.schema_revision(conn)
                        queries.table_counts(conn)
                    else:
                        reverse(conn, *point)
            except Exception as failure:  # every failure of a reader is a finding
                error = repr(failure)
            with waits.lock:
                waits.seconds.append(time.perf_counter() - started)
                if error is not None:
                    waits.errors.append(error)


def fresh_engine(settings: DatabaseSettings, readers: int) -> Engine:
    """A throwaway database with the schema and the bundled units, and an engine on it."""
    engine = make_engine(fresh_database(BENCH_DB, settings), DatabaseSettings(pool_size=readers + 2))
    load_bundled(engine)
    return engine


def one_run(settings: DatabaseSettings, path: Path, *, rebuild: bool, readers: int) -> tuple[float, Waits]:
    """Import ``path`` with readers running; return the import's seconds and the readers' waits."""
    engine = fresh_engine(settings, readers)
    stop, waits = threading.Event(), Waits()
    threads = [
        threading.Thread(target=read_loop, args=(engine, POINTS[i % len(POINTS)], stop, waits))
        for i in range(readers)
    ]
    for thread in threads:
        thread.start()
    options = ImportOptions(default_mapping("addresses"), source="bench", rebuild_indexes=rebuild)
    try:
        started = time.perf_counter()
        with engine.begin() as conn:
            import_file(conn, path, options=options)
        seconds = time.perf_counter() - started
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        engine.dispose()
        drop_database(engine.url.render_as_string(hide_password=False))
    return seconds, waits


def main() -> None:
    """Run the rounds and print one table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--readers", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    settings = DatabaseSettings()
    wards = gpd.read_file(DATA / "wards_2025.geojson").geometry
    print("| indexes | round | rows | import s | reader calls | errors | median wait s | p99 s | longest s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "generated.parquet"
        generate_addresses(wards, args.rows, seed=13).to_parquet(path)
        for round_number in range(1, args.rounds + 1):
            for rebuild in (True, False):
                seconds, waits = one_run(settings, path, rebuild=rebuild, readers=args.readers)
                ordered = sorted(waits.seconds)
                p99 = ordered[int(0.99 * (len(ordered) - 1))]
                label = "rebuilt (swapped in)" if rebuild else "kept"
                median, longest = statistics.median(ordered), ordered[-1]
                print(
                    f"| {label} | {round_number} | {args.rows:,} | {seconds:.2f} | {len(ordered):,} | "
                    f"{len(waits.errors)} | {median:.3f} | {p99:.3f} | {longest:.3f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
