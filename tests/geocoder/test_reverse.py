"""Reverse geocoding on the real PostGIS: wards, borders, both periods, nearest features."""

from __future__ import annotations

import datetime as dt
import json
import math
from itertools import combinations
from pathlib import Path

import pytest
import shapely
from shapely.geometry import LineString, shape
from sqlalchemy import Connection, func, select

from addresses.errors import InvalidParameterError, OutOfTerritoryError
from addresses.schema import admin_unit
from geocoder.results import OLD_UNITS_PRECISION
from geocoder.reverse import ReverseQuery, reverse
from tests.records import new_address, retire_address

pytestmark = pytest.mark.db

HOA_BINH = (105.338, 20.817)  # Phường Hòa Bình; old Phường Phương Lâm, Thành phố Hòa Bình
KY_SON = (105.40, 20.88)  # Phường Kỳ Sơn; Kỳ Sơn district until 2020-01-01
OFFSET_M = 20.0


def _wards(data_dir: Path) -> dict[str, shapely.Geometry]:
    """The 2025 ward polygons of the bundled file, by code (the ground truth)."""
    features = json.loads((data_dir / "wards_2025.geojson").read_text(encoding="utf-8"))["features"]
    return {f["properties"]["code"]: shape(f["geometry"]) for f in features}


def _offset(lon: float, lat: float, dx: float, dy: float, metres: float) -> tuple[float, float]:
    """Move a point ``metres`` along a unit direction given in metres (east, north)."""
    return lon + dx * metres / (111_320 * math.cos(math.radians(lat))), lat + dy * metres / 110_574


Point = tuple[float, float]


def _border_pairs(wards: dict[str, shapely.Geometry], count: int) -> list[tuple[Point, Point]]:
    """Points 20 m either side of a shared border vertex, for ``count`` pairs of neighbouring wards."""
    pairs: list[tuple[Point, Point]] = []
    for (_a, first), (_b, second) in combinations(sorted(wards.items()), 2):
        shared = shapely.line_merge(first.boundary.intersection(second.boundary))
        lines = [
            g for g in getattr(shared, "geoms", [shared]) if isinstance(g, LineString) and len(g.coords) > 4
        ]
        if not lines:
            continue
        coords = max(lines, key=lambda g: g.length).coords
        middle = len(coords) // 2
        (x1, y1), (x2, y2) = coords[middle - 1], coords[middle + 1]
        east, north = (x2 - x1) * math.cos(math.radians(y1)), y2 - y1
        norm = math.hypot(east, north)
        normal = (-north / norm, east / norm)
        x, y = coords[middle]
        pairs.append((_offset(x, y, *normal, OFFSET_M), _offset(x, y, *normal, -OFFSET_M)))
        if len(pairs) == count:
            break
    return pairs


def _truth(wards: dict[str, shapely.Geometry], lon: float, lat: float) -> list[str]:
    point = shapely.Point(lon, lat)
    return [code for code, polygon in wards.items() if polygon.covers(point)]


def test_point_inside_a_ward(conn: Connection) -> None:
    result = reverse(conn, query=ReverseQuery(*HOA_BINH))
    assert result.current_unit.code == "04795"
    assert result.current_province is not None
    assert result.current_province.code == "25"
    assert [unit.code for unit in result.units] == ["04795", "25"]
    assert result.inside
    assert result.distance_m == 0.0
    assert result.location_code == "8VGDHS6HB"
    assert result.location_code_display == "8VG-DHS-6HB"
    assert result.village is not None
    assert result.village.name == "Hòa Bình"
    assert 300 < result.village.distance_m < 500
    assert result.address is None


def test_old_units_are_the_nearest_predecessor_centre(conn: Connection) -> None:
    result = reverse(conn, query=ReverseQuery(*HOA_BINH))
    assert result.old_units_precision == OLD_UNITS_PRECISION
    commune, district, province = result.old_units
    assert (commune.code, commune.level, commune.precision) == ("04807", "commune", OLD_UNITS_PRECISION)
    assert (district.code, district.level) == ("148", "district")
    assert district.precision.startswith("exact")  # the old district polygon covers the point
    assert (province.code, province.precision) == ("17", "exact")


