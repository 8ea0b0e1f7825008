"""Read queries on the data model: ``fn(conn, *, ...)`` returning plain typed results."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from alembic.runtime.migration import MigrationContext
from sqlalchemy import (
    ColumnElement,
    Connection,
    FromClause,
    RowMapping,
    ScalarSelect,
    Select,
    and_,
    func,
    select,
    true,
)
from sqlalchemy.sql.selectable import LateralFromClause

from addresses.codes import ALPHABET, MAX_LENGTH, format_location_code, format_registry_code
from addresses.datasets import ADDRESS_PARTS
from addresses.schema import SRID, address, admin_unit, place, unit_lineage, village
from addresses.types import DEFAULT_STATUS, Status, UnitLevel, UnitRef

COUNTED_TABLES = (admin_unit, unit_lineage, village, place, address)


def schema_revision(conn: Connection) -> str | None:
    """The Alembic revision the database is at."""
    return MigrationContext.configure(conn).get_current_revision()


def table_counts(conn: Connection) -> dict[str, int]:
    """Rows per main table."""
    return {
        t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one()) for t in COUNTED_TABLES
    }


# ------------------------------------------------------------------ communes


COMMUNE_MARGIN_DEG: Final = 0.02
"""How far outside every commune polygon a point may lie and still get the nearest one."""


def current_commune_for_point(
    point: ColumnElement[Any], *, max_distance_deg: float = COMMUNE_MARGIN_DEG
) -> ScalarSelect[Any]:
    """Return the id of the current commune/ward containing a point, else the nearest within the margin."""
    units = admin_unit.alias("current_unit")
    current = (units.c.level == 3) & units.c.valid_to.is_(None) & units.c.geom.is_not(None)
    return (
        select(units.c.id)
        .where(current, func.ST_DWithin(units.c.geom, point, max_distance_deg))
        .order_by(func.ST_Distance(units.c.geom, point))
        .limit(1)
        .scalar_subquery()
    )


def point_expression(lon: float, lat: float) -> ColumnElement[Any]:
    """Return a WGS84 point as a PostGIS expression."""
    return func.ST_SetSRID(func.ST_MakePoint(lon, lat), SRID)


# ------------------------------------------------------------------ address records


@dataclass(frozen=True, slots=True)
class AddressRecord:
    """One address of the registry, with both codes (canonical and grouped) and its units.

    ``commune`` and ``province`` are the current (2025) units; ``old_commune`` and
    ``old_district`` the pre-2025 ones: the nearest former commune among those that
    became ``commune`` (a guess where an old commune was split).
    """

    id: int
    registry_code: str
    registry_code_display: str
    location_code: str
    location_code_display: str
    house_number: str | None
    alley: str | None
    street: str | None
    village_name: str | None
    commune: UnitRef | None
    province: UnitRef | None
    old_commune: UnitRef | None
    old_district: UnitRef | None
    status: Status
    version: int
    lon: float
    lat: float
    successor_id: int | None
    retired_at: datetime | None
    created_at: datetime
    updated_at: datetime
    source: str
    is_generated: bool

    @property
    def label(self) -> str:
        """Return the address written out in Vietnamese, smallest part first."""
        return format_address(
            AddressParts(
                house_number=self.house_number,
                alley=self.alley,
                street=self.street,
                village_name=self.village_name,
                commune=self.commune.full_name if self.commune else None,
                province=self.province.full_name if self.province else None,
            )
        )


_ALLEY_WORDS: Final = ("ngõ", "ngách", "hẻm", "kiệt")


def _house_part(house_number: str) -> str:
    """Prefix a house number with "Số" unless it already says so.

    >>> _house_part("12A"), _house_part("số 7")
    ('Số 12A', 'số 7')
    """
    return house_number if house_number.casefold().startswith("số") else f"Số {house_number}"


def _alley_part(alley: str) -> str:
    """Prefix an alley with "ngõ" unless it already names its kind (ngõ, ngách, hẻm, kiệt).

    >>> _alley_part("3"), _alley_part("Ngách 5/12")
    ('ngõ 3', 'Ngách 5/12')
    """
    return alley if alley.casefold().startswith(_ALLEY_WORDS) else f"ngõ {alley}"


@dataclass(frozen=True, slots=True)
class AddressParts:
    """The parts of an address as written, smallest first; None where a part is missing."""

    house_number: str | None = None
    alley: str | None = None
    street: str | None = None
    village_name: str | None = None
    commune: str | None = None
    province: str | None = None


def format_address(address: AddressParts) -> str:
    """Write an address the Vietnamese way, smallest part first, leaving out missing parts.

    >>> format_address(AddressParts(house_number="12A", alley="3", village_name="Xóm Lác",
    ...                             commune="Xã Mai Châu", province="Tỉnh Phú Thọ"))
    'Số 12A, ngõ 3, Xóm Lác, Xã Mai Châu, Tỉnh Phú Thọ'
    >>> format_address(AddressParts(street="Trần Hưng Đạo", commune="Phường Hòa Bình"))
    'Trần Hưng Đạo, Phường Hòa Bình'
    """
    house_number, alley = address.house_number, address.alley
    parts = [
        _house_part(house_number) if house_number else None,
        _alley_part(alley) if alley else None,
        address.street,
        address.village_name,
        address.commune,
        address.province,
    ]
    return ", ".join(part.strip() for part in parts if part and part.strip())


def _old_units() -> LateralFromClause:
    """The former commune nearest to the address among those that became its commune, and its district."""
    old, district = admin_unit.alias("old_commune"), admin_unit.alias("old_district")
    place = func.coalesce(old.c.geom, old.c.label_point)
    return (
        select(
            old.c.code.label("old_commune_code"),
            old.c.name.label("old_commune_name"),
            old.c.full_name.label("old_commune_full_name"),
            district.c.code.label("old_district_code"),
            district.c.name.label("old_district_name"),
            district.c.full_name.label("old_district_full_name"),
        )
        .select_from(
            unit_lineage.join(old, old.c.id == unit_lineage.c.predecessor_id).outerjoin(
                district, (district.c.id == old.c.parent_id) & (district.c.level == 2)
            )
        )
        .where(unit_lineage.c.successor_id == address.c.commune_id, old.c.level == 3)
        .order_by(func.ST_Distance(place, address.c.geom).nulls_last(), old.c.code)
        .limit(1)
        .lateral("old_units")
    )


def _unit_columns(unit: FromClause, prefix: str) -> list[ColumnElement[Any]]:
    """The code, name and full name of a unit alias, labelled with a prefix."""
    return [unit.c[name].label(f"{prefix}_{name}") for name in ("code", "name", "full_name")]


def address_records_query() -> Select[Any]:
    """Return the select of address records (with codes) and their units; add ``where`` to it."""
    commune, province = admin_unit.alias("commune"), admin_unit.alias("province")
    old = _old_units()
    return (
        select(
            *(address.c[name] for name in _ADDRESS_COLUMNS),
            func.ST_X(address.c.geom).label("lon"),
            func.ST_Y(address.c.geom).label("lat"),
            *_unit_columns(commune, "commune"),
            *_unit_columns(province, "province"),
            *old.c,
        )
        .select_from(
            address.outerjoin(commune, commune.c.id == address.c.commune_id)
            .outerjoin(province, province.c.id == commune.c.parent_id)
            .outerjoin(old, true())
        )
        .where(address.c.registry_code.is_not(None), address.c.location_code.is_not(None))
    )


_ADDRESS_COLUMNS: Final = (
    "id",
    "registry_code",
    "location_code",
    *ADDRESS_PARTS,
    "status",
    "version",
    "successor_id",
    "retired_at",
    "created_at",
    "updated_at",
    "source",
    "is_generated",
)


def _unit_ref(row: RowMapping, prefix: str) -> UnitRef | None:
    """The unit whose columns carry ``prefix``, or None when the row has none."""
    code = row[f"{prefix}_code"]
    if code is None:
        return None
    level = _PREFIX_LEVELS[prefix]
    return UnitRef(code=code, name=row[f"{prefix}_name"], full_name=row[f"{prefix}_full_name"], level=level)


_PREFIX_LEVELS: Final[dict[str, UnitLevel]] = {
    "commune": "commune",
    "province": "province",
    "old_commune": "commune",
    "old_district": "district",
}
"""The level of the unit each column prefix of ``address_records_query`` names."""


def address_record_from_row(row: RowMapping) -> AddressRecord:
    """Build an AddressRecord from a row of ``address_records_query``."""
    fields = {name: row[name] for name in _ADDRESS_COLUMNS}
    return AddressRecord(
        **fields,
        commune=_unit_ref(row, "commune"),
        province=_unit_ref(row, "province"),
        old_commune=_unit_ref(row, "old_commune"),
        old_district=_unit_ref(row, "old_district"),
        registry_code_display=format_registry_code(row["registry_code"]),
        location_code_display=format_location_code(row["location_code"]),
        lon=float(row["lon"]),
        lat=float(row["lat"]),
    )


def address_records(conn: Connection, *, ids: Sequence[int]) -> list[AddressRecord]:
    """Return the address records of ``ids`` in that order (unknown ids are left out)."""
    rows = conn.execute(address_records_query().where(address.c.id.in_(list(ids)))).mappings()
    found = {record.id: record for record in map(address_record_from_row, rows)}
    return [found[i] for i in ids if i in found]


def address_by_registry_code(conn: Connection, code: str) -> AddressRecord | None:
    """Return the address of a canonical registry code, or None when it was never issued."""
    row = conn.execute(address_records_query().where(address.c.registry_code == code)).mappings().first()
    return None if row is None else address_record_from_row(row)


def in_cell(code: str) -> ColumnElement[bool]:
    """Return the condition "address location code lies in the cell of a canonical code".

    A full code (8 data characters + check) matches exactly; a shorter one matches
    the full codes starting with its data characters, as a range the btree index
    answers in any collation (the alphabet sorts the same in all of them).
    """
    data = code[:-1]
    if len(data) == MAX_LENGTH:
        return address.c.location_code == code
    column = address.c.location_code
    last = data + ALPHABET[-1] * (MAX_LENGTH + 1 - len(data))
    return and_(column >= data, column <= last, column.startswith(data, autoescape=True))


def addresses_in_cell(
    conn: Connection, *, code: str, limit: int, status: Status | None = DEFAULT_STATUS
) -> list[AddressRecord]:
    """Return up to ``limit`` addresses (of one status; None: any) in the cell of a canonical code."""
    query = address_records_query().where(in_cell(code))
    if status is not None:
        query = query.where(address.c.status == status)
    rows = conn.execute(query.order_by(address.c.location_code, address.c.id).limit(limit)).mappings()
    return [address_record_from_row(row) for row in rows]
