"""The dataset specs: they match the schema, every consumer draws its datasets from them, one visibility rule.

Against the real PostGIS with the bundled data: the columns a spec names exist in the
migrated database; a spec added to DATASETS (a second view of the village table under
another name) is imported into, drawn as a tile layer and served as an OGC collection
without touching those packages; and a proposed village is on no public surface (tiles,
forward and reverse search, OGC items and item) while an active one next to it is on all.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import mapbox_vector_tile
import pytest
from sqlalchemy import Connection, Date, cast, column, func, insert, inspect, literal, null, select, table

from addresses import features
from addresses.datasets import (
    DATASETS,
    STAFF_IN_FORCE_STATUSES,
    VILLAGES,
    DatasetSpec,
    get_dataset,
    in_force_filter,
    is_valid_on,
    public_filter,
    valid_at,
)
from addresses.errors import InvalidParameterError, NotFoundError
from addresses.schema import SRID, village
from addresses.types import STATUSES
from geocoder.index import GeocoderIndex
from geocoder.loading import large_tables, small_tables
from geocoder.reverse import ReverseQuery, reverse
from geocoder.search import search
from importers.mapping import FieldMapping, default_mapping
from importers.pipeline import ImportOptions, import_file
from tests.files import point_file
from tests.tilemath import tile_for
from tiles import layers
from tiles.mvt import build_tile

pytestmark = pytest.mark.db

COMMUNE_COLUMNS = {"commune_code", "commune_name"}
"""OGC properties read from the row's commune, not from the dataset's own table."""
HOA_BINH_CITY = (105.338, 20.817)


# --- the specs against the schema --------------------------------------------------------------


@pytest.mark.parametrize("spec", DATASETS.values(), ids=list(DATASETS))
def test_every_column_a_spec_names_exists_in_the_migrated_database(
    conn: Connection, spec: DatasetSpec
) -> None:
    stored = {column["name"] for column in inspect(conn).get_columns(spec.table.name)}
    named = {spec.id_column, spec.key_column, spec.geometry_column, *spec.natural_key, *spec.stored_fields}
    named |= {*spec.editable_fields, *spec.blankable_fields, *(spec.validity or ())}
    named |= set(spec.properties) - COMMUNE_COLUMNS
    named |= set(spec.tiles.fields if spec.tiles else ())
    assert named <= stored, f"{spec.name}: not in table {spec.table.name}: {sorted(named - stored)}"
    assert set(spec.required_fields) <= set(spec.target_fields)
    assert set(spec.blankable_fields) <= set(spec.stored_fields)
    assert set(spec.queryables) <= set(spec.properties)
    assert ("status" in stored) == bool(spec.statuses)
    if spec.history_table is not None:
        assert inspect(conn).has_table(spec.history_table.name)


def test_the_statuses_are_the_ones_the_database_accepts(conn: Connection) -> None:
    constraint = table("pg_constraint", column("oid"), column("conname"))
    named = constraint.c.conname == "ck_address_status"
    definition = conn.execute(select(func.pg_get_constraintdef(constraint.c.oid)).where(named)).scalar_one()
    assert definition.split("'")[1::2] == list(STATUSES)


def test_an_unknown_dataset_names_the_known_ones() -> None:
    with pytest.raises(NotFoundError, match="units, villages, places, addresses"):
        get_dataset("streets")
    with pytest.raises(InvalidParameterError, match=r"^dataset: no dataset 'streets'"):
        get_dataset("streets", parameter="dataset")


# --- every consumer draws its datasets from DATASETS ------------------------------------------


def test_consumers_list_the_datasets_of_the_specs() -> None:
    assert list(features.COLLECTIONS) == list(DATASETS)
    with_tiles = [name for name, spec in DATASETS.items() if spec.tiles is not None]
    assert [name for name in layers.LAYERS if name in DATASETS] == with_tiles
    fingerprinted = set(small_tables()) | set(large_tables())
    assert {spec.table for spec in DATASETS.values()} <= fingerprinted
    for name, spec in DATASETS.items():
        assert default_mapping(name).spec is spec


@pytest.fixture
def hamlets(monkeypatch: pytest.MonkeyPatch) -> DatasetSpec:
    """A fifth dataset, added to DATASETS alone: the village table under another name and style."""
    assert VILLAGES.tiles is not None
    spec = dataclasses.replace(
        VILLAGES,
        name="hamlets",
        title="Hamlets",
        target_fields=("source_id", "name"),
        tiles=dataclasses.replace(VILLAGES.tiles, fields=("name",), minzoom=13),
        properties=("name", "commune_code"),
        queryables=("commune_code",),
    )
    monkeypatch.setitem(DATASETS, spec.name, spec)
    monkeypatch.setattr(layers, "LAYERS", layers.build_layers())
    monkeypatch.setitem(features.COLLECTIONS, spec.name, features.dataset_collection(spec))
    return spec


def _tile_names(conn: Connection, layer: str, lon: float, lat: float, z: int = 15) -> list[str]:
    """The names a layer's tile around a point holds (built, not cached)."""
    data = build_tile(conn, layer=layers.get_layer(layer), tile=tile_for(lon, lat, z))
    decoded: dict[str, Any] = mapbox_vector_tile.decode(data) if data else {}
    return [feature["properties"]["name"] for feature in decoded.get(layer, {}).get("features", [])]


