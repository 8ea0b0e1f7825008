"""The 2008-2021 changes of Hòa Bình's communes (reorg_2020.json) as unit periods and lineage links.

Above all Resolution 830/NQ-UBTVQH14 (effective 2020-01-01: 210 -> 151 communes, Kỳ Sơn
district dissolved into Hòa Bình city), the two 2021 upgrades to phường (1189/NQ-UBTVQH14),
the 2009 district boundary changes (31/NQ-CP) and the four communes that went to Hà Nội
on 2008-08-01. Every change is read into one timeline per GSO code:

* a code that ends (merged, transferred out) gives a unit valid until the change;
* a code kept under a new name, type or district gives a unit valid until the change,
  and the unit of the GSO list (the one valid until 2025) starts on that day
  (:attr:`Reorg2020.starts`), so a code never names two units at once.

No polygon or point exists for any of the old units: they are loaded without geometry
(a position is never invented) and answered with their successor's.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Connection, or_, select
from sqlalchemy.dialects.postgresql import insert

from addresses.errors import ImportValidationError
from addresses.schema import admin_unit, unit_lineage
from importers.units import split_unit_name

REORG_2020_FILE: Final = "reorg_2020.json"
CHANGE_OF_KIND: Final = {"merged": "merged", "renamed": "renamed", "district_dissolved": "district_dissolved"}
"""The lineage change of each ``kind`` of reorg_2020.json (a unit with ``split_also_to`` is a split)."""


@dataclass(frozen=True, slots=True)
class State:
    """What a code named before a change: its full name and district, and the record it came from."""

    full_name: str
    district_code: str
    legal_basis: str | None = None
    name_variants: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Link:
    """An old unit (ending on ``effective``) -> the unit of ``new_code`` valid that day (None: left)."""

    level: int
    old_code: str
    new_code: str | None
    effective: dt.date
    kind: str
    change: str
    legal_basis: str
    confidence: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Event:
    """A change to one code on one day: its state before, and whether the code carries on after."""

    code: str
    effective: dt.date
    before: State
    continues: bool
    where: str
    """Where in the file, for error messages (e.g. "units_abolished[12]")."""


@dataclass(frozen=True, slots=True)
class Period:
    """An old unit: one code's state between two changes (``valid_from`` None: since before 2008)."""

    code: str
    state: State
    valid_from: dt.date | None
    valid_to: dt.date

    def row(self) -> dict[str, object]:
        """The unit row the importer loads (names split, no geometry)."""
        unit_type, short = split_unit_name(self.state.full_name)
        return {
            "source_id": f"{self.code}/{self.valid_to.isoformat()}",
            "code": self.code,
            "level": "3",
            "unit_type": unit_type,
            "short_name": short,
            "full_name": self.state.full_name,
            "parent_code": self.state.district_code,
            "valid_from": None if self.valid_from is None else self.valid_from.isoformat(),
            "valid_to": self.valid_to.isoformat(),
            "legal_basis": self.state.legal_basis,
            "name_variants": list(self.state.name_variants) or None,
        }


@dataclass(frozen=True, slots=True)
class Reorg2020:
    """Old unit periods, the start of the GSO units that kept a changed code, links, district ends.

    ``districts`` are the dissolved districts as unit rows: their accented names (Who's On
    First, the only polygon of Kỳ Sơn, spells it "Ky Son") and their end.
    """

    periods: tuple[Period, ...]
    starts: dict[str, dt.date]
    links: tuple[Link, ...]
    district_ends: dict[str, dt.date] = field(default_factory=dict)
    districts: tuple[dict[str, object], ...] = ()

    def rows(self) -> list[dict[str, object]]:
        """Every unit row to load: the dissolved districts, then the communes' periods."""
        return [*self.districts, *(period.row() for period in self.periods)]


def _date(value: object, where: str, problems: list[str]) -> dt.date:
    """An ISO date, or a problem line (and a placeholder date)."""
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        problems.append(f"{where}, field 'effective': not a date: {value!r}")
        return dt.date.min


def _district_codes(spec: dict[str, Any]) -> dict[str, str]:
    """District full name -> GSO code, as the file pairs them."""
    codes = {unit["district"]: unit["district_code"] for unit in spec["units_abolished"]}
    for change in spec["districts_changed"]:
        if "district_code" in change:
            codes.setdefault(change["district"], change["district_code"])
    return codes


def _abolished_events(spec: dict[str, Any], problems: list[str]) -> Iterator[Event]:
    """One event per entry of units_abolished."""
    for index, unit in enumerate(spec["units_abolished"]):
        where = f"units_abolished[{index}] ({unit['gso_code']} {unit['name']})"
        variants = tuple(unit.get("name_variants") or ())
        state = State(unit["name"], unit["district_code"], unit["legal_basis"], variants)
        continues = unit["successor_gso_code"] == unit["gso_code"]
        yield Event(unit["gso_code"], _date(unit["effective"], where, problems), state, continues, where)


