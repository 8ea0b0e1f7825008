"""The administrative units in memory: both periods, their lineage, polygons and contexts.

Answers the questions the index builder asks for every village, place and street:
which 2025 ward is this point in, which pre-2025 commune was it probably in (the
nearest old commune centre among the ward's predecessors: no old commune polygons
exist), which old districts cover it, and which contexts it should link to.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

import numpy as np
import shapely
from numpy.typing import ArrayLike
from shapely import STRtree

from addresses.limits import MAX_HOPS
from addresses.types import UNIT_LEVEL_NAMES, LineageRow, UnitLevel, UnitRef
from geocoder.entries import Context, ContextLink, name_forms
from geocoder.loading import UnitRow
from geocoder.normalize import strip_marks
from geocoder.results import EXACT, OldUnit

OLD_COMMUNE_PRECISION: Final = "approximate (nearest pre-2025 commune centre among the ward's predecessors)"
OTHER_PREDECESSOR_WEIGHT: Final = 0.85
"""Context weight of a merged ward's other predecessors (the point may have been in any of them)."""
WARD_MARGIN_DEG: Final = 0.02
"""A point this close to a ward (about 2 km) but in none counts as in the nearest one."""
DISTRICT_MARGIN_DEG: Final = 0.015
"""Old districts this close to a point (about 1.5 km) are likely context too: district borders
differ between sources (government and Who's On First) by up to a kilometre or so."""
NEAR_DISTRICT_WEIGHT: Final = 0.9


def unit_level(level: int) -> UnitLevel:
    """The level name of a unit level number.

    >>> unit_level(2)
    'district'
    """
    return UNIT_LEVEL_NAMES[level]


