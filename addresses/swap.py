"""Load a table with its indexes built once: fill a fresh copy, index it, swap it in.

Building an index once over all rows is much cheaper than maintaining it row by row
for a load as large as the table (BENCHMARKS.md). Dropping the live table's indexes
would lock readers out for the whole load, and the foreign keys it drops lock the
tables they point to, in an order readers do not follow: readers that hold
``admin_unit`` and wait for ``address`` then deadlock with the load. Instead, inside
the caller's transaction:

1. :func:`hold_writers` takes ``EXCLUSIVE`` on the table: readers go on, writers wait
   (their rows must not change between the copy and the swap);
2. :func:`swapped_in` copies the table without its indexes and keys into
   ``<table>_fresh``, which no reader sees, and hands it to the caller to load;
3. it builds the primary key, unique keys, indexes and foreign keys there (under
   temporary names), and ``ANALYZE`` s it; readers are still not blocked;
4. the swap: ``ACCESS EXCLUSIVE`` on the table, the tables that reference it and the
   tables it references, all in one ``LOCK`` statement, in the schema's dependency
   order (the order readers take them), under a short ``lock_timeout`` and retried
   from a savepoint: a reader waits at most that timeout plus the swap, and the load
   never waits long while holding a lock a reader needs, so no deadlock.
   Then the old table is dropped (every row lives on in the new one), the new one
   renamed, its indexes, keys and identity sequence renamed, the foreign keys from
   other tables re-created.

Lock order (documented; every writer follows it): the advisory large-load lock of the
table, the advisory lock of the source (importers.load), then the table itself
(``EXCLUSIVE`` for a large load, ``ROW EXCLUSIVE`` for any writer of addresses, taken
by addresses.registry.next_serials before it), then the registry counter row, then
the swap's locks together.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Iterator
from typing import Final, Literal

from psycopg import errors as pg_errors
from psycopg import sql
from sqlalchemy import (
    Column,
    Connection,
    Constraint,
    ForeignKeyConstraint,
    Index,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    UniqueConstraint,
    func,
    insert,
    select,
)
from sqlalchemy.schema import AddConstraint, CreateIndex, DropConstraint, SetTableComment

from addresses.errors import DatabaseSetupError

FRESH_SUFFIX: Final = "_fresh"
"""Appended to the names of the fresh table and of its indexes and keys until the swap."""
SWAP_LOCK_TIMEOUT_MS: Final = 200
"""How long one attempt at the swap's locks may make readers queue behind it."""
SWAP_ATTEMPTS: Final = 300
"""Attempts at the swap's locks before giving up (with pauses, about a minute and a half)."""


LockMode = Literal["ROW EXCLUSIVE", "EXCLUSIVE"]
"""Table locks taken ahead of time: to write rows, or to keep writers out."""


def lock_table(conn: Connection, table: Table, mode: LockMode) -> None:
    """Take a table lock until the transaction ends (waiting for it if needed)."""
    _run(conn, sql.SQL("LOCK TABLE {} IN {} MODE").format(sql.Identifier(table.name), sql.SQL(mode)))


def hold_writers(conn: Connection, table: Table) -> None:
    """Take ``EXCLUSIVE`` on ``table`` until the transaction ends: reads go on, writes wait."""
    lock_table(conn, table, "EXCLUSIVE")


@contextlib.contextmanager
def swapped_in(conn: Connection, table: Table) -> Iterator[Table]:
    """Yield a fresh, unindexed copy of ``table`` to load; index it and swap it in on leaving.

    Inside the caller's transaction: a failure or an interruption leaves the table as
    it was. Call :func:`hold_writers` first (before the transaction writes the table).
    """
    hold_writers(conn, table)
    fresh = _fresh_copy(conn, table)
    yield fresh
    _build_keys(conn, table, fresh)
    _run(conn, sql.SQL("ANALYZE {}").format(sql.Identifier(fresh.name)))
    _lock_for_swap(conn, table)
    _swap(conn, table, fresh)


def _run(conn: Connection, statement: sql.Composable) -> None:
    """Run a composed statement (identifiers quoted by psycopg) on the connection."""
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor:
        cursor.execute(statement)


def _fresh_copy(conn: Connection, table: Table) -> Table:
    """Create ``<table>_fresh`` like ``table`` (columns, defaults, identity, checks) and copy the rows."""
    name = table.name + FRESH_SUFFIX
    _run(
        conn,
        sql.SQL(
            "CREATE TABLE {} (LIKE {} INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING CONSTRAINTS "
            "INCLUDING COMMENTS INCLUDING STORAGE)"
        ).format(sql.Identifier(name), sql.Identifier(table.name)),
    )
    fresh = Table(name, MetaData(), *(Column(c.name, c.type) for c in table.columns))
    for column in _identity_columns(table):  # new rows continue the old numbering
        last = func.nextval(func.pg_get_serial_sequence(table.name, column))
        conn.execute(select(func.setval(func.pg_get_serial_sequence(name, column), last, False)))
    names = [c.name for c in table.columns]
    conn.execute(insert(fresh).from_select(names, select(*(table.c[n] for n in names))))
    return fresh


def _identity_columns(table: Table) -> list[str]:
    """The columns of ``table`` whose values come from an identity sequence."""
    return [c.name for c in table.columns if c.identity is not None]


def _fresh_name(name: object) -> str:
    """The temporary name of an index or key of the fresh table.

    >>> _fresh_name("ix_address_geom")
    'ix_address_geom_fresh'
    """
    return f"{name}{FRESH_SUFFIX}"


