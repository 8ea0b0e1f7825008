"""Batch geocoding of CSV streams on the bundled data: rows, order, bad rows, caches, streaming."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine

from addresses.codes import encode
from addresses.errors import InvalidParameterError
from geocoder.batch import OUTPUT_COLUMNS, BatchOptions, cache_key, geocode_csv, skeleton
from geocoder.index import GeocoderIndex
from tests.records import new_address

pytestmark = pytest.mark.db


def run(index: GeocoderIndex, text: str, **options: Any) -> tuple[list[dict[str, str]], object]:
    """Geocode CSV text with these batch options; the output rows as dicts and the report."""
    out = io.StringIO()
    report = geocode_csv(index, None, io.StringIO(text), out, options=BatchOptions(**options))
    return list(csv.DictReader(io.StringIO(out.getvalue()))), report


MESSY = """id,dia_chi,ghi_chu
1,"Xóm Giang, xã Liên Sơn",a
2,,b
3,qwzxv kjhgf,c
4,"Xã Độc Lập, TP Hòa Bình",d
5,only,two,extra
6,"xom giang, xa lien son",e
7,{code},f
8,8VG-DHS-6HC,g
9,"Xóm Giang, xã Liên Sơn",h
"""


def test_same_rows_same_order_with_geocoding_columns(index: GeocoderIndex) -> None:
    rows, _report = run(index, MESSY.format(code=encode(105.2, 20.6)), column="dia_chi")
    assert [row["id"] for row in rows] == [str(i) for i in range(1, 10)]
    assert [row["ghi_chu"] for row in rows] == ["a", "b", "c", "d", "two", "e", "f", "g", "h"]
    assert list(rows[0])[:3] == ["id", "dia_chi", "ghi_chu"]
    assert list(rows[0])[3:] == list(OUTPUT_COLUMNS)
    first = rows[0]
    assert (first["kind"], first["commune_code"], first["error"]) == ("village", "04960", "")
    assert first["village"] == "giang"
    assert first["parsed_commune"] == "liên sơn"
    assert rows[3]["commune_code"] == "04894"
    assert rows[3]["old_commune_code"] == "04921"
    assert rows[5]["commune_code"] == "04960"  # no diacritics: the same village
    assert rows[6]["kind"] == "location_code"


def test_bad_rows_are_reported_not_fatal(index: GeocoderIndex) -> None:
    rows, report = run(index, MESSY.format(code=encode(105.2, 20.6)), column="dia_chi")
    assert rows[1]["error"] == "empty address"
    assert rows[1]["lon"] == ""
    assert rows[2]["error"].startswith("no ")
    assert rows[2]["lon"] == ""  # no match, or none confident
    assert rows[4]["error"] == "4 fields, the header has 3 (extra: ['extra'])"
    assert "mistyped code" in rows[7]["error"]
    assert (report.rows, report.matched, report.unmatched, report.bad) == (9, 5, 1, 3)  # type: ignore[attr-defined]
    problems = report.problems  # type: ignore[attr-defined]
    assert [p.split(":")[0] for p in problems] == ["row 2", "row 3", "row 5", "row 8"]


def test_repeated_addresses_come_from_the_cache(index: GeocoderIndex) -> None:
    rows, report = run(index, MESSY.format(code=encode(105.2, 20.6)), column="dia_chi")
    assert report.cache_hits == 1  # type: ignore[attr-defined]
    assert rows[8]["lon"] == rows[0]["lon"]


def test_several_address_columns_are_joined_in_order(index: GeocoderIndex) -> None:
    text = "thon,xa,huyen\nLàng Hai,,Đà Bắc\nLàng Hai,Mường Hoa,\n"
    rows, _report = run(index, text, column=("thon", "xa", "huyen"))
    assert [row["commune_code"] for row in rows] == ["04831", "05134"]


def test_wrong_column_is_a_clear_error_and_writes_nothing(index: GeocoderIndex) -> None:
    out = io.StringIO()
    with pytest.raises(InvalidParameterError, match="'diachi' not in the CSV header"):
        geocode_csv(index, None, io.StringIO("id,dia_chi\n1,x\n"), out, options=BatchOptions(column="diachi"))
    assert out.getvalue() == ""
    with pytest.raises(InvalidParameterError, match="empty"):
        geocode_csv(index, None, io.StringIO(""), out, options=BatchOptions(column="dia_chi"))


def test_added_columns_never_clobber_input_columns(index: GeocoderIndex) -> None:
    rows, _report = run(index, "lon,lat,address\n1,2,Xã Mường Bi\n", column="address")
    assert (rows[0]["lon"], rows[0]["lat"]) == ("1", "2")
    assert rows[0]["commune_code"] == "05158"
    assert float(rows[0]["lon_geocoded"]) > 105


def test_house_numbers_reuse_the_street_found_first(conn: Connection) -> None:
    first = new_address(conn, 105.3405, 20.8165, house_number="14", street="Trần Hưng Đạo")
    second = new_address(conn, 105.3409, 20.8168, house_number="16", street="Trần Hưng Đạo")
    index = GeocoderIndex.load(conn)
    text = (
        "address\n"
        '"Số 14 Trần Hưng Đạo, Phường Hòa Bình"\n'
        '"Số 16 Trần Hưng Đạo, Phường Hòa Bình"\n'
        '"Số 99 Trần Hưng Đạo, Phường Hòa Bình"\n'
    )
    rows, report = run(index, text, column="address")
    assert [row["registry_code"] for row in rows] == [first.registry_code, second.registry_code, ""]
    assert [row["house_number"] for row in rows] == ["14", "16", "99"]
    assert [row["match_level"] for row in rows] == ["address", "address", "street"]
    assert "99 not found" in rows[2]["note"]
    assert float(rows[1]["lon"]) == pytest.approx(105.3409)
    assert rows[1]["location_code"] == encode(105.3409, 20.8168)
    assert report.cache_hits == 2  # type: ignore[attr-defined]


def test_refreshes_the_index_when_given_a_connection(conn: Connection) -> None:
    index = GeocoderIndex.load(conn, check_every_s=0)
    new_address(conn, 105.3405, 20.8165, house_number="14", street="Trần Hưng Đạo")
    out = io.StringIO()
    text = io.StringIO('a\n"Số 14 Trần Hưng Đạo, Hòa Bình"\n')
    geocode_csv(index, conn, text, out, options=BatchOptions(column="a"))
    assert ",address,address," in out.getvalue()


class _Source(io.StringIO):
    """A text stream that counts the lines read from it."""

    lines_read = 0

    def __next__(self) -> str:  # type: ignore[override]  # typeshed: IOBase yields bytes
        line = super().__next__()
        self.lines_read += 1
        return line


class _Sink(io.StringIO):
    """A text stream that remembers how much of the source had been read at its first row written."""

    def __init__(self, source: _Source) -> None:
        super().__init__()
        self.source = source
        self.read_at_writes: list[int] = []

    def write(self, text: str) -> int:
        self.read_at_writes.append(self.source.lines_read)
        return super().write(text)


def test_rows_stream_through(index: GeocoderIndex) -> None:
    source = _Source("a\n" + "Xã Mường Bi\n" * 5000)
    sink = _Sink(source)
    calls: list[int] = []
    report = geocode_csv(index, None, source, sink, options=BatchOptions(column="a", progress=calls.append))
    assert report.rows == 5000
    assert report.matched == 5000
    assert sink.read_at_writes[2] <= 3  # the second data row is written after reading three lines
    assert calls == [2000, 4000, 5000]


def test_cache_keys_and_skeletons() -> None:
    assert cache_key("  XÓM  Lác ") == "xóm lác"
    assert skeleton("sn 27b bản lác 1, xã mai hạ") == ("# bản lác 1, xã mai hạ", "27b")
    assert skeleton("1806/127/2 quốc lộ 6") == ("# quốc lộ 6", "1806/127/2")
    assert skeleton("quốc lộ 6") is None


def _cli(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    """Run the ``diachiso`` command on the test database."""
    command = [sys.executable, "-c", "from api.cli import main; main()", *args]
    environment = {**os.environ, "DIACHISO_DATABASE_URL": database_url}
    return subprocess.run(command, capture_output=True, text=True, env=environment, check=False, timeout=300)


def test_cli_geocode(tmp_path: Path, engine: Engine, database_url: str) -> None:
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text('id,dia_chi\n1,"Xóm Giang, xã Liên Sơn"\n2,\n', encoding="utf-8")
    done = _cli("geocode", str(source), "-o", str(target), "--column", "dia_chi", database_url=database_url)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert [row["commune_code"] for row in rows] == ["04960", ""]
    assert "2 rows: 1 matched, 0 unmatched, 1 bad" in done.stderr
    assert "row 2: empty address" in done.stderr


def test_cli_geocode_wrong_column_is_one_line(tmp_path: Path, engine: Engine, database_url: str) -> None:
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text("id,dia_chi\n1,x\n", encoding="utf-8")
    done = _cli("geocode", str(source), "-o", str(target), "--column", "diachi", database_url=database_url)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.strip() == "error: column: 'diachi' not in the CSV header (id, dia_chi)"
    assert not target.exists()


def test_cli_search_and_reverse_print_json(engine: Engine, database_url: str) -> None:
    found = _cli("search", "xom giang lien son", "--limit", "1", database_url=database_url)
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)[0]["current_unit"]["code"] == "04960"
    where = _cli("reverse", "105.338", "20.817", "--at", "2025-06-30", database_url=database_url)
    assert where.returncode == 0, where.stderr
    assert [unit["code"] for unit in json.loads(where.stdout)["units"]] == ["04807", "148", "17"]
    wrong = _cli("reverse", "105.338", "20.817", "--at", "30/06/2025", database_url=database_url)
    assert wrong.returncode == 2
    assert "YYYY-MM-DD" in wrong.stderr


def test_an_abolished_commune_fills_the_old_unit_columns_through_the_chain(index: GeocoderIndex) -> None:
    rows, _report = run(
        index, 'id,dia_chi\n1,"Xã Dân Hạ, huyện Kỳ Sơn"\n2,"xa Ngoi Hoa, Tan Lac"\n', column="dia_chi"
    )
    dan_ha, ngoi_hoa = rows
    # the pre-2025 columns name the 2020-2025 commune the old one merged into, the note the chain
    assert (dan_ha["old_commune_code"], dan_ha["old_commune"]) == ("04894", "Phường Kỳ Sơn")
    assert dan_ha["old_district"] == "Thành phố Hòa Bình"
    assert dan_ha["commune_code"] == "04894"
    assert dan_ha["note"].startswith("Xã Dân Hạ, Huyện Kỳ Sơn (until 2020-01-01) -> Phường Kỳ Sơn")
    assert (ngoi_hoa["old_commune_code"], ngoi_hoa["old_commune"]) == ("05134", "Xã Suối Hoa")
    assert "Xã Ngòi Hoa" in ngoi_hoa["note"]
