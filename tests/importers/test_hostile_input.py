"""Hostile input to the importer: clear problems naming file, row and field, never a traceback."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from sqlalchemy import Connection, select

from addresses.errors import ImportValidationError
from addresses.schema import address
from importers.mapping import default_mapping
from importers.pipeline import ImportOptions, ImportReport, import_file

HEADER = "id,so_nha,duong,lon,lat\n"
GOOD = "1,12A,Trần Hưng Đạo,105.338,20.817\n"


def _csv(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_bytes((HEADER + body).encode("utf-8"))
    return path


def _import(conn: Connection, path: Path, source: str) -> ImportReport:
    return import_file(conn, path, options=ImportOptions(mapping=default_mapping("addresses"), source=source))


def _problems(conn: Connection, path: Path) -> list[str]:
    with pytest.raises(ImportValidationError) as refused:
        _import(conn, path, "hostile")
    assert refused.value.file_name == path.name
    return refused.value.problems


def test_a_nul_byte_in_a_csv_names_the_row_and_the_field(conn: Connection, tmp_path: Path) -> None:
    path = _csv(tmp_path, "nul.csv", GOOD + "2,4\x000,,105.0833,20.6601\n3,5,Đường\x00 12B,105.53,20.85\n")
    assert _problems(conn, path) == [
        "row 2, field 'house_number': contains the control character U+0000 (NUL)",
        "row 2, field 'so_nha': contains a NUL byte or an unpaired surrogate",
        "row 3, field 'duong': contains a NUL byte or an unpaired surrogate",
        "row 3, field 'street': contains the control character U+0000 (NUL)",
    ]


def test_a_nul_byte_in_a_field_no_mapping_reads_is_still_named(conn: Connection, tmp_path: Path) -> None:
    path = tmp_path / "extra.csv"
    path.write_text("id,so_nha,ghi_chu,lon,lat\n1,12A,xem\x00lai,105.338,20.817\n", encoding="utf-8")
    assert _problems(conn, path) == ["row 1, field 'ghi_chu': contains a NUL byte or an unpaired surrogate"]


@pytest.mark.parametrize("value", ["1e400", "-1e400", "inf", "-Infinity", "nan", "NaN"])
def test_every_non_finite_coordinate_fails_the_file_the_same_way(
    conn: Connection, tmp_path: Path, value: str
) -> None:
    path = _csv(tmp_path, "far.csv", GOOD + f"2,40bis,,105.0833,{value}\n")
    assert _problems(conn, path) == [f"row 2, field 'lat': not a finite number: '{value}'"]


def test_a_non_finite_coordinate_in_a_geoparquet_is_a_problem_too(conn: Connection, tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        {"id": ["a", "b"], "house_number": ["1", "2"]},
        geometry=[shapely.Point(105.338, 20.817), shapely.Point(105.0833, math.inf)],
        crs="EPSG:4326",
    )
    path = tmp_path / "inf.parquet"
    frame.to_parquet(path)
    assert _problems(conn, path) == ["row 2, field 'geometry': coordinates must be finite numbers"]


def test_over_long_text_and_control_characters_are_problems(conn: Connection, tmp_path: Path) -> None:
    path = _csv(tmp_path, "long.csv", GOOD + f"2,{'9' * 33},,105.0833,20.6601\n3,7,A\x1bB,105.53,20.85\n")
    assert _problems(conn, path) == [
        "row 2, field 'house_number': 33 characters, at most 32",
        "row 3, field 'street': contains the control character U+001B (control)",
    ]


def test_bidi_and_invisible_characters_are_stripped_with_a_note(conn: Connection, tmp_path: Path) -> None:
    body = "1,12\u202e34,Trần\u200b Hưng Đạo,105.338,20.817\n2,\ufeff40\u00adbis,,105.0833,20.6601\n"
    report = _import(conn, _csv(tmp_path, "bidi.csv", body), "bidi")
    query = select(address.c.source_id, address.c.house_number).where(address.c.source == "bidi")
    stored = {str(source_id): number for source_id, number in conn.execute(query)}
    street = conn.execute(
        select(address.c.street).where(address.c.source == "bidi", address.c.source_id == "1")
    )
    assert stored == {"1": "1234", "2": "40bis"}
    assert street.scalar_one() == "Trần Hưng Đạo"
    assert report.warnings == [
        "row 1, field 'house_number': removed invisible formatting U+202E (RIGHT-TO-LEFT OVERRIDE)",
        "row 2, field 'house_number': removed invisible formatting U+FEFF (ZERO WIDTH NO-BREAK SPACE), "
        "U+00AD (SOFT HYPHEN)",
        "row 1, field 'street': removed invisible formatting U+200B (ZERO WIDTH SPACE)",
    ]
