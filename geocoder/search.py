"""Forward geocoding and autocomplete over a :class:`geocoder.index.GeocoderIndex`.

``search(index, "xom lac mai chau")`` reads the query once (:mod:`geocoder.query`),
generates candidates from the posting lists, scores each (:mod:`geocoder.scoring`)
and turns the best into :class:`geocoder.results.GeocodeResult`. A pre-2025 commune
answers at its own (approximate) point but with its 2025 successor as current unit; a
commune split in 2025 answers once per successor (the one holding its old centre
first) unless a point (``filters.near``) decides. A typed location or registry code
resolves directly.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal, final, get_args

from addresses.codes import (
    decode,
    encode,
    format_location_code,
    format_registry_code,
    group_location_code,
    parse_any_code,
)
from addresses.errors import InvalidCodeError, InvalidParameterError, OutOfTerritoryError
from addresses.queries import AddressParts, format_address
from addresses.types import UnitRef
from geocoder.build import label
from geocoder.entries import Entry, Successor
from geocoder.houses import HouseHit
from geocoder.index import GeocoderIndex, IndexState
from geocoder.parse import ParsedAddress
from geocoder.query import Query, read_query
from geocoder.results import EXACT, Codes, GeocodeResult, MatchLevel, OldUnit, ResultKind
from geocoder.scoring import Match, Matcher
from geocoder.territory import planar_distance

MAX_LIMIT: Final = 100
POINTS_KEPT: Final = 16384
"""Points whose codes :func:`point_codes` keeps (the points of the entries answered most)."""
SPLIT_SHARE: Final = 0.98
"""Score of the other successors of a split commune, relative to the first."""
COHERE_MARGIN: Final = 2
"""Matches weighed in full beyond ``limit`` (repeats and filters may drop some)."""
NEAR_SHARE: Final = 0.25
"""How much of the score a ``near`` point can move (by distance, exponentially)."""
UNSURE_CEILING: Final = 0.75
"""The highest score of an answer that another answer ties or beats (a tie, or an alternative).