def planar_distance(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Distance in metres on a local flat approximation (good to 0.1 % at this scale).

    >>> round(planar_distance(105.0, 20.0, 105.0, 20.01))
    1112
    """
    x = (lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    return math.hypot(x, lat2 - lat1) * 111_195.0


TOWN_WORD: Final = "thi tran"
"""The folded type word of a town (thị trấn): a district's seat, which writers name for its district."""


def unit_type_word(unit: UnitRow) -> str:
    """The folded unit word of a unit ("thanh pho", "xa", ...).

    >>> unit_type_word(UnitRow(1, "1", 3, "Thị trấn", "A", "A", None, None, None, None, None, None, None))
    'thi tran'
    """
    return strip_marks(unit.unit_type.lower()).strip()


FULL: Final = "full"
PARTIAL: Final = "partial"
"""More changes than any unit went through (2008, 2009, 2020, 2021, 2025)."""


@dataclass(frozen=True, slots=True)
class Descent:
    """A unit an old unit became: all of it (full) or a part, and the units in between."""

    unit: UnitRow
    kind: str
    path: tuple[UnitRow, ...]


@dataclass(frozen=True, slots=True)
class PointUnits:
    """The units a point lies in: 2025 ward, likely pre-2025 commune and district, links to contexts."""

    ward: UnitRow | None
    old_commune: UnitRow | None
    old_units: tuple[OldUnit, ...]
    links: tuple[ContextLink, ...]


class Territory:
    """Units of both periods with lineage, polygons and one context per unit."""

    def __init__(self, units: Iterable[UnitRow], lineage: Iterable[LineageRow[int]]) -> None:
        self.units = {unit.id: unit for unit in units}
        self.wards = [u for u in self.units.values() if u.level == 3 and u.is_current and u.geom is not None]
        self.province = next((u for u in self.units.values() if u.level == 1 and u.is_current), None)
        self.old_province = next((u for u in self.units.values() if u.level == 1 and not u.is_current), None)
        self.predecessors: dict[int, list[tuple[int, str]]] = {}
        self.successors: dict[int, list[tuple[int, str]]] = {}
        self.towns: dict[int, list[UnitRow]] = {}
        for unit in self.units.values():
            if unit.level == 3 and unit.parent_id is not None and unit_type_word(unit) == TOWN_WORD:
                self.towns.setdefault(unit.parent_id, []).append(unit)
        for link in lineage:
            self.predecessors.setdefault(link.successor, []).append((link.predecessor, link.kind))
            self.successors.setdefault(link.predecessor, []).append((link.successor, link.kind))
        self._ward_tree = STRtree([ward.geom for ward in self.wards])
        self._districts = [u for u in self.units.values() if u.level == 2 and u.geom is not None]
        self._district_tree = STRtree([district.geom for district in self._districts])
        self.contexts = [self._context(index, unit) for index, unit in enumerate(self.units.values())]
        self._inner = self._inner_points()
        self.context_of = {context.unit_id: context.id for context in self.contexts}

    @staticmethod
    def _context(index: int, unit: UnitRow) -> Context:
        names = name_forms((unit.name,))
        return Context(index, unit.id, unit.code, unit.level, unit_type_word(unit), names)

    # ------------------------------------------------------------------ references

    def ref(self, unit: UnitRow) -> UnitRef:
        """The reference shown in results."""
        return UnitRef(unit.code, unit.name, unit.full_name, unit_level(unit.level))

    def old_ref(self, unit: UnitRow, precision: str = EXACT) -> OldUnit:
        """A pre-2025 unit as shown in results."""
        return OldUnit(unit.code, unit.name, unit.full_name, unit_level(unit.level), precision)

    def province_ref(self) -> UnitRef | None:
        """The 2025 province."""
        return None if self.province is None else self.ref(self.province)

    def parent(self, unit: UnitRow) -> UnitRow | None:
        """The parent unit, if any."""
        return None if unit.parent_id is None else self.units.get(unit.parent_id)

    # ------------------------------------------------------------------ spatial

    def wards_at(self, lon: ArrayLike, lat: ArrayLike) -> list[UnitRow | None]:
        """The 2025 ward covering each point (vectorized), else the nearest within the margin, else None."""
        points = shapely.points(np.asarray(lon, float), np.asarray(lat, float))
        found: list[UnitRow | None] = [None] * len(points)
        pairs = self._ward_tree.query(points, predicate="covered_by")
        for point_index, ward_index in zip(pairs[0], pairs[1], strict=True):
            if found[point_index] is None:
                found[point_index] = self.wards[ward_index]
        for index, point in enumerate(points):
            if found[index] is None:
                found[index] = self._nearest_ward(point)
        return found

    def _nearest_ward(self, point: shapely.Geometry) -> UnitRow | None:
        nearest = self._ward_tree.query_nearest(point, max_distance=WARD_MARGIN_DEG)
        return self.wards[int(nearest[0])] if len(nearest) else None

    def ward_at(self, lon: float, lat: float) -> UnitRow | None:
        """The 2025 ward at a point (or the nearest within the margin)."""
        return self.wards_at(np.array([lon]), np.array([lat]))[0]

    def districts_at(self, lon: float, lat: float) -> list[UnitRow]:
        """Old districts (any period) whose polygon covers the point."""
        hits = self._district_tree.query(shapely.points(lon, lat), predicate="covered_by")
        return [self._districts[int(index)] for index in hits]

    def districts_near(self, lon: float, lat: float) -> list[UnitRow]:
        """Old districts within :data:`DISTRICT_MARGIN_DEG` of the point (covering ones included)."""
        point = shapely.points(lon, lat)
        hits = self._district_tree.query(point, predicate="dwithin", distance=DISTRICT_MARGIN_DEG)
        return [self._districts[int(index)] for index in sorted(hits)]

    def _inner_points(self) -> dict[int, tuple[float, float]]:
        """A point inside each unit's polygon: its own point when inside, else one on the polygon's surface.

        One vectorised covers test for all units, and ``point_on_surface`` on the real
        (not simplified) polygon for the few whose point lies outside.
        """
        shaped = [unit for unit in self.units.values() if unit.geom is not None]
        geoms = np.array([unit.geom for unit in shaped], dtype=object)
        lon = np.array([np.nan if unit.lon is None else unit.lon for unit in shaped], dtype=float)
        lat = np.array([np.nan if unit.lat is None else unit.lat for unit in shaped], dtype=float)
        outside = ~shapely.covers(geoms, shapely.points(lon, lat))
        surface = shapely.point_on_surface(geoms[outside])
        lon[outside], lat[outside] = shapely.get_x(surface), shapely.get_y(surface)
        return {unit.id: (float(x), float(y)) for unit, x, y in zip(shaped, lon, lat, strict=True)}

    def inner_point(self, unit: UnitRow) -> tuple[float | None, float | None]:
        """The unit's point, moved onto its polygon when it lay outside (unchanged without a polygon)."""
        return self._inner.get(unit.id, (unit.lon, unit.lat))

    def inside(self, unit: UnitRow, lon: float, lat: float) -> bool:
        """Whether a unit's polygon covers a point."""
        return unit.geom is not None and bool(shapely.covers(unit.geom, shapely.points(lon, lat)))

    # ------------------------------------------------------------------ lineage

    def old_communes_of(self, ward: UnitRow) -> list[UnitRow]:
        """The pre-2025 communes that became (part of) a ward."""
        found = [self.units[old] for old, _kind in self.predecessors.get(ward.id, ())]
        return [unit for unit in found if unit.level == 3]

    def nearest_old_commune(self, ward: UnitRow, lon: float, lat: float) -> UnitRow | None:
        """The predecessor of a ward whose centre is nearest to a point (one without a point if alone)."""
        olds = self.old_communes_of(ward)
        located = [unit for unit in olds if unit.lon is not None and unit.lat is not None]
        if not located:
            return olds[0] if olds else None
        return min(located, key=lambda unit: planar_distance(lon, lat, unit.lon, unit.lat))  # type: ignore[arg-type]

    def successors_of(self, unit: UnitRow) -> list[tuple[UnitRow, str]]:
        """The units a unit directly became, with the link kind."""
        return [(self.units[new], kind) for new, kind in self.successors.get(unit.id, ())]

    def descents(self, unit: UnitRow) -> list[Descent]:
        """The present-day units an old unit became through every change (2019 -> 2020 -> 2025).

        Partial when any step is; a unit reached fully by one path is full. Each keeps the
        first path that reached it (the units in between, oldest first).
        """
        found: dict[int, Descent] = {}
        frontier = [Descent(unit, FULL, ())]
        for _hop in range(MAX_HOPS):
            following: list[Descent] = []
            for step in frontier:
                path = (*step.path, step.unit) if step.unit is not unit else ()
                for new, kind in self.successors_of(step.unit):
                    reached = Descent(new, FULL if step.kind == FULL and kind == FULL else PARTIAL, path)
                    if new.is_current:
                        known = found.get(new.id)
                        if known is None or (reached.kind == FULL and known.kind == PARTIAL):
                            found[new.id] = reached
                    else:
                        following.append(reached)
            if not following:
                break
            frontier = following
        return list(found.values())

    # ------------------------------------------------------------------ contexts

    def link(self, unit: UnitRow | None, weight: float = 1.0) -> list[ContextLink]:
        """A link to a unit's context (none for None)."""
        return [] if unit is None else [ContextLink(self.context_of[unit.id], weight)]

    def province_links(self) -> list[ContextLink]:
        """Both provinces: a place in old Hoa Binh is written with either."""
        return [*self.link(self.province), *self.link(self.old_province)]

    def point_units(self, ward: UnitRow | None, lon: float, lat: float) -> PointUnits:
        """The units and context links of a point in ``ward``, finest first."""
        if ward is None:
            return PointUnits(None, None, (), tuple(self.province_links()))
        nearest = self.nearest_old_commune(ward, lon, lat)
        communes = self.link(ward)
        districts = [link for district in self.districts_at(lon, lat) for link in self.link(district)]
        for old in self.old_communes_of(ward):
            weight = 1.0 if old is nearest else OTHER_PREDECESSOR_WEIGHT
            communes += self.link(old, weight)
            parent = self.parent(old)
            if parent is not None and parent.level == 2:
                districts += self.link(parent, weight)
        nearby = [link for d in self.districts_near(lon, lat) for link in self.link(d, NEAR_DISTRICT_WEIGHT)]
        links = ordered_links([*communes, *districts, *nearby, *self.province_links()])
        return PointUnits(ward, nearest, self._old_units(nearest), links)

    def _old_units(self, old: UnitRow | None, precision: str = OLD_COMMUNE_PRECISION) -> tuple[OldUnit, ...]:
        """An old commune with its district and province, as results show them."""
        if old is None:
            return ()
        found = [self.old_ref(old, precision)]
        unit = self.parent(old)
        while unit is not None:
            found.append(self.old_ref(unit, precision if unit.level == 2 else EXACT))
            unit = self.parent(unit)
        return tuple(found)

    def chain(self, unit: UnitRow) -> tuple[OldUnit, ...]:
        """A pre-2025 unit and its parents, exactly."""
        return self._old_units(unit, EXACT)


def ordered_links(links: list[ContextLink]) -> tuple[ContextLink, ...]:
    """Links without repeats (the best weight kept), in their first order."""
    best: dict[int, ContextLink] = {}
    for link in links:
        if link.context not in best or best[link.context].weight < link.weight:
            best[link.context] = link
    return tuple(best.values())
