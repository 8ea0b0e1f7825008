"""Changesets and the change feed: who wrote what, and the commit-ordered events of every write.

A :class:`Changeset` gathers the writes of one request (one transaction). Its row is
inserted at the first write, so a request that writes nothing leaves no changeset.
:meth:`Changeset.close` is called last in the writing transaction: it stores the bbox
the writes touched and appends one ``change_event`` per write, numbered from the
``event_counter`` row by an UPDATE. That row lock is held until the commit, so numbers
are handed out in commit order: a reader polling ``after=N`` never misses an event that
commits later with a smaller number (PostgreSQL sequences do not give that).

Imports append one ``import`` event per run and dataset (:func:`record_import`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Literal

from sqlalchemy import Connection, func, insert, select, update

from addresses import counters
from addresses.accounts import Principal
from addresses.errors import InvalidParameterError
from addresses.schema import SRID, change_event, changeset, event_counter
from addresses.types import BBox

__all__ = [
    "MAX_EVENTS",
    "Action",
    "Changeset",
    "ChangesetKind",
    "Event",
    "EventPage",
    "events_after",
    "last_seq",
    "record_import",
]

Action = Literal["create", "update", "retire", "restore", "approve", "reject", "import", "merge"]
"""What a write did (feature_version.action, change_event.action)."""
ChangesetKind = Literal["edit", "review", "revert", "import", "merge"]

MAX_EVENTS: Final = 1000
"""The most events one page of the feed holds."""


@dataclass(frozen=True, slots=True)
class Event:
    """One entry of the change feed."""

    seq: int
    changeset_id: int
    dataset: str
    feature_id: int | None
    version: int | None
    action: str
    time: datetime


@dataclass(frozen=True, slots=True)
class EventPage:
    """Events after a number, and the last number handed out (the next page starts after it)."""

    events: tuple[Event, ...]
    last_seq: int


@dataclass(slots=True)
class _Pending:
    dataset: str
    feature_id: int | None
    version: int | None
    action: Action


@dataclass(slots=True)
class Changeset:
    """The writes of one transaction by one principal, with one comment; close it last."""

    conn: Connection
    principal: Principal
    comment: str | None = None
    kind: ChangesetKind = "edit"
    reverts_id: int | None = None
    id: int | None = None
    boxes: list[BBox] = field(default_factory=list)
    pending: list[_Pending] = field(default_factory=list)

    def ensure_open(self) -> int:
        """Insert the changeset row (at the first write); return its id."""
        if self.id is None:
            statement = insert(changeset).values(
                account_id=self.principal.account_id,
                author=self.principal.username,
                comment=self.comment,
                kind=self.kind,
                reverts_id=self.reverts_id,
            )
            self.id = int(self.conn.execute(statement.returning(changeset.c.id)).scalar_one())
        return self.id

    def touched(self, box: BBox | None) -> None:
        """Remember a place the changeset wrote at (old or new position)."""
        if box is not None:
            self.boxes.append(box)

    def event(self, dataset: str, feature_id: int | None, version: int | None, action: Action) -> None:
        """Queue the event of one write (numbered when the changeset closes)."""
        self.ensure_open()
        self.pending.append(_Pending(dataset, feature_id, version, action))

    def close(self) -> list[int]:
        """Store the bbox and number the queued events: call it last in the transaction.

        Returns the sequence numbers given (none when nothing was written).
        """
        if self.id is None or not self.pending:
            return []
        if self.boxes:
            west = min(box[0] for box in self.boxes)
            south = min(box[1] for box in self.boxes)
            east = max(box[2] for box in self.boxes)
            north = max(box[3] for box in self.boxes)
            envelope = func.ST_MakeEnvelope(west, south, east, north, SRID)
            self.conn.execute(update(changeset).where(changeset.c.id == self.id).values(bbox=envelope))
        first = counters.draw(self.conn, event_counter.c.next_seq, len(self.pending))
        rows = [
            {
                "seq": first + offset,
                "changeset_id": self.id,
                "dataset": item.dataset,
                "feature_id": item.feature_id,
                "version": item.version,
                "action": item.action,
            }
            for offset, item in enumerate(self.pending)
        ]
        self.conn.execute(insert(change_event), rows)
        self.pending = []
        return list(range(first, first + len(rows)))


def record_import(conn: Connection, *, dataset: str, author: str, comment: str | None = None) -> int:
    """Append the one ``import`` event of an import run (dataset level); return its number.

    Call it last in the import's transaction, like :meth:`Changeset.close`.
    """
    principal = Principal(account_id=None, username=author, role="admin", commune_ids=None, via="import")
    batch = Changeset(conn, principal, comment=comment, kind="import")
    batch.event(dataset, None, None, "import")
    return batch.close()[0]


def last_seq(conn: Connection) -> int:
    """The number of the last event handed out (0 before the first): a cheap one-row read."""
    value = conn.execute(select(event_counter.c.next_seq)).scalar()
    return 0 if value is None else int(value) - 1


def events_after(conn: Connection, *, after: int, limit: int = 100) -> EventPage:
    """Events numbered above ``after``, oldest first, at most ``limit``; with the last number given.

    Only committed events are seen, and numbers are commit-ordered: a poller that asks
    again with the last ``seq`` it got misses none.
    """
    if not 1 <= limit <= MAX_EVENTS:
        raise InvalidParameterError("limit", f"must be 1..{MAX_EVENTS}, got {limit}")
    if after < 0:
        raise InvalidParameterError("after", f"must be 0 or more, got {after}")
    top = last_seq(conn)
    query = (
        select(change_event)
        .where(change_event.c.seq > after, change_event.c.seq <= top)
        .order_by(change_event.c.seq)
        .limit(limit)
    )
    events = tuple(
        Event(
            seq=int(row.seq),
            changeset_id=int(row.changeset_id),
            dataset=str(row.dataset),
            feature_id=None if row.feature_id is None else int(row.feature_id),
            version=None if row.version is None else int(row.version),
            action=str(row.action),
            time=row.created_at,
        )
        for row in conn.execute(query)
    )
    return EventPage(events=events, last_seq=top)
