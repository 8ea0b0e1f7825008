"""Where data changed: writers append boxes to ``tile_invalidation``, tile caches poll them.

Importers and editors call these functions inside their own transaction, so a change
and its record commit (or roll back) together, and every process serving tiles sees
it. ``layer`` names the table whose rows changed (``admin_unit``, ``village``,
``place``, ``address``); the tiles package knows which tile layers each table feeds.
An edit records where the rows were *and* where they are: call :func:`record_rows`
before and after it (or :func:`record_boxes` with boxes you already know).
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, Final

import numpy as np
from geoalchemy2 import Geometry
from numpy.typing import NDArray
from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Connection,
    MetaData,
    Table,
    and_,
    bindparam,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
)

from addresses.datasets import DATASETS
from addresses.errors import InvalidParameterError
from addresses.schema import SRID, admin_unit, tile_invalidation
from addresses.types import BBox

CHANGE_LAYERS: Final = tuple(spec.table.name for spec in DATASETS.values())
"""The tables whose changes matter to tiles."""

GRID_DEG: Final = 0.05
"""Rows changed together are recorded as one box per grid cell of this size (about 5 km)."""


def check_layer(layer: str) -> str:
    """Return ``layer`` if it names a table tiles are made from, else raise InvalidParameterError.

    >>> check_layer("village")
    'village'
    >>> check_layer("villages")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    addresses.errors.InvalidParameterError: layer: 'villages' is not one of admin_unit, village, ...
    """
    if layer not in CHANGE_LAYERS:
        raise InvalidParameterError("layer", f"{layer!r} is not one of {', '.join(CHANGE_LAYERS)}")
    return layer


def check_bbox(bbox: tuple[float, ...]) -> BBox:
    """Return ``bbox`` as floats if it is a finite west, south, east, north box in degrees.

    >>> check_bbox((105.3, 20.8, 105.4, 20.9))
    (105.3, 20.8, 105.4, 20.9)
    >>> check_bbox((105.4, 20.8, 105.3, 20.9))
    Traceback (most recent call last):
    ...
    addresses.errors.InvalidParameterError: bbox: expected west <= east and south <= north in degrees
    """
    if len(bbox) != 4 or not all(math.isfinite(v) for v in bbox):
        raise InvalidParameterError("bbox", "expected four finite numbers: west, south, east, north")
    west, south, east, north = (float(v) for v in bbox)
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise InvalidParameterError("bbox", "expected west <= east and south <= north in degrees")
    return west, south, east, north


def record_boxes(conn: Connection, *, layer: str, bounds: NDArray[np.float64]) -> int:
    """Record rows written at ``bounds`` (one west, south, east, north row each); return the boxes written.

    Rows are grouped by the grid cell of their south-west corner, as :func:`record_rows`
    groups them in SQL: a writer that knows its rows' places skips reading them back.
    """
    return insert_boxes(conn, layer=layer, boxes=grid_boxes(bounds))


def grid_boxes(bounds: NDArray[np.float64]) -> NDArray[np.float64]:
    """One box per grid cell around the ``bounds`` whose south-west corner is in it (NaN rows left out).

    Boxes grouped again give the same boxes: a writer may group its rows part by part,
    then the parts' boxes together.

    >>> grid_boxes(np.array([[105.01, 20.01, 105.02, 20.02], [105.03, 20.0, 105.06, 20.03]])).tolist()
    [[105.01, 20.0, 105.06, 20.03]]
    """
    check = bounds[~np.isnan(bounds).any(axis=1)]
    if len(check) == 0:
        return np.empty((0, 4))
    cells = np.floor(check[:, :2] / GRID_DEG).astype(np.int64)
    _, group = np.unique((cells[:, 0] << 32) + cells[:, 1], return_inverse=True)  # one key per cell
    count = int(group.max()) + 1
    boxes = np.empty((count, 4))
    boxes[:, :2], boxes[:, 2:] = np.inf, -np.inf
    np.minimum.at(boxes[:, 0], group, check[:, 0])
    np.minimum.at(boxes[:, 1], group, check[:, 1])
    np.maximum.at(boxes[:, 2], group, check[:, 2])
    np.maximum.at(boxes[:, 3], group, check[:, 3])
    return boxes


def insert_boxes(conn: Connection, *, layer: str, boxes: NDArray[np.float64]) -> int:
    """Record the boxes (west, south, east, north rows) of ``layer`` for the tile caches; return how many."""
    check_layer(layer)
    if len(boxes) == 0:
        return 0
    rows = [{"layer": layer, "west": w, "south": s, "east": e, "north": n} for w, s, e, n in boxes.tolist()]
    envelope = func.ST_MakeEnvelope(
        bindparam("west"), bindparam("south"), bindparam("east"), bindparam("north"), SRID
    )
    conn.execute(insert(tile_invalidation).values(layer=bindparam("layer"), bbox=envelope), rows)
    return len(rows)


def place_of(table: Table) -> ColumnElement[Any]:
    """The geometry tiles draw for a row: the polygon, or the point where a unit has no polygon."""
    if table.name == admin_unit.name:
        return func.coalesce(table.c.geom, table.c.label_point)
    return table.c.geom


def _record_places(conn: Connection, *, layer: str, place: ColumnElement[Any], where: Any) -> int:
    """Append one box per grid cell around the places matching ``where``; return how many."""
    boxes = (
        select(literal(check_layer(layer)), func.ST_SetSRID(cast(func.ST_Extent(place), Geometry), SRID))
        .where(where, place.is_not(None))
        .group_by(func.floor(func.ST_XMin(place) / GRID_DEG), func.floor(func.ST_YMin(place) / GRID_DEG))
    )
    inserted = conn.execute(insert(tile_invalidation).from_select(["layer", "bbox"], boxes))
    return int(inserted.rowcount)


def record_rows(conn: Connection, *, table: Table, where: ColumnElement[bool]) -> int:
    """Record where the rows of ``table`` matching ``where`` are now; return the boxes written.

    An editor calls it before a change (the old places) and after it (the new ones).
    """
    return _record_places(conn, layer=table.name, place=place_of(table), where=where)


def written_in_this_transaction(table: Table, *, source: str | None = None) -> ColumnElement[bool]:
    """Rows inserted or updated by this transaction (the importers set ``updated_at = now()``)."""
    written = table.c.updated_at == func.now()
    return and_(written, table.c.source == source) if source is not None else written


def snapshot(conn: Connection, *, table: Table) -> Table:
    """Keep where every row of a small table is now (``id``, ``place``) until the transaction ends."""
    copy = Table(
        f"{table.name}_places_before",
        MetaData(),
        Column("id", BigInteger),
        Column("place", Geometry(srid=SRID, spatial_index=False)),
        prefixes=["TEMPORARY"],
        postgresql_on_commit="DROP",
    )
    copy.drop(conn, checkfirst=True)
    copy.create(conn)
    conn.execute(insert(copy).from_select(["id", "place"], select(table.c.id, place_of(table))))
    return copy


def record_written(
    conn: Connection, *, table: Table, source: str | None = None, previous: Table | None = None
) -> int:
    """Record where the rows written in this transaction are, and were if ``previous`` is a snapshot."""
    written = written_in_this_transaction(table, source=source)
    count = record_rows(conn, table=table, where=written)
    if previous is not None:
        was_written = previous.c.id.in_(select(table.c.id).where(written))
        count += _record_places(conn, layer=table.name, place=previous.c.place, where=was_written)
    return count


def record_replaced(conn: Connection, *, table: Table, staged: Table) -> int:
    """Before an upsert by (source, source_id): record the old places of staged rows that move."""
    moving = and_(
        table.c.source == staged.c.source,
        table.c.source_id == staged.c.source_id,
        table.c.geom.is_distinct_from(staged.c.geom),
    )
    return record_rows(conn, table=table, where=moving)


def prune(conn: Connection, *, before: datetime) -> int:
    """Delete the records made before ``before`` (every running cache has seen them); return how many."""
    deleted = conn.execute(delete(tile_invalidation).where(tile_invalidation.c.created_at < before))
    return int(deleted.rowcount)
