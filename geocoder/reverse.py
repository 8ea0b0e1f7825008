"""Reverse geocoding: what lies at a point, in PostGIS.

* The 2025 commune/ward is the polygon that covers the point (``ST_Covers``: a point on a
  shared border belongs to both, and the lower code is chosen so the answer is stable).
* Outside every ward but within ``margin_m`` (default 2 km: GPS noise, a river bank, the
  edge of the data) the nearest ward answers, with ``inside=False`` and its distance.
  Farther out the point is not in the territory this database covers:
  :class:`addresses.errors.OutOfTerritoryError`.
* No pre-2025 commune polygons exist, so the pre-2025 commune is the nearest pre-2025
  commune centre among the ward's predecessors (``unit_lineage``); its district is the
  old district polygon covering the point when one does (else the commune's parent).
* The nearest village and the nearest address within ``radius_m`` come from the GiST
  indexes (KNN ``<->``, then exact distances in metres on the few nearest).
* ``at``: a date before 2025-07-01 makes the units valid on that day the main units. Before
  a 2008-2021 change (reorg_2020.json) the pre-2025 commune is traced back through its
  lineage to the commune valid on that day; when it came from several (merged in 2020)
  no polygon tells which held the point, so the later commune answers with a note naming
  the old ones it absorbed.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import KW_ONLY, dataclass
from typing import Any, Final, Protocol, TypeVar

from sqlalchemy import Connection, Row, and_, func, literal, select
from sqlalchemy.sql.elements import ColumnElement

from addresses.codes import encode, format_location_code
from addresses.datasets import (
    ADDRESSES,
    COMMUNE_LEVEL,
    UNITS,
    VILLAGES,
    in_force_filter,
    is_valid_on,
    unit_valid_at,
)
from addresses.errors import InvalidParameterError, OutOfTerritoryError
from addresses.limits import MAX_HOPS
from addresses.queries import point_expression
from addresses.schema import address, admin_unit, unit_lineage, village
from addresses.types import UnitRef
from addresses.vocabulary import REORGANISATION_2025
from geocoder.results import EXACT, OLD_UNITS_PRECISION, NearbyFeature, OldUnit, ReverseResult
from geocoder.territory import unit_level

AnyRow = Row[*tuple[Any, ...]]
"""A result row of any width."""

REORGANISATION: Final = REORGANISATION_2025
"""The day the 2025 units took over."""
DEFAULT_RADIUS_M: Final = 500.0
MAX_RADIUS_M: Final = 10_000.0
DEFAULT_MARGIN_M: Final = 2_000.0
KNN_CANDIDATES: Final = 8
"""Nearest features by ``<->`` (in degrees) re-ranked by their distance in metres."""


@dataclass(frozen=True, slots=True)
class ReverseQuery:
    """A WGS 84 point to name, and how: radius for village and address, day of the units, margin.

    ``at``: a date before 2025-07-01 makes the units valid on that day the main units.
    ``margin_m``: how far outside every ward a point still gets the nearest one.

    >>> ReverseQuery(105.34, 20.81, radius_m=50.0)
    ReverseQuery(lon=105.34, lat=20.81, radius_m=50.0, at=None, margin_m=2000.0)
    """

    lon: float
    lat: float
    _: KW_ONLY
    radius_m: float = DEFAULT_RADIUS_M
    at: dt.date | None = None
    margin_m: float = DEFAULT_MARGIN_M

    def check(self) -> None:
        """Reject coordinates and distances that make no sense (InvalidParameterError naming the field).

        >>> ReverseQuery(105.3, 20.8, radius_m=0).check()
        Traceback (most recent call last):
        ...
        addresses.errors.InvalidParameterError: radius_m: must be in (0, 10000] metres, got 0
        """
        lon, lat, radius_m, margin_m = self.lon, self.lat, self.radius_m, self.margin_m
        if not (math.isfinite(lon) and -180 <= lon <= 180):
            raise InvalidParameterError("lon", f"must be a longitude in degrees, got {lon}")
        if not (math.isfinite(lat) and -90 <= lat <= 90):
            raise InvalidParameterError("lat", f"must be a latitude in degrees, got {lat}")
        if not 0 < radius_m <= MAX_RADIUS_M:
            raise InvalidParameterError(
                "radius_m", f"must be in (0, {MAX_RADIUS_M:g}] metres, got {radius_m}"
            )
        if not 0 <= margin_m <= MAX_RADIUS_M:
            raise InvalidParameterError(
                "margin_m", f"must be in [0, {MAX_RADIUS_M:g}] metres, got {margin_m}"
            )


def _metres(geom: Any, point: ColumnElement[Any]) -> ColumnElement[Any]:
    """Distance in metres on the spheroid."""
    return func.ST_Distance(func.Geography(geom), func.Geography(point))


def _ref(row: AnyRow | None, prefix: str = "") -> UnitRef | None:
    """A unit reference from a row with code, name, full_name, level columns (optionally prefixed)."""
    if row is None or getattr(row, f"{prefix}code") is None:
        return None
    level = unit_level(int(getattr(row, f"{prefix}level")))
    return UnitRef(
        getattr(row, f"{prefix}code"),
        getattr(row, f"{prefix}name"),
        getattr(row, f"{prefix}full_name"),
        level,
    )


def _unit_columns(unit: Any, prefix: str = "") -> list[ColumnElement[Any]]:
    return [
        unit.c[name].label(f"{prefix}{name}")
        for name in ("id", "code", "name", "full_name", "level", "parent_id")
    ]


def current_ward(conn: Connection, point: ColumnElement[Any], *, query: ReverseQuery) -> tuple[AnyRow, float]:
    """The 2025 ward covering the point, else the nearest within the query's margin (with its distance)."""
    lon, lat, margin_m = query.lon, query.lat, query.margin_m
    current = and_(
        admin_unit.c.level == COMMUNE_LEVEL, in_force_filter(UNITS), admin_unit.c.geom.is_not(None)
    )
    covering = select(*_unit_columns(admin_unit), literal(0.0).label("distance")).where(
        current, func.ST_Covers(admin_unit.c.geom, point)
    )
    row = conn.execute(covering.order_by(admin_unit.c.code).limit(1)).first()
    if row is not None:
        return row, 0.0
    distance = _metres(admin_unit.c.geom, point)
    near = select(*_unit_columns(admin_unit), distance.label("distance")).where(
        current, func.ST_DWithin(func.Geography(admin_unit.c.geom), func.Geography(point), margin_m)
    )
    row = conn.execute(near.order_by(distance).limit(1)).first()
    if row is None:
        raise OutOfTerritoryError(
            f"({lon:g}, {lat:g}) is not in any commune or ward of this database "
            f"(more than {margin_m:g} m from the nearest)",
            lon=lon,
            lat=lat,
        )
    return row, float(row.distance)


