"""Administrative units of both periods: listing, lookup by code, lineage, and converting old units.

A GSO code alone may name two units: codes were reused on 1 July 2025 (04795 was
Phường Thịnh Lang and is now Phường Hòa Bình). Lookups therefore take a date
(``at``) or say which period they chose. Names are matched without accents, so
"Hoa Binh", "Hoà Bình" and "Hòa Bình" are the same name.

>>> fold("Phường  Hoà Bình")
'phuong hoa binh'
>>> normalize_code(" 4795 ")
'04795'
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, Final, Literal, TypeAlias

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    Select,
    and_,
    case,
    cast,
    func,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import JSON

from addresses.errors import AmbiguousUnitError, InvalidParameterError, NotFoundError
from addresses.schema import admin_unit, unit_lineage
from addresses.types import UNIT_LEVEL_NAMES
from addresses.vocabulary import FOLD_FROM, FOLD_TO

__all__ = [
    "Basis",
    "Change",
    "Conversion",
    "Departure",
    "Lineage",
    "LineageLink",
    "LinkKind",
    "Resolution",
    "Successor",
    "Unit",
    "UnitDetail",
    "UnitPage",
    "chain_text",
    "convert_unit",
    "fold",
    "get_unit",
    "lineage",
    "list_units",
    "normalize_code",
]

LinkKind: TypeAlias = Literal["full", "partial"]
"""full: all of the old unit went to the successor; partial: a part of it."""
Change: TypeAlias = Literal[
    "merged", "split", "renamed", "district_changed", "district_dissolved", "transferred_out"
]
"""What happened to the old unit: merged (whole) into a new one, split between several, renamed
(or retyped: xã -> phường) keeping its code, moved to another district, its district dissolved,
or transferred to another province (no successor in this database)."""
CONFIDENCE_ORDER: Final = ("low", "medium", "high")
"""Confidence of a lineage link, weakest first: a chain is as sure as its weakest link."""
Resolution: TypeAlias = Literal["at", "current", "latest"]
"""How get_unit chose among the units of one code: valid at the date asked, current, or latest."""
Basis: TypeAlias = Literal["unchanged", "lineage", "communes", "geometry"]
"""How a successor was found: the unit itself, recorded lineage, its communes' lineage, or overlap."""
GeoJson: TypeAlias = dict[str, Any]
Expression: TypeAlias = ColumnElement[Any]

DEFAULT_LIMIT: Final = 50
MAX_OFFSET: Final = 2**63 - 1
MAX_HOPS: Final = 10
MIN_SHARE: Final = 0.05
"""Overlaps smaller than this share of an old unit's area are border slivers, not successors."""

_parent = admin_unit.alias("parent")
_grandparent = admin_unit.alias("grandparent")


# --- pure helpers --------------------------------------------------------------------------


_FOLD_FROM, _FOLD_TO = FOLD_FROM, FOLD_TO
_FOLD_MAP: Final = str.maketrans(_FOLD_FROM, _FOLD_TO)


def fold(text: str) -> str:
    """Lower-case, accent-free, single-spaced text for comparing names.

    >>> fold("ĐÀ BẮC"), fold("Yên Thuỷ") == fold("Yen Thủy")
    ('da bac', True)
    """
    return " ".join(unicodedata.normalize("NFC", text).translate(_FOLD_MAP).lower().split())


def _fold_sql(column: Expression) -> Expression:
    """The same folding in SQL (the database keeps names in NFC)."""
    return func.lower(func.translate(column, _FOLD_FROM, _FOLD_TO))


def normalize_code(code: str, *, parameter: str = "code") -> str:
    """A GSO code with the leading zero a spreadsheet dropped put back (widths 2, 3, 5).

    >>> normalize_code("17"), normalize_code("148"), normalize_code("4792")
    ('17', '148', '04792')
    >>> normalize_code("04-795")
    Traceback (most recent call last):
    ...
    addresses.errors.InvalidParameterError: code: a GSO code is 2, 3 or 5 digits, got '04-795'
    """
    text = code.strip()
    if not (text.isascii() and text.isdigit() and 1 <= len(text) <= 5):
        raise InvalidParameterError(parameter, f"a GSO code is 2, 3 or 5 digits, got {code!r}")
    return text.zfill({1: 2, 4: 5}.get(len(text), len(text)))


