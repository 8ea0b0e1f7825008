"""Reverse geocoding from the in-memory index: the same answers as :func:`geocoder.reverse.reverse`.

Everything the database path asks PostGIS is answered here from the index's snapshot
(:class:`ReverseIndex`, built with the rest of :class:`geocoder.index.IndexState`):

* the 2025 ward: prepared polygons in an STRtree, ``covers`` (a point on a shared border
  belongs to both; the lower code answers, as in SQL);
* the pre-2025 commune (the ward's predecessor with the nearest label point, planar
  distance in degrees like ``ST_Distance`` on geometry), its tracing back to an ``at`` day
  through the lineage (with the lineage's effective dates), the note;
* the district in force covering the point (prepared polygons), the province in force;
* the nearest village within ``radius_m``: the SQL's own steps on sorted arrays (points in
  the box ``radius_m * 1e-5`` degrees, the 8 nearest in degrees, then metres on the WGS 84
  ellipsoid by :class:`pyproj.Geod`, the geodesic ``ST_Distance`` on geography uses too:
  they agree within 1e-8 m).

The database is asked in two cases, through ``connect`` (opened lazily):

* addresses: they change by the minute (a clerk registers a house, then clicks on it).
  The caller says whether the snapshot's addresses are known fresh (``fresh``: a look at
  the database's change markers, :meth:`geocoder.index.GeocoderIndex.addresses_fresh`, a
  second or two ago found no change since the snapshot). Then the nearest address in
  force comes from the snapshot's arrays (:class:`geocoder.houses.HouseStore`: point,
  id, registry code, name as written), with the SQL's own candidates, order and metres.
  Otherwise it is read from the database (one indexed query), as it is from the moment
  a change is seen until the rebuild that takes it in. Only while the database cannot be
  reached do the arrays decide then: with no address near in them the answer has none,
  with one near the database error stands.
* a point outside every ward polygon but possibly within ``margin_m`` of one: the distance
  to a polygon on the ellipsoid is PostGIS's own, so it answers
  (:func:`geocoder.reverse.current_ward`). A point surely farther (a lower bound from the
  planar distance) is out of territory without a query.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Final

import numpy as np
import pyproj
import shapely
from numpy.typing import NDArray
from sqlalchemy import Connection, func, select
from sqlalchemy.exc import InterfaceError, OperationalError

from addresses.datasets import ADDRESSES, in_force_filter
from addresses.errors import OutOfTerritoryError
from addresses.limits import MAX_HOPS
from addresses.queries import point_expression
from addresses.schema import address
from addresses.types import LineageRow, UnitRef
from geocoder.houses import HouseStore
from geocoder.loading import UnitRow, VillageRow, load_lineage, load_units, load_villages
from geocoder.results import NearbyFeature, OldUnit, ReverseResult
from geocoder.reverse import (
    DEGREES_PER_METRE,
    KNN_CANDIDATES,
    ReverseQuery,
    absorbed_note,
    current_ward,
    nearest_address,
    old_units_of,
    reverse_with,
    untraced_note,
)
from geocoder.territory import unit_level

AddressPoints = tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]
"""Longitude, latitude and in force (not retired) of every address."""
Connect = Callable[[], AbstractContextManager[Connection]]
"""Opens a connection to the database (only when the answer needs it)."""

GEOD: Final = pyproj.Geod(ellps="WGS84")
METRES_PER_DEGREE: Final = 110_000.0
"""Fewer metres than a degree of latitude, or of longitude at the equator, spans: a lower bound."""


@dataclass(frozen=True, slots=True)
class SortedPoints:
    """Points sorted by longitude: the ones in a box by two binary searches and a mask."""

    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    rows: NDArray[np.intp]
    """The caller's row of each sorted point."""

    @classmethod
    def of(cls, lon: NDArray[np.float64], lat: NDArray[np.float64], keep: NDArray[np.bool_]) -> SortedPoints:
        """The kept points with a position, sorted by longitude."""
        rows = np.flatnonzero(keep & np.isfinite(lon) & np.isfinite(lat))
        order = rows[np.argsort(lon[rows], kind="stable")]
        return cls(lon[order], lat[order], order)

    def nearest(self, lon: float, lat: float, radius_m: float) -> list[tuple[float, int]]:
        """(metres, row) of the candidates the SQL path ranks: in the box, the 8 nearest in degrees.

        >>> points = SortedPoints.of(np.array([105.0, 105.001, 106.0]), np.array([21.0, 21.0, 21.0]),
        ...                          np.array([True, True, True]))
        >>> [(round(m), row) for m, row in points.nearest(105.0, 21.0, 500.0)]
        [(0, 0), (104, 1)]
        """
        reach = radius_m * DEGREES_PER_METRE
        first = int(np.searchsorted(self.lon, lon - reach, side="left"))
        stop = int(np.searchsorted(self.lon, lon + reach, side="right"))
        lats = self.lat[first:stop]
        inside = np.flatnonzero((lats >= lat - reach) & (lats <= lat + reach)) + first
        if not len(inside):
            return []
        dx, dy = self.lon[inside] - lon, self.lat[inside] - lat
        planar = np.sqrt(dx * dx + dy * dy)
        chosen = inside[np.argsort(planar, kind="stable")[:KNN_CANDIDATES]]
        count = len(chosen)
        _f, _b, metres = GEOD.inv(
            np.full(count, lon), np.full(count, lat), self.lon[chosen], self.lat[chosen]
        )
        return [(float(m), int(self.rows[i])) for m, i in zip(np.atleast_1d(metres), chosen, strict=True)]


