"""Bulk writes: COPY a DataFrame into a temporary staging table for set-based SQL.

COPY streams CSV text (None/NaN become NULL); geometries travel as hex EWKB. The
staging table is dropped when the caller's transaction ends.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import pandas as pd
from geoalchemy2 import Geometry
from psycopg import sql
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    Float,
    Integer,
    MetaData,
    SmallInteger,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.type_api import TypeEngine

from addresses.schema import SRID

COPY_CHUNK = 1 << 20
NULL = "\\N"

STAGING_TYPES: dict[str, TypeEngine[Any]] = {
    "geom": Geometry("GEOMETRY", srid=SRID, spatial_index=False),
    "label_point": Geometry("POINT", srid=SRID, spatial_index=False),
    "raw": JSONB(),
    "tags": JSONB(),
    "level": SmallInteger(),
    "population": Integer(),
    "area_km2": Float(),
    "valid_from": Date(),
    "valid_to": Date(),
    "address_id": BigInteger(),
    "commune_id": Integer(),
    "is_generated": Boolean(),
}


def staging_table(conn: Connection, columns: Sequence[str], *, name: str = "import_staging") -> Table:
    """Create a temporary table for this transaction with the given columns."""
    table = Table(
        name,
        MetaData(),
        *(Column(column, STAGING_TYPES.get(column, Text())) for column in columns),
        prefixes=["TEMPORARY"],
        postgresql_on_commit="DROP",
    )
    table.drop(conn, checkfirst=True)  # a second bulk write in the same transaction
    table.create(conn)
    return table


def copy_frame(conn: Connection, table: Table, frame: pd.DataFrame) -> None:
    """Stream a DataFrame into ``table`` with COPY (CSV; None/NaN become NULL)."""
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False, na_rep=NULL)
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv, NULL {})").format(
        sql.Identifier(table.name),
        sql.SQL(", ").join(sql.Identifier(name) for name in frame.columns),
        sql.Literal(NULL),
    )
    raw = conn.connection.driver_connection
    assert raw is not None
    text = buffer.getvalue()
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for start in range(0, len(text), COPY_CHUNK):
            copy.write(text[start : start + COPY_CHUNK])


def stage(conn: Connection, frame: pd.DataFrame, *, name: str = "import_staging") -> Table:
    """Create the staging table for ``frame`` and COPY it in."""
    table = staging_table(conn, list(frame.columns), name=name)
    copy_frame(conn, table, frame)
    return table