def test_a_dataset_added_to_the_specs_is_imported_drawn_and_served(
    conn: Connection, tmp_path: Path, hamlets: DatasetSpec
) -> None:
    lon, lat = HOA_BINH_CITY
    options = ImportOptions(mapping=FieldMapping("hamlets", {"source_id": ("id",), "name": ("ten",)}))
    report = import_file(conn, point_file(tmp_path, "Xóm Thử Năm", lon, lat, stem="hamlets"), options=options)
    assert (report.dataset, report.inserted) == ("hamlets", 1)
    layer = layers.get_layer("hamlets")
    assert (dict(layer.fields), layer.minzoom, layer.simplify) == ({"name": "String"}, 13, True)
    assert "Xóm Thử Năm" in _tile_names(conn, "hamlets", lon, lat)
    page = features.items(
        conn, "hamlets", query=features.FeatureQuery(bbox=(lon - 1e-4, lat - 1e-4, lon + 1e-4, lat + 1e-4))
    )
    found = [feature for feature in page.features if feature.properties["name"] == "Xóm Thử Năm"]
    assert len(found) == 1
    assert all(set(feature.properties) == {"name", "commune_code"} for feature in page.features)


# --- the one visibility rule --------------------------------------------------------------------


def _add_village(conn: Connection, name: str, status: str, lon: float, lat: float) -> int:
    """Store a village point with a status; return its id."""
    point = func.ST_SetSRID(func.ST_MakePoint(lon, lat), SRID)
    values = {"name": name, "village_type": "xóm", "geom": point, "status": status}
    row = insert(village).values(**values, source="test_visibility", source_id=name).returning(village.c.id)
    return int(conn.execute(row).scalar_one())


def test_a_proposed_village_is_on_no_public_surface_and_an_active_one_on_all(conn: Connection) -> None:
    lon, lat = 105.3412, 20.8163
    shown = _add_village(conn, "Xóm Hiển Thị Mới", "active", lon, lat)
    hidden = _add_village(conn, "Xóm Đề Xuất Mới", "proposed", lon + 0.0002, lat)

    assert _tile_names(conn, "villages", lon, lat).count("Xóm Hiển Thị Mới") == 1
    assert "Xóm Đề Xuất Mới" not in _tile_names(conn, "villages", lon, lat)

    index = GeocoderIndex.load(conn)
    assert f"village:{shown}" in [result.ref for result in search(index, "Xóm Hiển Thị Mới")]
    assert f"village:{hidden}" not in [result.ref for result in search(index, "Xóm Đề Xuất Mới")]
    nearby = reverse(conn, query=ReverseQuery(lon + 0.0002, lat)).village
    assert nearby is not None
    assert nearby.ref == f"village:{shown}"

    box = (lon - 0.001, lat - 0.001, lon + 0.001, lat + 0.001)
    ids = [
        feature.id
        for feature in features.items(conn, "villages", query=features.FeatureQuery(bbox=box)).features
    ]
    assert shown in ids
    assert hidden not in ids
    assert features.item(conn, "villages", shown).properties["status"] == "active"
    with pytest.raises(NotFoundError):
        features.item(conn, "villages", hidden)

    staff = select(village.c.id).where(public_filter(VILLAGES, staff=True), village.c.id.in_((shown, hidden)))
    assert sorted(conn.execute(staff).scalars()) == sorted((shown, hidden))
    staff_map = select(village.c.id).where(in_force_filter(VILLAGES, staff=True), village.c.id == hidden)
    assert conn.execute(staff_map).scalar_one() == hidden
    assert "proposed" in STAFF_IN_FORCE_STATUSES


# --- unit validity, written once in two forms -------------------------------------------------

DAYS = (None, dt.date(2019, 12, 31), dt.date(2020, 1, 1), dt.date(2025, 6, 30), dt.date(2025, 7, 1))


@pytest.mark.parametrize("at", [day for day in DAYS if day is not None])
def test_the_sql_and_python_validity_agree(conn: Connection, at: dt.date) -> None:
    periods = [(start, end) for start in DAYS for end in DAYS if start is None or end is None or start < end]
    for start, end in periods:
        sql = conn.execute(select(valid_at(_date(start), _date(end), at))).scalar_one()
        assert sql == is_valid_on(start, end, at), (start, end, at)


def _date(day: dt.date | None) -> Any:
    """A date (or NULL) as a SQL expression."""
    return cast(null(), Date) if day is None else literal(day, Date)
