"""Throwaway databases beside the real one, for test sessions and benchmarks (never for the app).

They live on the configured server (``DIACHISO_DATABASE_URL``) or in the embedded
cluster, which must run already (``diachiso db start``; ``make test`` does it).
"""

from __future__ import annotations

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from addresses import pgcluster
from addresses.settings import DatabaseSettings


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


def drop_database(url: str) -> None:
    """Drop the database ``url`` names (forcing connections off)."""
    name = str(make_url(url).database)
    with psycopg.connect(_maintenance_url(url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
