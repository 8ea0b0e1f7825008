"""Only `diachiso db start` creates or starts a database; everything else says to run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from addresses import pgcluster
from addresses.errors import DatabaseSetupError
from addresses.settings import DatabaseSettings
from api.app import create_app
from api.settings import ApiSettings

ROOT = Path(__file__).resolve().parent.parent
START_HINT = "run `diachiso db start`"


def _stopped_home(home: Path) -> Path:
    """A state folder that records a cluster which does not run (its data folder is empty)."""
    home.mkdir(parents=True, exist_ok=True)
    data = home / "pg" / "data"
    data.mkdir(parents=True)
    found = pgcluster.find_binaries()
    assert found is not None, "PostgreSQL with PostGIS must be installed (scripts/bootstrap.sh)"
    state = {
        "data_dir": str(data),
        "port": 1,
        "password": "x",
        "run_user": pgcluster.run_user(),
        "pg_version": found.version,
    }
    (home / "cluster.json").write_text(json.dumps(state))
    return home


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "DIACHISO_DATABASE_URL"}
    env["DIACHISO_HOME"] = str(home)
    command = [sys.executable, "-c", "from api.cli import main; main()", *args]
    return subprocess.run(
        command, capture_output=True, text=True, cwd=ROOT, env=env, check=False, timeout=120
    )


@pytest.mark.parametrize("state", ["never initialised", "stopped"])
def test_database_url_starts_nothing_and_says_what_to_run(tmp_path: Path, state: str) -> None:
    home = tmp_path / "home"
    if state == "stopped":
        _stopped_home(home)
    settings = DatabaseSettings(database_url=None, home=home)
    with pytest.raises(DatabaseSetupError, match=START_HINT):
        pgcluster.database_url(settings)
    if state == "stopped":
        assert not list((home / "pg" / "data").iterdir())  # not initialised, not started
    else:
        assert not home.exists()  # not even the state folder was made


@pytest.mark.parametrize(
    "args", [("db", "url"), ("import-bundled", "--if-empty"), ("search", "xom lac"), ("serve",)]
)
def test_commands_on_a_stopped_cluster_say_one_line(tmp_path: Path, args: tuple[str, ...]) -> None:
    home = _stopped_home(tmp_path / "home")
    result = _cli(home, *args)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == f"error: the embedded database is stopped: {START_HINT}"
    assert not list((home / "pg" / "data").iterdir())  # nothing was initialised or started


def test_the_app_does_not_start_on_a_stopped_cluster(tmp_path: Path) -> None:
    home = _stopped_home(tmp_path / "home")
    app = create_app(DatabaseSettings(database_url=None, home=home), ApiSettings())
    with pytest.raises(DatabaseSetupError, match=START_HINT), TestClient(app):
        pass


def test_the_configured_url_is_read_as_is() -> None:
    url = "postgresql+psycopg://u:p@127.0.0.1:1/somewhere"
    assert pgcluster.database_url(DatabaseSettings(database_url=url)) == url
