"""Units abolished before 2025 (reorg_2020.json): searched by their old names, answered with today's units.

The expected 2025 units are derived from the data files themselves: reorg_2020.json
(old commune -> its 2020 successor) then reorg_2025_old_to_new.json (2020 commune ->
2025 unit(s)); the queries are the old names the file records.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import shapely
from sqlalchemy import Connection

from geocoder.index import GeocoderIndex
from geocoder.loading import load_units
from geocoder.search import search

pytestmark = pytest.mark.db

DATA = Path(__file__).resolve().parents[2] / "data" / "hoabinh"


def _json(name: str) -> dict[str, object]:
    loaded: dict[str, object] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return loaded


def expected_2025(old_code: str) -> set[str]:
    """The 2025 unit codes an abolished commune's area is in now, from the two mapping files."""
    reorg: list[dict[str, object]] = _json("reorg_2020.json")["units_abolished"]  # type: ignore[assignment]
    entry = next(unit for unit in reorg if unit["gso_code"] == old_code)
    successors = {str(entry["successor_gso_code"])}
    successors |= {str(part["gso_code"]) for part in entry.get("split_also_to") or ()}  # type: ignore[attr-defined]
    to_new: list[dict[str, object]] = _json("reorg_2025_old_to_new.json")["level3s"]  # type: ignore[assignment]
    by_old = {str(unit["level3_id"]): {str(s["new_id"]) for s in unit["splits"]} for unit in to_new}  # type: ignore[attr-defined]
    return set().union(*(by_old[code] for code in successors))


ABOLISHED = [
    ("xã Hạ Bì, huyện Kim Bôi", "05029"),  # merged into TT Bo (medium confidence)
    ("Xã Dân Hạ, huyện Kỳ Sơn", "04915"),  # merged; Kỳ Sơn district dissolved
    ("Ngòi Hoa, Tân Lạc", "05131"),  # merged into Suối Hoa
    ("xa Dong Bang, huyen Mai Chau", "05221"),  # renamed Đồng Tân, no diacritics
    ("Noong Luông, Mai Châu", "05254"),  # a recorded spelling variant of Nong Luông
    ("xã Thanh Nông, huyện Lạc Thủy", "05074"),  # moved from Kim Bôi in 2009, merged in 2020
    ("Xã Sủ Ngòi, thành phố Hòa Bình", "04816"),  # became phường Quỳnh Lâm in 2021
    ("Phường Chăm Mát", "04810"),  # split between two wards in 2020
    ("xã Thành Lập, Lương Sơn", "04969"),  # renamed Liên Sơn
]


@pytest.mark.parametrize(("query", "old_code"), ABOLISHED)
def test_an_abolished_commune_answers_its_2025_unit(index: GeocoderIndex, query: str, old_code: str) -> None:
    results = search(index, query)
    assert results, f"nothing found for {query!r}"
    top = results[0]
    assert top.kind == "old_commune"
    assert top.current_unit is not None
    assert top.current_unit.code in expected_2025(old_code)
    assert top.note is not None
    assert "->" in top.note  # the chain of changes, oldest first
    assert top.note.split(" -> ")[-1].split(";")[0] == top.current_unit.full_name


def test_the_chain_names_the_2020_commune(index: GeocoderIndex) -> None:
    top = search(index, "xã Hạ Bì, huyện Kim Bôi")[0]
    assert top.note is not None
    assert top.note.startswith(
        "Xã Hạ Bì, Huyện Kim Bôi (until 2020-01-01) -> Thị trấn Bo (until 2025-07-01) -> "
    )
    # the batch's pre-2025 columns mean the 2020-2025 commune; the name typed follows
    assert [(u.full_name, u.level) for u in top.old_units[:2]] == [
        ("Thị trấn Bo", "commune"),
        ("Huyện Kim Bôi", "district"),
    ]
    assert ("Xã Hạ Bì", "commune") in [(u.full_name, u.level) for u in top.old_units[3:]]


@pytest.mark.parametrize(
    ("query", "old_code"), [("Phú Minh, Kỳ Sơn", "04900"), ("xã Hợp Thịnh, huyện Kỳ Sơn", "04897")]
)
def test_ky_son_district_as_context(index: GeocoderIndex, query: str, old_code: str) -> None:
    top = search(index, query)[0]
    assert top.kind == "old_commune"
    assert top.current_unit is not None
    assert top.current_unit.code in expected_2025(old_code)
    assert "Huyện Kỳ Sơn" in top.label


def test_a_commune_that_left_the_province_is_not_answered_as_if_here(index: GeocoderIndex) -> None:
    results = search(index, "xã Tiến Xuân, huyện Lương Sơn")
    assert all(r.name != "Xã Tiến Xuân" for r in results)


def test_every_unit_level_answer_lies_inside_its_polygon(index: GeocoderIndex, conn: Connection) -> None:
    checked = 0
    for unit in load_units(conn):
        if unit.geom is None:
            continue
        found = [r for r in search(index, unit.full_name, limit=20) if r.ref == f"admin_unit:{unit.id}"]
        assert found, f"{unit.full_name} not found by its own name"
        point = shapely.Point(found[0].lon, found[0].lat)
        assert shapely.covers(unit.geom, point), f"{unit.full_name}: {found[0].point_precision}"
        checked += 1
    assert checked >= 46 + 11