def test_both_sides_of_shared_borders(conn: Connection, data_dir: Path) -> None:
    wards = _wards(data_dir)
    pairs = _border_pairs(wards, 12)
    assert len(pairs) == 12
    for pair in pairs:
        expected = [_truth(wards, *point) for point in pair]
        assert all(len(codes) == 1 for codes in expected), pair
        assert expected[0] != expected[1]
        found = [reverse(conn, query=ReverseQuery(*point)).current_unit.code for point in pair]
        assert found == [codes[0] for codes in expected], pair


def test_a_point_on_a_border_gets_one_stable_answer(conn: Connection, data_dir: Path) -> None:
    wards = _wards(data_dir)
    first, second = wards["04795"], wards["04828"]
    vertex = first.boundary.intersection(second.boundary).representative_point()
    answers = {reverse(conn, query=ReverseQuery(vertex.x, vertex.y)).current_unit.code for _ in range(3)}
    assert len(answers) == 1
    assert answers <= {"04795", "04828"}


def test_at_a_date_before_the_reorganisation(conn: Connection) -> None:
    result = reverse(conn, query=ReverseQuery(*HOA_BINH, at=dt.date(2025, 6, 30)))
    assert [(unit.code, unit.level) for unit in result.units] == [
        ("04807", "commune"),
        ("148", "district"),
        ("17", "province"),
    ]
    assert result.current_unit.code == "04795"  # the 2025 ward is still given
    assert "Thành phố Hòa Bình" in result.label
    after = reverse(conn, query=ReverseQuery(*HOA_BINH, at=dt.date(2025, 7, 1)))
    assert [unit.code for unit in after.units] == ["04795", "25"]


def test_at_a_date_before_ky_son_joined_hoa_binh_city(conn: Connection) -> None:
    before = reverse(conn, query=ReverseQuery(*KY_SON, at=dt.date(2019, 12, 31)))
    assert before.current_unit.code == "04894"
    assert before.units[1].code == "151"  # Huyện Kỳ Sơn, until 2020-01-01
    assert reverse(conn, query=ReverseQuery(*KY_SON, at=dt.date(2025, 6, 30))).units[1].code == "148"


def test_just_outside_the_territory_answers_the_nearest_ward(conn: Connection, data_dir: Path) -> None:
    wards = _wards(data_dir)
    union = shapely.union_all(list(wards.values()))
    west = min(shapely.get_coordinates(union), key=lambda xy: xy[0])
    lon, lat = float(west[0]) - 0.005, float(west[1])  # ~520 m west of the westernmost vertex
    assert not _truth(wards, lon, lat)
    result = reverse(conn, query=ReverseQuery(lon, lat))
    assert not result.inside
    assert 100 < result.distance_m < 600
    assert _truth(wards, float(west[0]), float(west[1])) == [result.current_unit.code]


def test_far_outside_is_an_error(conn: Connection) -> None:
    with pytest.raises(OutOfTerritoryError) as raised:
        reverse(conn, query=ReverseQuery(105.85, 21.03))  # Hà Nội
    assert raised.value.lon == 105.85
    with pytest.raises(OutOfTerritoryError):
        reverse(conn, query=ReverseQuery(105.0, 20.3, margin_m=0))


def test_impossible_parameters(conn: Connection) -> None:
    with pytest.raises(InvalidParameterError):
        reverse(conn, query=ReverseQuery(200.0, 20.0))
    with pytest.raises(InvalidParameterError):
        reverse(conn, query=ReverseQuery(105.3, float("nan")))
    with pytest.raises(InvalidParameterError):
        reverse(conn, query=ReverseQuery(*HOA_BINH, radius_m=0))


