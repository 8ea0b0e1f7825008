"""The geocoder index built from the bundled data: entries, contexts, lineage, typos, refresh."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import Connection, Engine, func, insert, select

from addresses.schema import admin_unit, village
from geocoder.entries import Entry
from geocoder.houses import HouseRows, HouseStore, house_key
from geocoder.index import GeocoderIndex
from geocoder.search import search
from tests.records import new_address

pytestmark = pytest.mark.db


def entry(index: GeocoderIndex, ref: str) -> Entry:
    """The entry with a reference."""
    return next(e for e in index.state.entries if e.ref == ref)


def old_commune(index: GeocoderIndex, code: str) -> Entry:
    """The pre-2025 commune entry with a GSO code."""
    return next(e for e in index.state.entries if e.kind == "old_commune" and e.old_units[0].code == code)


def test_everything_the_database_knows_is_indexed(index: GeocoderIndex) -> None:
    stats = index.stats()
    assert stats.entries["commune"] == 46
    assert stats.entries["old_commune"] == 151 + 111 - 4  # every period since 2008 but the 4 gone to Hà Nội
    assert stats.entries["old_district"] == 11
    assert stats.entries["old_province"] == stats.entries["province"] == 1
    assert stats.entries["village"] == 596
    assert 213 <= stats.entries["place"] <= 367  # named places, and unnamed ones with a word for their kind
    assert stats.entries["street"] >= 10  # addr:street values of places, per commune
    assert stats.contexts == 210 + 111  # one per unit of every period
    assert stats.addresses == 0


def test_split_commune_has_both_successors(index: GeocoderIndex) -> None:
    vay_nua = old_commune(index, "04891")
    successors = {s.unit.code: s for s in vay_nua.successors}
    assert set(successors) == {"04891", "04828"}
    assert {s.kind for s in successors.values()} == {"partial"}
    assert vay_nua.successors[0].holds_old_point  # the part holding the old centre comes first
    assert vay_nua.current_unit is not None
    assert vay_nua.current_unit.code == vay_nua.successors[0].unit.code


def test_old_commune_without_a_centre_uses_its_successor(index: GeocoderIndex) -> None:
    thanh_son = old_commune(index, "05254")  # Xã Thành Sơn (Mai Châu): no published point
    assert thanh_son.current_unit is not None
    assert thanh_son.current_unit.code == "05200"
    assert "no pre-2025 centre" in thanh_son.point_precision
    territory = index.state.territory
    ward = next(unit for unit in territory.wards if unit.code == "05200")
    assert (thanh_son.lon, thanh_son.lat) == (ward.lon, ward.lat)  # the successor's label point
    assert territory.inside(ward, thanh_son.lon, thanh_son.lat)


def test_a_commune_is_answered_at_the_village_of_its_name(index: GeocoderIndex) -> None:
    luong_son = next(e for e in index.state.entries if e.kind == "commune" and e.unit_codes == {"04924"})
    village = entry(index, "village:499")  # "Lương Sơn", a populated place inside Xã Lương Sơn
    assert (luong_son.lon, luong_son.lat) == (village.lon, village.lat)
    assert "same name" in luong_son.point_precision


def test_village_links_to_its_units_of_both_periods(index: GeocoderIndex) -> None:
    suoi_bon = next(e for e in index.state.entries if e.kind == "village" and e.name == "Bản Suối Bôn")
    state = index.state
    contexts = {
        (state.contexts[link.context].code, state.contexts[link.context].level) for link in suoi_bon.contexts
    }
    assert ("04873", 3) in contexts  # its 2025 commune, Quy Đức
    assert ("150", 2) in contexts  # the old district covering it, Đà Bắc
    assert ("156", 2) in contexts  # Mai Châu's border is within a kilometre or so: likely context too
    assert ("25", 1) in contexts
    assert ("17", 1) in contexts  # both provinces
    assert suoi_bon.current_unit is not None
    assert suoi_bon.current_unit.code == "04873"


def test_village_names_are_indexed_with_and_without_their_unit_word(index: GeocoderIndex) -> None:
    giang = entry(index, "village:572")
    assert [form.folded for form in giang.names] == [("xom", "giang"), ("giang",)]
    assert giang.names[0].lead == 1  # "xóm" is not posted: the name is found through "giang"


def test_typo_dictionary_and_prefixes(index: GeocoderIndex) -> None:
    vocab = index.state.vocab
    assert vocab.expand("phnog")["phong"] < 1.0  # a swap
    assert "thuong" in vocab.expand("thuongg")  # a doubled letter
    short = vocab.expand("hoa")  # a short known word is taken as typed, else as a longer one typed short
    assert short["hoa"] == 1.0
    assert "hoai" in short
    assert all(
        len(word) == len("hoa") + 1 and quality < 0.6 for word, quality in short.items() if word != "hoa"
    )
    assert "chau" in vocab.complete("cha")


def test_refresh_is_a_no_op_when_nothing_changed(engine: Engine) -> None:
    with engine.connect() as conn:
        fresh = GeocoderIndex.load(conn, check_every_s=3600)
        assert fresh.refresh_if_stale(conn) is False  # checked less than an hour ago
        assert fresh.refresh_if_stale(conn, force=True) is False  # checked: nothing changed


def test_refresh_after_inserting_a_village(conn: Connection) -> None:
    fresh = GeocoderIndex.load(conn)
    assert not [
        r for r in search(fresh, "Xóm Khe Ngọc, xã Mường Bi") if r.kind == "village" and "Khe" in r.name
    ]
    current = (admin_unit.c.code == "05158", admin_unit.c.level == 3, admin_unit.c.valid_to.is_(None))
    commune = conn.execute(select(admin_unit.c.id).where(*current))
    conn.execute(
        insert(village).values(
            name="Xóm Khe Ngọc",
            village_type="xóm",
            commune_id=commune.scalar_one(),
            geom=func.ST_SetSRID(func.ST_MakePoint(105.2301, 20.6302), 4326),
            source="test",
            source_id="khe-ngoc",
        )
    )
    before = fresh.state
    assert fresh.refresh_if_stale(conn, force=True) is True
    assert fresh.state is not before
    assert fresh.state.addresses is before.addresses  # the address arrays were not reloaded
    result = search(fresh, "Xóm Khe Ngọc, xã Mường Bi")[0]
    assert (result.kind, result.name) == ("village", "Xóm Khe Ngọc")
    assert result.current_unit is not None
    assert result.current_unit.code == "05158"


def test_refresh_after_new_addresses_reloads_the_arrays(conn: Connection) -> None:
    fresh = GeocoderIndex.load(conn)
    new_address(conn, 105.3405, 20.8165, house_number="14", street="Trần Hưng Đạo")
    new_address(conn, 105.3409, 20.8168, house_number="16", street="Trần Hưng Đạo")
    assert fresh.refresh_if_stale(conn, force=True) is True
    stats = fresh.stats()
    assert stats.addresses == 2
    assert stats.address_bytes > 0
    assert search(fresh, "16 Trần Hưng Đạo, Hòa Bình")[0].kind == "address"


def test_house_store_lookups_follow_retired_addresses() -> None:
    store = HouseStore.build(
        HouseRows(
            groups=np.array([0, 0, 1, 0], dtype=np.int32),
            houses=np.array(["12a", "14", "12a", "16"], dtype=object),
            lon=np.array([1.0, 2.0, 3.0, 4.0]),
            lat=np.array([10.0, 20.0, 30.0, 40.0]),
            address_id=np.array([7, 8, 9, 10], dtype=np.int64),
            registry=np.array([1000000005, 1000000013, 1000000021, 1000000039], dtype=np.int64),
            successor=np.array([10, -1, -1, -1], dtype=np.int64),
            retired=np.array([True, False, False, False]),
        )
    )
    assert store.find(0, "14") is not None
    assert store.find(0, "14").lon == 2.0  # type: ignore[union-attr]
    assert store.find(1, "12a") is not None
    assert store.find(1, "12a").address_id == 9  # type: ignore[union-attr]
    assert store.find(0, "12a") is None  # retired
    assert store.find(2, "14") is None
    moved = store.by_registry(1000000005)
    assert moved is not None
    assert (moved.address_id, moved.registry_code) == (10, "1000000039")
    assert store.by_registry(1234567894) is None
    assert house_key("Số nhà 12 A") == "12a"
