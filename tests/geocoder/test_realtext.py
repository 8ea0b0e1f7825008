"""Real-world text: English and mixed forms, abbreviations, contradictions, codes (real PostGIS).

The queries here are hand-written from the bundled data (GSO lists, lineage, villages),
not taken from the real-text development set; the last test gates that set's holdout
half through the shared judge (benchmarks/devset.py) and prints only aggregate rates.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import devset
from geocoder.index import GeocoderIndex
from geocoder.search import UNSURE_CEILING, search
from tests.geocoder.answers import top, ward

pytestmark = pytest.mark.db

NGOC_SON = "05329"  # Xã Ngọc Lâu (Lạc Sơn) is part of it since 2025
MAI_HA = "05251"  # Xã Mai Hạ and Xã Chiềng Châu (Mai Châu) since 2025
DUNG_TIEN = "05086"  # Xã Mi Hòa (Kim Bôi) since 2025
DA_BAC = "04831"
CAO_PHONG = "05089"
CAO_SON = "04876"  # the 2025 xã Cao Sơn (the old one of Đà Bắc)
LIEN_SON = "04960"  # holds part of the old xã Cao Sơn of Lương Sơn since 2025
YEN_PHU = "05305"
PA_CO = "05212"

HOLDOUT_FLOOR = 0.96  # the holdout reached 96.4% (133/138) when set (deterministic: one miss more fails)
HOLDOUT_FORM_FLOOR = 0.95  # each form with 20+ holdout entries (lowest reached: Vietnamese 95.7%, 90/94)


ENGLISH = [
    ("Mai Ha commune, Mai Chau district, Hoa Binh province", MAI_HA, "Xã Mai Hạ"),
    ("Mai Chau district's Mai Ha commune", MAI_HA, "Xã Mai Hạ"),
    ("Ngoc Lau commune (Lac Son)", NGOC_SON, "Xã Ngọc Lâu"),
    ("Ngoc Lau commune in Lac Son district", NGOC_SON, "Xã Ngọc Lâu"),
    ("Chieng Chau commune (Mai Chau)", MAI_HA, "Xã Chiềng Châu"),
    ("xã Chiềng Châu, Mai Chau district", MAI_HA, "Xã Chiềng Châu"),  # mixed
    ("Mi Hoa commune of Kim Boi district", DUNG_TIEN, "Xã Mi Hòa"),
]


@pytest.mark.parametrize(("query", "code", "name"), ENGLISH)
def test_english_and_mixed_forms_answer_the_commune_named(
    index: GeocoderIndex, query: str, code: str, name: str
) -> None:
    result = top(index, query)
    assert (ward(result), result.name, result.match_level) == (code, name, "commune")
    assert result.note is None


def test_the_commune_named_wins_over_the_district_it_is_in(index: GeocoderIndex) -> None:
    districts = search(index, "Lac Son district")
    assert districts[0].match_level == "district"
    result = top(index, "Ngoc Lau commune (Lac Son)")
    assert result.match_level == "commune"
    assert result.score > 0.8


def test_a_village_named_with_its_commune_stays_in_that_commune(index: GeocoderIndex) -> None:
    result = top(index, "Lac village of Chieng Chau commune")
    assert ward(result) == MAI_HA
    assert result.match_level in {"village", "street"}


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("Mai Chau township", "Thị trấn Mai Châu"),
        ("Mai Chau commune", "Xã Mai Châu"),
        ("Da Bac town", "Thị trấn Đà Bắc"),
        ("Da Bac commune", "Xã Đà Bắc"),
    ],
)
def test_an_english_unit_word_names_the_type_it_translates(
    index: GeocoderIndex, query: str, name: str
) -> None:
    """ "township"/"town" is thị trấn, "commune" xã: of two units of one name, the type written wins."""
    assert top(index, query).name == name


ABBREVIATIONS = [
    ("TK Liên Phương TT Đà Bắc", DA_BAC),
    ("Khu 2 TT cao Phong", CAO_PHONG),
    ("X. Mai Hạ, H. Mai Châu", MAI_HA),
    ("x.Chiềng Châu, h.Mai Châu, t.Hòa Bình", MAI_HA),
    ("xã Mỵ Hòa", DUNG_TIEN),  # y/i spelling variant of Mi Hòa
    ("Xã Mị Hoà, Kim Bôi", DUNG_TIEN),  # new tone placement
]


@pytest.mark.parametrize(("query", "code"), ABBREVIATIONS)
def test_abbreviations_and_spelling_variants(index: GeocoderIndex, query: str, code: str) -> None:
    assert ward(top(index, query)) == code


def test_a_commune_not_in_the_district_typed_is_flagged(index: GeocoderIndex) -> None:
    consistent = top(index, "xã Ngọc Lâu, huyện Lạc Sơn")
    contradicted = top(index, "xã Ngọc Lâu, huyện Mai Châu")
    assert ward(contradicted) == NGOC_SON  # the finest unit named wins
    assert contradicted.note is not None
    assert "is not in huyện mai châu" in contradicted.note
    assert consistent.note is None
    assert contradicted.score < consistent.score - 0.2


def test_a_village_not_in_the_commune_typed_answers_the_commune_and_says_so(index: GeocoderIndex) -> None:
    elsewhere = search(index, "Xóm Giang")
    assert elsewhere
    assert elsewhere[0].match_level == "village"
    assert ward(elsewhere[0]) != MAI_HA
    result = top(index, "Xóm Giang, xã Mai Hạ")
    assert (ward(result), result.match_level) == (MAI_HA, "commune")
    assert result.note is not None
    assert "xóm giang was not found" in result.note
    assert result.score < 0.7


def test_a_misspelling_with_marks_of_another_word_does_not_read_as_a_name(index: GeocoderIndex) -> None:
    """A village whose name is not in the data, written with marks: not a namesake one edit away.

    "Rằng" is one letter from the village "Làng Hang" of Liên Sơn (formerly of the other
    xã Cao Sơn), but its marks make it another word; the commune typed answers, with a note.
    """
    assert search(index, "Làng Hang")[0].name == "Làng Hang"
    assert any(r.name == "Làng Hang" for r in search(index, "Hamg, Liên Sơn"))  # a plain slip still reads
    result = top(index, "xóm Rằng, xã Cao Sơn")
    assert (ward(result), result.match_level) == (CAO_SON, "commune")
    assert result.note is not None
    assert "xóm rằng was not found" in result.note


def test_a_place_read_by_the_word_for_its_kind_does_not_answer_for_another_unit(index: GeocoderIndex) -> None:
    """ "Trạm y tế <commune>" is that commune's health station: another commune's station does not answer."""
    stations = [r for r in search(index, "trạm y tế", limit=20) if r.kind == "place"]
    assert stations  # the data has health stations, found by the word for their kind
    named = {ward(r) for r in stations}
    commune = next(code for code in (YEN_PHU, MAI_HA, DUNG_TIEN) if code not in named)
    name = {YEN_PHU: "Yên Phú", MAI_HA: "Mai Hạ", DUNG_TIEN: "Dũng Tiến"}[commune]
    result = top(index, f"Trạm Y tế {name}")
    assert (ward(result), result.match_level) == (commune, "commune")
    assert ward(top(index, "Bến xe khách Mai Châu")) is not None  # more words for the kind: still a place
    assert top(index, "Bến xe khách Mai Châu").kind == "place"


def test_a_place_name_matched_only_on_the_words_for_its_kind_does_not_answer_for_a_unit_named(
    index: GeocoderIndex,
) -> None:
    """ "Nhà văn hóa xóm Lác" is the hall of xóm Lác: not a hall elsewhere found by "nhà văn hóa" alone."""
    assert top(index, "Nhà văn hóa").kind == "place"
    assert ward(top(index, "Nhà văn hóa xóm Lác")) == MAI_HA


def test_namesake_communes_with_nothing_to_tell_them_apart_are_alternatives(index: GeocoderIndex) -> None:
    """Two communes named Cao Sơn: alone, both come back with a note and a lower score; a district decides."""
    alone = search(index, "xã Cao Sơn", limit=5)
    assert {ward(r) for r in alone if r.name == "Xã Cao Sơn"} >= {CAO_SON, LIEN_SON}
    assert alone[0].score <= UNSURE_CEILING
    assert alone[0].note is not None
    assert "nothing in the text tells this answer apart" in alone[0].note
    assert "Lương Sơn" in alone[0].note
    placed = top(index, "xã Cao Sơn, huyện Đà Bắc")
    assert (ward(placed), placed.score, placed.note) == (CAO_SON, 1.0, None)
    other = top(index, "xã Cao Sơn, huyện Lương Sơn")
    assert ward(other) in {LIEN_SON, "04924"}  # the old Cao Sơn of Lương Sơn was split in 2025
    assert other.note is None or "nothing in the text tells this answer apart" not in other.note


MUONG = [
    ("xa\u032d Pa\u0312 Ko\u0312", PA_CO),  # xã Pà Cò
    ("xa\u032d Kao Fong", CAO_PHONG),  # xã Cao Phong
    ("xỏm Lák, xa\u032d Chiê\u0312ng Châw", MAI_HA),  # xóm Lác, xã Chiềng Châu
]


@pytest.mark.parametrize(("query", "code"), MUONG)
def test_text_in_the_muong_script_answers_like_its_vietnamese_spelling(
    index: GeocoderIndex, query: str, code: str
) -> None:
    assert ward(top(index, query)) == code


def test_a_village_point_outside_its_recorded_commune_is_moved_into_it(index: GeocoderIndex) -> None:
    """Every village answers inside the 2025 commune it is recorded in (coarse points are moved in)."""
    wards = devset.default_wards()
    state = index.state
    villages = [e for e in state.entries if e.kind == "village" and e.current_unit is not None]
    codes = [e.current_unit.code for e in villages if e.current_unit is not None]
    lon = np.array([e.lon for e in villages])
    lat = np.array([e.lat for e in villages])
    inside = wards.contains(codes, lon, lat)
    known = np.array([code in wards.codes for code in codes])
    moved = [e for e in villages if e.point_precision.startswith("approximate (the village's")]
    assert moved  # some recorded points lie outside their commune
    assert inside[known].mean() > 0.99


@pytest.mark.parametrize("query", ["xom lac 123", "ban lac 123", "lac son 123"])
def test_text_that_is_not_a_code_is_searched_as_text(index: GeocoderIndex, query: str) -> None:
    assert search(index, query)  # no InvalidCodeError: O, I and L are not in the code alphabet


def test_the_holdout_half_of_the_real_text_set_meets_its_floor(index: GeocoderIndex) -> None:
    """Aggregate rates only: the holdout strings and per-entry results are never printed."""
    entries = [entry for entry in devset.load_real() if entry.half == devset.HOLDOUT]
    answers = []
    for entry in entries:
        found = search(index, entry.query.text, limit=1)
        answers.append((found[0].lon, found[0].lat) if found else None)
    hits = devset.judge([e.query for e in entries], answers).hit
    rates = {}
    for form in devset.FORMS:
        chosen = [bool(hit) for entry, hit in zip(entries, hits, strict=True) if form in entry.forms]
        if len(chosen) >= 20:
            rates[form] = sum(chosen) / len(chosen)
    assert rates[devset.FORM_ALL] >= HOLDOUT_FLOOR, rates
    assert all(rate >= HOLDOUT_FORM_FLOOR for rate in rates.values()), rates
