"""Vector tiles from the real PostGIS: tile math, MVT content, the cache and its invalidation."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mapbox_vector_tile
import pytest
import shapely
from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from addresses.changes import record_rows, record_written, snapshot
from addresses.errors import InvalidParameterError, NotFoundError
from addresses.schema import admin_unit, tile_invalidation, village
from importers.mapping import FieldMapping
from importers.pipeline import ImportOptions, import_file
from tests.files import point_file
from tests.records import record_change
from tests.tilemath import tile_for, tiles_covering
from tiles.cache import EMPTY_TILE, TileCache, encode_tile
from tiles.invalidation import changed_bboxes, watermark_now
from tiles.layers import LAYERS, get_layer, layers_fed_by
from tiles.mvt import build_tile
from tiles.store import TileStore
from tiles.tilematrix import (
    BUFFER,
    EXTENT,
    TileId,
    tile_bounds,
    tile_id,
    tile_range,
)

HOA_BINH_CITY = (105.338, 20.817)
MAI_CHAU = (105.0833, 20.6601)
CITY_Z12 = TileId(12, 3246, 1805)
FAR_AWAY = TileId(12, 0, 0)  # the Bering Sea corner of the world
VILLAGE_MAPPING = FieldMapping("villages", {"source_id": ("id",), "name": ("ten",)})


def decode(data: bytes) -> dict[str, Any]:
    """The layers of an MVT, with features in tile coordinates (y up, as the decoder gives them)."""
    decoded: dict[str, Any] = mapbox_vector_tile.decode(data)
    return decoded


def features(data: bytes, layer: str) -> list[dict[str, Any]]:
    """The features of one layer of an MVT."""
    return list(decode(data)[layer]["features"]) if data else []


def canonical(name: str) -> str:
    """A name in NFC with the canonical tone mark placement ("Hoà" -> "Hòa")."""
    return unicodedata.normalize("NFC", name).replace("oà", "òa").replace("Oà", "Òa")


def names_in(conn: Connection, layer: str, tile: TileId) -> set[str]:
    """The ``name`` attributes of a layer's features in one tile (built, not cached)."""
    data = build_tile(conn, layer=get_layer(layer), tile=tile)
    return {f["properties"]["name"] for f in features(data, layer)}


@pytest.fixture
def store() -> TileStore:
    """A tile store that reads changes on every request (no once-a-second wait in tests)."""
    return TileStore(cache=TileCache(max_bytes=8 << 20), poll_seconds=0.0)


# ------------------------------------------------------------------ tile math


def test_a_point_is_inside_the_bounds_of_its_tile_at_every_zoom() -> None:
    lon, lat = HOA_BINH_CITY
    for z in range(23):
        west, south, east, north = tile_bounds(tile_for(lon, lat, z))
        assert west <= lon < east
        assert south < lat <= north


def test_the_city_tile_at_zoom_12_and_its_neighbours_share_edges() -> None:
    assert tile_for(*HOA_BINH_CITY, 12) == CITY_Z12
    here, east = tile_bounds(CITY_Z12), tile_bounds(TileId(12, 3247, 1805))
    south = tile_bounds(TileId(12, 3246, 1806))
    assert here[2] == pytest.approx(east[0])
    assert here[1] == pytest.approx(south[3])
    assert here[0] == pytest.approx(105.29296875)


@pytest.mark.parametrize(
    ("z", "x", "y", "parameter"),
    [(23, 0, 0, "z"), (-1, 0, 0, "z"), (3, 8, 0, "x"), (3, 0, 8, "y"), (0, 0, 1, "y"), (5, -1, 0, "x")],
)
def test_tiles_out_of_the_matrix_are_refused_naming_the_parameter(
    z: int, x: int, y: int, parameter: str
) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        tile_id(z, x, y)
    assert caught.value.parameter == parameter


