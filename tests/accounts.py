"""Accounts for tests: make one, log it in over HTTP, give it an API token.

The connection is the caller's: for HTTP tests commit it (``engine.begin()``) so the
server sees the account. Communes are given by id or GSO code.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, delete, func, select, update

from addresses import account_store
from addresses.accounts import Principal, Role
from addresses.schema import account, address, address_history, place, village

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


def remove_rows_after(engine: Engine, marks: dict[str, int]) -> None:
    """Remove the addresses, places and villages made after ``marks`` (ids from :func:`row_marks`).

    For tests that commit edits through the API: other tests of the session count rows.
    """
    with engine.begin() as conn:
        new = address.c.id > marks["address"]
        conn.execute(update(address).where(new).values(successor_id=None))
        ids = select(address.c.id).where(new)
        conn.execute(delete(address_history).where(address_history.c.address_id.in_(ids)))
        conn.execute(delete(address).where(new))
        conn.execute(delete(place).where(place.c.id > marks["place"]))
        conn.execute(delete(village).where(village.c.id > marks["village"]))


def row_marks(engine: Engine) -> dict[str, int]:
    """The largest ids of the address, place and village tables now."""
    with engine.connect() as conn:
        return {
            table.name: int(conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one())
            for table in (address, place, village)
        }
