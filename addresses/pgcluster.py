"""The embedded PostgreSQL/PostGIS cluster that the project runs for itself.

With no ``DIACHISO_DATABASE_URL``, diachiso keeps its own cluster in a project-local
folder (``.diachiso/pg``), listening on 127.0.0.1 on its own port, with a generated
password kept in ``.diachiso/cluster.json`` (mode 0600). PostgreSQL refuses to run
as root, so when invoked as root the cluster runs as an unprivileged system user.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from addresses.errors import DatabaseSetupError
from addresses.settings import DatabaseSettings

SUPERUSER = "diachiso"
RUN_USERS = ("postgres", "diachiso")
"""Unprivileged users the cluster may run as when diachiso runs as root, first found wins."""
PG_LIB = Path("/usr/lib/postgresql")
PG_SHARE = Path("/usr/share/postgresql")


@dataclass(frozen=True)
class PgBinaries:
    """The PostgreSQL server programs of one major version that has PostGIS."""

    version: int
    bin_dir: Path

    def tool(self, name: str) -> str:
        """The absolute path of one server program (initdb, pg_ctl...)."""
        return str(self.bin_dir / name)


@dataclass(frozen=True)
class ClusterState:
    """What the project remembers of its cluster, in ``cluster.json``."""

    data_dir: str
    port: int
    password: str
    run_user: str | None
    pg_version: int

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of one database of the cluster."""
        return f"postgresql+psycopg://{SUPERUSER}:{self.password}@127.0.0.1:{self.port}/{database}"


@dataclass(frozen=True)
class ClusterStatus:
    """Whether the cluster exists and runs, and where."""

    initialised: bool
    running: bool
    data_dir: Path
    port: int | None


def installed_versions() -> list[int]:
    """Major versions of PostgreSQL whose server binaries are installed, newest first."""
    if not PG_LIB.is_dir():
        return []
    found = [int(p.name) for p in PG_LIB.iterdir() if p.name.isdigit() and (p / "bin/initdb").exists()]
    return sorted(found, reverse=True)


def has_postgis(version: int) -> bool:
    """Whether the PostGIS extension is installed for one PostgreSQL major version."""
    return (PG_SHARE / str(version) / "extension/postgis.control").exists()


def find_binaries() -> PgBinaries | None:
    """The newest installed PostgreSQL that has PostGIS, if any."""
    for version in installed_versions():
        if has_postgis(version):
            return PgBinaries(version=version, bin_dir=PG_LIB / str(version) / "bin")
    return None


def binaries() -> PgBinaries:
    """The PostgreSQL+PostGIS to run, or a DatabaseSetupError saying how to install it (installs nothing)."""
    found = find_binaries()
    if found is None:
        raise DatabaseSetupError(
            "PostgreSQL with PostGIS is not installed: run `bash scripts/bootstrap.sh` as root "
            "(or `sudo apt-get install postgresql postgis`)"
        )
    return found


def run_user() -> str | None:
    """The unprivileged user that runs the cluster when we are root (None: run as ourselves).

    The user must exist already (the ``postgres`` of the Debian package, or the one
    ``scripts/bootstrap.sh`` creates); nothing is created here.
    """
    if os.geteuid() != 0:
        return None
    for name in RUN_USERS:
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise DatabaseSetupError(
        f"PostgreSQL cannot run as root and none of the users {', '.join(RUN_USERS)} exists: "
        "run `bash scripts/bootstrap.sh` as root"
    )


