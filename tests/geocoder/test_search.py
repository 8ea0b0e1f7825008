"""Forward search and autocomplete on the bundled Hoa Binh data (real PostGIS, no mocks).

The queries here are hand-written, not taken from the development set: the expected
answers come from the data files (GSO lists, lineage, village and place records).
"""

from __future__ import annotations

import pytest
from sqlalchemy import Connection

from addresses.codes import encode, format_location_code
from addresses.errors import InvalidCodeError, InvalidParameterError
from geocoder.index import GeocoderIndex
from geocoder.search import UNSURE_CEILING, SearchFilters, autocomplete, search
from tests.geocoder.answers import top, ward
from tests.records import new_address, retire_address

pytestmark = pytest.mark.db


# ------------------------------------------------------------------ 2025 units

WARDS_2025 = [
    ("phuong ky son, phu tho", "04894"),  # no diacritics
    ("Xã Mường Bi", "05158"),
    ("X. Yên Trị, T. Phú Thọ", "05386"),  # abbreviations
    ("xa thuong coc", "05293"),
    ("Xã Thượng Cốcc", "05293"),  # one typo
    ("Xã Lạc Thủy", "05392"),  # the DB writes "Lạc Thuỷ": the other tone style
    ("X.Yên Thủy", "05353"),
    ("P.Tân Hoà", "04792"),
    ("Xa Nat Son", "04990"),
]


@pytest.mark.parametrize(("query", "code"), WARDS_2025)
def test_2025_communes_and_wards(index: GeocoderIndex, query: str, code: str) -> None:
    result = top(index, query)
    assert (result.kind, result.match_level, ward(result)) == ("commune", "commune", code)
    assert result.current_province is not None
    assert result.current_province.code == "25"
    assert 0.5 < result.score <= 1.0


def test_exact_accents_score_above_no_accents_and_other_marks(index: GeocoderIndex) -> None:
    exact = top(index, "Xã Thượng Cốc").score
    bare = top(index, "xa thuong coc").score
    assert exact == pytest.approx(1.0)
    assert 0.8 < bare < exact


# ------------------------------------------------------------------ pre-2025 units

OLD_COMMUNES = [
    ("Xã Độc Lập, Thành phố Hòa Bình, tỉnh Hòa Bình", "04921", "04894"),
    ("Thị trấn Bo, huyện Kim Bôi", "04978", "04978"),
    ("xa tu ne huyen tan lac", "05164", "05128"),
    ("X. Sào Báy, H. Kim Bôi, T. Hòa Bình", "05080", "05068"),
    ("Xã Đoàn Kết, Huyện Yên Thủy", "05380", "05386"),  # namesake of Đoàn Kết (Đà Bắc)
    ("Xã Đoàn Kết, huyện Đà Bắc", "04858", "04873"),
    ("Xã Thống Nhất, Huyện Lạc Thủy", "05425", "05425"),  # not Phường Thống Nhất
    ("Xã Yên Mông, TP. Hòa Bình", "04813", "04792"),
    ("thị trấn hàng trạm, yên thủy", "05353", "05353"),
    ("Xa Hop Thanh TP Hoa Binh", "04903", "04897"),
]


@pytest.mark.parametrize(("query", "old_code", "code"), OLD_COMMUNES)
def test_pre_2025_communes_resolve_to_their_successor(
    index: GeocoderIndex, query: str, old_code: str, code: str
) -> None:
    result = top(index, query)
    assert result.kind == "old_commune"
    assert ward(result) == code
    assert result.old_units[0].code == old_code
    assert result.old_units[0].level == "commune"
    assert (result.old_units[-1].code, result.old_units[-1].level) == ("17", "province")
    assert result.point_precision.startswith("approximate")
    assert "(nay:" in result.label


