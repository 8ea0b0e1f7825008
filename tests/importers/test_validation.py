"""Validation: repairs counted, rejections reported by row, problems fail the whole file."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from sqlalchemy import Connection, func, select

from addresses.errors import ImportValidationError
from addresses.schema import import_run, village
from importers.mapping import FieldMapping
from importers.pipeline import ImportOptions, import_file
from tests.importers.builders import village_frame, write

MAPPING = FieldMapping("villages", {"source_id": ("id",), "name": ("ten",)})
BOWTIE = shapely.Polygon(
    [(105.30, 20.80), (105.32, 20.82), (105.32, 20.80), (105.30, 20.82), (105.30, 20.80)]
)


def _count(conn: Connection, source: str) -> int:
    return int(
        conn.execute(select(func.count()).select_from(village).where(village.c.source == source)).scalar_one()
    )


def test_broken_geometries_are_repaired_and_counted(conn: Connection, tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        {"id": ["b1", "b2"], "ten": ["Xóm Bướm", "Xóm Mỏ"]},
        geometry=[BOWTIE, shapely.Point(105.34, 20.82)],
        crs="EPSG:4326",
    )
    assert not frame.is_valid.iloc[0]
    report = import_file(
        conn,
        write(frame, tmp_path / "broken.geojson"),
        options=ImportOptions(mapping=MAPPING, source="broken"),
    )
    assert (report.repaired, report.inserted) == (1, 2)
    valid = conn.execute(
        select(func.bool_and(func.ST_IsValid(village.c.geom))).where(village.c.source == "broken")
    )
    assert valid.scalar_one() is True


def test_outside_and_missing_geometry_are_rejected_with_row_and_reason(
    conn: Connection, tmp_path: Path
) -> None:
    frame = gpd.GeoDataFrame(
        {"id": ["o1", "o2", "o3"], "ten": ["Xóm Trong", "Làng Hà Nội", "Xóm Không"]},
        geometry=[shapely.Point(105.34, 20.82), shapely.Point(105.85, 21.03), None],
        crs="EPSG:4326",
    )
    report = import_file(
        conn,
        write(frame, tmp_path / "outside.geojson"),
        options=ImportOptions(mapping=MAPPING, source="outside"),
    )
    assert report.inserted == 1
    assert report.rejected == [
        "row 3, field 'geometry': no geometry",
        report.rejected[1],
    ]
    assert report.rejected[1].startswith("row 2, field 'geometry': outside the province (about")
    assert _count(conn, "outside") == 1


def test_strict_turns_rejections_into_a_failure_and_writes_nothing(conn: Connection, tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        {"id": ["s1", "s2"], "ten": ["Xóm A", "Xóm B"]},
        geometry=[shapely.Point(105.34, 20.82), shapely.Point(106.5, 10.8)],
        crs="EPSG:4326",
    )
    options = ImportOptions(mapping=MAPPING, source="strict", strict=True)
    with pytest.raises(
        ImportValidationError,
        match=r"(?s)strict.geojson: 1 problem.*row 2, field 'geometry': outside",
    ):
        import_file(conn, write(frame, tmp_path / "strict.geojson"), options=options)
    assert _count(conn, "strict") == 0


def test_a_bad_row_fails_the_file_and_writes_nothing(conn: Connection, tmp_path: Path) -> None:
    frame = village_frame(prefix="bad")
    frame.loc[1, "ten"] = ""
    frame.loc[2, "id"] = "bad1"
    with pytest.raises(ImportValidationError) as failure:
        import_file(
            conn,
            write(frame, tmp_path / "badrow.gpkg"),
            options=ImportOptions(mapping=MAPPING, source="badrow"),
        )
    assert failure.value.problems == [
        "row 2, field 'name': required but empty",
        "row 3, field 'source_id': duplicate id 'bad1' (first at row 1)",
    ]
    assert "badrow.gpkg: 2 problem(s), nothing written" in str(failure.value)
    assert _count(conn, "badrow") == 0
    assert (
        conn.execute(
            select(func.count()).select_from(import_run).where(import_run.c.source == "badrow")
        ).scalar()
        == 0
    )


def test_dry_run_reports_and_writes_nothing(conn: Connection, tmp_path: Path) -> None:
    report = import_file(
        conn,
        write(village_frame(prefix="dry"), tmp_path / "dry.geojson"),
        options=ImportOptions(mapping=MAPPING, source="dry", dry_run=True),
    )
    assert (report.dry_run, report.rows_read, report.inserted) == (True, 3, 0)
    assert _count(conn, "dry") == 0


def test_duplicate_rows_are_reported_as_warnings(conn: Connection, tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        {"id": ["d1", "d2"], "ten": ["Xóm Đôi", "Xóm Đôi"]},
        geometry=[shapely.Point(105.34, 20.82)] * 2,
        crs="EPSG:4326",
    )
    report = import_file(
        conn,
        write(frame, tmp_path / "dups.geojson"),
        options=ImportOptions(mapping=MAPPING, source="dups"),
    )
    assert report.warnings == ["row 2 repeats the name and geometry of an earlier row"]


def test_unknown_mapped_column_is_named(conn: Connection, tmp_path: Path) -> None:
    mapping = FieldMapping("villages", {"name": ("ten_thon",)})
    with pytest.raises(
        ImportValidationError, match=r"column .ten_thon. \(mapped to field .name.\) is not in the file"
    ):
        import_file(
            conn,
            write(village_frame(), tmp_path / "cols.geojson"),
            options=ImportOptions(mapping=mapping),
        )
