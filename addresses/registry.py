"""The address registry in the database: codes in bulk, the address history, look-ups.

Every address gets a location code (computed from its point, follows it when it
moves) and a registry code (9-digit serial from the registry counter row + Damm check
digit: issued once, never changed, never reused; an aborted transaction burns none).

Addresses are written by the editing layer (:mod:`addresses.editing`,
:mod:`addresses.merging`) and by imports; both keep the row they replace in
``address_history`` (:func:`record_history`). Nothing that was published is deleted:
it is retired, optionally pointing to a successor, and a look-up of its registry code
follows the chain of successors to the address in force.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Literal

import numpy as np
from numpy.typing import NDArray
from psycopg import sql
from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Table,
    Text,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)

from addresses import swap
from addresses.bulk import staging_table
from addresses.codes import (
    Cell,
    decode,
    encode_array,
    format_location_code,
    format_registry_code,
    normalise_registry_code,
    parse_any_code,
    registry_codes_array,
)
from addresses.errors import (
    InvalidParameterError,
    NotFoundError,
)
from addresses.limits import MAX_PAGE_SIZE
from addresses.queries import (
    AddressRecord,
    address_by_registry_code,
    address_records,
    addresses_in_cell,
)
from addresses.schema import address, address_history, registry_counter
from addresses.text import canonical_text

__all__ = [
    "AddressRecord",
    "ChangeKind",
    "LocationEncoder",
    "LocationLookup",
    "RegistryLookup",
    "assign_codes",
    "clean_text",
    "lookup_code",
    "lookup_location",
    "lookup_registry",
    "next_serials",
    "record_history",
]

# ============================================================================ bulk codes


# Binary COPY: exact doubles and fixed-width text, parsed and written by numpy in one go.
_PGCOPY: Final = b"PGCOPY\n\xff\r\n\x00"
_PGCOPY_TRAILER: Final = b"\xff\xff"
Fields = list[tuple[str, str]]
"""Fixed-width columns of a binary COPY: (name, numpy type), e.g. ("id", ">i8"), ("code", "S9")."""

_TODO_FIELDS: Final[Fields] = [
    ("address_id", ">i8"),
    ("lon", ">f8"),
    ("lat", ">f8"),
    ("location_code", "S9"),
    ("registry_code", "S10"),
]
_CODE_FIELDS: Final[Fields] = [("address_id", ">i8"), ("location_code", "S9"), ("registry_code", "S10")]


def _layout(fields: Fields) -> np.dtype[np.void]:
    """Return the numpy layout of one binary COPY tuple: field count, then size + value per field."""
    layout: list[tuple[str, str]] = [("fields", ">i2")]
    for name, kind in fields:
        layout += [(f"{name}_size", ">i4"), (name, kind)]
    return np.dtype(layout)


def _check_tuples(rows: NDArray[np.void], fields: Fields) -> None:
    """Raise unless every tuple has the expected fields, none NULL or of another width."""
    sizes_ok = all(bool((rows[f"{name}_size"] == np.dtype(kind).itemsize).all()) for name, kind in fields)
    if not (sizes_ok and bool((rows["fields"] == len(fields)).all())):
        raise RuntimeError("binary COPY returned tuples of an unexpected layout")


def _copy_rows(conn: Connection, query: Select[Any], fields: Fields) -> NDArray[np.void]:
    """Run a select of non-NULL fixed-width columns through binary COPY; return a structured array."""
    compiled = query.compile(dialect=conn.dialect)
    statement = sql.SQL("COPY ({}) TO STDOUT (FORMAT binary)").format(sql.SQL(str(compiled)))
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(statement, compiled.params) as copy:
        data = b"".join(bytes(block) for block in copy)
    start = len(_PGCOPY) + 8 + int.from_bytes(data[len(_PGCOPY) + 4 : len(_PGCOPY) + 8], "big")
    layout = _layout(fields)
    body = data[start : -len(_PGCOPY_TRAILER)]
    if not data.startswith(_PGCOPY) or len(body) % layout.itemsize:
        raise RuntimeError("binary COPY returned data of an unexpected layout")
    rows = np.frombuffer(body, dtype=layout)
    _check_tuples(rows, fields)
    return rows


def _copy_in(conn: Connection, table: Table, fields: Fields, columns: dict[str, NDArray[Any]]) -> None:
    """Write equal-length arrays (full-width values, no NULLs) into ``table`` with binary COPY."""
    rows = np.zeros(len(columns[fields[0][0]]), dtype=_layout(fields))
    rows["fields"] = len(fields)
    for name, kind in fields:
        rows[f"{name}_size"] = np.dtype(kind).itemsize
        rows[name] = columns[name]
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT binary)").format(
        sql.Identifier(table.name), sql.SQL(", ").join(sql.Identifier(name) for name, _ in fields)
    )
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        copy.write(_PGCOPY + bytes(8) + rows.tobytes() + _PGCOPY_TRAILER)


def next_serials(conn: Connection, count: int) -> NDArray[np.int64]:
    """Draw ``count`` consecutive serials from the registry counter row in one UPDATE ... RETURNING.

    The counter is updated inside the caller's transaction: a rollback gives the serials
    back (none is burnt), and other drawers wait for the row until it commits. The
    address table is locked for writing first (the lock order of addresses.swap), so a
    drawer never holds the counter while waiting for a large load's table lock.
    """
    if count == 0:
        return np.empty(0, dtype=np.int64)
    swap.lock_table(conn, address, "ROW EXCLUSIVE")
    draw = (
        update(registry_counter)
        .values(next_serial=registry_counter.c.next_serial + count)
        .returning(registry_counter.c.next_serial)
    )
    after = conn.execute(draw).scalar()
    if after is None:
        raise RuntimeError("registry_counter has no row: run the database migrations")
    return np.arange(int(after) - count, int(after), dtype=np.int64)


def give_back_serials(conn: Connection, drawn: NDArray[np.int64], *, used: int) -> None:
    """Return the serials of ``drawn`` (one :func:`next_serials` draw) after its first ``used`` ones.

    For a writer that draws as many serials as it may need before it knows how many it
    keeps (a chunked import). Safe because the draw's UPDATE holds the counter row until
    the transaction ends: no one else has drawn since, so the counter still stands just
    after ``drawn`` (checked: otherwise nothing is given back).
    """
    if used >= len(drawn):
        return
    after = int(drawn[-1]) + 1
    conn.execute(
        update(registry_counter)
        .where(registry_counter.c.next_serial == after)
        .values(next_serial=after - (len(drawn) - used))
    )


def _padded(column: ColumnElement[Any], width: int) -> ColumnElement[Any]:
    """Return a nullable code column as fixed-width text (spaces for NULL)."""
    return func.rpad(func.coalesce(column, ""), width)


def _needing_codes(conn: Connection, source: str | None) -> NDArray[np.void]:
    """Addresses without both codes, or written in this transaction (they may have moved)."""
    query = select(
        address.c.id,
        func.ST_X(address.c.geom),
        func.ST_Y(address.c.geom),
        _padded(address.c.location_code, 9),
        _padded(address.c.registry_code, 10),
    ).where(
        or_(
            address.c.registry_code.is_(None),
            address.c.location_code.is_(None),
            address.c.updated_at == func.now(),
        )
    )
    if source is not None:
        query = query.where(address.c.source == source)
    return _copy_rows(conn, query, _TODO_FIELDS)


LocationEncoder = Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray[np.bytes_]]
"""Location codes of points (lons, lats) as ``S9``: ``encode_array``, or one that spreads the work."""


def assign_codes(
    conn: Connection, *, source: str | None = None, encoder: LocationEncoder = encode_array
) -> int:
    """Give addresses their codes (vectorized); return how many got a new registry code.

    Handles addresses of ``source`` (all when None) missing a code, and those written
    in this transaction (their location code follows their point). Registry codes are
    never changed once issued; only rows whose codes change are written (binary COPY
    into a staging table, then one UPDATE). ``encoder`` computes the location codes
    (``addresses.dask_codes`` passes one that runs on a Dask cluster).
    """
    todo = _needing_codes(conn, source)
    if todo.size == 0:
        return 0
    location = encoder(todo["lon"].astype(np.float64), todo["lat"].astype(np.float64))
    registry = todo["registry_code"].copy()
    missing = registry == b" " * 10
    registry[missing] = registry_codes_array(next_serials(conn, int(missing.sum())))
    changed = missing | (location != todo["location_code"])
    if not changed.any():
        return 0
    staged = staging_table(conn, [name for name, _ in _CODE_FIELDS], name="code_staging")
    codes = {"address_id": todo["address_id"], "location_code": location, "registry_code": registry}
    _copy_in(conn, staged, _CODE_FIELDS, {name: values[changed] for name, values in codes.items()})
    conn.execute(
        update(address)
        .where(address.c.id == staged.c.address_id)
        .values(location_code=staged.c.location_code, registry_code=staged.c.registry_code)
    )
    return int(missing.sum())


# =============================================================================== history

ChangeKind = Literal["update", "move", "activate", "retire", "merge", "import"]
"""What an ``address_history`` row records: the kind of change that replaced the snapshot."""

_SPACES: Final = re.compile(r"\s+")


def clean_text(value: str | None) -> str | None:
    """Return text in NFC with canonical tone marks and single spaces, or None when nothing is left.

    >>> clean_text("  Xo\\u0301m   La\\u0301c "), clean_text("Thôn Hoà  Lạc"), clean_text("   ")
    ('Xóm Lác', 'Thôn Hòa Lạc', None)
    """
    if value is None:
        return None
    text = _SPACES.sub(" ", canonical_text(value)).strip()
    return text or None


def record_history(
    conn: Connection,
    *,
    where: ColumnElement[bool],
    change: ChangeKind,
    changed_by: str | None,
    reason: str | None = None,
) -> int:
    """Keep the addresses matching ``where``, as they are now, in address_history; return how many.

    Call it before changing them (edits and imports alike): each row keeps its
    version, the change about to replace it, and who makes it. ``where`` may name
    other tables (an import's staged rows).
    """
    snapshot: ColumnElement[Any] = func.to_jsonb(address.table_valued())
    if reason is not None:
        snapshot = snapshot.op("||")(func.jsonb_build_object("change_reason", literal(reason, Text)))
    row = select(address.c.id, address.c.version, snapshot, literal(change, Text), literal(changed_by, Text))
    written = conn.execute(
        insert(address_history).from_select(
            ["address_id", "version", "snapshot", "change", "changed_by"], row.where(where)
        )
    )
    return int(written.rowcount)


# ============================================================================== look-ups

"""The most addresses one location look-up returns."""

MAX_CHAIN: Final = 100
"""Successor links followed at most (chains are short; this only guards against bad data)."""


@dataclass(frozen=True, slots=True)
class RegistryLookup:
    """The answer to a registry code: the address asked for and, when retired, where it went.

    ``chain`` holds the successors followed, in order; ``successor`` is the last of
    them when it is in force (None when the address is not retired, or was retired
    without a successor in force); ``reason`` is why it was retired.
    """

    address: AddressRecord
    retired: bool
    successor: AddressRecord | None
    chain: tuple[AddressRecord, ...]
    reason: str | None

    @property
    def current(self) -> AddressRecord | None:
        """Return the address to use today: the asked one, its successor, or None."""
        return self.successor if self.retired else self.address


@dataclass(frozen=True, slots=True)
class LocationLookup:
    """The answer to a location code: its cell and the active addresses inside it.

    ``display`` is the grouped code; ``truncated`` says more addresses lie in the
    cell than the limit let through.
    """

    cell: Cell
    display: str
    addresses: tuple[AddressRecord, ...]
    truncated: bool


def _chain(conn: Connection, start_id: int) -> tuple[AddressRecord, ...]:
    """Return the successors of an address, following successor links (at most MAX_CHAIN)."""
    first = select(address.c.id, address.c.successor_id, literal(0).label("depth"))
    chain = first.where(address.c.id == start_id).cte("chain", recursive=True)
    step = address.alias("step")
    chain = chain.union_all(
        select(step.c.id, step.c.successor_id, chain.c.depth + 1).where(
            step.c.id == chain.c.successor_id, chain.c.depth < MAX_CHAIN
        )
    )
    ids = conn.execute(select(chain.c.id).where(chain.c.depth > 0).order_by(chain.c.depth)).scalars()
    seen: list[int] = []
    for address_id in ids:
        if address_id in seen or address_id == start_id:
            break  # a loop in bad data: stop where it closes
        seen.append(address_id)
    return tuple(address_records(conn, ids=seen))


def _retirement_reason(conn: Connection, address_id: int) -> str | None:
    """Return the reason recorded when an address was retired."""
    history = address_history
    query = (
        select(history.c.snapshot["change_reason"].astext)
        .where(history.c.address_id == address_id, history.c.change.in_(("retire", "merge")))
        .order_by(history.c.version.desc())
        .limit(1)
    )
    reason = conn.execute(query).scalar()
    return None if reason is None else str(reason)


def _not_issued(code: str) -> NotFoundError:
    """Return the error for a well-formed registry code that no address carries."""
    return NotFoundError(f"registry code {format_registry_code(code)} is well formed but has not been issued")


def lookup_registry(conn: Connection, text: str) -> RegistryLookup:
    """Look up a typed registry code (spaces and dashes allowed).

    A mistyped code raises InvalidCodeError (never "not found"); a well-formed code
    no address carries raises NotFoundError; a retired address answers with its
    chain of successors and the one in force.
    """
    code = normalise_registry_code(text)
    record = address_by_registry_code(conn, code)
    if record is None:
        raise _not_issued(code)
    if record.status != "retired":
        return RegistryLookup(address=record, retired=False, successor=None, chain=(), reason=None)
    chain = _chain(conn, record.id)
    in_force = chain[-1] if chain and chain[-1].status != "retired" else None
    reason = _retirement_reason(conn, record.id)
    return RegistryLookup(address=record, retired=True, successor=in_force, chain=chain, reason=reason)


def _check_limit(limit: int) -> None:
    """Reject a limit outside 1..MAX_PAGE_SIZE."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidParameterError("limit", f"must be 1..{MAX_PAGE_SIZE}, got {limit}")


def lookup_location(conn: Connection, text: str, *, limit: int = 50) -> LocationLookup:
    """Look up a typed location code of any length: its cell and the active addresses in it.

    A mistyped code raises InvalidCodeError. Shorter codes name larger cells and
    match every address whose full code starts with their data characters.
    """
    _check_limit(limit)
    cell = decode(text)
    found = addresses_in_cell(conn, code=cell.code, limit=limit + 1)
    return LocationLookup(
        cell=cell,
        display=format_location_code(cell.code),
        addresses=tuple(found[:limit]),
        truncated=len(found) > limit,
    )


def lookup_code(conn: Connection, text: str, *, limit: int = 50) -> RegistryLookup | LocationLookup:
    """Look up either kind of typed code: 10 characters are a registry code, others a location code."""
    parsed = parse_any_code(text)
    if parsed.kind == "registry":
        return lookup_registry(conn, parsed.code)
    return lookup_location(conn, parsed.code, limit=limit)
