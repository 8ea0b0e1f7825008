"""The command line: one clear line and a non-zero status for user mistakes, no traceback."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
import unicodedata
from contextlib import nullcontext
from pathlib import Path

import geopandas as gpd
import pytest
from sqlalchemy import Engine, func, insert, inspect, select, text

from addresses.codes import encode, is_valid_registry_code
from addresses.queries import point_expression
from addresses.schema import address, import_run, registry_counter
from geocoder.reverse import ReverseQuery
from geocoder.reverse_memory import ReverseIndex, reverse_in_memory
from tests.databases import loaded_database
from tests.synthetic import generate_addresses

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from api.cli import main; main()", *args]
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        check=False,
        timeout=120,
    )


def test_import_of_a_missing_file_is_one_line(tmp_path: Path, database_url: str) -> None:
    result = run(
        "import",
        str(tmp_path / "nope.geojson"),
        "--dataset",
        "villages",
        env={"DIACHISO_DATABASE_URL": database_url},
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == f"error: file not found: {tmp_path / 'nope.geojson'}"


def test_bad_field_option_is_a_usage_error(tmp_path: Path, database_url: str) -> None:
    (tmp_path / "x.csv").write_text("id,ten,lon,lat\n", encoding="utf-8")
    result = run(
        "import",
        str(tmp_path / "x.csv"),
        "--dataset",
        "villages",
        "--field",
        "name",
        env={"DIACHISO_DATABASE_URL": database_url},
    )
    assert result.returncode == 2
    assert "--field takes FIELD=COLUMN, not 'name'" in result.stderr


@pytest.mark.parametrize("args", [["--help"], ["db", "--help"], ["import", "--help"]])
def test_help_works(args: list[str]) -> None:
    result = run(*args)
    assert result.returncode == 0
    assert "Usage" in result.stdout


def test_a_dry_run_import_reports_its_rows_and_writes_nothing(
    tmp_path: Path, database_url: str, engine: Engine
) -> None:
    path = tmp_path / "so_nha.csv"
    path.write_text(
        "id,so_nha,duong,lon,lat\n1,12A,Trần Hưng Đạo,105.338,20.817\n2,40bis,,105.0833,20.6601\n",
        encoding="utf-8",
    )
    url = {"DIACHISO_DATABASE_URL": database_url}
    result = run("import", str(path), "--dataset", "addresses", "--dry-run", env=url)
    assert result.returncode == 0, result.stderr
    said = " ".join(result.stderr.split())  # the report goes to stderr, wrapped to the terminal
    assert "so_nha.csv: checked (dry run) 2 rows as addresses [so_nha]" in said
    assert "inserted 0, updated 0, unchanged 0" in said


def test_a_database_that_cannot_be_reached_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "villages.csv"
    path.write_text("id,ten,lon,lat\n1,Xóm Lác,105.0833,20.6601\n", encoding="utf-8")
    closed = {"DIACHISO_DATABASE_URL": "postgresql+psycopg://nobody:x@127.0.0.1:1/nothing"}
    result = run("import", str(path), "--dataset", "villages", env=closed)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    said = " ".join(result.stderr.split())
    assert said.startswith("database error (nothing was written): connection failed")


TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"
"""The combining tone marks Windows-1258 writes after the letter (it has no precomposed toned letters)."""


def windows_1258(text: str) -> bytes:
    """Text as Excel's Vietnamese "CSV" writes it: Windows-1258, tone marks as combining characters."""
    out = []
    for char in unicodedata.normalize("NFC", text):
        marks = unicodedata.normalize("NFD", char)
        base = unicodedata.normalize("NFC", "".join(m for m in marks if m not in TONE_MARKS))
        out.append(base + "".join(m for m in marks if m in TONE_MARKS))
    return "".join(out).encode("cp1258")


ADDRESSES = "id,dia_chi\n1,Xóm Lác Mai Châu\n2,Phường Hòa Bình\n3,Thôn Đồng Tiến Xã Yên Thủy\n"


def test_geocode_refuses_windows_1258_in_one_line_and_reads_it_when_told(
    tmp_path: Path, database_url: str
) -> None:
    source, output = tmp_path / "ansi.csv", tmp_path / "out.csv"
    source.write_bytes(windows_1258(ADDRESSES))
    url = {"DIACHISO_DATABASE_URL": database_url}
    refused = run("geocode", str(source), "-o", str(output), "--column", "dia_chi", env=url)
    assert refused.returncode == 2
    assert "Traceback" not in refused.stderr
    said = " ".join(refused.stderr.split())
    assert said.startswith("error: ansi.csv, line 2: not utf-8-sig text")
    assert "--encoding cp1258" in said
    assert not output.exists()

    told = run(
        "geocode", str(source), "-o", str(output), "--column", "dia_chi", "--encoding", "cp1258", env=url
    )
    assert told.returncode == 0, told.stderr
    written = output.read_bytes()
    assert not written.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(unicodedata.normalize("NFC", written.decode("utf-8")))))
    assert [row["dia_chi"] for row in rows] == [
        "Xóm Lác Mai Châu",
        "Phường Hòa Bình",
        "Thôn Đồng Tiến Xã Yên Thủy",
    ]
    assert "lác" in rows[0]["label"].lower(), rows[0]  # the decoded text found its village
    assert rows[0]["error"] == ""


