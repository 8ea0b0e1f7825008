"""The schema: migrations match schema.py, and the rules the database enforces."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, insert
from sqlalchemy.exc import IntegrityError

from addresses import migrate
from addresses.schema import admin_unit, metadata
from tests import databases


def test_migrations_produce_exactly_the_schema(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": migrate.include_object, "compare_type": True}
        )
        assert compare_metadata(context, metadata) == []


def test_database_is_at_the_head_revision(engine: Engine) -> None:
    assert migrate.current_revision(engine) == databases.head_revision(engine)


def _unit(code: str, valid_from: dt.date | None, valid_to: dt.date | None) -> dict[str, object]:
    return {
        "code": code,
        "level": 3,
        "unit_type": "xã",
        "name": "Thử",
        "full_name": "Xã Thử",
        "valid_from": valid_from,
        "valid_to": valid_to,
        "source": "test",
        "source_id": code,
    }


def test_a_code_cannot_name_two_units_at_the_same_time(conn: Connection) -> None:
    conn.execute(insert(admin_unit).values(_unit("99990", dt.date(2020, 1, 1), dt.date(2025, 7, 1))))
    conn.execute(insert(admin_unit).values(_unit("99990", dt.date(2025, 7, 1), None)))  # reuse after: fine
    with pytest.raises(IntegrityError, match="ex_admin_unit_code_validity"):
        conn.execute(insert(admin_unit).values(_unit("99990", dt.date(2024, 1, 1), dt.date(2026, 1, 1))))


def test_validity_must_end_after_it_starts(conn: Connection) -> None:
    with pytest.raises(IntegrityError, match="ck_admin_unit_validity"):
        conn.execute(insert(admin_unit).values(_unit("99991", dt.date(2025, 7, 1), dt.date(2025, 1, 1))))