def test_a_box_touches_the_neighbouring_tile_through_the_buffer() -> None:
    _west, south, east, north = tile_bounds(CITY_Z12)
    inside_near_the_east_edge = (east - 1e-6, (south + north) / 2) * 2
    plain = tile_range(inside_near_the_east_edge, 12)
    buffered = tile_range(inside_near_the_east_edge, 12, margin=BUFFER / EXTENT)
    assert list(plain) == [CITY_Z12]
    assert list(buffered) == [CITY_Z12, TileId(12, 3247, 1805)]


def test_tiles_covering_the_city_from_zoom_8_to_14() -> None:
    tiles = tiles_covering((105.30, 20.80, 105.38, 20.87), range(8, 15))
    assert [t for t in tiles if t.z == 12] == [CITY_Z12]
    assert len(tiles) == 1 + 1 + 1 + 1 + 1 + 4 + 16


# ------------------------------------------------------------------ tile content


def test_the_city_tile_at_zoom_12_has_the_wards_of_hoa_binh_city(conn: Connection) -> None:
    data = build_tile(conn, layer=get_layer("units"), tile=CITY_Z12)
    wards = features(data, "units")
    assert {f["properties"]["code"] for f in wards} == {"04792", "04795", "04828", "04831", "04894"}
    assert {canonical(f["properties"]["name"]) for f in wards} == {
        "Tân Hòa",
        "Hòa Bình",
        "Thống Nhất",
        "Đà Bắc",
        "Kỳ Sơn",
    }
    hoa_binh = next(f for f in wards if f["properties"]["code"] == "04795")
    assert hoa_binh["properties"]["unit_type"] == "phường"
    assert canonical(hoa_binh["properties"]["full_name"]) == "Phường Hòa Bình"
    assert decode(data)["units"]["extent"] == EXTENT
    assert all(shapely.geometry.shape(f["geometry"]).is_valid for f in wards)


@pytest.mark.parametrize(
    ("layer", "tile"),
    [
        ("units", CITY_Z12),
        ("units_2024", CITY_Z12),
        ("villages", CITY_Z12),
        ("places", tile_for(*HOA_BINH_CITY, 14)),
    ],
)
def test_tiles_carry_only_the_attributes_the_viewer_needs(conn: Connection, layer: str, tile: TileId) -> None:
    found = features(build_tile(conn, layer=get_layer(layer), tile=tile), layer)
    assert found, f"the {layer} tile {tile} should not be empty"
    keys = set().union(*(f["properties"].keys() for f in found))
    assert keys <= set(LAYERS[layer].fields)
    assert "name" in keys


def test_units_2024_has_districts_as_polygons_and_communes_as_points(conn: Connection) -> None:
    found = features(build_tile(conn, layer=get_layer("units_2024"), tile=CITY_Z12), "units_2024")
    kinds = {(f["properties"]["level"], f["geometry"]["type"]) for f in found}
    assert kinds == {(2, "Polygon"), (3, "Point")}
    assert {f["properties"]["valid_to"] for f in found} == {"2025-07-01"}
    assert "Thịnh Lang" in {f["properties"]["name"] for f in found}  # the pre-2025 ward coded 04795


def test_low_zoom_tiles_of_detailed_boundaries_are_simplified(conn: Connection) -> None:
    z8 = tile_for(*HOA_BINH_CITY, 8)
    data = build_tile(conn, layer=get_layer("units"), tile=z8)
    wards = features(data, "units")
    vertices = sum(len(shapely.get_coordinates(shapely.geometry.shape(f["geometry"]))) for f in wards)
    codes = [f["properties"]["code"] for f in wards]
    stored = conn.execute(
        select(func.sum(func.ST_NPoints(admin_unit.c.geom))).where(
            admin_unit.c.level == 3, admin_unit.c.valid_to.is_(None), admin_unit.c.code.in_(codes)
        )
    ).scalar_one()
    assert len(wards) >= 20
    assert vertices < stored / 4


def test_a_tile_far_away_is_empty(conn: Connection) -> None:
    for layer in LAYERS.values():
        far = TileId(max(layer.minzoom, 12), 0, 0)
        assert build_tile(conn, layer=layer, tile=far) == b""