Below 0.8, from which a score reads as sure: only a first answer that nothing ties can be
sure. When the first answer scores more than the ceiling, such answers are scaled by
``UNSURE_CEILING / first score``, so their order is kept."""
TIE_NOTE: Final = "nothing in the text tells this answer apart from another of the same score: also {others}"
SAME_UNIT_TIE: Final = "{label} (another {kind} in the same commune/ward, {distance} m away, at {code})"
APART_M: Final = 200.0
"""Two tied answers in one 2025 unit are different things when their points lie this far apart."""
HOUSE_NOT_FOUND: Final = "house number {house} not found in this street or village: the answer is its middle"

ResultType = Literal[
    "address",
    "street",
    "village",
    "place",
    "commune",
    "district",
    "province",
    "old_commune",
    "old_district",
    "old_province",
    "location_code",
    "point",
]
"""What ``SearchFilters.types`` may name: result kinds and match levels."""
RESULT_TYPES: Final = frozenset(get_args(ResultType))


@dataclass(frozen=True, slots=True)
class SearchFilters:
    """Restrict or steer a search.

    ``unit_code``: a GSO code of a 2025 commune/ward or of a pre-2025 commune or district
    (codes were reused in 2025, so both periods are matched); ``types``: result kinds or
    match levels to keep (see :data:`RESULT_TYPES`); ``bbox``: (west, south, east, north);
    ``near``: (lon, lat) - closer answers score higher, and a split commune answers with
    the successor nearest to it.
    """

    unit_code: str | None = None
    types: frozenset[str] | None = None
    bbox: tuple[float, float, float, float] | None = None
    near: tuple[float, float] | None = None
    near_radius_m: float = 5000.0

    def __post_init__(self) -> None:
        if self.types is not None and not self.types <= RESULT_TYPES:
            unknown = ", ".join(sorted(self.types - RESULT_TYPES))
            raise InvalidParameterError(
                "types", f"unknown type(s) {unknown}; use {', '.join(sorted(RESULT_TYPES))}"
            )
        if self.bbox is not None:
            west, south, east, north = self.bbox
            if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
                raise InvalidParameterError(
                    "bbox", f"need west < east and south < north in degrees, got {self.bbox}"
                )
        if self.near is not None and not (-180 <= self.near[0] <= 180 and -90 <= self.near[1] <= 90):
            raise InvalidParameterError("near", f"not a lon/lat point: {self.near}")
        if self.near_radius_m <= 0:
            raise InvalidParameterError("near_radius_m", "must be positive")

    def admits(self, result: GeocodeResult, unit_codes: frozenset[str]) -> bool:
        """Whether a result passes the unit, type and box filters."""
        if self.types is not None and result.kind not in self.types and result.match_level not in self.types:
            return False
        if self.unit_code is not None and self.unit_code not in unit_codes:
            return False
        if self.bbox is not None:
            west, south, east, north = self.bbox
            return west <= result.lon <= east and south <= result.lat <= north
        return True

    def may_admit(self, entry: Entry) -> bool:
        """Whether any result of an entry can pass the filters (checked before scoring it)."""
        addressable = self.types is not None and "address" in self.types and entry.group >= 0
        if self.types is not None and not self.types & {entry.kind, entry.match_level} and not addressable:
            return False
        if self.unit_code is not None and self.unit_code not in entry.unit_codes:
            return False
        if self.bbox is None:
            return True
        points = [(entry.lon, entry.lat), *((s.lon, s.lat) for s in entry.successors)]
        west, south, east, north = self.bbox
        return any(west <= lon <= east and south <= lat <= north for lon, lat in points)

    @property
    def restricts(self) -> bool:
        """Whether the filters leave some entries out (not just reorder them)."""
        return self.types is not None or self.unit_code is not None or self.bbox is not None

    def nearness(self, lon: float, lat: float) -> float:
        """Score factor for a point: 1 at ``near``, down to 1 - NEAR_SHARE far away (1 without ``near``)."""
        if self.near is None:
            return 1.0
        distance = planar_distance(self.near[0], self.near[1], lon, lat)
        return 1 - NEAR_SHARE + NEAR_SHARE * math.exp(-distance / self.near_radius_m)


NO_FILTERS: Final = SearchFilters()


def _check_limit(limit: int) -> None:
    """Reject a limit outside 1..MAX_LIMIT."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidParameterError("limit", f"must be 1..{MAX_LIMIT}, got {limit}")


def _state(index: GeocoderIndex | IndexState) -> IndexState:
    return index.state if isinstance(index, GeocoderIndex) else index


# ------------------------------------------------------------------ results


@functools.lru_cache(maxsize=POINTS_KEPT)
def point_codes(lon: float, lat: float, registry: str | None = None) -> Codes:
    """The codes of a point (and of the address there), kept a while: entries answer often.

    >>> point_codes(105.34, 20.82) is point_codes(105.34, 20.82)
    True
    """
    try:
        location = encode(lon, lat)
    except OutOfTerritoryError:
        location = ""
    return Codes(
        location_code=location,
        location_code_display=group_location_code(location) if location else "",
        registry_code=registry,
        registry_code_display=format_registry_code(registry) if registry else None,
    )


_SET: Final = object.__setattr__


def _result(  # noqa: PLR0913 - the fields of a result
    *,
    lon: float,
    lat: float,
    score: float,
    kind: ResultKind,
    match_level: MatchLevel,
    label: str,
    name: str,
    ref: str,
    current_unit: UnitRef | None,
    current_province: UnitRef | None,
    old_units: tuple[OldUnit, ...],
    codes: Codes,
    parsed: ParsedAddress,
    point_precision: str = EXACT,
    house_number: str | None = None,
    note: str | None = None,
) -> GeocodeResult:
    """``GeocodeResult(...)`` built here, field by field, as its ``__init__`` would.

    The frozen dataclass's ``__init__`` is interpreted Python (:mod:`geocoder.results` is not
    compiled: its results travel pickled) that sets each field through a global lookup and
    a call: the dearest step of an answer. Compiled, the same ``object.__setattr__`` calls
    cost a fraction. tests/geocoder/test_search_results.py checks the two agree, field for field.
    """
    result: GeocodeResult = object.__new__(GeocodeResult)
    _SET(result, "lon", lon)
    _SET(result, "lat", lat)
    _SET(result, "score", score)
    _SET(result, "kind", kind)
    _SET(result, "match_level", match_level)
    _SET(result, "label", label)
    _SET(result, "name", name)
    _SET(result, "ref", ref)
    _SET(result, "current_unit", current_unit)
    _SET(result, "current_province", current_province)
    _SET(result, "old_units", old_units)
    _SET(result, "codes", codes)
    _SET(result, "parsed", parsed)
    _SET(result, "point_precision", point_precision)
    _SET(result, "house_number", house_number)
    _SET(result, "note", note)
    return result


