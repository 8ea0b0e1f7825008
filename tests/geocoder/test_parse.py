"""Tests for geocoder.parse on hand-written addresses and on the real OSM addr:* values."""

from __future__ import annotations

import itertools
import json
import unicodedata
from pathlib import Path

import pytest

from addresses.vocabulary import canonical_i
from geocoder.normalize import strip_marks, tokens
from geocoder.parse import (
    DEFAULT_KNOWN,
    Component,
    KnownNames,
    Level,
    ParsedAddress,
    parse,
)

DATA = Path(__file__).resolve().parents[2] / "data" / "hoabinh"


def summary(parsed: ParsedAddress) -> dict[str, str]:
    """Level -> "unit word + name", plus the unlabeled and extra pieces joined by " | "."""
    out = {component.level.value: component.text for component in parsed.labelled}
    if parsed.unlabeled:
        out["unlabeled"] = " | ".join(parsed.unlabeled)
    if parsed.extra:
        out["extra"] = " | ".join(component.text for component in parsed.extra)
    return out


def _poi_addr_values() -> dict[str, list[str]]:
    """addr:* tag values of the OSM POIs, by tag."""
    collection = json.loads((DATA / "pois_osm.geojson").read_text(encoding="utf-8"))
    values: dict[str, list[str]] = {}
    for feature in collection["features"]:
        for tag, value in feature["properties"].items():
            if tag.startswith("addr:") and value:
                values.setdefault(tag, []).append(value)
    return values


def _poi_full_addresses() -> list[str]:
    """The tags housenumber, street and city joined by commas, for each POI with any."""
    collection = json.loads((DATA / "pois_osm.geojson").read_text(encoding="utf-8"))
    tags = ("addr:housenumber", "addr:street", "addr:city")
    joined = (
        ", ".join(f["properties"][t] for t in tags if f["properties"].get(t)) for f in collection["features"]
    )
    return [text for text in joined if text]


def _dev_queries() -> list[str]:
    lines = (DATA / "geocoding_dev_queries.jsonl").read_text(encoding="utf-8").splitlines()
    return [row["query"] for row in map(json.loads, lines) if row.get("query")]


# --- hand-written expectations -------------------------------------------------------