@dataclass(frozen=True, slots=True)
class Polygons:
    """Unit polygons, prepared, in an STRtree."""

    units: tuple[UnitRow, ...]
    tree: shapely.STRtree

    @classmethod
    def of(cls, units: list[UnitRow]) -> Polygons:
        """The units' polygons (units without one are left out), prepared for repeated tests."""
        shaped = tuple(unit for unit in units if unit.geom is not None)
        geoms = np.array([unit.geom for unit in shaped], dtype=object)
        shapely.prepare(geoms)
        return cls(shaped, shapely.STRtree(geoms))

    def covering(self, point: shapely.Point) -> list[UnitRow]:
        """The units whose polygon covers the point, by code."""
        hits = self.tree.query(point, predicate="covered_by")
        return sorted((self.units[int(i)] for i in hits), key=lambda unit: unit.code)

    def degrees_to_nearest(self, point: shapely.Point) -> float:
        """The planar distance in degrees to the nearest polygon (infinite without polygons)."""
        if not self.units:
            return math.inf
        _hits, distances = self.tree.query_nearest(point, return_distance=True)
        return float(distances[0])


@dataclass(frozen=True, slots=True)
class ReverseIndex:
    """What reverse geocoding needs, in memory: polygons, units, lineage, villages, address points."""

    wards: Polygons
    districts: Polygons
    units: dict[int, UnitRow]
    predecessors: dict[int, tuple[LineageRow[int], ...]]
    provinces: tuple[UnitRow, ...]
    villages: tuple[VillageRow, ...]
    village_points: SortedPoints
    address_points: SortedPoints
    store: HouseStore | None = None
    """The address arrays the points' rows refer to (names, ids, codes); None: points only."""

    @classmethod
    def build(
        cls,
        units: list[UnitRow],
        lineage: list[LineageRow[int]],
        villages: list[VillageRow],
        addresses: AddressPoints,
        store: HouseStore | None = None,
    ) -> ReverseIndex:
        """Index the loaded units, lineage (with effective dates), active villages and address points.

        With ``store``, ``addresses`` are its rows (its lon, lat and not retired) and the nearest
        address can be answered from memory.
        """
        wards = [unit for unit in units if unit.level == 3 and unit.valid_to is None]
        predecessors: dict[int, list[LineageRow[int]]] = {}
        for link in lineage:
            predecessors.setdefault(link.successor, []).append(link)
        village_lon = np.array([row.lon for row in villages], dtype=np.float64)
        village_lat = np.array([row.lat for row in villages], dtype=np.float64)
        return cls(
            wards=Polygons.of(wards),
            districts=Polygons.of([unit for unit in units if unit.level == 2]),
            units={unit.id: unit for unit in units},
            predecessors={key: tuple(links) for key, links in predecessors.items()},
            provinces=tuple(unit for unit in units if unit.level == 1),
            villages=tuple(villages),
            village_points=SortedPoints.of(village_lon, village_lat, np.ones(len(villages), dtype=bool)),
            address_points=SortedPoints.of(*addresses),
            store=store,
        )

    @classmethod
    def load(cls, conn: Connection) -> ReverseIndex:
        """Read what reverse geocoding needs from the database (the CLI's one-off answer; the API has it)."""
        lon, lat = func.ST_X(address.c.geom), func.ST_Y(address.c.geom)
        query = select(lon, lat).where(in_force_filter(ADDRESSES))
        points = np.array(conn.execute(query).all(), dtype=np.float64).reshape(-1, 2)
        in_force = np.ones(len(points), dtype=bool)
        return cls.build(
            load_units(conn), load_lineage(conn), load_villages(conn), (points[:, 0], points[:, 1], in_force)
        )

    # ------------------------------------------------------------------ units

    def ref(self, unit: UnitRow | None) -> UnitRef | None:
        """The reference shown in results."""
        return None if unit is None else UnitRef(unit.code, unit.name, unit.full_name, unit_level(unit.level))

    def parent(self, unit: UnitRow | None) -> UnitRow | None:
        """A unit's parent, if any."""
        return None if unit is None or unit.parent_id is None else self.units.get(unit.parent_id)

    def earlier(self, ids: set[int], *, after: dt.date | None = None) -> list[UnitRow]:
        """The communes some units came from (one hop back; changes after ``after`` only), by code."""
        found = {
            link.predecessor
            for unit_id in ids
            for link in self.predecessors.get(unit_id, ())
            if after is None or (link.effective_date is not None and link.effective_date > after)
        }
        communes = [self.units[i] for i in found if i in self.units and self.units[i].level == 3]
        return sorted(communes, key=lambda unit: unit.code)

    def old_commune(self, ward: UnitRow, lon: float, lat: float) -> UnitRow | None:
        """The ward's predecessor whose label point is nearest (planar degrees), then by code."""

        def key(unit: UnitRow) -> tuple[bool, float, str]:
            if unit.lon is None or unit.lat is None:
                return True, 0.0, unit.code
            dx, dy = unit.lon - lon, unit.lat - lat
            return False, math.sqrt(dx * dx + dy * dy), unit.code

        return min(self.earlier({ward.id}), key=key, default=None)

    def communes_on(self, commune: UnitRow, at: dt.date) -> list[UnitRow]:
        """The communes in force on ``at`` that a (later) commune came from, through every change."""
        found: dict[int, UnitRow] = {}
        frontier = [commune]
        for _hop in range(MAX_HOPS):
            found.update((unit.id, unit) for unit in frontier if unit.valid_on(at))
            waiting = {unit.id for unit in frontier if not unit.valid_on(at)}
            if not waiting:
                break
            frontier = self.earlier(waiting)
        return sorted(found.values(), key=lambda unit: unit.code)

    def absorbed_note(self, commune: UnitRow, at: dt.date) -> str | None:
        """For a commune in force on ``at``: the communes that joined it later (the point may lie in them)."""
        joined = self.earlier({commune.id}, after=at)
        return absorbed_note(commune.full_name, [(unit.full_name, unit.valid_to) for unit in joined], at)

    def commune_on(self, commune: UnitRow | None, at: dt.date) -> tuple[UnitRow | None, str | None]:
        """The commune in force on ``at`` at a point, and a note (as :func:`geocoder.reverse.commune_on`)."""
        if commune is None:
            return None, None
        found = self.communes_on(commune, at)
        if len(found) == 1:
            return found[0], self.absorbed_note(found[0], at)
        return commune, untraced_note(commune.full_name, [unit.full_name for unit in found], at)

    def province_on(self, at: dt.date) -> UnitRow | None:
        """The province in force on ``at`` (one still in force last)."""
        found = [unit for unit in self.provinces if unit.valid_on(at)]
        return min(found, key=lambda unit: (unit.valid_to is None, unit.valid_to or at), default=None)

    def old_units(
        self, point: shapely.Point, ward: UnitRow, at: dt.date, *, trace: bool
    ) -> tuple[tuple[OldUnit, ...], str | None]:
        """The pre-2025 commune (approximate), district and province at the point on ``at``, and a note."""
        commune, note = self.old_commune(ward, shapely.get_x(point), shapely.get_y(point)), None
        if trace:
            commune, note = self.commune_on(commune, at)
        covering = [unit for unit in self.districts.covering(point) if unit.valid_on(at)]
        district = covering[0] if covering else self.parent(commune)
        province = self.province_on(at)
        units = old_units_of(
            self.ref(commune), self.ref(district), self.ref(province), by_polygon=bool(covering)
        )
        return units, note

    # ------------------------------------------------------------------ places

    def ward_at(self, point: shapely.Point, query: ReverseQuery, connect: Connect) -> tuple[UnitRow, float]:
        """The 2025 ward covering the point (lowest code), else PostGIS's nearest within the margin."""
        covering = self.wards.covering(point)
        if covering:
            return covering[0], 0.0
        lon, lat, margin_m = query.lon, query.lat, query.margin_m
        degrees = self.wards.degrees_to_nearest(point)
        if metres_at_least(degrees, lat) > margin_m:
            raise OutOfTerritoryError(
                f"({lon:g}, {lat:g}) is not in any commune or ward of this database "
                f"(more than {margin_m:g} m from the nearest)",
                lon=lon,
                lat=lat,
            )
        with connect() as conn:
            row, distance = current_ward(conn, point_expression(lon, lat), query=query)
        return self.units[int(row.id)], distance

    def village(self, lon: float, lat: float, radius_m: float) -> NearbyFeature | None:
        """The nearest active village within the radius (the SQL path's candidates and order)."""
        near = [(m, self.villages[row].id, row) for m, row in self.village_points.nearest(lon, lat, radius_m)]
        best = min((item for item in near if item[0] <= radius_m), default=None)
        if best is None:
            return None
        found = self.villages[best[2]]
        return NearbyFeature(f"village:{found.id}", found.name, found.lon, found.lat, best[0])

    def address(
        self, lon: float, lat: float, radius_m: float, connect: Connect, *, fresh: bool = False
    ) -> NearbyFeature | None:
        """The nearest address in force within the radius: from memory when ``fresh``, else the database.

        While the database cannot be reached, the snapshot's arrays decide: no address near in
        them gives None, one near lets the database error stand.
        """
        if fresh and self.store is not None:
            return self.address_in_memory(lon, lat, radius_m)
        try:
            with connect() as conn:
                return nearest_address(conn, point_expression(lon, lat), radius_m)
        except (OperationalError, InterfaceError):
            near = self.address_points.nearest(lon, lat, radius_m)
            if any(metres <= radius_m for metres, _row in near):
                raise
            return None

    def address_in_memory(self, lon: float, lat: float, radius_m: float) -> NearbyFeature | None:
        """The nearest address of the snapshot within the radius (the SQL's candidates, then metres, id)."""
        store = self.store
        if store is None:
            raise ValueError("this reverse index holds address points only, no address arrays")
        near = [
            (metres, int(store.address_id[row]), row)
            for metres, row in self.address_points.nearest(lon, lat, radius_m)
            if metres <= radius_m
        ]
        if not near:
            return None
        metres, address_id, row = min(near)
        return NearbyFeature(
            f"address:{address_id}",
            store.written.name(row),
            float(store.lon[row]),
            float(store.lat[row]),
            metres,
            store.registry_code(row),
        )


