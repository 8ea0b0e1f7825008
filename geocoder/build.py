"""Build the geocoder's entries from the rows the database gave (pure: no connection here).

One function per kind of entry; :func:`build_entries` runs them all in a fixed order so
ids are stable for the same data. Address groups (streets and village names of the
address table) come from :func:`address_part`, built separately because only they
depend on the (possibly huge) address table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Final

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from shapely.ops import nearest_points

from geocoder.categories import CATEGORY_QUALITY, category_label, category_words
from geocoder.entries import ContextLink, Entry, NameForm, Successor, name_form, name_forms
from geocoder.houses import HouseRows, HouseStore, WrittenParts, alley_key, group_name, house_key
from geocoder.loading import PlaceRow, UnitRow, VillageRow
from geocoder.normalize import strip_marks
from geocoder.results import EXACT, MatchLevel, OldUnit
from geocoder.territory import (
    TOWN_WORD,
    Descent,
    PointUnits,
    Territory,
    ordered_links,
    planar_distance,
    unit_type_word,
)
from geocoder.unitwords import STREET, VILLAGE

PRIORITY: Final = {
    "commune": 0.05,
    "old_district": 0.045,
    "province": 0.04,
    "old_province": 0.04,
    "village": 0.03,
    "old_commune": 0.02,
    "street": 0.01,
    "place": 0.0,
}
"""Tie-breaks between equally good readings: a bare "Mai Châu" is the 2025 commune first, a bare
name shared by a village and an abolished commune is the village (a commune is written "xã ...")."""

OLD_POINT: Final = "approximate (pre-2025 commune centre)"
MOVED_POINT: Final = "approximate (the pre-2025 centre lies outside this successor: nearest point inside it)"
MOVED_VILLAGE_POINT: Final = (
    "approximate (the village's recorded point lies outside the commune it is recorded in: "
    "nearest point inside it)"
)
NO_OLD_POINT: Final = "approximate (no pre-2025 centre is known: the 2025 successor's label point)"
VIA_POINT: Final = "approximate (no centre is known for it: that of {name}, which it became part of)"
LATER_DISTRICT_WEIGHT: Final = 0.85
"""Context weight of the district of a commune an abolished one became ("Dân Hạ, TP Hòa Bình")."""
SUCCESSOR_WEIGHT: Final = 0.85
"""Weight of an old commune's link to a commune it became (in 2020 or 2025): named beside it, the text
names one place twice ("xã Ngòi Hoa (nay là xã Mường Hoa)")."""
SEAT_WEIGHT: Final = 0.85
"""Weight of an old xã's link to a town (thị trấn) of its district: writers name the district by its
seat ("xã Ngòi Hoa, TT. Mãn Đức" for huyện Tân Lạc), so the town after the xã is its context."""
UNIT_POINT: Final = "approximate (label point of the unit)"
GROUP_POINT: Final = "approximate (a point of the street or village, nearest to the middle of its points)"
EPONYMOUS_POINT: Final = "approximate (the village of the same name in it: its populated centre)"
EPONYMOUS_BONUS: Final = 0.005
INWARD_DEG: Final = 0.002


def label(*parts: str | None) -> str:
    """Join the non-empty parts with commas, the Vietnamese way (smallest first).

    >>> label("Xóm Lác", None, "Xã Mai Hạ", "Tỉnh Phú Thọ")
    'Xóm Lác, Xã Mai Hạ, Tỉnh Phú Thọ'
    """
    return ", ".join(part for part in parts if part)


# ------------------------------------------------------------------ address groups

GroupKey = tuple[int, str]
"""(commune id, folded street or village name)."""


@dataclass(frozen=True, slots=True)
class AddressGroup:
    """Addresses sharing a street (or, without a street, a village name) in one commune."""

    commune_id: int
    folded: str
    display: str
    lon: float
    lat: float
    count: int
    by_village: bool


@dataclass(frozen=True, slots=True)
class AddressPart:
    """What the address table contributes: its groups and the house-number store."""

    groups: tuple[AddressGroup, ...] = ()
    store: HouseStore = field(default_factory=HouseStore.empty)


def _folded_column(values: pd.Series, fold: Callable[[str | None], str | None]) -> pd.Series:
    """Apply a folding function once per distinct value (NA stays NA)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    folded = np.array([*(fold(str(value)) for value in uniques), None], dtype=object)
    return pd.Series(folded[codes], index=values.index, dtype=object)


