"""Unit words (xã, huyện, xóm, quốc lộ, ...) as the geocoder reads them in a token list.

A unit word says what kind of thing the name after it is. The geocoder uses them to
check that a name is read at the right level ("huyện Mai Châu" is the old district,
not the ward "xã Mai Châu"), and to explain them away when scoring. Levels are
small integers, coarsest first: 1 province, 2 district, 3 commune, 4 village,
5 street, 6 alley, 7 house.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Final

from rapidfuzz.distance import OSA

from addresses.vocabulary import ENGLISH_TERMS, UNIT_TERMS, UnitLevel
from geocoder.normalize import strip_marks

VILLAGE: Final = int(UnitLevel.VILLAGE)
STREET: Final = int(UnitLevel.STREET)
ALLEY: Final = int(UnitLevel.ALLEY)
HOUSE: Final = int(UnitLevel.HOUSE)


@dataclass(frozen=True, slots=True)
class UnitWord:
    """A unit word: its canonical folded spelling (tokens joined by spaces) and level.

    ``postfix``: an English word, which qualifies the name before it ("Tân Mai commune").
    """

    folded: str
    level: int
    postfix: bool = False
    types: frozenset[str] = frozenset()
    """The folded Vietnamese unit words an English one translates (empty: any of its level)."""

    @property
    def size(self) -> int:
        """How many tokens it spans."""
        return self.folded.count(" ") + 1


UNIT_WORDS: Final = {
    **{strip_marks(t.word): UnitWord(strip_marks(t.word), int(t.level)) for t in UNIT_TERMS},
    **{
        t.word: UnitWord(t.word, int(t.level), postfix=True, types=frozenset(strip_marks(w) for w in t.types))
        for t in ENGLISH_TERMS
    },
}
"""Every unit word by its folded spelling (from :mod:`addresses.vocabulary`)."""

ACCENTED: Final = {strip_marks(t.word): t.word for t in UNIT_TERMS} | {t.word: t.word for t in ENGLISH_TERMS}
"""The accented spelling of each folded unit word."""

ENGLISH: Final = frozenset(t.word for t in ENGLISH_TERMS)
"""Unit words written after the name ("Cư Yên Commune")."""

_FIRST_TOKENS: Final = frozenset(word.split()[0] for word in UNIT_WORDS)
_TYPO_PRONE: Final = (
    *(strip_marks(t.word).split()[0] for t in UNIT_TERMS if t.typo_prone),
    *(t.word for t in ENGLISH_TERMS if t.typo_prone),
)
_MAX_SIZE: Final = 3


def _accent_fits(accented: str, canonical: str) -> bool:
    """Whether the marks typed in ``accented`` all occur in ``canonical`` (a unit word).

    >>> _accent_fits("huyyện", "huyện"), _accent_fits("huyền", "huyện"), _accent_fits("huen", "huyện")
    (True, False, True)
    """
    return all(char.isascii() or char in canonical for char in accented)


@functools.lru_cache(maxsize=4096)
def typo_of_unit_word(folded: str, accented: str) -> str | None:
    """The typo-prone unit word (huyện, phường, the "thành" of thành phố) a token misspells, if any.

    One deletion, insertion, substitution or swap, the first letter kept, and no marks
    the unit word does not have: "huyyện", "huyn", "puong" yes; "huyền", "phong" no.

    >>> typo_of_unit_word("huyyen", "huyyện"), typo_of_unit_word("puong", "puong")
    ('huyen', 'phuong')
    >>> typo_of_unit_word("phong", "phong"), typo_of_unit_word("huyen", "huyền")
    (None, None)
    """
    for word in _TYPO_PRONE:
        if folded == word or len(folded) < 3 or abs(len(folded) - len(word)) > 1:
            continue
        if folded[0] != word[0] or folded in _REAL_SYLLABLES:
            continue
        if OSA.distance(folded, word) <= 1 and _accent_fits(accented, _TYPO_ACCENTED[word]):
            return word
    return None


_TYPO_ACCENTED: Final = {
    **{strip_marks(t.word).split()[0]: t.word.split()[0] for t in UNIT_TERMS if t.typo_prone},
    **{t.word: t.word for t in ENGLISH_TERMS if t.typo_prone},
}
_REAL_SYLLABLES: Final = frozenset({"phong", "phung", "thach", "thinh", "thang", "huyet"})


def unit_word_at(folded: tuple[str, ...], accented: tuple[str, ...], i: int) -> UnitWord | None:
    """The unit word starting at token ``i``, longest first, or None.

    Written with marks, a unit word must carry exactly its own marks ("huyền" is a name);
    written without marks it matches its fold. The typo-prone words also match with one slip,
    when a name follows (a slip of a name is as likely: "Phhong commune" is "Phong" misspelt).

    >>> unit_word_at(("thanh", "pho", "hoa", "binh"), ("thành", "phố", "hòa", "bình"), 0)
    UnitWord(folded='thanh pho', level=2, postfix=False, types=frozenset())
    >>> unit_word_at(("huyen",), ("huyền",), 0) is None
    True
    >>> unit_word_at(("phhong", "lam"), ("phhong", "lam"), 0).folded
    'phuong'
    >>> unit_word_at(("phhong", "commune"), ("phhong", "commune"), 0) is None
    True

    The long English unit words too, after a name ("Mit villafe", "Tan Mai comune"):

    >>> unit_word_at(("mit", "villafe"), ("mit", "villafe"), 1).folded
    'village'
    >>> unit_word_at(("villafe",), ("villafe",), 0) is None
    True
    """
    first = folded[i]
    if first not in _FIRST_TOKENS:
        meant = typo_of_unit_word(first, accented[i])
        if meant is None:
            return None
        first = meant
    slipped = first != folded[i]
    for size in range(min(_MAX_SIZE, len(folded) - i), 0, -1):
        key = " ".join((first, *folded[i + 1 : i + size]))
        word = UNIT_WORDS.get(key)
        if word is not None and _spelled(accented[i : i + size], ACCENTED[key], slipped):
            named = _name_at(folded, i - 1) if word.postfix else _name_at(folded, i + size)
            return word if not slipped or named else None
    return None


def _name_at(folded: tuple[str, ...], i: int) -> bool:
    """Whether token ``i`` may be part of a name: there is one, and it starts no unit word."""
    return 0 <= i < len(folded) and folded[i] not in _FIRST_TOKENS


def _spelled(accented: tuple[str, ...], canonical: str, typo: bool) -> bool:
    """Whether typed tokens spell a unit word: exact marks, no marks, or (typos) marks it has."""
    text = " ".join(accented)
    if text == canonical or text.isascii():
        return True
    if typo:
        return _accent_fits(text, canonical)
    return all(a == c or a.isascii() for a, c in zip(text.split(), canonical.split(), strict=False))
