"""Numbers drawn from one-row counter tables, in the drawing transaction (registry serials, feed events).

A counter row (``registry_counter``, ``event_counter``) is advanced by an UPDATE whose
row lock is held until the transaction ends: a transaction that rolls back gives its
numbers back, and numbers are handed out in commit order (a PostgreSQL sequence does
neither).
"""

from __future__ import annotations

from sqlalchemy import Column, Connection, update

__all__ = ["draw"]


def draw(conn: Connection, column: Column[int], count: int) -> int:
    """Advance the one-row counter ``column`` by ``count`` (locked until commit); return the first drawn."""
    table = column.table
    statement = update(table).values({column: column + count}).returning(column)
    after = conn.execute(statement).scalar()
    if after is None:
        raise RuntimeError(f"{table.name} has no row: run the database migrations")
    return int(after) - count
