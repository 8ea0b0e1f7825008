"""The command line: one clear line and a non-zero status for user mistakes, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

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
