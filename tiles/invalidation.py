"""Read what changed since a moment from ``tile_invalidation``, missing no late commit.

Record ids are handed out when a row is inserted, but a row becomes visible when its
transaction commits, so "id > last seen" would miss an import that committed after
a quicker edit. Each record therefore carries its writer's transaction id, and a
reader remembers a *horizon*: the oldest transaction still running at its last read
(``pg_snapshot_xmin``). Every record it has not seen yet comes from a transaction at
or after that horizon; the ids it has seen there are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import BigInteger, Connection, Text, cast, func, select

from addresses.schema import tile_invalidation
from addresses.types import BBox


@dataclass(frozen=True)
class Change:
    """One record: rows of the table ``layer`` changed inside ``bbox``."""

    id: int
    layer: str
    bbox: BBox


@dataclass(frozen=True)
class Watermark:
    """How far a reader got: records of transactions before ``horizon``, and ``seen``, are read."""

    horizon: int
    seen: frozenset[int]


@dataclass(frozen=True)
class ChangeBatch:
    """The changes read in one poll, and the watermark to pass to the next one."""

    changes: list[Change]
    watermark: Watermark


def horizon(conn: Connection) -> int:
    """The oldest transaction still running (every older one has committed or rolled back)."""
    xmin = func.pg_snapshot_xmin(func.pg_current_snapshot())
    return int(conn.execute(select(cast(cast(xmin, Text), BigInteger))).scalar_one())


def changed_bboxes(conn: Connection, *, since: Watermark) -> ChangeBatch:
    """The changes committed since the watermark (in id order), and the new watermark."""
    new_horizon = horizon(conn)  # read before the records: the next poll re-reads from here
    record = tile_invalidation.c
    bbox = record.bbox
    rows = conn.execute(
        select(
            record.id,
            record.layer,
            record.txid,
            func.ST_XMin(bbox),
            func.ST_YMin(bbox),
            func.ST_XMax(bbox),
            func.ST_YMax(bbox),
        )
        .where(record.txid >= since.horizon)
        .order_by(record.id)
    ).all()
    changes = [
        Change(row.id, row.layer, (row[3], row[4], row[5], row[6]))
        for row in rows
        if row.id not in since.seen
    ]
    seen = frozenset(row.id for row in rows if row.txid >= new_horizon)
    return ChangeBatch(changes, Watermark(new_horizon, seen))


def watermark_now(conn: Connection) -> Watermark:
    """A watermark past every change visible now (a reader starting with an empty cache)."""
    return changed_bboxes(conn, since=Watermark(horizon(conn), frozenset())).watermark
