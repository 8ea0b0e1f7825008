"""Request dependencies: a database connection per request."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request
from sqlalchemy import Connection, Engine


def engine(request: Request) -> Engine:
    """The application's engine (made by the lifespan)."""
    value: Engine = request.app.state.engine
    return value


def connection(request: Request) -> Iterator[Connection]:
    """A connection for one request, returned to the pool afterwards."""
    with engine(request).connect() as conn:
        yield conn
