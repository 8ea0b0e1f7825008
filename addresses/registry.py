"""The address registry in the database: codes in bulk, the lifecycle of an address, look-ups.

Every address gets a location code (computed from its point, follows it when it
moves) and a registry code (9-digit serial from the registry counter row + Damm check
digit: issued once, never changed, never reused; an aborted transaction burns none).

An address goes proposed -> active -> retired, never back. Edits are atomic (each
runs in a savepoint of the caller's transaction), use optimistic locking
(``expected_version``) and keep the previous row in ``address_history``. Nothing
that was published is deleted: it is retired, optionally pointing to a successor,
and a look-up of its registry code follows the chain of successors to the address
in force.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable
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

from addresses import changes, swap, validation
from addresses.bulk import staging_table
from addresses.codes import (
    Cell,
    decode,
    encode,
    encode_array,
    format_location_code,
    format_registry_code,
    normalise_registry_code,
    parse_any_code,
    registry_code,
    registry_codes_array,
)
from addresses.errors import (
    InvalidParameterError,
    InvalidSuccessorError,
    NotFoundError,
    OutOfTerritoryError,
    StaleVersionError,
    StatusTransitionError,
)
from addresses.limits import MAX_PAGE_SIZE
from addresses.queries import (
    AddressRecord,
    address_by_registry_code,
    address_records,
    addresses_in_cell,
    current_commune_id,
    point_expression,
)
from addresses.schema import address, address_history, registry_counter
from addresses.text import canonical_text
from addresses.types import DEFAULT_STATUS, Status

__all__ = [
    "GENERATED_SOURCE",
    "KEEP",
    "AddressRecord",
    "ChangeKind",
    "Keep",
    "LocationEncoder",
    "LocationLookup",
    "MergeResult",
    "RegistryLookup",
    "assign_codes",
    "clean_text",
    "create_address",
    "lookup_code",
    "lookup_location",
    "lookup_registry",
    "merge_addresses",
    "next_serials",
    "record_history",
    "retire_address",
    "update_address",
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


# ============================================================================= lifecycle

GENERATED_SOURCE: Final = "generated"
"""The source label of generated (not surveyed) addresses; they are flagged ``is_generated``."""

ChangeKind = Literal["update", "move", "activate", "retire", "merge", "import"]
"""What an ``address_history`` row records: the kind of change that replaced the snapshot."""


class Keep(enum.Enum):
    """The value of an ``update_address`` option that leaves the field as it is."""

    KEEP = "keep"


KEEP: Final = Keep.KEEP
"""Leave this field as it is (the default of every ``update_address`` option)."""

TextChange = str | None | Literal[Keep.KEEP]
"""A text option of ``update_address``: new text, None (or "") to clear it, or KEEP."""

_TEXT_FIELDS: Final = ("house_number", "alley", "street", "village_name")
_NEW_STATUSES: Final = ("proposed", "active")
_TRANSITIONS: Final[dict[str, frozenset[str]]] = {
    "proposed": frozenset({"active"}),
    "active": frozenset({"retired"}),
    "retired": frozenset(),
}
_ACTIONS: Final = {"proposed": "make proposed", "active": "activate", "retired": "retire"}
_SPACES: Final = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class _Current:
    """The stored state of an address locked for a change."""

    id: int
    registry_code: str
    status: str
    version: int
    lon: float
    lat: float
    texts: dict[str, str | None]


@dataclass(frozen=True, slots=True)
class MergeResult:
    """The address kept by a merge and the addresses retired into it (in the order given)."""

    survivor: AddressRecord
    retired: tuple[AddressRecord, ...]


def clean_text(value: str | None) -> str | None:
    """Return text in NFC with canonical tone marks and single spaces, or None when nothing is left.

    >>> clean_text("  Xo\\u0301m   La\\u0301c "), clean_text("Thôn Hoà  Lạc"), clean_text("   ")
    ('Xóm Lác', 'Thôn Hòa Lạc', None)
    """
    if value is None:
        return None
    text = _SPACES.sub(" ", canonical_text(value)).strip()
    return text or None


def _required_text(parameter: str, value: str) -> str:
    """Return cleaned text; raise InvalidParameterError when it is empty."""
    text = clean_text(value)
    if text is None:
        raise InvalidParameterError(parameter, "must not be empty")
    return text


def _location_code(lon: float, lat: float) -> str:
    """Return the location code of a point; raise for NaN/inf, a non-number or a point outside the grid."""
    return encode(validation.finite_number("lon", lon), validation.finite_number("lat", lat))


def _checked_text(field: str, value: str | None) -> str | None:
    """Return an address part cleaned, after the checks imports run too (addresses.validation)."""
    return None if value is None else clean_text(validation.check_text(field, value))


def _commune_at(conn: Connection, lon: float, lat: float) -> int:
    """Return the current commune at a point; raise OutOfTerritoryError outside the province."""
    commune_id = current_commune_id(conn, lon, lat)
    if commune_id is None:
        raise OutOfTerritoryError(
            f"point (lon={lon}, lat={lat}) is not in any commune or ward of the province", lon=lon, lat=lat
        )
    return commune_id


def _located(conn: Connection, lon: float, lat: float) -> dict[str, Any]:
    """Return the columns that follow a point: geometry, location code, current commune."""
    code = _location_code(lon, lat)
    return {
        "geom": point_expression(lon, lat),
        "location_code": code,
        "commune_id": _commune_at(conn, lon, lat),
    }


def _record(conn: Connection, address_id: int) -> AddressRecord:
    """Return the record of an address known to exist."""
    return address_records(conn, ids=[address_id])[0]


def create_address(
    conn: Connection,
    *,
    lon: float,
    lat: float,
    house_number: str | None = None,
    alley: str | None = None,
    street: str | None = None,
    village_name: str | None = None,
    status: Status = DEFAULT_STATUS,
    source: str = "edit",
    changed_by: str | None = None,
) -> AddressRecord:
    """Register a new address at version 1: both codes at once, its commune by location.

    ``status`` is "proposed" or "active"; ``source`` labels where it came from
    ("generated" flags it as generated); its source id is its registry code. A point
    outside the province raises OutOfTerritoryError.
    """
    if status not in _NEW_STATUSES:
        raise InvalidParameterError("status", f"a new address is 'proposed' or 'active', not {status!r}")
    label = _required_text("source", source)
    located = _located(conn, lon, lat)
    texts = {"house_number": house_number, "alley": alley, "street": street, "village_name": village_name}
    with conn.begin_nested():
        code = registry_code(int(next_serials(conn, 1)[0]))
        values = {name: _checked_text(name, value) for name, value in texts.items()}
        statement = insert(address).values(
            **located,
            **values,
            registry_code=code,
            status=status,
            version=1,
            source=label,
            source_id=code,
            is_generated=label == GENERATED_SOURCE,
            raw={"created_by": changed_by} if changed_by else {},
        )
        new_id = int(conn.execute(statement.returning(address.c.id)).scalar_one())
        _mark_tiles(conn, new_id)
    return _record(conn, new_id)


def _not_issued(code: str) -> NotFoundError:
    """Return the error for a well-formed registry code that no address carries."""
    return NotFoundError(f"registry code {format_registry_code(code)} is well formed but has not been issued")


def _lock(conn: Connection, text: str) -> _Current:
    """Read and lock (FOR UPDATE) the address of a typed registry code."""
    code = normalise_registry_code(text)
    query = select(
        address.c.id,
        address.c.status,
        address.c.version,
        func.ST_X(address.c.geom).label("lon"),
        func.ST_Y(address.c.geom).label("lat"),
        *(address.c[name] for name in _TEXT_FIELDS),
    ).where(address.c.registry_code == code)
    row = conn.execute(query.with_for_update()).mappings().first()
    if row is None:
        raise _not_issued(code)
    texts = {name: row[name] for name in _TEXT_FIELDS}
    return _Current(row["id"], code, row["status"], row["version"], row["lon"], row["lat"], texts)


def _check_version(current: _Current, expected_version: int | None) -> None:
    """Raise StaleVersionError unless the address is at the version the editor saw."""
    if expected_version is not None and current.version != expected_version:
        raise StaleVersionError(current.registry_code, expected=expected_version, current=current.version)


def _transition_hint(current: str, target: str) -> str:
    """Explain why a status change is refused.

    >>> _transition_hint("proposed", "retired")
    'only an active address can be retired: activate it first'
    """
    if current == "retired":
        return "a retired address never changes; look up its registry code for its successor"
    if target == "retired":
        return "only an active address can be retired: activate it first"
    return "addresses go proposed -> active -> retired, never back"


def _check_transition(current: _Current, target: str) -> None:
    """Raise StatusTransitionError unless proposed -> active -> retired allows the change."""
    if target not in _TRANSITIONS[current.status]:
        raise StatusTransitionError(
            current.registry_code,
            current=current.status,
            action=_ACTIONS[target],
            detail=_transition_hint(current.status, target),
        )


def _snapshot(
    conn: Connection,
    current: _Current,
    change: ChangeKind,
    *,
    changed_by: str | None,
    reason: str | None = None,
) -> None:
    """Keep the row as it is now in address_history (a reason goes in as "change_reason")."""
    record_history(
        conn, where=address.c.id == current.id, change=change, changed_by=changed_by, reason=reason
    )


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


def _mark_tiles(conn: Connection, address_id: int) -> None:
    """Record where an address is, so tile caches evict the tiles showing it (addresses.changes)."""
    changes.record_rows(conn, table=address, where=address.c.id == address_id)


def _write(conn: Connection, current: _Current, values: dict[str, Any]) -> None:
    """Write new values to a locked address, one version up; mark the tiles of its old and new place."""
    _mark_tiles(conn, current.id)
    conn.execute(
        update(address)
        .where(address.c.id == current.id)
        .values(**values, version=address.c.version + 1, updated_at=func.now())
    )
    if "geom" in values:
        _mark_tiles(conn, current.id)


# ------------------------------------------------------------------------------- update


@dataclass(frozen=True, slots=True)
class _Changes:
    """The options of one ``update_address`` call."""

    lon: float | Keep
    lat: float | Keep
    texts: dict[str, TextChange]
    status: Status | Keep


def _move_values(conn: Connection, current: _Current, changes: _Changes) -> dict[str, Any]:
    """Return the new point's columns, or nothing when the point stays where it is."""
    lon = current.lon if isinstance(changes.lon, Keep) else float(changes.lon)
    lat = current.lat if isinstance(changes.lat, Keep) else float(changes.lat)
    if (lon, lat) == (current.lon, current.lat):
        return {}
    return _located(conn, lon, lat)


