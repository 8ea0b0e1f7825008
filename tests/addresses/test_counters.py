"""One-row counters: numbers drawn in the transaction, consecutive, given back by a rollback."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, delete, select

from addresses.counters import draw
from addresses.schema import event_counter, registry_counter


def test_draws_are_consecutive_and_a_rollback_gives_the_numbers_back(conn: Connection) -> None:
    before = int(conn.execute(select(registry_counter.c.next_serial)).scalar_one())
    with conn.begin_nested() as drawing:
        first = draw(conn, registry_counter.c.next_serial, 3)
        second = draw(conn, registry_counter.c.next_serial, 1)
        assert (first, second) == (before, before + 3)
        drawing.rollback()
    assert draw(conn, registry_counter.c.next_serial, 2) == before


def test_a_counter_without_its_row_says_to_migrate(conn: Connection) -> None:
    conn.execute(delete(event_counter))
    with pytest.raises(RuntimeError, match="event_counter has no row: run the database migrations"):
        draw(conn, event_counter.c.next_seq, 1)