# --- units ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Unit:
    """One administrative unit in one period (``valid_to`` is exclusive, None while it exists)."""

    id: int
    code: str
    level: int
    level_name: str
    unit_type: str
    name: str
    full_name: str
    name_en: str | None
    parent_code: str | None
    parent_name: str | None
    valid_from: dt.date | None
    valid_to: dt.date | None
    geom_quality: str | None
    population: int | None
    area_km2: float | None

    @property
    def is_current(self) -> bool:
        """Whether the unit still exists."""
        return self.valid_to is None

    @property
    def period(self) -> str:
        """The validity in words, e.g. 'until 2025-07-01'."""
        start, end = self.valid_from, self.valid_to
        if start is not None and end is not None:
            return f"{start.isoformat()} to {end.isoformat()}"
        if end is not None:
            return f"until {end.isoformat()}"
        return f"from {start.isoformat()}" if start is not None else "no known dates"

    @property
    def label(self) -> str:
        """Full name, parent, code and period, to tell units apart in a message."""
        parent = f", {self.parent_name}" if self.parent_name else ""
        return f"{self.full_name}{parent} ({self.code}, {self.period})"


def _unit_select() -> Select[Any]:
    """SELECT the columns of Unit FROM admin_unit and its parent."""
    unit = admin_unit
    return select(
        unit.c.id,
        unit.c.code,
        unit.c.level,
        case(UNIT_LEVEL_NAMES, value=unit.c.level).label("level_name"),
        unit.c.unit_type,
        unit.c.name,
        unit.c.full_name,
        unit.c.name_en,
        _parent.c.code.label("parent_code"),
        _parent.c.full_name.label("parent_name"),
        unit.c.valid_from,
        unit.c.valid_to,
        unit.c.geom_quality,
        unit.c.population,
        unit.c.area_km2,
    ).select_from(unit.outerjoin(_parent, unit.c.parent_id == _parent.c.id))


def _unit(row: Row[Any]) -> Unit:
    """A result row of _unit_select (extra columns ignored) as a Unit."""
    values = row._mapping
    area = values["area_km2"]
    return Unit(
        id=values["id"],
        code=values["code"],
        level=values["level"],
        level_name=values["level_name"],
        unit_type=values["unit_type"],
        name=values["name"],
        full_name=values["full_name"],
        name_en=values["name_en"],
        parent_code=values["parent_code"],
        parent_name=values["parent_name"],
        valid_from=values["valid_from"],
        valid_to=values["valid_to"],
        geom_quality=values["geom_quality"],
        population=values["population"],
        area_km2=None if area is None else float(area),
    )


def _valid_at(at: dt.date) -> Expression:
    """Units valid on the day ``at`` (validity [from, to), NULL is open)."""
    unit = admin_unit.c
    return and_(
        or_(unit.valid_from.is_(None), unit.valid_from <= at),
        or_(unit.valid_to.is_(None), unit.valid_to > at),
    )


def _check_level(level: int | None) -> None:
    """Refuse a level other than 1, 2 or 3."""
    if level is not None and level not in UNIT_LEVEL_NAMES:
        raise InvalidParameterError(
            "level", f"must be 1 (province), 2 (district) or 3 (commune), got {level}"
        )


def _name_query(q: str) -> Expression:
    """Units whose code starts with ``q`` (digits) or whose full name contains it, accents ignored."""
    text = q.strip()
    if text.isascii() and text.isdigit():
        return admin_unit.c.code.startswith(text, autoescape=True)
    return _fold_sql(admin_unit.c.full_name).contains(fold(text), autoescape=True)


# --- listing -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UnitPage:
    """A page of units with the number matching in all."""

    units: list[Unit]
    number_matched: int
    limit: int
    offset: int


def _list_conditions(
    *, level: int | None, at: dt.date | None, parent_code: str | None, q: str | None
) -> list[Expression]:
    """The WHERE conditions of list_units."""
    _check_level(level)
    conditions: list[Expression] = []
    if level is not None:
        conditions.append(admin_unit.c.level == level)
    if at is not None:
        conditions.append(_valid_at(at))
    if parent_code is not None:
        conditions.append(_parent.c.code == normalize_code(parent_code, parameter="parent"))
    if q is not None and q.strip():
        conditions.append(_name_query(q))
    return conditions


