"""Read what the geocoder index is built from: units, lineage, villages, places, addresses.

Each function takes a connection and returns plain rows (or, for the address table that
may hold millions of rows, a pandas frame streamed with COPY). :func:`fingerprint` says
cheaply whether any of it changed.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import pandas as pd
import shapely
from psycopg import sql
from sqlalchemy import Connection, Select, Table, func, inspect, literal, select

from addresses.datasets import (
    ADDRESSES,
    DATASETS,
    PLACES,
    VILLAGES,
    in_force_filter,
    is_valid_on,
    public_filter,
)
from addresses.schema import address, admin_unit, place, unit_lineage, village
from addresses.types import LineageRow

PLACE_NAME_TAGS: Final = ("name", "name:vi", "name:en", "alt_name", "old_name", "short_name", "official_name")
"""Tags whose values name a place (the first non-empty one is its display name)."""

VILLAGE_NAME_KEYS: Final = ("name", "gn_name", "gn_asciiname")
"""Fields of a village's raw record that hold other spellings of its name."""

REORG_SOURCE: Final = "reorg_2020"
"""The source whose raw record of a unit may list ``name_variants`` (other spellings)."""


@dataclass(frozen=True, slots=True)
class UnitRow:
    """An administrative unit of any level and period, with a point and (maybe) its polygon."""

    id: int
    code: str
    level: int
    unit_type: str
    name: str
    full_name: str
    parent_id: int | None
    valid_from: dt.date | None
    valid_to: dt.date | None
    lon: float | None
    lat: float | None
    geom: shapely.Geometry | None
    geom_quality: str | None
    name_variants: tuple[str, ...] = ()
    """Other spellings of the full name the sources recorded (e.g. "Xã Noong Luông")."""

    @property
    def is_current(self) -> bool:
        """Whether the unit is in force today (no end date)."""
        return self.valid_to is None

    def valid_on(self, at: dt.date) -> bool:
        """Whether the unit was in force on ``at`` (an unknown start counts as "always")."""
        return is_valid_on(self.valid_from, self.valid_to, at)


@dataclass(frozen=True, slots=True)
class VillageRow:
    """An active village as a point, with the spellings its source gave."""

    id: int
    name: str
    village_type: str | None
    commune_id: int | None
    lon: float
    lat: float
    other_names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PlaceRow:
    """An active point of interest with its names and address tags."""

    id: int
    names: tuple[str, ...]
    category: str
    kind: str
    house_number: str | None
    street: str | None
    city: str | None
    commune_id: int | None
    lon: float
    lat: float


def _point(geom: Any) -> tuple[Any, Any]:
    """Longitude and latitude expressions of a point geometry."""
    return func.ST_X(geom), func.ST_Y(geom)


def load_units(conn: Connection) -> list[UnitRow]:
    """Every administrative unit; the point is the label point, else a point on the polygon."""
    point = func.coalesce(admin_unit.c.label_point, func.ST_PointOnSurface(admin_unit.c.geom))
    lon, lat = _point(point)
    query = select(
        admin_unit.c.id,
        admin_unit.c.code,
        admin_unit.c.level,
        admin_unit.c.unit_type,
        admin_unit.c.name,
        admin_unit.c.full_name,
        admin_unit.c.parent_id,
        admin_unit.c.valid_from,
        admin_unit.c.valid_to,
        lon,
        lat,
        func.ST_AsBinary(admin_unit.c.geom),
        admin_unit.c.geom_quality,
        admin_unit.c.raw[REORG_SOURCE]["name_variants"],
    ).order_by(admin_unit.c.id)
    rows = []
    for row in conn.execute(query):
        geom = None if row[11] is None else shapely.from_wkb(bytes(row[11]))
        variants = tuple(v for v in row[13] or () if isinstance(v, str) and v.strip())
        rows.append(UnitRow(*row[:9], _float(row[9]), _float(row[10]), geom, row[12], variants))
    return rows


def _float(value: object) -> float | None:
    """A float, or None for NULL."""
    return None if value is None else float(value)  # type: ignore[arg-type]


def load_lineage(conn: Connection) -> list[LineageRow[int]]:
    """Every old unit -> new unit link (a unit that left the province has none here)."""
    line = unit_lineage.c
    query = select(
        line.predecessor_id, line.successor_id, line.kind, line.confidence, line.effective_date
    ).where(line.successor_id.is_not(None))
    return [LineageRow(*row) for row in conn.execute(query.order_by(line.id))]


def _texts(record: Any, keys: Sequence[str]) -> tuple[str, ...]:
    """The non-empty string values of ``keys`` in a JSON record, in order, without repeats."""
    if not isinstance(record, dict):
        return ()
    found: list[str] = []
    for key in keys:
        value = record.get(key)
        if isinstance(value, str) and value.strip() and value.strip() not in found:
            found.append(value.strip())
    return tuple(found)


def load_villages(conn: Connection) -> list[VillageRow]:
    """Active villages, as points (a polygon village gives a point on its surface)."""
    lon, lat = _point(func.ST_PointOnSurface(village.c.geom))
    query = (
        select(
            village.c.id,
            village.c.name,
            village.c.village_type,
            village.c.commune_id,
            lon,
            lat,
            village.c.raw,
        )
        .where(in_force_filter(VILLAGES))
        .order_by(village.c.id)
    )
    return [
        VillageRow(*row[:4], float(row[4]), float(row[5]), _texts(row[6], VILLAGE_NAME_KEYS))
        for row in conn.execute(query)
    ]


