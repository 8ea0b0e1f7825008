"""Tests for geocoder.normalize: each pipeline step alone, then the public functions."""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from pathlib import Path

import pytest

from addresses.text import canonical_tones
from addresses.vocabulary import ABBREVIATIONS, ROAD_ABBREVIATIONS, Abbreviation, canonical_i
from geocoder.normalize import (
    EXACT_SCORE,
    OTHER_MARKS_SCORE,
    PIPELINE,
    PREPARE_STEPS,
    UNACCENTED_SCORE,
    NormalizedText,
    Step,
    abbreviation_pattern,
    accent_score,
    analyze,
    clean_punctuation,
    drop_country,
    drop_possessive,
    expand_abbreviations,
    expand_province_code,
    fold,
    lower_case,
    marks_fit,
    normalize,
    prepare,
    read_muong,
    strip_marks,
    to_nfc,
    tokens,
)

DATA = Path(__file__).resolve().parents[2] / "data" / "hoabinh"


def _dev_queries() -> list[str]:
    lines = (DATA / "geocoding_dev_queries.jsonl").read_text(encoding="utf-8").splitlines()
    return [row["query"] for row in map(json.loads, lines) if row.get("query")]


# --- to_nfc --------------------------------------------------------------------------


def test_to_nfc_composes_nfd_input() -> None:
    nfd = unicodedata.normalize("NFD", "Xã Độc Lập, Thành phố Hòa Bình")
    assert nfd != "Xã Độc Lập, Thành phố Hòa Bình"
    assert to_nfc(nfd) == "Xã Độc Lập, Thành phố Hòa Bình"


def test_to_nfc_keeps_nfc_input() -> None:
    assert to_nfc("Mường Động") == "Mường Động"


def test_to_nfc_drops_marks_that_compose_with_nothing() -> None:
    assert to_nfc("Hu\u1ef5\u0302n Kim Bôi") == "Huỵn Kim Bôi"


# --- lower_case ----------------------------------------------------------------------


def test_lower_case_handles_vietnamese_capitals() -> None:
    assert lower_case("ĐƯỜNG QUỐC LỘ 6, HOÀ BÌNH") == "đường quốc lộ 6, hoà bình"


# --- canonical_tones -----------------------------------------------------------------

NEW_TO_OLD = [
    ("oà", "òa"),
    ("oá", "óa"),
    ("oả", "ỏa"),
    ("oã", "õa"),
    ("oạ", "ọa"),
    ("oè", "òe"),
    ("oé", "óe"),
    ("oẻ", "ỏe"),
    ("oẽ", "õe"),
    ("oẹ", "ọe"),
    ("uỳ", "ùy"),
    ("uý", "úy"),
    ("uỷ", "ủy"),
    ("uỹ", "ũy"),
    ("uỵ", "ụy"),
]


@pytest.mark.parametrize(("new", "old"), NEW_TO_OLD)
def test_canonical_tones_moves_the_mark_to_the_first_vowel(new: str, old: str) -> None:
    assert canonical_tones("h" + new) == "h" + old
    assert canonical_tones("H" + new.upper()) == "H" + old.upper()
    assert canonical_tones("h" + new[0].upper() + new[1:]) == "h" + old[0].upper() + old[1:]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hoà Bình", "Hòa Bình"),
        ("Thuỷ", "Thủy"),
        ("Yên Thuỷ, Lạc Thuỷ", "Yên Thủy, Lạc Thủy"),
        ("khoẻ", "khỏe"),
        ("Mỹ Hoà.", "Mỹ Hòa."),
        ("THUỶ", "THỦY"),
        ("Mông Hoá", "Mông Hóa"),
    ],
)
def test_canonical_tones_on_words(text: str, expected: str) -> None:
    assert canonical_tones(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Hòa Bình",  # already canonical
        "Quý Hòa",  # qu + y: the u belongs to the consonant
        "quỳ",
        "Quỳnh Lâm",
        "quà",
        "quả",
        "hoàng",  # the pair is not at the end of the syllable
        "toán",
        "khuyến",
        "huỳnh",
        "ngoài",
        "xoáy",
        "già",  # gi sequences never match
        "giữa",
        "giỏi",
        "thuè",  # u + toned e or a, o + toned y: not open pairs (they once raised KeyError)
        "Thuà",
        "loỳ",
    ],
)
def test_canonical_tones_leaves_other_syllables_alone(text: str) -> None:
    assert canonical_tones(text) == text


# --- strip_marks ---------------------------------------------------------------------


def test_strip_marks_removes_every_vietnamese_mark() -> None:
    vowels = "àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ"
    assert strip_marks(vowels) == "a" * 17 + "e" * 11 + "i" * 5 + "o" * 17 + "u" * 11 + "y" * 5
    assert strip_marks(vowels.upper()) == strip_marks(vowels).upper()