def _changed(result: GeocodeResult, *, score: float, note: str | None) -> GeocodeResult:
    """The result with another score and note (``dataclasses.replace`` is many times dearer)."""
    return _result(
        lon=result.lon,
        lat=result.lat,
        score=score,
        kind=result.kind,
        match_level=result.match_level,
        label=result.label,
        name=result.name,
        ref=result.ref,
        current_unit=result.current_unit,
        current_province=result.current_province,
        old_units=result.old_units,
        codes=result.codes,
        parsed=result.parsed,
        point_precision=result.point_precision,
        house_number=result.house_number,
        note=note,
    )


@final
class _Answer:
    """A result before filtering, with the unit codes filters look at (a plain class: see scoring.Run)."""

    __slots__ = ("raw", "result", "unit_codes")

    def __init__(self, result: GeocodeResult, unit_codes: frozenset[str], raw: float) -> None:
        self.result = result
        self.unit_codes = unit_codes
        self.raw = raw
        """The score before :func:`_unsure` scales it (``result.score`` when not scaled yet)."""


@final
class _Found:
    """A collected answer: the result, its entry, its score before scaling, whether it is scaled."""

    __slots__ = ("entry", "raw", "result", "scaled")

    def __init__(self, result: GeocodeResult, entry: Entry, raw: float, scaled: bool) -> None:
        self.result = result
        self.entry = entry
        self.raw = raw
        self.scaled = scaled


def _plain(
    entry: Entry, score: float, parsed: ParsedAddress, note: str | None = None, scale: float = 1.0
) -> _Answer:
    """A result at the entry's own point (its score times ``scale``)."""
    result = _result(
        lon=entry.lon,
        lat=entry.lat,
        score=score * scale,
        kind=entry.kind,
        match_level=entry.match_level,
        label=entry.label,
        name=entry.name,
        ref=entry.ref,
        current_unit=entry.current_unit,
        current_province=entry.current_province,
        old_units=entry.old_units,
        codes=point_codes(entry.lon, entry.lat),
        parsed=parsed,
        point_precision=entry.point_precision,
        note=note,
    )
    return _Answer(result, entry.unit_codes, score)


def _successor_answer(  # noqa: PLR0913, PLR0917 - the answer's parts
    entry: Entry, successor: Successor, score: float, parsed: ParsedAddress, split: bool, scale: float = 1.0
) -> _Answer:
    """A pre-2025 commune answered in one of its 2025 successors (its score times ``scale``)."""
    part = "một phần thuộc " if successor.kind == "partial" else ""
    province = entry.current_province.full_name if entry.current_province else None
    now = label(successor.unit.full_name, province)
    note = successor.chain
    if split:
        split_note = (
            f"{entry.name} was split; this is the part now in {successor.unit.full_name} "
            "(give a village or a point to choose)"
        )
        note = split_note if note is None else f"{note}; {split_note}"
    result = _result(
        lon=successor.lon,
        lat=successor.lat,
        score=score * scale,
        kind="old_commune",
        match_level="commune",
        label=f"{entry.label} (nay: {part}{now})",
        name=entry.name,
        ref=entry.ref,
        current_unit=successor.unit,
        current_province=entry.current_province,
        old_units=entry.old_units,
        codes=point_codes(successor.lon, successor.lat),
        parsed=parsed,
        point_precision=successor.precision,
        note=note,
    )
    return _Answer(result, entry.unit_codes, score)


