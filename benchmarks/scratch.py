"""Scratch databases of the benchmarks: one per process, the bundled data imported once per run.

Every benchmark that needs the schema and the bundled Hoa Binh data calls
:func:`bundled_database`. Alone, it migrates a new database and imports the bundled data
into it. Under ``benchmarks/run_all.py`` (:func:`shared_template`), that is done once: the
runner builds a template database and names it in :data:`TEMPLATE_ENV`, and each
benchmark's database is a copy of it (``CREATE DATABASE ... TEMPLATE``: a file copy, about
a second, instead of the import). Names end with the process id, so that two runs on one
cluster never drop each other's databases.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from sqlalchemy.engine import make_url

from addresses import migrate
from addresses.db import make_engine
from importers.bundled import import_bundled
from tests import databases

DATA: Final = Path(__file__).resolve().parent.parent / "data" / "hoabinh"
TEMPLATE_ENV: Final = "DIACHISO_BENCH_TEMPLATE"
"""The environment variable naming the template database (migrated, the bundled data)."""


def scratch_name(base: str, pid: int | None = None) -> str:
    """The name of this process's scratch database ``base``.

    >>> scratch_name("diachiso_bench_http", pid=42)
    'diachiso_bench_http_42'
    """
    return f"{base}_{os.getpid() if pid is None else pid}"


def _migrated_with_bundled_data(url: str) -> None:
    """Migrate the database at ``url`` and import the bundled data into it."""
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        for _report in import_bundled(engine, DATA):
            pass
    finally:
        engine.dispose()


def bundled_database(base: str) -> str:
    """A new scratch database (``base`` and the process id) migrated, with the bundled data; its URL.

    A copy of the template database when :data:`TEMPLATE_ENV` names one, else built here.
    """
    server, name = databases.server_url(), scratch_name(base)
    template = os.environ.get(TEMPLATE_ENV)
    if template:
        return databases.copy_database(server, name, template)
    url = databases.recreate_database(server, name)
    _migrated_with_bundled_data(url)
    return url


@contextmanager
def shared_template() -> Iterator[str]:
    """Build the template database, name it in :data:`TEMPLATE_ENV` for the child processes; drop it after."""
    url = databases.recreate_database(databases.server_url(), scratch_name("diachiso_bench_template"))
    previous = os.environ.get(TEMPLATE_ENV)
    try:
        _migrated_with_bundled_data(url)
        os.environ[TEMPLATE_ENV] = str(make_url(url).database)
        yield url
    finally:
        if previous is None:
            os.environ.pop(TEMPLATE_ENV, None)
        else:
            os.environ[TEMPLATE_ENV] = previous
        databases.drop_database(url)