def list_units(
    conn: Connection,
    *,
    level: int | None = None,
    at: dt.date | None = None,
    parent_code: str | None = None,
    q: str | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
    max_limit: int = 1000,
) -> UnitPage:
    """Units filtered by level, validity on a day, parent code and name (accents ignored).

    Ordered by level, code and period (older first). ``q`` of digits matches code prefixes.
    """
    if not 1 <= limit <= max_limit:
        raise InvalidParameterError("limit", f"must be between 1 and {max_limit}, got {limit}")
    if not 0 <= offset <= MAX_OFFSET:
        raise InvalidParameterError("offset", f"must be between 0 and {MAX_OFFSET}, got {offset}")
    where = _list_conditions(level=level, at=at, parent_code=parent_code, q=q)
    query = _unit_select().where(*where)
    matched = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    order = (admin_unit.c.level, admin_unit.c.code, admin_unit.c.valid_from.asc().nulls_first())
    rows = conn.execute(query.order_by(*order).limit(limit).offset(offset)).all()
    return UnitPage([_unit(row) for row in rows], int(matched), limit, offset)


# --- one unit --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UnitDetail:
    """A unit found by code, its geometry as GeoJSON (WGS 84) and how it was chosen."""

    unit: Unit
    geometry: GeoJson | None
    """The polygon, when the sources have one (geom_quality 'polygon')."""
    label_point: GeoJson | None
    resolution: Resolution
    note: str | None
    """Set when the code names units of other periods too."""
    other_periods: list[Unit]


def _units_with_code(conn: Connection, code: str) -> list[Unit]:
    """Every unit with a code, current first, then by end of validity, latest first."""
    order = (admin_unit.c.valid_to.desc().nulls_first(), admin_unit.c.level)
    rows = conn.execute(_unit_select().where(admin_unit.c.code == code).order_by(*order)).all()
    return [_unit(row) for row in rows]


def _choose(units: list[Unit], code: str, at: dt.date | None) -> tuple[Unit, Resolution]:
    """The unit of a code valid at ``at``, else the current one, else the latest."""
    if at is None:
        return units[0], "current" if units[0].is_current else "latest"
    for unit in units:
        if (unit.valid_from is None or unit.valid_from <= at) and (
            unit.valid_to is None or unit.valid_to > at
        ):
            return unit, "at"
    periods = "; ".join(unit.label for unit in units)
    raise NotFoundError(f"no unit had the code {code} on {at.isoformat()}: it named {periods}")


def _note(unit: Unit, resolution: Resolution, others: list[Unit]) -> str | None:
    """Say which period was chosen when a code names several units (or none is current)."""
    chosen = {
        "at": "the unit valid on the date asked",
        "current": "the current unit",
        "latest": "the latest unit (none with this code exists today)",
    }[resolution]
    if not others:
        return None if resolution != "latest" else f"{unit.full_name} ({unit.code}) no longer exists"
    also = "; ".join(other.label for other in others)
    return (
        f"code {unit.code} names {len(others) + 1} units; this is {chosen}; also: {also}. Pass at= to choose"
    )


def _geometries(conn: Connection, unit_id: int) -> tuple[GeoJson | None, GeoJson | None]:
    """The polygon and label point of a unit as GeoJSON."""
    unit = admin_unit.c
    row = conn.execute(
        select(
            cast(func.ST_AsGeoJSON(unit.geom, 7), JSON), cast(func.ST_AsGeoJSON(unit.label_point, 7), JSON)
        ).where(unit.id == unit_id)
    ).one()
    return row[0], row[1]