EXPECTED = [
    (
        "Xã Độc Lập, Thành phố Hòa Bình, tỉnh Hòa Bình",
        {"commune": "xã độc lập", "district": "thành phố hòa bình", "province": "tỉnh hòa bình"},
    ),
    ("xa doc lap, tp hoa binh", {"commune": "xã doc lap", "district": "thành phố hoa binh"}),
    ("xa doc lap tp hoa binh", {"commune": "xã doc lap", "district": "thành phố hoa binh"}),
    ("xom lac mai chau", {"village": "xóm lac", "unlabeled": "mai chau"}),
    ("TP. HB", {"district": "thành phố hòa bình"}),
    ("P.Tân Hòa, TP.HB", {"commune": "phường tân hòa", "district": "thành phố hòa bình"}),
    ("X.Độc Lập", {"commune": "xã độc lập"}),
    ("Phú Thọ", {"province": "phú thọ"}),
    ("tỉnh Hoà Bình", {"province": "tỉnh hòa bình"}),
    ("Thành phố Hòa Bình", {"district": "thành phố hòa bình"}),
    ("Thành phố Hòa Bình, Phú Thọ", {"district": "thành phố hòa bình", "province": "phú thọ"}),
    ("12A Trần Phú", {"house_number": "12a", "street": "trần phú"}),
    (
        "40bis Nguyễn Văn Cừ, P. Đồng Tiến",
        {"house_number": "40bis", "street": "nguyễn văn cừ", "commune": "phường đồng tiến"},
    ),
    ("Số 1806/127/2 Lê Lợi", {"house_number": "số 1806/127/2", "street": "lê lợi"}),
    (
        "số 5 đường Cù Chính Lan, phường Đồng Tiến",
        {"house_number": "số 5", "street": "đường cù chính lan", "commune": "phường đồng tiến"},
    ),
    (
        "so 5 ngo 12 duong tran hung dao p.tan hoa tp hb",
        {
            "house_number": "số 5",
            "alley": "ngõ 12",
            "street": "đường tran hung dao",
            "commune": "phường tan hoa",
            "district": "thành phố hòa bình",
        },
    ),
    (
        "Xã Nhân Mỹ Huyệện Tân Lạc Hoà Bình",
        {"commune": "xã nhân mỹ", "district": "huyện tân lạc", "province": "hòa bình"},
    ),
    (
        "Xa Na Phon Huen Mai Chau tinh Hoa Binh",
        {"commune": "xã na phon", "district": "huyện mai chau", "province": "tỉnh hoa binh"},
    ),
    ("phuong phuong lam tp hoa binh", {"commune": "phường phuong lam", "district": "thành phố hoa binh"}),
    ("phuong tan tinh thanh pho hoa binh", {"commune": "phường tan tinh", "district": "thành phố hoa binh"}),
    ("Thị trấn Vụ Bản Huyện Lạc Sơn", {"commune": "thị trấn vụ bản", "district": "huyện lạc sơn"}),
    (
        "Mẫn Đức H. Tân Lạc Hoà Bình",
        {"district": "huyện tân lạc", "province": "hòa bình", "unlabeled": "mẫn đức"},
    ),
    (
        "Làng Lắc Lư Huyện Cao Phong Hòa Bình",
        {"village": "làng lắc lư", "district": "huyện cao phong", "province": "hòa bình"},
    ),
    ("Lang Mo Da Bac Hoa Binh", {"village": "làng mo", "province": "hoa binh", "unlabeled": "da bac"}),
    ("Tức Tranh Thượng Cốc Phú Thọ", {"province": "phú thọ", "unlabeled": "tức tranh thượng cốc"}),
    ("xóm giối p.kỳ sơn phú thọ", {"village": "xóm giối", "commune": "phường kỳ sơn", "province": "phú thọ"}),
    ("Xa Thinh Mnih Phu Tho Viet Nam", {"commune": "xã thinh mnih", "province": "phu tho"}),
    ("Quận 1, TP Hồ Chí Minh", {"district": "quận 1", "province": "thành phố hồ chí minh"}),
    ("P.5, Q.3, TP.HCM", {"commune": "phường 5", "district": "quận 3", "province": "thành phố hcm"}),
    (
        "Tổ dân phố 3, P. Tân Hòa, TP. Hòa Bình",
        {"village": "tổ dân phố 3", "commune": "phường tân hòa", "district": "thành phố hòa bình"},
    ),
    (
        "tiểu khu 5, thị trấn Lương Sơn, huyện Lương Sơn",
        {"village": "tiểu khu 5", "commune": "thị trấn lương sơn", "district": "huyện lương sơn"},
    ),
    ("KDC số 2, TT Chi Nê", {"village": "khu dân cư số 2", "commune": "thị trấn chi nê"}),
    (
        "Khu 5, thị trấn Chi Nê, H. Lạc Thủy, T. Hòa Bình",
        {
            "village": "khu 5",
            "commune": "thị trấn chi nê",
            "district": "huyện lạc thủy",
            "province": "tỉnh hòa bình",
        },
    ),
    ("ĐT433, xã Yên Bồng", {"street": "đường tỉnh 433", "commune": "xã yên bồng"}),
    ("kiệt 12/3 Hoàng Diệu", {"alley": "kiệt 12/3", "street": "hoàng diệu"}),
    ("Ngách 4 Ngõ 12 Phố Huế", {"alley": "ngõ 12", "street": "phố huế", "extra": "ngách 4"}),
    (
        "Mai Chau District, Hoa Binh Province",
        {"district": "district mai chau", "province": "province hoa binh"},
    ),
    (
        "Phường Phương Lâm, Thành phố Hòa Bình",
        {"commune": "phường phương lâm", "district": "thành phố hòa bình"},
    ),
    ("Ban Suoi Ky", {"village": "bản suoi ky"}),
    # House words count only at the start of a part: this is a petrol station's name.
    ("Xăng dầu số 15 Kim Bôi", {"unlabeled": "xăng dầu số 15 kim bôi"}),
    # "quân" (army) is not "quận" (district).
    (
        "bệnh viện quân y 108, Xã Mường Thàng",
        {"commune": "xã mường thàng", "unlabeled": "bệnh viện quân y 108"},
    ),
    # A province at the end of an earlier part is part of a name.
    (
        "Cây Xăng Lương Sơn Hòa Bình, Xã Cao Dương",
        {"commune": "xã cao dương", "unlabeled": "cây xăng lương sơn hòa bình"},
    ),
    # "quan" without marks inside a name is not "quận".
    (
        "nha hang Quan Ngon, Phuong Hoa Binh",
        {"commune": "phường hoa binh", "unlabeled": "nha hang quan ngon"},
    ),
]


