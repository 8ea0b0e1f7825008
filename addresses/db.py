"""Engines and connections. The caller owns the engine; library code never makes one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, create_engine

from addresses.settings import DatabaseSettings


def make_engine(url: str, settings: DatabaseSettings | None = None) -> Engine:
    """Create the SQLAlchemy engine for ``url`` (psycopg 3 driver, pooled)."""
    pool_size = settings.pool_size if settings is not None else 5
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction: committed when the block ends, rolled back on any exception."""
    with engine.begin() as conn:
        yield conn