def test_doc_lap_is_now_ky_son_with_its_old_district(index: GeocoderIndex) -> None:
    result = top(index, "Xã Độc Lập, Thành phố Hòa Bình, tỉnh Hòa Bình")
    assert result.current_unit is not None
    assert (result.current_unit.code, result.current_unit.full_name) == ("04894", "Phường Kỳ Sơn")
    assert [unit.code for unit in result.old_units] == ["04921", "148", "17"]
    assert [unit.full_name for unit in result.old_units][:2] == ["Xã Độc Lập", "Thành phố Hòa Bình"]
    assert result.score == pytest.approx(1.0)


def test_old_commune_whose_centre_lies_outside_its_successor_answers_inside_it(index: GeocoderIndex) -> None:
    # Phú Nghĩa's published centre is ~37 km from An Nghĩa, the ward it became.
    result = top(index, "Xã Phú Nghĩa, huyện Lạc Thủy")
    assert ward(result) == "05395"
    assert "outside" in result.point_precision
    check = top(index, format_location_code(encode(result.lon, result.lat)))
    assert ward(check) == "05395"


def test_old_district(index: GeocoderIndex) -> None:
    result = top(index, "Huyện Mai Châu, tỉnh Hòa Bình")
    assert (result.kind, result.match_level) == ("old_district", "district")
    assert result.old_units[0].code == "156"


def test_type_word_decides_between_a_ward_and_a_district(index: GeocoderIndex) -> None:
    assert top(index, "xã Lương Sơn").kind == "commune"
    assert top(index, "huyện Lương Sơn").kind == "old_district"


# ------------------------------------------------------------------ split communes


def test_split_commune_without_detail_returns_each_successor(index: GeocoderIndex) -> None:
    results = search(index, "Xã Vầy Nưa, huyện Đà Bắc")
    first_two = results[:2]
    assert {ward(r) for r in first_two} == {"04891", "04828"}
    assert all(r.kind == "old_commune" and r.note and "split" in r.note for r in first_two)
    assert first_two[0].score >= first_two[1].score


def test_split_commune_with_a_point_picks_the_successor_there(index: GeocoderIndex) -> None:
    near_thong_nhat = SearchFilters(near=(105.34, 20.79))
    near_tien_phong = SearchFilters(near=(105.12, 20.78))
    assert ward(top(index, "xa vay nua da bac", filters=near_thong_nhat)) == "04828"
    assert ward(top(index, "xa vay nua da bac", filters=near_tien_phong)) == "04891"


@pytest.mark.parametrize(
    ("query", "ref", "code"),
    [
        ("Làng Voi, xã Vầy Nưa, huyện Đà Bắc", "village:201", "04828"),
        ("Bản Suối Tia, xã Vầy Nưa", "village:84", "04891"),
        ("Xóm Giang, xã Cao Sơn, huyện Lương Sơn", "village:572", "04960"),
    ],
)
def test_split_commune_with_a_village_inside_resolves(
    index: GeocoderIndex, query: str, ref: str, code: str
) -> None:
    result = top(index, query)
    assert (result.ref, ward(result)) == (ref, code)


# ------------------------------------------------------------------ villages and namesakes

VILLAGES = [
    ("xom giang, cao phong", "village:197"),
    ("Xóm Giang, xã Liên Sơn", "village:572"),
    ("lang hai tan lac", "village:210"),
    ("Làng Hai, H. Đà Bắc", "village:139"),
    ("Làng Mang - Lương Sơn", "village:260"),
    ("Làng Mang, xã Thung Nai", "village:248"),
    ("Bo Bouei, Mai Châu", "village:487"),
    ("xóm đinh, phường tân hòa", "village:110"),
    ("Xóm Đinh, huyện Cao Phong", "village:307"),
    ("xom tang lac son hoa binh", "village:217"),
    ("Xóm Tang, P. Thống Nhất", "village:113"),
    ("Bản Suối Mitt, Tiền Phong", "village:189"),  # one typo
]


@pytest.mark.parametrize(("query", "ref"), VILLAGES)
def test_namesake_villages_are_decided_by_context(index: GeocoderIndex, query: str, ref: str) -> None:
    result = top(index, query)
    assert (result.kind, result.ref) == ("village", ref)
    assert result.match_level == "village"