@pytest.mark.parametrize(("text", "expected"), EXPECTED, ids=[text for text, _ in EXPECTED])
def test_parse_hand_written(text: str, expected: dict[str, str]) -> None:
    assert summary(parse(text)) == expected


def test_parse_reads_nfd_input() -> None:
    text = "Xã Độc Lập, Thành phố Hòa Bình, tỉnh Hòa Bình"
    nfd = unicodedata.normalize("NFD", text)
    assert nfd != text
    assert parse(nfd) == parse(text)


def test_parse_gives_accented_and_folded_forms() -> None:
    parsed = parse("X.Độc Lập, TP.HB")
    assert parsed.commune == Component(Level.COMMUNE, "xã", "độc lập", "doc lap")
    assert parsed.district == Component(Level.DISTRICT, "thành phố", "hòa bình", "hoa binh")
    assert parsed.province is None


def test_parse_folded_forms_agree_whatever_the_accents() -> None:
    accented = parse("Xã Độc Lập, Thành phố Hoà Bình, tỉnh Hòa Bình")
    ascii_only = parse("xa doc lap, thanh pho hoa binh, tinh hoa binh")
    assert [c.folded for c in accented.labelled] == [c.folded for c in ascii_only.labelled]
    assert [c.kind for c in accented.labelled] == [c.kind for c in ascii_only.labelled]


def test_city_is_a_province_only_for_central_cities() -> None:
    assert parse("thanh pho ha noi").province == Component(Level.PROVINCE, "thành phố", "ha noi", "ha noi")
    assert parse("Thành phố Hòa Bình").province is None
    # Followed by a province, even a central city name is the district-level city.
    assert parse("Thành phố Huế, tỉnh Thừa Thiên Huế").get(Level.DISTRICT) is not None


def test_typos_in_unit_words() -> None:
    for typed in ("Huyyện", "Huuyện", "Hyện", "Huyệện", "huen", "Huyeen", "Hyuện", "Huynệ", "Huyn"):
        parsed = parse(f"Xã Mỹ Hòa, {typed} Tân Lạc")
        assert parsed.district == Component(Level.DISTRICT, "huyện", "tân lạc", "tan lac"), typed
    assert parse("Phuường Thống Nhất").commune is not None
    assert parse("xã độc lập, thàh phố hòa bình").district is not None
    # "Phong" is a real syllable, never a typo of "phường".
    assert parse("Xã Cao Phong Phú Thọ").commune == Component(Level.COMMUNE, "xã", "cao phong", "cao phong")


def test_accented_names_are_not_unit_words() -> None:
    parsed = parse("Xã Thanh Huyền Phường Lâm")
    assert parsed.commune is not None
    assert parsed.commune.name == "lâm"
    assert parsed.extra == (Component(Level.COMMUNE, "xã", "thanh huyền", "thanh huyen"),)


def test_known_names_label_and_split_pieces() -> None:
    known = KnownNames.from_names(
        provinces=["Tỉnh Hoà Bình"],
        districts=["Huyện Mai Châu", "Thành phố Hòa Bình"],
        communes=["Xã Mai Hạ"],
    )
    parsed = parse("xom lac mai chau hoa binh", known=known)
    assert summary(parsed) == {"village": "xóm lac", "district": "mai chau", "province": "hoa binh"}
    parsed = parse("Pom Coọng, Mai Hạ, Mai Châu", known=known)
    assert summary(parsed) == {"commune": "mai hạ", "district": "mai châu", "unlabeled": "pom coọng"}
    # Without the known districts, the default only knows the provinces.
    assert summary(parse("xom lac mai chau hoa binh")) == {
        "village": "xóm lac",
        "province": "hoa binh",
        "unlabeled": "mai chau",
    }


def test_known_name_at_two_levels_is_a_province_only_at_the_end() -> None:
    known = KnownNames.from_names(provinces=["Hòa Bình"], communes=["Phường Hòa Bình"])
    assert summary(parse("Hòa Bình, Phú Thọ", known=known)) == {"unlabeled": "hòa bình | phú thọ"}
    assert summary(parse("Tổ 6, Hòa Bình", known=known)) == {"village": "tổ 6", "province": "hòa bình"}