def get_unit(conn: Connection, code: str, *, at: dt.date | None = None) -> UnitDetail:
    """The unit a GSO code names on ``at``; without a date the current one, else the latest.

    The answer says how it chose (``resolution``) and lists the other periods' units.
    """
    normalized = normalize_code(code)
    units = _units_with_code(conn, normalized)
    if not units:
        raise NotFoundError(f"no administrative unit has the code {normalized}")
    unit, resolution = _choose(units, normalized, at)
    others = [other for other in units if other.id != unit.id]
    geometry, label_point = _geometries(conn, unit.id)
    return UnitDetail(unit, geometry, label_point, resolution, _note(unit, resolution, others), others)


def _unit_by_id(conn: Connection, unit_id: int) -> Unit:
    """A unit by database id, or NotFoundError."""
    row = conn.execute(_unit_select().where(admin_unit.c.id == unit_id)).one_or_none()
    if row is None:
        raise NotFoundError(f"no administrative unit with id {unit_id}")
    return _unit(row)


# --- lineage ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LineageLink:
    """A predecessor or successor of a unit in a reorganisation: what changed, when, by which act."""

    unit: Unit
    kind: LinkKind
    effective_date: dt.date
    change: Change = "merged"
    legal_basis: str | None = None
    confidence: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Departure:
    """A unit that left the province (no successor in this database): when, by which act, where to."""

    effective_date: dt.date
    legal_basis: str | None
    note: str | None

    @property
    def text(self) -> str:
        """The departure in words."""
        act = f" ({self.legal_basis})" if self.legal_basis else ""
        where = f" {self.note}" if self.note else ""
        day = self.effective_date.isoformat()
        return f"left the province on {day}{act}:{where}; no successor in this database"


@dataclass(frozen=True, slots=True)
class Lineage:
    """Where a unit came from and what it became (or that it left the province)."""

    unit: Unit
    predecessors: list[LineageLink]
    successors: list[LineageLink]
    departure: Departure | None = None


def _links(conn: Connection, unit_ids: Iterable[int], *, forward: bool) -> list[tuple[int, LineageLink]]:
    """(from id, link) for the successors (``forward``) or predecessors of some units."""
    near, far = (
        (unit_lineage.c.predecessor_id, unit_lineage.c.successor_id)
        if forward
        else (unit_lineage.c.successor_id, unit_lineage.c.predecessor_id)
    )
    line = unit_lineage.c
    query = (
        _unit_select()
        .add_columns(
            near.label("from_id"),
            line.kind,
            line.effective_date,
            line.change,
            line.legal_basis,
            line.confidence,
        )
        .add_columns(line.note.label("link_note"))
        .join(unit_lineage, far == admin_unit.c.id)
        .where(near.in_(list(unit_ids)))
        .order_by(line.effective_date, admin_unit.c.code)
    )
    return [
        (
            row.from_id,
            LineageLink(
                _unit(row),
                row.kind,
                row.effective_date,
                row.change,
                row.legal_basis,
                row.confidence,
                row.link_note,
            ),
        )
        for row in conn.execute(query)
    ]


def _departure(conn: Connection, unit_id: int) -> Departure | None:
    """The unit's transfer out of the province, if it left."""
    line = unit_lineage.c
    row = conn.execute(
        select(line.effective_date, line.legal_basis, line.note).where(
            line.predecessor_id == unit_id, line.successor_id.is_(None)
        )
    ).first()
    return None if row is None else Departure(row.effective_date, row.legal_basis, row.note)


def lineage(conn: Connection, unit_id: int) -> Lineage:
    """The predecessors and successors of a unit (by database id): kind, change, act, confidence."""
    unit = _unit_by_id(conn, unit_id)
    predecessors = [link for _, link in _links(conn, [unit_id], forward=False)]
    successors = [link for _, link in _links(conn, [unit_id], forward=True)]
    return Lineage(unit, predecessors, successors, _departure(conn, unit_id))


# --- converting an old unit ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Successor:
    """A present-day unit that took all (full) or part (partial) of an old unit.

    ``via`` lists the links from the old unit to it, in order (2019 commune -> 2020
    commune -> 2025 unit: two links); ``confidence`` is the weakest of theirs.
    """

    unit: Unit
    kind: LinkKind
    basis: Basis
    share: float | None = None
    """For basis 'geometry': the share of the old unit's area inside this unit."""
    via: tuple[LineageLink, ...] = ()
    confidence: str | None = None

    @property
    def note(self) -> str | None:
        """What the links say about the parts that went where (splits), joined."""
        notes = [link.note for link in self.via if link.note and link.change == "split"]
        return "; ".join(notes) or None


