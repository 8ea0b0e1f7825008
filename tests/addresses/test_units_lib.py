"""Administrative units library on the real database: listing, lookup by code, lineage, conversion."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection

from addresses import units
from addresses.errors import AmbiguousUnitError, InvalidParameterError, NotFoundError

BEFORE = dt.date(2024, 1, 1)
AFTER = dt.date(2025, 7, 1)


def _codes(page: units.UnitPage) -> list[str]:
    return [unit.code for unit in page.units]


# --- pure helpers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "right"),
    [("Hòa Bình", "Hoà Bình"), ("HOA BINH", "hoà bình"), ("Đà Bắc", "da bac"), ("Yên  Thủy", "Yen Thuy")],
)
def test_fold_ignores_accents_case_tone_placement_and_spacing(left: str, right: str) -> None:
    assert units.fold(left) == units.fold(right)


def test_fold_keeps_letters_apart() -> None:
    assert units.fold("Tân Lạc") != units.fold("Tân Lập")


@pytest.mark.parametrize(
    ("given", "code"), [("4795", "04795"), ("04795", "04795"), ("148", "148"), ("7", "07")]
)
def test_normalize_code_pads_spreadsheet_codes(given: str, code: str) -> None:
    assert units.normalize_code(given) == code


@pytest.mark.parametrize("given", ["", "abc", "123456", "04 795", "٤٧٩٥"])
def test_normalize_code_refuses_non_codes(given: str) -> None:
    with pytest.raises(InvalidParameterError) as error:
        units.normalize_code(given)
    assert error.value.parameter == "code"


# --- listing ------------------------------------------------------------------------------------


def test_all_units_of_both_periods(conn: Connection) -> None:
    page = units.list_units(conn, query=units.UnitQuery(limit=1000))
    assert page.number_matched == len(page.units) == 210 + 111  # and the communes' periods before 2020
    assert [u.level for u in page.units] == sorted(u.level for u in page.units)


@pytest.mark.parametrize(
    ("level", "at", "count"),
    [(1, BEFORE, 1), (2, BEFORE, 10), (3, BEFORE, 151), (1, AFTER, 1), (2, AFTER, 0), (3, AFTER, 46)],
)
def test_units_valid_on_a_day(conn: Connection, level: int, at: dt.date, count: int) -> None:
    assert units.list_units(conn, query=units.UnitQuery(level=level, at=at)).number_matched == count


def test_ky_son_district_existed_until_2020(conn: Connection) -> None:
    assert "151" in _codes(units.list_units(conn, query=units.UnitQuery(level=2, at=dt.date(2019, 6, 1))))
    assert "151" not in _codes(units.list_units(conn, query=units.UnitQuery(level=2, at=dt.date(2020, 2, 1))))


def test_children_of_a_parent(conn: Connection) -> None:
    page = units.list_units(conn, query=units.UnitQuery(parent_code="148", limit=100))
    assert page.number_matched == 19 + 6  # and 6 periods ending in 2020 or 2021
    assert {u.parent_name for u in page.units} == {"Thành phố Hòa Bình"}
    assert units.list_units(conn, query=units.UnitQuery(parent_code="25", limit=100)).number_matched == 46


def test_name_search_ignores_accents(conn: Connection) -> None:
    plain = _codes(units.list_units(conn, query=units.UnitQuery(q="hoa binh")))
    assert (
        plain
        == _codes(units.list_units(conn, query=units.UnitQuery(q="Hoà Bình")))
        == _codes(units.list_units(conn, query=units.UnitQuery(q="HÒA BÌNH")))
    )
    assert {"17", "148", "04795", "04825"} <= set(plain)


def test_digits_search_code_prefixes(conn: Connection) -> None:
    page = units.list_units(conn, query=units.UnitQuery(q="0479", limit=100))
    assert page.number_matched > 0
    assert all(code.startswith("0479") for code in _codes(page))


def test_search_wildcards_are_literal(conn: Connection) -> None:
    assert units.list_units(conn, query=units.UnitQuery(q="%")).number_matched == 0


def test_paging_and_its_limits(conn: Connection) -> None:
    first, second = (
        units.list_units(conn, query=units.UnitQuery(limit=5)),
        units.list_units(conn, query=units.UnitQuery(limit=5, offset=5)),
    )
    assert not {u.id for u in first.units} & {u.id for u in second.units}
    assert first.number_matched == second.number_matched == 321
    with pytest.raises(InvalidParameterError) as error:
        units.list_units(conn, query=units.UnitQuery(limit=2000, max_limit=1000))
    assert error.value.parameter == "limit"
    with pytest.raises(InvalidParameterError) as error:
        units.list_units(conn, query=units.UnitQuery(level=4))
    assert error.value.parameter == "level"


# --- one unit by code -----------------------------------------------------------------------------


def test_a_reused_code_gives_the_current_unit_and_says_so(conn: Connection) -> None:
    detail = units.get_unit(conn, "04795")
    assert detail.unit.full_name == "Phường Hòa Bình"
    assert detail.unit.is_current
    assert detail.resolution == "current"
    assert [u.full_name for u in detail.other_periods] == ["Phường Thịnh Lang"]
    assert detail.note is not None
    assert "Phường Thịnh Lang" in detail.note
    assert "at=" in detail.note
    assert detail.geometry is not None
    assert detail.geometry["type"] == "MultiPolygon"


def test_a_date_chooses_the_period(conn: Connection) -> None:
    detail = units.get_unit(conn, "4795", at=BEFORE)
    assert detail.unit.full_name == "Phường Thịnh Lang"
    assert detail.resolution == "at"
    assert detail.geometry is None  # only a point is known for the old ward
    assert detail.label_point == {"type": "Point", "coordinates": [105.346782, 20.841232]}
    assert units.get_unit(conn, "04795", at=AFTER).unit.full_name == "Phường Hòa Bình"


def test_a_unit_that_no_longer_exists_is_the_latest(conn: Connection) -> None:
    detail = units.get_unit(conn, "151")
    assert detail.unit.name == "Kỳ Sơn"  # the accented name of reorg_2020.json over WOF's "Ky Son"
    assert detail.resolution == "latest"
    assert detail.note is not None
    assert "no longer exists" in detail.note
    assert detail.geometry is not None


def test_a_date_when_the_code_named_nothing(conn: Connection) -> None:
    with pytest.raises(NotFoundError, match="on 2021-01-01"):
        units.get_unit(conn, "151", at=dt.date(2021, 1, 1))


def test_an_unknown_code_is_not_found(conn: Connection) -> None:
    with pytest.raises(NotFoundError, match="99999"):
        units.get_unit(conn, "99999")


# --- lineage ---------------------------------------------------------------------------------------


def test_lineage_of_a_new_ward(conn: Connection) -> None:
    new = units.get_unit(conn, "04795").unit
    history = units.lineage(conn, new.id)
    names = {link.unit.full_name: link.kind for link in history.predecessors}
    assert names["Phường Thịnh Lang"] == "full"
    assert len(names) == 7
    assert set(names.values()) == {"full"}
    assert all(link.effective_date == AFTER for link in history.predecessors)
    assert history.successors == []


def test_lineage_of_a_split_commune(conn: Connection) -> None:
    old = units.get_unit(conn, "04891", at=BEFORE).unit
    history = units.lineage(conn, old.id)
    assert [(link.unit.code, link.kind) for link in history.successors] == [
        ("04828", "partial"),
        ("04891", "partial"),
    ]
    assert history.predecessors == []


def test_lineage_of_an_unknown_id(conn: Connection) -> None:
    with pytest.raises(NotFoundError):
        units.lineage(conn, 10**9)


# --- conversion --------------------------------------------------------------------------------------


def _successors(conversion: units.Conversion) -> list[tuple[str, str, str]]:
    return [(s.unit.code, s.kind, s.basis) for s in conversion.successors]


def test_a_split_commune_converts_to_several_partial_successors(conn: Connection) -> None:
    conversion = units.convert_unit(conn, unit=units.UnitName(code="04891"))
    assert conversion.source.full_name == "Xã Vầy Nưa"
    assert _successors(conversion) == [("04828", "partial", "lineage"), ("04891", "partial", "lineage")]
    assert "Phường Thống Nhất" in conversion.note
    assert "Xã Tiền Phong" in conversion.note


def test_a_reused_code_converts_from_the_old_unit(conn: Connection) -> None:
    conversion = units.convert_unit(conn, unit=units.UnitName(code="04795"))
    assert conversion.source.full_name == "Phường Thịnh Lang"
    assert _successors(conversion) == [("04795", "full", "lineage")]
    assert conversion.successors[0].unit.full_name == "Phường Hòa Bình"


def test_the_old_province_became_phu_tho(conn: Connection) -> None:
    conversion = units.convert_unit(conn, unit=units.UnitName(name="Tỉnh Hoà Bình"))
    assert conversion.source.code == "17"
    assert _successors(conversion) == [("25", "full", "lineage")]
    assert conversion.successors[0].unit.full_name == "Tỉnh Phú Thọ"


def test_a_name_matching_several_old_units_is_ambiguous(conn: Connection) -> None:
    with pytest.raises(AmbiguousUnitError) as error:
        units.convert_unit(conn, unit=units.UnitName(name="Cao Sơn"))
    assert error.value.parameter == "district"
    assert len(error.value.candidates) == 2
    assert any("Huyện Đà Bắc" in c for c in error.value.candidates)


def test_district_and_province_disambiguate_without_accents(conn: Connection) -> None:
    conversion = units.convert_unit(
        conn, unit=units.UnitName(name="xa cao son", district="Luong Son", province="Hoa Binh")
    )
    assert conversion.source.code == "04957"
    assert _successors(conversion) == [("04924", "partial", "lineage"), ("04960", "partial", "lineage")]


def test_an_abolished_district_converts_through_its_communes(conn: Connection) -> None:
    conversion = units.convert_unit(conn, unit=units.UnitName(code="148"))
    codes = {s.unit.code for s in conversion.successors}
    assert codes == {"04792", "04795", "04828", "04894", "04897"}
    assert {s.kind for s in conversion.successors} == {"partial"}
    assert {s.basis for s in conversion.successors} == {"communes"}
    assert "abolished" in conversion.note


def test_the_abolished_ky_son_district_converts_through_its_2019_communes(conn: Connection) -> None:
    conversion = units.convert_unit(conn, unit=units.UnitName(name="Huyện Kỳ Sơn"))
    assert conversion.source.code == "151"
    assert {s.basis for s in conversion.successors} == {"communes"}
    codes = {s.unit.code for s in conversion.successors}
    assert {"04894", "04897"} <= codes  # Phường Kỳ Sơn, Xã Thịnh Minh (2025)
    assert "04918" not in codes  # Trung Minh left Kỳ Sơn in 2009


def test_a_unit_without_lineage_converts_by_area(conn: Connection) -> None:
    ky_son = units.get_unit(conn, "151").unit
    successors = units._via_geometry(conn, ky_son)
    shares = {s.unit.code: s.share for s in successors}
    assert set(shares) == {"04894", "04897"}  # Phường Kỳ Sơn, Xã Thịnh Minh
    assert all(s.basis == "geometry" and s.kind == "partial" for s in successors)
    assert sum(share or 0 for share in shares.values()) > 0.8


def test_a_present_day_unit_converts_to_itself(conn: Connection) -> None:
    conversion = units.convert_unit(conn, unit=units.UnitName(name="Phường Thống Nhất", province="Phú Thọ"))
    assert conversion.source.is_current
    assert _successors(conversion) == [("04828", "full", "unchanged")]


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({}, "code"),
        ({"code": "04891", "name": "Vầy Nưa"}, "name"),
        ({"code": "04891", "district": "Đà Bắc"}, "district"),
        ({"code": "4-891"}, "code"),
    ],
)
def test_conversion_needs_a_code_or_a_name(conn: Connection, kwargs: dict[str, Any], parameter: str) -> None:
    with pytest.raises(InvalidParameterError) as error:
        units.convert_unit(conn, unit=units.UnitName(**kwargs))
    assert error.value.parameter == parameter


def test_an_unknown_name_is_not_found(conn: Connection) -> None:
    with pytest.raises(NotFoundError, match="Atlantis"):
        units.convert_unit(conn, unit=units.UnitName(name="Atlantis"))


# --- the 2008-2021 changes ---------------------------------------------------------------------------


def test_a_2019_commune_converts_through_its_2020_commune(conn: Connection) -> None:
    conversion = units.convert_unit(
        conn, unit=units.UnitName(name="xa dan ha", district="Ky Son")
    )  # huyện Kỳ Sơn, until 2020
    assert (conversion.source.code, conversion.source.valid_to) == ("04915", dt.date(2020, 1, 1))
    [successor] = conversion.successors
    assert successor.unit.code == "04894"
    assert successor.unit.is_current
    assert [link.unit.full_name for link in successor.via] == ["Phường Kỳ Sơn", "Phường Kỳ Sơn"]
    assert [link.unit.is_current for link in successor.via] == [False, True]


def test_a_spelling_variant_names_the_old_commune(conn: Connection) -> None:
    conversion = units.convert_unit(conn, unit=units.UnitName(name="Noong Luông", district="Mai Châu"))
    assert conversion.source.full_name == "Xã Nong Luông"


def test_a_name_of_two_periods_converting_alike_is_not_ambiguous(conn: Connection) -> None:
    # old Liên Sơn (04966) merged into the new Liên Sơn (04969, ex-Thành Lập) in 2020
    conversion = units.convert_unit(conn, unit=units.UnitName(name="Liên Sơn", district="Lương Sơn"))
    assert {unit.code for unit in (conversion.source,)} <= {"04966", "04969"}
    assert "also named" in conversion.note


def test_a_split_2019_commune_fans_out_with_the_notes_of_its_parts(conn: Connection) -> None:
    conversion = units.convert_unit(
        conn, unit=units.UnitName(code="04822")
    )  # Xã Thái Thịnh -> Xã Hòa Bình + Phường Thái Bình
    assert [(s.unit.full_name, s.kind) for s in conversion.successors] == [
        ("Phường Tân Hòa", "partial"),
        ("Phường Thống Nhất", "partial"),
    ]
    parts = {s.via[0].unit.full_name: s for s in conversion.successors}
    assert set(parts) == {"Xã Hòa Bình", "Phường Thái Bình"}
    assert "Vôi" in (parts["Phường Thái Bình"].note or "")
    assert {s.confidence for s in conversion.successors} == {"medium"}


def test_a_split_whose_parts_meet_again_is_whole_in_the_end(conn: Connection) -> None:
    conversion = units.convert_unit(
        conn, unit=units.UnitName(code="04810")
    )  # Chăm Mát: both parts are in Phường Thống Nhất now
    assert [(s.unit.full_name, s.kind) for s in conversion.successors] == [("Phường Thống Nhất", "full")]


def test_weakest_confidence_of_a_chain() -> None:
    assert units.weakest(["high", "medium", None]) == "medium"
    assert units.weakest([]) is None


def test_the_interim_codes_of_early_2020_convert_like_the_final_ones(
    conn: Connection, data_dir: Path
) -> None:
    """GSO's list of 2020-01-01 gave 14 merged communes a temporary code: each is the code of a
    commune merged into the same unit, so data frozen then converts to the right unit."""
    spec = json.loads((data_dir / "reorg_2020.json").read_text(encoding="utf-8"))
    for interim in spec["gso_interim_codes_2020_01"]["codes"]:
        by_interim = units.convert_unit(
            conn, unit=units.UnitName(code=interim["interim_code"]), at=dt.date(2019, 12, 1)
        )
        by_final = units.convert_unit(
            conn, unit=units.UnitName(code=interim["final_gso_code"]), at=dt.date(2024, 1, 1)
        )
        assert {s.unit.code for s in by_interim.successors} == {s.unit.code for s in by_final.successors}