def test_village_result_carries_both_periods(index: GeocoderIndex) -> None:
    result = top(index, "Làng Hai, H. Đà Bắc")
    assert ward(result) == "04831"
    assert result.old_units[0].level == "commune"
    assert "nearest pre-2025 commune centre" in result.old_units[0].precision
    assert any(unit.full_name == "Huyện Đà Bắc" for unit in result.old_units)
    assert result.label == "Làng Hai, Xã Đà Bắc, Tỉnh Phú Thọ"
    assert len(result.codes.location_code) == 9


def test_namesakes_in_one_commune_are_alternatives_with_a_note(index: GeocoderIndex) -> None:
    """Two villages Yên Lệ in xã Thịnh Minh, 1.9 km apart: neither is sure, each names the other's point."""
    results = search(index, "thôn Yên Lệ, xã Thịnh Minh", limit=5)
    tied = [r for r in results if r.name == "Yên Lệ"]
    assert len(tied) == 2
    assert {ward(r) for r in tied} == {"04897"}
    assert (tied[0].lon, tied[0].lat) != (tied[1].lon, tied[1].lat)
    assert tied[0].score == tied[1].score <= UNSURE_CEILING
    for result, other in zip(tied, tied[::-1], strict=True):
        assert result.note is not None
        assert "another village in the same commune/ward" in result.note
        assert other.codes.location_code_display in result.note


def test_an_old_commune_and_the_commune_continuing_it_are_one_answer(index: GeocoderIndex) -> None:
    """Xã Thịnh Minh (2025) and the old xã Thịnh Minh lie in one unit: no tie, the first answer is sure."""
    first, second = search(index, "Xã Thịnh Minh", limit=2)
    assert (first.kind, second.kind) == ("commune", "old_commune")
    assert first.score == pytest.approx(1.0)
    assert first.note is None


def test_a_village_and_a_commune_of_one_name_tie_when_nothing_tells_them_apart(index: GeocoderIndex) -> None:
    """ "Tây Phong" is a village of xã Cao Phong and the old xã Tây Phong (now in Mường Thàng)."""
    results = search(index, "Tây Phong", limit=5)
    assert {r.kind for r in results[:2]} == {"village", "old_commune"}
    first, second = results[:2]
    assert first.score == second.score <= UNSURE_CEILING
    assert second.label in (first.note or "")
    assert first.label in (second.note or "")


@pytest.mark.parametrize(
    "query",
    ["Phường Thống Nhất, Phú Thọ", "Xã Vân Sơn, tỉnh Phú Thọ", "Làng Chiêng, Huyện Đà Bắc", "Đông Sầm"],
)
def test_alternatives_never_read_as_sure(index: GeocoderIndex, query: str) -> None:
    """Behind a sure first answer every alternative scores at most the ceiling, in the order found."""
    results = search(index, query, limit=5)
    assert results[0].score > UNSURE_CEILING
    scores = [r.score for r in results[1:]]
    assert scores
    assert max(scores) <= UNSURE_CEILING
    assert scores == sorted(scores, reverse=True)


# ------------------------------------------------------------------ places and streets

PLACES = [
    ("chua hang but tan lac", "place:2"),
    ("Nhà hàng Thêm Kế", "place:212"),
    ("cafe vuon hong hoa binh", "place:216"),
    ("Mai Chau Sunset Boutique Hotell", "place:310"),
    ("Organic Vegetable Store, Lương Sơn", "place:8"),
    ("bưu điện cao phong", "place:200"),  # found by the word for its kind
    ("Bến xe khách Mai Châu", "place:260"),
]


@pytest.mark.parametrize(("query", "ref"), PLACES)
def test_places(index: GeocoderIndex, query: str, ref: str) -> None:
    result = top(index, query)
    assert (result.kind, result.ref) == ("place", ref)


def test_unnamed_place_by_its_kind_in_a_commune(index: GeocoderIndex) -> None:
    result = top(index, "cây xăng, xã Pà Cò")
    assert (result.kind, ward(result)) == ("place", "05212")


def test_street_from_place_address_tags(index: GeocoderIndex) -> None:
    result = top(index, "Quốc lộ 15, Xã Mai Châu")
    assert (result.kind, result.match_level, ward(result)) == ("street", "street", "05200")


