"""Read a free-text Vietnamese address into labelled components, without a database.

The parser reads the way a person does, in any order:

1. The text is prepared (:func:`geocoder.normalize.prepare`: NFC, lower case, canonical
   tone marks, abbreviations expanded, "Việt Nam" dropped) and split into parts at commas,
   semicolons, ``|``, brackets and spaced dashes.
2. Inside a part, a unit word (xã, huyện, thôn, ngõ, quốc lộ, ...) starts a component
   whose name runs to the next unit word or to the end of the part, so unseparated text
   ("xa doc lap tp hoa binh") reads as well as comma-separated text. A number that opens
   a part is the house number; what follows a house or alley number, in its part or as
   the next part, is the street ("12A Trần Phú", "1 ngõ 122 B, Hoàng Hoa Thám").
   Anything else without a unit word is *unlabeled* and left to the search layer.
3. Names the caller knows (:class:`KnownNames`; by default the provinces Hòa Bình and
   Phú Thọ) label whole unlabeled pieces, and are split off the end of a longer piece in
   the last part ("huyện tân lạc hòa bình" → district "tân lạc" + province "hòa bình";
   in an earlier part, "Cây Xăng Lương Sơn Hòa Bình, ...", they are more likely a name).
4. When the whole input is a single part, a trailing pair of syllables is split off a
   long village name (3+ syllables) or commune/district name (4+) as an unlabeled piece,
   because most Vietnamese place names have two syllables ("xom lac mai chau" → village
   "lac" + unlabeled "mai chau").
5. "thành phố X" is a district-level city unless X is a centrally-run city (Hà Nội, Hồ
   Chí Minh/HCM/Sài Gòn, Hải Phòng, Đà Nẵng, Cần Thơ, Huế) and no province follows it.

Rules for unit words:

* Written with marks, a unit word must match exactly ("huyền" is a name, "huyện" a unit);
  written without marks it matches the folded form ("huyen").
* Unit words that are also everyday syllables (bản, làng, thôn, khu, ấp, khóm, buôn,
  quận, đường, đại lộ, phố, ngõ, ngách, hẻm, kiệt) count without marks only at the start
  of a part or right after a number ("ban suoi ky", but not the "ban" inside a name).
* "tổ" and the numbered roads (quốc lộ, tỉnh lộ, huyện lộ, đường tỉnh) need a number
  after them; any other unit word followed by a number takes just that number as its name
  ("tổ 3 xóm mỏ", "ngõ 5 trần phú"), except đường/phố/đại lộ ("đường 3 tháng 2").
* House words (số, nhà, số nhà) count only at the start of a part or after a number, and
  only before a number ("số 5", "nhà 28").
* A unit word must be followed by a name in its part, and a unit word right after a unit
  word that has no name yet belongs to that name ("phuong phuong lam").
* Typing slips in "huyện", "phường" and the "thành" of "thành phố" (one letter deleted,
  doubled or swapped with its neighbour, the first letter kept) are accepted: "huyyện",
  "huen", "hyuện", "phuường", "thàh phố".
* English suffixes on an unlabeled piece label it: "Giếng Xạ Hamlet", "Cư Yên Commune",
  "... Ward/Village/Town/District/City/Province/Street/Road".
* When two components of one level appear, the later (more general, in Vietnamese order)
  one wins and the earlier goes to ``extra``: "tổ 3, xóm mỏ" → village "mỏ".
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from addresses.vocabulary import ENGLISH_TERMS, UNIT_TERMS, Reach, UnitLevel, UnitTerm
from geocoder.normalize import fold, prepare, strip_marks


class Level(StrEnum):
    """Administrative or street level of an address component, finest first."""

    HOUSE_NUMBER = "house_number"
    ALLEY = "alley"
    STREET = "street"
    VILLAGE = "village"
    COMMUNE = "commune"
    DISTRICT = "district"
    PROVINCE = "province"

    __hash__ = str.__hash__  # C-speed dict lookups; equal to its value, hashed alike


_RANK: Final = {level: rank for rank, level in enumerate(Level)}

ComponentDict = dict[str, str]


@dataclass(frozen=True, slots=True)
class Component:
    """One labelled piece: level, unit word, name (canonical, lower case) and its fold.

    ``kind`` is the canonical unit word ("huyện" even when typed "huen" or "H."), the
    English word for "... Commune" style input, or "" when none was written.
    """

    level: Level
    kind: str
    name: str
    folded: str

    @property
    def text(self) -> str:
        """Unit word and name together, e.g. "quốc lộ 6".

        >>> Component(Level.STREET, "quốc lộ", "6", "6").text
        'quốc lộ 6'
        """
        return f"{self.kind} {self.name}" if self.kind else self.name

    def to_dict(self) -> ComponentDict:
        """Plain dict (JSON friendly)."""
        return {"level": self.level.value, "kind": self.kind, "name": self.name, "folded": self.folded}


@dataclass(frozen=True, slots=True)
class ParsedAddress:
    """Components read from one address text; names are canonical, lower case.

    ``unlabeled`` holds the pieces whose level the parser cannot know (village, commune
    or place name?), in reading order, with ``unlabeled_folded`` aligned to it.
    """

    house_number: Component | None = None
    alley: Component | None = None
    street: Component | None = None
    village: Component | None = None
    commune: Component | None = None
    district: Component | None = None
    province: Component | None = None
    unlabeled: tuple[str, ...] = ()
    unlabeled_folded: tuple[str, ...] = ()
    extra: tuple[Component, ...] = ()

    def get(self, level: Level) -> Component | None:
        """The component of one level, or None.

        >>> parse("xã độc lập").get(Level.COMMUNE).name
        'độc lập'
        """
        component: Component | None = getattr(self, level.value)
        return component

    @property
    def labelled(self) -> tuple[Component, ...]:
        """All labelled components, finest level first (``extra`` not included)."""
        return tuple(c for c in (self.get(level) for level in Level) if c is not None)

    def to_dict(self) -> dict[str, ComponentDict | list[str] | list[ComponentDict] | None]:
        """Plain dict (JSON friendly): one entry per level, then the unlabeled pieces."""
        out: dict[str, ComponentDict | list[str] | list[ComponentDict] | None] = {}
        for level in Level:
            component = self.get(level)
            out[level.value] = None if component is None else component.to_dict()
        out["unlabeled"] = list(self.unlabeled)
        out["unlabeled_folded"] = list(self.unlabeled_folded)
        out["extra"] = [c.to_dict() for c in self.extra]
        return out


# --- unit words ----------------------------------------------------------------------


_Reach = Reach


@dataclass(frozen=True, slots=True)
class _Unit:
    accented: tuple[str, ...]
    folded: tuple[str, ...]
    level: Level
    reach: _Reach
    numbered: bool  # must be followed by a number: "quốc lộ 6", "số 5", "tổ 3"
    open_name: bool  # a number does not end the name: "đường 3 tháng 2"
    city: bool  # "thành phố": district or province, decided at the end
    kind: str  # the canonical text, "quốc lộ"


_P, _D, _C, _V = Level.PROVINCE, Level.DISTRICT, Level.COMMUNE, Level.VILLAGE
_S, _A, _H = Level.STREET, Level.ALLEY, Level.HOUSE_NUMBER
_MARKED, _EDGE = _Reach.MARKED, _Reach.BOUNDARY

_LEVELS: Final = {
    UnitLevel.PROVINCE: _P,
    UnitLevel.DISTRICT: _D,
    UnitLevel.COMMUNE: _C,
    UnitLevel.VILLAGE: _V,
    UnitLevel.STREET: _S,
    UnitLevel.ALLEY: _A,
    UnitLevel.HOUSE: _H,
}


def _unit(term: UnitTerm) -> _Unit:
    """How the parser reads a unit word of the vocabulary."""
    accented = tuple(term.word.split())
    folded = tuple(strip_marks(term.word).split())
    flags = (term.numbered, term.open_name, term.city)
    return _Unit(accented, folded, _LEVELS[term.level], term.reach, *flags, " ".join(accented))


_UNITS: Final = tuple(_unit(term) for term in UNIT_TERMS)
"""The unit words, from the vocabulary (:data:`addresses.vocabulary.UNIT_TERMS`)."""
_TYPO_PRONE: Final = frozenset(t.word for t in UNIT_TERMS if t.typo_prone)
# Typo variants that are real syllables, so never read as a unit word.
_REAL_SYLLABLES: Final = frozenset({"phong", "phung"})
_ADMIN_LEVELS: Final = frozenset({_P, _D, _C})
# What the rest of a part is once a house or alley number has been read.
_AFTER_NUMBER: Final = {_H: _S, _A: _S}
_SUFFIX_LETTERS: Final = frozenset("abcdefg")
_NUMBER_RE: Final = re.compile(r"\d+[a-z]{0,3}(?:/\d+[a-z]{0,3})*")
# A token (as clean_punctuation leaves it: "/" only inside numbers) or a part separator.
_ITEM_RE: Final = re.compile(r"[^\W_]+(?:/\d[^\W_]*)*|[,;|()\[\]\n\r\t–—]|\s-+(?=\s)")
_CENTRAL_CITIES: Final = frozenset(
    {
        ("ha", "noi"),
        ("ho", "chi", "minh"),
        ("hcm",),
        ("sai", "gon"),
        ("hai", "phong"),
        ("da", "nang"),
        ("can", "tho"),
        ("hue",),
    },
)
_POSTFIX: Final = {tuple(t.word.split()): _LEVELS[t.level] for t in ENGLISH_TERMS}
"""English unit words, after the name they qualify."""
# Minimum syllables before a single-part input's last name loses its last two (rule 4).
_TAIL_SPLIT_MIN: Final = {_V: 3, _C: 4, _D: 4}
_MAX_NAME_TOKENS: Final = 4


def _typos(word: str) -> set[str]:
    """One letter deleted, doubled or swapped with the next; the first letter is kept.

    >>> {"huyyen", "huuyen", "huen", "hyuen", "huyne"} <= _typos("huyen")
    True
    >>> "phong" in _typos("phuong")  # a real syllable, as in "Cao Phong"
    False
    """
    out = {word[:k] + word[k + 1 :] for k in range(1, len(word))}
    out |= {word[: k + 1] + word[k:] for k in range(len(word))}
    out |= {word[:k] + word[k + 1] + word[k] + word[k + 2 :] for k in range(1, len(word) - 1)}
    out.discard(word)
    return out - _REAL_SYLLABLES


def _index_units() -> tuple[dict[str, tuple[_Unit, ...]], dict[str, tuple[_Unit, ...]]]:
    """Unit words by folded first token (longest first), and by typo of the first token."""
    exact: dict[str, list[_Unit]] = {}
    typos: dict[str, list[_Unit]] = {}
    for unit in sorted(_UNITS, key=lambda u: -len(u.folded)):
        exact.setdefault(unit.folded[0], []).append(unit)
        if unit.kind in _TYPO_PRONE:
            for variant in _typos(unit.folded[0]):
                typos.setdefault(variant, []).append(unit)
    return (
        {k: tuple(v) for k, v in exact.items()},
        {k: tuple(v) for k, v in typos.items() if k not in exact},
    )


_UNITS_BY_FIRST, _TYPOS_BY_FIRST = _index_units()
_STARTERS: Final = frozenset(_UNITS_BY_FIRST) | frozenset(_TYPOS_BY_FIRST)


# --- known names ---------------------------------------------------------------------

NameKey = tuple[str, ...]


def _name_key(name: str) -> NameKey:
    """Folded tokens of a name, without a leading administrative unit word.

    >>> _name_key("Tỉnh Hoà Bình"), _name_key("TP. Hòa Bình"), _name_key("Phú Thọ")
    (('hoa', 'binh'), ('hoa', 'binh'), ('phu', 'tho'))
    """
    folded = tuple(fold(name).split())
    for unit in _UNITS_BY_FIRST.get(folded[0], ()) if folded else ():
        size = len(unit.folded)
        if unit.level in _ADMIN_LEVELS and folded[:size] == unit.folded and len(folded) > size:
            return folded[size:]
    return folded


@dataclass(frozen=True, slots=True)
class KnownNames:
    """Names the caller already knows, as folded token tuples; build with from_names."""

    provinces: frozenset[NameKey] = frozenset()
    districts: frozenset[NameKey] = frozenset()
    communes: frozenset[NameKey] = frozenset()

    @classmethod
    def from_names(
        cls,
        *,
        provinces: Iterable[str] = (),
        districts: Iterable[str] = (),
        communes: Iterable[str] = (),
    ) -> KnownNames:
        """Fold the names (any accents, with or without their unit word) once.

        >>> sorted(KnownNames.from_names(districts=["Huyện Mai Châu"]).districts)
        [('mai', 'chau')]
        """
        return cls(
            frozenset(map(_name_key, provinces)),
            frozenset(map(_name_key, districts)),
            frozenset(map(_name_key, communes)),
        )

    def by_level(self) -> tuple[tuple[Level, frozenset[NameKey]], ...]:
        """The name sets, coarsest level first."""
        return ((_P, self.provinces), (_D, self.districts), (_C, self.communes))


DEFAULT_KNOWN: Final = KnownNames.from_names(provinces=("Hòa Bình", "Phú Thọ"))
"""Hòa Bình (the old province, still typed) and Phú Thọ (its province since 2025)."""


# --- reading the parts ---------------------------------------------------------------


@dataclass(slots=True)
class _Tokens:
    """The tokens of one part, canonical and folded (aligned)."""

    accented: tuple[str, ...]
    folded: tuple[str, ...]


class _Piece:
    """A component being read: mutable, cheap to create (no dataclass machinery)."""

    __slots__ = ("accented", "city", "folded", "kind", "level", "part")

    def __init__(self, part: int, level: Level | None = None, kind: str = "", city: bool = False) -> None:
        self.part = part
        self.level = level
        self.kind = kind
        self.city = city
        self.accented: list[str] = []
        self.folded: list[str] = []

    def split_off(self, size: int, level: Level | None) -> _Piece:
        """Cut the last ``size`` tokens off into a new piece of ``level``."""
        tail = _Piece(self.part, level)
        tail.accented, tail.folded = self.accented[-size:], self.folded[-size:]
        del self.accented[-size:], self.folded[-size:]
        return tail


def _tokenize(text: str) -> list[_Tokens]:
    """Prepare the text and cut it into parts of tokens.

    Tokens are the same as :func:`geocoder.normalize.tokens` gives; parts end at commas,
    semicolons, "|", brackets, line breaks and spaced dashes.

    >>> [t.accented for t in _tokenize("Bản Lác - Pom Coong, Mai Châu (Hoà Bình), Viêt Nam")]
    [('bản', 'lác'), ('pom', 'coong'), ('mai', 'châu'), ('hòa', 'bình')]
    """
    items = _ITEM_RE.findall(prepare(text))
    folded = strip_marks("\0".join(items)).split("\0")  # NUL is never in an item
    if len(folded) != len(items):  # cannot happen with NFC text; stay safe anyway
        folded = [strip_marks(item) for item in items]
    parts: list[_Tokens] = []
    start = 0
    for end, item in enumerate([*items, ","]):
        if not item[0].isalnum():  # a separator
            if end > start:
                parts.append(_Tokens(tuple(items[start:end]), tuple(folded[start:end])))
            start = end + 1
    return parts


def _is_number(folded_token: str) -> bool:
    """House-number shaped: "12", "12a", "40bis", "1806/127/2"."""
    return folded_token[0].isdigit() and _NUMBER_RE.fullmatch(folded_token) is not None


def _spelled_as(unit: _Unit, toks: _Tokens, i: int, boundary: bool) -> bool:
    """Whether the tokens at ``i`` spell ``unit`` in a place where it counts.

    The caller has already matched the first folded token.
    """
    if len(unit.folded) == 1:  # the common case, kept cheap
        written: tuple[str, ...] = (toks.accented[i],)
    else:
        end = i + len(unit.folded)
        if toks.folded[i + 1 : end] != unit.folded[1:]:
            return False
        written = toks.accented[i:end]
    if written == unit.accented:
        return unit.reach is not _Reach.BOUNDARY or boundary
    if any(w != a and not w.isascii() for w, a in zip(written, unit.accented, strict=True)):
        return False  # other marks: a name such as "huyền", "phương", "tịnh"
    return unit.reach is _Reach.ANYWHERE or boundary


def _unit_at(toks: _Tokens, i: int, boundary: bool) -> _Unit | None:
    """The unit word spelled at token ``i``, if any (longest first, then typos)."""
    units = _UNITS_BY_FIRST.get(toks.folded[i])
    if units is not None:
        for unit in units:
            if _spelled_as(unit, toks, i, boundary):
                return unit
        return None
    for unit in _TYPOS_BY_FIRST.get(toks.folded[i], ()):
        if toks.folded[i + 1 : i + len(unit.folded)] == unit.folded[1:]:
            return unit
    return None


def _has_name_after(unit: _Unit, toks: _Tokens, i: int) -> bool:
    """Whether a name follows the unit word at ``i`` (not the end, not another level)."""
    j = i + len(unit.folded)
    if j >= len(toks.folded):
        return False
    if unit.numbered:
        return _is_number(toks.folded[j])
    if toks.folded[j] not in _STARTERS:
        return True
    following = _unit_at(toks, j, boundary=False)
    return following is None or following.level is unit.level


class _Reader:
    """Reads the tokens of each part into pieces, left to right."""

    def __init__(self) -> None:
        self.pieces: list[_Piece] = []
        self.part = 0
        self.toks = _Tokens((), ())
        self.current = _Piece(0)

    def read(self, part: int, toks: _Tokens) -> None:
        self.part, self.toks, self.current = part, toks, _Piece(part)
        folded = toks.folded
        i = self._house_number() if _is_number(folded[0]) else 0
        while i < len(folded):
            unit = self._unit_starting(i) if folded[i] in _STARTERS else None
            if unit is None:
                self.current.accented.append(toks.accented[i])
                self.current.folded.append(folded[i])
                i += 1
            else:
                i = self._start(unit, i)
        self._flush()

    def _unit_starting(self, i: int) -> _Unit | None:
        if self.current.kind and not self.current.accented:
            return None  # a unit word that still waits for its name
        boundary = i == 0 or _is_number(self.toks.folded[i - 1])
        unit = _unit_at(self.toks, i, boundary)
        if unit is None or not _has_name_after(unit, self.toks, i):
            return None
        return unit

    def _house_number(self) -> int:
        self.current = _Piece(self.part, _H)
        return self._take_number(0, after=_S)

    def _start(self, unit: _Unit, i: int) -> int:
        self._flush()
        self.current = _Piece(self.part, unit.level, unit.kind, unit.city)
        i += len(unit.folded)
        if unit.open_name or not _is_number(self.toks.folded[i]):
            return i
        return self._take_number(i, after=_AFTER_NUMBER.get(unit.level))

    def _take_number(self, i: int, after: Level | None) -> int:
        """Name the current piece by the number at ``i`` (plus a lone letter), close it."""
        accented, folded = self.toks.accented[i], self.toks.folded[i]
        i += 1
        if i < len(self.toks.folded) and self.toks.folded[i] in _SUFFIX_LETTERS:
            accented, folded = accented + self.toks.accented[i], folded + self.toks.folded[i]
            i += 1
        self.current.accented.append(accented)
        self.current.folded.append(folded)
        self._flush()
        self.current = _Piece(self.part, after)
        return i

    def _flush(self) -> None:
        if self.current.accented:
            self.pieces.append(self.current)


# --- reading the whole text ----------------------------------------------------------


def _postfix_size(piece: _Piece) -> int:
    """Tokens of the English unit word ending a piece (0: none), leaving a name before it."""
    for size in (2, 1):
        if len(piece.folded) > size and tuple(piece.folded[-size:]) in _POSTFIX:
            return size
    return 0


def _apply_postfix(pieces: list[_Piece]) -> None:
    """Label unlabeled pieces ending in an English unit word ("Cư Yên Commune")."""
    for piece in pieces:
        size = _postfix_size(piece) if piece.level is None else 0
        if size:
            word = tuple(piece.folded[-size:])
            piece.level = _POSTFIX[word]
            piece.city = word == ("city",)
            piece.kind = " ".join(piece.accented[-size:])
            del piece.accented[-size:], piece.folded[-size:]


def _is_below(level: Level | None, other: Level) -> bool:
    """Whether ``level`` (None: unknown) is finer than ``other``."""
    return level is None or _RANK[level] < _RANK[other]


def _known_suffix(folded: list[str], names: frozenset[NameKey]) -> int:
    """Length of the longest known name ending ``folded`` and leaving a token, or 0."""
    for size in range(min(len(folded) - 1, _MAX_NAME_TOKENS), 0, -1):
        if tuple(folded[-size:]) in names:
            return size
    return 0


def _peel(piece: _Piece, known: KnownNames) -> list[_Piece]:
    """Split known coarser names off the end of a piece ("tân lạc hòa bình")."""
    tail: list[_Piece] = []
    for level, names in known.by_level():
        if not names or not _is_below(piece.level, level):
            continue
        size = _known_suffix(piece.folded, names)
        if size:
            tail.insert(0, piece.split_off(size, level))
    return [piece, *tail]


def _split_long_tail(pieces: list[_Piece]) -> None:
    """Single-part input: cut two trailing syllables off a long last name (rule 4)."""
    index = len(pieces) - 1
    while index > 0 and pieces[index].level is _P and not pieces[index].kind:
        index -= 1
    piece = pieces[index]
    minimum = _TAIL_SPLIT_MIN.get(piece.level) if piece.kind and piece.level else None
    if minimum is None or len(piece.folded) < minimum:
        return
    if any(token[0].isdigit() for token in piece.folded):
        return
    pieces.insert(index + 1, piece.split_off(2, None))


def _street_after_number(pieces: list[_Piece]) -> None:
    """A part without unit word right after a house/alley number part is the street.

    ("1 ngõ 122 B, Hoàng Hoa Thám"); only when no street was found otherwise.
    """
    if any(piece.level is _S for piece in pieces):
        return
    for before, piece in itertools.pairwise(pieces):
        if piece.level is None and before.level in (_H, _A) and before.part < piece.part:
            piece.level = _S
            return


def _known_level(key: NameKey, known: KnownNames, is_last: bool) -> Level | None:
    """Level of a whole unlabeled piece that is a known name, or None.

    A name known at several levels is the province only when it is the last piece.
    """
    levels = [level for level, names in known.by_level() if key in names]
    if len(levels) == 1:
        return levels[0]
    return _P if is_last and _P in levels else None


def _label_known(pieces: list[_Piece], known: KnownNames) -> None:
    """Label the unlabeled pieces that are known names."""
    last = len(pieces) - 1
    for index, piece in enumerate(pieces):
        if piece.level is None:
            piece.level = _known_level(tuple(piece.folded), known, index == last)


def _resolve_cities(pieces: list[_Piece]) -> None:
    """Make "thành phố X" a province for a central city that no province follows."""
    for index, piece in enumerate(pieces):
        if not piece.city or tuple(piece.folded) not in _CENTRAL_CITIES:
            continue
        if all(later.level is not _P for later in pieces[index + 1 :]):
            piece.level = _P


def _component(piece: _Piece, level: Level) -> Component:
    """Freeze a piece into a component."""
    return Component(level, piece.kind, " ".join(piece.accented), " ".join(piece.folded))


def _assemble(pieces: list[_Piece]) -> ParsedAddress:
    """One component per level (the later wins, the earlier goes to ``extra``)."""
    slots: dict[Level, Component] = {}
    extra: list[Component] = []
    unlabeled: list[_Piece] = []
    for piece in pieces:
        if piece.level is None:
            unlabeled.append(piece)
            continue
        if piece.level in slots:
            extra.append(slots[piece.level])
        slots[piece.level] = _component(piece, piece.level)
    return ParsedAddress(
        house_number=slots.get(_H),
        alley=slots.get(_A),
        street=slots.get(_S),
        village=slots.get(_V),
        commune=slots.get(_C),
        district=slots.get(_D),
        province=slots.get(_P),
        unlabeled=tuple(" ".join(p.accented) for p in unlabeled),
        unlabeled_folded=tuple(" ".join(p.folded) for p in unlabeled),
        extra=tuple(extra),
    )


def parse(text: str, *, known: KnownNames = DEFAULT_KNOWN) -> ParsedAddress:
    """Read an address text into labelled components (see the module docstring).

    >>> p = parse("Xã Độc Lập, Thành phố Hòa Bình, tỉnh Hòa Bình")
    >>> p.commune.text, p.district.text, p.province.text
    ('xã độc lập', 'thành phố hòa bình', 'tỉnh hòa bình')
    >>> p = parse("so 5 ngo 12 duong tran hung dao p.tan hoa tp hb")
    >>> p.house_number.name, p.alley.name, p.street.folded, p.commune.name, p.district.name
    ('5', '12', 'tran hung dao', 'tan hoa', 'hòa bình')
    >>> p = parse("xom lac mai chau")
    >>> p.village.name, p.unlabeled
    ('lac', ('mai chau',))
    """
    parts = _tokenize(text)
    reader = _Reader()
    for index, toks in enumerate(parts):
        reader.read(index, toks)
    pieces = reader.pieces
    _apply_postfix(pieces)
    last_part = len(parts) - 1
    pieces = [
        peeled
        for piece in pieces
        for peeled in (_peel(piece, known) if piece.part == last_part else (piece,))
    ]
    if len(parts) == 1 and pieces:
        _split_long_tail(pieces)
    _street_after_number(pieces)
    _label_known(pieces, known)
    _resolve_cities(pieces)
    return _assemble(pieces)
