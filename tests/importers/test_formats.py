"""Every supported format imports the same rows into PostGIS."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Connection, func, select

from addresses.errors import ImportValidationError
from addresses.schema import village
from importers.mapping import FieldMapping
from importers.pipeline import ImportOptions, import_file
from importers.readers import CsvOptions
from tests.importers.builders import INSIDE, village_frame, write

MAPPING = FieldMapping("villages", {"source_id": ("id",), "name": ("ten",)})


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".shp", ".zip", ".csv", ".parquet"])
def test_each_format_imports_three_villages(conn: Connection, tmp_path: Path, suffix: str) -> None:
    path = write(village_frame(prefix=suffix), tmp_path / f"villages{suffix}")
    report = import_file(conn, path, options=ImportOptions(mapping=MAPPING, source=f"test{suffix}"))
    assert (report.inserted, report.updated, report.rejected) == (3, 0, [])
    rows = conn.execute(
        select(
            village.c.name,
            village.c.village_type,
            func.ST_X(village.c.geom),
            func.ST_Y(village.c.geom),
            village.c.commune_id,
        )
        .where(village.c.source == f"test{suffix}")
        .order_by(village.c.source_id)
    ).all()
    # NFC (the file has NFD) with canonical tone marks (Hoà -> Hòa)
    assert [r.name for r in rows] == ["Xóm Lác", "Bản Pom Coọng", "Thôn Hòa Lạc"]
    assert [r.village_type for r in rows] == ["xóm", "bản", "thôn"]
    for row, (x, y) in zip(rows, INSIDE, strict=True):
        assert row[2] == pytest.approx(x, abs=1e-9)
        assert row[3] == pytest.approx(y, abs=1e-9)
    assert all(r.commune_id is not None for r in rows)


def test_csv_with_wkt_and_semicolons(conn: Connection, tmp_path: Path) -> None:
    path = tmp_path / "wkt.csv"
    path.write_text(
        "id;ten;wkt\n1;Xóm Mỏ;POINT (105.34 20.82)\n2;Bản Lác;POINT (105.08 20.66)\n",
        encoding="utf-8-sig",
    )
    report = import_file(conn, path, options=ImportOptions(mapping=MAPPING, source="wkt"))
    assert report.inserted == 2


def test_csv_with_an_unparseable_coordinate_names_row_and_field(conn: Connection, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("id,ten,lon,lat\n1,Xóm A,105.3,20.8\n2,Xóm B,105.3,abc\n", encoding="utf-8")
    with pytest.raises(ImportValidationError, match=r"row 2, field 'lat': not a number: 'abc'"):
        import_file(conn, path, options=ImportOptions(mapping=MAPPING, source="bad"))


def test_csv_not_utf8_is_reported_with_the_fix(conn: Connection, tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("id,ten,lon,lat\n1,Xóm Đá,105.3,20.8\n".encode("cp1258"))
    with pytest.raises(ImportValidationError, match=r"not UTF-8.*--encoding"):
        import_file(conn, path, options=ImportOptions(mapping=MAPPING, source="latin"))
    options = ImportOptions(mapping=MAPPING, source="latin", csv=CsvOptions(encoding="cp1258"))
    assert import_file(conn, path, options=options).inserted == 1