def _text_values(current: _Current, changes: _Changes) -> dict[str, str | None]:
    """Return the text fields that change (cleaned; empty text clears a field)."""
    values: dict[str, str | None] = {}
    for name, value in changes.texts.items():
        if isinstance(value, Keep):
            continue
        text = _checked_text(name, value)
        if text != current.texts[name]:
            values[name] = text
    return values


def _status_values(current: _Current, changes: _Changes) -> dict[str, str]:
    """Return the new status (proposed -> active only; retiring has its own function)."""
    status = changes.status
    if isinstance(status, Keep) or status == current.status:
        return {}
    if status == "retired":
        raise InvalidParameterError("status", "retire an address with retire_address (it needs a reason)")
    _check_transition(current, status)
    return {"status": status}


def _change_kind(values: dict[str, Any]) -> ChangeKind:
    """Name a change by its most significant part: activation, then move, then update."""
    if "status" in values:
        return "activate"
    if "geom" in values:
        return "move"
    return "update"


def update_address(
    conn: Connection,
    registry_code: str,
    *,
    expected_version: int,
    lon: float | Keep = KEEP,
    lat: float | Keep = KEEP,
    house_number: TextChange = KEEP,
    alley: TextChange = KEEP,
    street: TextChange = KEEP,
    village_name: TextChange = KEEP,
    status: Status | Keep = KEEP,
    changed_by: str | None = None,
) -> AddressRecord:
    """Change an address still at ``expected_version``; the old row goes to address_history.

    Options left at KEEP stay as they are; None or "" clears a text field. A moved
    point gets a new location code and commune; the registry code never changes.
    ``status`` may only go from "proposed" to "active". A stale version raises
    StaleVersionError (a ConflictError) and changes nothing; an edit that changes
    nothing returns the address as it is, at the same version.
    """
    texts: dict[str, TextChange] = {
        "house_number": house_number,
        "alley": alley,
        "street": street,
        "village_name": village_name,
    }
    changes = _Changes(lon=lon, lat=lat, texts=texts, status=status)
    with conn.begin_nested():
        current = _lock(conn, registry_code)
        _check_version(current, expected_version)
        if current.status == "retired":
            hint = _transition_hint("retired", "active")
            raise StatusTransitionError(current.registry_code, current="retired", action="edit", detail=hint)
        values = {**_status_values(current, changes), **_text_values(current, changes)}
        values.update(_move_values(conn, current, changes))
        if values:
            _snapshot(conn, current, _change_kind(values), changed_by=changed_by)
            _write(conn, current, values)
    return _record(conn, current.id)


