"""tile_invalidation is pruned on its retention: old records go, recent ones stay."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import Connection, Engine, delete, func, insert, select

from addresses.schema import SRID, tile_invalidation
from addresses.settings import DatabaseSettings
from api.app import create_app
from api.settings import ApiSettings, TileSettings
from tiles.retention import MIN_RETENTION_S, prune_expired

DAY_S = 86400.0


def _record(conn: Connection, *, age_s: float) -> int:
    """One invalidation record made ``age_s`` seconds ago (a box far off the map's data); its id."""
    box = func.ST_MakeEnvelope(100.0, 10.0, 100.01, 10.01, SRID)
    created = datetime.now(UTC) - timedelta(seconds=age_s)
    statement = insert(tile_invalidation).values(layer="address", bbox=box, created_at=created)
    record_id: int = conn.execute(statement.returning(tile_invalidation.c.id)).scalar_one()
    return record_id


def _existing(conn: Connection, ids: list[int]) -> set[int]:
    return set(conn.scalars(select(tile_invalidation.c.id).where(tile_invalidation.c.id.in_(ids))))


def test_old_records_go_and_recent_ones_stay(conn: Connection) -> None:
    old = [_record(conn, age_s=2 * DAY_S), _record(conn, age_s=DAY_S + 60)]
    recent = [_record(conn, age_s=DAY_S - 60), _record(conn, age_s=0)]
    assert prune_expired(conn, retention_s=DAY_S) >= len(old)
    assert _existing(conn, old + recent) == set(recent)


def test_the_app_prunes_on_its_retention_setting(engine: Engine, database_url: str) -> None:
    with engine.begin() as conn:
        old, recent = _record(conn, age_s=3 * MIN_RETENTION_S), _record(conn, age_s=MIN_RETENTION_S / 2)
    settings = ApiSettings(tiles=TileSettings(invalidation_retention_s=MIN_RETENTION_S))
    try:
        with TestClient(create_app(DatabaseSettings(database_url=database_url), settings)):
            deadline = time.monotonic() + 30
            while True:
                with engine.connect() as conn:
                    left = _existing(conn, [old, recent])
                if left == {recent} or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
        assert left == {recent}
    finally:
        with engine.begin() as conn:
            conn.execute(delete(tile_invalidation).where(tile_invalidation.c.id.in_([old, recent])))


def test_a_retention_shorter_than_a_cache_may_stay_silent_is_refused() -> None:
    with pytest.raises(ValidationError, match="invalidation_retention_s"):
        TileSettings(invalidation_retention_s=60)
    assert TileSettings().invalidation_retention_s == DAY_S