def _province(conn: Connection, ward: AnyRow) -> UnitRef | None:
    """The province of a 2025 ward (its parent)."""
    if ward.parent_id is None:
        return None
    row = conn.execute(select(*_unit_columns(admin_unit)).where(admin_unit.c.id == ward.parent_id)).first()
    return _ref(row)


def _first(conn: Connection, query: Any) -> AnyRow | None:
    return conn.execute(query.limit(1)).first()


def _old_commune(conn: Connection, ward_id: int, point: ColumnElement[Any]) -> AnyRow | None:
    """The predecessor of the ward whose centre is nearest the point (one without a centre last)."""
    old = admin_unit.alias("old")
    query = (
        select(*_unit_columns(old))
        .select_from(unit_lineage.join(old, old.c.id == unit_lineage.c.predecessor_id))
        .where(unit_lineage.c.successor_id == ward_id, old.c.level == 3)
        .order_by(func.ST_Distance(old.c.label_point, point).nulls_last(), old.c.code)
    )
    return _first(conn, query)


def _district(
    conn: Connection, point: ColumnElement[Any], at: dt.date, commune: AnyRow | None
) -> tuple[AnyRow | None, bool]:
    """The district in force on ``at`` covering the point (and True), else the old commune's parent."""
    unit = admin_unit
    covering = select(*_unit_columns(unit)).where(
        unit.c.level == 2, unit_valid_at(at, table=unit), func.ST_Covers(unit.c.geom, point)
    )
    row = _first(conn, covering.order_by(unit.c.code))
    if row is not None:
        return row, True
    if commune is not None and commune.parent_id is not None:
        return _first(conn, select(*_unit_columns(unit)).where(unit.c.id == commune.parent_id)), False
    return None, False


def _old_province(conn: Connection, at: dt.date) -> AnyRow | None:
    """The province in force on ``at`` (old Hòa Bình before 2025-07-01)."""
    unit = admin_unit
    query = select(*_unit_columns(unit)).where(unit.c.level == 1, unit_valid_at(at, table=unit))
    return _first(conn, query.order_by(unit.c.valid_to.nulls_last()))


DISTRICT_POLYGON: Final = "exact (the old district polygon covering the point)"