# ------------------------------------------------------------------------- retire, merge


def _check_successor(conn: Connection, current: _Current, successor: _Current) -> None:
    """Raise InvalidSuccessorError for the address itself or a retired successor."""
    if successor.id == current.id:
        raise InvalidSuccessorError(current.registry_code, successor.registry_code, reason="self")
    if successor.status == "retired":
        chain = _chain(conn, successor.id)
        final = f"; the address in force is {chain[-1].registry_code_display}" if chain else ""
        detail = f"choose the address that replaced it{final}"
        raise InvalidSuccessorError(
            current.registry_code, successor.registry_code, reason="retired", detail=detail
        )


@dataclass(frozen=True, slots=True)
class _Why:
    """Why an address changes: the kind of change, the reason given and who made it."""

    change: ChangeKind
    reason: str
    changed_by: str | None


def _retire(conn: Connection, current: _Current, successor: str | _Current | None, *, why: _Why) -> None:
    """Retire a locked address, pointing to a successor (locked here when given as a code)."""
    _check_transition(current, "retired")
    target = _lock(conn, successor) if isinstance(successor, str) else successor
    if target is not None:
        _check_successor(conn, current, target)
    _snapshot(conn, current, why.change, changed_by=why.changed_by, reason=why.reason)
    successor_id = None if target is None else target.id
    _write(conn, current, {"status": "retired", "retired_at": func.now(), "successor_id": successor_id})


