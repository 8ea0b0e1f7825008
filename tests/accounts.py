"""Accounts and API tokens for tests (a minimal version until the "auth" branch brings its own).

The names and signatures are those the issue 12 contract gives: ``create_account`` and
``create_token``; ``login`` comes with the auth branch's log-in route.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable

from sqlalchemy import Connection, insert, select

from addresses.accounts import Principal, Role
from addresses.schema import account, account_commune, admin_unit, api_token


def _commune_ids(conn: Connection, communes: Iterable[int | str]) -> frozenset[int]:
    """Ids of communes given as ids or GSO codes (the current unit of a code)."""
    ids: set[int] = set()
    for commune in communes:
        if isinstance(commune, int):
            ids.add(commune)
            continue
        query = select(admin_unit.c.id).where(
            admin_unit.c.code == commune, admin_unit.c.level == 3, admin_unit.c.valid_to.is_(None)
        )
        ids.add(int(conn.execute(query).scalar_one()))
    return frozenset(ids)


def create_account(
    conn: Connection,
    *,
    username: str,
    role: Role,
    communes: Iterable[int | str] = (),
    password: str | None = None,
) -> Principal:
    """Insert an account with its communes; return its principal (no password hash: tokens only here)."""
    del password  # the auth branch hashes it with argon2
    account_id = int(
        conn.execute(
            insert(account).values(username=username, role=role).returning(account.c.id)
        ).scalar_one()
    )
    ids = _commune_ids(conn, communes)
    if ids:
        conn.execute(insert(account_commune), [{"account_id": account_id, "commune_id": i} for i in ids])
    scope = None if role == "admin" else ids
    return Principal(account_id=account_id, username=username, role=role, commune_ids=scope, via="token")


def create_token(
    conn: Connection, *, username: str, role: Role | None = None, communes: Iterable[int | str] = ()
) -> str:
    """Create an API token for an existing account (its role unless ``role``); return the token."""
    row = conn.execute(select(account.c.id, account.c.role).where(account.c.username == username)).one()
    token = "dcs_" + secrets.token_urlsafe(24)
    ids = _commune_ids(conn, communes)
    conn.execute(
        insert(api_token).values(
            account_id=row.id,
            name="test",
            token_hash=hashlib.sha256(token.encode()).hexdigest(),
            prefix=token[:8],
            role=role or row.role,
            commune_ids=sorted(ids) if ids else None,
        )
    )
    return token
