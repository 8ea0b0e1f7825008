"""Engines and connections. The caller owns the engine; library code never makes one."""

from __future__ import annotations

from typing import Final

from sqlalchemy import Engine, create_engine

from addresses.settings import DatabaseSettings

CONNECT_TIMEOUT_S: Final = 5
"""Seconds to wait for the database server to accept a new connection."""


def make_engine(url: str, settings: DatabaseSettings | None = None) -> Engine:
    """Create the SQLAlchemy engine for ``url`` (psycopg 3 driver, pooled).

    The pool holds ``pool_size`` connections and as many again under load; a checkout
    waits at most ``pool_timeout`` seconds, and a new connection gives up after
    :data:`CONNECT_TIMEOUT_S` (a server that does not answer is an error, not a hang).
    """
    pool_size = settings.pool_size if settings is not None else 5
    pool_timeout = settings.pool_timeout if settings is not None else 30.0
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=pool_timeout,
        pool_pre_ping=True,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_S},
    )