def retire_address(
    conn: Connection,
    registry_code: str,
    *,
    reason: str,
    successor: str | None = None,
    expected_version: int | None = None,
    changed_by: str | None = None,
) -> AddressRecord:
    """Retire an active address, optionally naming the address that replaces it.

    The address is kept (never deleted) with status "retired"; its registry code
    then leads to ``successor``. Retiring a retired or proposed address raises
    StatusTransitionError; a successor that is the address itself or is retired
    raises InvalidSuccessorError. The reason is kept in address_history.
    """
    text = _required_text("reason", reason)
    with conn.begin_nested():
        current = _lock(conn, registry_code)
        _check_version(current, expected_version)
        _retire(conn, current, successor, why=_Why("retire", text, changed_by))
    return _record(conn, current.id)


def _distinct_codes(registry_codes: Iterable[str]) -> list[str]:
    """Return canonical registry codes without repeats, in the order given."""
    codes = list(dict.fromkeys(normalise_registry_code(code) for code in registry_codes))
    if not codes:
        raise InvalidParameterError("registry_codes", "name at least one address to merge")
    return codes


def merge_addresses(
    conn: Connection,
    registry_codes: Iterable[str],
    *,
    into: str,
    reason: str = "merged",
    changed_by: str | None = None,
) -> MergeResult:
    """Retire several addresses at once, all with ``into`` as their successor.

    All or nothing: one address that cannot be retired (already retired, proposed,
    or ``into`` itself) fails the whole merge.
    """
    text = _required_text("reason", reason)
    codes = _distinct_codes(registry_codes)
    with conn.begin_nested():
        survivor = _lock(conn, into)
        retired = []
        for code in codes:
            current = _lock(conn, code)
            _retire(conn, current, survivor, why=_Why("merge", text, changed_by))
            retired.append(current.id)
    return MergeResult(survivor=_record(conn, survivor.id), retired=tuple(address_records(conn, ids=retired)))


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