def test_a_layer_outside_its_zooms_is_empty_without_asking_the_database(conn: Connection) -> None:
    assert build_tile(conn, layer=get_layer("addresses"), tile=tile_for(*HOA_BINH_CITY, 10)) == b""
    assert build_tile(conn, layer=get_layer("villages"), tile=tile_for(*HOA_BINH_CITY, 17)) == b""


def test_unknown_layers_are_not_found() -> None:
    with pytest.raises(NotFoundError, match="no tile layer 'roads'"):
        get_layer("roads")
    assert [layer.name for layer in layers_fed_by("village")] == ["villages"]


# ------------------------------------------------------------------ the cache


def test_the_cache_drops_the_least_recently_used_tiles_past_its_budget() -> None:
    tiles = [TileId(14, 12985 + i, 7222) for i in range(3)]
    encoded = [encode_tile(bytes([i]) * 1000) for i in range(3)]
    cache = TileCache(max_bytes=2 * encoded[0].size + 10)
    cache.put("villages", tiles[0], encoded[0])
    cache.put("villages", tiles[1], encoded[1])
    assert cache.get("villages", tiles[0]) == encoded[0]  # now the most recently used
    cache.put("villages", tiles[2], encoded[2])
    assert cache.get("villages", tiles[1]) is None
    assert cache.get("villages", tiles[0]) == encoded[0]
    assert len(cache) == 2
    assert cache.size_bytes <= cache.max_bytes


def test_invalidating_a_box_evicts_its_tiles_at_every_zoom_and_only_in_that_layer() -> None:
    cache = TileCache(max_bytes=1 << 20)
    lon, lat = HOA_BINH_CITY
    inside = [tile_for(lon, lat, z) for z in range(6, 17)]
    elsewhere = [tile_for(*MAI_CHAU, z) for z in range(12, 17)]
    for tile in inside + elsewhere:
        cache.put("villages", tile, EMPTY_TILE)
        cache.put("places", tile, EMPTY_TILE)
    evicted = cache.invalidate_bbox("villages", (lon, lat, lon, lat))
    assert evicted == len(inside)
    assert all(cache.get("villages", t) is None for t in inside)
    assert all(cache.get("villages", t) is EMPTY_TILE for t in elsewhere)
    assert all(cache.get("places", t) is EMPTY_TILE for t in inside)


def test_a_tile_built_while_data_changed_is_not_cached() -> None:
    cache = TileCache(max_bytes=1 << 20)
    generation = cache.generation
    cache.invalidate_bbox("villages", (105.0, 20.0, 105.1, 20.1))  # a change arrives meanwhile
    assert cache.put("villages", CITY_Z12, EMPTY_TILE, generation=generation) is False
    assert cache.put("villages", CITY_Z12, EMPTY_TILE, generation=cache.generation) is True


# ------------------------------------------------------------------ invalidation


def _records_of_this_transaction(conn: Connection) -> list[tuple[str, tuple[float, float, float, float]]]:
    """The tile_invalidation records written by the current transaction, as (layer, box)."""
    bbox = tile_invalidation.c.bbox
    rows = conn.execute(
        select(
            tile_invalidation.c.layer,
            func.ST_XMin(bbox),
            func.ST_YMin(bbox),
            func.ST_XMax(bbox),
            func.ST_YMax(bbox),
        )
        .where(tile_invalidation.c.created_at == func.now())
        .order_by(tile_invalidation.c.id)
    ).all()
    return [(row[0], (row[1], row[2], row[3], row[4])) for row in rows]


def _inside(point: tuple[float, float], box: tuple[float, float, float, float]) -> bool:
    return box[0] - 1e-9 <= point[0] <= box[2] + 1e-9 and box[1] - 1e-9 <= point[1] <= box[3] + 1e-9


