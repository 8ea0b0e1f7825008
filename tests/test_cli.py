"""The command line: one clear line and a non-zero status for user mistakes, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pytest
from sqlalchemy import Engine, func, select

from addresses.schema import address
from tests.scratch import loaded_database

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
