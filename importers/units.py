"""Administrative unit helpers: unit-type words, GSO codes, and the reorganisation lineage."""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy import ColumnElement, Connection, and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert

from addresses import vocabulary
from addresses.errors import ImportValidationError
from addresses.schema import admin_unit, unit_lineage
from addresses.types import LineageRow

#: Unit-type words, longest first so "thành phố" wins over shorter prefixes.
UNIT_TYPES = tuple(sorted(vocabulary.ADMIN_UNIT_WORDS, key=len, reverse=True))
CODE_WIDTH = {1: 2, 2: 3, 3: 5}
REORGANISATION_2025 = vocabulary.REORGANISATION_2025


def split_unit_name(full_name: str) -> tuple[str | None, str]:
    """Split "Phường Tân Hòa" into ("phường", "Tân Hòa"); no type word gives (None, name).

    >>> split_unit_name("Thành phố Hòa Bình")
    ('thành phố', 'Hòa Bình')
    >>> split_unit_name("Tân Lạc")
    (None, 'Tân Lạc')
    """
    text = unicodedata.normalize("NFC", full_name).strip()
    lowered = text.lower()
    for word in UNIT_TYPES:
        if lowered.startswith(word + " "):
            return word, text[len(word) + 1 :].strip()
    return None, text


def gso_code(value: str, level: int) -> str:
    """A GSO code zero-padded to its level's width (Excel drops leading zeros: 4792 -> 04792).

    >>> gso_code("4792", 3), gso_code("17", 1), gso_code(" 148 ", 2)
    ('04792', '17', '148')
    """
    digits = re.sub(r"\D", "", value)
    return digits.zfill(CODE_WIDTH[level])


def split_names(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Add ``unit_type`` and ``short_name`` columns split from a full-name column."""
    parts = frame[column].map(split_unit_name)
    return frame.assign(unit_type=parts.map(lambda p: p[0]), short_name=parts.map(lambda p: p[1]))


def read_lineage(path: Path) -> list[LineageRow[str]]:
    """Read the new-from-old mapping file (each new unit with the old communes merged into it)."""
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
        return [
            LineageRow(gso_code(old["old_id"], 3), gso_code(new["level2_id"], 3), old["type"])
            for new in spec["level2s"]
            for old in new["merges"]
        ]
    except (KeyError, TypeError, json.JSONDecodeError) as error:
        raise ImportValidationError(path.name, [f"not a new-from-old mapping: {error!r}"]) from error


def unit_id_at(
    level: int, code: str, *, ends: dt.date | None = None, starts: dt.date | None = None
) -> object:
    """A subquery for the id of the unit with ``code`` that ends or starts on a date."""
    condition = and_(admin_unit.c.level == level, admin_unit.c.code == code)
    if ends is not None:
        condition = and_(condition, admin_unit.c.valid_to == ends)
    if starts is not None:
        condition = and_(condition, admin_unit.c.valid_from == starts)
    return select(admin_unit.c.id).where(condition).scalar_subquery()


@dataclass(frozen=True)
class LineageSource:
    """Where lineage links come from: the day they took effect, the source label and the file."""

    effective: dt.date
    source: str
    file_name: str


def write_lineage(conn: Connection, rows: list[LineageRow[str]], *, level: int, origin: LineageSource) -> int:
    """Link old units (ending on ``origin.effective``) to new ones (starting then); return links written."""
    effective, source, file_name = origin.effective, origin.source, origin.file_name
    problems = _missing_units(conn, rows, level=level, effective=effective)
    if problems:
        raise ImportValidationError(file_name, problems)
    written = 0
    for row in rows:
        values = insert(unit_lineage).values(
            predecessor_id=unit_id_at(level, row.predecessor, ends=effective),
            successor_id=unit_id_at(level, row.successor, starts=effective),
            kind=row.kind,
            effective_date=effective,
            source=source,
            change="merged" if row.kind == "full" else "split",
        )
        statement = values.on_conflict_do_update(
            index_elements=["predecessor_id", "successor_id"],
            set_={
                "kind": values.excluded.kind,
                "source": values.excluded.source,
                "change": values.excluded.change,
            },
            where=or_(
                unit_lineage.c.kind.is_distinct_from(values.excluded.kind),
                unit_lineage.c.change.is_distinct_from(values.excluded.change),
            ),
        ).returning(unit_lineage.c.id)
        written += len(conn.execute(statement).all())
    return written


def _missing_units(
    conn: Connection, rows: list[LineageRow[str]], *, level: int, effective: dt.date
) -> list[str]:
    """Codes in the mapping with no unit ending/starting on the date, as report lines."""
    ending = set(
        conn.execute(
            select(admin_unit.c.code).where(admin_unit.c.level == level, admin_unit.c.valid_to == effective)
        ).scalars()
    )
    starting = set(
        conn.execute(
            select(admin_unit.c.code).where(admin_unit.c.level == level, admin_unit.c.valid_from == effective)
        ).scalars()
    )
    problems = [
        f"row {i}, field 'old_id': no unit {r.predecessor} ending {effective}"
        for i, r in enumerate(rows, 1)
        if r.predecessor not in ending
    ]
    problems += [
        f"row {i}, field 'new_id': no unit {r.successor} starting {effective}"
        for i, r in enumerate(rows, 1)
        if r.successor not in starting
    ]
    bad_kind = [
        f"row {i}, field 'type': {r.kind!r} is not full or partial"
        for i, r in enumerate(rows, 1)
        if r.kind not in ("full", "partial")
    ]
    return problems + bad_kind


def count_units(conn: Connection) -> int:
    """How many administrative units the database holds."""
    return int(conn.execute(select(func.count()).select_from(admin_unit)).scalar_one())


def start_units(conn: Connection, starts: dict[str, dt.date], *, level: int = 3, ends: dt.date) -> int:
    """Give the units of ``level`` ending on ``ends`` the first day recorded for their code.

    A database loaded before the 2008-2021 changes were known holds these units with no
    start; without one they would overlap their old periods. Returns the units changed.
    """
    return _date_units(
        conn, starts, level=level, field="valid_from", where=lambda _day: [admin_unit.c.valid_to == ends]
    )


def end_units(conn: Connection, ends: dict[str, dt.date], *, level: int) -> int:
    """Set the last day (exclusive) of units of ``level`` by code; returns the units changed."""
    return _date_units(
        conn,
        ends,
        level=level,
        field="valid_to",
        where=lambda day: [
            admin_unit.c.valid_to.is_not(None),
            or_(admin_unit.c.valid_from.is_(None), admin_unit.c.valid_from < day),
        ],
    )


def _date_units(
    conn: Connection,
    days: dict[str, dt.date],
    *,
    level: int,
    field: str,
    where: Callable[[dt.date], list[ColumnElement[bool]]],
) -> int:
    """Set a validity date (``field``) of units of ``level`` by code, where it differs and ``where`` holds."""
    changed = 0
    for code, day in days.items():
        statement = (
            update(admin_unit)
            .where(
                admin_unit.c.level == level,
                admin_unit.c.code == code,
                admin_unit.c[field].is_distinct_from(day),
                *where(day),
            )
            .values({field: day, "updated_at": func.now()})
        )
        changed += conn.execute(statement).rowcount
    return changed