def _dated(conn: Connection, ids: list[int]) -> list[AnyRow]:
    """Units by id, with their validity."""
    unit = admin_unit
    query = select(*_unit_columns(unit), unit.c.valid_from, unit.c.valid_to).where(unit.c.id.in_(ids))
    return list(conn.execute(query.order_by(unit.c.code)))


def _earlier(conn: Connection, ids: list[int]) -> list[AnyRow]:
    """The communes some communes came from (one hop back), with their validity."""
    found = select(unit_lineage.c.predecessor_id).where(unit_lineage.c.successor_id.in_(ids))
    rows = _dated(conn, list(conn.execute(found).scalars()))
    return [row for row in rows if row.level == 3]


def _communes_on(conn: Connection, commune: AnyRow, at: dt.date) -> list[AnyRow]:
    """The communes in force on ``at`` that a (later) commune came from, through every change."""
    found: dict[int, AnyRow] = {}
    frontier = _dated(conn, [int(commune.id)])
    for _hop in range(MAX_HOPS):
        found.update((int(row.id), row) for row in frontier if is_valid_on(row.valid_from, row.valid_to, at))
        waiting = [int(row.id) for row in frontier if not is_valid_on(row.valid_from, row.valid_to, at)]
        if not waiting:
            break
        frontier = _earlier(conn, waiting)
    return sorted(found.values(), key=lambda row: row.code)


def absorbed_note(full_name: str, joined: list[tuple[str, dt.date | None]], at: dt.date) -> str | None:
    """The note on a commune in force on ``at`` that absorbed others later: the point may lie in them.

    ``joined``: the name and last day of each commune it absorbed after ``at``.

    >>> absorbed_note("Xã A", [], dt.date(2019, 6, 1)) is None
    True
    >>> absorbed_note("Xã A", [("Xã B", dt.date(2019, 12, 31))], dt.date(2019, 6, 1))
    'Xã A later absorbed Xã B (until 2019-12-31); on 2019-06-01 the point may have been in one of them'
    """
    if not joined:
        return None
    names = ", ".join(f"{name} (until {valid_to})" for name, valid_to in joined)
    return f"{full_name} later absorbed {names}; on {at} the point may have been in one of them"


def untraced_note(full_name: str, earlier: list[str], at: dt.date) -> str:
    """The note on a commune not traced to one commune in force on ``at``: none recorded, or several merged.

    >>> untraced_note("Xã A", [], dt.date(2019, 6, 1))
    'no commune in force on 2019-06-01 is recorded for Xã A'
    >>> untraced_note("Xã A", ["Xã B", "Xã C"], dt.date(2019, 6, 1)).split("; ")[0]
    'on 2019-06-01 this area was in one of Xã B, Xã C, later merged into Xã A'
    """
    if not earlier:
        return f"no commune in force on {at} is recorded for {full_name}"
    return (
        f"on {at} this area was in one of {', '.join(earlier)}, later merged into {full_name}; "
        "no polygons of them exist to tell which held the point"
    )


def _absorbed_note(conn: Connection, commune: AnyRow, at: dt.date) -> str | None:
    """For a commune in force on ``at``: the communes that joined it later (the point may lie in them)."""
    line = unit_lineage.c
    later = select(line.predecessor_id).where(line.successor_id == commune.id, line.effective_date > at)
    joined = [row for row in _dated(conn, list(conn.execute(later).scalars())) if row.level == 3]
    return absorbed_note(commune.full_name, [(row.full_name, row.valid_to) for row in joined], at)


def commune_on(conn: Connection, commune: AnyRow | None, at: dt.date) -> tuple[AnyRow | None, str | None]:
    """The commune in force on ``at`` at a point, from the pre-2025 commune there, and a note.

    One commune in force then: it (renamed or moved since: the same place). Several (merged
    since): the later commune, with a note naming them (no polygons of them exist).
    """
    if commune is None:
        return None, None
    found = _communes_on(conn, commune, at)
    if len(found) == 1:
        return found[0], _absorbed_note(conn, found[0], at)
    return commune, untraced_note(commune.full_name, [row.full_name for row in found], at)


def old_units_of(
    commune: UnitRef | None, district: UnitRef | None, province: UnitRef | None, *, by_polygon: bool
) -> tuple[OldUnit, ...]:
    """The pre-2025 units found at a point, each with how sure it is (``by_polygon``: the district's polygon
    covers the point).

    >>> [unit.precision for unit in old_units_of(None, UnitRef("148", "Kỳ Sơn", "Huyện Kỳ Sơn", "district"),
    ...                                           None, by_polygon=True)] == [DISTRICT_POLYGON]
    True
    """
    found = [
        (commune, OLD_UNITS_PRECISION),
        (district, DISTRICT_POLYGON if by_polygon else OLD_UNITS_PRECISION),
        (province, EXACT),
    ]
    return tuple(
        OldUnit(unit.code, unit.name, unit.full_name, unit.level, precision)
        for unit, precision in found
        if unit
    )


