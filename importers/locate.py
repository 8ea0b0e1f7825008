"""Where imported features are: their current commune and their codes, computed in bulk.

The 2025 communes/wards are read once per import and indexed in an STRtree, so
placing a million points is one vectorized query instead of a million SQL look-ups.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from sqlalchemy import Connection, Table, func, select

from addresses import registry
from addresses.codes import encode_array, registry_codes_array
from addresses.schema import admin_unit
from importers.points import Geoms, PlainPoints

#: A point this close (degrees, ~2 km) to a commune but outside every polygon belongs to the nearest.
NEAREST_MARGIN_DEG = 0.02


@dataclass(frozen=True)
class Communes:
    """The current communes/wards: ids, prepared polygons, and an index over them."""

    ids: NDArray[np.int64]
    polygons: NDArray[np.object_]
    tree: shapely.STRtree


def current_communes(conn: Connection) -> Communes:
    """Load the current (2025) communes/wards that have polygons."""
    rows = conn.execute(
        select(admin_unit.c.id, func.ST_AsBinary(admin_unit.c.geom)).where(
            admin_unit.c.level == 3, admin_unit.c.valid_to.is_(None), admin_unit.c.geom.is_not(None)
        )
    ).all()
    ids = np.array([row[0] for row in rows], dtype=np.int64)
    geoms = shapely.from_wkb([bytes(row[1]) for row in rows])
    shapely.prepare(geoms)
    return Communes(ids=ids, polygons=geoms, tree=shapely.STRtree(geoms))


def as_points(geoms: NDArray[np.object_]) -> NDArray[np.object_]:
    """Points unchanged; areas replaced by a point inside them."""
    points = geoms.copy()
    areas = shapely.get_type_id(geoms) != shapely.GeometryType.POINT
    points[areas] = shapely.point_on_surface(geoms[areas])
    return points


def commune_id_array(communes: Communes, geoms: Geoms) -> NDArray[np.int64]:
    """The commune id of each geometry's representative point (-1 when none is near)."""
    if len(communes.ids) == 0 or len(geoms) == 0:
        return np.full(len(geoms), -1, dtype=np.int64)
    if isinstance(geoms, PlainPoints):
        return _communes_at(communes, geoms.xs, geoms.ys, lambda rest: geoms[rest].geoms())
    points = as_points(geoms)
    return _communes_at(communes, shapely.get_x(points), shapely.get_y(points), lambda rest: points[rest])


def _communes_at(
    communes: Communes,
    xs: NDArray[np.float64],
    ys: NDArray[np.float64],
    points: Callable[[NDArray[np.intp]], NDArray[np.object_]],
) -> NDArray[np.int64]:
    """The commune id of each point at ``xs``, ``ys``; ``points`` gives those of some as geometries."""
    result = np.full(len(xs), -1, dtype=np.int64)
    by_x = np.argsort(xs, kind="stable")
    sorted_xs = xs[by_x]
    # each (prepared) polygon tests the points inside its box: 46 vectorised look-ups, no point objects;
    # the points of its longitudes are a range of those sorted by longitude
    for commune, polygon, (west, south, east, north) in zip(
        communes.ids, communes.polygons, shapely.bounds(communes.polygons), strict=True
    ):
        columns = by_x[np.searchsorted(sorted_xs, west, "left") : np.searchsorted(sorted_xs, east, "right")]
        boxed = columns[(ys[columns] >= south) & (ys[columns] <= north)]
        result[boxed[shapely.contains_xy(polygon, xs[boxed], ys[boxed])]] = commune
    rest = np.flatnonzero(result < 0)
    if len(rest):
        near, nearest = communes.tree.query_nearest(
            points(rest), max_distance=NEAREST_MARGIN_DEG, all_matches=False
        )
        result[rest[near]] = communes.ids[nearest]
    return result


def location_code_bytes(points: Geoms) -> NDArray[np.bytes_]:
    """The 9-character location code of each point, as ASCII bytes (``encode_array``)."""
    if isinstance(points, PlainPoints):
        xs, ys = points.xs, points.ys
    else:
        xs, ys = shapely.get_x(points), shapely.get_y(points)
    codes: NDArray[np.bytes_] = encode_array(xs, ys)
    return codes


def known_source_ids(conn: Connection, table: Table, source: str) -> pd.Index:
    """The source ids ``source`` has already imported into ``table`` (fetched as one array value)."""
    ids = conn.execute(select(func.array_agg(table.c.source_id)).where(table.c.source == source)).scalar()
    return pd.Index(ids or [], dtype=object)


def is_new(source_ids: pd.Series, known: pd.Index) -> NDArray[np.bool_]:
    """Which of ``source_ids`` are not among the ``known`` ones."""
    unknown: NDArray[np.bool_] = known.get_indexer(pd.Index(source_ids, dtype=object)) < 0
    return unknown


def registry_serials(conn: Connection, is_new: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Fresh registry serials where ``is_new``, drawn at once (-1 elsewhere: stored rows keep their code)."""
    serials = np.full(len(is_new), -1, dtype=np.int64)
    serials[is_new] = registry.next_serials(conn, int(is_new.sum()))
    return serials


def give_back_serials(conn: Connection, serials: NDArray[np.int64], *, used: int) -> None:
    """Give back the serials :func:`registry_serials` drew after the first ``used`` (not needed after all)."""
    drawn = serials[serials >= 0]
    if len(drawn):
        registry.give_back_serials(conn, drawn, used=used)


def registry_code_bytes(serials: NDArray[np.int64]) -> NDArray[np.bytes_]:
    """The registry code of each serial as ASCII bytes (empty where it is -1)."""
    drawn = serials >= 0
    made = registry_codes_array(serials[drawn])
    codes = np.zeros(len(serials), dtype=made.dtype)
    codes[drawn] = made
    return codes
