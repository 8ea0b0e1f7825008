"""The change feed: commit-ordered numbers under concurrent writers, and replay into an empty database."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, Table, and_, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from addresses import changes, migrate
from addresses.datasets import get_dataset
from addresses.db import make_engine
from addresses.editing import FeatureEdit, StatusChange, change_status, create_feature, update_feature
from addresses.feed import Changeset, events_after, last_seq, record_import
from addresses.schema import address, admin_unit, change_event, feature_version, place, village
from tests import databases
from tests.accounts import create_account
from tests.addresses.test_editing import _communes, _point

WRITERS = 12
EVENTS_EACH = 5


def _writer(engine: Engine, name: str, seqs: list[int], errors: list[BaseException]) -> None:
    """Append events in transactions that wait before numbering and before committing (out of order)."""
    rng = random.Random(name)
    try:
        for _ in range(EVENTS_EACH):
            with engine.begin() as conn:
                time.sleep(rng.uniform(0, 0.02))  # work before the end of the transaction
                seq = record_import(conn, dataset="places", author=f"test:{name}")
                time.sleep(rng.uniform(0, 0.02))  # the commit comes later than the number
            seqs.append(seq)
    except BaseException as error:  # reported by the test
        errors.append(error)


def _poll(engine: Engine, start: int, seen: list[int], stop: threading.Event) -> None:
    """Poll after=N as a replica would, keeping every number it gets."""
    after = start
    while True:
        finishing = stop.is_set()
        with engine.connect() as conn:
            page = events_after(conn, after=after, limit=7)
        seen.extend(event.seq for event in page.events)
        if page.events:
            after = page.events[-1].seq
        elif finishing:
            return
        time.sleep(0.001)


def replay_events(source: Connection, target: Connection, *, after: int = 0) -> int:
    """Apply the feed's events after ``after`` from ``source`` to ``target``, as a consumer of /events would.

    Rows are upserted by id from ``feature_version`` (the state after each write), in
    feed order, so the target ends with the source's rows. Returns the events applied.
    """
    query = (
        select(
            change_event.c.seq,
            feature_version.c.dataset,
            feature_version.c.feature_id,
            feature_version.c.properties,
            func.ST_AsEWKT(feature_version.c.geom).label("ewkt"),
        )
        .join(
            feature_version,
            and_(
                feature_version.c.dataset == change_event.c.dataset,
                feature_version.c.feature_id == change_event.c.feature_id,
                feature_version.c.version == change_event.c.version,
            ),
        )
        .where(change_event.c.seq > after)
        .order_by(change_event.c.seq)
    )
    applied = 0
    for row in source.execute(query):
        _upsert(target, get_dataset(row.dataset).table, row.properties, row.ewkt)
        applied += 1
    return applied


def _upsert(conn: Connection, table: Table, properties: dict[str, Any], ewkt: str | None) -> None:
    values = {name: value for name, value in properties.items() if name in table.c}
    if ewkt is not None:
        values["geom"] = func.ST_GeomFromEWKT(ewkt)
        if "label_point" in table.c:
            values["label_point"] = func.ST_PointOnSurface(func.ST_GeomFromEWKT(ewkt))
    statement = pg_insert(table).values(**values)
    conn.execute(statement.on_conflict_do_update(index_elements=[table.c.id], set_=values))
    changes.record_rows(conn, table=table, where=table.c.id == values["id"])


def test_a_poller_never_misses_an_event_of_writers_committing_out_of_order(engine: Engine) -> None:
    with engine.connect() as conn:
        start = last_seq(conn)
    seqs: list[int] = []
    seen: list[int] = []
    errors: list[BaseException] = []
    stop = threading.Event()
    poller = threading.Thread(target=_poll, args=(engine, start, seen, stop))
    poller.start()
    writers = [threading.Thread(target=_writer, args=(engine, str(i), seqs, errors)) for i in range(WRITERS)]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    stop.set()
    poller.join(30)
    assert errors == []
    assert sorted(seqs) == list(range(start + 1, start + 1 + WRITERS * EVENTS_EACH))
    assert seen == sorted(seqs)  # every one, once, in order: nothing skipped by a later commit


@pytest.fixture
def empty_database(database_url: str) -> Iterator[Engine]:
    """A migrated database with no data but the units (reference data the rows point to)."""
    url = databases.recreate_database(databases.server_url(), f"diachiso_replay_{id(database_url)}")
    target = make_engine(url)
    try:
        migrate.upgrade(target)
        yield target
    finally:
        target.dispose()
        databases.drop_database(url)


def _copy_reference(source: Connection, target: Connection, *, except_villages: list[int]) -> None:
    """Copy the imported units and villages (the feed carries edits; imports are dataset-level events)."""
    units = source.execute(select(admin_unit).order_by(admin_unit.c.level, admin_unit.c.id)).mappings().all()
    target.execute(insert(admin_unit), [dict(row) for row in units])
    villages = source.execute(select(village).where(village.c.id.not_in(except_villages))).mappings().all()
    target.execute(insert(village), [dict(row) for row in villages])


def _rows(conn: Connection, table: Any, ids: list[int]) -> dict[int, Any]:
    row = func.to_jsonb(table.table_valued())
    query = select(table.c.id, row, func.ST_AsEWKB(table.c.geom)).where(table.c.id.in_(ids))
    return {int(i): (r, bytes(g)) for i, r, g in conn.execute(query)}


def test_replaying_the_feed_into_an_empty_database_reproduces_the_rows(
    conn: Connection, empty_database: Engine
) -> None:
    home, away = _communes(conn, 2)
    editor = create_account(conn, username="replay-editor", role="editor", communes=[home.id])
    admin = create_account(conn, username="replay-admin", role="admin")
    start = last_seq(conn)

    def write(who: Any, work: Any) -> Any:
        cs = Changeset(conn, who, comment="replay")
        result = work(cs)
        cs.close()
        return result

    spot = _point(home.lon, home.lat)
    one = write(
        editor, lambda cs: create_feature(cs, "addresses", properties={"house_number": "8"}, geometry=spot)
    )
    write(
        admin,
        lambda cs: change_status(
            cs, "addresses", one.key, expected_version=1, change=StatusChange("approve")
        ),
    )
    there = _point(away.lon, away.lat)
    write(
        admin,
        lambda cs: update_feature(
            cs,
            "addresses",
            one.key,
            expected_version=2,
            edit=FeatureEdit(properties={"street": "Phố Mới"}, geometry=there),
        ),
    )
    two = write(
        admin, lambda cs: create_feature(cs, "addresses", properties={"house_number": "9"}, geometry=spot)
    )
    write(
        admin,
        lambda cs: change_status(cs, "addresses", two.key, expected_version=1, change=StatusChange("retire")),
    )
    shop = write(
        editor,
        lambda cs: create_feature(
            cs, "places", properties={"category": "shop", "kind": "bakery"}, geometry=spot
        ),
    )
    hamlet = write(
        admin, lambda cs: create_feature(cs, "villages", properties={"name": "Xóm Thử"}, geometry=spot)
    )
    write(
        admin,
        lambda cs: update_feature(
            cs, "villages", hamlet.key, expected_version=1, edit=FeatureEdit(properties={"name": "Xóm Mới"})
        ),
    )

    with empty_database.begin() as target:
        _copy_reference(conn, target, except_villages=[hamlet.id])
        applied = replay_events(conn, target, after=start)
        assert applied == 8
        assert _rows(target, address, [one.id, two.id]) == _rows(conn, address, [one.id, two.id])
        assert _rows(target, place, [shop.id]) == _rows(conn, place, [shop.id])
        assert _rows(target, village, [hamlet.id]) == _rows(conn, village, [hamlet.id])
        assert target.execute(select(func.count()).select_from(address)).scalar_one() == 2
        assert target.execute(select(func.count()).select_from(place)).scalar_one() == 1