def _build_keys(conn: Connection, table: Table, fresh: Table) -> None:
    """Create ``table``'s primary key, unique keys, indexes and foreign keys on ``fresh`` (temporary names).

    The foreign keys come last: each locks the table it points to against writes (not reads).
    """
    primary = PrimaryKeyConstraint(*(fresh.c[c.name] for c in table.primary_key))
    primary.name = _fresh_name(table.primary_key.name)
    conn.execute(AddConstraint(primary))
    for key in table.constraints:
        if isinstance(key, UniqueConstraint):
            unique = UniqueConstraint(*(fresh.c[c.name] for c in key.columns), **key.dialect_kwargs)
            unique.name = _fresh_name(key.name)
            conn.execute(AddConstraint(unique))
    for index in table.indexes:
        columns = (fresh.c[c.name] for c in index.columns)
        conn.execute(CreateIndex(Index(_fresh_name(index.name), *columns, **index.dialect_kwargs)))
    for key in table.foreign_key_constraints:
        conn.execute(AddConstraint(_fresh_foreign_key(key, table, fresh)))


def _fresh_foreign_key(key: ForeignKeyConstraint, table: Table, fresh: Table) -> ForeignKeyConstraint:
    """``key`` on ``fresh``: a reference to ``table`` itself becomes one to ``fresh``."""
    referred = [fresh.c[e.column.name] if e.column.table is table else e.column for e in key.elements]
    copy = ForeignKeyConstraint(
        [fresh.c[c.name] for c in key.columns],
        referred,
        ondelete=key.ondelete,
        onupdate=key.onupdate,
    )
    copy.name = _fresh_name(key.name)
    fresh.append_constraint(copy)
    return copy


def _referencing(table: Table) -> list[ForeignKeyConstraint]:
    """The foreign keys of other tables (of ``table``'s metadata) that point to ``table``."""
    assert table.metadata is not None
    return [
        key
        for other in table.metadata.tables.values()
        if other is not table
        for key in other.foreign_key_constraints
        if key.referred_table is table
    ]


def _swap_tables(table: Table) -> list[str]:
    """Every table the swap locks: it, those pointing to it, those it points to.

    In the order of the schema's dependencies (a table before those that point to it:
    ``admin_unit``, ``village``, ``address``, ``address_history``), the order in which
    this project's readers take them: once the first is held, readers already past it
    can finish, and no reader holds a later one while waiting for an earlier one.
    """
    names = {table.name}
    names |= {key.table.name for key in _referencing(table)}
    names |= {key.referred_table.name for key in table.foreign_key_constraints}
    assert table.metadata is not None
    return [other.name for other in table.metadata.sorted_tables if other.name in names]


def _lock_for_swap(conn: Connection, table: Table) -> None:
    """Take ``ACCESS EXCLUSIVE`` on every table of the swap at once, retrying after short timeouts."""
    names = _swap_tables(table)
    statement = sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(
        sql.SQL(", ").join(sql.Identifier(name) for name in names)
    )
    previous = conn.execute(select(func.current_setting("lock_timeout"))).scalar_one()
    conn.execute(select(func.set_config("lock_timeout", f"{SWAP_LOCK_TIMEOUT_MS}ms", True)))
    for _attempt in range(SWAP_ATTEMPTS):
        try:
            with conn.begin_nested():  # a timed-out attempt releases what it took
                _run(conn, statement)
        except pg_errors.LockNotAvailable:
            time.sleep(random.uniform(0.05, 0.25))  # let the readers that queued get through
        else:
            conn.execute(select(func.set_config("lock_timeout", previous, True)))
            return
    raise DatabaseSetupError(
        f"could not lock {', '.join(names)} for {SWAP_ATTEMPTS} attempts to swap in the loaded table; "
        "nothing was written: retry when fewer long transactions hold them"
    )


def _sequence(conn: Connection, table: str, column: str) -> str:
    """The name (unqualified) of the identity sequence of ``table.column``."""
    qualified = str(conn.execute(select(func.pg_get_serial_sequence(table, column))).scalar_one())
    return qualified.rpartition(".")[2].strip('"')


def _swap(conn: Connection, table: Table, fresh: Table) -> None:
    """Drop ``table``, rename ``fresh`` and its keys, indexes and sequences to the canonical names."""
    sequences = [
        (_sequence(conn, fresh.name, column), _sequence(conn, table.name, column))
        for column in _identity_columns(table)
    ]
    referencing = _referencing(table)
    for key in referencing:
        conn.execute(DropConstraint(key))
    table.drop(conn)
    _rename(conn, "TABLE", fresh.name, table.name)
    for temporary, canonical in sequences:
        _rename(conn, "SEQUENCE", temporary, canonical)
    keys: list[Constraint] = [table.primary_key, *table.foreign_key_constraints]
    keys += [c for c in table.constraints if isinstance(c, UniqueConstraint)]
    for renamed in keys:
        _run(
            conn,
            sql.SQL("ALTER TABLE {} RENAME CONSTRAINT {} TO {}").format(
                *map(sql.Identifier, (table.name, _fresh_name(renamed.name), str(renamed.name)))
            ),
        )
    for index in table.indexes:
        _rename(conn, "INDEX", _fresh_name(index.name), str(index.name))
    for key in referencing:
        conn.execute(AddConstraint(key))
    if table.comment is not None:
        conn.execute(SetTableComment(table))


def _rename(conn: Connection, kind: str, old: str, new: str) -> None:
    """ALTER TABLE, SEQUENCE or INDEX ``old`` RENAME TO ``new``."""
    statement = sql.SQL("ALTER {} {} RENAME TO {}").format(
        sql.SQL(kind), sql.Identifier(old), sql.Identifier(new)
    )
    _run(conn, statement)