def test_house_number_found_on_a_place_address(index: GeocoderIndex) -> None:
    result = top(index, "27b bản lác 1, Xã Mai Hạ")
    assert (result.kind, result.match_level, result.house_number) == ("address", "address", "27b")
    assert (round(result.lon, 5), round(result.lat, 5)) == (105.07161, 20.65197)


# ------------------------------------------------------------------ addresses and codes


@pytest.fixture
def with_addresses(conn: Connection) -> dict[str, str]:
    """Three addresses on Trần Hưng Đạo (one retired into another), one in a village; their codes."""
    first = new_address(conn, 105.3401, 20.8162, house_number="12A", street="Trần Hưng Đạo")
    second = new_address(conn, 105.3405, 20.8165, house_number="14", street="Trần Hưng Đạo")
    third = new_address(conn, 105.3409, 20.8168, house_number="16", street="Trần Hưng Đạo")
    village = new_address(conn, 105.0830, 20.6600, house_number="5", village_name="Bản Lác")
    retire_address(conn, first.registry_code, reason="renumbered", successor=third.registry_code)
    return {
        "retired": first.registry_code,
        "14": second.registry_code,
        "16": third.registry_code,
        "village": village.registry_code,
        "location": second.location_code,
    }


def test_house_number_in_a_street(conn: Connection, with_addresses: dict[str, str]) -> None:
    index = GeocoderIndex.load(conn)
    result = top(index, "Số 14 Trần Hưng Đạo, Phường Hòa Bình")
    assert (result.kind, result.match_level, result.house_number) == ("address", "address", "14")
    assert result.codes.registry_code == with_addresses["14"]
    assert (result.lon, result.lat) == pytest.approx((105.3405, 20.8165))
    assert top(index, "14 tran hung dao hoa binh").codes.registry_code == with_addresses["14"]


def test_house_number_in_a_village(conn: Connection, with_addresses: dict[str, str]) -> None:
    index = GeocoderIndex.load(conn)
    result = top(index, "Nhà 5 Bản Lác, Xã Mai Châu")
    assert result.codes.registry_code == with_addresses["village"]


def test_unknown_house_number_falls_back_to_the_street(
    conn: Connection, with_addresses: dict[str, str]
) -> None:
    index = GeocoderIndex.load(conn)
    result = top(index, "số 99 trần hưng đạo, p. hòa bình")
    assert (result.kind, result.match_level) == ("street", "street")
    assert result.note is not None
    assert "99" in result.note
    assert ward(result) == "04795"


def test_registry_codes_resolve_directly(conn: Connection, with_addresses: dict[str, str]) -> None:
    index = GeocoderIndex.load(conn)
    code = with_addresses["14"]
    grouped = f"{code[:4]}-{code[4:7]}-{code[7:]}"
    result = top(index, grouped)
    assert (result.kind, result.codes.registry_code, ward(result)) == ("address", code, "04795")
    retired = top(index, with_addresses["retired"])
    assert retired.codes.registry_code == with_addresses["16"]
    assert retired.note is not None
    assert "retired" in retired.note


def test_location_code_resolves_to_the_address_in_its_cell(
    conn: Connection, with_addresses: dict[str, str]
) -> None:
    index = GeocoderIndex.load(conn)
    result = top(index, format_location_code(with_addresses["location"]).lower())
    assert result.codes.registry_code == with_addresses["14"]


def test_location_code_without_address_answers_the_cell(index: GeocoderIndex) -> None:
    code = encode(105.2, 20.6)
    result = top(index, code)
    assert (result.kind, result.match_level) == ("location_code", "point")
    assert (result.lon, result.lat) == pytest.approx((105.2, 20.6), abs=1e-4)
    assert result.current_unit is not None
    assert result.old_units


def test_mistyped_code_is_an_error_not_a_miss(index: GeocoderIndex) -> None:
    code = encode(105.2, 20.6)
    wrong = code[:-1] + ("2" if code[-1] != "2" else "3")
    with pytest.raises(InvalidCodeError):
        search(index, wrong)


