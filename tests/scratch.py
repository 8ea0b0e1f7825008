"""A second throwaway database, migrated and loaded with the bundled data, for tests that need two."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine

from addresses import migrate, pgcluster
from addresses.db import make_engine
from addresses.settings import DatabaseSettings
from importers.bundled import import_bundled
from tests.conftest import DATA_DIR


@contextmanager
def loaded_database(name: str) -> Iterator[tuple[str, Engine]]:
    """A fresh database ``name`` (made unique per test process) with the bundled data; dropped after."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    server = pgcluster.server_url(DatabaseSettings())
    url = pgcluster.recreate_database(server, f"{name}_{worker}_{os.getpid()}")
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        for _report in import_bundled(engine, DATA_DIR):
            pass
        yield url, engine
    finally:
        engine.dispose()
        pgcluster.drop_database(url)