@dataclass(frozen=True, slots=True)
class Conversion:
    """An old unit and the present-day unit(s) its area belongs to now."""

    source: Unit
    successors: list[Successor]
    note: str
    departure: Departure | None = None


def _latest_old(units: list[Unit], at: dt.date | None, code: str) -> Unit:
    """The unit of a code valid on ``at``; without a date the latest old one, else the current one."""
    if at is not None:
        return _choose(units, code, at)[0]
    old = [unit for unit in units if not unit.is_current]
    return old[0] if old else units[0]


def _by_code(conn: Connection, code: str, at: dt.date | None) -> Unit:
    """The unit a code named on ``at``, else the latest old one, else the current one."""
    normalized = normalize_code(code)
    units = _units_with_code(conn, normalized)
    if not units:
        raise NotFoundError(f"no administrative unit has the code {normalized}")
    return _latest_old(units, at, normalized)


def _matches(column: Expression, text: str) -> Expression:
    """Whether a name column equals ``text``, accents and case ignored."""
    return _fold_sql(column) == fold(text)


def _variant_matches(text: str) -> Expression:
    """Whether a recorded spelling variant of a unit (``name_variants``) is ``text``, with or without type."""
    variants = _fold_sql(func.coalesce(admin_unit.c.raw["reorg_2020"]["name_variants"].astext, ""))
    folded = fold(text)
    return or_(
        variants.contains(f'"{folded}"', autoescape=True), variants.contains(f' {folded}"', autoescape=True)
    )


def _named(conn: Connection, name: str, district: str | None, province: str | None) -> list[Unit]:
    """Units called ``name`` (short, full name or a variant), in that district and province when given."""
    unit = admin_unit.c
    conditions = [or_(_matches(unit.name, name), _matches(unit.full_name, name), _variant_matches(name))]
    if district is not None:
        conditions.append(or_(_matches(_parent.c.name, district), _matches(_parent.c.full_name, district)))
    if province is not None:
        in_province = or_(
            _matches(_grandparent.c.name, province), _matches(_grandparent.c.full_name, province)
        )
        of_province = or_(_matches(_parent.c.name, province), _matches(_parent.c.full_name, province))
        conditions.append(or_(in_province, and_(_parent.c.level == 1, of_province)))
    query = (
        _unit_select()
        .outerjoin(_grandparent, _parent.c.parent_id == _grandparent.c.id)
        .where(*conditions)
        .order_by(unit.level, unit.code, unit.valid_to.desc().nulls_first())
    )
    return [_unit(row) for row in conn.execute(query)]


def _valid_on(unit: Unit, at: dt.date) -> bool:
    """Whether a unit was in force on ``at``."""
    return (unit.valid_from is None or unit.valid_from <= at) and (
        unit.valid_to is None or unit.valid_to > at
    )


def _by_name(
    conn: Connection, name: str, district: str | None, province: str | None, at: dt.date | None
) -> list[Unit]:
    """The old (else current) units of that name, district and province (valid on ``at`` if given)."""
    found = _named(conn, name, district, province)
    where = ", ".join(part for part in (name, district, province) if part)
    if at is not None:
        found = [unit for unit in found if _valid_on(unit, at)]
    if not found:
        when = f" on {at.isoformat()}" if at is not None else ""
        raise NotFoundError(f"no administrative unit is called {where!r}{when}")
    return [unit for unit in found if not unit.is_current] or found


@dataclass(frozen=True, slots=True)
class UnitName:
    """How the caller named the unit to convert: a code, or a name with its district and province."""

    code: str | None = None
    name: str | None = None
    district: str | None = None
    province: str | None = None


def _conversion_sources(conn: Connection, named: UnitName, at: dt.date | None) -> list[Unit]:
    """The unit(s) to convert, from a code or from a name (with district and province)."""
    if named.code is not None and named.name is not None:
        raise InvalidParameterError("name", "give either code or name (with district, province), not both")
    if named.code is not None:
        if named.district is not None or named.province is not None:
            raise InvalidParameterError("district", "district and province narrow a name, not a code")
        return [_by_code(conn, named.code, at)]
    if named.name is None or not named.name.strip():
        raise InvalidParameterError("code", "give code, or name with district and province")
    return _by_name(conn, named.name, named.district, named.province, at)


