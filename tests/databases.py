"""Throwaway databases beside the real one, for test sessions and benchmarks (never for the app).

They live on the configured server (``DIACHISO_DATABASE_URL``) or in the embedded
cluster, which must run already (``diachiso db start``; ``make test`` does it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from alembic.script import ScriptDirectory
from psycopg import sql
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from addresses import migrate, pgcluster
from addresses.db import make_engine
from addresses.settings import DatabaseSettings
from importers.bundled import import_bundled

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "hoabinh"
"""The bundled Hoa Binh data folder."""


def server_url(settings: DatabaseSettings | None = None) -> str:
    """A URL of the configured server (its own database); starts nothing."""
    return pgcluster.database_url(settings or DatabaseSettings())


def _maintenance_url(url: str) -> str:
    """The psycopg URL of the server's ``postgres`` database.

    >>> _maintenance_url("postgresql+psycopg://u:p@127.0.0.1:5433/diachiso")
    'postgresql://u:p@127.0.0.1:5433/postgres'
    """
    return (
        make_url(url).set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    )


def recreate_database(url: str, name: str) -> str:
    """Drop (forcing connections off) and create database ``name`` on ``url``'s server; return its URL."""
    with psycopg.connect(_maintenance_url(url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def copy_database(url: str, name: str, template: str) -> str:
    """Drop database ``name``, create it anew as a copy of database ``template`` (no one connected to it)."""
    with psycopg.connect(_maintenance_url(url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
        )
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    """Drop the database ``url`` names (forcing connections off)."""
    name = str(make_url(url).database)
    with psycopg.connect(_maintenance_url(url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def loaded_database(name: str) -> Iterator[tuple[str, Engine]]:
    """A fresh database ``name`` (unique per test process), migrated, with the bundled data; dropped after.

    For tests that write what others read, or need a second database: no other test sees its rows.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    url = recreate_database(server_url(), f"{name}_{worker}_{os.getpid()}")
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        for _report in import_bundled(engine, DATA_DIR):
            pass
        yield url, engine
    finally:
        engine.dispose()
        drop_database(url)


def head_revision(engine: Engine) -> str | None:
    """The newest migration shipped with the code (the revision a migrated database is at)."""
    return ScriptDirectory.from_config(migrate.alembic_config(engine)).get_current_head()
