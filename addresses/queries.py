"""Read queries on the data model: ``fn(conn, *, ...)`` returning plain typed results."""

from __future__ import annotations

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, func, select

from addresses.schema import address, admin_unit, place, unit_lineage, village

COUNTED_TABLES = (admin_unit, unit_lineage, village, place, address)


def schema_revision(conn: Connection) -> str | None:
    """The Alembic revision the database is at."""
    return MigrationContext.configure(conn).get_current_revision()


def table_counts(conn: Connection) -> dict[str, int]:
    """Rows per main table."""
    return {
        t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one()) for t in COUNTED_TABLES
    }
