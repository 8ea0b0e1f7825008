"""Address import: both codes assigned in bulk, stable across re-import, generated data labelled."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
from sqlalchemy import Connection, func, select

from addresses.codes import decode, is_valid_registry_code, registry_serial
from addresses.schema import address
from importers.mapping import default_mapping
from importers.pipeline import ImportOptions, import_file
from tests.importers.builders import write
from tests.synthetic import generate_addresses


def _wards(data_dir: Path) -> gpd.GeoSeries:
    return gpd.read_file(data_dir / "wards_2025.geojson").geometry


def _addresses(conn: Connection, source: str) -> list[tuple[Any, ...]]:
    rows = conn.execute(
        select(
            address.c.source_id,
            address.c.registry_code,
            address.c.location_code,
            address.c.version,
            func.ST_X(address.c.geom),
            func.ST_Y(address.c.geom),
            address.c.is_generated,
            address.c.commune_id,
        )
        .where(address.c.source == source)
        .order_by(address.c.source_id)
    )
    return [tuple(r) for r in rows]


def test_generated_addresses_get_both_codes(conn: Connection, tmp_path: Path, data_dir: Path) -> None:
    frame = generate_addresses(_wards(data_dir), 500, seed=7)
    path = write(frame, tmp_path / "generated.parquet")
    report = import_file(
        conn, path, options=ImportOptions(mapping=default_mapping("addresses"), source="gen7")
    )
    assert report.inserted == 500
    rows = _addresses(conn, "gen7")
    registry_codes = [r[1] for r in rows]
    assert len(set(registry_codes)) == 500
    assert all(isinstance(c, str) and is_valid_registry_code(c) for c in registry_codes)
    assert min(registry_serial(str(c)) for c in registry_codes) >= 100_000_000  # no code starts with 0
    for _, _, location_code, _, lon, lat, generated, commune in rows:
        cell = decode(str(location_code))
        assert cell.west <= lon <= cell.east
        assert cell.south <= lat <= cell.north
        assert generated is True
        assert commune is not None


def test_reimport_keeps_codes_and_a_move_keeps_the_registry_code(
    conn: Connection, tmp_path: Path, data_dir: Path
) -> None:
    frame = generate_addresses(_wards(data_dir), 20, seed=8)
    options = ImportOptions(mapping=default_mapping("addresses"), source="gen8")
    import_file(conn, write(frame, tmp_path / "a.geojson"), options=options)
    before = _addresses(conn, "gen8")
    again = import_file(conn, write(frame, tmp_path / "b.geojson"), options=options)
    assert (again.inserted, again.updated) == (0, 0)
    assert _addresses(conn, "gen8") == before
    moved = frame.copy()
    moved.loc[0, "geometry"] = moved.geometry.iloc[0].buffer(0.001).exterior.interpolate(0)  # ~100 m away
    import_file(conn, write(moved, tmp_path / "c.geojson"), options=options)
    after = _addresses(conn, "gen8")
    first_before = next(r for r in before if r[0] == frame.loc[0, "id"])
    first_after = next(r for r in after if r[0] == frame.loc[0, "id"])
    assert first_after[1] == first_before[1]  # registry code never changes
    assert first_after[2] != first_before[2]  # the location code follows the point
    assert first_after[3] == int(str(first_before[3])) + 1  # version bumped
    others = frame.loc[0, "id"]
    assert [r for r in after if r[0] != others] == [r for r in before if r[0] != others]
