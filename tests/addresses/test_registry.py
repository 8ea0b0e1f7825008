"""The address registry on the real database: codes, history, look-ups of addresses written by edits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
from sqlalchemy import Connection, func, insert, select, update

from addresses.codes import (
    decode,
    encode,
    format_location_code,
    is_valid_location_code,
    is_valid_registry_code,
    registry_code,
    truncate,
)
from addresses.errors import (
    ConflictError,
    EditRefusedError,
    InvalidCodeError,
    InvalidParameterError,
    InvalidSuccessorError,
    NotFoundError,
)
from addresses.queries import (
    AddressParts,
    AddressRecord,
    format_address,
    point_expression,
)
from addresses.registry import (
    LocationLookup,
    RegistryLookup,
    assign_codes,
    lookup_code,
    lookup_location,
    lookup_registry,
)
from addresses.schema import address, address_history, tile_invalidation
from importers.mapping import default_mapping
from importers.pipeline import ImportOptions, import_file
from tests.importers.builders import write
from tests.records import TESTER, edit_address, new_address, point, retire_address
from tests.synthetic import generate_addresses

HOA_BINH = (105.338, 20.817)  # Phường Hòa Bình (2025), old Hòa Bình city
MAI_CHAU = (105.0833, 20.6601)  # Xã Mai Châu (2025)
UNISSUED = registry_code(999_999_998)


def _new(
    conn: Connection, lon: float = HOA_BINH[0], lat: float = HOA_BINH[1], **fields: Any
) -> AddressRecord:
    """Create an address with sensible defaults (a house in Hòa Bình)."""
    values: dict[str, Any] = {"house_number": "12A", "alley": "3", "village_name": "Xóm Lác"} | fields
    return new_address(conn, lon, lat, **values)


def _row(conn: Connection, address_id: int) -> dict[str, Any]:
    """The stored address row, with its point."""
    query = select(address, func.ST_X(address.c.geom).label("x"), func.ST_Y(address.c.geom).label("y"))
    row = conn.execute(query.where(address.c.id == address_id)).mappings().one()
    return {k: v for k, v in row.items() if k != "geom"}


def _history(conn: Connection, address_id: int) -> list[dict[str, Any]]:
    """The history rows of an address, oldest first."""
    query = select(address_history).where(address_history.c.address_id == address_id)
    return [dict(r) for r in conn.execute(query.order_by(address_history.c.version)).mappings()]


# ------------------------------------------------------------------------------ create


def test_create_assigns_both_codes_commune_and_version_one(conn: Connection) -> None:
    first = _new(conn)
    second = _new(conn, lon=105.3381, house_number="14")
    assert first.registry_code != second.registry_code
    assert is_valid_registry_code(first.registry_code)
    assert is_valid_registry_code(second.registry_code)
    assert (
        first.registry_code_display
        == f"{first.registry_code[:4]}-{first.registry_code[4:7]}-{first.registry_code[7:]}"
    )
    assert first.location_code == encode(*HOA_BINH) == "8VGDHS6HB"
    assert first.location_code_display == "8VG-DHS-6HB"
    assert decode(first.location_code).contains(first.lon, first.lat)
    assert (first.version, first.status, first.source, first.is_generated) == (1, "active", "edit", False)
    assert first.commune is not None
    assert first.commune.code == "04795"
    assert first.province is not None
    assert first.province.full_name == "Tỉnh Phú Thọ"
    assert first.old_district is not None
    assert first.old_district.full_name == "Thành phố Hòa Bình"
    assert first.old_commune is not None
    assert first.old_commune.code.startswith("04")
    assert first.label == f"Số 12A, ngõ 3, Xóm Lác, {first.commune.full_name}, Tỉnh Phú Thọ"
    stored = _row(conn, first.id)
    assert stored["source_id"] == first.registry_code
    assert _history(conn, first.id) == []


def test_create_cleans_text(conn: Connection) -> None:
    record = _new(conn, house_number="  7 ", village_name="Xo\u0301m  La\u0301c", alley="")
    assert (record.house_number, record.alley, record.village_name) == ("7", None, "Xóm Lác")
    assert (record.is_generated, record.source) == (False, "edit")


def test_create_refuses_points_outside_the_province_and_bad_options(conn: Connection) -> None:
    with pytest.raises(EditRefusedError, match="outside the province"):
        _new(conn, lon=105.8522, lat=21.0287)  # Hà Nội: in the code grid, not in the province
    with pytest.raises(EditRefusedError, match="outside the province"):
        _new(conn, lon=20.817, lat=105.338)  # swapped
    with pytest.raises(EditRefusedError, match="status"):
        _new(conn, status="retired")
    with pytest.raises(EditRefusedError, match="finite"):
        _new(conn, lon=float("nan"))


def test_create_can_propose(conn: Connection) -> None:
    assert _new(conn, status="proposed").status == "proposed"


# ------------------------------------------------------------------------------ update


def test_an_edit_keeps_a_snapshot_in_the_address_history(conn: Connection) -> None:
    record = _new(conn)
    changed = edit_address(
        conn, record.registry_code_display, properties={"house_number": "12B", "alley": None}
    )
    assert (changed.house_number, changed.alley, changed.version) == ("12B", None, 2)
    assert changed.village_name == "Xóm Lác"  # left as it was
    assert (changed.registry_code, changed.location_code) == (record.registry_code, record.location_code)
    [history] = _history(conn, record.id)
    assert (history["version"], history["change"], history["changed_by"]) == (1, "update", TESTER.username)
    snapshot = history["snapshot"]
    assert (snapshot["house_number"], snapshot["alley"], snapshot["version"]) == ("12A", "3", 1)
    assert snapshot["registry_code"] == record.registry_code


def test_an_edit_that_changes_nothing_keeps_the_version(conn: Connection) -> None:
    record = _new(conn)
    same = edit_address(conn, record.registry_code, properties={"house_number": " 12A "})
    assert same.version == 1
    assert _history(conn, record.id) == []


def test_a_move_outside_the_province_is_refused(conn: Connection) -> None:
    record = _new(conn)
    with pytest.raises(EditRefusedError, match="outside the province"):
        edit_address(conn, record.registry_code, properties={}, geometry=point(105.8522, 21.0287))
    assert _row(conn, record.id)["version"] == 1


# ------------------------------------------------------------------------------ retire


def test_retire_with_a_successor_and_look_up(conn: Connection) -> None:
    old, new = _new(conn, house_number="1"), _new(conn, lon=105.3382, house_number="1A")
    retired = retire_address(
        conn, old.registry_code, successor=new.registry_code_display, reason="renumbered"
    )
    assert (retired.status, retired.version, retired.successor_id) == ("retired", 2, new.id)
    assert retired.retired_at is not None
    assert retired.registry_code == old.registry_code
    [history] = _history(conn, old.id)
    assert (history["change"], history["changed_by"]) == ("retire", TESTER.username)
    assert history["snapshot"]["change_reason"] == "renumbered"
    assert history["snapshot"]["status"] == "active"
    found = lookup_registry(conn, old.registry_code)
    assert found.retired is True
    assert found.address.registry_code == old.registry_code
    assert found.successor is not None
    assert found.successor.registry_code == new.registry_code
    assert [r.id for r in found.chain] == [new.id]
    assert found.reason == "renumbered"
    assert found.current == found.successor
    live = lookup_registry(conn, new.registry_code)
    assert (live.retired, live.successor, live.chain, live.current) == (False, None, (), live.address)


def test_a_chain_of_retirements_leads_to_the_address_in_force(conn: Connection) -> None:
    a, b, c = (_new(conn, lon=105.338 + i * 0.0001, house_number=str(i)) for i in range(3))
    retire_address(conn, a.registry_code, successor=b.registry_code, reason="split")
    retire_address(conn, b.registry_code, successor=c.registry_code, reason="renumbered")
    found = lookup_registry(conn, a.registry_code_display)
    assert [r.registry_code for r in found.chain] == [b.registry_code, c.registry_code]
    assert found.successor is not None
    assert found.successor.id == c.id
    assert found.chain[0].status == "retired"


def test_a_chain_ending_in_a_retirement_has_no_successor_in_force(conn: Connection) -> None:
    a, b = _new(conn, house_number="1"), _new(conn, lon=105.3382, house_number="2")
    retire_address(conn, a.registry_code, successor=b.registry_code, reason="merged")
    retire_address(conn, b.registry_code, reason="house demolished")
    found = lookup_registry(conn, a.registry_code)
    assert (found.retired, found.successor, found.current) == (True, None, None)
    assert [r.id for r in found.chain] == [b.id]
    plain = lookup_registry(conn, b.registry_code)
    assert (plain.chain, plain.successor, plain.reason) == ((), None, "house demolished")


def test_retiring_twice_is_refused(conn: Connection) -> None:
    record = _new(conn)
    retire_address(conn, record.registry_code, reason="demolished")
    with pytest.raises(ConflictError, match=r"cannot retire address .*: it is retired"):
        retire_address(conn, record.registry_code, reason="again")
    with pytest.raises(ConflictError, match="restore it before editing it"):
        edit_address(conn, record.registry_code, properties={"house_number": "5"})
    assert _row(conn, record.id)["version"] == 2


def test_successor_must_be_another_address_in_force(conn: Connection) -> None:
    a, b, c = (_new(conn, lon=105.338 + i * 0.0001, house_number=str(i)) for i in range(3))
    with pytest.raises(InvalidSuccessorError, match="is the address itself") as itself:
        retire_address(conn, a.registry_code, successor=a.registry_code_display, reason="x")
    assert (itself.value.reason, itself.value.parameter) == ("self", "successor")
    retire_address(conn, b.registry_code, successor=c.registry_code, reason="x")
    with pytest.raises(InvalidSuccessorError, match="is retired") as retired:
        retire_address(conn, a.registry_code, successor=b.registry_code, reason="x")
    assert retired.value.reason == "retired"
    with pytest.raises(NotFoundError, match=UNISSUED):
        retire_address(conn, a.registry_code, successor=UNISSUED, reason="x")
    assert _row(conn, a.id)["status"] == "active"
    assert _history(conn, a.id) == []


# ------------------------------------------------------------------------------ look-up


def test_a_mistyped_code_is_mistyped_not_missing(conn: Connection) -> None:
    record = _new(conn)
    code = record.registry_code
    mistyped = code[:-1] + str((int(code[-1]) + 1) % 10)  # Damm catches every single-digit error
    with pytest.raises(InvalidCodeError, match="mistyped code") as caught:
        lookup_registry(conn, mistyped)
    assert not isinstance(caught.value, NotFoundError)


def test_a_well_formed_unissued_code_is_not_found(conn: Connection) -> None:
    with pytest.raises(NotFoundError, match="well formed but has not been issued"):
        lookup_registry(conn, UNISSUED)
    with pytest.raises(NotFoundError):
        edit_address(conn, UNISSUED, properties={"house_number": "1"})


def test_lookup_accepts_any_spelling(conn: Connection) -> None:
    record = _new(conn)
    code = record.registry_code
    for typed in (code, record.registry_code_display, f" {code[:4]} {code[4:7]} {code[7:]} "):
        assert lookup_registry(conn, typed).address.id == record.id


def test_location_lookup_at_full_length_and_shorter_prefixes(conn: Connection) -> None:
    here = _new(conn)
    neighbour = _new(conn, lon=HOA_BINH[0] + 0.0003, house_number="20")  # ~30 m east: same length-6 cell?
    far = _new(conn, lon=MAI_CHAU[0], lat=MAI_CHAU[1], house_number="1")
    full = lookup_location(conn, here.location_code_display.lower())
    assert isinstance(full, LocationLookup)
    assert [r.id for r in full.addresses] == [here.id]
    assert (full.cell.length, full.display, full.truncated) == (8, "8VG-DHS-6HB", False)
    assert full.cell.contains(here.lon, here.lat)
    for length in (6, 4, 2):
        prefix = truncate(here.location_code, length=length)
        found = lookup_location(conn, format_location_code(prefix))
        ids = {r.id for r in found.addresses}
        assert here.id in ids
        assert found.cell.length == length
        assert all(decode(prefix).contains(r.lon, r.lat) for r in found.addresses)
        assert all(r.location_code.startswith(prefix[:-1]) for r in found.addresses)
        assert (neighbour.id in ids) == decode(prefix).contains(neighbour.lon, neighbour.lat)
        assert (far.id in ids) == decode(prefix).contains(far.lon, far.lat)
    assert far.id not in {
        r.id for r in lookup_location(conn, truncate(here.location_code, length=4)).addresses
    }


def test_location_lookup_leaves_out_retired_and_honours_the_limit(conn: Connection) -> None:
    records = [_new(conn, lon=105.338 + i * 0.00005, house_number=str(i)) for i in range(4)]
    cell = truncate(records[0].location_code, length=4)
    assert all(decode(cell).contains(r.lon, r.lat) for r in records)
    retire_address(conn, records[0].registry_code, reason="demolished")
    found = lookup_location(conn, cell)
    assert {r.id for r in records[1:]} <= {r.id for r in found.addresses}
    assert records[0].id not in {r.id for r in found.addresses}
    limited = lookup_location(conn, cell, limit=2)
    assert (len(limited.addresses), limited.truncated) == (2, True)
    assert [r.location_code for r in limited.addresses] == sorted(r.location_code for r in limited.addresses)
    with pytest.raises(InvalidParameterError, match="limit"):
        lookup_location(conn, cell, limit=0)


def test_location_lookup_rejects_mistyped_codes(conn: Connection) -> None:
    with pytest.raises(InvalidCodeError, match="check mismatch"):
        lookup_location(conn, "8VG-DHS-6HC")
    empty = lookup_location(conn, encode(106.6981, 10.7725))  # Hồ Chí Minh City: valid, nobody here
    assert (empty.addresses, empty.truncated) == ((), False)


def test_lookup_code_dispatches_on_the_kind(conn: Connection) -> None:
    record = _new(conn)
    by_registry = lookup_code(conn, record.registry_code_display)
    by_location = lookup_code(conn, record.location_code_display)
    assert isinstance(by_registry, RegistryLookup)
    assert by_registry.address.id == record.id
    assert isinstance(by_location, LocationLookup)
    assert record.id in {r.id for r in by_location.addresses}
    with pytest.raises(InvalidCodeError):
        lookup_code(conn, "8VG-DHS-6HC")


def _wards(data_dir: Path) -> gpd.GeoSeries:
    return gpd.read_file(data_dir / "wards_2025.geojson").geometry


def test_addresses_at_generated_points_are_found_by_both_codes(conn: Connection, data_dir: Path) -> None:
    frame = generate_addresses(_wards(data_dir), 5, seed=11)
    created = [
        new_address(conn, p.x, p.y, house_number=n, street=s or None)
        for p, n, s in zip(frame.geometry, frame["house_number"], frame["street"], strict=True)
    ]
    assert len({r.registry_code for r in created}) == 5
    for record in created:
        assert record.commune is not None
        assert lookup_registry(conn, record.registry_code).address == record
        assert record in lookup_location(conn, record.location_code).addresses


def test_imported_addresses_are_looked_up_with_their_units(
    conn: Connection, tmp_path: Path, data_dir: Path
) -> None:
    frame = generate_addresses(_wards(data_dir), 3, seed=12)
    options = ImportOptions(mapping=default_mapping("addresses"), source="generated")
    import_file(conn, write(frame, tmp_path / "gen12.geojson"), options=options)
    codes = (
        conn.execute(select(address.c.registry_code).where(address.c.source == "generated")).scalars().all()
    )
    assert len(codes) == 3
    for code in codes:
        found = lookup_registry(conn, str(code))
        assert found.address.is_generated is True
        assert found.address.commune is not None
        assert found.address.province is not None
        assert is_valid_location_code(found.address.location_code)
        assert found.address.label.endswith(f"{found.address.commune.full_name}, Tỉnh Phú Thọ")
    record = lookup_registry(conn, str(codes[0])).address
    moved = edit_address(
        conn, record.registry_code, properties={}, geometry=point(record.lon + 0.0002, record.lat)
    )
    assert moved.registry_code == record.registry_code
    assert moved.location_code != record.location_code


def test_assign_codes_fills_missing_codes_and_follows_moves(conn: Connection) -> None:
    points = [(105.338 + i * 0.001, 20.817 + i * 0.0007) for i in range(5)]
    rows = [
        {"source": "backfill", "source_id": str(i), "geom": point_expression(lon, lat)}
        for i, (lon, lat) in enumerate(points)
    ]
    for row in rows:
        conn.execute(insert(address).values(**row))
    assert assign_codes(conn, source="backfill") == 5
    query = select(address.c.source_id, address.c.location_code, address.c.registry_code).where(
        address.c.source == "backfill"
    )
    first = {r.source_id: (r.location_code, r.registry_code) for r in conn.execute(query)}
    assert [first[str(i)][0] for i in range(5)] == [encode(lon, lat) for lon, lat in points]
    assert len({code for _, code in first.values()}) == 5
    assert all(is_valid_registry_code(code) for _, code in first.values())
    assert assign_codes(conn, source="backfill") == 0  # nothing new; codes unchanged
    assert {r.source_id: (r.location_code, r.registry_code) for r in conn.execute(query)} == first
    conn.execute(
        update(address)
        .where(address.c.source == "backfill", address.c.source_id == "0")
        .values(geom=point_expression(*MAI_CHAU), location_code=None)
    )
    assert assign_codes(conn, source="backfill") == 0  # no new registry code: the moved one keeps its own
    after = {r.source_id: (r.location_code, r.registry_code) for r in conn.execute(query)}
    assert after["0"] == (encode(*MAI_CHAU), first["0"][1])
    assert {k: v for k, v in after.items() if k != "0"} == {k: v for k, v in first.items() if k != "0"}


def _invalidations(conn: Connection) -> list[tuple[float, float, float, float]]:
    box = tile_invalidation.c.bbox
    query = select(func.ST_XMin(box), func.ST_YMin(box), func.ST_XMax(box), func.ST_YMax(box)).where(
        tile_invalidation.c.layer == "address"
    )
    return [tuple(row) for row in conn.execute(query.order_by(tile_invalidation.c.id))]


def _covers(box: tuple[float, float, float, float], lon: float, lat: float) -> bool:
    return box[0] <= lon <= box[2] and box[1] <= lat <= box[3]


def test_edits_mark_the_tiles_of_the_old_and_new_place(conn: Connection) -> None:
    before = len(_invalidations(conn))
    record = _new(conn)
    edit_address(conn, record.registry_code, properties={}, geometry=point(*MAI_CHAU))
    retire_address(conn, record.registry_code, reason="demolished")
    created, moved_from, moved_to, retired = _invalidations(conn)[before:]
    assert _covers(created, *HOA_BINH)
    assert _covers(moved_from, *HOA_BINH)
    assert _covers(moved_to, *MAI_CHAU)
    assert _covers(retired, *MAI_CHAU)


def test_format_address_leaves_out_missing_parts() -> None:
    assert format_address(AddressParts()) == ""
    assert format_address(AddressParts(house_number="Số 5", street="Quốc lộ 6", province="Tỉnh Phú Thọ")) == (
        "Số 5, Quốc lộ 6, Tỉnh Phú Thọ"
    )
    assert format_address(AddressParts(alley="hẻm 4", commune="Xã Mai Châu")) == "hẻm 4, Xã Mai Châu"