def metres_at_least(degrees: float, lat: float) -> float:
    """A lower bound of the metres a planar distance in degrees spans near latitude ``lat``.

    >>> round(metres_at_least(0.1, 21.0))
    10262
    >>> metres_at_least(1.0, 89.5)
    0.0
    """
    top = abs(lat) + degrees
    if top >= 89.0:
        return 0.0
    return degrees * METRES_PER_DEGREE * math.cos(math.radians(top))


@dataclass(frozen=True, slots=True)
class _InMemory:
    """The in-memory path's reads at one point (the database only where the module says)."""

    index: ReverseIndex
    point: shapely.Point
    connect: Connect
    fresh: bool

    def ward(self, query: ReverseQuery) -> tuple[UnitRow, float]:
        return self.index.ward_at(self.point, query, self.connect)

    def ref(self, unit: UnitRow) -> UnitRef | None:
        return self.index.ref(unit)

    def province(self, ward: UnitRow) -> UnitRef | None:
        return self.index.ref(self.index.parent(ward))

    def old_units(
        self, ward: UnitRow, day: dt.date, *, trace: bool
    ) -> tuple[tuple[OldUnit, ...], str | None]:
        return self.index.old_units(self.point, ward, day, trace=trace)

    def village(self, query: ReverseQuery) -> NearbyFeature | None:
        return self.index.village(query.lon, query.lat, query.radius_m)

    def address(self, query: ReverseQuery) -> NearbyFeature | None:
        return self.index.address(query.lon, query.lat, query.radius_m, self.connect, fresh=self.fresh)


def reverse_in_memory(
    index: ReverseIndex, *, query: ReverseQuery, connect: Connect, fresh: bool = False
) -> ReverseResult:
    """What lies at a WGS 84 point, from memory: the answer of :func:`geocoder.reverse.reverse`.

    ``connect`` opens a connection for the rare parts that ask the database (see the module);
    ``fresh``: the index's addresses are known to be the database's, the nearest is read from them.
    Raises OutOfTerritoryError farther than ``query.margin_m`` from every ward, and
    InvalidParameterError for impossible coordinates or distances.
    """
    point = shapely.Point(query.lon, query.lat)
    return reverse_with(_InMemory(index, point, connect, fresh), query)
