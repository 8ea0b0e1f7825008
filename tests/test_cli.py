"""The command line: one clear line and a non-zero status for user mistakes, no traceback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import pytest
from sqlalchemy import Engine, func, inspect, select, text

from addresses.schema import address, import_run, registry_counter
from importers.synthetic import generate_addresses

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
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("error: nope.geojson: 1 problem(s), nothing written")


def test_bad_field_option_is_a_usage_error(tmp_path: Path, database_url: str) -> None:
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
    command = [sys.executable, "-c", "from api.cli import main; main()", *args]
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