def test_strip_marks_maps_d_with_stroke() -> None:
    assert strip_marks("Đường đèo Đá") == "Duong deo Da"


def test_strip_marks_keeps_other_scripts_and_length() -> None:
    text = "מסעדה טעימה, Xã Mai Châu"
    assert strip_marks(text) == "מסעדה טעימה, Xa Mai Chau"
    assert len(strip_marks(text)) == len(text)


# --- drop_country --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("xã mai hạ, phú thọ, việt nam", "xã mai hạ, phú thọ"),
        ("xã mai hạ, phú thọ, viet nam.", "xã mai hạ, phú thọ"),
        ("bản lác, mai châu, viêt nam", "bản lác, mai châu"),
        ("xa thinh minh phu tho viet nam", "xa thinh minh phu tho"),
        ("hoa binh vietnam", "hoa binh"),
        ("mai chau, vn", "mai chau"),
        ("việt nam, hòa bình", "hòa bình"),
        ("a, việt nam, b", "a, b"),
    ],
)
def test_drop_country(text: str, expected: str) -> None:
    assert drop_country(text) == expected


@pytest.mark.parametrize("text", ["nhà hàng việt nam hương, mai châu", "xóm vnx", "nam phong"])
def test_drop_country_keeps_names(text: str) -> None:
    assert drop_country(text) == text


# --- expand_abbreviations ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x.độc lập", "xã độc lập"),
        ("x. độc lập", "xã độc lập"),
        ("p.tân hòa", "phường tân hòa"),
        ("tt. chi nê", "thị trấn chi nê"),
        ("tt chi nê", "thị trấn chi nê"),
        ("tx. sơn tây", "thị xã sơn tây"),
        ("tx sơn tây", "thị xã sơn tây"),
        ("tp.hòa bình", "thành phố hòa bình"),
        ("tp hòa bình", "thành phố hòa bình"),
        ("t.p hòa bình", "thành phố hòa bình"),
        ("t.p. hòa bình", "thành phố hòa bình"),
        ("h. lạc sơn", "huyện lạc sơn"),
        ("q.ba đình", "quận ba đình"),
        ("t. hòa bình", "tỉnh hòa bình"),
        ("mãn đức, h.tân lạc, t.hòa bình", "mãn đức, huyện tân lạc, tỉnh hòa bình"),
        ("x tân mai, phú thọ", "xã tân mai, phú thọ"),
        ("ab, p tân hòa", "ab, phường tân hòa"),
        ("kdc số 2", "khu dân cư số 2"),
        ("tdp 3", "tổ dân phố 3"),
        ("t.d.p 3", "tổ dân phố 3"),
        ("kp 4", "khu phố 4"),
        ("sn 12", "số nhà 12"),
        ("đ. trần phú", "đường trần phú"),
        ("đg trần phú", "đường trần phú"),
    ],
)
def test_expand_unit_abbreviations(text: str, expected: str) -> None:
    assert expand_abbreviations(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ql6", "quốc lộ 6"),
        ("ql 6", "quốc lộ 6"),
        ("ql.12b", "quốc lộ 12b"),
        ("đt433", "đường tỉnh 433"),
        ("dt 433", "đường tỉnh 433"),
        ("tl 12", "tỉnh lộ 12"),
        ("hl 3", "huyện lộ 3"),
        ("h.12", "hẻm 12"),
        ("k.12/3", "kiệt 12/3"),
        ("ng.5", "ngõ 5"),
        ("ngh.4", "ngách 4"),
        ("p.5, q.3", "phường 5, quận 3"),
        ("p5 q1", "phường 5 quận 1"),
    ],
)
def test_expand_number_abbreviations(text: str, expected: str) -> None:
    assert expand_abbreviations(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "ng. văn cừ",  # "ng." before a word is a name initial, not ngõ
        "đt 0912345678",  # a phone number, not đường tỉnh
        "hotel x",  # a lone letter counts only at the start of a part
        "khu a",
        "p305",  # a room, not phường 305
        "xã phong phú",
        "trần phú",
        "thanh tp",  # nothing after it
    ],
)
def test_expand_abbreviations_leaves_other_text(text: str) -> None:
    assert expand_abbreviations(text) == text


# --- expand_province_code ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("thành phố hb", "thành phố hòa bình"),
        ("tỉnh hb", "tỉnh hòa bình"),
        ("hb", "hòa bình"),
        ("tổ 6, hb", "tổ 6, hòa bình"),
        ("xã độc lập, hb, việt nam", "xã độc lập, hòa bình, việt nam"),
        ("hb hotel", "hb hotel"),
        ("hbx", "hbx"),
        ("công ty thb", "công ty thb"),
    ],
)
def test_expand_province_code(text: str, expected: str) -> None:
    assert expand_province_code(text) == expected