def _old_units(
    conn: Connection, point: ColumnElement[Any], ward: AnyRow, at: dt.date, *, trace: bool
) -> tuple[tuple[OldUnit, ...], str | None]:
    """The pre-2025 commune (approximate), district and province at the point on ``at``, and a note.

    ``trace``: follow the commune back to ``at`` (a date was asked). A few small queries:
    PostgreSQL plans them far faster than one query of laterals.
    """
    commune, note = _old_commune(conn, int(ward.id), point), None
    if trace:
        commune, note = commune_on(conn, commune, at)
    district, by_polygon = _district(conn, point, at, commune)
    province = _old_province(conn, at)
    return old_units_of(_ref(commune), _ref(district), _ref(province), by_polygon=by_polygon), note


DEGREES_PER_METRE: Final = 1 / 100_000
"""More degrees than a metre spans here (1 deg of longitude is >100 km below 25 deg N): a safe box."""


@dataclass(frozen=True)
class Nearby:
    """What a nearest-feature search looks in: a table, the name it shows, which rows, extra columns."""

    table: Any
    name: ColumnElement[Any]
    where: ColumnElement[bool]
    extra: tuple[ColumnElement[Any], ...] = ()


def _nearest(conn: Connection, point: ColumnElement[Any], radius_m: float, *, of: Nearby) -> AnyRow | None:
    """The nearest feature of a table within ``radius_m``: GiST box and KNN ``<->``, then exact metres."""
    table = of.table
    distance = _metres(table.c.geom, point)
    surface = func.ST_PointOnSurface(table.c.geom)
    box = func.ST_Expand(point, radius_m * DEGREES_PER_METRE)
    query = (
        select(
            table.c.id,
            of.name.label("name"),
            func.ST_X(surface).label("lon"),
            func.ST_Y(surface).label("lat"),
            distance.label("distance"),
            *of.extra,
        )
        .where(of.where, table.c.geom.op("&&")(box))
        .order_by(table.c.geom.op("<->")(point))
        .limit(KNN_CANDIDATES)
    )
    rows = [row for row in conn.execute(query) if float(row.distance) <= radius_m]
    return min(rows, key=lambda row: (float(row.distance), row.id), default=None)


def _village(conn: Connection, point: ColumnElement[Any], radius_m: float) -> NearbyFeature | None:
    """The nearest active village within the radius."""
    villages = Nearby(village, village.c.name, in_force_filter(VILLAGES))
    row = _nearest(conn, point, radius_m, of=villages)
    if row is None:
        return None
    return NearbyFeature(f"village:{row.id}", row.name, float(row.lon), float(row.lat), float(row.distance))


def nearest_address(conn: Connection, point: ColumnElement[Any], radius_m: float) -> NearbyFeature | None:
    """The nearest address in force within the radius."""
    name = func.concat_ws(
        ", ", address.c.house_number, address.c.alley, address.c.street, address.c.village_name
    )
    addresses = Nearby(address, name, in_force_filter(ADDRESSES), extra=(address.c.registry_code,))
    row = _nearest(conn, point, radius_m, of=addresses)
    if row is None:
        return None
    return NearbyFeature(
        f"address:{row.id}",
        row.name or "",
        float(row.lon),
        float(row.lat),
        float(row.distance),
        row.registry_code,
    )


def _label(*parts: str | None) -> str:
    return ", ".join(part for part in parts if part)


def dated_day(at: dt.date | None) -> tuple[dt.date, bool]:
    """The day whose pre-2025 units answer, and whether a date before the reorganisation was asked.

    >>> dated_day(None)
    (datetime.date(2025, 6, 30), False)
    >>> dated_day(dt.date(2019, 6, 1))
    (datetime.date(2019, 6, 1), True)
    """
    dated = at is not None and at < REORGANISATION
    return (at if dated and at is not None else REORGANISATION - dt.timedelta(days=1)), dated


@dataclass(frozen=True, slots=True)
class Found:
    """What either path (database or memory) found at a point, before it becomes a result."""

    ward: UnitRef
    province: UnitRef | None
    distance_m: float
    old_units: tuple[OldUnit, ...]
    note: str | None
    village: NearbyFeature | None
    address: NearbyFeature | None