def _district_events(spec: dict[str, Any], districts: dict[str, str], problems: list[str]) -> Iterator[Event]:
    """The 2009 moves between districts and the 2008 transfers to Hà Nội."""
    for index, change in enumerate(spec["districts_changed"]):
        if change["change"] not in ("boundary_adjustment", "transferred_to_other_province"):
            continue
        effective = _date(change["effective"], f"districts_changed[{index}]", problems)
        moved = change["change"] == "boundary_adjustment"
        for number, unit in enumerate(change["units"]):
            where = f"districts_changed[{index}].units[{number}] ({unit['gso_code']} {unit['name']})"
            district = unit["from_district"] if moved else unit["district"]
            if district not in districts:
                problems.append(f"{where}, field 'district': unknown district {district!r}")
                continue
            state = State(unit["name"], districts[district], change["legal_basis"])
            yield Event(unit["gso_code"], effective, state, moved, where)


def _timelines(events: list[Event]) -> dict[str, list[Event]]:
    """The events of each code, in date order."""
    found: dict[str, list[Event]] = {}
    for event in sorted(events, key=lambda e: (e.code, e.effective)):
        found.setdefault(event.code, []).append(event)
    return found


def _periods(code: str, events: list[Event], problems: list[str]) -> tuple[list[Period], dt.date | None]:
    """A code's old periods and the day its last unit (the GSO list's) started, if it carried on."""
    periods: list[Period] = []
    start: dt.date | None = None
    for number, event in enumerate(events):
        if number and not events[number - 1].continues:
            problems.append(f"{event.where}: code {code} changes again after it ended on {start}")
        if start is not None and event.effective <= start:
            problems.append(f"{event.where}: two changes of code {code} on {event.effective}")
        periods.append(Period(code, event.before, start, event.effective))
        start = event.effective
    return periods, (start if events[-1].continues else None)


def _main_link(unit: dict[str, Any], effective: dt.date) -> Link:
    """An abolished unit -> its main successor (partial when it was split)."""
    split = bool(unit.get("split_also_to"))
    return Link(
        3,
        unit["gso_code"],
        unit["successor_gso_code"],
        effective,
        "partial" if split else "full",
        "split" if split else CHANGE_OF_KIND[unit["kind"]],
        unit["legal_basis"],
        unit.get("confidence"),
        unit.get("note"),
    )


def _abolished_links(spec: dict[str, Any], problems: list[str]) -> Iterator[Link]:
    """Links of units_abolished: the main successor, and every other part of a split unit."""
    for index, unit in enumerate(spec["units_abolished"]):
        where = f"units_abolished[{index}] ({unit['gso_code']} {unit['name']})"
        if unit["kind"] not in CHANGE_OF_KIND:
            problems.append(f"{where}, field 'kind': {unit['kind']!r} is not one of {sorted(CHANGE_OF_KIND)}")
            continue
        effective = _date(unit["effective"], where, problems)
        yield _main_link(unit, effective)
        for part in unit.get("split_also_to") or ():
            yield Link(
                3,
                unit["gso_code"],
                part["gso_code"],
                effective,
                "partial",
                "split",
                unit["legal_basis"],
                unit.get("confidence"),
                f"{part['name']}: {part['part']}" if part.get("part") else None,
            )


def _district_links(spec: dict[str, Any], problems: list[str]) -> Iterator[Link]:
    """Dissolved districts, 2009 moves (the same code in its new district) and transfers out."""
    for index, change in enumerate(spec["districts_changed"]):
        effective = _date(change["effective"], f"districts_changed[{index}]", problems)
        basis = change["legal_basis"]
        if change["change"] == "district_dissolved":
            yield Link(
                2,
                change["district_code"],
                change["into_district_code"],
                effective,
                "full",
                "district_dissolved",
                basis,
            )
            continue
        for unit in change["units"]:
            code = unit["gso_code"]
            if change["change"] == "boundary_adjustment":
                note = f"{unit['from_district']} -> {unit['to_district']}"
                yield Link(3, code, code, effective, "full", "district_changed", basis, "high", note)
            else:
                note = f"to {unit['to_district']}, {unit['to_province']}: {unit['successor_note']}"
                yield Link(3, code, None, effective, "full", "transferred_out", basis, "high", note)


def _district_rows(spec: dict[str, Any], ends: dict[str, dt.date]) -> tuple[dict[str, object], ...]:
    """The dissolved districts as unit rows of the province, ending on their day."""
    rows = []
    for change in spec["districts_changed"]:
        if change["change"] != "district_dissolved":
            continue
        unit_type, short = split_unit_name(change["district"])
        code = change["district_code"]
        rows.append(
            {
                "source_id": f"{code}/{ends[code].isoformat()}",
                "code": code,
                "level": "2",
                "unit_type": unit_type,
                "short_name": short,
                "full_name": change["district"],
                "parent_code": spec["province"]["gso_code"],
                "valid_from": None,
                "valid_to": ends[code].isoformat(),
                "legal_basis": change["legal_basis"],
                "name_variants": None,
            }
        )
    return tuple(rows)