def _house_answer(  # noqa: PLR0913, PLR0917 - the answer's parts
    entry: Entry, hit: HouseHit, score: float, query: Query, note: str | None, scale: float = 1.0
) -> _Answer:
    """An address found by house number in the entry's street or village (its score times ``scale``)."""
    house = query.house.text if query.house else ""
    street = entry.name
    name = format_address(AddressParts(house_number=house, street=street))
    province = entry.current_province.full_name if entry.current_province else None
    ward = entry.current_unit.full_name if entry.current_unit else None
    result = _result(
        lon=hit.lon,
        lat=hit.lat,
        score=score * scale,
        kind="address",
        match_level="address",
        label=label(name, ward, province),
        name=name,
        ref=hit.ref,
        current_unit=entry.current_unit,
        current_province=entry.current_province,
        old_units=entry.old_units,
        codes=point_codes(hit.lon, hit.lat, hit.registry_code),
        parsed=query.parsed,
        house_number=house,
        note=note,
    )
    return _Answer(result, entry.unit_codes, score)


def _successors(entry: Entry, filters: SearchFilters) -> tuple[Successor, ...]:
    """An old commune's successors, the one nearest ``near`` first when a point is given."""
    if filters.near is None:
        return entry.successors
    lon, lat = filters.near
    return tuple(sorted(entry.successors, key=lambda s: planar_distance(lon, lat, s.lon, s.lat)))


def answers(match: Match, query: Query, filters: SearchFilters, scale: float = 1.0) -> list[_Answer]:
    """The results one scored entry gives (a split commune gives one per successor).

    Their scores times ``scale`` (:func:`_unsure` scales the answers behind the first: when
    that is known, they are built scaled, not built twice).
    """
    entry = match.entry
    if entry.kind == "old_commune" and entry.successors:
        successors = _successors(entry, filters)
        split = len(successors) > 1
        found = [
            _successor_answer(
                entry, s, match.score * (1.0 if i == 0 else SPLIT_SHARE), query.parsed, split, scale
            )
            for i, s in enumerate(successors)
        ]
        if match.conflict is None:
            return found
        return [_Answer(_noted(a.result, match.conflict), a.unit_codes, a.raw) for a in found]
    if match.house is not None:
        return [_house_answer(entry, match.house, match.score, query, match.conflict, scale)]
    note = HOUSE_NOT_FOUND.format(house=query.house.text) if match.house_tried and query.house else None
    return [_plain(entry, match.score, query.parsed, _joined(note, match.conflict), scale)]


def _joined(note: str | None, more: str | None) -> str | None:
    """Two notes as one ("; " between them), either may be None.

    >>> _joined("a", "b"), _joined(None, "b"), _joined("a", None)
    ('a; b', 'b', 'a')
    """
    if more is None:
        return note
    return f"{note}; {more}" if note else more


def _noted(result: GeocodeResult, note: str) -> GeocodeResult:
    """The result with one more note."""
    return _changed(result, score=result.score, note=_joined(result.note, note))


def _ranked(matches: Iterable[Match], filters: SearchFilters) -> list[tuple[float, Match]]:
    """Matches by score (with the ``near`` factor), then by tie-break priority."""
    ranked = [(m.score * filters.nearness(m.entry.lon, m.entry.lat), m) for m in matches]
    ranked.sort(key=lambda item: (-item[0], -item[1].entry.priority, item[1].entry.id))
    return ranked


def _collect(
    ranked: list[tuple[float, Match]], query: Query, filters: SearchFilters, limit: int
) -> list[_Found]:
    """The first ``limit`` results that pass the filters, without repeats, with their entries.

    Once the first is found, the answers of the next matches are built scaled as
    :func:`_unsure` scales them (without ``near``, which rescales them here).
    """
    out: list[_Found] = []
    seen: set[tuple[str, str | None]] = set()
    factor = 1.0
    for score, match in ranked:
        scaled = bool(out) and filters.near is None
        for answer in answers(match, query, filters, factor if scaled else 1.0):
            result = answer.result
            key = (result.ref, result.current_unit.code if result.current_unit else None)
            if key in seen or not filters.admits(result, answer.unit_codes):
                continue
            seen.add(key)
            raw = answer.raw
            if score != match.score:
                rescored = min(1.0, score * result.score / match.score if match.score else score)
                result = _changed(result, score=rescored, note=result.note)
                raw = rescored
            out.append(_Found(result, match.entry, raw, scaled))
            if len(out) == 1:
                factor = _unsure_factor(result.score)
            if len(out) == limit:
                return out
    return out