# --- clean_punctuation ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("số 1806/127/2, lê lợi", "số 1806/127/2 lê lợi"),
        ("27b/3 trần phú", "27b/3 trần phú"),
        ("hòa bình/phú thọ", "hòa bình phú thọ"),
        ("12a, 40bis", "12a 40bis"),
        ("bản lác - pom coong", "bản lác pom coong"),
        ("  (xóm  mỏ);  ", "xóm mỏ"),
        ("duc's_homestay!", "duc s homestay"),
        ("/5", "5"),
    ],
)
def test_clean_punctuation(text: str, expected: str) -> None:
    assert clean_punctuation(text) == expected


# --- the pipeline and the public functions -------------------------------------------


def test_pipeline_is_prepare_then_the_steps_that_drop_separators() -> None:
    assert PIPELINE[: len(PREPARE_STEPS)] == PREPARE_STEPS
    text = "Số 9, Ngõ 1, X.Mai Hạ, TP.HB, Việt Nam"
    assert "," in prepare(text)
    assert normalize(text) == canonical_i(clean_punctuation(prepare(text)))


@pytest.mark.parametrize(
    ("first", "then"),
    [
        (read_muong, to_nfc),  # NFC drops the Mường marks that compose with nothing
        (to_nfc, canonical_tones),
        (lower_case, expand_abbreviations),  # abbreviations are matched in lower-cased text
        (expand_abbreviations, expand_province_code),  # "hb" is read after "thành phố"
        (expand_abbreviations, clean_punctuation),  # "X." and "TP." need their dots
        (drop_country, clean_punctuation),  # a country is dropped as a whole comma part
        (drop_possessive, clean_punctuation),  # "'s" needs its apostrophe
    ],
)
def test_a_step_runs_after_the_steps_whose_output_it_reads(first: Step, then: Step) -> None:
    assert all(callable(step) and not isinstance(step, str) for step in PIPELINE)
    assert PIPELINE.index(first) < PIPELINE.index(then)


