"""Every supported format imports the same rows into PostGIS."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Connection, func, select

from addresses.errors import ImportValidationError
from addresses.schema import village
from importers.mapping import FieldMapping
from importers.pipeline import ImportOptions, import_file
from importers.readers import CsvOptions, read_csv
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
    with pytest.raises(ImportValidationError, match=r"row 2, field 'lat': not a finite number: 'abc'"):
        import_file(conn, path, options=ImportOptions(mapping=MAPPING, source="bad"))


def test_csv_not_utf8_is_reported_with_the_fix(conn: Connection, tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("id,ten,lon,lat\n1,Xóm Đá,105.3,20.8\n".encode("cp1258"))
    with pytest.raises(ImportValidationError, match=r"not UTF-8.*--encoding"):
        import_file(conn, path, options=ImportOptions(mapping=MAPPING, source="latin"))
    options = ImportOptions(mapping=MAPPING, source="latin", csv=CsvOptions(encoding="cp1258"))
    assert import_file(conn, path, options=options).inserted == 1


CSV_TEXTS = [
    'id,ten,lon,lat\n1,"Xóm ""Mới"", Lạc",105.3,20.8\n2,,105.4,20.9\n',
    'id;ten;lon;lat\r\n1;Bản Pom Coọng;105,3;20,8\r\n2;"hai\r\ndòng";105,4;20,9\r\n',
    "id\tten\tlon\tlat\n1\t  spaced  \t105.3\t20.8\n\n3\tNA\t\t\n",
    "id,id,lon,lat\n1,2,105.3,20.8\n",  # repeated names: pandas renames the second
]


@pytest.mark.parametrize("text", CSV_TEXTS)
def test_csv_cells_are_read_as_pandas_reads_them(tmp_path: Path, text: str) -> None:
    path = tmp_path / "cells.csv"
    path.write_bytes(text.encode())
    delimiter = max((",", ";", "\t"), key=text.split("\n", 1)[0].count)
    expected = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False)
    read = pd.DataFrame(read_csv(path, CsvOptions()).drop(columns="geometry"))
    pd.testing.assert_frame_equal(read, expected)


def test_a_csv_row_with_too_many_cells_is_reported_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "extra.csv"
    path.write_text("id,ten,lon,lat\n1,a,105.3,20.8\n2,b,105.4,20.9,extra\n", encoding="utf-8")
    with pytest.raises(ImportValidationError, match=r"malformed CSV.*line 3"):
        read_csv(path, CsvOptions())