def _literal(match: Match, query: Query) -> int:
    """How many words of the name read are written as the text writes them, marks and all ("Bon" for
    "bon", not "Bôn")."""
    written = match.entry.names[match.run.variant].accented
    return sum(token in written for token in query.accented[match.run.start : match.run.end])


def _literal_first(ranked: list[tuple[float, Match]], query: Query) -> list[tuple[float, Match]]:
    """The matches tied with the first, those whose name is written as the text writes it first.

    Text typed without marks reads "bon" as "Bon" and "Bôn" alike (they tie, and the answer says
    so); the name written as typed comes first among them.
    """
    first = ranked[0][0]
    tied = 1
    while tied < len(ranked) and math.isclose(ranked[tied][0], first, rel_tol=1e-9):
        tied += 1
    head = sorted(ranked[:tied], key=lambda item: -_literal(item[1], query))
    return head + ranked[tied:]


def _unsure_factor(first: float) -> float:
    """How :func:`_unsure` scales the answers behind a first answer of this score."""
    return min(1.0, UNSURE_CEILING / first) if first > 0 else 1.0


def _may_tie(ranked: list[tuple[float, Match]]) -> bool:
    """Whether the two best matches score the same (only then are more answers built)."""
    return len(ranked) >= 2 and math.isclose(ranked[0][0], ranked[1][0], rel_tol=1e-9)


def _apart(one: GeocodeResult, other: GeocodeResult) -> bool:
    """Whether two answers are different things: in other 2025 units, or of one kind and far apart.

    A village and the commune of its name, or an old commune and the 2025 commune that
    continues it, are one answer in one unit: the unit holds both.
    """
    unit, other_unit = one.current_unit, other.current_unit
    if unit is None or other_unit is None or unit.code != other_unit.code:
        return True
    far = planar_distance(one.lon, one.lat, other.lon, other.lat) > APART_M
    return one.kind == other.kind and far


def _tied(found: list[_Found]) -> list[int]:
    """The first answer and the answers of its score that are other things (nothing tells them apart)."""
    first = found[0]
    return [0] + [
        index
        for index in range(1, len(found))
        if math.isclose(found[index].raw, first.raw, rel_tol=1e-9)
        and _apart(first.result, found[index].result)
    ]


def _unsure(found: list[_Found]) -> list[tuple[GeocodeResult, Entry]]:
    """Answers that another answer ties or beats score at most :data:`UNSURE_CEILING`; ties say so.

    Two communes (or villages) of one name with nothing in the text to choose between them
    ("xã Cao Sơn" without its district), or two villages of one name in one commune, are
    returned as alternatives, none of them sure, each with a note naming the others. The
    alternatives behind a first answer are scaled below the ceiling in the same way (their
    order kept): an alternative never reads as sure.
    """
    if len(found) < 2:
        return [(one.result, one.entry) for one in found]
    tied = _tied(found)
    factor = _unsure_factor(found[0].result.score)
    results = [one.result for one in found]
    out = []
    for index, one in enumerate(found):
        result = one.result
        if index == 0 and len(tied) == 1:
            out.append((result, one.entry))
            continue
        # built scaled (:func:`_collect`), or scaled by 1: the same result, no copy
        scaled = one.scaled or factor == 1.0
        lowered = result if scaled else _changed(result, score=result.score * factor, note=result.note)
        if index in tied and len(tied) > 1:
            lowered = _noted(lowered, TIE_NOTE.format(others=_others(results, tied, result)))
        out.append((lowered, one.entry))
    return out


def _others(found: list[GeocodeResult], tied: list[int], result: GeocodeResult) -> str:
    """The tied answers other than ``result`` (and than what is one answer with it), for its note."""
    others = [o for i in tied if (o := found[i]) is not result and _apart(result, o)]
    return "; ".join(dict.fromkeys(_describe(result, other) for other in others))


