"""The 2008-2021 changes (reorg_2020.json): old communes as unit periods, their lineage, bad files refused."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import Connection, func, select, update

from addresses.errors import ImportValidationError
from addresses.schema import admin_unit, unit_lineage
from importers.reorg2020 import read_reorg_2020
from importers.units import end_units, start_units

REORG_2025 = dt.date(2025, 7, 1)
NQ_830 = dt.date(2020, 1, 1)


def _periods(conn: Connection, code: str) -> list[tuple[object, ...]]:
    parent = admin_unit.alias("parent")
    query = (
        select(admin_unit.c.full_name, parent.c.code, admin_unit.c.valid_from, admin_unit.c.valid_to)
        .join(parent, parent.c.id == admin_unit.c.parent_id)
        .where(admin_unit.c.level == 3, admin_unit.c.code == code)
        .order_by(admin_unit.c.valid_from.nulls_first())
    )
    return [tuple(row) for row in conn.execute(query)]


def test_a_renamed_commune_is_two_units_one_after_the_other(conn: Connection) -> None:
    assert _periods(conn, "05221")[:2] == [
        ("Xã Đồng Bảng", "156", None, NQ_830),
        ("Xã Đồng Tân", "156", NQ_830, REORG_2025),
    ]


def test_a_commune_moved_in_2009_and_upgraded_in_2021_has_three_periods(conn: Connection) -> None:
    assert _periods(conn, "04918")[:3] == [
        ("Xã Trung Minh", "151", None, dt.date(2009, 7, 14)),
        ("Xã Trung Minh", "148", dt.date(2009, 7, 14), dt.date(2021, 2, 1)),
        ("Phường Trung Minh", "148", dt.date(2021, 2, 1), REORG_2025),
    ]


def test_a_merged_commune_ends_in_2020_under_its_district(conn: Connection) -> None:
    assert _periods(conn, "05029") == [("Xã Hạ Bì", "153", None, NQ_830)]
    assert _periods(conn, "04915") == [("Xã Dân Hạ", "151", None, NQ_830)]  # huyện Kỳ Sơn


def test_every_old_commune_has_its_lineage(conn: Connection) -> None:
    old = admin_unit.c
    without = conn.execute(
        select(old.code, old.full_name)
        .where(old.level == 3, old.valid_to < REORG_2025)
        .where(~select(unit_lineage.c.id).where(unit_lineage.c.predecessor_id == old.id).exists())
    ).all()
    assert without == []


def _links(conn: Connection, code: str) -> list[tuple[object, ...]]:
    old, new = admin_unit.alias("old"), admin_unit.alias("new")
    query = (
        select(
            new.c.code, new.c.full_name, unit_lineage.c.kind, unit_lineage.c.change, unit_lineage.c.confidence
        )
        .select_from(unit_lineage.join(old, old.c.id == unit_lineage.c.predecessor_id))
        .outerjoin(new, new.c.id == unit_lineage.c.successor_id)
        .where(old.c.code == code, old.c.level == 3, unit_lineage.c.effective_date < REORG_2025)
        .order_by(unit_lineage.c.effective_date, new.c.code)
    )
    return [tuple(row) for row in conn.execute(query)]


def test_lineage_kinds_and_confidence(conn: Connection) -> None:
    assert _links(conn, "05029") == [("04978", "Thị trấn Bo", "full", "merged", "medium")]
    assert _links(conn, "05221") == [("05221", "Xã Đồng Tân", "full", "renamed", "high")]
    assert _links(conn, "04903") == [("04903", "Xã Hợp Thành", "full", "district_dissolved", "high")]
    assert _links(conn, "05203") == [  # Tân Mai: 5 xóm to Tân Thành, 2 to Sơn Thủy
        ("04882", "Xã Tân Thành", "partial", "split", "high"),
        ("05206", "Xã Sơn Thủy", "partial", "split", "high"),
    ]
    assert _links(conn, "05047")[0] == ("05047", "Xã Cao Thắng", "full", "district_changed", "high")


def test_a_commune_transferred_to_ha_noi_has_no_successor_here(conn: Connection) -> None:
    rows = conn.execute(
        select(admin_unit.c.full_name, unit_lineage.c.note, unit_lineage.c.effective_date)
        .join(admin_unit, admin_unit.c.id == unit_lineage.c.predecessor_id)
        .where(unit_lineage.c.successor_id.is_(None))
        .order_by(admin_unit.c.code)
    ).all()
    assert [row[0] for row in rows] == ["Xã Yên Trung", "Xã Yên Bình", "Xã Tiến Xuân", "Xã Đông Xuân"]
    assert all("Thành phố Hà Nội" in row[1] and row[2] == dt.date(2008, 8, 1) for row in rows)


def test_ky_son_district_dissolved_into_the_city(conn: Connection) -> None:
    old, new = admin_unit.alias("old"), admin_unit.alias("new")
    row = conn.execute(
        select(old.c.valid_to, new.c.code, unit_lineage.c.change)
        .select_from(unit_lineage.join(old, old.c.id == unit_lineage.c.predecessor_id))
        .join(new, new.c.id == unit_lineage.c.successor_id)
        .where(old.c.level == 2, old.c.code == "151")
    ).one()
    assert tuple(row) == (NQ_830, "148", "district_dissolved")


def test_a_database_loaded_before_gets_its_dates(conn: Connection, data_dir: Path) -> None:
    reorg = read_reorg_2020(data_dir / "reorg_2020.json")
    ky_son = (admin_unit.c.level == 2) & (admin_unit.c.code == "151")
    conn.execute(update(admin_unit).where(ky_son).values(valid_to=dt.date(2020, 2, 1)))
    assert end_units(conn, reorg.district_ends, level=2) == 1
    assert conn.execute(select(admin_unit.c.valid_to).where(ky_son)).scalar_one() == NQ_830
    assert start_units(conn, reorg.starts, ends=REORG_2025) == 0  # already dated: nothing to do


def _write(tmp_path: Path, data_dir: Path, change: object) -> Path:
    spec = json.loads((data_dir / "reorg_2020.json").read_text(encoding="utf-8"))
    change(spec)  # type: ignore[operator]
    path = tmp_path / "reorg_2020.json"
    path.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    return path


def test_a_bad_date_or_kind_names_the_entry(tmp_path: Path, data_dir: Path) -> None:
    def spoil(spec: dict[str, list[dict[str, str]]]) -> None:
        spec["units_abolished"][3]["effective"] = "1/1/2020"
        spec["units_abolished"][5]["kind"] = "vanished"

    with pytest.raises(ImportValidationError) as raised:
        read_reorg_2020(_write(tmp_path, data_dir, spoil))
    problems = raised.value.problems
    assert any("units_abolished[3]" in p and "'effective'" in p for p in problems)
    assert any("units_abolished[5]" in p and "'kind'" in p for p in problems)


def test_the_periods_count(conn: Connection, data_dir: Path) -> None:
    reorg = read_reorg_2020(data_dir / "reorg_2020.json")
    loaded = conn.execute(
        select(func.count()).where(admin_unit.c.source == "reorg_2020", admin_unit.c.level == 3)
    ).scalar_one()
    assert loaded == len(reorg.periods) == 111
