"""Readers keep answering while an import rebuilds indexes: no deadlock, no error, no long wait.

Twelve threads run the queries of /health and /reverse through the library, each
call on its own connection and in its own transaction as a request does, while an
import of generated addresses takes the index-rebuilding path. The import lingers
with its rows loaded (a slow progress callback) for longer than a reader may wait,
so a reader blocked behind the load cannot go unnoticed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, delete, func, select

from addresses import migrate, queries
from addresses.db import make_engine
from addresses.schema import address, address_history, metadata
from addresses.settings import DatabaseSettings
from geocoder.reverse import ReverseQuery, reverse
from importers.mapping import default_mapping
from importers.pipeline import ImportOptions, import_file
from tests.importers.builders import INSIDE
from tests.synthetic import generate_addresses

READERS = 12
MAX_WAIT_S = 2.0
"""The longest a reader may wait for one answer (the issue's bound)."""
LINGER_S = 3.0
"""How long the import dwells with its rows loaded, before the indexes are built and swapped in."""
GENERATED_ROWS = 20_000
SOURCE = "generated-readers"


@dataclass
class Readings:
    """What the reader threads saw: each call's duration and end time, and any error."""

    waits: list[tuple[float, float]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, started: float, error: BaseException | None) -> None:
        ended = time.perf_counter()
        with self.lock:
            self.waits.append((ended - started, ended))
            if error is not None:
                self.errors.append(repr(error))


def _health(conn: Connection, _point: tuple[float, float]) -> None:
    """What GET /health asks the database."""
    queries.schema_revision(conn)
    queries.table_counts(conn)


def _reverse(conn: Connection, point: tuple[float, float]) -> None:
    """What GET /reverse asks the database."""
    reverse(conn, query=ReverseQuery(*point))


Call = Callable[[Connection, tuple[float, float]], None]


def _reader(engine: Engine, point: tuple[float, float], stop: threading.Event, seen: Readings) -> None:
    calls: tuple[Call, ...] = (_health, _reverse)
    while not stop.is_set():
        for call in calls:
            started = time.perf_counter()
            try:
                with engine.connect() as conn:  # one request: one connection, one transaction
                    call(conn, point)
            except Exception as error:  # every failure of a reader is the finding
                seen.record(started, error)
            else:
                seen.record(started, None)


@pytest.fixture
def readers_engine(database_url: str) -> Iterator[Engine]:
    """An engine with a connection for every reader and the import."""
    engine = make_engine(database_url, DatabaseSettings(pool_size=READERS + 2))
    yield engine
    engine.dispose()


@pytest.fixture
def generated_file(tmp_path: Path, data_dir: Path, engine: Engine) -> Iterator[Path]:
    """Generated addresses (labelled generated, not surveyed), removed from the database afterwards."""
    wards = gpd.read_file(data_dir / "wards_2025.geojson").geometry
    path = tmp_path / "generated-readers.parquet"
    generate_addresses(wards, GENERATED_ROWS, seed=99).to_parquet(path)
    yield path
    with engine.begin() as conn:  # test hygiene: other tests look for addresses near these points
        ours = select(address.c.id).where(address.c.source == SOURCE)
        conn.execute(delete(address_history).where(address_history.c.address_id.in_(ours)))
        conn.execute(delete(address).where(address.c.source == SOURCE))


def test_an_import_rebuilding_indexes_never_blocks_or_fails_readers(
    engine: Engine, readers_engine: Engine, generated_file: Path
) -> None:
    stop, seen = threading.Event(), Readings()
    threads = [
        threading.Thread(target=_reader, args=(readers_engine, INSIDE[i % len(INSIDE)], stop, seen))
        for i in range(READERS)
    ]
    lingered: list[tuple[float, float]] = []

    def linger(stage: str, done: int, total: int) -> None:
        if stage == "rebuilding indexes":  # the rows are loaded; the indexes are not built yet
            started = time.perf_counter()
            time.sleep(LINGER_S)
            lingered.append((started, time.perf_counter()))

    options = ImportOptions(
        default_mapping("addresses"), source=SOURCE, rebuild_indexes=True, progress=linger
    )
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.5)  # the readers are in full swing
        with readers_engine.begin() as conn:
            report = import_file(conn, generated_file, options=options)
        time.sleep(0.5)  # and go on after the swap
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert (report.inserted, report.indexes_rebuilt) == (GENERATED_ROWS, True)
    assert seen.errors == []
    longest = max(wait for wait, _end in seen.waits)
    assert longest < MAX_WAIT_S, f"a reader waited {longest:.2f} s"
    (start, end) = lingered[0]
    answered_meanwhile = sum(1 for _wait, ended in seen.waits if start <= ended <= end)
    assert answered_meanwhile >= READERS  # readers were answered while the load held its rows
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).where(address.c.source == SOURCE)).scalar_one()
        context = MigrationContext.configure(conn, opts={"include_object": migrate.include_object})
        assert compare_metadata(context, metadata) == []  # the swapped-in table is the declared one
    assert stored == GENERATED_ROWS
