"""Plain points read from their WKB bytes give what decoding them into geometries gave, byte for byte.

A GeoParquet chunk whose cells are all little-endian 2D points with finite coordinates
is imported from its coordinates (importers.points); anything else is decoded as
before. Each step of the point path is compared with the geometry path on hostile
input, and whole imports with the whole-file path.
"""

from __future__ import annotations

import struct
from dataclasses import replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import shapely
from sqlalchemy import Connection

from addresses import bulk
from addresses.datasets import get_dataset
from importers import chunked, locate, pipeline, prepare, readers
from importers import validate as checks
from importers.mapping import default_mapping
from importers.pipeline import ImportOptions, import_file
from importers.points import PlainPoints, wkb_points
from tests.importers.builders import write
from tests.importers.test_arrowtext import HOSTILE
from tests.synthetic import generate_addresses

ADDRESSES = get_dataset("addresses")
PROVINCE = shapely.box(104.75, 20.25, 105.95, 21.20)


def _point_wkb(x: float, y: float, *, order: str = "<") -> bytes:
    """The WKB of a 2D point, little- (``<``) or big-endian (``>``)."""
    return struct.pack(f"{order}BIdd", 1 if order == "<" else 0, 1, x, y)


PLAIN = [
    _point_wkb(105.338, 20.817),
    _point_wkb(-0.0, 0.0),
    _point_wkb(105.1, 20.9),
    _point_wkb(106.5, 21.9),  # outside the province
    _point_wkb(1e308, -1e-308),
]
"""Cells that are plain points."""
NOT_PLAIN = [
    None,
    _point_wkb(105.3, 20.8, order=">"),  # big-endian
    _point_wkb(float("nan"), float("nan")),  # POINT EMPTY
    _point_wkb(float("inf"), 20.8),
    _point_wkb(105.3, float("nan")),
    shapely.to_wkb(shapely.Point(105.3, 20.8, 5.0)),  # 3D (ISO or extended)
    shapely.to_wkb(shapely.Point(105.3, 20.8, 5.0), flavor="iso"),
    shapely.to_wkb(shapely.set_srid(shapely.Point(105.3, 20.8), 4326), include_srid=True),  # EWKB with SRID
    shapely.to_wkb(shapely.MultiPoint([(105.3, 20.8)])),
    shapely.to_wkb(shapely.LineString([(105.3, 20.8), (105.4, 20.9)])),
    shapely.to_wkb(shapely.box(105.3, 20.8, 105.4, 20.9)),
    b"",
    _point_wkb(105.3, 20.8)[:-1] + b"\x00\x00",  # 22 bytes
]
"""Cells that are not (each makes a whole chunk take the geometry path)."""


@pytest.mark.parametrize("kind", [pa.binary(), pa.large_binary()])
def test_wkb_points_are_the_decoded_points_or_none(kind: pa.DataType) -> None:
    cells = pa.array(PLAIN, type=kind)
    points = wkb_points(cells)
    assert points is not None
    decoded = shapely.from_wkb(np.array(PLAIN, dtype=object))
    assert points.xy.tobytes() == shapely.get_coordinates(decoded).tobytes()  # bit for bit (-0.0 kept)
    assert shapely.equals_exact(points.geoms(), decoded, 0).all()
    assert shapely.to_wkb(points.geoms()).tolist() == shapely.to_wkb(decoded).tolist()
    for odd in NOT_PLAIN:
        for where in range(len(PLAIN) + 1):
            mixed = [*PLAIN[:where], odd, *PLAIN[where:]]
            assert wkb_points(pa.array(mixed, type=kind)) is None, (odd, where)
    assert wkb_points(pa.array([], type=kind)) is None


def test_wkb_points_of_a_slice_read_only_its_cells() -> None:
    cells = pa.array([*NOT_PLAIN[1:3], *PLAIN, NOT_PLAIN[3]], type=pa.binary())
    points = wkb_points(cells.slice(2, len(PLAIN)))
    assert points is not None
    assert (
        points.xy.tolist()
        == shapely.get_coordinates(shapely.from_wkb(np.array(PLAIN, dtype=object))).tolist()
    )
    assert wkb_points(cells.slice(1, len(PLAIN))) is None


