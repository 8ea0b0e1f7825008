"""Request dependencies: a database connection per request, or one transaction for an edit."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request
from sqlalchemy import Connection, Engine


def engine(request: Request) -> Engine:
    """The application's engine (made by the lifespan)."""
    value: Engine = request.app.state.engine
    return value


def read_engine(request: Request) -> Engine:
    """The engine of the read paths: the read replica when one is configured, else the primary."""
    value: Engine = getattr(request.app.state, "read_engine", None) or engine(request)
    return value


def read_connection(request: Request) -> Iterator[Connection]:
    """A connection to the read replica (or the primary) for one read-only request."""
    with read_engine(request).connect() as conn:
        yield conn


def connection(request: Request) -> Iterator[Connection]:
    """A connection for one request, returned to the pool afterwards."""
    with engine(request).connect() as conn:
        yield conn


def transaction(request: Request) -> Iterator[Connection]:
    """A connection in one transaction: committed when the route returns, rolled back when it raises.

    Declare it with ``Depends(transaction, scope="function")`` so that the commit happens
    before the answer is sent (a client never hears of an edit that was not stored).
    """
    with engine(request).begin() as conn:
        yield conn
