"""A second throwaway database, migrated and loaded with the bundled data, for tests that need two."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine

from addresses import migrate
from addresses.db import make_engine
from importers.bundled import import_bundled
from tests import databases
from tests.conftest import DATA_DIR


@contextmanager
def loaded_database(name: str) -> Iterator[tuple[str, Engine]]:
    """A fresh database ``name`` (made unique per test process) with the bundled data; dropped after."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    server = databases.server_url()
    url = databases.recreate_database(server, f"{name}_{worker}_{os.getpid()}")
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        for _report in import_bundled(engine, DATA_DIR):
            pass
        yield url, engine
    finally:
        engine.dispose()
        databases.drop_database(url)