# ------------------------------------------------------------------ filters


def test_unit_code_filter(index: GeocoderIndex) -> None:
    results = search(index, "Làng Hai", filters=SearchFilters(unit_code="04831"))
    assert [r.ref for r in results] == ["village:139"]


def test_unit_code_filter_takes_old_codes(index: GeocoderIndex) -> None:
    results = search(index, "Làng Hai", filters=SearchFilters(unit_code="150"))  # old Đà Bắc district
    assert results
    assert all(r.ref != "village:210" for r in results)


def test_type_filter(index: GeocoderIndex) -> None:
    results = search(index, "Mai Châu", limit=10, filters=SearchFilters(types=frozenset({"village"})))
    assert results
    assert all(r.kind == "village" for r in results)


def test_bbox_filter(index: GeocoderIndex) -> None:
    box = (105.1, 20.7, 105.2, 20.8)  # around Mường Hoa, not Đà Bắc
    results = search(index, "Làng Hai", filters=SearchFilters(bbox=box))
    assert [r.ref for r in results] == ["village:210"]


def test_near_filter_prefers_the_closer_namesake(index: GeocoderIndex) -> None:
    assert top(index, "Làng Hai", filters=SearchFilters(near=(105.15, 20.73))).ref == "village:210"
    assert top(index, "Làng Hai", filters=SearchFilters(near=(105.23, 20.85))).ref == "village:139"


def test_bad_filters_and_limits_are_parameter_errors(index: GeocoderIndex) -> None:
    with pytest.raises(InvalidParameterError):
        SearchFilters(bbox=(106.0, 20.0, 105.0, 21.0))
    with pytest.raises(InvalidParameterError):
        SearchFilters(types=frozenset({"castle"}))
    with pytest.raises(InvalidParameterError):
        search(index, "Mai Châu", limit=0)


def test_empty_and_garbage_queries(index: GeocoderIndex) -> None:
    assert search(index, "   ") == []
    results = search(index, "qwzxv kjhgf")
    assert not results or results[0].score < 0.5


def test_results_are_json_ready(index: GeocoderIndex) -> None:
    data = top(index, "Xóm Giang, xã Liên Sơn").to_dict()
    assert data["current_unit"]["code"] == "04960"
    assert data["parsed"]["village"]["name"] == "giang"
    assert data["codes"]["location_code_display"].count("-") == 2


# ------------------------------------------------------------------ autocomplete


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("Mai Ch", "Xã Mai Châu"),
        ("xã thượng c", "Xã Thượng Cốc"),
        ("lang voi, vay n", "Làng Voi"),
        ("Organic Veg", "Organic Vegetable Store"),
    ],
)
def test_autocomplete_completes_the_last_word(index: GeocoderIndex, prefix: str, expected: str) -> None:
    results = autocomplete(index, prefix, limit=5)
    assert results
    assert results[0].name == expected


def test_autocomplete_with_a_finished_word(index: GeocoderIndex) -> None:
    results = autocomplete(index, "bến xe ")
    assert results
    assert all("xe" in r.label.lower() or r.kind == "place" for r in results[:2])


def test_a_street_in_every_commune_is_found_in_the_one_named(conn: Connection) -> None:
    index = GeocoderIndex.load(conn)
    wards = [e for e in index.state.entries if e.kind == "commune"]
    codes = {}
    for number, ward_entry in enumerate(wards, start=1):
        record = new_address(
            conn, ward_entry.lon, ward_entry.lat, house_number=str(number), street="Quốc lộ 6"
        )
        assert ward_entry.current_unit is not None
        codes[ward_entry.current_unit.code] = (number, record.registry_code)
    index = GeocoderIndex.load(conn)
    number, code = codes["05158"]
    result = top(index, f"Số {number} Quốc lộ 6, Xã Mường Bi")
    assert (result.kind, result.codes.registry_code, ward(result)) == ("address", code, "05158")
    assert ward(top(index, "Quốc lộ 6, xa Muong Bi")) == "05158"