def test_default_known_names() -> None:
    assert DEFAULT_KNOWN.provinces == frozenset({("hoa", "binh"), ("phu", "tho")})
    assert not DEFAULT_KNOWN.districts
    assert not DEFAULT_KNOWN.communes


def test_to_dict_is_json_friendly() -> None:
    parsed = parse("Số 9, ngõ 1, tổ 3, xóm mỏ, Mai Châu")
    as_dict = parsed.to_dict()
    assert json.loads(json.dumps(as_dict, ensure_ascii=False)) == as_dict
    assert as_dict["house_number"] == {"level": "house_number", "kind": "số", "name": "9", "folded": "9"}
    assert as_dict["street"] is None
    assert as_dict["village"] == {"level": "village", "kind": "xóm", "name": "mỏ", "folded": "mo"}
    assert as_dict["unlabeled"] == ["mai châu"]
    assert as_dict["unlabeled_folded"] == ["mai chau"]
    assert as_dict["extra"] == [{"level": "village", "kind": "tổ", "name": "3", "folded": "3"}]


def test_parsed_address_is_frozen() -> None:
    parsed = parse("xã độc lập")
    with pytest.raises(AttributeError):
        parsed.commune = None  # type: ignore[misc]


def test_line_breaks_and_tabs_separate_parts() -> None:
    expected = {"commune": "xã độc lập", "district": "huyện mai châu", "province": "hòa bình"}
    assert summary(parse("Xã Độc Lập\nHuyện Mai Châu\r\nHòa Bình")) == expected
    assert summary(parse("Xã Độc Lập\tHuyện Mai Châu\tHòa Bình")) == expected


@pytest.mark.parametrize(
    "text",
    ["\u0300", "😀 xã", "ngõ", "số", "12/", "/", "- - -", "x.", "tp.", "İstanbul", "a" * 500, "1 " * 200],
)
def test_odd_input_does_not_break_the_parser(text: str) -> None:
    parsed = parse(text)
    for component in (*parsed.labelled, *parsed.extra):
        assert component.name
        assert component.folded == strip_marks(component.name)


def test_empty_and_noise_only_input() -> None:
    assert parse("") == ParsedAddress()
    assert parse(" , ; Việt Nam ") == ParsedAddress()
    assert parse("!!!") == ParsedAddress()


# --- the real OSM addr:* values ------------------------------------------------------

# Every distinct addr:street value in pois_osm.geojson, read by a person.
EXPECTED_OSM_STREETS = {
    "Bản Lác - Pom Coong, Mai Châu, Viêt Nam": {"village": "bản lác", "unlabeled": "pom coong | mai châu"},
    "Cù Chính Lan": {"unlabeled": "cù chính lan"},
    "Giếng Xạ Hamlet - Cư Yên Commune": {"village": "hamlet giếng xạ", "commune": "commune cư yên"},
    "Hoàng Hoa Thám": {"unlabeled": "hoàng hoa thám"},
    "Mai Hich": {"unlabeled": "mai hich"},
    "Nà Phồn": {"unlabeled": "nà phồn"},
    "Phùng Hưng": {"unlabeled": "phùng hưng"},
    "Pom Coọng, bản Lác, Mai Châu, Hòa Bình": {
        "village": "bản lác",
        "province": "hòa bình",
        "unlabeled": "pom coọng | mai châu",
    },
    "QL 6": {"street": "quốc lộ 6"},
    "Quốc Lộ 12B": {"street": "quốc lộ 12b"},
    "Quốc lộ 15": {"street": "quốc lộ 15"},
    "Số 9, ngõ 1, tổ 3, xóm mỏ": {
        "house_number": "số 9",
        "alley": "ngõ 1",
        "village": "xóm mỏ",
        "extra": "tổ 3",
    },
    "Trần Hưng Đaoj": {"unlabeled": "trần hưng đạo"},  # the Telex key "j" left after "Đao" is its dot below
    "Trần Hưng Đạo": {"unlabeled": "trần hưng đạo"},
    "Trần Quý Cáp": {"unlabeled": "trần quý cáp"},
    "Tổ 6, Hòa Bình": {"village": "tổ 6", "province": "hòa bình"},
    "bản lác 1": {"village": "bản lác 1"},
    "lác": {"unlabeled": "lác"},
    "xóm Chiềng Sại, Mai Chau": {"village": "xóm chiềng sại", "unlabeled": "mai chau"},
    "xóm Lác": {"village": "xóm lác"},
    "xóm kha": {"village": "xóm kha"},
    "Đường 12B": {"street": "đường 12b"},
}