def run_as(user: str | None, args: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a server program as the cluster's user, capturing its output."""
    result = subprocess.run(args, user=user, capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise DatabaseSetupError(
            f"{Path(args[0]).name} failed: {result.stderr.strip() or result.stdout.strip()}"
        )
    return result


def user_can_write(user: str | None, path: Path) -> bool:
    """Whether ``user`` can create files in ``path`` (all ancestors traversable)."""
    if user is None:
        return os.access(path, os.W_OK | os.X_OK)
    return run_as(user, ["test", "-w", str(path), "-a", "-x", str(path)], check=False).returncode == 0


def state_file(settings: DatabaseSettings) -> Path:
    """The file that remembers the cluster's port and password."""
    return settings.home_dir / "cluster.json"


def read_state(settings: DatabaseSettings) -> ClusterState | None:
    """The saved cluster state, or None when no cluster was initialised."""
    path = state_file(settings)
    if not path.exists():
        return None
    return ClusterState(**json.loads(path.read_text()))


def write_state(settings: DatabaseSettings, state: ClusterState) -> None:
    """Save the cluster state, readable by its owner only (it holds the password)."""
    path = state_file(settings)
    path.write_text(json.dumps(asdict(state), indent=2))
    path.chmod(0o600)


def choose_data_dir(settings: DatabaseSettings, user: str | None) -> Path:
    """``.diachiso/pg/data``, or (if the run user cannot reach it) a link to a folder it can."""
    own = settings.home_dir / "pg"
    own.mkdir(mode=0o700, exist_ok=True)
    if user is not None:
        shutil.chown(own, user=user, group=user)
    if user_can_write(user, own):
        return own / "data"
    own.rmdir()
    digest = hashlib.sha1(str(settings.home_dir).encode()).hexdigest()[:12]
    target = Path(tempfile.gettempdir()) / f"diachiso-pg-{digest}"
    target.mkdir(mode=0o700, exist_ok=True)
    if user is not None:
        shutil.chown(target, user=user, group=user)
    own.symlink_to(target)
    return target / "data"


def free_port(preferred: int) -> int:
    """The preferred TCP port on 127.0.0.1 if free, else the next free one."""
    for port in range(preferred, preferred + 100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise DatabaseSetupError(f"no free TCP port in {preferred}-{preferred + 99} for the cluster")


def initialise(settings: DatabaseSettings, binaries: PgBinaries) -> ClusterState:
    """Create a new cluster with a generated superuser password."""
    settings.home_dir.mkdir(parents=True, exist_ok=True)
    user = run_user()
    data_dir = choose_data_dir(settings, user)
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    if user is not None:
        shutil.chown(data_dir, user=user, group=user)
    password = secrets.token_urlsafe(24)
    with tempfile.NamedTemporaryFile("w", suffix=".pw", delete=False) as pwfile:
        pwfile.write(password)
    if user is not None:
        shutil.chown(pwfile.name, user=user)
    try:
        run_as(
            user,
            [
                binaries.tool("initdb"),
                "-D",
                str(data_dir),
                "-U",
                SUPERUSER,
                "--pwfile",
                pwfile.name,
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ],
        )
    finally:
        os.unlink(pwfile.name)
    state = ClusterState(str(data_dir), settings.pg_port, password, user, binaries.version)
    write_state(settings, state)
    return state


def status(settings: DatabaseSettings) -> ClusterStatus:
    """Whether the embedded cluster is initialised and running."""
    state = read_state(settings)
    data_dir = settings.home_dir / "pg"
    if state is None:
        return ClusterStatus(initialised=False, running=False, data_dir=data_dir, port=None)
    binaries = PgBinaries(state.pg_version, PG_LIB / str(state.pg_version) / "bin")
    result = run_as(state.run_user, [binaries.tool("pg_ctl"), "status", "-D", state.data_dir], check=False)
    return ClusterStatus(True, result.returncode == 0, Path(state.data_dir), state.port)


def start(settings: DatabaseSettings) -> ClusterState:
    """Start the embedded cluster (initialising it first if needed) and create the database.

    The one function that creates or starts anything: only ``diachiso db start`` calls it.
    """
    found = binaries()
    state = read_state(settings) or initialise(settings, found)
    if not status(settings).running:
        state = _launch(settings, state, found)
    ensure_database(state, settings.database_name)
    return state


def _launch(settings: DatabaseSettings, state: ClusterState, binaries: PgBinaries) -> ClusterState:
    """Run pg_ctl start on a free port, remembering the port in the state file."""
    port = free_port(state.port)
    if port != state.port:
        state = ClusterState(state.data_dir, port, state.password, state.run_user, state.pg_version)
        write_state(settings, state)
    options = f"-p {port} -c listen_addresses=127.0.0.1 -k {state.data_dir}"
    log = Path(state.data_dir) / "server.log"
    run_as(
        state.run_user,
        [
            binaries.tool("pg_ctl"),
            "start",
            "-w",
            "-t",
            "60",
            "-D",
            state.data_dir,
            "-l",
            str(log),
            "-o",
            options,
        ],
    )
    return state


def stop(settings: DatabaseSettings) -> bool:
    """Stop the embedded cluster; False when it was not running."""
    state = read_state(settings)
    if state is None or not status(settings).running:
        return False
    binaries = PgBinaries(state.pg_version, PG_LIB / str(state.pg_version) / "bin")
    run_as(state.run_user, [binaries.tool("pg_ctl"), "stop", "-m", "fast", "-w", "-D", state.data_dir])
    return True


def admin_connect(url: str) -> psycopg.Connection[tuple[object, ...]]:
    """An autocommit psycopg connection for CREATE DATABASE and the like."""
    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)


def ensure_database(state: ClusterState, database: str) -> None:
    """Create ``database`` with the PostGIS extension if it does not exist yet."""
    with admin_connect(state.url("postgres")) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        if exists is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    with admin_connect(state.url(database)) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")


def database_url(settings: DatabaseSettings) -> str:
    """The URL of the configured database, starting nothing: the embedded one only when it runs.

    Raises DatabaseSetupError saying to run ``diachiso db start`` when the embedded
    cluster is not initialised or is stopped.
    """
    if settings.database_url is not None:
        return settings.database_url
    state = read_state(settings)
    if state is None:
        raise DatabaseSetupError("the embedded database is not initialised: run `diachiso db start`")
    if not status(settings).running:
        raise DatabaseSetupError("the embedded database is stopped: run `diachiso db start`")
    return state.url(settings.database_name)


def libpq_url(url: str) -> str:
    """The URL as psql and other libpq tools take it: no SQLAlchemy driver name.

    >>> libpq_url("postgresql+psycopg://diachiso:secret@127.0.0.1:55433/diachiso")
    'postgresql://diachiso:secret@127.0.0.1:55433/diachiso'
    """
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
