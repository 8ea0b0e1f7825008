"""The fast write path: Arrow CSV through COPY, new rows COPYed straight in, tile boxes from Python."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from sqlalchemy import Connection, Engine, func, insert, inspect, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from addresses import bulk, changes
from addresses.errors import InvalidParameterError
from addresses.schema import address, tile_invalidation, village
from importers import load, prepare
from importers.mapping import FieldMapping, default_mapping
from importers.pipeline import ImportOptions, import_file
from tests.importers.builders import INSIDE, village_frame, write
from tests.synthetic import generate_addresses

MAPPING = FieldMapping("villages", {"source_id": ("id",), "name": ("ten",)})

TRICKY_TEXT = [
    None,
    "",
    " ",
    'say "hi", then go',
    "two\nlines\r\nand a tab\there",
    "back\\slash and \\N",
    "NULL",
    unicodedata.normalize("NFD", "Xóm Hoà Lạc"),
    "Bản Pom Coọng",
    ",",
    '"',
]


def test_text_survives_csv_and_copy_exactly_with_null_and_empty_kept_apart(conn: Connection) -> None:
    count = len(TRICKY_TEXT)
    frame = pd.DataFrame(
        {
            "name": pd.Series(TRICKY_TEXT, dtype=object),
            "level": pd.Series([None if i % 3 == 0 else i for i in range(count)], dtype=object),
            "area_km2": [math.nan if i % 4 == 0 else i / 8 for i in range(count)],
            "is_generated": [i % 2 == 0 for i in range(count)],
        }
    )
    table = bulk.staging_table(conn, list(frame.columns))
    # two rows per COPY write: values must not depend on where the batches are cut
    bulk.copy_csv(conn, table, list(frame.columns), bulk.csv_batches(frame, batch_rows=2))
    rows = conn.execute(select(table).order_by(table.c.level.nulls_first())).all()
    stored = sorted(rows, key=lambda row: TRICKY_TEXT.index(row.name))
    assert [row.name for row in stored] == TRICKY_TEXT
    expected_levels = [None if i % 3 == 0 else i for i in range(count)]
    assert [row.level for row in stored] == expected_levels
    assert [row.area_km2 for row in stored] == [None if i % 4 == 0 else i / 8 for i in range(count)]
    assert [row.is_generated for row in stored] == [i % 2 == 0 for i in range(count)]


def _sql_boxes(conn: Connection, source: str) -> list[tuple[float, ...]]:
    """Boxes the SQL path (record_rows) writes for the villages of ``source``."""
    before = _box_ids(conn)
    changes.record_rows(conn, table=village, where=village.c.source == source)
    return _boxes_after(conn, before)


def _box_ids(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.max(tile_invalidation.c.id), 0))).scalar_one())


def _boxes_after(conn: Connection, after_id: int) -> list[tuple[float, ...]]:
    bbox = tile_invalidation.c.bbox
    rows = conn.execute(
        select(func.ST_XMin(bbox), func.ST_YMin(bbox), func.ST_XMax(bbox), func.ST_YMax(bbox)).where(
            tile_invalidation.c.id > after_id
        )
    )
    return sorted(tuple(round(v, 9) for v in row) for row in rows)


def test_boxes_computed_in_python_match_the_ones_sql_computes(conn: Connection, tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    points = shapely.points(rng.uniform(105.0, 105.6, 300), rng.uniform(20.5, 21.0, 300))
    squares = shapely.buffer(points[:20], 0.01, cap_style="square")  # areas spanning grid cells
    geoms = np.concatenate([squares, points[20:]])
    frame = gpd.GeoDataFrame(
        {"id": [f"b{i}" for i in range(len(geoms))], "ten": [f"Xóm {i}" for i in range(len(geoms))]},
        geometry=geoms,
        crs="EPSG:4326",
    )
    import_file(conn, write(frame, tmp_path / "many.geojson"), options=ImportOptions(MAPPING, source="boxes"))
    expected = _sql_boxes(conn, "boxes")
    stored = conn.execute(select(func.ST_AsBinary(village.c.geom)).where(village.c.source == "boxes"))
    kept = shapely.from_wkb([bytes(wkb) for wkb in stored.scalars()])  # the rows inside the province
    before = _box_ids(conn)
    written = changes.record_boxes(conn, layer="village", bounds=shapely.bounds(kept))
    assert written == len(expected) > 20
    assert _boxes_after(conn, before) == expected


def test_record_boxes_skips_missing_geometries_and_refuses_unknown_layers(conn: Connection) -> None:
    assert changes.record_boxes(conn, layer="address", bounds=np.full((3, 4), np.nan)) == 0
    with pytest.raises(InvalidParameterError, match="not one of"):
        changes.record_boxes(conn, layer="addresses", bounds=np.zeros((1, 4)))  # the table is "address"


def test_a_file_with_stored_and_new_rows_updates_the_ones_and_copies_the_others(
    conn: Connection, tmp_path: Path
) -> None:
    options = ImportOptions(mapping=MAPPING, source="mixed")
    first = village_frame(prefix="mix")
    import_file(conn, write(first, tmp_path / "v1.geojson"), options=options)
    second = pd.concat(
        [
            first.assign(ten=["Xóm Lác Mới", *first["ten"][1:]]),
            gpd.GeoDataFrame(
                {"id": ["mix9"], "ten": ["Xóm Mới"]}, geometry=[shapely.Point(*INSIDE[0])], crs="EPSG:4326"
            ),
        ],
        ignore_index=True,
    )
    before = _box_ids(conn)
    report = import_file(conn, write(second, tmp_path / "v2.geojson"), options=options)
    stored = conn.execute(select(village.c.source_id, village.c.name).where(village.c.source == "mixed"))
    names = {source_id: name for source_id, name in stored}
    communes = conn.execute(
        select(village.c.commune_id).where(village.c.source == "mixed", village.c.source_id == "mix9")
    ).scalar_one()
    boxes = _boxes_after(conn, before)
    assert (report.inserted, report.updated, report.unchanged) == (1, 1, 2)
    assert names == {
        "mix1": "Xóm Lác Mới",
        "mix2": "Bản Pom Coọng",
        "mix3": "Thôn Hòa Lạc",
        "mix9": "Xóm Mới",
    }
    assert communes is not None  # placed in its commune like an upserted row
    x, y = INSIDE[0]
    assert any(box[0] - 1e-9 <= x <= box[2] + 1e-9 and box[1] - 1e-9 <= y <= box[3] + 1e-9 for box in boxes)


def test_two_imports_of_one_source_wait_for_each_other(engine: Engine) -> None:
    with engine.connect() as first, engine.connect() as second:
        first.begin()
        load.lock_source(first, village, "locked-source")
        second.begin()
        second.execute(text("SET LOCAL lock_timeout = '200ms'"))
        with pytest.raises(OperationalError, match="lock timeout"):
            load.lock_source(second, village, "locked-source")
        second.rollback()
        second.begin()
        load.lock_source(second, village, "another-source")  # other sources are not held up
        second.rollback()
        first.rollback()


def test_two_large_loads_into_one_table_wait_for_each_other(engine: Engine) -> None:
    with engine.connect() as first, engine.connect() as second:
        first.begin()
        load.lock_large_loads(first, address)
        second.begin()
        second.execute(text("SET LOCAL lock_timeout = '200ms'"))
        with pytest.raises(OperationalError, match="lock timeout"):
            load.lock_large_loads(second, address)
        second.rollback()
        second.begin()
        load.lock_large_loads(second, village)  # other tables are not held up
        load.lock_source(second, address, "large-load")  # nor sources, whatever their name
        second.rollback()
        first.rollback()


@pytest.mark.parametrize("interruption", [KeyboardInterrupt, RuntimeError])
def test_an_interruption_while_batches_stream_in_writes_nothing(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, interruption: type[BaseException]
) -> None:
    source = f"stream-{interruption.__name__}"
    build = bulk.csv_batches

    def one_batch_then_stop(frame: pd.DataFrame, **kwargs: Any) -> Iterator[memoryview]:
        batches = build(frame, **{**kwargs, "batch_rows": 1})
        yield next(batches)  # the first row reaches the server, then the import is stopped
        raise interruption("stopped while the rows were streaming in")

    monkeypatch.setattr(bulk, "csv_batches", one_batch_then_stop)
    path = write(village_frame(prefix=source), tmp_path / "stream.geojson")
    with pytest.raises(interruption), engine.begin() as conn:
        import_file(conn, path, options=ImportOptions(mapping=MAPPING, source=source))
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).where(village.c.source == source)).scalar_one()
    assert stored == 0


def test_progress_is_told_each_stage_and_the_rows_written(conn: Connection, tmp_path: Path) -> None:
    first = village_frame(prefix="prog")
    import_file(conn, write(first, tmp_path / "v1.geojson"), options=ImportOptions(MAPPING, source="prog"))
    more = gpd.GeoDataFrame(
        {"id": ["prog9"], "ten": ["Xóm Mới"]}, geometry=[shapely.Point(*INSIDE[1])], crs="EPSG:4326"
    )
    told: list[tuple[str, int, int]] = []
    options = ImportOptions(MAPPING, source="prog", progress=lambda *step: told.append(step))
    import_file(conn, write(pd.concat([first, more]), tmp_path / "v2.geojson"), options=options)
    # three stored rows are upserted first, then the new one is COPYed
    assert told == [("read", 4, 4), ("checked", 4, 4), ("written", 3, 4), ("written", 4, 4)]


def test_points_are_packed_as_the_same_ewkb_geos_writes() -> None:
    rng = np.random.default_rng(9)
    points = shapely.points(rng.uniform(-180, 180, 1000), rng.uniform(-90, 90, 1000))
    points[:3] = [shapely.Point(0, 0), shapely.Point(-0.0, 1e-300), shapely.Point(105.338, 20.817)]
    packed = prepare.ewkb_hex(points)
    assert isinstance(packed, pd.arrays.ArrowStringArray)  # the fast path was taken
    geos = shapely.to_wkb(shapely.set_srid(points, 4326), hex=True, include_srid=True)
    assert list(packed) == list(geos)
    mixed = np.array([shapely.Point(1, 2), None, shapely.Point(1, 2, 3)], dtype=object)
    assert list(prepare.ewkb_hex(mixed)) == list(
        shapely.to_wkb(shapely.set_srid(mixed, 4326), hex=True, include_srid=True)
    )  # anything else goes through GEOS


def _schema_of(conn: Connection, table: str) -> tuple[list[tuple[object, ...]], ...]:
    """The indexes, unique keys and foreign keys of ``table`` as the database has them."""
    seen = inspect(conn)
    indexes: list[tuple[object, ...]] = sorted(
        (str(i["name"]), tuple(i["column_names"]), i["unique"]) for i in seen.get_indexes(table)
    )
    uniques: list[tuple[object, ...]] = sorted(
        (str(u["name"]), tuple(u["column_names"])) for u in seen.get_unique_constraints(table)
    )
    foreign: list[tuple[object, ...]] = sorted(
        (str(f["name"]), tuple(f["constrained_columns"])) for f in seen.get_foreign_keys(table)
    )
    return indexes, uniques, foreign


def _generated_file(tmp_path: Path, data_dir: Path, count: int, seed: int) -> Path:
    wards = gpd.read_file(data_dir / "wards_2025.geojson").geometry
    return write(generate_addresses(wards, count, seed=seed), tmp_path / f"generated-{seed}.parquet")


def test_a_load_with_indexes_rebuilt_leaves_the_same_indexes_and_keys(
    conn: Connection, tmp_path: Path, data_dir: Path
) -> None:
    before = _schema_of(conn, "address")
    indexes, uniques, foreign = before
    assert len(indexes) == 6  # 4 indexes and the 2 unique keys' (the primary key is kept)
    assert len(uniques) == 2
    assert len(foreign) == 3
    options = ImportOptions(default_mapping("addresses"), source="rebuilt", rebuild_indexes=True)
    report = import_file(conn, _generated_file(tmp_path, data_dir, 300, seed=21), options=options)
    assert (report.inserted, report.indexes_rebuilt) == (300, True)
    assert _schema_of(conn, "address") == before
    rebuilt = select(address.c.registry_code).where(address.c.source == "rebuilt")
    code = conn.execute(rebuilt.limit(1)).scalar()
    with pytest.raises(IntegrityError, match="uq_address_registry_code"), conn.begin_nested():
        conn.execute(  # the rebuilt unique key holds
            insert(address).values(
                geom=func.ST_SetSRID(func.ST_MakePoint(105.3, 20.8), 4326),
                registry_code=code,
                source="rebuilt",
                source_id="copy",
            )
        )


def test_an_interrupted_load_with_indexes_rebuilt_leaves_them_in_place(
    engine: Engine, tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with engine.connect() as conn:
        before = _schema_of(conn, "address")
    insert_new = load.insert_new

    def stop_after_insert(*args: Any, **kwargs: Any) -> int:
        insert_new(*args, **kwargs)
        raise KeyboardInterrupt  # while the indexes are dropped

    monkeypatch.setattr(load, "insert_new", stop_after_insert)
    options = ImportOptions(default_mapping("addresses"), source="rebuilt-cut", rebuild_indexes=True)
    path = _generated_file(tmp_path, data_dir, 50, seed=22)
    with pytest.raises(KeyboardInterrupt), engine.begin() as conn:
        import_file(conn, path, options=options)
    with engine.connect() as conn:
        assert _schema_of(conn, "address") == before
        assert conn.execute(select(func.count()).where(address.c.source == "rebuilt-cut")).scalar() == 0


def test_indexes_are_rebuilt_only_for_loads_large_and_no_smaller_than_the_table(conn: Connection) -> None:
    stored = conn.execute(select(func.count()).select_from(village)).scalar_one()
    assert stored > 100
    assert load.rebuild_pays(conn, village, new_rows=stored, min_rows=1)
    assert not load.rebuild_pays(conn, village, new_rows=stored - 1, min_rows=1)
    assert not load.rebuild_pays(conn, village, new_rows=stored * 2)  # under the default minimum


def test_a_village_load_swapped_in_keeps_the_keys_that_point_to_villages(
    conn: Connection, tmp_path: Path
) -> None:
    before = {table: _schema_of(conn, table) for table in ("village", "address")}
    frame = village_frame(prefix="swap")
    options = ImportOptions(mapping=MAPPING, source="swapped", rebuild_indexes=True)
    report = import_file(conn, write(frame, tmp_path / "swap.geojson"), options=options)
    assert (report.inserted, report.indexes_rebuilt) == (3, True)
    assert {table: _schema_of(conn, table) for table in ("village", "address")} == before
    assert not inspect(conn).has_table("village_fresh")
    stored = conn.execute(select(func.count()).select_from(village)).scalar_one()
    assert stored > 100  # the villages stored before came along into the swapped-in table