def _group_keys(frame: pd.DataFrame) -> tuple[pd.Series, NDArray[np.bool_]]:
    """The group name of each address (street, else village name) and whether it is a village."""
    street = _folded_column(frame["street"], group_name)
    village = _folded_column(frame["village_name"], group_name)
    by_village = (street.isna() & village.notna()).to_numpy(dtype=bool)
    return street.where(~by_village, village), by_village


def _group_ids(commune: NDArray[np.int64], names: pd.Series) -> tuple[NDArray[np.int64], list[GroupKey]]:
    """A group id per address (-1: none) and the (commune, name) key of each group, sorted."""
    name_codes, name_uniques = pd.factorize(names, use_na_sentinel=True)
    size = max(len(name_uniques), 1)
    combined = np.where((name_codes >= 0) & (commune >= 0), commune * size + name_codes, -1)
    mask = combined >= 0
    keys, inverse = np.unique(combined[mask], return_inverse=True)
    group = np.full(len(combined), -1, dtype=np.int64)
    group[mask] = inverse
    return group, [(int(key // size), str(name_uniques[int(key % size)])) for key in keys]


def _medoids(
    lon: NDArray[np.float64], lat: NDArray[np.float64], group: NDArray[np.int64], count: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Per group: the row nearest to the group's mean point, and the group's size."""
    rows = np.flatnonzero(group >= 0)
    members = group[rows]
    sizes = np.bincount(members, minlength=count)
    mean_lon = np.bincount(members, weights=lon[rows], minlength=count) / np.maximum(sizes, 1)
    mean_lat = np.bincount(members, weights=lat[rows], minlength=count) / np.maximum(sizes, 1)
    distance = (lon[rows] - mean_lon[members]) ** 2 + (lat[rows] - mean_lat[members]) ** 2
    order = np.lexsort((distance, members))
    _groups, first = np.unique(members[order], return_index=True)
    return rows[order[first]], sizes


def address_part(frame: pd.DataFrame) -> AddressPart:
    """Group the addresses by (commune, street or village) and build the house-number store."""
    if frame.empty:
        return AddressPart()
    names, by_village = _group_keys(frame)
    commune = frame["commune_id"].fillna(-1).to_numpy(dtype=np.int64)
    group, keys = _group_ids(commune, names)
    lon, lat = frame["lon"].to_numpy(dtype=np.float64), frame["lat"].to_numpy(dtype=np.float64)
    medoids, sizes = _medoids(lon, lat, group, len(keys))
    display = frame["street"].where(~by_village, frame["village_name"]).to_numpy(dtype=object)
    groups = tuple(
        AddressGroup(
            commune_id,
            name,
            str(display[row]),
            float(lon[row]),
            float(lat[row]),
            int(sizes[index]),
            bool(by_village[row]),
        )
        for index, ((commune_id, name), row) in enumerate(zip(keys, medoids, strict=True))
    )
    return AddressPart(groups, _store(frame, group.astype(np.int32)))


def _places(frame: pd.DataFrame) -> list[str | None]:
    """The street and village of each address joined with ', ' (None when neither is there)."""
    pairs = frame["street"].fillna("").astype(str) + "\x00" + frame["village_name"].fillna("").astype(str)
    codes, uniques = pd.factorize(pairs)  # few distinct pairs: join each once
    joined = [", ".join(part for part in str(pair).split("\x00") if part) or None for pair in uniques]
    return [joined[code] for code in codes]


def _store(frame: pd.DataFrame, group: NDArray[np.int32]) -> HouseStore:
    """The house-number store of the address frame (alley and house number as one key)."""
    houses = _folded_column(frame["house_number"], house_key)
    alleys = _folded_column(frame["alley"], alley_key)
    keys = houses.where(alleys.isna(), alleys + ">" + houses)
    registry = pd.to_numeric(frame["registry_code"], errors="coerce").fillna(0).to_numpy(dtype=np.int64)
    return HouseStore.build(
        HouseRows(
            groups=np.where(houses.notna().to_numpy(), group, -1).astype(np.int32),
            houses=keys.fillna("").to_numpy(dtype=object),
            lon=frame["lon"].to_numpy(dtype=np.float64),
            lat=frame["lat"].to_numpy(dtype=np.float64),
            address_id=frame["id"].to_numpy(dtype=np.int64),
            registry=registry,
            successor=frame["successor_id"].fillna(-1).to_numpy(dtype=np.int64),
            retired=(frame["status"].astype(str) == "retired").to_numpy(dtype=bool),
            written=WrittenParts.of(frame["house_number"].tolist(), frame["alley"].tolist(), _places(frame)),
        )
    )


# ------------------------------------------------------------------ entries


@dataclass(frozen=True, slots=True)
class _Settlement:
    """A village as a possible centre of the unit it shares its name with."""

    lon: float
    lat: float
    ward_id: int | None


class _Builder:
    """Collects entries, numbering them in order."""

    def __init__(self, territory: Territory, settlements: dict[tuple[str, ...], list[_Settlement]]) -> None:
        self.territory = territory
        self.entries: list[Entry] = []
        self.province = territory.province_ref()
        self.settlements = settlements

    def centre(self, unit: UnitRow) -> tuple[float, float, str] | None:
        """The village named like a unit and lying in it (its populated centre), nearest its label point.

        A GeoNames populated place called "Lương Sơn" inside Xã Lương Sơn marks where the
        commune's people live better than a point in the middle of its polygon (OSM does the
        same with a boundary's "label" or "admin_centre" node).
        """
        forms = name_forms((unit.name,))
        found = self.settlements.get(forms[0].folded, []) if forms else []
        inside = [s for s in found if self._holds(unit, s)]
        if not inside or unit.lon is None or unit.lat is None:
            return None
        lon, lat = unit.lon, unit.lat
        best = min(inside, key=lambda s: planar_distance(lon, lat, s.lon, s.lat))
        return best.lon, best.lat, EPONYMOUS_POINT

    def _holds(self, unit: UnitRow, settlement: _Settlement) -> bool:
        """Whether a village is in a unit: in its polygon (and, for a ward, placed in it)."""
        if unit.level == 3 and settlement.ward_id != unit.id:
            return False
        return unit.geom is None or self.territory.inside(unit, settlement.lon, settlement.lat)

    def unit_point(self, unit: UnitRow) -> tuple[float | None, float | None, str]:
        """Where a unit-level answer lies: the village of its name in it, else a point inside its polygon."""
        centre = self.centre(unit)
        if centre is not None:
            return centre
        lon, lat = self.territory.inner_point(unit)
        return lon, lat, UNIT_POINT

    def add(self, entry: Entry) -> Entry:
        entry = replace(entry, id=len(self.entries))
        self.entries.append(entry)
        return entry

    def unit_entry(self, unit: UnitRow, kind: str, level_name: str, **extra: object) -> Entry:
        """An entry for an administrative unit at its own point."""
        forms = name_forms((unit.name,))
        fields: dict[str, object] = {
            "id": -1,
            "kind": kind,
            "match_level": level_name,
            "ref": f"admin_unit:{unit.id}",
            "name": unit.full_name,
            "label": unit.full_name,
            "names": forms,
            "unit_type": unit_type_word(unit),
            "type_level": unit.level,
            "lon": unit.lon,
            "lat": unit.lat,
            "current_unit": None,
            "current_province": self.province,
            "old_units": (),
            "contexts": (),
            "priority": PRIORITY[kind],
            "unit_codes": frozenset({unit.code}),
        }
        fields.update(extra)
        return self.add(Entry(**fields))  # type: ignore[arg-type]


def _ward_entries(builder: _Builder) -> None:
    """2025 communes and wards, with their predecessors as old units."""
    territory = builder.territory
    province = territory.province.full_name if territory.province else None
    for ward in territory.wards:
        olds = tuple(territory.old_ref(old) for old in territory.old_communes_of(ward))
        districts = {territory.parent(old) for old in territory.old_communes_of(ward)}
        links = [link for d in districts if d is not None for link in territory.link(d, 0.85)]
        lon, lat, precision = builder.unit_point(ward)
        builder.unit_entry(
            ward,
            "commune",
            "commune",
            lon=lon,
            lat=lat,
            current_unit=territory.ref(ward),
            old_units=olds,
            label=label(ward.full_name, province),
            contexts=tuple([*territory.province_links(), *links]),
            point_precision=precision,
        )


def successor_point(territory: Territory, old: UnitRow, new: UnitRow) -> tuple[float, float, bool, str]:
    """Where to put a pre-2025 commune inside one of its successors, and how good that is."""
    if old.lon is None or old.lat is None:
        return float(new.lon or 0.0), float(new.lat or 0.0), False, NO_OLD_POINT
    if new.geom is None or territory.inside(new, old.lon, old.lat):
        return old.lon, old.lat, True, OLD_POINT
    lon, lat = nearest_inside(new, old.lon, old.lat)
    return lon, lat, False, MOVED_POINT


def nearest_inside(unit: UnitRow, lon: float, lat: float) -> tuple[float, float]:
    """The point of a unit's polygon nearest to a point outside it, a little inside the border."""
    assert unit.geom is not None
    inner = unit.geom.buffer(-INWARD_DEG)
    target = inner if not inner.is_empty else unit.geom
    point = nearest_points(target, shapely.Point(lon, lat))[0]
    return float(point.x), float(point.y)


def village_point(territory: Territory, row: VillageRow, ward: UnitRow | None) -> tuple[float, float, str]:
    """A village's point, moved into the commune it is recorded in when it lies outside that commune.

    Villages recorded with a coarse point (whole minutes of arc) may lie outside their own
    commune; the answer then stays in the commune the records give, at its nearest point.
    """
    if ward is None or ward.geom is None or territory.inside(ward, row.lon, row.lat):
        return row.lon, row.lat, EXACT
    lon, lat = nearest_inside(ward, row.lon, row.lat)
    return lon, lat, MOVED_VILLAGE_POINT


def _placed_by(old: UnitRow, descent: Descent) -> UnitRow:
    """The unit whose centre places an old unit: itself, else the latest unit it became that has one.

    No centre is known for the communes abolished before 2020; the 2020-2025 commune
    they merged into has one (and lay around them).
    """
    for unit in (old, *reversed(descent.path)):
        if unit.lon is not None and unit.lat is not None:
            return unit
    return old


def chain_note(old: UnitRow, descent: Descent, parent: UnitRow | None) -> str | None:
    """The changes from a unit abolished before 2025 to its present unit, or None for one step.

    >>> import datetime as dt
    >>> a = UnitRow(1, "1", 3, "xã", "A", "Xã A", None, None, dt.date(2020, 1, 1), None, None, None, None)
    >>> b = UnitRow(2, "2", 3, "xã", "B", "Xã B", None, None, dt.date(2025, 7, 1), None, None, None, None)
    >>> c = UnitRow(3, "3", 3, "xã", "C", "Xã C", None, dt.date(2025, 7, 1), None, None, None, None, None)
    >>> chain_note(a, Descent(c, "full", (b,)), None)
    'Xã A (until 2020-01-01) -> Xã B (until 2025-07-01) -> Xã C'
    """
    if not descent.path:
        return None
    first = label(old.full_name, parent.full_name if parent is not None else None)
    steps = [
        f"{first} (until {old.valid_to})",
        *(f"{u.full_name} (until {u.valid_to})" for u in descent.path),
    ]
    return " -> ".join([*steps, descent.unit.full_name])


def _successors(territory: Territory, old: UnitRow) -> tuple[Successor, ...]:
    """The 2025 units of an old commune (through every change), the one holding its centre first."""
    found = []
    for descent in territory.descents(old):
        located = _placed_by(old, descent)
        lon, lat, holds, precision = successor_point(territory, located, descent.unit)
        if located is not old and precision == OLD_POINT:
            precision = VIA_POINT.format(name=located.full_name)
        chain = chain_note(old, descent, territory.parent(old))
        found.append(Successor(territory.ref(descent.unit), lon, lat, descent.kind, holds, precision, chain))
    return tuple(sorted(found, key=lambda s: (not s.holds_old_point, s.kind != "full", s.unit.code)))


def unit_names(unit: UnitRow) -> tuple[str, ...]:
    """A unit's short name and its recorded spelling variants, without their type word.

    >>> unit_names(UnitRow(1, "1", 3, "xã", "Tu Lý", "Xã Tu Lý", None, None, None, None, None, None, None,
    ...                    ("Xã Tú Lý",)))
    ('Tu Lý', 'Tú Lý')
    """
    names = [unit.name]
    prefix = unit.unit_type.lower() + " "
    for variant in unit.name_variants:
        short = variant[len(prefix) :] if variant.lower().startswith(prefix) else variant
        if short.strip() and short.strip() not in names:
            names.append(short.strip())
    return tuple(names)


def _old_commune_links(territory: Territory, old: UnitRow) -> tuple[list[UnitRow], list[ContextLink]]:
    """An old commune's districts (its own, those covering its point) and its context links.

    The districts of the communes it became are likely context too ("Dân Hạ, TP Hòa Bình"), and so are
    those communes themselves: 2025-26 text names the old commune with the one it became ("xã Ngòi Hoa
    (nay là xã Mường Hoa)", "xã Mường Hoa (trước đây là xã Ngòi Hoa)"), one place named twice.
    """
    district = territory.parent(old)
    covering = territory.districts_at(old.lon, old.lat) if old.lon is not None and old.lat is not None else []
    districts = [d for d in covering if d is not district]
    later = {territory.parent(unit) for d in territory.descents(old) for unit in d.path}
    links = [*territory.link(district), *(x for d in districts for x in territory.link(d))]
    links += [
        x for d in later if d is not None and d.level == 2 for x in territory.link(d, LATER_DISTRICT_WEIGHT)
    ]
    became = {unit.id: unit for d in territory.descents(old) for unit in (*d.path, d.unit) if unit.level == 3}
    links += [x for unit in became.values() for x in territory.link(unit, SUCCESSOR_WEIGHT)]
    links += _seat_links(territory, old, district)
    return [d for d in (district, *districts) if d is not None], links


def _seat_links(territory: Territory, old: UnitRow, district: UnitRow | None) -> list[ContextLink]:
    """An old xã's links to the towns of its district (:data:`SEAT_WEIGHT`); none for a town itself."""
    if district is None or unit_type_word(old) == TOWN_WORD:
        return []
    towns = territory.towns.get(district.id, [])
    return [x for town in towns if town.id != old.id for x in territory.link(town, SEAT_WEIGHT)]


def _old_units(territory: Territory, old: UnitRow, first: Descent | None) -> tuple[OldUnit, ...]:
    """The old units of an old commune's answer: the 2020-2025 commune (and district) first.

    A commune abolished before 2020 follows, as named in the text, so the batch's
    pre-2025 columns always mean the units of 2020-2025.
    """
    if first is None or not first.path:
        return territory.chain(old)
    named = territory.chain(old)[:-1]
    until = f"named in the text; until {old.valid_to}"
    return (*territory.chain(first.path[-1]), *(replace(unit, precision=until) for unit in named))


def _old_commune_entries(builder: _Builder) -> None:
    """Pre-2025 communes (of every period since 2008), answered with their 2025 successor(s)."""
    territory = builder.territory
    for old in territory.units.values():
        if old.level != 3 or old.is_current:
            continue
        successors = _successors(territory, old)
        first = successors[0] if successors else None
        if first is None and (old.lon is None or old.lat is None):
            continue  # left the province (to Hà Nội in 2008): nothing here to answer with
        descents = {d.unit.code: d for d in territory.descents(old)}
        districts, links = _old_commune_links(territory, old)
        builder.unit_entry(
            old,
            "old_commune",
            "commune",
            names=name_forms(unit_names(old)),
            lon=first.lon if first else old.lon,
            lat=first.lat if first else old.lat,
            current_unit=first.unit if first else None,
            old_units=_old_units(territory, old, descents.get(first.unit.code) if first else None),
            label=label(old.full_name, *(u.full_name for u in territory.chain(old)[1:])),
            contexts=ordered_links([*links, *territory.province_links()]),
            successors=successors,
            point_precision=first.precision if first else OLD_POINT,
            unit_codes=frozenset(
                {
                    old.code,
                    *(s.unit.code for s in successors),
                    *(u.code for d in descents.values() for u in d.path),
                    *(d.code for d in districts),
                }
            ),
        )


def _district_and_province_entries(builder: _Builder) -> None:
    """Pre-2025 districts and both provinces."""
    territory = builder.territory
    for unit in territory.units.values():
        lon, lat, precision = builder.unit_point(unit)
        if unit.level == 3 or lon is None or lat is None:
            continue
        ward = territory.ward_at(lon, lat)
        current = None if ward is None else territory.ref(ward)
        if unit.level == 2:
            builder.unit_entry(
                unit,
                "old_district",
                "district",
                lon=lon,
                lat=lat,
                current_unit=current,
                old_units=territory.chain(unit),
                label=label(*(u.full_name for u in territory.chain(unit))),
                contexts=tuple(territory.province_links()),
                point_precision=precision,
            )
        else:
            builder.unit_entry(
                unit,
                "old_province",
                "province",
                current_unit=current,
                old_units=territory.chain(unit),
                point_precision=UNIT_POINT,
            )
    _current_province(builder)


def _current_province(builder: _Builder) -> None:
    """The 2025 province, at the old province's point (the part of it this database covers)."""
    territory = builder.territory
    new, old = territory.province, territory.old_province
    if new is None or old is None or old.lon is None:
        return
    builder.unit_entry(
        new,
        "province",
        "province",
        lon=old.lon,
        lat=old.lat,
        point_precision="approximate (label point of old Hòa Bình, the part of the province held here)",
    )


def _point_fields(territory: Territory, units: PointUnits) -> dict[str, object]:
    """Entry fields every point feature shares: current and old units, contexts, codes."""
    ward = units.ward
    codes = {u.code for u in units.old_units if u.level != "province"}
    return {
        "current_unit": None if ward is None else territory.ref(ward),
        "old_units": units.old_units,
        "contexts": units.links,
        "unit_codes": frozenset(codes | ({ward.code} if ward else set())),
    }


def _ward_label(territory: Territory, ward: UnitRow | None) -> tuple[str | None, str | None]:
    """The full names of the ward and the 2025 province, for labels."""
    province = territory.province.full_name if territory.province else None
    return (None if ward is None else ward.full_name), province


def _recorded_ward(territory: Territory, row: VillageRow) -> UnitRow | None:
    """The 2025 commune/ward a village is recorded in, if the records say."""
    known = territory.units.get(row.commune_id) if row.commune_id is not None else None
    return known if known is not None and known.is_current and known.level == 3 else None


def _located(territory: Territory, rows: Sequence[VillageRow | PlaceRow]) -> list[PointUnits]:
    """The units of each row's point (its commune when known, else the ward covering it)."""
    wards = territory.wards_at([row.lon for row in rows], [row.lat for row in rows])
    out = []
    for row, covering in zip(rows, wards, strict=True):
        known = territory.units.get(row.commune_id) if row.commune_id is not None else None
        ward = known if known is not None and known.is_current and known.level == 3 else covering
        out.append(territory.point_units(ward, row.lon, row.lat))
    return out


def _settlements(
    villages: Sequence[VillageRow], located: Sequence[PointUnits]
) -> dict[tuple[str, ...], list[_Settlement]]:
    """Villages by each folded form of their name."""
    found: dict[tuple[str, ...], list[_Settlement]] = {}
    for row, units in zip(villages, located, strict=True):
        settlement = _Settlement(row.lon, row.lat, units.ward.id if units.ward else None)
        for form in name_forms((row.name, *row.other_names), strip_unit_word=True):
            found.setdefault(form.folded, []).append(settlement)
    return found


def _eponymous(territory: Territory, forms: tuple[NameForm, ...], units: PointUnits) -> bool:
    """Whether a village bears the name of a commune it lies in (today's or a predecessor)."""
    names = {form.folded for form in forms}
    for link in units.links:
        context = territory.contexts[link.context]
        if context.level == 3 and any(form.folded in names for form in context.names):
            return True
    return False


def _village_entries(
    builder: _Builder,
    villages: Sequence[VillageRow],
    located: Sequence[PointUnits],
    groups: dict[GroupKey, int],
) -> None:
    """Villages, with and without their unit word, and their address group when one exists.

    A village that bears the name of its commune ranks a little higher among namesakes.
    """
    territory = builder.territory
    for row, units in zip(villages, located, strict=True):
        forms = name_forms((row.name, *row.other_names), strip_unit_word=True)
        lon, lat, precision = village_point(territory, row, _recorded_ward(territory, row))
        ward_id = units.ward.id if units.ward else -1
        group = next(
            (groups[(ward_id, " ".join(f.folded))] for f in forms if (ward_id, " ".join(f.folded)) in groups),
            -1,
        )
        builder.add(
            Entry(
                id=-1,
                kind="village",
                match_level="village",
                ref=f"village:{row.id}",
                name=row.name,
                label=label(row.name, *_ward_label(territory, units.ward)),
                names=forms,
                unit_type=strip_marks(row.village_type or "").lower(),
                type_level=VILLAGE,
                lon=lon,
                lat=lat,
                point_precision=precision,
                current_province=builder.province,
                priority=PRIORITY["village"]
                + (EPONYMOUS_BONUS if _eponymous(territory, forms, units) else 0.0),
                group=group,
                **_point_fields(territory, units),  # type: ignore[arg-type]
            )
        )


def _place_names(row: PlaceRow) -> tuple[str, tuple[NameForm, ...]]:
    """A place's display name and name forms (names, then the words for its kind)."""
    forms = list(name_forms(row.names))
    words = [
        replace(form, generic=True)
        for word in category_words(row.kind)
        if (form := name_form(word, CATEGORY_QUALITY))
    ]
    known = {form.folded for form in forms}
    forms += [form for form in words if form.folded not in known]
    return (row.names[0] if row.names else category_label(row.kind)), tuple(forms)


def _place_entries(builder: _Builder, places: Sequence[PlaceRow]) -> None:
    """Places by name and by the words for their kind."""
    territory = builder.territory
    for row, units in zip(places, _located(territory, places), strict=True):
        name, forms = _place_names(row)
        if not forms:
            continue
        street = label(row.house_number, row.street)
        builder.add(
            Entry(
                id=-1,
                kind="place",
                match_level="place",
                ref=f"place:{row.id}",
                name=name,
                label=label(name, street, *_ward_label(territory, units.ward)),
                names=forms,
                unit_type="",
                type_level=0,
                lon=row.lon,
                lat=row.lat,
                current_province=builder.province,
                priority=PRIORITY["place"],
                category=row.kind,
                **_point_fields(territory, units),  # type: ignore[arg-type]
            )
        )


@dataclass(slots=True)
class StreetGroups:
    """All address groups: the address table's first (same ids as its store), then the places'."""

    groups: list[AddressGroup]
    ids: dict[GroupKey, int]
    place_houses: dict[tuple[int, str], tuple[float, float, str]]

    @classmethod
    def start(cls, part: AddressPart) -> StreetGroups:
        groups = list(part.groups)
        return cls(groups, {(g.commune_id, g.folded): i for i, g in enumerate(groups)}, {})

    def add_places(self, places: Sequence[PlaceRow], located: Iterable[PointUnits]) -> None:
        """Streets named in places' address tags (and their house numbers)."""
        for row, units in zip(places, located, strict=True):
            folded = group_name(row.street)
            if folded is None or units.ward is None:
                continue
            key = (units.ward.id, folded)
            if key not in self.ids:
                self.ids[key] = len(self.groups)
                self.groups.append(
                    AddressGroup(units.ward.id, folded, str(row.street), row.lon, row.lat, 0, False)
                )
            house = house_key(row.house_number)
            if house is not None:
                self.place_houses.setdefault((self.ids[key], house), (row.lon, row.lat, f"place:{row.id}"))


def _street_entries(builder: _Builder, streets: StreetGroups, taken: set[int]) -> None:
    """One entry per street (or village name) group not already attached to a village entry."""
    territory = builder.territory
    for index, group in enumerate(streets.groups):
        ward = territory.units.get(group.commune_id)
        form = name_form(group.display)
        if index in taken or form is None or ward is None:
            continue
        units = territory.point_units(ward, group.lon, group.lat)
        level: MatchLevel = "village" if group.by_village else "street"
        builder.add(
            Entry(
                id=-1,
                kind="street",
                match_level=level,
                ref=f"street:{group.commune_id}:{group.folded}",
                name=group.display,
                label=label(group.display, *_ward_label(territory, ward)),
                names=(form,),
                unit_type="",
                type_level=VILLAGE if group.by_village else STREET,
                lon=group.lon,
                lat=group.lat,
                current_province=builder.province,
                priority=PRIORITY["street"],
                group=index,
                point_precision=GROUP_POINT,
                **_point_fields(territory, units),  # type: ignore[arg-type]
            )
        )


@dataclass(frozen=True, slots=True)
class BuiltEntries:
    """The entries and what searching them needs besides: contexts and the street groups."""

    entries: tuple[Entry, ...]
    streets: StreetGroups


def build_entries(
    territory: Territory, villages: Sequence[VillageRow], places: Sequence[PlaceRow], part: AddressPart
) -> BuiltEntries:
    """Every entry, in a fixed order: units, villages, places, streets."""
    located = _located(territory, villages)
    builder = _Builder(territory, _settlements(villages, located))
    _ward_entries(builder)
    _old_commune_entries(builder)
    _district_and_province_entries(builder)
    streets = StreetGroups.start(part)
    streets.add_places(places, _located(territory, places))
    _village_entries(builder, villages, located, streets.ids)
    _place_entries(builder, places)
    taken = {entry.group for entry in builder.entries if entry.kind == "village" and entry.group >= 0}
    _street_entries(builder, streets, taken)
    return BuiltEntries(tuple(builder.entries), streets)
