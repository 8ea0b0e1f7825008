"""The package installs from its wheel, with its migrations and static files, and runs from there.

The wheel is built without build isolation (setuptools and wheel come from the
development environment, no network), installed with ``--no-deps`` into a fresh
virtual environment that sees this environment's site-packages through a ``.pth``
file, and ``diachiso db start`` migrates a throwaway database from it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import text

from addresses.db import make_engine
from api.routes.pages import DOCS_ASSETS, STATIC_DIR
from api.viewer import VIEWER_FILES
from tests import databases

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]


def _isolated_env(**extra: str) -> dict[str, str]:
    """The environment without this checkout on PYTHONPATH (the wheel must provide the code)."""
    env = {
        key: value for key, value in os.environ.items() if key not in {"PYTHONPATH", "DIACHISO_DATABASE_URL"}
    }
    return {**env, **extra}


def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(arg) for arg in args], capture_output=True, text=True, cwd=cwd, env=env, check=False, timeout=300
    )
    assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


PIP = (sys.executable, "-m", "pip")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    _run(*PIP, "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", out, ROOT, cwd=out)
    [built] = out.glob("diachiso-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the wheel installed; its bin folder."""
    home = tmp_path_factory.mktemp("venv")
    venv.create(home, with_pip=False)
    bin_dir = home / "bin"
    [site] = (home / "lib").glob("python3*/site-packages")
    # without this checkout on PYTHONPATH: pip would take its diachiso as installed already
    _run(
        *PIP,
        "--python",
        bin_dir / "python",
        "install",
        "-q",
        "--no-deps",
        wheel,
        cwd=home,
        env=_isolated_env(),
    )
    # the dependencies: this environment's site-packages, after the wheel's own
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return bin_dir


def test_every_package_is_listed_and_every_data_entry_names_files() -> None:
    found = {
        ".".join(path.parent.relative_to(ROOT).parts)
        for top in ("addresses", "geocoder", "tiles", "importers", "api")
        for path in (ROOT / top).rglob("__init__.py")
        if "node_modules" not in path.parts
    }
    assert found == set(SETUPTOOLS["packages"])
    for package, patterns in PYPROJECT["tool"]["setuptools"]["package-data"].items():
        folder = ROOT.joinpath(*package.split("."))
        assert [pattern for pattern in patterns if not list(folder.glob(pattern))] == [], package


def test_the_wheel_holds_the_migrations_and_the_served_files(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    migrations = {
        str(path.relative_to(ROOT)) for path in (ROOT / "addresses/migrations/versions").glob("*.py")
    }
    assert migrations <= names
    assert {"addresses/migrations/env.py", "addresses/migrations/script.py.mako"} <= names
    served = {f"api/static/{name}" for name in VIEWER_FILES}
    served |= {str(path.relative_to(ROOT)) for path in DOCS_ASSETS.values()}
    assert served - names == set()
    data = {f"share/diachiso/hoabinh/{path.name}" for path in (ROOT / "data/hoabinh").iterdir()}
    assert {name.split(".data/data/", 1)[-1] for name in names if ".data/data/" in name} == data
    assert (STATIC_DIR / "node_modules/leaflet/dist/leaflet.css").exists()
    assert "api/static/node_modules/leaflet/dist/leaflet.css" in names


def test_diachiso_db_start_migrates_from_the_installed_wheel(installed: Path, tmp_path: Path) -> None:
    where = _run(
        installed / "python",
        "-c",
        "import addresses, api; print(addresses.__file__)",
        cwd=tmp_path,
        env=_isolated_env(),
    )
    assert where.strip().startswith(str(installed.parent)), where
    usage = _run(installed / "diachiso", "db", "--help", cwd=tmp_path, env=_isolated_env())
    assert "Start the embedded cluster" in usage
    url = databases.recreate_database(databases.server_url(), f"diachiso_wheel_{os.getpid()}")
    try:
        said = _run(
            installed / "diachiso", "db", "start", cwd=tmp_path, env=_isolated_env(DIACHISO_DATABASE_URL=url)
        )
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        finally:
            engine.dispose()
        assert f"schema revision {revision}" in said
        assert not (tmp_path / ".diachiso").exists()  # an external server: nothing embedded was made
        # the bundled data came with the wheel: no --data-dir, no checkout in sight
        _run(
            installed / "diachiso",
            "import-bundled",
            cwd=tmp_path,
            env=_isolated_env(DIACHISO_DATABASE_URL=url),
        )
        with engine.connect() as conn:
            units = conn.execute(text("SELECT count(*) FROM admin_unit")).scalar_one()
        engine.dispose()
        assert units > 300
    finally:
        databases.drop_database(url)
