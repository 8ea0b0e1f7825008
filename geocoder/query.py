"""A query read once: normalised tokens, unit words, house number, token weights.

Each token gets a weight for scoring: a name token weighs 1, the tokens of a unit word
:data:`UNIT_WORD_WEIGHT` together, a house number with its house word
:data:`HOUSE_WEIGHT` together - so "Xã" or "Số 12" matter less than the names.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Final

from addresses.vocabulary import (
    ENGLISH_FILLERS,
    FILLER_PHRASES,
    LANDMARK_NOUNS,
    UNIT_TERMS,
    VIETNAMESE_FILLERS,
)
from geocoder.houses import alley_key, house_key
from geocoder.normalize import analyze, clean_punctuation, prepare, strip_marks
from geocoder.parse import Component, KnownNames, Level, ParsedAddress, parse
from geocoder.unitwords import ALLEY, HOUSE, UnitWord, unit_word_at

UNIT_WORD_WEIGHT: Final = 0.5
HOUSE_WEIGHT: Final = 0.6
MAX_TOKENS: Final = 40
PARSES_KEPT: Final = 64
"""Texts whose parse :func:`parsed_text` keeps (a request reads its text twice: to search, to echo it).

Few on purpose, as :data:`geocoder.normalize.PREPARED_KEPT`.
"""
FILLER_WEIGHT: Final = 0.1
"""Weight of an English filler word ("of", "in", "now"): it names nothing."""


@dataclass(frozen=True, slots=True)
class HouseSpec:
    """The house number (and alley) of a query: lookup keys and the token positions they use."""

    keys: tuple[str, ...]
    text: str
    positions: frozenset[int]


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of name tokens the text sets apart: between separators, unit words and fillers.

    ``level`` is that of the unit word that qualifies it ("xã" before it, "commune" after
    it), None when none does: "Ngọc Lâu" in "Ngoc Lau commune (Lac Son)" is a commune,
    "Lac Son" is unlabelled.
    """

    start: int
    end: int
    level: int | None


@dataclass(frozen=True, slots=True)
class Query:
    """A query ready to match: aligned folded/accented tokens, weights, unit words, house number."""

    text: str
    folded: tuple[str, ...]
    accented: tuple[str, ...]
    weights: tuple[float, ...]
    unit_words: tuple[UnitWord | None, ...]
    house: HouseSpec | None
    parsed: ParsedAddress
    total_weight: float
    segments: tuple[Segment, ...] = ()
    landmark_heads: frozenset[int] = frozenset()
    """Positions of the common noun of a landmark before a place name ("hồ" of "hồ Hòa Bình")."""
    landmark_names: frozenset[int] = frozenset()
    """Positions of a landmark noun and the name after it in its segment (:func:`landmarks`)."""

    def segment_at(self, position: int) -> Segment | None:
        """The segment holding token ``position``, if any."""
        return next((s for s in self.segments if s.start <= position < s.end), None)

    def unit_word_before(self, start: int) -> tuple[int, UnitWord] | None:
        """The Vietnamese unit word that ends right before token ``start`` (its first position and itself)."""
        for size in (1, 2, 3):
            begin = start - size
            if begin < 0:
                break
            word = self.unit_words[begin]
            if word is not None and word.size == size:
                return None if word.postfix else (begin, word)
        return None

    def unit_word_after(self, end: int) -> tuple[int, UnitWord] | None:
        """An English unit word right after token ``end - 1`` ("Cư Yên Commune", "Tân Mai commune, ...")."""
        word = self.unit_words[end] if end < len(self.unit_words) else None
        if word is not None and word.postfix:
            return end, word
        return None

    def unit_word_around(self, start: int, end: int) -> tuple[int, UnitWord] | None:
        """The unit word that qualifies the name at ``start:end``: Vietnamese before it, English after."""
        return self.unit_word_before(start) or self.unit_word_after(end)


_NUMBERED: Final = frozenset({"to", "quoc lo", "tinh lo", "huyen lo", "duong tinh"})
"""Unit words that are unit words only before a number ("tổ 3", "quốc lộ 6"), like house words."""


def _needs_number(word: UnitWord) -> bool:
    return word.level == HOUSE or word.folded in _NUMBERED