def test_an_import_records_where_it_wrote_and_where_moved_rows_were(conn: Connection, tmp_path: Path) -> None:
    here, there = (105.3301, 20.8123), (105.0850, 20.6650)
    options = ImportOptions(mapping=VILLAGE_MAPPING, source="tile-test")
    import_file(conn, point_file(tmp_path, "Xóm Thử", *here), options=options)
    records = _records_of_this_transaction(conn)
    assert [layer for layer, _ in records] == ["village"]
    assert _inside(here, records[0][1])
    assert records[0][1][2] - records[0][1][0] < 1e-6  # one point: a box of no size

    import_file(conn, point_file(tmp_path, "Xóm Thử", *there), options=options)  # the village moves
    boxes = [box for _, box in _records_of_this_transaction(conn)[1:]]
    assert any(_inside(here, box) for box in boxes)  # where it was
    assert any(_inside(there, box) for box in boxes)  # where it is


def test_a_units_write_records_the_old_and_new_outline(conn: Connection) -> None:
    square = func.ST_Multi(func.ST_MakeEnvelope(105.0, 20.5, 105.01, 20.51, 4326))
    test_unit = {"level": 3, "unit_type": "xã", "name": "Thử", "full_name": "Xã Thử", "source": "test"}
    conn.execute(insert(admin_unit).values(code="99990", source_id="99990", geom=square, **test_unit))
    conn.execute(insert(admin_unit).values(code="99991", source_id="99991", geom=square, **test_unit))
    before = snapshot(conn, table=admin_unit)
    moved = func.ST_Translate(admin_unit.c.geom, 1.0, 0.0)
    conn.execute(
        update(admin_unit).where(admin_unit.c.code == "99990").values(geom=moved, updated_at=func.now())
    )
    records = [box for layer, box in _records_of_this_transaction(conn) if layer == "admin_unit"]
    record_written(conn, table=admin_unit, previous=before)
    boxes = [box for layer, box in _records_of_this_transaction(conn) if layer == "admin_unit"][
        len(records) :
    ]
    # both units were written in this transaction; one box per grid cell of new places, then of old ones
    assert sorted(boxes) == [(105.0, 20.5, 105.01, 20.51)] * 2 + [(106.0, 20.5, 106.01, 20.51)]


def test_record_change_refuses_unknown_tables_and_bad_boxes(conn: Connection) -> None:
    with pytest.raises(InvalidParameterError, match="layer"):
        record_change(conn, layer="villages", bbox=(105.0, 20.0, 105.1, 20.1))
    with pytest.raises(InvalidParameterError, match="bbox"):
        record_change(conn, layer="village", bbox=(105.1, 20.0, 105.0, 20.1))


def test_changes_are_read_once(conn: Connection) -> None:
    mark = watermark_now(conn)
    record_change(conn, layer="place", bbox=(105.33, 20.81, 105.34, 20.82))
    first = changed_bboxes(conn, since=mark)
    assert [(c.layer, c.bbox) for c in first.changes] == [("place", (105.33, 20.81, 105.34, 20.82))]
    assert changed_bboxes(conn, since=first.watermark).changes == []


@pytest.fixture
def cleanup_records(engine: Engine) -> Iterator[list[int]]:
    """Ids of committed tile_invalidation records to delete after the test."""
    ids: list[int] = []
    yield ids
    with engine.begin() as conn:
        conn.execute(delete(tile_invalidation).where(tile_invalidation.c.id.in_(ids)))


def _commit_change(conn: Connection, bbox: tuple[float, float, float, float]) -> int:
    record_change(conn, layer="village", bbox=bbox)
    return int(conn.execute(select(func.max(tile_invalidation.c.id))).scalar_one())