def _describe(result: GeocodeResult, other: GeocodeResult) -> str:
    """How a tie note names another answer: its label, and where it lies when in the same unit."""
    same_unit = result.current_unit is not None and other.current_unit == result.current_unit
    if not same_unit:
        return other.label
    distance = planar_distance(result.lon, result.lat, other.lon, other.lat)
    code = other.codes.location_code_display or f"{other.lon:.5f}, {other.lat:.5f}"
    return SAME_UNIT_TIE.format(
        label=other.label, kind=other.kind.replace("_", " "), distance=round(distance), code=code
    )


# ------------------------------------------------------------------ codes

_CODE_RE: Final = re.compile(r"^\s*(?:[0-9A-Za-z]{3,4}[\s\-]?){2}[0-9A-Za-z]{3,4}\s*$")


def typed_code(text: str) -> tuple[str, str] | None:
    """("registry" or "location", canonical code) when the text is a full code.

    Text with a letter codes never use ("xom lac 123": O and L are not in the alphabet)
    is not a code (None: search it as text). A text of the right shape and alphabet whose
    check character is wrong raises InvalidCodeError; the caller searches it as text first.

    >>> typed_code("8vg-dhs-6hb"), typed_code("1234 567 894"), typed_code("xom lac")
    (('location', '8VGDHS6HB'), ('registry', '1234567894'), None)
    >>> typed_code("xom lac 123") is None
    True
    """
    if _CODE_RE.match(text) is None:
        return None
    compact = re.sub(r"[\s\-]", "", text)
    if not any(char.isdigit() for char in compact):
        return None
    if not (len(compact) == 10 and compact.isdigit()) and len(compact) != 9:
        return None
    try:
        parsed = parse_any_code(compact)
    except InvalidCodeError as error:
        if error.reason == "check_mismatch":
            raise
        return None
    return parsed.kind, parsed.code


def _address_result(
    state: IndexState, hit: HouseHit, parsed: ParsedAddress, note: str | None
) -> GeocodeResult:
    """An address found by code, with its units from the point."""
    territory = state.territory
    ward = territory.ward_at(hit.lon, hit.lat)
    units = territory.point_units(ward, hit.lon, hit.lat)
    group = int(state.houses.groups[hit.row]) if hit.row >= 0 else -1
    street = state.addresses.groups[group].display if 0 <= group < len(state.addresses.groups) else None
    codes = point_codes(hit.lon, hit.lat, hit.registry_code)
    written = format_address(AddressParts(house_number=hit.house_number, alley=hit.alley, street=street))
    name = written or f"Địa chỉ {codes.registry_code_display or codes.location_code_display}"
    return GeocodeResult(
        lon=hit.lon,
        lat=hit.lat,
        score=1.0,
        kind="address",
        match_level="address",
        label=label(
            name, ward.full_name if ward else None, *(u.full_name for u in [territory.province] if u)
        ),
        name=name,
        ref=hit.ref,
        current_unit=None if ward is None else territory.ref(ward),
        current_province=territory.province_ref(),
        old_units=units.old_units,
        codes=codes,
        parsed=parsed,
        note=note,
        house_number=hit.house_number,
    )


def _registry_results(state: IndexState, code: str, parsed: ParsedAddress) -> list[GeocodeResult]:
    hit = state.houses.by_registry(int(code))
    if hit is None:
        return []
    note = None
    if hit.registry_code != code:
        note = f"address {format_registry_code(code)} is retired; this is its successor in force"
    return [_address_result(state, hit, parsed, note)]


def _location_results(state: IndexState, code: str, parsed: ParsedAddress) -> list[GeocodeResult]:
    cell = decode(code)
    store = state.houses
    rows = store.in_box(*cell.bounds)
    if len(rows):
        row = min(
            rows, key=lambda r: planar_distance(cell.lon, cell.lat, float(store.lon[r]), float(store.lat[r]))
        )
        hit = store.hit(int(row))
        return [_address_result(state, hit, parsed, None)]
    territory = state.territory
    ward = territory.ward_at(cell.lon, cell.lat)
    units = territory.point_units(ward, cell.lon, cell.lat)
    display = format_location_code(cell.code)
    kind: ResultKind = "location_code"
    level: MatchLevel = "point"
    return [
        GeocodeResult(
            lon=cell.lon,
            lat=cell.lat,
            score=1.0,
            kind=kind,
            match_level=level,
            label=label(display, ward.full_name if ward else None),
            name=display,
            ref=f"location_code:{cell.code}",
            current_unit=None if ward is None else territory.ref(ward),
            current_province=territory.province_ref(),
            old_units=units.old_units,
            codes=point_codes(cell.lon, cell.lat),
            parsed=parsed,
            point_precision=EXACT,
        )
    ]


