"""Real PostGIS fixtures: one fresh database per test session (per xdist worker).

The database lives in the embedded cluster (or on DIACHISO_DATABASE_URL's server),
is created empty, migrated, and loaded with the bundled Hoa Binh data once. Under CI
a skipped test fails the run: database tests must never be skipped.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine

from addresses import migrate, pgcluster
from addresses.db import make_engine
from addresses.settings import DatabaseSettings
from importers.bundled import import_bundled

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data" / "hoabinh"


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A fresh, empty test database for this session (its own name: sessions may run at once)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    server = pgcluster.server_url(DatabaseSettings())
    url = pgcluster.recreate_database(server, f"diachiso_test_{worker}_{os.getpid()}")
    yield url
    pgcluster.drop_database(url)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """The migrated test database with all the bundled Hoa Binh data imported."""
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    for _report in import_bundled(engine, DATA_DIR):
        pass
    yield engine
    engine.dispose()


@pytest.fixture
def conn(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that is rolled back after the test."""
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            yield connection
        finally:
            transaction.rollback()


@pytest.fixture
def data_dir() -> Path:
    """The bundled Hoa Binh data folder."""
    return DATA_DIR


_skipped: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Remember skipped tests."""
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under CI, any skipped test fails the run (database tests must not be skipped)."""
    if os.environ.get("CI") and _skipped and exitstatus == 0:
        print(f"\nCI: {len(_skipped)} test(s) were skipped, which is not allowed: {_skipped[:5]}")
        session.exitstatus = 1