def test_normalize_runs_the_pipeline() -> None:
    text = "Số 9, ngõ 1, X.Mai Hạ, TP.HB, Việt Nam"
    assert normalize(text) == functools.reduce(lambda acc, step: step(acc), PIPELINE, text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Xã Độc Lập, Thành phố Hòa Bình, tỉnh Hòa Bình", "xã độc lập thành phố hòa bình tỉnh hòa bình"),
        ("X.Độc Lập, TP.HB", "xã độc lập thành phố hòa bình"),
        ("P.Tân Hoà, TP. Hoà Bình, Viet Nam", "phường tân hòa thành phố hòa bình"),
        ("Xã Yên Thuỷ, Phú Thọ, Việt Nam", "xã yên thủy phú thọ"),
        ("Số 1806/127/2 QL6", "số 1806/127/2 quốc lộ 6"),
        ("xa doc lap, tp hoa binh", "xa doc lap thành phố hoa binh"),
        ("Bản Lác - Pom Coong, Mai Châu, Viêt Nam", "bản lác pom coong mai châu"),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_normalize_accepts_nfd() -> None:
    text = "Phường Thịnh Lang, Thành phố Hoà Bình"
    assert normalize(unicodedata.normalize("NFD", text)) == normalize(text)
    assert normalize(text) == "phường thịnh lang thành phố hòa bình"


def test_prepare_keeps_the_commas() -> None:
    assert prepare("X.Độc Lập, TP.HB, Việt Nam") == "xã độc lập, thành phố hòa bình"


def test_fold() -> None:
    assert fold("X.Độc Lập, TP.HB") == "xa doc lap thanh pho hoa binh"
    assert fold("Đường Hoà Bình") == fold("duong hoa binh") == "duong hoa binh"


def test_tokens() -> None:
    assert tokens("Số 27B, Bản Lác 1, Mai Châu") == ["số", "27b", "bản", "lác", "1", "mai", "châu"]


def test_analyze_gives_both_forms() -> None:
    assert analyze("Xã Mường Động") == NormalizedText(
        "xã mường động",
        "xa muong dong",
        ("xã", "mường", "động"),
        ("xa", "muong", "dong"),
    )


def test_normalize_is_idempotent_and_analyze_aligned_on_real_queries() -> None:
    queries = _dev_queries()
    assert len(queries) > 600
    for query in queries:
        normalized = normalize(query)
        assert normalize(normalized) == normalized, query
        analyzed = analyze(query)
        assert analyzed.folded_tokens == tuple(strip_marks(t) for t in analyzed.tokens), query
        assert analyzed.folded == strip_marks(analyzed.accented), query


# --- accent_score --------------------------------------------------------------------


def test_accent_score_exact_match_ranks_first() -> None:
    assert accent_score("đường", "đường") == EXACT_SCORE == 1.0
    assert accent_score("đường", "đường") > accent_score("duong", "đường")
    assert accent_score("duong", "đường") > accent_score("đường", "đương")


def test_accent_score_unaccented_query_matches_every_reading_equally() -> None:
    scores = {accent_score("duong", c) for c in ("dương", "đường", "đương", "duơng")}
    assert scores == {UNACCENTED_SCORE}


def test_accent_score_accented_query_prefers_its_own_marks() -> None:
    assert accent_score("đường", "đường") == EXACT_SCORE
    assert accent_score("đường", "dương") == OTHER_MARKS_SCORE
    assert accent_score("đường", "duong") == UNACCENTED_SCORE  # an ASCII-only source name


def test_accent_score_different_words() -> None:
    assert accent_score("duong", "dong") == 0.0
    assert accent_score("hòa", "bình") == 0.0
    assert accent_score("hoa", "hoai") == 0.0


# --- the Mường script and the marks of a misspelt word ---------------------------------

MUONG = [
    ("xa\u032d Kao Fong", "xa Cao Phong"),  # circumflex below: unmarked; k before a, f
    ("thi\u032d tlẩn Mai Châw", "thi trấn Mai Châu"),  # hook above is the acute; tl, final w
    ("xỏm Ko\u0312, Ki\u0312", "xóm Cò, Kì"),  # turned comma is the grave; k stays before i
    ("Vu\u032d Bán", "Vu Bản"),  # the acute is the hook above
]


@pytest.mark.parametrize(("muong", "vietnamese"), MUONG)
def test_text_in_the_muong_script_is_read_with_vietnamese_marks_and_spellings(
    muong: str, vietnamese: str
) -> None:
    assert read_muong(muong) == vietnamese
    assert read_muong(unicodedata.normalize("NFD", muong)) == vietnamese


@pytest.mark.parametrize("text", ["xóm Kim, Tân Lạc", "Kon Tum", "bản Lác", "Fansipan", "xã Tlê"])
def test_text_without_a_muong_mark_is_left_alone(text: str) -> None:
    assert read_muong(text) == text


def test_a_muong_text_normalises_like_its_vietnamese_spelling() -> None:
    assert fold("xa\u032d Pa\u0312 Ko\u0312 (Mai Châw)") == fold("xã Pà Cò (Mai Châu)")


@pytest.mark.parametrize(
    ("typed", "name", "fits"),
    [
        ("phuường", "phường", True),  # a letter doubled, marks kept
        ("tuhỷ", "thủy", True),  # letters swapped, the tone on another vowel
        ("hoa", "hòa", True),  # nothing typed, nothing to contradict
        ("rằng", "hang", False),  # a breve and a grave "hang" has not: another word
        ("đồng", "dông", False),  # the stroke of đ
        ("chău", "châu", False),  # a breve for a circumflex
        ("hòòa", "hòa", False),  # one grave written, two typed
    ],
)
def test_a_misspelt_token_keeps_the_marks_of_the_word_meant(typed: str, name: str, fits: bool) -> None:
    assert marks_fit(typed, name) is fits


# --- the abbreviation pattern comes from the vocabulary table -------------------------


def test_the_abbreviation_pattern_is_the_tables() -> None:
    without_x = [a for a in ABBREVIATIONS if a.short != "x"]
    assert re.search(abbreviation_pattern(without_x, ROAD_ABBREVIATIONS), "x. mai hạ") is None
    assert expand_abbreviations("x. mai hạ") == "xã mai hạ"
    added = [*ABBREVIATIONS, Abbreviation("bq", word="bản quê")]  # a made-up entry, read like the others
    pattern = re.compile(abbreviation_pattern(added, ROAD_ABBREVIATIONS))
    assert [m.lastgroup for m in pattern.finditer("bq lác, b.q. lác, bq. lác")] == ["bare", "multi", "dot"]


def _initials(word: str) -> str:
    return "".join(part[0] for part in word.split())


@pytest.mark.parametrize(
    "abbreviation", [a for a in ABBREVIATIONS if len(a.short) > 1 and a.word and _initials(a.word) == a.short]
)
def test_every_abbreviation_of_initials_is_also_read_with_a_dot_after_each_letter(
    abbreviation: Abbreviation,
) -> None:
    dotted = ".".join(abbreviation.short) + ". mai"
    assert expand_abbreviations(dotted) == f"{abbreviation.word} mai"


@pytest.mark.parametrize(
    ("text", "expected"), [("h5", "h5"), ("k3", "k3"), ("p5", "phường 5"), ("ng 5", "ng 5")]
)
def test_alley_abbreviations_need_their_dot(text: str, expected: str) -> None:
    assert expand_abbreviations(text) == expected
