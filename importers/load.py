"""Bulk loading: COPY into a temporary staging table, then one upsert into the target.

The caller's connection holds the transaction: the whole file lands or nothing does.
Re-importing the same rows changes nothing (the upsert skips identical rows).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Connection,
    Table,
    Text,
    and_,
    any_,
    case,
    func,
    literal,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import Insert, insert
from sqlalchemy.sql.base import ReadOnlyColumnCollection

from addresses import bulk, registry
from addresses.schema import address, admin_unit
from addresses.types import DEFAULT_STATUS


@dataclass(frozen=True)
class UpsertCounts:
    """How many rows an upsert inserted and updated (the rest were unchanged)."""

    inserted: int
    updated: int
    indexes_rebuilt: bool = False
    warnings: tuple[str, ...] = ()


REBUILD_MIN_ROWS = 50_000
"""Fewer new rows than this are always inserted with the indexes in place."""


def rebuild_pays(conn: Connection, target: Table, *, new_rows: int, min_rows: int = REBUILD_MIN_ROWS) -> bool:
    """Whether to rebuild ``target``'s indexes after the load rather than maintain them row by row.

    It pays when the load is large and at least as large as the table (BENCHMARKS.md:
    1.5x faster into an empty table, slower into one three times the size of the load).
    """
    if new_rows < min_rows:
        return False
    sample = select(target.c.id).limit(new_rows + 1).subquery()
    stored = conn.execute(select(func.count()).select_from(sample)).scalar_one()
    return int(stored) <= new_rows


def _count(conn: Connection, statement: Insert) -> UpsertCounts:
    """Run an upsert, returning ``inserted`` (xmax = 0) per written row, and count."""
    flags: list[bool] = list(conn.execute(statement.returning(literal_column("(xmax = 0)"))).scalars())
    inserted = sum(flags)
    return UpsertCounts(inserted=inserted, updated=len(flags) - inserted)


def lock_source(conn: Connection, target: Table, source: str) -> None:
    """Hold, until the transaction ends, the right to write ``source`` into ``target``.

    Imports of one source into one table then run one after the other, so the rows
    an import finds already stored stay the rows it may update.
    """
    _advisory_lock(conn, f"source:{target.name}:{source}")


def lock_large_loads(conn: Connection, target: Table) -> None:
    """Hold, until the transaction ends, the right to load many rows into ``target``.

    A large load may drop the table's indexes, which needs the table to itself: two
    such loads taking turns here cannot deadlock on the table lock.
    """
    _advisory_lock(conn, f"large-load:{target.name}")


def _advisory_lock(conn: Connection, key: str) -> None:
    """Take a transaction-level advisory lock named by ``key`` (waiting for it if held)."""
    conn.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(literal(key), 0))))


def insert_new(conn: Connection, target: Table, frames: Iterable[pd.DataFrame]) -> int:
    """COPY rows the source has never imported straight into ``target``; return how many.

    ``frames`` may be built lazily: each is built while the database stores the previous one.
    """
    return bulk.copy_frames(conn, target, frames)


ColumnValues = Mapping[str, Any] | ReadOnlyColumnCollection[str, Any]
"""Values by column name: a staged table's columns, or an upsert's ``excluded``."""


def changing_columns(columns: Sequence[str]) -> list[str]:
    """The staged columns an upsert may change on a stored row (not its key nor its registry code)."""
    return [c for c in columns if c not in ("source", "source_id", "registry_code")]


def differs(target: Table, values: ColumnValues, columns: Sequence[str]) -> ColumnElement[bool]:
    """Whether a stored row differs from ``values`` (a staged row, or an upsert's ``excluded``)."""
    return or_(*(target.c[c].is_distinct_from(values[c]) for c in columns))


def upsert_by_source(conn: Connection, target: Table, staged: Table, columns: Sequence[str]) -> UpsertCounts:
    """Insert new (source, source_id) rows, update changed ones, leave identical ones alone."""
    rows = insert(target).from_select(list(columns), select(*(staged.c[c] for c in columns)))
    excluded = rows.excluded
    changing = changing_columns(columns)
    values: dict[str, object] = {c: excluded[c] for c in changing}
    values["updated_at"] = func.now()
    if "version" in target.c:
        values["version"] = target.c.version + 1
    statement = rows.on_conflict_do_update(
        index_elements=["source", "source_id"], set_=values, where=differs(target, excluded, changing)
    )
    return _count(conn, statement)


def record_address_history(conn: Connection, staged: Table, columns: Sequence[str], *, source: str) -> int:
    """Keep, like an edit does, the stored addresses the staged rows are about to change; return how many."""
    changing = changing_columns(columns)
    stored = and_(address.c.source == staged.c.source, address.c.source_id == staged.c.source_id)
    return registry.record_history(
        conn,
        where=and_(stored, differs(address, staged.c, changing)),
        change="import",
        changed_by=f"import:{source}",
    )


def blanking_counts(
    conn: Connection, target: Table, *, source: str, source_ids: Sequence[str], fields: Sequence[str]
) -> dict[str, int]:
    """Count, per field, the stored rows of ``source`` among ``source_ids`` an import lacking it would change.

    A missing text field would be written as NULL; a missing address status as "active".
    """
    if not fields or not source_ids:
        return {}
    written = {name: WRITTEN_WHEN_MISSING.get(name) for name in fields}
    counts = [
        func.count().filter(target.c[name].is_distinct_from(value)).label(name)
        for name, value in written.items()
    ]
    ids = literal(list(source_ids), ARRAY(Text))
    query = select(*counts).where(target.c.source == source, target.c.source_id == any_(ids))
    row = conn.execute(query).mappings().one()
    return {name: int(row[name]) for name in fields if row[name]}


WRITTEN_WHEN_MISSING: dict[str, str] = {"status": DEFAULT_STATUS}
"""What an import writes in a field its file lacks, when not NULL."""


def upsert_units(conn: Connection, staged: Table, columns: Sequence[str], *, fill_only: bool) -> UpsertCounts:
    """Merge units on (level, code, valid_from).

    By default the file's values win and its empty values keep the old ones; with
    ``fill_only`` (a secondary source) it only fills values that are still empty.
    """
    rows = insert(admin_unit).from_select(list(columns), select(*(staged.c[c] for c in columns)))
    excluded = rows.excluded
    first, second = (admin_unit.c, excluded) if fill_only else (excluded, admin_unit.c)
    merged: dict[str, ColumnElement[object]] = {
        c: func.coalesce(first[c], second[c])
        for c in columns
        if c not in ("level", "code", "valid_from", "raw", "source", "source_id")
    }
    merged["raw"] = admin_unit.c.raw.op("||")(excluded.raw)
    changed = or_(*(admin_unit.c[c].is_distinct_from(value) for c, value in merged.items()))
    statement = rows.on_conflict_do_update(
        index_elements=["level", "code", "valid_from"],
        set_={**merged, "updated_at": func.now()},
        where=changed,
    )
    return _count(conn, statement)


def link_unit_parents(conn: Connection, staged: Table) -> None:
    """Set parent_id from the staged parent codes: the nearest level up with overlapping validity.

    Codes are compared without leading zeros (spreadsheets drop them), and the parent
    may be two levels up (since 2025 communes belong directly to the province).
    """
    child, parent = admin_unit, admin_unit.alias("parent")
    overlap = func.daterange(parent.c.valid_from, parent.c.valid_to).op("&&")(
        func.daterange(child.c.valid_from, child.c.valid_to)
    )
    same_code = func.ltrim(parent.c.code, "0") == func.ltrim(staged.c.parent_code, "0")
    parent_id = (
        select(parent.c.id)
        .where(parent.c.level < child.c.level, same_code, overlap)
        .order_by(parent.c.level.desc())
        .limit(1)
        .scalar_subquery()
    )
    conn.execute(
        update(child)
        .where(
            child.c.code == staged.c.code,
            child.c.level == staged.c.level,
            child.c.valid_from.is_not_distinct_from(staged.c.valid_from),
            staged.c.parent_code.is_not(None),
        )
        .values(parent_id=parent_id)
    )


def derive_unit_geometry(conn: Connection) -> None:
    """Label points inside polygons where missing, and how precise each unit's geometry is."""
    conn.execute(
        update(admin_unit)
        .where(admin_unit.c.label_point.is_(None), admin_unit.c.geom.is_not(None))
        .values(label_point=func.ST_PointOnSurface(admin_unit.c.geom))
    )
    quality = case(
        (admin_unit.c.geom.is_not(None), "polygon"),
        (admin_unit.c.label_point.is_not(None), "point"),
        else_="none",
    )
    conn.execute(
        update(admin_unit)
        .where(admin_unit.c.geom_quality.is_distinct_from(quality))
        .values(geom_quality=quality)
    )