def _merge(found: dict[int, Successor], successor: Successor) -> None:
    """Add a successor reached by one path; a unit reached fully by any path is a full successor."""
    known = found.get(successor.unit.id)
    if known is None or (successor.kind == "full" and known.kind == "partial"):
        found[successor.unit.id] = successor


def weakest(levels: Iterable[str | None]) -> str | None:
    """The weakest of some confidence levels (unknown ones ignored).

    >>> weakest(["high", None, "medium"]), weakest([None])
    ('medium', None)
    """
    known = [level for level in levels if level in CONFIDENCE_ORDER]
    return min(known, key=CONFIDENCE_ORDER.index) if known else None


_Path: TypeAlias = tuple[LinkKind, tuple[LineageLink, ...]]
"""How a unit was reached: full or partial so far, and the links followed."""


def _step(path: _Path, link: LineageLink) -> _Path:
    """A path one link longer (partial as soon as any link is)."""
    kind: LinkKind = "full" if path[0] == "full" and link.kind == "full" else "partial"
    return kind, (*path[1], link)


def _follow_lineage(conn: Connection, start: Unit) -> list[Successor]:
    """Present-day units reached from ``start`` through recorded lineage, hop by hop (2019, 2020, 2025)."""
    found: dict[int, Successor] = {}
    frontier: dict[int, _Path] = {start.id: ("full", ())}
    for _hop in range(MAX_HOPS):
        if not frontier:
            break
        following: dict[int, _Path] = {}
        for from_id, link in _links(conn, frontier, forward=True):
            kind, via = _step(frontier[from_id], link)
            if link.unit.is_current:
                confidence = weakest(step.confidence for step in via)
                _merge(found, Successor(link.unit, kind, "lineage", via=via, confidence=confidence))
            elif following.get(link.unit.id, ("partial",))[0] != "full":
                following[link.unit.id] = (kind, via)
        frontier = following
    if len(found) == 1:  # every part of a split ended in the same unit: all of it is there
        only = next(iter(found.values()))
        return [replace(only, kind="full")]
    return sorted(found.values(), key=lambda s: (s.kind != "full", s.unit.code))


def _children_at_end(conn: Connection, district: Unit) -> list[int]:
    """The communes of a district on its last day (all of them while it exists)."""
    child = admin_unit.c
    query = select(child.id).where(child.parent_id == district.id)
    if district.valid_to is not None:
        last = district.valid_to - dt.timedelta(days=1)
        query = query.where(
            or_(child.valid_from.is_(None), child.valid_from <= last),
            or_(child.valid_to.is_(None), child.valid_to > last),
        )
    return list(conn.execute(query).scalars())


def _via_communes(conn: Connection, district: Unit) -> list[Successor]:
    """A district's successors: those of its communes on its last day (full only when there is just one)."""
    found: dict[int, Successor] = {}
    for child in _children_at_end(conn, district):
        for successor in _follow_lineage(conn, _unit_by_id(conn, child)):
            found[successor.unit.id] = Successor(successor.unit, "partial", "communes")
    if len(found) == 1:
        only = next(iter(found.values()))
        return [Successor(only.unit, "full", "communes")]
    return sorted(found.values(), key=lambda s: s.unit.code)


def _via_geometry(conn: Connection, old: Unit) -> list[Successor]:
    """Present-day units covering at least MIN_SHARE of an old unit's polygon, by area share."""
    new = admin_unit.alias("new")
    old_geom = select(admin_unit.c.geom).where(admin_unit.c.id == old.id).scalar_subquery()
    share = (func.ST_Area(func.ST_Intersection(new.c.geom, old_geom)) / func.ST_Area(old_geom)).label("share")
    level = 3 if old.level == 2 else old.level
    rows = conn.execute(
        select(new.c.id, share)
        .where(new.c.valid_to.is_(None), new.c.level == level, func.ST_Intersects(new.c.geom, old_geom))
        .order_by(share.desc())
    ).all()
    kept = [(row.id, float(row.share)) for row in rows if row.share >= MIN_SHARE]
    return [
        Successor(
            _unit_by_id(conn, unit_id), "full" if len(kept) == 1 else "partial", "geometry", round(s, 4)
        )
        for unit_id, s in kept
    ]