def _unit_words(folded: tuple[str, ...], accented: tuple[str, ...]) -> list[UnitWord | None]:
    """The unit word starting at each token, if any (none inside a longer one: "thành phố").

    House words (số, nhà) and numbered words (tổ, quốc lộ) count only before a number.
    """
    words: list[UnitWord | None] = []
    skip = 0
    for i in range(len(folded)):
        word = unit_word_at(folded, accented, i) if not skip else None
        if word is not None and _needs_number(word):
            after = i + word.size
            word = word if after < len(folded) and folded[after][:1].isdigit() else None
        skip = max(skip - 1, word.size - 1 if word is not None else 0)
        words.append(word)
    return words


def merge_split_words(
    folded: tuple[str, ...], accented: tuple[str, ...], words: frozenset[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Join a lone letter to the token before it when together they make a known word.

    A stray comma or space inside a word ("nhà,n" for "nhàn") leaves a one-letter token.

    >>> merge_split_words(("duc", "nha", "n"), ("đức", "nhà", "n"), frozenset({"nhan"}))
    (('duc', 'nhan'), ('đức', 'nhàn'))
    """
    out_folded: list[str] = []
    out_accented: list[str] = []
    for token, written in zip(folded, accented, strict=True):
        joined = out_folded[-1] + token if out_folded else ""
        if (
            len(token) == 1
            and token.isalpha()
            and out_folded
            and not out_folded[-1][:1].isdigit()
            and joined in words
        ):
            out_folded[-1], out_accented[-1] = joined, out_accented[-1] + written
            continue
        out_folded.append(token)
        out_accented.append(written)
    return tuple(out_folded), tuple(out_accented)


def _house_positions(folded: tuple[str, ...], words: list[UnitWord | None], number: str) -> set[int]:
    """Token positions of a house (or alley) number and the house word before it."""
    compact = number.replace(" ", "")
    for start in range(len(folded)):
        for size in (1, 2):
            if "".join(folded[start : start + size]) == compact:
                found = set(range(start, start + size))
                before = next((i for i in range(max(0, start - 3), start) if words[i] is not None), None)
                if before is not None and words[before].level in (HOUSE, ALLEY):  # type: ignore[union-attr]
                    found |= set(range(before, start))
                return found
    return set()


def _house(parsed: ParsedAddress, folded: tuple[str, ...], words: list[UnitWord | None]) -> HouseSpec | None:
    """The house number of the parsed query, with the alley when there is one."""
    if parsed.house_number is None:
        return None
    house = house_key(parsed.house_number.name)
    if house is None:
        return None
    positions = _house_positions(folded, words, parsed.house_number.folded)
    keys: list[str] = []
    for alley in _alleys(parsed):
        key = alley_key(alley.name)
        if key is not None:
            keys.append(f"{key}>{house}")
            positions |= _house_positions(folded, words, alley.folded)
    return HouseSpec((*keys, house), parsed.house_number.name, frozenset(positions))


def _alleys(parsed: ParsedAddress) -> list[Component]:
    """The alleys a query names, finest first: a ngách (read as an extra alley) before its ngõ."""
    extra = [part for part in parsed.extra if part.level is Level.ALLEY]
    return [*extra, *([parsed.alley] if parsed.alley is not None else [])]


def fillers(folded: tuple[str, ...], accented: tuple[str, ...]) -> list[bool]:
    """Whether each token is a filler word: English ("of", "in") or Vietnamese with its marks ("thuộc").

    >>> fillers(("lac", "hamlet", "of", "thuoc", "thuoc"), ("lac", "hamlet", "of", "thuộc", "thuoc"))
    [False, False, True, True, False]

    Two-word phrases too (:data:`addresses.vocabulary.FILLER_PHRASES`: "địa phận", the territory of):

    >>> fillers(("thuoc", "dia", "phan", "mai", "chau"), ("thuộc", "địa", "phận", "mai", "châu"))
    [True, True, True, False, False]
    """
    phrases = filler_phrases(folded)
    return [
        (token in ENGLISH_FILLERS and written.isascii()) or written in VIETNAMESE_FILLERS or in_phrase
        for token, written, in_phrase in zip(folded, accented, phrases, strict=True)
    ]


_FILLER_PAIRS: Final = frozenset(phrase for phrase in FILLER_PHRASES if len(phrase) == 2)
_PHRASE_STARTS: Final = frozenset(first for first, _ in _FILLER_PAIRS)


def filler_phrases(folded: tuple[str, ...]) -> list[bool]:
    """Whether each token is part of a filler phrase (:data:`addresses.vocabulary.FILLER_PHRASES`).

    No unit word is read inside one ("dia ban" is địa bàn typed without marks, not a village "bản"):

    >>> filler_phrases(("dia", "ban", "mai", "chau")), filler_phrases(("ban", "dia"))
    ([True, True, False, False], [False, False])
    """
    found = [False] * len(folded)
    if _PHRASE_STARTS.isdisjoint(folded):
        return found
    for i in range(len(folded) - 1):
        if (folded[i], folded[i + 1]) in _FILLER_PAIRS:
            found[i] = found[i + 1] = True
    return found


def _weights(filler: list[bool], words: list[UnitWord | None], house: HouseSpec | None) -> list[float]:
    """Token weights: names 1, unit words and house numbers less, fillers ("of", "thuộc") little."""
    count = len(filler)
    weights = [FILLER_WEIGHT if is_filler else 1.0 for is_filler in filler]
    for start, word in enumerate(words):
        if word is not None and word.level not in (HOUSE, ALLEY):
            for i in range(start, min(count, start + word.size)):
                weights[i] = UNIT_WORD_WEIGHT / word.size
    if house is not None and house.positions:
        for i in house.positions:
            weights[i] = HOUSE_WEIGHT / len(house.positions)
    return weights


_PART_RE: Final = re.compile(r"[,;|()\[\]\n\r\t–—]|\s-+\s")


def part_numbers(text: str, count: int) -> list[int]:
    """The comma-separated part (0, 1, ...) each of the ``count`` tokens of ``text`` lies in.

    All zeros when the parts cannot be aligned with the tokens (a repaired split word).

    >>> part_numbers("Ngoc Lau commune (Lac Son)", 5)
    [0, 0, 0, 1, 1]
    """
    numbers: list[int] = []
    for number, part in enumerate(_PART_RE.split(prepare(text))):
        numbers += [number] * len(clean_punctuation(part).split())
    aligned = len(numbers) == count or (count == MAX_TOKENS and len(numbers) > count)
    return numbers[:count] if aligned else [0] * count


class _SegmentReader:
    """Cuts the tokens into segments, left to right (see :class:`Segment`)."""

    def __init__(self) -> None:
        self.found: list[Segment] = []
        self.start = 0
        self.level: int | None = None

    def close(self, end: int, level: int | None = None) -> None:
        """End the current segment before ``end`` (an English word after it gives its level)."""
        if end > self.start:
            self.found.append(Segment(self.start, end, self.level if level is None else level))
        self.level = None

    def restart(self, start: int, level: int | None = None) -> None:
        """Start the next segment at ``start``."""
        self.start, self.level = start, level


_OPEN_NAMES: Final = frozenset(strip_marks(term.word) for term in UNIT_TERMS if term.open_name)
"""Unit words whose name goes on after a number ("đường 3 tháng 2")."""


def _numbered_at(word: UnitWord, at: int, numbers: list[bool]) -> bool:
    """Whether a unit word (not an open name) is followed by a number at ``at``: that number is its name."""
    return at < len(numbers) and numbers[at] and not word.postfix and word.folded not in _OPEN_NAMES


def segments(
    filler: list[bool], words: list[UnitWord | None], parts: list[int], numbers: list[bool] | None = None
) -> tuple[Segment, ...]:
    """The segments of a token list (unit words, fillers and part boundaries cut it).

    A number right after a unit word is that unit's whole name ("quốc lộ 6 Lương Sơn": the
    road 6, then Lương Sơn), unless the unit word's name goes on (đường, phố, đại lộ).

    >>> from geocoder.unitwords import UNIT_WORDS as W
    >>> words = [None, None, W["commune"], None, None]
    >>> segments([False] * 5, words, [0, 0, 0, 1, 1])
    (Segment(start=0, end=2, level=3), Segment(start=3, end=5, level=None))
    >>> road = [W["quoc lo"], None, None, None, None]
    >>> segments([False] * 5, road, [0] * 5, [False, False, True, False, False])
    (Segment(start=2, end=3, level=5), Segment(start=3, end=5, level=None))
    """
    numbers = numbers or [False] * len(filler)
    reader = _SegmentReader()
    i = 0
    while i < len(filler):
        if i and parts[i] != parts[i - 1]:
            reader.close(i)
            reader.restart(i)
        word = words[i]
        if word is not None:
            reader.close(i, word.level if word.postfix and reader.level is None else None)
            reader.restart(i + word.size, None if word.postfix else word.level)
            i += word.size
            if _numbered_at(word, i, numbers):
                reader.close(i + 1)
                reader.restart(i + 1)
                i += 1
            continue
        if filler[i]:
            reader.close(i)
            reader.restart(i + 1)
        i += 1
    reader.close(len(filler))
    return tuple(reader.found)


_LANDMARK_SIZES: Final = sorted({len(noun) for noun in LANDMARK_NOUNS}, reverse=True)
_LANDMARK_NOUNS: Final = frozenset(LANDMARK_NOUNS)
_LANDMARK_FIRST: Final = frozenset(noun[0] for noun in LANDMARK_NOUNS)


def _landmark_at(accented: tuple[str, ...], start: int, end: int) -> int:
    """The size of the longest landmark noun at ``start`` ending before ``end`` (0: none)."""
    for size in _LANDMARK_SIZES:
        if start + size <= end and accented[start : start + size] in _LANDMARK_NOUNS:
            return size
    return 0


def landmarks(accented: tuple[str, ...], cut: tuple[Segment, ...]) -> tuple[frozenset[int], frozenset[int]]:
    """The landmark nouns that open an unlabelled segment and have a name after them in it, and the
    positions of those segments from the noun on (:data:`addresses.vocabulary.LANDMARK_NOUNS`).

    "hồ Hòa Bình" is the lake: "Hòa Bình" says where it is; "xóm Suối Nội" (labelled) or "Suối"
    alone is a name. Text without any mark tells no noun ("hang", cave) from a name ("Hàng").

    >>> landmarks(("suối", "khoáng", "kim", "bôi"), (Segment(0, 4, None),))
    (frozenset({0, 1}), frozenset({0, 1, 2, 3}))
    >>> landmarks(("hồ", "thủy", "điện", "hòa", "bình"), (Segment(0, 5, None),))[0]
    frozenset({0, 1, 2})
    >>> landmarks(("hang", "kia"), (Segment(0, 2, None),))
    (frozenset(), frozenset())
    >>> landmarks(("xóm", "suối", "nội"), (Segment(1, 3, 4),)), landmarks(("hồ",), (Segment(0, 1, None),))
    ((frozenset(), frozenset()), (frozenset(), frozenset()))
    """
    if _LANDMARK_FIRST.isdisjoint(accented) or all(token.isascii() for token in accented):
        return frozenset(), frozenset()
    heads: set[int] = set()
    names: set[int] = set()
    for segment in cut:
        if segment.level is not None or accented[segment.start] not in _LANDMARK_FIRST:
            continue
        end = segment.start
        while size := _landmark_at(accented, end, segment.end):
            end += size
        if segment.start < end < segment.end:
            heads.update(range(segment.start, end))
            names.update(range(segment.start, segment.end))
    return frozenset(heads), frozenset(names)


@functools.lru_cache(maxsize=PARSES_KEPT)
def parsed_text(text: str) -> ParsedAddress:
    """The components of a text read with the default names (:func:`geocoder.parse.parse`), kept a while.

    >>> parsed_text("xom lac mai chau") is parsed_text("xom lac mai chau")
    True
    """
    return parse(text)


def read_query(text: str, *, words: frozenset[str] = frozenset(), known: KnownNames | None = None) -> Query:
    """Normalise, tokenise and parse a query once (at most :data:`MAX_TOKENS` tokens).

    ``words`` is the vocabulary (folded tokens) for repairing words split by a stray comma.
    """
    analyzed = analyze(text)
    folded, accented = analyzed.folded_tokens[:MAX_TOKENS], analyzed.tokens[:MAX_TOKENS]
    if words:
        folded, accented = merge_split_words(folded, accented, words)
    units = [
        None if in_phrase else word
        for word, in_phrase in zip(_unit_words(folded, accented), filler_phrases(folded), strict=True)
    ]
    parsed = parsed_text(text) if known is None else parse(text, known=known)
    house = _house(parsed, folded, units) if any(t[:1].isdigit() for t in folded) else None
    filler = fillers(folded, accented)
    weights = _weights(filler, units, house)
    numbers = [token[:1].isdigit() for token in folded]
    cut = segments(filler, units, part_numbers(text, len(folded)), numbers)
    heads, named = landmarks(accented, cut)
    return Query(
        text, folded, accented, tuple(weights), tuple(units), house, parsed, sum(weights), cut, heads, named
    )