def _random_points(count: int, seed: int) -> PlainPoints:
    """Points over the province and beyond it, with repeats."""
    rng = np.random.default_rng(seed)
    xy = np.column_stack([rng.uniform(104.6, 106.1, count), rng.uniform(20.1, 21.4, count)])
    xy[count // 2 :: 7] = xy[: len(xy[count // 2 :: 7])]  # the same point again
    return PlainPoints(xy)


def test_checks_of_plain_points_are_those_of_their_geometries() -> None:
    points = _random_points(3000, 1)
    features = np.arange(1, 3001)
    fast = chunked.check_shapes(points, features, ADDRESSES, PROVINCE)
    slow = chunked.check_shapes(points.geoms(), features, ADDRESSES, PROVINCE)
    assert isinstance(fast.geoms, PlainPoints)
    assert fast.keep.tolist() == slow.keep.tolist()
    assert [str(r) for r in fast.rejections] == [str(r) for r in slow.rejections]
    assert len(fast.outside) > 100
    assert (fast.problems, fast.repaired) == (slow.problems, slow.repaired)
    places = get_dataset("villages")  # points or areas: points still checked as points
    assert chunked.check_shapes(points, features, places, None).keep.all()


def test_plain_points_where_a_dataset_takes_no_point_are_rejected_as_geometries_are() -> None:
    units = replace(ADDRESSES, source_geometry_types=frozenset({"Polygon", "MultiPolygon"}))
    points = _random_points(20, 2)
    features = np.arange(1, 21)
    fast = chunked.check_shapes(points, features, units, PROVINCE)
    slow = chunked.check_shapes(points.geoms(), features, units, PROVINCE)
    assert [str(r) for r in fast.rejections] == [str(r) for r in slow.rejections]
    assert not fast.keep.any()


def test_places_codes_ewkb_and_boxes_of_plain_points_are_those_of_their_geometries() -> None:
    points = _random_points(5000, 3)
    geoms = points.geoms()
    squares = np.array([shapely.box(104.9, 20.4, 105.4, 20.9), shapely.box(105.3, 20.6, 105.8, 21.1)])
    shapely.prepare(squares)
    communes = locate.Communes(np.array([11, 12]), squares, shapely.STRtree(squares))
    assert (
        locate.commune_id_array(communes, points).tolist()
        == locate.commune_id_array(communes, geoms).tolist()
    )
    assert locate.location_code_bytes(points).tolist() == locate.location_code_bytes(geoms).tolist()
    assert list(prepare.ewkb_hex(points)) == list(
        shapely.to_wkb(shapely.set_srid(geoms, 4326), hex=True, include_srid=True)
    )
    assert prepare.written_bounds(points, ADDRESSES).tolist() == shapely.bounds(geoms).tolist()


def test_repeats_of_plain_points_are_those_of_their_geometries() -> None:
    points = _random_points(4000, 4)
    labels = pd.DataFrame({"name": [HOSTILE[i % 5] for i in range(4000)]})
    features = np.arange(1, 4001)
    fast = checks.point_duplicate_warnings(labels, points, features)
    assert fast == checks.duplicate_warnings(labels, points.geoms(), features)
    assert len(fast) > 50


def test_rows_built_from_plain_points_are_the_same_copy_input() -> None:
    points = _random_points(6000, 5)
    rows = pd.DataFrame(
        {
            "source_id": [f"id-{i}" for i in range(6000)],
            "house_number": [HOSTILE[i % len(HOSTILE)] for i in range(6000)],
            "street": [HOSTILE[(i * 7) % len(HOSTILE)] for i in range(6000)],
            "alley": None,
            "village_name": [None if i % 3 else 'Xóm Mít, "A"' for i in range(6000)],
            "official_code": None,
            "status": None,
        }
    )
    fields = rows.rename(columns={"source_id": "id"}).drop(columns=["alley", "official_code", "status"])
    squares = np.array([shapely.box(104.9, 20.4, 105.4, 20.9)])
    shapely.prepare(squares)
    placed = prepare.Placement(
        locate.Communes(np.array([7]), squares, shapely.STRtree(squares)), np.arange(6000)
    )
    fast = prepare.located_rows(rows, points, fields, source="s", spec=ADDRESSES, placement=placed)
    slow = prepare.source_rows(
        checks.Validated(rows, points.geoms()), fields, source="s", spec=ADDRESSES, placement=placed
    )
    assert b"".join(bulk.csv_batches(fast)) == b"".join(bulk.csv_batches(slow))


def _addresses(data_dir: Path, *, rows: int, seed: int) -> gpd.GeoDataFrame:
    """Generated addresses over the 2025 wards."""
    wards = gpd.read_file(data_dir / "wards_2025.geojson").geometry
    return generate_addresses(wards, rows, seed=seed)


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of 7 rows, then 40 rows at a time."""
    monkeypatch.setattr(chunked, "FIRST_CHUNK_ROWS", 7)
    monkeypatch.setattr(chunked, "CHUNK_ROWS", 40)


def _copied(monkeypatch: pytest.MonkeyPatch, into: list[bytes]) -> None:
    """Keep every byte sent to COPY in ``into``."""
    copy = bulk.copy_csv

    def kept(conn: Connection, table: Any, columns: Any, batches: Any, **options: Any) -> None:
        def noted() -> Any:
            for batch in batches:
                into.append(bytes(batch))
                yield batch

        copy(conn, table, columns, noted(), **options)

    monkeypatch.setattr(bulk, "copy_csv", kept)


@pytest.mark.usefixtures("small_chunks")
@pytest.mark.parametrize("crs", ["EPSG:4326", "EPSG:3405"])
def test_an_import_of_plain_points_copies_what_decoding_them_copied(
    conn: Connection, tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch, crs: str
) -> None:
    """The same bytes go to COPY as when the geometry path decodes every chunk (and the same report).

    In WGS 84 every chunk is read as plain points; in another CRS (VN-2000) none is.
    """
    frame = _addresses(data_dir, rows=150, seed=31)
    frame.loc[[10, 90], "geometry"] = shapely.Point(106.5, 21.9)  # outside: rejected
    repeated = ["house_number", "geometry"]
    frame.loc[[30, 31], repeated] = frame.loc[[20, 21], repeated].to_numpy()
    frame.loc[[50], "street"] = 'Phố "Mới", số\n2'
    path = write(frame.to_crs(crs), tmp_path / "points.parquet")
    read_as_points: list[bool] = []
    read_points = readers.SourceFrame.plain_points

    def noted(self: readers.SourceFrame, rows: slice = slice(None)) -> Any:
        points = read_points(self, rows)
        read_as_points.append(points is not None)
        return points

    monkeypatch.setattr(readers.SourceFrame, "plain_points", noted)
    sent: list[bytes] = []
    options = ImportOptions(mapping=default_mapping("addresses"), source="s")
    _copied(monkeypatch, sent)
    with conn.begin_nested() as first:  # undone: the second import draws the same registry serials
        fast = import_file(conn, path, options=options)
        first.rollback()
    plain = crs == "EPSG:4326"
    assert read_as_points == (
        [True] * 6 if plain else []
    )  # chunks of 7, 21, then 40 rows (VN-2000: never asked)
    from_points = b"".join(sent)
    sent.clear()
    monkeypatch.setattr(pipeline.Mapped, "points_of", lambda *_: None)
    slow = import_file(conn, path, options=options)
    assert from_points == b"".join(sent)
    assert len(from_points) > 10_000
    ignored = {"seconds"}
    assert {k: v for k, v in fast.to_dict().items() if k not in ignored} == {
        k: v for k, v in slow.to_dict().items() if k not in ignored
    }
    assert len(fast.rejected) == 2
    assert "row 32 repeats the name and geometry of an earlier row" in fast.warnings


@pytest.mark.parametrize(
    "cells",
    [[None] * 7, [None, "proposed", None, 'Hòa, "x"', "", None, "active"], [np.nan, None, "a\nb"]],
)
def test_columns_without_values_in_arrow_are_the_same_copy_input(cells: list[object]) -> None:
    values = pd.Series(np.array(cells, dtype=object), index=range(10, 10 + len(cells)))
    filled = prepare._filled(values, "active")
    arrow = pd.DataFrame({"gap": prepare._empty_as_arrow(values), "status": filled})
    objects = pd.DataFrame({"gap": values, "status": values.fillna("active")})
    assert b"".join(bulk.csv_batches(arrow)) == b"".join(bulk.csv_batches(objects))
    assert arrow.index.equals(objects.index)