def _present_successors(conn: Connection, old: Unit) -> list[Successor]:
    """Recorded lineage first; for a district its communes'; else overlap with present units."""
    successors = _follow_lineage(conn, old)
    if not successors and old.level == 2:
        successors = _via_communes(conn, old)
    if not successors and old.geom_quality == "polygon":
        successors = _via_geometry(conn, old)
    return successors


def _short_label(unit: Unit) -> str:
    """Full name, code and period: a step of a chain."""
    return f"{unit.full_name} ({unit.code}, {unit.period})"


def chain_text(source: Unit, successor: Successor) -> str:
    """The chain from an old unit to one present-day successor, one arrow per change."""
    steps = [source.label]
    for link in successor.via:
        part = "part " if link.kind == "partial" else ""
        steps.append(f"{link.change} {link.effective_date.isoformat()}: {part}{_short_label(link.unit)}")
    return " -> ".join(steps)


def _conversion_note(source: Unit, successors: list[Successor], departure: Departure | None) -> str:
    """Explain a conversion in one sentence (a chain per successor when it took several changes)."""
    if not successors:
        if departure is not None:
            return f"{source.label} {departure.text}"
        return f"{source.label}: no present-day successor is recorded"
    names = ", ".join(f"{s.unit.full_name} ({s.unit.code}, {s.kind})" for s in successors)
    basis = successors[0].basis
    if basis == "unchanged":
        return f"{source.label} is a present-day unit: nothing to convert"
    if basis == "lineage":
        return "; ".join(chain_text(source, s) for s in successors)
    how = {
        "communes": "was abolished; its communes became",
        "geometry": "has no recorded lineage; by area it now lies in",
    }[basis]
    return f"{source.label} {how} {names}"


def _convert_one(conn: Connection, source: Unit) -> Conversion:
    """The conversion of one unit."""
    if source.is_current:
        successors = [Successor(source, "full", "unchanged")]
        return Conversion(source, successors, _conversion_note(source, successors, None))
    successors = _present_successors(conn, source)
    departure = None if successors else _departure(conn, source.id)
    return Conversion(source, successors, _conversion_note(source, successors, departure), departure)


def _one_of(conversions: list[Conversion], named: UnitName) -> Conversion:
    """The conversion when several periods' units bear the name: fine if they all end in the same units."""
    if len(conversions) == 1:
        return conversions[0]
    targets = {frozenset(s.unit.id for s in c.successors) for c in conversions}
    sources = [c.source for c in conversions]
    where = ", ".join(part for part in (named.name, named.district, named.province) if part)
    if len(targets) > 1 or not next(iter(targets)):
        parameter = "district" if named.district is None else "at"
        raise AmbiguousUnitError(parameter, where, [unit.label for unit in sources])
    chosen = conversions[0]
    others = "; ".join(unit.label for unit in sources if unit.id != chosen.source.id)
    note = f"{chosen.note}. The name also named {others}, which converts to the same unit(s)"
    return replace(chosen, note=note)


def convert_unit(
    conn: Connection,
    *,
    code: str | None = None,
    name: str | None = None,
    district: str | None = None,
    province: str | None = None,
    at: dt.date | None = None,
) -> Conversion:
    """The present-day successor(s) of an old unit given by code, or by name, district and province.

    Lineage is followed through every change (a 2019 commune -> its 2020 commune -> the
    2025 unit(s)). A code naming an old and a new unit means the old one (the latest
    old one when it named several; ``at`` chooses the unit valid on that day). A split
    commune gives several successors of kind 'partial', each with the note of its part;
    an abolished district gives its communes' successors; a unit that left the province
    has none, and the note says where it went. A present-day unit converts to itself.
    """
    named = UnitName(code, name, district, province)
    sources = _conversion_sources(conn, named, at)
    return _one_of([_convert_one(conn, source) for source in sources], named)
