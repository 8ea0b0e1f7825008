"""Real PostGIS fixtures: one fresh database per test session (per xdist worker).

The database lives in the embedded cluster (or on DIACHISO_DATABASE_URL's server),
is created empty, migrated, and loaded with the bundled Hoa Binh data once. A skipped
database test always fails the run; under CI (``.ci/run`` sets ``CI=1``) any skipped
test does.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine

from addresses import migrate
from addresses.db import make_engine
from importers.bundled import import_bundled
from tests import databases
from tests.databases import DATA_DIR


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A fresh, empty test database for this session (its own name: sessions may run at once)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    server = databases.server_url()
    url = databases.recreate_database(server, f"diachiso_test_{worker}_{os.getpid()}")
    yield url
    databases.drop_database(url)


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


DATABASE_FIXTURE = "database_url"
_database_tests: set[str] = set()
_skipped: list[str] = []


def ci_requested(value: str | None) -> bool:
    """Whether a ``CI`` environment value asks for the strict run (unset, empty, 0, false, no: not).

    >>> [ci_requested(v) for v in (None, "", "0", "false", "No", "1", "true")]
    [False, False, False, False, False, True, True]
    """
    return (value or "").strip().lower() not in {"", "0", "false", "no"}


def forbidden_skips(skipped: list[str], database_tests: set[str], *, ci: bool) -> list[str]:
    """The skipped tests that fail the run: database tests always, every test under CI.

    >>> forbidden_skips(["a", "b"], {"b"}, ci=False)
    ['b']
    >>> forbidden_skips(["a", "b"], {"b"}, ci=True)
    ['a', 'b']
    """
    return list(skipped) if ci else [nodeid for nodeid in skipped if nodeid in database_tests]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Remember which tests need the database (directly or through another fixture)."""
    for item in items:
        if DATABASE_FIXTURE in getattr(item, "fixturenames", ()):
            _database_tests.add(item.nodeid)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Remember skipped tests."""
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A skipped database test fails the run, and under CI (``.ci/run``) so does any skipped test."""
    forbidden = forbidden_skips(_skipped, _database_tests, ci=ci_requested(os.environ.get("CI")))
    if forbidden and exitstatus == 0:
        print(f"\n{len(forbidden)} test(s) were skipped, which is not allowed here: {forbidden[:5]}")
        session.exitstatus = 1
