"""Every entry of the vocabulary (addresses/vocabulary.py) parses and scores as what it is."""

from __future__ import annotations

from typing import get_args

import pytest

from addresses.vocabulary import (
    ABBREVIATIONS,
    ENGLISH_FILLERS,
    ENGLISH_TERMS,
    ROAD_ABBREVIATIONS,
    UNIT_TERMS,
    Abbreviation,
    EnglishTerm,
    UnitLevel,
    UnitTerm,
)
from geocoder.index import GeocoderIndex
from geocoder.normalize import fold, normalize, strip_marks
from geocoder.parse import Level, parse
from geocoder.query import FILLER_WEIGHT, read_query
from geocoder.results import MatchLevel, UnitLevelName
from geocoder.search import search
from geocoder.unitwords import UNIT_WORDS

# A real name of each level in the bundled data, to put after (or before) the unit word.
NAMES = {
    UnitLevel.PROVINCE: "Hòa Bình",
    UnitLevel.DISTRICT: "Mai Châu",
    UnitLevel.COMMUNE: "Mai Hạ",
    UnitLevel.VILLAGE: "Giang",
    UnitLevel.STREET: "Trần Hưng Đạo",
    UnitLevel.ALLEY: "Trần Hưng Đạo",
    UnitLevel.HOUSE: "Trần Hưng Đạo",
}
MATCH_LEVELS = {
    UnitLevel.PROVINCE: {"province"},
    UnitLevel.DISTRICT: {"district"},
    UnitLevel.COMMUNE: {"commune"},
    UnitLevel.VILLAGE: {"village"},
    UnitLevel.STREET: {"street", "address"},
}


def _name_for(term: UnitTerm) -> str:
    return "5" if term.numbered else NAMES[term.level]


@pytest.mark.parametrize("term", UNIT_TERMS, ids=lambda t: t.word)
def test_every_unit_word_parses_at_its_level(term: UnitTerm) -> None:
    name = _name_for(term)
    for text in (f"{term.word} {name}", strip_marks(f"{term.word} {name}")):
        component = parse(text).get(Level(term.level.key))
        assert component is not None, text
        assert (component.kind, component.folded) == (term.word, fold(name)), text


@pytest.mark.parametrize("term", UNIT_TERMS, ids=lambda t: t.word)
def test_every_unit_word_is_read_as_one_in_a_query(term: UnitTerm) -> None:
    query = read_query(f"{term.word} {_name_for(term)}")
    word = query.unit_words[0]
    assert word is not None
    assert word.level == term.level
    assert not word.postfix
    assert word == UNIT_WORDS[strip_marks(term.word)]


@pytest.mark.parametrize("term", ENGLISH_TERMS, ids=lambda t: t.word)
def test_every_english_word_labels_the_name_before_it(term: EnglishTerm) -> None:
    name = strip_marks(NAMES[term.level])
    component = parse(f"{name} {term.word}").get(Level(term.level.key))
    assert component is not None
    assert component.folded == fold(name)
    query = read_query(f"{name} {term.word}, Phú Thọ")
    after = query.unit_word_after(len(name.split()))
    assert after is not None
    assert after[1].level == term.level
    assert after[1].postfix


@pytest.mark.parametrize("abbreviation", ABBREVIATIONS, ids=lambda a: a.short)
def test_every_abbreviation_expands(abbreviation: Abbreviation) -> None:
    if abbreviation.word:
        assert normalize(f"{abbreviation.short}. mai hạ") == f"{abbreviation.word} mai hạ"
    if abbreviation.number:
        glued = (
            f"{abbreviation.short}5"
            if abbreviation.short in ROAD_ABBREVIATIONS
            else f"{abbreviation.short}.5"
        )
        assert normalize(glued) == f"{abbreviation.number} 5"


def test_fillers_weigh_little() -> None:
    query = read_query("Lac hamlet of Chieng Chau commune")
    assert "of" in ENGLISH_FILLERS
    assert query.weights[query.folded.index("of")] == FILLER_WEIGHT
    query = read_query("xóm Lác thuộc xã Mai Hạ")
    assert query.weights[query.folded.index("thuoc")] == FILLER_WEIGHT
    assert [query.folded[s.start : s.end] for s in query.segments] == [("lac",), ("mai", "ha")]


SCORED = [t for t in UNIT_TERMS if t.level in MATCH_LEVELS and not t.numbered]


@pytest.mark.parametrize("term", SCORED, ids=lambda t: t.word)
def test_every_unit_word_scores_its_level_first(index: GeocoderIndex, term: UnitTerm) -> None:
    results = search(index, f"{term.word} {NAMES[term.level]}")
    assert results
    assert results[0].match_level in MATCH_LEVELS[term.level]


@pytest.mark.parametrize("term", [t for t in ENGLISH_TERMS if t.level in MATCH_LEVELS], ids=lambda t: t.word)
def test_every_english_word_scores_its_level_first(index: GeocoderIndex, term: EnglishTerm) -> None:
    results = search(index, f"{strip_marks(NAMES[term.level])} {term.word}")
    assert results
    assert results[0].match_level in MATCH_LEVELS[term.level]


def test_a_unit_word_of_another_level_scores_lower(index: GeocoderIndex) -> None:
    right = search(index, "xã Mai Hạ")[0]
    wrong = next(r for r in search(index, "huyện Mai Hạ", limit=10) if r.match_level == "commune")
    assert wrong.score < right.score


def test_the_level_names_of_results_are_the_vocabularys() -> None:
    """The Literal types of results (and of the API models built on them) name the vocabulary's levels."""
    assert get_args(UnitLevelName) == tuple(level.key for level in UnitLevel if level <= UnitLevel.COMMUNE)
    assert {level.key for level in UnitLevel if level <= UnitLevel.STREET} <= set(get_args(MatchLevel))
