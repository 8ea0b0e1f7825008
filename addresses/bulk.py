"""Bulk writes: COPY a DataFrame into a table, or into a temporary staging table for set-based SQL.

COPY streams CSV written by Arrow's C++ writer: text is quoted (an empty text stays
empty), None/NaN are unquoted empty fields, which PostgreSQL's CSV format reads as
NULL; geometries travel as hex EWKB. The staging table is dropped when the caller's
transaction ends.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from geoalchemy2 import Geometry
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter
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

COPY_BATCH_ROWS = 20_000
"""Rows serialised per COPY write: Arrow writes the next batch while the server reads this one."""

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


def csv_batches(frame: pd.DataFrame, *, batch_rows: int = COPY_BATCH_ROWS) -> Iterator[memoryview]:
    """The rows of ``frame`` as PostgreSQL CSV (no header), ``batch_rows`` at a time.

    Each batch is a view of the buffer Arrow wrote (no copy into ``bytes``, nor of
    its slices when psycopg cuts it into messages). A frame is converted on this
    thread (Arrow's thread pool costs more than it saves for one batch).

    >>> frame = pd.DataFrame({"name": ["Xóm Mít", "", None], "n": [1, None, 3]})
    >>> b"".join(csv_batches(frame)).decode()
    '"Xóm Mít",1\\n"",\\n,3\\n'
    """
    options = pa_csv.WriteOptions(include_header=False)
    for start in range(0, len(frame), batch_rows):
        rows = frame.iloc[start : start + batch_rows]
        table = pa.Table.from_pandas(rows, preserve_index=False, nthreads=1)
        sink = pa.BufferOutputStream()
        pa_csv.write_csv(table, sink, options)
        yield memoryview(sink.getvalue())


def copy_frames(conn: Connection, table: Table, frames: Iterable[pd.DataFrame]) -> int:
    """COPY DataFrames with the same columns into ``table``; return the rows written.

    The frames may come from a generator: a thread sends each batch to the server
    while the next frame is built, so the database and Python work at the same time.
    """
    pending = iter(frames)
    first = next(pending, None)
    if first is None:
        return 0
    columns = [str(name) for name in first.columns]
    written = 0

    def batches() -> Iterator[memoryview]:
        nonlocal written
        for frame in itertools.chain([first], pending):
            written += len(frame)
            yield from csv_batches(frame[columns])

    copy_csv(conn, table, columns, batches(), queued=True)
    return written


def copy_csv(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    batches: Iterable[bytes | memoryview],
    *,
    queued: bool = False,
) -> None:
    """COPY PostgreSQL CSV (see :func:`csv_batches`) into ``columns`` of ``table``.

    ``queued``: a thread sends the batches, so producing the next one overlaps sending this one.
    """
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
        sql.Identifier(table.name), sql.SQL(", ").join(sql.Identifier(name) for name in columns)
    )
    raw = conn.connection.driver_connection
    assert raw is not None
    try:
        with raw.cursor() as cursor:
            writer = QueuedLibpqWriter(cursor) if queued else None
            with cursor.copy(statement, writer=writer) as copy:
                for batch in batches:
                    copy.write(batch)
    except (KeyboardInterrupt, SystemExit):
        # Interrupted in the middle of the COPY protocol, the connection cannot even roll
        # back: close it (the server then rolls the transaction back) and let the caller know.
        conn.invalidate()
        raise


def stage(conn: Connection, frame: pd.DataFrame, *, name: str = "import_staging") -> Table:
    """Create the staging table for ``frame`` and COPY it in."""
    return stage_frames(conn, [frame], name=name)


def stage_frames(conn: Connection, frames: Iterable[pd.DataFrame], *, name: str = "import_staging") -> Table:
    """Create a staging table with the columns of the first frame and COPY all of them in.

    The frames may be built lazily, as for :func:`copy_frames`; there must be at least one.
    """
    pending = iter(frames)
    first = next(pending)
    table = staging_table(conn, [str(column) for column in first.columns], name=name)
    copy_frames(conn, table, itertools.chain([first], pending))
    return table