def test_nearest_address_within_the_radius(conn: Connection) -> None:
    near = new_address(conn, 105.3382, 20.8171, house_number="7", street="Cù Chính Lan")
    gone = new_address(conn, 105.33801, 20.81701, house_number="9", street="Cù Chính Lan")
    retire_address(conn, gone.registry_code, reason="demolished")
    result = reverse(conn, query=ReverseQuery(*HOA_BINH))
    assert result.address is not None
    assert (result.address.ref, result.address.registry_code) == (f"address:{near.id}", near.registry_code)
    assert "Cù Chính Lan" in result.address.name
    assert 15 < result.address.distance_m < 35
    assert reverse(conn, query=ReverseQuery(*HOA_BINH, radius_m=10)).address is None


def test_small_radius_finds_no_village(conn: Connection) -> None:
    result = reverse(conn, query=ReverseQuery(*HOA_BINH, radius_m=50))
    assert result.village is None
    assert result.label == "Phường Hoà Bình, Tỉnh Phú Thọ" or result.label.startswith("Phường Hòa Bình")
    assert result.to_dict()["current_unit"]["code"] == "04795"


# ------------------------------------------------------------------ before the 2020 mergers


def _point_of(conn: Connection, code: str, ends: dt.date) -> Point:
    """The centre of the pre-2025 commune of a code that ended on a day."""
    unit = admin_unit.c
    row = conn.execute(
        select(func.ST_X(unit.label_point), func.ST_Y(unit.label_point)).where(
            unit.level == 3, unit.code == code, unit.valid_to == ends
        )
    ).one()
    return float(row[0]), float(row[1])


REORG_2025 = dt.date(2025, 7, 1)
BEFORE_2020 = dt.date(2019, 6, 1)


def test_at_a_date_before_a_rename_names_the_old_commune(conn: Connection) -> None:
    point = _point_of(conn, "04816", REORG_2025)  # Phường Quỳnh Lâm: Xã Sủ Ngòi until 2021-02-01
    result = reverse(conn, query=ReverseQuery(*point, at=BEFORE_2020))
    assert (result.units[0].code, result.units[0].full_name) == ("04816", "Xã Sủ Ngòi")
    assert result.note is None
    assert (
        reverse(conn, query=ReverseQuery(*point, at=dt.date(2022, 1, 1))).units[0].full_name
        == "Phường Quỳnh Lâm"
    )


def test_at_a_date_before_a_merger_answers_the_later_commune_with_its_parts(conn: Connection) -> None:
    point = _point_of(conn, "04912", REORG_2025)  # Xã Mông Hóa: Mông Hóa and Dân Hòa until 2020
    result = reverse(conn, query=ReverseQuery(*point, at=BEFORE_2020))
    assert result.units[0].full_name == "Xã Mông Hóa"
    assert result.note is not None
    assert "Xã Dân Hòa" in result.note
    assert "no polygons" in result.note
    assert reverse(conn, query=ReverseQuery(*point, at=dt.date(2024, 1, 1))).note is None


def test_at_a_date_before_2009_follows_the_commune_back_twice(conn: Connection) -> None:
    point = _point_of(conn, "04918", REORG_2025)  # Phường Trung Minh: xã of huyện Kỳ Sơn until 2009
    result = reverse(conn, query=ReverseQuery(*point, at=dt.date(2008, 1, 1)))
    assert (result.units[0].code, result.units[0].full_name) == ("04918", "Xã Trung Minh")
    assert result.old_units[0].full_name == "Xã Trung Minh"


def test_at_a_date_a_commune_that_grew_later_says_so(conn: Connection) -> None:
    point = _point_of(conn, "04831", REORG_2025)  # TT Đà Bắc took 4 xóm of Tu Lý in 2020
    result = reverse(conn, query=ReverseQuery(*point, at=BEFORE_2020))
    assert result.units[0].full_name == "Thị trấn Đà Bắc"
    assert result.note is not None
    assert "Xã Tu Lý" in result.note