def _district_ends(spec: dict[str, Any], problems: list[str]) -> dict[str, dt.date]:
    """The last day (exclusive) of each dissolved district."""
    return {
        change["district_code"]: _date(change["effective"], f"districts_changed[{index}]", problems)
        for index, change in enumerate(spec["districts_changed"])
        if change["change"] == "district_dissolved"
    }


def read_reorg_2020(path: Path) -> Reorg2020:
    """Read reorg_2020.json into unit periods, GSO unit starts and lineage links; all-or-nothing."""
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
        return _build(spec)
    except ImportValidationError as error:
        raise ImportValidationError(path.name, error.problems) from error
    except (KeyError, TypeError, json.JSONDecodeError) as error:
        raise ImportValidationError(path.name, [f"not a reorg_2020 file: {error!r}"]) from error


def _build(spec: dict[str, Any]) -> Reorg2020:
    """The periods, starts and links of a parsed file (problems raised together)."""
    problems: list[str] = []
    events = [*_abolished_events(spec, problems), *_district_events(spec, _district_codes(spec), problems)]
    periods: list[Period] = []
    starts: dict[str, dt.date] = {}
    for code, timeline in _timelines(events).items():
        found, start = _periods(code, timeline, problems)
        periods += found
        if start is not None:
            starts[code] = start
    links = (*_abolished_links(spec, problems), *_district_links(spec, problems))
    ends = _district_ends(spec, problems)
    if problems:
        raise ImportValidationError(REORG_2020_FILE, problems)
    return Reorg2020(tuple(periods), starts, links, ends, _district_rows(spec, ends))


def unit_starts(path: Path) -> dict[str, dt.date]:
    """Code -> first day of the GSO list's unit of that code, for codes kept through a change."""
    return read_reorg_2020(path).starts


def _ending(level: int, code: str, day: dt.date) -> Any:
    """The id of the unit of ``code`` whose validity ends on ``day``."""
    unit = admin_unit.c
    return (
        select(unit.id).where(unit.level == level, unit.code == code, unit.valid_to == day).scalar_subquery()
    )


def _valid_on(level: int, code: str | None, day: dt.date) -> Any:
    """The id of the unit of ``code`` valid on ``day`` (None for no code)."""
    if code is None:
        return None
    unit = admin_unit.c
    return (
        select(unit.id)
        .where(
            unit.level == level,
            unit.code == code,
            or_(unit.valid_from.is_(None), unit.valid_from <= day),
            or_(unit.valid_to.is_(None), unit.valid_to > day),
        )
        .scalar_subquery()
    )


def _link_problems(conn: Connection, links: tuple[Link, ...]) -> list[str]:
    """Links whose old unit (ending that day) or new unit (valid that day) is not in the database."""
    problems = []
    for number, link in enumerate(links, 1):
        old, new = conn.execute(
            select(
                _ending(link.level, link.old_code, link.effective),
                _valid_on(link.level, link.new_code, link.effective),
            )
        ).one()
        if old is None:
            problems.append(
                f"link {number}, field 'gso_code': no unit {link.old_code} ending {link.effective}"
            )
        if new is None and link.new_code is not None:
            problems.append(
                f"link {number}, field 'successor_gso_code': "
                f"no unit {link.new_code} valid on {link.effective}"
            )
    return problems


def write_links(conn: Connection, links: tuple[Link, ...], *, source: str, file_name: str) -> int:
    """Write the lineage links (all or none); return how many were inserted or changed."""
    problems = _link_problems(conn, links)
    if problems:
        raise ImportValidationError(file_name, problems)
    written = 0
    for link in links:
        values = insert(unit_lineage).values(
            predecessor_id=_ending(link.level, link.old_code, link.effective),
            successor_id=_valid_on(link.level, link.new_code, link.effective),
            kind=link.kind,
            effective_date=link.effective,
            source=source,
            change=link.change,
            legal_basis=link.legal_basis,
            confidence=link.confidence,
            note=link.note,
        )
        fields = ("kind", "effective_date", "change", "legal_basis", "confidence", "note")
        statement = values.on_conflict_do_update(
            index_elements=["predecessor_id", "successor_id"],
            set_={name: values.excluded[name] for name in (*fields, "source")},
            where=or_(*(unit_lineage.c[name].is_distinct_from(values.excluded[name]) for name in fields)),
        ).returning(unit_lineage.c.id)
        written += len(conn.execute(statement).all())
    return written
