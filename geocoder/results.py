"""Typed results of the geocoder: forward results, reverse results, batch reports.

Plain frozen dataclasses with ``to_dict`` for JSON; the web layer and the CLI print
them, they know nothing about HTTP.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

from addresses.types import UnitLevel, UnitRef
from geocoder.parse import ParsedAddress

MatchLevel = Literal["address", "street", "village", "place", "commune", "district", "province", "point"]
"""How fine the match is: an address point down to a whole province; "point" for a bare code cell."""

ResultKind = Literal[
    "address",
    "street",
    "village",
    "place",
    "commune",
    "old_commune",
    "old_district",
    "province",
    "old_province",
    "location_code",
]
"""What was found: a 2025 unit ("commune", "province"), a pre-2025 one ("old_*"), a feature or a code."""

UnitLevelName = UnitLevel
"""The level of an administrative unit: the keys of :class:`addresses.vocabulary.UnitLevel` down to
the commune (tests/geocoder/test_vocabulary.py checks that they agree)."""

EXACT: str = "exact"
"""Precision of a unit that was read from a polygon or a lineage record."""


@dataclass(frozen=True, slots=True)
class OldUnit:
    """A pre-2025 unit (valid until 2025-07-01) and how sure the link to it is.

    ``precision`` is ``"exact"`` (the thing itself, or its lineage) or a sentence
    saying how it was guessed (pre-2025 communes only exist as approximate points).
    """

    code: str
    name: str
    full_name: str
    level: UnitLevel
    precision: str = EXACT

    def to_dict(self) -> dict[str, str]:
        """Plain dict (JSON friendly)."""
        return {
            "code": self.code,
            "name": self.name,
            "full_name": self.full_name,
            "level": self.level,
            "precision": self.precision,
        }


@dataclass(frozen=True, slots=True)
class Codes:
    """The digital codes of a result: the location code of its point, the registry code of an address."""

    location_code: str
    location_code_display: str
    registry_code: str | None = None
    registry_code_display: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        """Plain dict (JSON friendly)."""
        return {
            "location_code": self.location_code,
            "location_code_display": self.location_code_display,
            "registry_code": self.registry_code,
            "registry_code_display": self.registry_code_display,
        }


@dataclass(frozen=True, slots=True)
class GeocodeResult:
    """One forward-geocoding answer, best first in a list.

    ``current_unit`` is the 2025 commune/ward the answer lies in (for an old unit: its
    successor); ``old_units`` the pre-2025 commune, district and province where they
    matter. ``point_precision`` says how good the point is ("exact" for a surveyed
    point, else why it is approximate); ``note`` explains anything unusual (a split
    commune, a house number not found). ``score`` is in [0, 1].
    """

    lon: float
    lat: float
    score: float
    kind: ResultKind
    match_level: MatchLevel
    label: str
    name: str
    ref: str
    current_unit: UnitRef | None
    current_province: UnitRef | None
    old_units: tuple[OldUnit, ...]
    codes: Codes
    parsed: ParsedAddress
    point_precision: str = EXACT
    house_number: str | None = None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON friendly)."""
        return {
            "lon": self.lon,
            "lat": self.lat,
            "score": round(self.score, 4),
            "kind": self.kind,
            "match_level": self.match_level,
            "label": self.label,
            "name": self.name,
            "ref": self.ref,
            "current_unit": None if self.current_unit is None else self.current_unit.to_dict(),
            "current_province": None if self.current_province is None else self.current_province.to_dict(),
            "old_units": [unit.to_dict() for unit in self.old_units],
            "codes": self.codes.to_dict(),
            "point_precision": self.point_precision,
            "house_number": self.house_number,
            "note": self.note,
            "parsed": self.parsed.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class NearbyFeature:
    """A village or address near a reverse-geocoded point, with its distance in metres."""

    ref: str
    name: str
    lon: float
    lat: float
    distance_m: float
    registry_code: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON friendly)."""
        return {
            "ref": self.ref,
            "name": self.name,
            "lon": self.lon,
            "lat": self.lat,
            "distance_m": round(self.distance_m, 1),
            "registry_code": self.registry_code,
        }


OLD_UNITS_PRECISION: str = "approximate (nearest pre-2025 commune centre among the ward's predecessors)"
"""How the pre-2025 commune of a point is found: no pre-2025 commune polygons exist."""


@dataclass(frozen=True, slots=True)
class ReverseResult:
    """What lies at a point: the 2025 ward, the pre-2025 units, the nearest village and address.

    ``units`` are the main units valid on ``at`` (the 2025 ones when ``at`` is None or
    from 2025-07-01 on; the commune, district and province of the time before), finest
    first. ``inside`` is False when the point is outside every ward but within the
    margin: ``current_unit`` is then the nearest ward, ``distance_m`` away.
    """

    lon: float
    lat: float
    at: dt.date | None
    current_unit: UnitRef
    current_province: UnitRef | None
    units: tuple[UnitRef, ...]
    old_units: tuple[OldUnit, ...]
    old_units_precision: str
    location_code: str
    location_code_display: str
    label: str
    inside: bool = True
    distance_m: float = 0.0
    village: NearbyFeature | None = None
    address: NearbyFeature | None = None
    note: str | None = None
    """Set when the units of the date asked cannot be told apart at the point (no polygons of them)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON friendly)."""
        return {
            "lon": self.lon,
            "lat": self.lat,
            "at": None if self.at is None else self.at.isoformat(),
            "label": self.label,
            "current_unit": self.current_unit.to_dict(),
            "current_province": None if self.current_province is None else self.current_province.to_dict(),
            "units": [unit.to_dict() for unit in self.units],
            "old_units": [unit.to_dict() for unit in self.old_units],
            "old_units_precision": self.old_units_precision,
            "location_code": self.location_code,
            "location_code_display": self.location_code_display,
            "inside": self.inside,
            "distance_m": round(self.distance_m, 1),
            "village": None if self.village is None else self.village.to_dict(),
            "address": None if self.address is None else self.address.to_dict(),
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class BatchReport:
    """What a batch run did: rows read, matched, unmatched and bad (with their row numbers).

    Row numbers count data rows from 1 (the header is row 0). ``problems`` holds at most
    ``MAX_PROBLEMS`` lines "row N: reason"; the counts are always complete.
    """

    rows: int
    matched: int
    unmatched: int
    bad: int
    seconds: float
    cache_hits: int
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def rows_per_second(self) -> float:
        """Throughput of the run."""
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON friendly)."""
        return {
            "rows": self.rows,
            "matched": self.matched,
            "unmatched": self.unmatched,
            "bad": self.bad,
            "seconds": round(self.seconds, 3),
            "rows_per_second": round(self.rows_per_second, 1),
            "cache_hits": self.cache_hits,
            "problems": list(self.problems),
        }
