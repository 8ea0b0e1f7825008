"""Accounts for tests: make one, log it in over HTTP, give it an API token.

The connection is the caller's: for HTTP tests commit it (``engine.begin()``) so the
server sees the account. Communes are given by id or GSO code.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from fastapi.testclient import TestClient
from sqlalchemy import Connection, select

from addresses import account_store
from addresses.accounts import Principal, Role
from addresses.schema import account

PASSWORD: Final = "correct horse battery staple"
"""The password of test accounts unless a test gives another."""


def create_account(
    conn: Connection,
    *,
    username: str,
    role: Role,
    communes: Iterable[int | str] = (),
    password: str = PASSWORD,
) -> Principal:
    """Create an account and answer the principal it acts as."""
    account_id = account_store.create_account(
        conn, username=username, role=role, password=password, communes=communes
    )
    return Principal(
        account_id=account_id,
        username=username,
        role=role,
        commune_ids=account_store.commune_ids_for(conn, account_id, role),
        via="session",
    )


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Log in through /auth/login (the client keeps the cookie); answer the CSRF token."""
    answer = client.post("/auth/login", json={"username": username, "password": password})
    assert answer.status_code == 200, answer.text
    csrf: str = answer.json()["csrf_token"]
    return csrf


def create_token(
    conn: Connection,
    *,
    username: str,
    role: Role = "editor",
    communes: Iterable[int | str] | None = None,
    name: str = "test",
) -> str:
    """An API token of ``username`` (the account is created first, with that role, if missing)."""
    exists = conn.execute(select(account.c.id).where(account.c.username == username)).first()
    if exists is None:
        account_store.create_account(
            conn, username=username, role=role, password=None, communes=communes or ()
        )
    scoped = None if communes is None else list(communes)
    return account_store.create_api_token(
        conn, username=username, name=name, role=role, communes=scoped
    ).token