def test_geocode_excel_output_has_a_bom(tmp_path: Path, database_url: str) -> None:
    source, output = tmp_path / "utf8.csv", tmp_path / "excel.csv"
    source.write_text(ADDRESSES, encoding="utf-8")
    url = {"DIACHISO_DATABASE_URL": database_url}
    result = run("geocode", str(source), "-o", str(output), "--column", "dia_chi", "--excel", env=url)
    assert result.returncode == 0, result.stderr
    written = output.read_bytes()
    assert written.startswith(b"\xef\xbb\xbfid,dia_chi,lon,lat")
    assert "Xóm Lác Mai Châu" in written.decode("utf-8-sig")


def test_geocode_of_a_missing_file_is_one_line(tmp_path: Path, database_url: str) -> None:
    missing = tmp_path / "nope.csv"
    result = run("geocode", str(missing), "-o", str(tmp_path / "o.csv"), "--column", "x")
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: file not found: {missing}"


def test_import_refuses_windows_1258_with_the_fix(tmp_path: Path, database_url: str) -> None:
    path = tmp_path / "thon.csv"
    path.write_bytes(windows_1258("id,ten,lon,lat\n1,Xóm Lác,105.0833,20.6601\n"))
    result = run(
        "import", str(path), "--dataset", "villages", "--dry-run", env={"DIACHISO_DATABASE_URL": database_url}
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    said = " ".join(result.stderr.split())
    assert "row 1: not UTF-8 text" in said
    assert "pass --encoding cp1258" in said


def test_a_missing_mapped_column_is_reported_once_by_name(tmp_path: Path, database_url: str) -> None:
    path = tmp_path / "thon.csv"
    rows = "".join(f"{i},Xóm {i},105.0833,20.66{i:02d}\n" for i in range(1, 30))
    path.write_text("id,ten,lon,lat\n" + rows, encoding="utf-8")
    url = {"DIACHISO_DATABASE_URL": database_url}
    result = run(
        "import", str(path), "--dataset", "villages", "--dry-run", "--field", "name=ten_thon", env=url
    )
    assert result.returncode == 1
    said = " ".join(result.stderr.split())
    assert "1 problem(s)" in said
    assert "column 'ten_thon' (mapped to field 'name') is not in the file" in said
    assert "required but empty" not in said


def test_rows_without_a_source_id_are_keyed_by_row_number_with_a_warning(
    tmp_path: Path, database_url: str
) -> None:
    url = {"DIACHISO_DATABASE_URL": database_url}
    keyed = tmp_path / "keyed.csv"
    keyed.write_text("id,ten,lon,lat\n7,Xóm Lác,105.0833,20.6601\n", encoding="utf-8")
    unkeyed = tmp_path / "unkeyed.csv"
    unkeyed.write_text("ten,lon,lat\nXóm Lác,105.0833,20.6601\n", encoding="utf-8")
    with_id = run("import", str(keyed), "--dataset", "villages", "--dry-run", env=url)
    without = run("import", str(unkeyed), "--dataset", "villages", "--dry-run", env=url)
    assert with_id.returncode == without.returncode == 0, without.stderr
    assert "keyed by their row number" not in " ".join(with_id.stderr.split())
    said = " ".join(without.stderr.split())
    assert "warning no source id" in said
    assert "keyed by their row number, so re-importing" in said


def test_a_csv_with_a_nul_byte_is_one_line_per_problem_naming_row_and_field(
    tmp_path: Path, database_url: str
) -> None:
    path = tmp_path / "nul.csv"
    path.write_bytes(b"id,so_nha,lon,lat\n1,12A,105.338,20.817\n2,4\x000,105.0833,20.6601\n")
    result = run("import", str(path), "--dataset", "addresses", env={"DIACHISO_DATABASE_URL": database_url})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "nul.csv: 2 problem(s), nothing written" in result.stderr
    assert "row 2, field 'so_nha': contains a NUL byte" in result.stderr


# ------------------------------------------------------------------ Ctrl-C during an import


def _generated_file(tmp_path: Path, data_dir: Path, count: int) -> Path:
    """Generated addresses (labelled generated, not surveyed) as GeoParquet."""
    wards = gpd.read_file(data_dir / "wards_2025.geojson").geometry
    path = tmp_path / "generated-sigint.parquet"
    generate_addresses(wards, count, seed=77).to_parquet(path)
    return path


def _wait_for_statement(
    engine: Engine, prefix: str, process: subprocess.Popen[str], *, timeout: float
) -> None:
    """Wait until another session of this database runs a statement starting with ``prefix``."""
    activity = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND state = 'active' AND query ILIKE :pattern"
    )
    deadline = time.monotonic() + timeout
    with engine.connect() as conn:
        while time.monotonic() < deadline and process.poll() is None:
            if conn.execute(activity, {"pattern": prefix + "%"}).scalar_one():
                return
            conn.rollback()
            time.sleep(0.02)
    pytest.fail(f"the import never ran {prefix!r} (exit status {process.poll()})")


