"""``diachiso user`` and ``diachiso token`` run as a reader would, on the test database."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from addresses.account_store import attempt_login, resolve_token
from addresses.errors import AuthenticationError
from addresses.schema import account, api_token

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "a long passphrase for tests"

pytestmark = pytest.mark.db


def run(database_url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from api.cli import main; main()", *args]
    env = {**os.environ, "DIACHISO_DATABASE_URL": database_url}
    return subprocess.run(
        command, input=stdin, capture_output=True, text=True, cwd=ROOT, env=env, check=False, timeout=120
    )


def _name() -> str:
    return f"cli-{uuid.uuid4().hex[:8]}"


def test_the_first_admin_from_the_command_line(engine: Engine, database_url: str) -> None:
    name = _name()
    made = run(
        database_url, "user", "add", name, "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert made.returncode == 0, made.stderr
    assert f"account '{name}' (admin) created" in made.stderr
    with engine.begin() as conn:
        stored = conn.execute(select(account.c.password_hash).where(account.c.username == name)).scalar_one()
        assert stored.startswith("$argon2id$")
        assert attempt_login(conn, username=name, password=PASSWORD).account_id is not None
    listed = run(database_url, "user", "list")
    assert listed.returncode == 0, listed.stderr
    assert f"\t{name}\tadmin\tevery commune\tactive" in listed.stdout


def test_user_mistakes_are_one_line_and_write_nothing(engine: Engine, database_url: str) -> None:
    name = _name()
    cases = [
        (["user", "add", name, "--role", "boss", "--password-stdin"], "role: must be one of"),
        (["user", "add", name, "--role", "editor", "--password-stdin"], "needs at least one commune"),
        (["user", "add", name, "--role", "editor", "--commune", "99999", "--password-stdin"], "'99999'"),
        (["user", "add", name, "--role", "admin", "--password-stdin"], "at least 10 characters"),
        (["user", "disable", name], f"no account is called '{name}'"),
        (["token", "revoke", "999999999"], "no API token has id 999999999"),
    ]
    for args, message in cases:
        stdin = "short\n" if "admin" in args else PASSWORD + "\n"
        result = run(database_url, *args, stdin=stdin)
        assert result.returncode == 1, (args, result.stderr)
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert message in result.stderr
    with engine.connect() as conn:
        assert conn.execute(select(account.c.id).where(account.c.username == name)).first() is None


def test_editor_disable_and_scoped_tokens(engine: Engine, database_url: str) -> None:
    name = _name()
    args = ["user", "add", name, "--role", "editor", "--commune", "04795", "--commune", "05200"]
    assert run(database_url, *args, "--password-stdin", stdin=PASSWORD + "\n").returncode == 0
    created = run(
        database_url, "token", "create", "--user", name, "--name", "sync", "--commune", "05200",
        "--expires-days", "30",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert token.startswith("dcs_")
    assert "not shown again" in created.stderr
    with engine.begin() as conn:
        row = conn.execute(
            select(api_token).where(api_token.c.token_hash == hashlib.sha256(token.encode()).hexdigest())
        )
        stored = row.mappings().one()
        assert stored["expires_at"] is not None
        assert len(stored["commune_ids"]) == 1
        assert resolve_token(conn, token).username == name
    listed = run(database_url, "token", "list")
    assert token[:12] + "..." in listed.stdout
    assert token not in listed.stdout  # shown once, never again

    too_high = run(database_url, "token", "create", "--user", name, "--name", "x", "--role", "admin")
    assert too_high.returncode == 1
    assert "cannot have role admin: above editor" in too_high.stderr

    revoked = run(database_url, "token", "revoke", str(stored["id"]))
    assert revoked.returncode == 0, revoked.stderr
    with engine.begin() as conn, pytest.raises(AuthenticationError):
        resolve_token(conn, token)

    assert run(database_url, "user", "disable", name).returncode == 0
    [line] = [line for line in run(database_url, "user", "list").stdout.splitlines() if f"\t{name}\t" in line]
    fields = line.split("\t")
    assert fields[1:3] == [name, "editor"]
    assert len(fields[3].split(", ")) == 2  # its two communes
    assert fields[4] == "disabled"
    with engine.begin() as conn:
        assert attempt_login(conn, username=name, password=PASSWORD).account_id is None