# ------------------------------------------------------------------ public API


def _run(
    state: IndexState, text: str, limit: int, filters: SearchFilters, prefix: bool
) -> list[tuple[GeocodeResult, Entry]]:
    """Read, match, rank and collect (search, autocomplete and batch share it)."""
    query = read_query(text, words=state.vocab.words)
    if not query.folded:
        return []
    matcher = Matcher(state, query, prefix=prefix)
    admit = filters.may_admit if filters.restricts else None
    found = matcher.candidates(admit=admit)
    bounds = [m for entry, seeds in found if (m := matcher.best(entry, seeds, cohere=False)) is not None]
    matches = (
        matcher.cohere_best(bounds, limit + COHERE_MARGIN)
        if filters.near is None
        else [matcher.cohere(m) for m in bounds]
    )
    ranked = _ranked(matches, filters)
    if not _may_tie(ranked):
        return _unsure(_collect(ranked, query, filters, limit))
    ranked = _literal_first(ranked, query)
    return _unsure(_collect(ranked, query, filters, limit + COHERE_MARGIN))[:limit]


def _code_results(state: IndexState, text: str) -> list[GeocodeResult] | None:
    """The answer to a typed code, or None when the text is not shaped like one."""
    code = typed_code(text)
    if code is None:
        return None
    kind, canonical = code
    parsed = ParsedAddress()
    if kind == "registry":
        return _registry_results(state, canonical, parsed)
    return _location_results(state, canonical, parsed)


def search(
    index: GeocoderIndex | IndexState, query: str, *, limit: int = 5, filters: SearchFilters | None = None
) -> list[GeocodeResult]:
    """Geocode a free-text Vietnamese address, place name or typed code: the best results first.

    >>> # see tests/geocoder/test_search.py for examples against the bundled data
    """
    _check_limit(limit)
    state = _state(index)
    text = query.strip()
    if not text:
        return []
    try:
        coded = _code_results(state, text)
    except InvalidCodeError:  # the shape of a code, a wrong check: text first, else the error
        found = _run(state, text, limit, filters or NO_FILTERS, prefix=False)
        if not found:
            raise
        return [result for result, _entry in found]
    if coded is not None:
        return coded[:limit]
    return [result for result, _entry in _run(state, text, limit, filters or NO_FILTERS, prefix=False)]


@dataclass(frozen=True, slots=True)
class Best:
    """The best answer to a query and the index entry behind it (None for a typed code)."""

    result: GeocodeResult | None
    entry: Entry | None


def best(index: GeocoderIndex | IndexState, query: str, *, filters: SearchFilters | None = None) -> Best:
    """The single best answer with its entry (what batch geocoding caches by street or village)."""
    state = _state(index)
    text = query.strip()
    try:
        coded = _code_results(state, text) if text else []
    except InvalidCodeError:  # the shape of a code, a wrong check: text first, else the error
        found = _run(state, text, 1, filters or NO_FILTERS, prefix=False)
        if not found:
            raise
        return Best(found[0][0], found[0][1])
    if coded is not None:
        return Best(coded[0] if coded else None, None)
    found = _run(state, text, 1, filters or NO_FILTERS, prefix=False)
    return Best(found[0][0], found[0][1]) if found else Best(None, None)


def autocomplete(
    index: GeocoderIndex | IndexState, prefix: str, *, limit: int = 10, filters: SearchFilters | None = None
) -> list[GeocodeResult]:
    """Complete what is being typed: earlier words must match, the last one is a prefix."""
    _check_limit(limit)
    text = prefix.lstrip()
    if not text.strip():
        return []
    found = _run(_state(index), text, limit, filters or NO_FILTERS, prefix=not text[-1].isspace())
    return [result for result, _entry in found]