def reverse_result(query: ReverseQuery, found: Found) -> ReverseResult:
    """The result both paths answer: units of the asked day, label, location code."""
    lon, lat, at = query.lon, query.lat, query.at
    if at is not None and at < REORGANISATION:
        units = tuple(UnitRef(unit.code, unit.name, unit.full_name, unit.level) for unit in found.old_units)
    else:
        units = tuple(unit for unit in (found.ward, found.province) if unit is not None)
    code = encode(lon, lat)
    near_village = found.village
    return ReverseResult(
        lon=lon,
        lat=lat,
        at=at,
        current_unit=found.ward,
        current_province=found.province,
        units=units,
        old_units=found.old_units,
        old_units_precision=OLD_UNITS_PRECISION,
        location_code=code,
        location_code_display=format_location_code(code),
        label=_label(near_village.name if near_village else None, *(unit.full_name for unit in units)),
        inside=found.distance_m == 0.0,
        distance_m=found.distance_m,
        village=near_village,
        address=found.address,
        note=found.note,
    )


U = TypeVar("U")
"""A 2025 ward as a path holds it: a database row, or a unit of the in-memory index."""


class PointReader(Protocol[U]):
    """What a reverse path reads at one point: from the database, or from the in-memory index."""

    def ward(self, query: ReverseQuery) -> tuple[U, float]:
        """The 2025 ward covering the point, else the nearest within the margin, and its distance (m)."""
        ...

    def ref(self, unit: U) -> UnitRef | None:
        """A unit as results show it."""
        ...

    def province(self, ward: U) -> UnitRef | None:
        """The ward's province."""
        ...

    def old_units(self, ward: U, day: dt.date, *, trace: bool) -> tuple[tuple[OldUnit, ...], str | None]:
        """The pre-2025 units at the point on ``day`` (``trace``: a date was asked), and a note."""
        ...

    def village(self, query: ReverseQuery) -> NearbyFeature | None:
        """The nearest active village within the radius."""
        ...

    def address(self, query: ReverseQuery) -> NearbyFeature | None:
        """The nearest address in force within the radius."""
        ...


def reverse_with(reader: PointReader[U], query: ReverseQuery) -> ReverseResult:
    """What lies at the query's point, read by either path: the steps both take, in one place.

    Raises InvalidParameterError for impossible coordinates or distances (before anything is
    read), OutOfTerritoryError farther than the margin from every ward.
    """
    query.check()
    ward, distance = reader.ward(query)
    old_day, dated = dated_day(query.at)
    old_units, note = reader.old_units(ward, old_day, trace=dated)
    current = reader.ref(ward)
    assert current is not None
    found = Found(
        ward=current,
        province=reader.province(ward),
        distance_m=distance,
        old_units=old_units,
        note=note,
        village=reader.village(query),
        address=reader.address(query),
    )
    return reverse_result(query, found)


@dataclass(frozen=True, slots=True)
class _InDatabase:
    """The database path's reads at one point (a few small PostGIS queries each)."""

    conn: Connection
    point: ColumnElement[Any]

    def ward(self, query: ReverseQuery) -> tuple[AnyRow, float]:
        return current_ward(self.conn, self.point, query=query)

    def ref(self, unit: AnyRow) -> UnitRef | None:
        return _ref(unit)

    def province(self, ward: AnyRow) -> UnitRef | None:
        return _province(self.conn, ward)

    def old_units(self, ward: AnyRow, day: dt.date, *, trace: bool) -> tuple[tuple[OldUnit, ...], str | None]:
        return _old_units(self.conn, self.point, ward, day, trace=trace)

    def village(self, query: ReverseQuery) -> NearbyFeature | None:
        return _village(self.conn, self.point, query.radius_m)

    def address(self, query: ReverseQuery) -> NearbyFeature | None:
        return nearest_address(self.conn, self.point, query.radius_m)


def reverse(conn: Connection, *, query: ReverseQuery) -> ReverseResult:
    """What lies at a WGS 84 point, asked of the database: 2025 ward, pre-2025 units, village, address, code.

    ``diachiso reverse`` (one point) asks here; the API answers from memory
    (:func:`geocoder.reverse_memory.reverse_in_memory`, the same answers, which the tests compare).
    Raises OutOfTerritoryError farther than ``query.margin_m`` from every ward, and
    InvalidParameterError for impossible coordinates or distances.
    """
    return reverse_with(_InDatabase(conn, point_expression(query.lon, query.lat)), query)