@pytest.mark.parametrize("rebuild", [False, True], ids=["copy", "copy-into-fresh-table"])
def test_ctrl_c_during_an_import_says_nothing_was_written_and_writes_nothing(
    tmp_path: Path, database_url: str, engine: Engine, data_dir: Path, rebuild: bool
) -> None:
    path = _generated_file(tmp_path, data_dir, 30_000)
    source = f"sigint-{rebuild}"
    with engine.connect() as conn:
        serial = conn.execute(select(registry_counter.c.next_serial)).scalar_one()
    args = ["import", str(path), "--dataset", "addresses", "--source", source]
    # Ctrl-C as at a terminal, even when the suite itself runs as a background job (which ignores SIGINT)
    interruptible = "import signal; signal.signal(signal.SIGINT, signal.default_int_handler)"
    command = [sys.executable, "-c", f"{interruptible}; from api.cli import main; main()", *args]
    command += ["--rebuild-indexes"] if rebuild else ["--keep-indexes"]
    env = {**os.environ, "DIACHISO_DATABASE_URL": database_url}
    with subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True) as process:
        _wait_for_statement(engine, "COPY", process, timeout=90)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "Traceback" not in stderr
    assert " ".join(stderr.split()).startswith("interrupted: nothing was written (generated-sigint.parquet")
    with engine.connect() as conn:
        written = conn.execute(select(func.count()).where(address.c.source == source)).scalar_one()
        runs = conn.execute(select(func.count()).where(import_run.c.source == source)).scalar_one()
        assert conn.execute(select(registry_counter.c.next_serial)).scalar_one() == serial
        assert not inspect(conn).has_table("address_fresh")
    assert (written, runs) == (0, 0)


# ------------------------------------------------------------------------------- db url