def load_places(conn: Connection) -> list[PlaceRow]:
    """Active places with their names (column and name tags) and address tags."""
    lon, lat = _point(place.c.geom)
    query = (
        select(
            place.c.id,
            place.c.name,
            place.c.tags,
            place.c.category,
            place.c.kind,
            place.c.house_number,
            place.c.street,
            place.c.commune_id,
            lon,
            lat,
        )
        .where(in_force_filter(PLACES))
        .order_by(place.c.id)
    )
    rows = []
    for row in conn.execute(query):
        tags = row[2] if isinstance(row[2], dict) else {}
        names = _texts({"": row[1], **tags}, ("", *PLACE_NAME_TAGS))
        city = _texts(tags, ("addr:city",))
        street = row[6] or next(iter(_texts(tags, ("addr:street",))), None)
        house = row[5] or next(iter(_texts(tags, ("addr:housenumber",))), None)
        rows.append(
            PlaceRow(
                row[0],
                names,
                row[3],
                row[4],
                house,
                street,
                city[0] if city else None,
                row[7],
                float(row[8]),
                float(row[9]),
            )
        )
    return rows


ADDRESS_COLUMNS: Final = (
    "id",
    "commune_id",
    "street",
    "village_name",
    "house_number",
    "alley",
    "lon",
    "lat",
    "registry_code",
    "status",
    "successor_id",
)


def address_query() -> Select[Any]:
    """Every public address (retired ones too, to lead to their successors): :data:`ADDRESS_COLUMNS`."""
    lon, lat = _point(address.c.geom)
    return (
        select(
            address.c.id,
            address.c.commune_id,
            address.c.street,
            address.c.village_name,
            address.c.house_number,
            address.c.alley,
            lon.label("lon"),
            lat.label("lat"),
            address.c.registry_code,
            address.c.status,
            address.c.successor_id,
        )
        .where(public_filter(ADDRESSES))
        .order_by(address.c.id)
    )


_ADDRESS_DTYPES: Final = {
    "id": "int64",
    "commune_id": "Int64",
    "street": "string",
    "village_name": "string",
    "house_number": "string",
    "alley": "string",
    "lon": "float64",
    "lat": "float64",
    "registry_code": "string",
    "status": "category",
    "successor_id": "Int64",
}


def load_addresses(conn: Connection) -> pd.DataFrame:
    """Every address as a frame, streamed with COPY (a million rows take about a second)."""
    compiled = address_query().compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
    statement = sql.SQL("COPY ({}) TO STDOUT (FORMAT csv)").format(sql.SQL(str(compiled)))
    raw = conn.connection.driver_connection
    assert raw is not None
    buffer = io.BytesIO()
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for chunk in copy:
            buffer.write(chunk)
    buffer.seek(0)
    if not buffer.getbuffer().nbytes:
        return pd.DataFrame({name: pd.Series(dtype=kind) for name, kind in _ADDRESS_DTYPES.items()})
    return pd.read_csv(
        buffer, names=list(ADDRESS_COLUMNS), dtype=_ADDRESS_DTYPES, keep_default_na=False, na_values=[""]
    )


# ---------------------------------------------------------------------------- changes

CHANGE_LOG: Final = "tile_invalidation"
"""The change log writers append to (when its migration is applied)."""


def _table_state(conn: Connection, table: Table) -> tuple[Any, ...]:
    """Row count, largest id and latest update of a small table (one cheap scan)."""
    columns: list[Any] = [func.count(), func.max(table.c.id)]
    columns.append(func.max(table.c.updated_at) if "updated_at" in table.c else literal(None))
    return tuple(conn.execute(select(*columns).select_from(table)).one())


def _max_id(conn: Connection, table: Table) -> Any:
    """The largest id of a table (its primary key index answers it at once)."""
    return conn.execute(select(func.max(table.c.id))).scalar()


def has_change_log(conn: Connection) -> bool:
    """Whether the change log table exists in this database."""
    return bool(inspect(conn).has_table(CHANGE_LOG))


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What the index was built from, in a few numbers: equal fingerprints, same data.

    ``small`` covers units, lineage, villages and places (counted and scanned: they are
    small); ``addresses`` only reads primary keys (largest address id, largest history
    id, largest change-log id), so it stays cheap with millions of rows: inserts show in
    the address id, edits and retirements in the history and the change log.
    """

    small: tuple[Any, ...]
    addresses: tuple[Any, ...]


def fingerprint(conn: Connection, *, change_log: Table | None = None) -> Fingerprint:
    """The current fingerprint of the data (a handful of index look-ups and small scans).

    Datasets that keep a history of their rows (addresses) are read by primary keys only.
    """
    small = tuple(_table_state(conn, table) for table in small_tables())
    return Fingerprint(small, address_marks(conn, change_log=change_log))


def address_marks(conn: Connection, *, change_log: Table | None = None) -> tuple[Any, ...]:
    """The large part of the fingerprint alone: the largest ids of the datasets with a history."""
    large = tuple(_max_id(conn, table) for table in large_tables())
    log = None if change_log is None else _max_id(conn, change_log)
    return (*large, log)


def small_tables() -> tuple[Table, ...]:
    """The tables the fingerprint counts and scans: datasets without a history, and unit lineage."""
    return (*(spec.table for spec in DATASETS.values() if spec.history_table is None), unit_lineage)


def large_tables() -> tuple[Table, ...]:
    """The tables the fingerprint reads the largest id of: datasets with a history, and their history."""
    return tuple(
        table
        for spec in DATASETS.values()
        if spec.history_table is not None
        for table in (spec.table, spec.history_table)
    )
