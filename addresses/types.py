"""Value types shared by every package: statuses, boxes, points, unit references, lineage links.

Each is defined here once; the packages above import them instead of writing their own.

>>> STATUSES
('proposed', 'active', 'retired')
>>> UnitRef("04795", "Hòa Bình", "Phường Hòa Bình", "commune").to_dict()["level"]
'commune'
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Final, Generic, Literal, TypeAlias, TypeVar

from sqlalchemy import ColumnElement

__all__ = [
    "DEFAULT_STATUS",
    "STATUSES",
    "UNIT_LEVEL_NAMES",
    "BBox",
    "Expression",
    "LineageRow",
    "Status",
    "UnitKey",
    "UnitLevel",
    "UnitRef",
]

Status: TypeAlias = Literal["proposed", "active", "retired"]
"""The lifecycle of a row that has a status: proposed -> active -> retired, never back."""
STATUSES: Final[tuple[Status, ...]] = ("proposed", "active", "retired")
"""Every status a row may have, in lifecycle order."""
DEFAULT_STATUS: Final[Status] = "active"
"""The status of a row written without one (the columns' server default, an import without a status)."""

BBox: TypeAlias = tuple[float, float, float, float]
"""(min x, min y, max x, max y): west, south, east, north in degrees unless a CRS says otherwise."""

Expression: TypeAlias = ColumnElement[Any]
"""A SQLAlchemy column expression of any type."""

UnitLevel: TypeAlias = Literal["province", "district", "commune"]
UNIT_LEVEL_NAMES: Final[dict[int, UnitLevel]] = {1: "province", 2: "district", 3: "commune"}
"""The level numbers of admin_unit.level and their names."""


@dataclass(frozen=True, slots=True)
class UnitRef:
    """An administrative unit: GSO code, short name, full name (with its type) and level."""

    code: str
    name: str
    full_name: str
    level: UnitLevel

    def to_dict(self) -> dict[str, str]:
        """Plain dict (JSON friendly)."""
        return {"code": self.code, "name": self.name, "full_name": self.full_name, "level": self.level}


UnitKey = TypeVar("UnitKey", int, str)
"""How a lineage link names units: database ids (int) or GSO codes (str, in source files)."""


@dataclass(frozen=True, slots=True)
class LineageRow(Generic[UnitKey]):
    """One old unit -> new unit link of a reorganisation."""

    predecessor: UnitKey
    successor: UnitKey
    kind: str
    confidence: str | None = None
    effective_date: dt.date | None = None