def test_db_url_of_a_stopped_cluster_says_to_start_it_and_starts_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    state = {"data_dir": str(tmp_path / "pg"), "port": 1, "password": "x", "run_user": None, "pg_version": 15}
    (home / "cluster.json").write_text(json.dumps(state))
    env = {**os.environ, "DIACHISO_HOME": str(home)}
    env.pop("DIACHISO_DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", "from api.cli import main; main()", "db", "url"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=False,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert "the embedded database is stopped: run `diachiso db start`" in result.stderr
    assert not (tmp_path / "pg").exists()  # no cluster was created or started
    assert json.loads((home / "cluster.json").read_text()) == state


def test_db_url_prints_a_url_psql_accepts(database_url: str) -> None:
    result = run("db", "url", env={"DIACHISO_DATABASE_URL": database_url})
    assert result.returncode == 0, result.stderr
    url = result.stdout.strip()
    assert url.startswith("postgresql://")
    psql = subprocess.run(
        ["psql", url, "-AtXc", "SELECT current_database()"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert psql.returncode == 0, psql.stderr
    assert psql.stdout.strip() == database_url.rsplit("/", 1)[1]


def test_synth_writes_a_labelled_geoparquet(tmp_path: Path) -> None:
    path = tmp_path / "generated.parquet"
    result = run("synth", "--addresses", "300", "--seed", "4", "--messy", "0.5", "-o", str(path))
    assert result.returncode == 0, result.stderr
    frame = gpd.read_parquet(path)
    assert len(frame) == 300
    assert frame["generated"].all()
    assert int(frame["messy"].sum()) == 150


def test_synth_needs_a_file_or_load() -> None:
    result = run("synth", "--addresses", "10")
    assert result.returncode == 2
    assert "give either -o FILE.parquet or --load" in result.stderr


def test_geocode_on_dask_writes_what_one_process_writes(
    tmp_path: Path, database_url: str, engine: Engine
) -> None:
    source = tmp_path / "in.csv"
    source.write_text(
        'id,dia_chi\n1,"Xóm Giang, xã Liên Sơn"\n2,\n3,Phường Tân Hoà\n4,xom lac mai chau\n', encoding="utf-8"
    )
    url = {"DIACHISO_DATABASE_URL": database_url}
    alone = run("geocode", str(source), "-o", str(tmp_path / "one.csv"), "--column", "dia_chi", env=url)
    assert alone.returncode == 0, alone.stderr
    on_dask = run(
        "geocode",
        str(source),
        "-o",
        str(tmp_path / "dask.csv"),
        "--column",
        "dia_chi",
        "--dask",
        "local:1",
        env=url,
    )
    assert on_dask.returncode == 0, on_dask.stderr
    assert "on Dask (local:1, 1 workers)" in on_dask.stderr
    assert (tmp_path / "dask.csv").read_text("utf-8") == (tmp_path / "one.csv").read_text("utf-8")
    assert "4 rows: 3 matched, 0 unmatched, 1 bad" in " ".join(on_dask.stderr.split())


def test_synth_load_imports_through_the_importer() -> None:
    with loaded_database("diachiso_cli_synth") as (url, engine):
        url_env = {"DIACHISO_DATABASE_URL": url}
        result = run("synth", "--addresses", "200", "--seed", "9", "--load", env=url_env)
        assert result.returncode == 0, result.stderr
        assert "as addresses [generated] - inserted 200" in " ".join(result.stderr.split())
        with engine.connect() as conn:
            coded = (
                select(func.count())
                .select_from(address)
                .where(address.c.is_generated, address.c.registry_code.is_not(None))
                .where(address.c.commune_id.is_not(None))
            )
            assert conn.execute(coded).scalar_one() == 200


def _uncoded(engine: Engine, source: str, points: list[tuple[float, float]]) -> None:
    """Write addresses without codes (as SQL would), committed."""
    with engine.begin() as conn:
        for i, (lon, lat) in enumerate(points):
            row = {"source": source, "source_id": str(i), "geom": point_expression(lon, lat)}
            conn.execute(insert(address).values(**row))


def _codes_of(engine: Engine, source: str) -> list[tuple[str | None, str | None]]:
    query = select(address.c.location_code, address.c.registry_code).where(address.c.source == source)
    with engine.connect() as conn:
        return [
            (row.location_code, row.registry_code)
            for row in conn.execute(query.order_by(address.c.source_id))
        ]


def test_codes_backfill_gives_missing_codes_in_one_transaction() -> None:
    points = [(105.338 + i * 0.001, 20.817 + i * 0.0007) for i in range(4)]
    on_dask = [(105.2 + i * 0.002, 20.75 + i * 0.001) for i in range(3)]
    with loaded_database("diachiso_cli_backfill") as (url, engine):
        env = {"DIACHISO_DATABASE_URL": url}
        _uncoded(engine, "cli", points)
        _uncoded(engine, "cli-dask", on_dask)
        result = run("codes", "backfill", "--source", "cli", env=env)
        assert result.returncode == 0, result.stderr
        assert result.stderr.strip() == "4 registry code(s) issued"
        codes = _codes_of(engine, "cli")
        assert [location for location, _ in codes] == [encode(lon, lat) for lon, lat in points]
        assert all(is_valid_registry_code(str(registry)) for _, registry in codes)
        assert _codes_of(engine, "cli-dask") == [(None, None)] * 3  # --source: only those
        dask = run("codes", "backfill", "--dask", "local:1", env=env)
        assert dask.stderr.strip().endswith("3 registry code(s) issued"), dask.stderr
        assert [location for location, _ in _codes_of(engine, "cli-dask")] == [encode(*p) for p in on_dask]
        again = run("codes", "backfill", env=env)
        assert again.stderr.strip() == "0 registry code(s) issued"
        assert _codes_of(engine, "cli") == codes


def test_reverse_answers_from_the_database_what_the_server_answers_from_memory(
    engine: Engine, database_url: str
) -> None:
    """``diachiso reverse`` asks the database for its one point: the same JSON as the in-memory path."""
    with engine.connect() as conn:
        expected = reverse_in_memory(
            ReverseIndex.load(conn),
            query=ReverseQuery(105.3380, 20.8170, radius_m=500),
            connect=lambda: nullcontext(conn),
        ).to_dict()
    result = run("reverse", "105.3380", "20.8170", env={"DIACHISO_DATABASE_URL": database_url})
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["current_unit"]["level"] == "commune"
    assert answer == json.loads(json.dumps(expected, default=str))