EXPECTED_OSM_COMBINED = {
    "1 ngõ 122 B, Hoàng Hoa Thám": {"house_number": "1", "alley": "ngõ 122b", "street": "hoàng hoa thám"},
    "215, Trần Hưng Đạo, Hòa Bình": {
        "house_number": "215",
        "street": "trần hưng đạo",
        "province": "hòa bình",
    },
    "Nhà 28, xóm Lác, tỉnh Hòa bình": {
        "house_number": "nhà 28",
        "village": "xóm lác",
        "province": "tỉnh hòa bình",
    },
    "27b, bản lác 1": {"house_number": "27b", "village": "bản lác 1"},
    "bản, lác, mai châu": {"unlabeled": "bản | lác | mai châu"},
    "QL 6, Hòa Bình": {"street": "quốc lộ 6", "province": "hòa bình"},
    "Số 9, ngõ 1, tổ 3, xóm mỏ, mai châu": {
        "house_number": "số 9",
        "alley": "ngõ 1",
        "village": "xóm mỏ",
        "unlabeled": "mai châu",
        "extra": "tổ 3",
    },
}


def test_every_osm_street_value_has_an_expectation() -> None:
    streets = set(_poi_addr_values()["addr:street"])
    assert streets == set(EXPECTED_OSM_STREETS)


@pytest.mark.parametrize(("text", "expected"), EXPECTED_OSM_STREETS.items(), ids=list(EXPECTED_OSM_STREETS))
def test_parse_osm_street_values(text: str, expected: dict[str, str]) -> None:
    assert summary(parse(text)) == expected


@pytest.mark.parametrize(("text", "expected"), EXPECTED_OSM_COMBINED.items(), ids=list(EXPECTED_OSM_COMBINED))
def test_parse_osm_combined_addresses(text: str, expected: dict[str, str]) -> None:
    assert text in _poi_full_addresses()
    assert summary(parse(text)) == expected


def test_osm_house_numbers() -> None:
    for value in _poi_addr_values()["addr:housenumber"]:
        parsed = parse(value)
        if value == "bản":  # a unit word with nothing after it is just a word
            assert parsed.unlabeled == ("bản",)
        elif value == "1 ngõ 122 B":
            assert summary(parsed) == {"house_number": "1", "alley": "ngõ 122b"}
        else:
            assert parsed.house_number is not None, value
            assert parsed.house_number.name == value.lower().removeprefix("nhà "), value


def test_osm_city_values() -> None:
    for value in _poi_addr_values()["addr:city"]:
        parsed = parse(value)
        if strip_marks(value.lower()).endswith("hoa binh"):
            assert parsed.province is not None, value
            assert parsed.province.folded == "hoa binh", value
        else:  # "Mai Châu", "Mai Chàu", "mai châu": level unknown without the database
            assert parsed.unlabeled_folded == ("mai chau",), value


# --- properties over all real strings ------------------------------------------------


def _assert_nothing_lost_or_invented(text: str) -> None:
    """Every input token is a unit word, a name token, or a number joined to its letter."""
    parsed = parse(text)
    given = tokens(text)
    components = (*parsed.labelled, *parsed.extra)
    name_tokens = [canonical_i(t) for c in components for t in c.name.split()]  # tokens write "mị" for "mỵ"
    name_tokens += [canonical_i(t) for piece in parsed.unlabeled for t in piece.split()]
    joined = [t for t in name_tokens if t not in given]  # "122" + "b" -> "122b"
    for token in joined:
        assert any(a + b == token for a, b in itertools.pairwise(given)), (text, token)
    unit_tokens = sum(len(c.kind.split()) for c in components)
    assert len(given) == len(name_tokens) + len(joined) + unit_tokens, text
    for component in components:
        assert component.name
        assert component.folded == strip_marks(component.name)
    assert parsed.unlabeled_folded == tuple(map(strip_marks, parsed.unlabeled))


def test_osm_values_lose_and_invent_nothing() -> None:
    values = [v for vs in _poi_addr_values().values() for v in vs] + _poi_full_addresses()
    assert len(values) > 80
    for value in values:
        _assert_nothing_lost_or_invented(value)


def test_dev_queries_lose_and_invent_nothing() -> None:
    for query in _dev_queries():
        _assert_nothing_lost_or_invented(query)