def test_a_change_that_commits_after_a_later_one_is_not_missed(
    engine: Engine, cleanup_records: list[int]
) -> None:
    slow_box, quick_box = (105.0, 20.6, 105.01, 20.61), (105.3, 20.8, 105.31, 20.81)
    with engine.connect() as reader, engine.connect() as slow:
        mark = watermark_now(reader)
        slow_transaction = slow.begin()
        cleanup_records.append(_commit_change(slow, slow_box))  # the smaller id, not yet committed
        with engine.begin() as quick:
            cleanup_records.append(_commit_change(quick, quick_box))
        assert cleanup_records[0] < cleanup_records[1]
        first = changed_bboxes(reader, since=mark)
        assert [c.bbox for c in first.changes] == [quick_box]
        slow_transaction.commit()
        second = changed_bboxes(reader, since=first.watermark)
        assert [c.bbox for c in second.changes] == [slow_box]
        assert changed_bboxes(reader, since=second.watermark).changes == []


# ------------------------------------------------------------------ the store: cache + invalidation


def _names(store: TileStore, conn: Connection, tile: TileId) -> set[str]:
    """The village names in a tile served by ``store``."""
    served = store.tile(conn, layer=get_layer("villages"), tile=tile)
    return {f["properties"]["name"] for f in features(served.mvt(), "villages")}


def test_an_imported_village_evicts_its_tiles_and_appears_in_the_next_one(
    conn: Connection, store: TileStore, tmp_path: Path
) -> None:
    point = (105.3301, 20.8123)
    touched = [tile_for(*point, z) for z in (10, 12, 14)]
    elsewhere = tile_for(*MAI_CHAU, 14)
    assert all("Xóm Thử Nghiệm" not in _names(store, conn, tile) for tile in touched)
    _names(store, conn, elsewhere)
    cached_elsewhere = store.cache.get("villages", elsewhere)
    assert cached_elsewhere is not None

    path = point_file(tmp_path, "Xóm Thử Nghiệm", *point)
    import_file(conn, path, options=ImportOptions(mapping=VILLAGE_MAPPING, source="tile-test"))
    assert store.poll(conn, force=True) == len(touched)

    assert all(store.cache.get("villages", tile) is None for tile in touched)
    assert store.cache.get("villages", elsewhere) is cached_elsewhere
    assert all("Xóm Thử Nghiệm" in _names(store, conn, tile) for tile in touched)


def test_an_edit_evicts_the_tiles_of_the_old_and_new_place_in_every_process(conn: Connection) -> None:
    processes = [TileStore(cache=TileCache(max_bytes=1 << 20), poll_seconds=0.0) for _ in range(2)]
    moved_id, name, lon, lat = conn.execute(
        select(village.c.id, village.c.name, func.ST_X(village.c.geom), func.ST_Y(village.c.geom))
        .where(village.c.name == "Xóm Su")
        .limit(1)
    ).one()
    old_tile, new_tile = tile_for(lon, lat, 14), tile_for(*MAI_CHAU, 14)
    for store in processes:
        assert name in _names(store, conn, old_tile)
        assert name not in _names(store, conn, new_tile)

    this_village = village.c.id == moved_id
    record_rows(conn, table=village, where=this_village)  # where it was
    new_point = func.ST_SetSRID(func.ST_MakePoint(*MAI_CHAU), 4326)
    conn.execute(update(village).where(this_village).values(geom=new_point, updated_at=func.now()))
    record_rows(conn, table=village, where=this_village)  # where it is

    for store in processes:
        assert store.poll(conn, force=True) == 2
        assert name not in _names(store, conn, old_tile)
        assert name in _names(store, conn, new_tile)


def test_tilejson_bounds_follow_changes(conn: Connection, store: TileStore) -> None:
    villages = get_layer("villages")
    west, south, east, north = store.bounds(conn, layer=villages) or (0.0, 0.0, 0.0, 0.0)
    assert 104.5 < west < east < 106.0
    assert 20.0 < south < north < 21.5
    first = village.c.id == select(func.min(village.c.id)).scalar_subquery()
    far_east = func.ST_SetSRID(func.ST_MakePoint(106.5, 21.0), 4326)
    conn.execute(update(village).where(first).values(geom=far_east, updated_at=func.now()))
    record_change(conn, layer="village", bbox=(106.5, 21.0, 106.5, 21.0))
    assert (store.bounds(conn, layer=villages) or (0.0,) * 4)[2] == pytest.approx(106.5)
