"""What the geocoder index holds: searchable entries and the contexts that qualify them.

An *entry* is something a query can name: a 2025 commune/ward, a pre-2025 commune or
district, a province, a village, a place, a street. A *context* is an administrative
unit that may be written next to an entry's name ("xóm Lác, Mai Châu"): each entry
links to the contexts it lies in - its 2025 ward, the pre-2025 commune(s) and
district(s) it was in, both provinces - so a query written with the units of either
period finds it. Contexts are shared, so a query matches each one only once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from addresses.types import UnitRef
from geocoder.normalize import analyze
from geocoder.results import EXACT, MatchLevel, OldUnit
from geocoder.unitwords import UNIT_WORDS, VILLAGE, UnitWord

EntryKind = Literal[
    "commune", "old_commune", "old_district", "province", "old_province", "village", "place", "street"
]

NO_TYPE: Final = 0
"""``type_level`` of an entry no unit word describes (a place)."""


@dataclass(frozen=True, slots=True)
class NameForm:
    """One way to write a name: folded and accented tokens (aligned) and how good a reading it is."""

    folded: tuple[str, ...]
    accented: tuple[str, ...]
    quality: float = 1.0
    lead: int = 0
    generic: bool = False
    """A word for the kind of place ("trạm y tế"), not a name of its own."""


def name_form(text: str, quality: float = 1.0) -> NameForm | None:
    """The normalised tokens of a name, or None when nothing is left.

    >>> name_form("Xóm Lác").accented, name_form("Hoà Bình").accented
    (('xóm', 'lác'), ('hòa', 'bình'))
    """
    analyzed = analyze(text)
    if not analyzed.tokens:
        return None
    return NameForm(analyzed.folded_tokens, analyzed.tokens, quality)


def leading_unit_word(form: NameForm) -> UnitWord | None:
    """The village word a name starts with ("Xóm Lác" -> xóm), when a name follows it.

    Only village words count: "Quan Hạ" is a village, not a district (quận).

    >>> leading_unit_word(name_form("Làng Thôi")).folded, leading_unit_word(name_form("Quan Ha"))
    ('lang', None)
    """
    for size in (3, 2, 1):
        if len(form.folded) > size:
            word = UNIT_WORDS.get(" ".join(form.folded[:size]))
            if word is not None and word.level == VILLAGE:
                return word
    return None


def name_forms(texts: tuple[str, ...], *, strip_unit_word: bool = False) -> tuple[NameForm, ...]:
    """Distinct name forms of several spellings; optionally each also without its leading unit word.

    >>> [f.folded for f in name_forms(("Làng Thôi", "Lang Thoi"), strip_unit_word=True)]
    [('lang', 'thoi'), ('thoi',)]
    """
    found: list[NameForm] = []
    seen: set[tuple[str, ...]] = set()
    for text in texts:
        form = name_form(text)
        if form is None:
            continue
        word = leading_unit_word(form) if strip_unit_word else None
        forms = [form]
        if word is not None:
            forms = [
                NameForm(form.folded, form.accented, form.quality, lead=word.size),
                NameForm(form.folded[word.size :], form.accented[word.size :], form.quality),
            ]
        for item in forms:
            if item.folded not in seen:
                seen.add(item.folded)
                found.append(item)
    return tuple(found)


@dataclass(frozen=True, slots=True)
class Context:
    """An administrative unit as context: its names, level (1-3) and unit word (folded)."""

    id: int
    unit_id: int
    code: str
    level: int
    unit_type: str
    names: tuple[NameForm, ...]


@dataclass(frozen=True, slots=True)
class ContextLink:
    """An entry lies in a context; ``weight`` < 1 when that is only likely (a merged ward's other parts)."""

    context: int
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class Successor:
    """A 2025 unit a pre-2025 commune became (all of it: "full", or a part: "partial").

    ``lon``/``lat`` is the point to answer with: the old commune's point when it lies in
    this successor, else a point inside the successor nearest to it.
    """

    unit: UnitRef
    lon: float
    lat: float
    kind: str
    holds_old_point: bool
    precision: str
    chain: str | None = None
    """For a unit abolished before 2025: the changes that led here, e.g.
    "Xã Hạ Bì, Huyện Kim Bôi (until 2020-01-01) -> Thị trấn Bo (until 2025-07-01) -> Xã Kim Bôi"."""


@dataclass(frozen=True, slots=True)
class Entry:
    """Something a query can name, with everything a result needs.

    ``type_level``/``unit_type`` describe the unit word that fits its name (a ward:
    commune level, "xa"/"phuong"; a village: village level); ``group`` is its address
    group (house numbers), -1 if none; ``unit_codes`` the unit codes a filter may name.
    """

    id: int
    kind: EntryKind
    match_level: MatchLevel
    ref: str
    name: str
    label: str
    names: tuple[NameForm, ...]
    unit_type: str
    type_level: int
    lon: float
    lat: float
    current_unit: UnitRef | None
    current_province: UnitRef | None
    old_units: tuple[OldUnit, ...]
    contexts: tuple[ContextLink, ...]
    priority: float
    point_precision: str = EXACT
    successors: tuple[Successor, ...] = ()
    group: int = -1
    unit_codes: frozenset[str] = frozenset()
    category: str | None = None
